#include "operator/cli/requests.h"

#include <gtest/gtest.h>

#include "unit/cli/release_json.h"

namespace bgo::cli {
namespace {

using testing::deploymentJson;
using testing::releaseJson;
using testing::revisionFor;
using testing::stableAfterSwitch;

const std::string kOld = "registry.example/shop:1";
const std::string kNew = "registry.example/shop:2";

json inFlight(const std::string& stage) {
  return releaseJson(kNew, {{"activeColor", "blue"}, {"activeRevision", revisionFor(kOld)}, {"previewColor", "green"},
                            {"previewRevision", revisionFor(kNew)}, {"stage", stage}});
}

// The value the patch sets at `path`, or null.
json setAt(const json& patch, const std::string& path) {
  for (const auto& op : patch) {
    if (op.value("path", "") == path && op.value("op", "") != "test") return op.value("value", json());
  }
  return json();
}

TEST(ImageReferenceTest, AcceptsWhatARegistryAccepts) {
  for (const char* ok : {"nginx", "nginx:1.25", "registry.example/shop:1.4", "localhost:5000/a/b_c:v1",
                         "ghcr.io/org/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                         "a/b:tag@sha256:0123456789abcdef0123456789abcdef"}) {
    EXPECT_EQ(checkImageReference(ok), "") << ok;
  }
  for (const char* bad : {"", "Shop:1", "shop:", "shop:1:2", "shop 1", "shop:-x", "registry.example/Shop",
                          "shop@sha256:xyz", "-shop", "shop//x"}) {
    EXPECT_NE(checkImageReference(bad), "") << bad;
  }
}

TEST(PromoteRequestTest, NamesTheCurrentRevisionAndGuardsTheGeneration) {
  auto r = promoteRequest(inFlight("AwaitingPromotion"), "");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->revision, revisionFor(kNew));
  EXPECT_EQ(setAt(r->patch, "/metadata/annotations"), json({{"bluegreen.io/promote", revisionFor(kNew)}}));
  EXPECT_EQ(r->patch[0], json({{"op", "test"}, {"path", "/metadata/generation"}, {"value", 2}}));
  EXPECT_NE(r->what.find("switches Host(`shop.example.com`) to green"), std::string::npos) << r->what;
}

TEST(PromoteRequestTest, AddsToExistingAnnotationsWithAnEscapedKey) {
  json rel = inFlight("Verifying");
  rel["metadata"]["annotations"] = {{"team", "a"}};
  auto r = promoteRequest(rel, "");
  ASSERT_TRUE(r);
  EXPECT_EQ(setAt(r->patch, "/metadata/annotations/bluegreen.io~1promote"), revisionFor(kNew));
}

TEST(PromoteRequestTest, RefusesAnotherRevision) {
  auto r = promoteRequest(inFlight("AwaitingPromotion"), revisionFor(kOld));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("wrong revision " + revisionFor(kOld)), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("nothing was written"), std::string::npos);
}

TEST(PromoteRequestTest, NothingToDoWhenTheRevisionServes) {
  auto r = promoteRequest(stableAfterSwitch(kOld, kNew, "Stable"), "");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->patch.empty());
  EXPECT_NE(r->what.find("already serves"), std::string::npos);
}

TEST(PromoteRequestTest, AbortedRevisionMustBeRetriedFirst) {
  json rel = inFlight("Aborted");
  rel["metadata"]["annotations"] = {{"bluegreen.io/abort", revisionFor(kNew)}};
  auto r = promoteRequest(rel, "");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("retry"), std::string::npos);
}

TEST(AbortRequestTest, AbortsOnlyAReleaseInFlight) {
  auto r = abortRequest(inFlight("Verifying"), "");
  ASSERT_TRUE(r);
  EXPECT_EQ(setAt(r->patch, "/metadata/annotations"), json({{"bluegreen.io/abort", revisionFor(kNew)}}));
  EXPECT_NE(r->what.find("traffic stays on blue"), std::string::npos) << r->what;
  auto settled = abortRequest(stableAfterSwitch(kOld, kNew, "Stable"), "");
  ASSERT_FALSE(settled);
  EXPECT_NE(settled.error().message.find("nothing to abort"), std::string::npos);
  auto first = abortRequest(releaseJson(kNew, {{"stage", "Initializing"}}), "");
  ASSERT_FALSE(first);
  EXPECT_NE(first.error().message.find("first release"), std::string::npos);
}

TEST(RetryRequestTest, RemovesTheAbortOfTheCurrentRevisionOnly) {
  json rel = inFlight("Aborted");
  rel["metadata"]["annotations"] = {{"bluegreen.io/abort", revisionFor(kNew)}};
  auto r = retryRequest(rel, "");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->patch.size(), 2u);
  EXPECT_EQ(r->patch[0]["op"], "test");
  EXPECT_EQ(r->patch[0]["value"], revisionFor(kNew));
  EXPECT_EQ(r->patch[1], json({{"op", "remove"}, {"path", "/metadata/annotations/bluegreen.io~1abort"}}));
}

TEST(RetryRequestTest, AFailedRevisionStaysFailed) {
  json rel = inFlight("Failed");
  rel["status"]["conditions"] = json::array({{{"type", "Stalled"}, {"status", "True"}, {"reason", "ProgressDeadlineExceeded"}}});
  auto r = retryRequest(rel, "");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("kubectl bluegreen promote shop"), std::string::npos) << r.error().message;
  EXPECT_FALSE(retryRequest(inFlight("Verifying"), ""));
}

TEST(PauseRequestTest, SetsSpecPausedOnce) {
  auto r = pauseRequest(inFlight("Verifying"), true, "");
  ASSERT_TRUE(r);
  EXPECT_EQ(setAt(r->patch, "/spec/paused"), true);
  json paused = inFlight("Paused");
  paused["spec"]["paused"] = true;
  auto again = pauseRequest(paused, true, "");
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->patch.empty());
  auto resume = pauseRequest(paused, false, "");
  ASSERT_TRUE(resume);
  EXPECT_EQ(setAt(resume->patch, "/spec/paused"), false);
}

TEST(SetImageRequestTest, TestsTheOldImageAndNamesTheNewRevision) {
  auto r = setImageRequest(stableAfterSwitch(kOld, kNew, "Stable"), {"shop=registry.example/shop:3"}, "");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->revision, revisionFor("registry.example/shop:3"));
  EXPECT_EQ(setAt(r->patch, "/spec/template/spec/containers/0/image"), "registry.example/shop:3");
  bool tests_old = false;
  for (const auto& op : r->patch) {
    tests_old |= op["op"] == "test" && op["value"] == kNew;
  }
  EXPECT_TRUE(tests_old) << r->patch.dump();
  EXPECT_NE(r->what.find(revisionFor(kNew) + " -> " + revisionFor("registry.example/shop:3")), std::string::npos);
  EXPECT_NE(r->what.find("green gets revision"), std::string::npos) << r->what;
}

TEST(SetImageRequestTest, BadInputWritesNothing) {
  const json rel = stableAfterSwitch(kOld, kNew, "Stable");
  auto malformed = setImageRequest(rel, {"shop=Registry/Shop::3"}, "");
  ASSERT_FALSE(malformed);
  EXPECT_NE(malformed.error().message.find("is not an image reference"), std::string::npos);
  auto unknown = setImageRequest(rel, {"web=registry.example/web:1"}, "");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("no container \"web\" (it has: shop)"), std::string::npos);
  EXPECT_FALSE(setImageRequest(rel, {"shop"}, ""));
  EXPECT_FALSE(setImageRequest(rel, {"shop=registry.example/shop:3"}, "0000000000"));
  auto same = setImageRequest(rel, {"shop=" + kNew}, "");
  ASSERT_TRUE(same);
  EXPECT_TRUE(same->patch.empty());
}

TEST(RollbackRequestTest, GoesBackToTheWarmStandbysExactTemplate) {
  const json rel = stableAfterSwitch(kOld, kNew, "Draining");
  auto r = rollbackRequest(rel, deploymentJson("green", kOld, 3, 3), "");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->revision, revisionFor(kOld));
  EXPECT_EQ(setAt(r->patch, "/spec/template"), testing::podTemplate(kOld));
  EXPECT_NE(r->what.find("switches back to it at once"), std::string::npos);
}

TEST(RollbackRequestTest, WithManualPromotionAlsoRequestsThePromote) {
  json rel = stableAfterSwitch(kOld, kNew, "Draining");
  rel["spec"]["promotion"] = {{"auto", false}};
  rel["metadata"]["annotations"] = {{"bluegreen.io/promote", revisionFor(kNew)}};
  auto r = rollbackRequest(rel, deploymentJson("green", kOld, 3, 3), "");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(setAt(r->patch, "/metadata/annotations/bluegreen.io~1promote"), revisionFor(kOld));
  auto automatic = rollbackRequest(stableAfterSwitch(kOld, kNew, "Draining"), deploymentJson("green", kOld, 3, 3), "");
  ASSERT_TRUE(automatic);
  EXPECT_TRUE(setAt(automatic->patch, "/metadata/annotations").is_null()) << automatic->patch.dump();
}

TEST(RollbackRequestTest, RefusedWithAReasonWhenNotWarm) {
  const json rel = stableAfterSwitch(kOld, kNew, "Stable");
  auto cold = rollbackRequest(rel, deploymentJson("green", kOld, 0, 0), "");
  ASSERT_FALSE(cold);
  EXPECT_NE(cold.error().message.find("is not warm: 0/3 ready"), std::string::npos) << cold.error().message;
  auto missing = rollbackRequest(rel, json(), "");
  ASSERT_FALSE(missing);
  auto in_flight = rollbackRequest(inFlight("Verifying"), deploymentJson("green", kNew, 3, 3), "");
  ASSERT_FALSE(in_flight);
  EXPECT_NE(in_flight.error().message.find("abort"), std::string::npos);
  auto wrong = rollbackRequest(rel, deploymentJson("green", kOld, 3, 3), revisionFor(kNew));
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("wrong revision"), std::string::npos);
  // A standby whose template differs in more than images cannot be rebuilt exactly.
  json other = deploymentJson("green", kOld, 3, 3);
  json changed = rel;
  changed["spec"]["template"]["spec"]["containers"][0]["args"] = json::array({"--x"});
  changed["status"]["activeRevision"] = api::revisionOf(changed["spec"]["template"]);
  auto inexact = rollbackRequest(changed, other, "");
  ASSERT_FALSE(inexact);
  EXPECT_NE(inexact.error().message.find("more than container images"), std::string::npos);
}

}  // namespace
}  // namespace bgo::cli
