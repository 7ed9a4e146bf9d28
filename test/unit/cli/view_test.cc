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

// Draining on blue (from green) with a database route that followed the switch
// and hooks: the current revision's preSwitch succeeded, its postSwitch runs,
// an older revision's preSwitch failed.
json releaseWithDatabaseAndHooks() {
  json rel = stableAfterSwitch(kOld, kNew, "RunningHook");
  rel["spec"]["routing"]["tcp"] = {{"entryPoints", json::array({"postgres"})},
                                   {"blue", {{"service", "shop-db-blue"}, {"port", 5432}}},
                                   {"green", {{"service", "shop-db-green"}, {"port", 5432}}},
                                   {"drainSeconds", 30}};
  json hook = {{"template", {{"spec", {{"containers", json::array({{{"name", "m"}, {"command", json::array({"migrate"})}}})}}}}}};
  json pre = hook, post = hook, back = hook;
  pre["name"] = "migrate";
  post["name"] = "smoke";
  back["name"] = "down";
  rel["spec"]["hooks"] = {{"preSwitch", json::array({pre})}, {"postSwitch", json::array({post})}, {"onRollback", json::array({back})}};
  const std::string rn = revisionFor(kNew), ro = revisionFor(kOld);
  rel["status"]["message"] = "running postSwitch hook smoke (Job shop-smoke-" + rn + "-bbbbbb)";
  rel["status"]["tcpRoute"] = {{"name", "shop-tcp"}, {"color", "blue"}, {"backend", "shop-db-blue:5432"},
                               {"lastMoveTime", "2026-12-07T01:10:00Z"}};
  rel["status"]["hooks"] = json::array(
      {{{"name", "smoke"}, {"kind", "postSwitch"}, {"revision", rn}, {"job", "shop-smoke-" + rn + "-bbbbbb"},
        {"phase", "Running"}, {"startTime", "2026-12-07T01:14:48Z"}},
       {{"name", "migrate"}, {"kind", "preSwitch"}, {"revision", rn}, {"job", "shop-migrate-" + rn + "-aaaaaa"},
        {"phase", "Succeeded"}, {"startTime", "2026-12-07T01:09:30Z"}, {"finishTime", "2026-12-07T01:09:42Z"}},
       {{"name", "migrate"}, {"kind", "preSwitch"}, {"revision", ro}, {"job", "shop-migrate-" + ro + "-cccccc"},
        {"phase", "Failed"}, {"startTime", "2026-12-07T01:04:00Z"}, {"finishTime", "2026-12-07T01:04:05Z"},
        {"message", "BackoffLimitExceeded: Job has reached the specified backoff limit; container m exited 1 (Error): boom"}}});
  return rel;
}

TEST(SummarizeTest, DatabaseRouteAndHooksFromStatus) {
  const json s = summarize(releaseWithDatabaseAndHooks(), json(), json());
  const json& t = s["routes"]["tcp"];
  EXPECT_EQ(t["ingressRouteTCP"], "shop-tcp");
  EXPECT_EQ(t["color"], "blue");
  EXPECT_EQ(t["backend"], "shop-db-blue:5432");
  EXPECT_EQ(t["mode"], "follow");
  EXPECT_TRUE(t["pinned"].is_null());
  EXPECT_EQ(t["drainSeconds"], 30);
  EXPECT_EQ(t["lastMoveTime"], "2026-12-07T01:10:00Z");
  EXPECT_EQ(t["previous"]["color"], "green");
  EXPECT_EQ(t["previous"]["backend"], "shop-db-green:5432");
  const json& h = s["hooks"];
  ASSERT_EQ(h["runs"].size(), 3u);
  EXPECT_EQ(h["runs"][0]["phase"], "Running");
  EXPECT_EQ(h["runs"][0]["current"], true);
  EXPECT_EQ(h["runs"][2]["current"], false);
  EXPECT_NE(h["runs"][2]["message"].get<std::string>().find("exited 1"), std::string::npos);
  EXPECT_EQ(h["running"]["name"], "smoke");
  EXPECT_EQ(h["declared"].size(), 3u);

  // -o json: what is printed parses back to the same facts.
  const json back = json::parse(s.dump(2));
  EXPECT_EQ(back, s);
  EXPECT_EQ(back["routes"]["tcp"]["color"], "blue");
  EXPECT_EQ(back["hooks"]["runs"][1]["phase"], "Succeeded");
  EXPECT_EQ(back["hooks"]["runs"][2]["phase"], "Failed");
  // -o yaml reads back as well.
  std::vector<json> docs;
  ASSERT_EQ(parseDocuments(toYaml(s), docs), "") << toYaml(s);
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0], s) << toYaml(s);

  // Without spec.routing.tcp there is no database route; without hooks nothing is run.
  const json plain = summarize(releaseJson(kNew), json(), json());
  EXPECT_FALSE(plain["routes"].contains("tcp"));
  EXPECT_TRUE(plain["hooks"]["runs"].empty());
  EXPECT_TRUE(plain["hooks"]["running"].is_null());
}

TEST(RenderTreeTest, DatabaseRouteAndHooks) {
  const json s = summarize(releaseWithDatabaseAndHooks(), json(), json());
  const std::string rn = revisionFor(kNew), ro = revisionFor(kOld);
  const std::string plain = renderTree(s, kNow, false);
  EXPECT_EQ(plain.find('\033'), std::string::npos) << plain;
  for (const std::string& want :
       {"waiting   on postSwitch hook smoke (Job shop-smoke-" + rn + "-bbbbbb, revision " + rn +
            ", running for 12s): the release goes on when it finishes",
        std::string("database HostSNI(`*`) -> blue  shop-db-blue:5432  IngressRouteTCP shop-tcp"),
        std::string("follows the color of the main route (blue shop-db-blue:5432, green shop-db-green:5432)"),
        std::string("moved at 2026-12-07T01:10:00Z (5m ago): connections opened before may still be on green's database "
                    "shop-db-green:5432 until a peer closes them"),
        std::string("drainSeconds 30: after a switch the previous color stays at full size 30s longer"),
        std::string("hooks (newest first)"),
        "postSwitch smoke      revision " + rn + "  Running    Job shop-smoke-" + rn +
            "-bbbbbb  started 2026-12-07T01:14:48Z, running for 12s",
        "preSwitch  migrate    revision " + rn + "  Succeeded  Job shop-migrate-" + rn +
            "-aaaaaa  2026-12-07T01:09:30Z -> 2026-12-07T01:09:42Z (12s)",
        "preSwitch  migrate    revision " + ro + "  Failed     Job shop-migrate-" + ro + "-cccccc",
        std::string("BackoffLimitExceeded: Job has reached the specified backoff limit; container m exited 1 (Error): boom"),
        "onRollback down       revision " + rn + "  runs if traffic goes back from this revision"}) {
    EXPECT_NE(plain.find(want), std::string::npos) << "missing \"" << want << "\" in\n" << plain;
  }
  // Times as the Job records them (whole seconds) may end within the start's second.
  json quick = releaseWithDatabaseAndHooks();
  quick["status"]["hooks"][1]["finishTime"] = "2026-12-07T01:09:30Z";
  quick["status"]["hooks"][1]["startTime"] = "2026-12-07T01:09:29.600Z";
  EXPECT_NE(renderTree(summarize(quick, json(), json()), kNow, false).find("2026-12-07T01:09:30Z (<1s)"), std::string::npos);
  // The failure message hangs under its run.
  EXPECT_LT(plain.find("-cccccc"), plain.find("BackoffLimitExceeded"));
  // The waiting line comes right after the stage.
  EXPECT_LT(plain.find("stage     RunningHook"), plain.find("waiting   on postSwitch"));
  EXPECT_LT(plain.find("waiting   on postSwitch"), plain.find("revision  " + rn));

  const std::string tty = renderTree(s, kNow, true);
  EXPECT_NE(tty.find("\033[1;31mFailed\033[0m     Job"), std::string::npos) << tty;
  EXPECT_NE(tty.find("\033[32mSucceeded\033[0m"), std::string::npos) << tty;
  EXPECT_NE(tty.find("\033[1;33mon postSwitch hook smoke\033[0m"), std::string::npos) << tty;
  EXPECT_NE(tty.find("─ database HostSNI"), std::string::npos) << tty;

  // Pinned: the route stays on its color; nothing about moves of a switch.
  json pinned = releaseWithDatabaseAndHooks();
  pinned["spec"]["routing"]["tcp"].erase("drainSeconds");
  pinned["spec"]["routing"]["tcp"]["pinned"] = "green";
  pinned["status"]["tcpRoute"] = {{"name", "shop-tcp"}, {"color", "green"}, {"backend", "shop-db-green:5432"}};
  pinned["status"].erase("hooks");
  const std::string p = renderTree(summarize(pinned, json(), json()), kNow, false);
  EXPECT_NE(p.find("database HostSNI(`*`) -> green  shop-db-green:5432"), std::string::npos) << p;
  EXPECT_NE(p.find("pinned to green's database (shop-db-green:5432) through every switch"), std::string::npos) << p;
  EXPECT_EQ(p.find("may still be on"), std::string::npos) << p;
  EXPECT_EQ(p.find("waiting   on"), std::string::npos) << p;
  EXPECT_NE(p.find("preSwitch  migrate    revision " + rn + "  not run for this revision (it already serves)"),
            std::string::npos) << p;
  pinned["status"]["activeRevision"] = ro;  // the revision is still to be switched to
  const std::string q = renderTree(summarize(pinned, json(), json()), kNow, false);
  EXPECT_NE(q.find("preSwitch  migrate    revision " + rn + "  not run yet"), std::string::npos) << q;
  EXPECT_NE(q.find("postSwitch smoke      revision " + rn + "  not run yet"), std::string::npos) << q;

  // A run still Running while the stage says otherwise: listed, but the release is not waiting on it.
  json moved_on = releaseWithDatabaseAndHooks();
  moved_on["status"]["stage"] = "Deploying";
  const std::string m = renderTree(summarize(moved_on, json(), json()), kNow, false);
  EXPECT_EQ(m.find("waiting   on"), std::string::npos) << m;
  EXPECT_NE(m.find("postSwitch smoke      revision " + rn + "  Running"), std::string::npos) << m;

  // A release without either shows neither.
  const std::string none = renderTree(summaryDraining(), kNow, false);
  EXPECT_EQ(none.find("database"), std::string::npos) << none;
  EXPECT_EQ(none.find("hooks"), std::string::npos) << none;
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
