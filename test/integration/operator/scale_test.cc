// Autoscaling and disruption budgets on the real API server: `kubectl scale`
// and the /scale subresource (what an HPA writes) resize the live color, a
// release in flight never lowers capacity, and one PodDisruptionBudget per
// color follows spec.podDisruptionBudget.
#include <mutex>

#include "integration/operator/operator_fixture.h"

namespace bgo::itest {
namespace {

using core::gvrs::kBlueGreenReleases;
using core::gvrs::kPodDisruptionBudgets;

class ScaleTest : public OperatorTest {
 protected:
  // As a person types it: kubectl finds the scale subresource through discovery.
  void kubectlScale(int n) {
    auto r = runCommand({"kubectl", "--kubeconfig", planeKubeconfig(), "-n", ns_, "scale",
                         "bgr/" + name_, "--replicas=" + std::to_string(n)},
                        30s);
    ASSERT_TRUE(r) << r.error().describe();
    ASSERT_EQ(r->exit_code, 0) << r->output;
  }
  // As an HPA does it: read the Scale, write it back with new spec.replicas
  // (its resourceVersion makes the write conditional).
  void hpaScale(int n) {
    auto cur = client_->get(kBlueGreenReleases, ns_, name_, "scale");
    ASSERT_TRUE(cur) << cur.error().describe();
    json s = *cur;
    s["spec"]["replicas"] = n;
    auto r = client_->replace(kBlueGreenReleases, ns_, name_, s, {.subresource = "scale"});
    ASSERT_TRUE(r) << r.error().describe();
  }
  json scale() {
    auto r = client_->get(kBlueGreenReleases, ns_, name_, "scale");
    EXPECT_TRUE(r) << r.error().describe();
    return r ? *r : json::object();
  }
  int sizeOf(const std::string& color) { return deploymentState(deployment(color)).spec_replicas; }
  std::string selectorOf(const std::string& color) {
    return "bluegreen.io/release=" + name_ + ",bluegreen.io/color=" + color;
  }

  // Samples both Deployments and the main route every 100 ms.
  struct Sample {
    std::string route;
    DeploymentState blue, green;
  };
  std::unique_ptr<Sampler> sampleColors(std::vector<Sample>& out, std::mutex& mu) {
    kube::KubeClient* sc = samplerClient();
    if (!sc) return nullptr;
    return std::make_unique<Sampler>(
        [this, sc, &out, &mu] {
          Sample s;
          auto ir = sc->get(core::gvrs::kIngressRoutes, ns_, name_);
          if (ir) s.route = strAt(*ir, "/spec/routes/0/services/0/name");
          if (auto b = sc->get(core::gvrs::kDeployments, ns_, name_ + "-blue")) s.blue = deploymentState(*b);
          if (auto g = sc->get(core::gvrs::kDeployments, ns_, name_ + "-green")) s.green = deploymentState(*g);
          std::lock_guard lock(mu);
          out.push_back(std::move(s));
        },
        100ms);
  }
};

TEST_F(ScaleTest, KubectlScaleResizesTheLiveColorOnly) {
  startOperator();
  createRelease(kImage1);
  ASSERT_TRUE(waitStable(60s, "blue"));
  json s = scale();
  EXPECT_EQ(s.value("kind", ""), "Scale");
  EXPECT_EQ(intAt(s, "/spec/replicas"), 3);
  EXPECT_EQ(intAt(s, "/status/replicas"), 3);
  EXPECT_EQ(strAt(s, "/status/selector"), selectorOf("blue"));

  kubectlScale(5);
  EXPECT_EQ(intAt(release(), "/spec/replicas"), 5) << "kubectl scale writes spec.replicas";
  ASSERT_TRUE(waitFor("blue at 5 replicas, all ready", [&] {
    const DeploymentState b = deploymentState(deployment("blue"));
    return b.spec_replicas == 5 && b.fullyReady();
  }, 30s));
  ASSERT_TRUE(waitStable(30s, "blue"));
  EXPECT_EQ(sizeOf("green"), 0) << "the idle color stays at standby";
  EXPECT_EQ(intAt(scale(), "/status/replicas"), 5);

  kubectlScale(2);
  ASSERT_TRUE(waitFor("blue at 2 replicas", [&] { return sizeOf("blue") == 2; }, 30s));
  ASSERT_TRUE(waitStable(30s, "blue"));
  EXPECT_EQ(sizeOf("green"), 0);
  EXPECT_EQ(routeService(), name_ + "-blue");
}

TEST_F(ScaleTest, ScalingDuringARunningReleaseGrowsBothColorsAndShrinksOnlyAfterTheSwitch) {
  startOperator();
  createRelease(kImage1, {{"promotion", {{"auto", false}}}});
  ASSERT_TRUE(waitStable(60s, "blue"));
  setImage(kImage2);
  ASSERT_TRUE(waitForStage("AwaitingPromotion", 40s));
  EXPECT_EQ(sizeOf("green"), 3);

  hpaScale(5);  // up while the release waits for its promotion
  ASSERT_TRUE(waitFor("blue and green at 5, green ready and promotable again", [&] {
    const DeploymentState g = deploymentState(deployment("green"));
    return sizeOf("blue") == 5 && g.spec_replicas == 5 && g.fullyReady() && stage() == "AwaitingPromotion";
  }, 40s));
  EXPECT_EQ(routeService(), name_ + "-blue") << "scaling is no promotion";
  EXPECT_EQ(strAt(scale(), "/status/selector"), selectorOf("blue"));

  kubectlScale(4);  // down while the release runs: neither color shrinks yet
  EXPECT_TRUE(holdsFor([&] { return sizeOf("blue") == 5 && sizeOf("green") == 5; }, 3s))
      << "a color shrank mid-release: blue " << sizeOf("blue") << ", green " << sizeOf("green");

  annotateRelease("bluegreen.io/promote", previewRevision());
  ASSERT_TRUE(waitFor("main route on green", [&] { return routeService() == name_ + "-green"; }, 30s, 50ms));
  EXPECT_EQ(sizeOf("green"), 5) << "the switch lowered capacity";
  EXPECT_EQ(sizeOf("blue"), 5) << "the rollback target shrank at the switch";
  ASSERT_TRUE(waitStable(40s, "green"));
  EXPECT_EQ(sizeOf("green"), 4) << "after the warm window spec.replicas rules";
  EXPECT_EQ(sizeOf("blue"), 0);
  const json s = scale();
  EXPECT_EQ(intAt(s, "/status/replicas"), 4);
  EXPECT_EQ(strAt(s, "/status/selector"), selectorOf("green"));
}

TEST_F(ScaleTest, AfterASwitchTheNewColorHasTheSizeAnAutoscalerGaveTheOldOne) {
  startOperator();
  createRelease(kImage1);
  ASSERT_TRUE(waitStable(60s, "blue"));
  hpaScale(6);
  ASSERT_TRUE(waitFor("blue at 6", [&] {
    return deploymentState(deployment("blue")).fullyReady() && sizeOf("blue") == 6;
  }, 30s));
  ASSERT_TRUE(waitStable(30s, "blue"));

  std::mutex mu;
  std::vector<Sample> samples;
  auto sampler = sampleColors(samples, mu);
  ASSERT_TRUE(sampler);
  setImage(kImage2);
  ASSERT_TRUE(waitFor("main route on green", [&] { return routeService() == name_ + "-green"; }, 40s, 50ms));
  ASSERT_TRUE(waitStable(40s, "green"));
  sampler->stop();
  EXPECT_EQ(sizeOf("green"), 6) << "the new color lost the autoscaler's size";
  EXPECT_EQ(sizeOf("blue"), 0);
  EXPECT_EQ(intAt(release(), "/spec/replicas"), 6);

  std::lock_guard lock(mu);
  int green_seen = 0, other_size = 0, example = 0;
  for (const auto& s : samples) {
    if (s.green.image != kImage2) continue;
    ++green_seen;
    if (s.green.spec_replicas != 6) {
      ++other_size;
      example = s.green.spec_replicas;
    }
  }
  EXPECT_GE(green_seen, 5) << "the sampler did not see green's rollout";
  EXPECT_EQ(other_size, 0) << "green ran the new image at another size than 6 in " << other_size << " of "
                           << green_seen << " samples (e.g. " << example << ")";
}

TEST_F(ScaleTest, AReleaseThatLowersReplicasNeverShrinksTheLiveColorBeforeTheSwitch) {
  startOperator();
  createRelease(kImage1);
  ASSERT_TRUE(waitStable(60s, "blue"));
  hpaScale(5);
  ASSERT_TRUE(waitStable(30s, "blue"));
  ASSERT_EQ(sizeOf("blue"), 5);

  std::mutex mu;
  std::vector<Sample> samples;
  auto sampler = sampleColors(samples, mu);
  ASSERT_TRUE(sampler);
  // A manifest applied again with its own replicas: new image and 3 in one write.
  setImage(kImage2, {{"replicas", 3}});
  ASSERT_TRUE(waitFor("main route on green", [&] { return routeService() == name_ + "-green"; }, 40s, 50ms));
  ASSERT_TRUE(waitStable(40s, "green"));
  sampler->stop();
  EXPECT_EQ(sizeOf("green"), 3) << "once settled, spec.replicas rules";
  EXPECT_EQ(sizeOf("blue"), 0);

  std::lock_guard lock(mu);
  int before_switch = 0, preview_smaller = 0, live_smaller = 0;
  for (const auto& s : samples) {
    if (s.route != name_ + "-blue") continue;
    ++before_switch;
    if (s.green.image == kImage2 && s.green.spec_replicas != 5) ++preview_smaller;
    if (s.blue.spec_replicas != 5) ++live_smaller;
  }
  EXPECT_GE(before_switch, 5) << "the sampler did not see the release before its switch";
  EXPECT_EQ(preview_smaller, 0) << "the preview did not start at the live color's size (" << preview_smaller
                                << " of " << before_switch << " samples before the switch)";
  EXPECT_EQ(live_smaller, 0) << "the live color shrank before the switch (" << live_smaller << " of "
                             << before_switch << " samples)";
}

TEST_F(ScaleTest, ALiveDeploymentScaledByHandMidReleaseSizesThePreviewUntilTheReleaseSettles) {
  startOperator();
  createRelease(kImage1, {{"promotion", {{"auto", false}}}});
  ASSERT_TRUE(waitStable(60s, "blue"));
  setImage(kImage2);
  ASSERT_TRUE(waitForStage("AwaitingPromotion", 40s));

  // An autoscaler aimed at the Deployment instead of the release.
  mergePatch(core::gvrs::kDeployments, name_ + "-blue", {{"spec", {{"replicas", 5}}}});
  ASSERT_TRUE(waitFor("green follows blue to 5 and is ready", [&] {
    const DeploymentState g = deploymentState(deployment("green"));
    return g.spec_replicas == 5 && g.fullyReady();
  }, 40s));
  EXPECT_TRUE(holdsFor([&] { return sizeOf("blue") == 5; }, 2s)) << "blue was put back to 3 mid-release";

  annotateRelease("bluegreen.io/promote", previewRevision());
  ASSERT_TRUE(waitFor("main route on green", [&] { return routeService() == name_ + "-green"; }, 30s, 50ms));
  EXPECT_EQ(sizeOf("green"), 5) << "the switch lowered capacity";
  ASSERT_TRUE(waitStable(40s, "green"));
  EXPECT_EQ(sizeOf("green"), 3) << "settled, spec.replicas rules again";
  EXPECT_EQ(sizeOf("blue"), 0);
}

TEST_F(ScaleTest, OnePodDisruptionBudgetPerColorFollowsTheSpec) {
  // Admission names the field of a bad budget.
  const json both{{"podDisruptionBudget", {{"minAvailable", 1}, {"maxUnavailable", 1}}}};
  auto bad = client_->create(kBlueGreenReleases, ns_, releaseManifest(kImage1, both));
  ASSERT_FALSE(bad) << "a budget with both fields was accepted";
  EXPECT_NE(bad.error().message.find("spec.podDisruptionBudget"), std::string::npos) << bad.error().message;

  startOperator();
  createRelease(kImage1, {{"podDisruptionBudget", {{"minAvailable", 2}}}});
  ASSERT_TRUE(waitStable(60s, "blue"));
  const std::string uid = strAt(release(), "/metadata/uid");
  for (const char* color : {"blue", "green"}) {
    const json b = get(kPodDisruptionBudgets, name_ + "-" + color);
    ASSERT_TRUE(b.is_object()) << "no PodDisruptionBudget for " << color;
    EXPECT_EQ(intAt(b, "/spec/minAvailable"), 2) << color;
    EXPECT_EQ(strAt(b, "/spec/selector/matchLabels/bluegreen.io~1color"), color);
    EXPECT_EQ(strAt(b, "/spec/selector/matchLabels/bluegreen.io~1release"), name_);
    EXPECT_EQ(strAt(b, "/spec/unhealthyPodEvictionPolicy"), "AlwaysAllow");
    EXPECT_EQ(strAt(b, "/metadata/ownerReferences/0/uid"), uid) << color;
  }

  mergePatch(kBlueGreenReleases, name_,
             {{"spec", {{"podDisruptionBudget", {{"minAvailable", nullptr}, {"maxUnavailable", "50%"}}}}}});
  ASSERT_TRUE(waitFor("both budgets at maxUnavailable 50% without minAvailable", [&] {
    for (const char* color : {"blue", "green"}) {
      const json b = get(kPodDisruptionBudgets, name_ + "-" + color);
      if (!b.is_object() || strAt(b, "/spec/maxUnavailable") != "50%" || b["spec"].contains("minAvailable")) {
        return false;
      }
    }
    return true;
  }, 30s));

  mergePatch(kBlueGreenReleases, name_, {{"spec", {{"podDisruptionBudget", nullptr}}}});
  ASSERT_TRUE(waitFor("both budgets deleted", [&] {
    return get(kPodDisruptionBudgets, name_ + "-blue").is_null() &&
           get(kPodDisruptionBudgets, name_ + "-green").is_null();
  }, 30s));
  ASSERT_TRUE(waitStable(30s, "blue"));
  EXPECT_EQ(sizeOf("blue"), 3);
}

}  // namespace
}  // namespace bgo::itest
