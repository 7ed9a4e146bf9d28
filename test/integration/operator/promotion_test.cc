// Manual promotion, abort, warm rollback and revisions arriving mid-release.
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include "integration/operator/operator_fixture.h"

namespace bgo::itest {
namespace {

using core::gvrs::kDeployments;

class ReleasePromotionTest : public OperatorTest {};

TEST_F(ReleasePromotionTest, ManualPromotionWaitsInAwaitingPromotionUntilPromoted) {
  startOperator();
  createRelease(kImage1, {{"promotion", {{"auto", false}}}});
  ASSERT_TRUE(waitStable(60s));

  setImage(kImage2);
  ASSERT_TRUE(waitForStage("AwaitingPromotion", 30s));
  const std::string rev2 = previewRevision();
  ASSERT_FALSE(rev2.empty());
  EXPECT_EQ(deploymentState(deployment("green")).revision, rev2);
  EXPECT_EQ(conditionStatus("PreviewReady"), "True");
  EXPECT_EQ(conditionStatus("Reconciling"), "True");
  EXPECT_EQ(condition("Reconciling").value("reason", ""), "AwaitingPromotion");
  EXPECT_EQ(conditionStatus("Ready"), "False");
  EXPECT_EQ(routeService(), name_ + "-blue");
  const auto promotable = releaseEvents("Promotable");
  ASSERT_EQ(promotable.size(), 1u);
  EXPECT_NE(promotable[0].value("message", "").find("bluegreen.io/promote=" + rev2), std::string::npos)
      << "the event tells how to promote: " << promotable[0].value("message", "");

  // Promotable is not promoted: it waits, also when asked for another revision.
  EXPECT_TRUE(holdsFor([&] { return stage() == "AwaitingPromotion" && routeService() == name_ + "-blue"; }, 2s));
  annotateRelease("bluegreen.io/promote", "0000000000");
  EXPECT_TRUE(holdsFor([&] { return stage() == "AwaitingPromotion" && routeService() == name_ + "-blue"; }, 2s))
      << "a promote request for another revision switched";

  annotateRelease("bluegreen.io/promote", rev2);
  ASSERT_TRUE(waitFor("main route on green after promote", [&] { return routeService() == name_ + "-green"; },
                      10s, 50ms));
  ASSERT_TRUE(waitStable(30s));
  const json st = status();
  EXPECT_EQ(st.value("activeColor", ""), "green");
  EXPECT_EQ(st.value("activeRevision", ""), rev2);
  EXPECT_EQ(st["history"][0].value("reason", ""), "Promoted");
  EXPECT_EQ(st["history"][0].value("revision", ""), rev2);
  EXPECT_EQ(deploymentState(deployment("blue")).spec_replicas, 0);
}

TEST_F(ReleasePromotionTest, AbortScalesThePreviewToStandbyAndKeepsTraffic) {
  startOperator();
  createRelease(kImage1, {{"promotion", {{"auto", false}}}, {"scaleDown", {{"standbyReplicas", 1}}}});
  ASSERT_TRUE(waitStable(60s));
  const json route_before = ingressRoute(name_);

  setImage(kImage2);
  ASSERT_TRUE(waitForStage("AwaitingPromotion", 30s));
  const std::string rev2 = previewRevision();
  EXPECT_EQ(deploymentState(deployment("green")).spec_replicas, 3);

  annotateRelease("bluegreen.io/abort", rev2);
  ASSERT_TRUE(waitForStage("Aborted", 10s));
  ASSERT_TRUE(waitFor("green at standbyReplicas (1)",
                      [&] { return deploymentState(deployment("green")).spec_replicas == 1; }, 10s));
  const DeploymentState g = deploymentState(deployment("green"));
  EXPECT_EQ(g.revision, rev2) << "the aborted revision stays on green for inspection";
  const DeploymentState b = deploymentState(deployment("blue"));
  EXPECT_EQ(b.spec_replicas, 3);
  EXPECT_EQ(b.ready_replicas, 3);
  EXPECT_EQ(conditionStatus("Stalled"), "True");
  EXPECT_EQ(condition("Stalled").value("reason", ""), "Aborted");
  EXPECT_EQ(conditionStatus("Reconciling"), "False");
  EXPECT_EQ(status().value("activeColor", ""), "blue");
  EXPECT_EQ(releaseEvents("Aborted").size(), 1u);
  EXPECT_TRUE(holdsFor([&] { return stage() == "Aborted"; }, 2s));
  EXPECT_EQ(ingressRoute(name_), route_before) << "abort touched the main route";
}

TEST_F(ReleasePromotionTest, RevertWhileOldColorIsWarmSwitchesBackWithoutANewDeploy) {
  startOperator();
  createRelease(kImage1, {{"scaleDown", {{"delaySeconds", 120}}}});
  ASSERT_TRUE(waitStable(60s));
  const std::string rev1 = deploymentState(deployment("blue")).revision;

  setImage(kImage2);
  ASSERT_TRUE(waitFor("main route on green", [&] { return routeService() == name_ + "-green"; }, 30s));
  ASSERT_TRUE(waitForStage("Draining", 10s));
  const json blue_before = deployment("blue");
  const DeploymentState b = deploymentState(blue_before);
  ASSERT_EQ(b.spec_replicas, 3) << "blue must still be warm";
  ASSERT_EQ(b.ready_replicas, 3);

  // Revert to exactly the first template: blue still runs it at full size.
  const auto reverted_at = std::chrono::steady_clock::now();
  setImage(kImage1);
  ASSERT_TRUE(waitFor("main route back on blue", [&] { return routeService() == name_ + "-blue"; }, 10s, 20ms));
  const double took = secondsSince(reverted_at);
  EXPECT_LE(took, 2.0) << "a warm rollback must not wait for a deploy or readyForSeconds";

  const json blue_after = deployment("blue");
  EXPECT_EQ(blue_after["metadata"]["generation"], blue_before["metadata"]["generation"])
      << "blue's Deployment was changed: not a switch back to the warm color";
  EXPECT_EQ(blue_after["spec"]["template"], blue_before["spec"]["template"]);
  EXPECT_EQ(deploymentState(blue_after).revision, rev1);

  ASSERT_TRUE(waitFor("status after rollback", [&] {
    const json st = status();
    return st.value("activeColor", "") == "blue" && !st.value("history", json::array()).empty() &&
           st["history"][0].value("reason", "") == "Rollback";
  }, 10s));
  const json st = status();
  EXPECT_EQ(st.value("activeRevision", ""), rev1);
  EXPECT_EQ(st["history"][0].value("from", ""), "green");
  EXPECT_EQ(st["history"][0].value("to", ""), "blue");
  EXPECT_EQ(st["history"][0].value("revision", ""), rev1);
  EXPECT_EQ(releaseEvents("RolledBack").size(), 1u);
  std::cout << "[ figures  ] warm rollback: main route back on blue " << took << " s after the revert\n";
}

TEST_F(ReleasePromotionTest, ThreeQuickImagesEndOnTheLastAndNeverRouteToAnUnreadyColor) {
  startOperator();
  createRelease(kImage1, {{"scaleDown", {{"delaySeconds", 2}}}});
  ASSERT_TRUE(waitStable(60s));

  // Every ~100 ms: the color the main route names must be fully ready right then.
  std::mutex mu;
  std::vector<std::string> violations;
  std::set<std::string> routed;
  auto sample = mainRouteSample([&](const json&, const std::string& svc, kube::KubeClient& sc) {
    // Read after the route: a color the route named a moment ago must be ready now.
    auto d = sc.get(kDeployments, ns_, svc);
    const DeploymentState s = d ? deploymentState(*d) : DeploymentState{};
    std::lock_guard lock(mu);
    routed.insert(svc + " " + s.image);
    if (!s.fullyReady() || s.spec_replicas != 3) {
      violations.push_back(svc + " (" + s.image + "): replicas " + std::to_string(s.spec_replicas) +
                           ", ready " + std::to_string(s.ready_replicas) + ", updated " +
                           std::to_string(s.updated_replicas));
    }
  });
  ASSERT_TRUE(sample);
  Sampler sampler(sample, 100ms);

  const json slow{{"sim.bluegreen.io/ready-after-seconds", "1"}};
  // Half a second apart: the spacing is the scenario's input, not a wait for state.
  setImage(kImage2, {}, slow);
  std::this_thread::sleep_for(500ms);
  setImage(kImage3, {}, slow);
  std::this_thread::sleep_for(500ms);
  setImage(kImage4, {}, slow);

  ASSERT_TRUE(waitFor("stable on the last image", [&] {
    const json st = status();
    const std::string active = st.value("activeColor", "");
    if (st.value("stage", "") != "Stable" || active.empty()) return false;
    const DeploymentState d = deploymentState(deployment(active));
    return d.image == kImage4 && d.revision == st.value("activeRevision", "");
  }, 60s));
  ASSERT_TRUE(waitStable(20s));
  sampler.stop();

  const json st = status();
  const std::string active = st.value("activeColor", "");
  EXPECT_EQ(routeService(), name_ + "-" + active);
  EXPECT_EQ(st["history"][0].value("revision", ""), st.value("activeRevision", ""));
  EXPECT_GT(sampler.samples(), 30);
  EXPECT_TRUE(violations.empty()) << violations.size() << " violations, first: " << violations.front();
  std::string seen;
  for (const auto& r : routed) seen += " [" + r + "]";
  std::cout << "[ figures  ] " << sampler.samples() << " samples; main route named:" << seen
            << "; switches: " << st["history"].size() - 1 << "\n";
}

}  // namespace
}  // namespace bgo::itest
