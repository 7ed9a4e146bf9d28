#include "operator/cli/view.h"

#include <gtest/gtest.h>

#include "operator/cli/commands.h"
#include "unit/cli/release_json.h"

namespace bgo::cli {
namespace {

using testing::releaseJson;
using testing::revisionFor;
using testing::stableAfterSwitch;

const std::string kOld = "registry.example/shop:1";
const std::string kNew = "registry.example/shop:2";
const core::WallTime kNow = *core::parseRfc3339("2026-12-07T01:15:00Z");

json route(const std::string& name, const json& routes) {
  return {{"metadata", {{"name", name}}}, {"spec", {{"routes", routes}}}};
}
json hostRoute(const std::string& host, const std::string& service) {
  return {{"match", "Host(`" + host + "`)"}, {"services", json::array({{{"name", service}, {"port", 80}}})}};
}

json summaryDraining() {
  json rel = stableAfterSwitch(kOld, kNew, "Draining");
  rel["status"]["colors"] = {{"blue", {{"revision", revisionFor(kNew)}, {"replicas", 3}, {"readyReplicas", 3}, {"readyEndpoints", 3}, {"image", kNew}}},
                             {"green", {{"revision", revisionFor(kOld)}, {"replicas", 3}, {"readyReplicas", 2}, {"readyEndpoints", 2}, {"image", kOld}}}};
  rel["status"]["trafficConfirmedTime"] = "2026-12-07T01:10:02Z";
  rel["status"]["lastSwitchTime"] = "2026-12-07T01:10:00Z";
  rel["status"]["scaleDownAt"] = "2026-12-07T01:12:02Z";
  return summarize(rel, route("shop", json::array({hostRoute("shop.example.com", "shop-blue")})),
                   route("shop-preview", json::array({hostRoute("blue.shop.example.com", "shop-blue"),
                                                      hostRoute("green.shop.example.com", "shop-green")})));
}

TEST(SummarizeTest, RoutesNameTheirColors) {
  const json s = summaryDraining();
  EXPECT_EQ(s["revision"], revisionFor(kNew));
  EXPECT_EQ(s["routes"]["main"]["color"], "blue");
  EXPECT_EQ(s["routes"]["preview"][0]["color"], "blue");
  EXPECT_EQ(s["routes"]["preview"][1]["color"], "green");
  EXPECT_EQ(s["colors"]["blue"]["role"], "active");
  EXPECT_EQ(s["colors"]["green"]["role"], "standby");
  EXPECT_EQ(s["traffic"]["confirmedTime"], "2026-12-07T01:10:02Z");
  EXPECT_EQ(s["history"].size(), 2u);
}

TEST(SummarizeTest, MissingRoutesAreShownAsMissing) {
  const json s = summarize(releaseJson(kNew), json(), json());
  EXPECT_EQ(s["routes"]["main"]["found"], false);
  EXPECT_TRUE(s["routes"]["main"]["color"].is_null());
  EXPECT_NE(renderTree(s, kNow, false).find("(no route)"), std::string::npos);
}

TEST(RenderTreeTest, PlainWhenPipedColouredInATerminal) {
  const json s = summaryDraining();
  const std::string plain = renderTree(s, kNow, false);
  EXPECT_EQ(plain.find('\033'), std::string::npos) << "escape codes in plain output";
  EXPECT_EQ(plain.find("├"), std::string::npos);
  for (const char* want : {"BlueGreenRelease shop (namespace prod)", "stage     Draining", "blue    active   revision " ,
                           "3/3 ready", "2 endpoints", "main     Host(`shop.example.com`) -> blue",
                           "preview  Host(`green.shop.example.com`) -> green",
                           "confirmed served at 2026-12-07T01:10:02Z (Traefik's API, or the confirmation margin)",
                           "2026-12-07T01:10:00Z  green -> blue  revision " }) {
    EXPECT_NE(plain.find(want), std::string::npos) << "missing \"" << want << "\" in\n" << plain;
  }
  EXPECT_NE(plain.find("(5m ago)"), std::string::npos) << plain;
  EXPECT_NE(plain.find("the previous color stays warm until"), std::string::npos) << plain;
  // The first switch is never confirmed by the operator: nothing to wait for once past Switching.
  json first = summarize(releaseJson(kNew, {{"stage", "Stable"}, {"lastSwitchTime", "2026-12-07T01:10:00Z"}}), json(), json());
  EXPECT_EQ(renderTree(first, kNow, false).find("waiting for Traefik"), std::string::npos);
  first["stage"] = "Switching";
  EXPECT_NE(renderTree(first, kNow, false).find("waiting for Traefik to serve the switch"), std::string::npos);
  const std::string tty = renderTree(s, kNow, true);
  EXPECT_NE(tty.find("\033[1;34mblue\033[0m"), std::string::npos);
  EXPECT_NE(tty.find("├─ "), std::string::npos);
  EXPECT_NE(tty.find("└─ "), std::string::npos);
}

TEST(RenderListTest, OneAlignedLinePerRelease) {
  json a = stableAfterSwitch(kOld, kNew, "Stable");
  a["status"]["conditions"] = json::array({{{"type", "Ready"}, {"status", "True"}}});
  a["status"]["message"] = "blue serves";
  json b = releaseJson(kNew, {{"stage", "Initializing"}});
  b["metadata"]["name"] = "cart";
  const std::string out = renderList({a, b}, kNow, true);
  EXPECT_EQ(out.substr(0, out.find('\n')),
            "NAMESPACE  NAME  ACTIVE  REVISION    PREVIEW  STAGE         READY  AGE  MESSAGE");
  EXPECT_NE(out.find("prod       shop  blue    " + revisionFor(kNew) + "  -        Stable        True   15m  blue serves"),
            std::string::npos) << out;
  EXPECT_NE(out.find("prod       cart  -       -           -        Initializing  -      15m"), std::string::npos) << out;
}

TEST(LivenessTest, LiveOnlyWhenTheCurrentRevisionServesAndTraefikConfirmed) {
  using S = Liveness::State;
  EXPECT_EQ(liveness(stableAfterSwitch(kOld, kNew, "Stable")).state, S::kLive);
  EXPECT_EQ(liveness(stableAfterSwitch(kOld, kNew, "Draining")).state, S::kLive);
  EXPECT_EQ(liveness(stableAfterSwitch(kOld, kNew, "Switching")).state, S::kWaiting);
  json stale = stableAfterSwitch(kOld, kNew, "Stable");
  stale["metadata"]["generation"] = 3;  // the operator has not seen the newest spec
  EXPECT_EQ(liveness(stale).state, S::kWaiting);
  json old = releaseJson(kNew, {{"activeRevision", revisionFor(kOld)}, {"stage", "Stable"}});
  EXPECT_EQ(liveness(old).state, S::kWaiting);
  const Liveness failed = liveness(releaseJson(kNew, {{"stage", "Failed"}, {"message", "not promotable"}}));
  EXPECT_EQ(failed.state, S::kFailed);
  EXPECT_NE(failed.message.find("Failed: not promotable"), std::string::npos);
  EXPECT_EQ(liveness(releaseJson(kNew, {{"stage", "Aborted"}})).state, S::kFailed);
}

TEST(ToYamlTest, ReadsBackAsTheSameDocument) {
  const json s = summaryDraining();
  json extra = s;
  extra["tricky"] = {"1234567890", "true", "", "a: b", "x #y", "null", " lead", "1e5", "ok"};
  std::vector<json> docs;
  ASSERT_EQ(parseDocuments(toYaml(extra), docs), "") << toYaml(extra);
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0], extra) << toYaml(extra);
}

TEST(AgeTest, Units) {
  EXPECT_EQ(age("2026-12-07T01:14:50Z", kNow), "10s");
  EXPECT_EQ(age("2026-12-07T00:15:00Z", kNow), "60m");
  EXPECT_EQ(age("2026-12-06T01:15:00Z", kNow), "24h");
  EXPECT_EQ(age("garbage", kNow), "");
}

}  // namespace
}  // namespace bgo::cli
