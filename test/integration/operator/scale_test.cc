// Autoscaling and disruption budgets on the real API server: `kubectl scale`
// and the /scale subresource resize the live color, a real HorizontalPodAutoscaler
// (the plane's kube-controller-manager runs the HPA controller) sizes the release
// through /scale, a release in flight never lowers capacity, and one
// PodDisruptionBudget per color follows spec.podDisruptionBudget and, with the
// disruption controller, refuses an eviction that would break it.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <mutex>

#include "integration/operator/operator_fixture.h"

namespace bgo::itest {
namespace {

using core::gvrs::kBlueGreenReleases;
using core::gvrs::kEvents;
using core::gvrs::kPodDisruptionBudgets;
using core::gvrs::kPods;

const core::Gvr kHorizontalPodAutoscalers{"autoscaling", "v2", "horizontalpodautoscalers", true};

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
  // Reasons and messages of the Events about one object of `kind`, oldest first.
  std::vector<std::string> eventsAbout(const std::string& kind, const std::string& name) {
    std::vector<std::string> out;
    const std::string selector = "involvedObject.kind=" + kind + ",involvedObject.name=" + name;
    auto r = client_->list(kEvents, ns_, {.field_selector = selector});
    if (!r) return out;
    for (const auto& e : (*r)["items"]) out.push_back(e.value("reason", "") + ": " + e.value("message", ""));
    return out;
  }
  std::vector<json> podsOf(const std::string& color) {
    auto r = client_->list(kPods, ns_, {.label_selector = selectorOf(color)});
    EXPECT_TRUE(r) << r.error().describe();
    std::vector<json> out;
    if (r) {
      for (const auto& p : (*r)["items"]) {
        if (!p["metadata"].contains("deletionTimestamp")) out.push_back(p);
      }
    }
    return out;
  }
  // POST pods/NAME/eviction (policy/v1), as `kubectl drain` does.
  core::Result<json> evict(const std::string& pod) {
    const json eviction{{"apiVersion", "policy/v1"},
                        {"kind", "Eviction"},
                        {"metadata", {{"name", pod}, {"namespace", ns_}}}};
    return client_->create(kPods, ns_, eviction, {.subresource = "eviction"});
  }
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
  // A manifest applied again with its own replicas: new image and 3 in one write. readyForSeconds
  // keeps the preview ready for 2 s before the switch, so the sampler sees that window on a busy
  // machine too (it saw 4 samples, not 5, once without it).
  setImage(kImage2, {{"replicas", 3}, {"promotion", {{"readyForSeconds", 2}}}});
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


// A real autoscaling/v2 HorizontalPodAutoscaler aimed at the release. There is no
// metrics server on the plane: the HPA controller still enforces minReplicas and
// maxReplicas through /scale before it needs metrics (reconcileAutoscaler), which
// is what this test relies on; its metric-driven sizes are the /scale writes the
// other tests imitate.
TEST_F(ScaleTest, HpaSizesTheReleaseThroughScaleAndTheSwitchKeepsItsSize) {
  startOperator();
  createRelease(kImage1, {{"replicas", 2}});
  ASSERT_TRUE(waitStable(60s, "blue"));
  ASSERT_EQ(sizeOf("blue"), 2);

  const json hpa{{"apiVersion", "autoscaling/v2"},
                 {"kind", "HorizontalPodAutoscaler"},
                 {"metadata", {{"name", name_}, {"namespace", ns_}}},
                 {"spec",
                  {{"scaleTargetRef",
                    {{"apiVersion", "bluegreen.io/v1alpha1"}, {"kind", "BlueGreenRelease"}, {"name", name_}}},
                   {"minReplicas", 3},
                   {"maxReplicas", 6}}}};
  auto created = client_->create(kHorizontalPodAutoscalers, ns_, hpa);
  ASSERT_TRUE(created) << created.error().describe();
  const auto t0 = std::chrono::steady_clock::now();
  // Up to ~30 s when the HPA controller's discovery has not seen the CRD yet (it resets every 30 s).
  ASSERT_TRUE(waitFor("the HPA raises spec.replicas to its minReplicas 3", [&] {
    return intAt(release(), "/spec/replicas") == 3;
  }, 60s, 100ms)) << testing::PrintToString(eventsAbout("HorizontalPodAutoscaler", name_));
  const auto raised_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "HPA raised the release from 2 to 3 after " << raised_ms << " ms\n";
  ASSERT_TRUE(waitFor("blue at 3, all ready", [&] {
    const DeploymentState b = deploymentState(deployment("blue"));
    return b.spec_replicas == 3 && b.fullyReady();
  }, 30s));
  ASSERT_TRUE(waitStable(30s, "blue"));
  EXPECT_EQ(sizeOf("green"), 0) << "the idle color stays at standby";

  // What the HPA itself says: it rescaled (AbleToScale), to 3, and it sees the release's selector.
  json h;
  ASSERT_TRUE(waitFor("the HPA's status shows desiredReplicas 3 and currentReplicas 3", [&] {
    h = get(kHorizontalPodAutoscalers, name_);
    return intAt(h, "/status/desiredReplicas") == 3 && intAt(h, "/status/currentReplicas") == 3;
  }, 30s));
  std::cout << "HPA status: " << h["status"].dump() << "\n";
  bool rescaled = false;
  for (const auto& c : h["status"].value("conditions", json::array())) {
    if (c.value("type", "") == "AbleToScale") {
      EXPECT_EQ(c.value("status", ""), "True") << c.dump();
      rescaled = true;
    }
  }
  EXPECT_TRUE(rescaled) << "no AbleToScale condition: " << h["status"].dump();
  const auto events = eventsAbout("HorizontalPodAutoscaler", name_);
  std::cout << "HPA events: " << testing::PrintToString(events) << "\n";
  const std::string raised =
      "SuccessfulRescale: New size: 3; reason: Current number of replicas below Spec.MinReplicas";
  EXPECT_NE(std::find(events.begin(), events.end(), raised), events.end());
  for (const auto& e : events) {
    EXPECT_EQ(e.rfind("SelectorRequired", 0), std::string::npos) << "the HPA found no status.selector: " << e;
    EXPECT_EQ(e.rfind("InvalidSelector", 0), std::string::npos) << e;
  }
  EXPECT_EQ(strAt(scale(), "/status/selector"), selectorOf("blue"));

  // A new image: green starts at the live size 3 and never has fewer after the switch.
  std::mutex mu;
  std::vector<Sample> samples;
  auto sampler = sampleColors(samples, mu);
  ASSERT_TRUE(sampler);
  setImage(kImage2);
  ASSERT_TRUE(waitFor("main route on green", [&] { return routeService() == name_ + "-green"; }, 40s, 50ms));
  ASSERT_TRUE(waitStable(40s, "green"));
  sampler->stop();
  EXPECT_EQ(sizeOf("green"), 3);
  EXPECT_EQ(sizeOf("blue"), 0);
  EXPECT_EQ(intAt(release(), "/spec/replicas"), 3);
  EXPECT_EQ(strAt(scale(), "/status/selector"), selectorOf("green")) << "the HPA now measures the new color";
  {
    std::lock_guard lock(mu);
    int preview = 0, preview_other = 0, after = 0, after_fewer = 0, live_fewer = 0, example = 0;
    for (const auto& s : samples) {
      if (s.green.image == kImage2) {
        ++preview;
        if (s.green.spec_replicas != 3) {
          ++preview_other;
          example = s.green.spec_replicas;
        }
      }
      if (s.route == name_ + "-green") {
        ++after;
        if (s.green.spec_replicas < 3) ++after_fewer;
      } else if (s.route == name_ + "-blue" && s.blue.spec_replicas < 3) {
        ++live_fewer;
      }
    }
    std::cout << samples.size() << " samples: green with the new image in " << preview
              << ", after the switch " << after << "\n";
    EXPECT_GE(preview, 5) << "the sampler did not see green's rollout";
    EXPECT_GE(after, 1) << "the sampler did not see the switch";
    EXPECT_EQ(preview_other, 0) << "green ran the new image at another size than 3 (e.g. " << example << ")";
    EXPECT_EQ(after_fewer, 0) << "the new live color had fewer than 3 replicas after the switch";
    EXPECT_EQ(live_fewer, 0) << "blue had fewer than 3 replicas while live";
  }

  // maxReplicas below the current size: the HPA scales the release down, the live color follows.
  mergePatch(kHorizontalPodAutoscalers, name_, {{"spec", {{"minReplicas", 1}, {"maxReplicas", 2}}}});
  ASSERT_TRUE(waitFor("the HPA lowers spec.replicas to its maxReplicas 2", [&] {
    return intAt(release(), "/spec/replicas") == 2;
  }, 30s, 100ms));
  ASSERT_TRUE(waitFor("green at 2", [&] { return sizeOf("green") == 2; }, 30s));
  ASSERT_TRUE(waitStable(30s, "green"));
  EXPECT_EQ(sizeOf("blue"), 0);
  ASSERT_TRUE(waitFor("the HPA's status shows desiredReplicas 2", [&] {
    h = get(kHorizontalPodAutoscalers, name_);
    return intAt(h, "/status/desiredReplicas") == 2;
  }, 30s));
  const auto later = eventsAbout("HorizontalPodAutoscaler", name_);
  std::cout << "HPA status after maxReplicas 2: " << h["status"].dump() << "\n";
  const std::string lowered =
      "SuccessfulRescale: New size: 2; reason: Current number of replicas above Spec.MaxReplicas";
  EXPECT_NE(std::find(later.begin(), later.end(), lowered), later.end()) << testing::PrintToString(later);
}

// The budget of the live color on the real server: the disruption controller
// gives it status, and the Eviction API (what `kubectl drain` and the cluster
// autoscaler use) refuses an eviction that would break it and allows one that
// does not. nodesim finishes a deleted pod at once, so the ReplicaSet replaces it.
TEST_F(ScaleTest, PdbRefusesAnEvictionOfALivePodThatWouldBreakTheBudget) {
  startOperator();
  createRelease(kImage1, {{"podDisruptionBudget", {{"minAvailable", 3}}}});
  ASSERT_TRUE(waitStable(60s, "blue"));
  ASSERT_EQ(sizeOf("blue"), 3);

  json b;
  ASSERT_TRUE(waitFor("the disruption controller's status on the blue budget", [&] {
    b = get(kPodDisruptionBudgets, name_ + "-blue");
    return b.is_object() && intAt(b, "/status/observedGeneration") == intAt(b, "/metadata/generation") &&
           intAt(b, "/status/currentHealthy") == 3 && intAt(b, "/status/expectedPods") == 3;
  }, 30s)) << b.dump();
  std::cout << "blue budget at minAvailable 3: " << b["status"].dump() << "\n";
  EXPECT_EQ(intAt(b, "/status/desiredHealthy"), 3);
  EXPECT_EQ(intAt(b, "/status/disruptionsAllowed"), 0);

  auto pods = podsOf("blue");
  ASSERT_EQ(pods.size(), 3u);
  const std::string victim = strAt(pods[0], "/metadata/name");
  const std::string victim_uid = strAt(pods[0], "/metadata/uid");
  auto refused = evict(victim);
  ASSERT_FALSE(refused) << "an eviction that breaks minAvailable 3 of 3 was allowed";
  std::cout << "refused eviction: HTTP " << refused.error().http_status << ": " << refused.error().message
            << "\n";
  EXPECT_EQ(refused.error().http_status, 429) << refused.error().describe();
  EXPECT_NE(refused.error().message.find("Cannot evict pod as it would violate the pod's disruption budget"),
            std::string::npos)
      << refused.error().describe();
  EXPECT_TRUE(holdsFor([&] {
    const json p = get(kPods, victim);
    return p.is_object() && strAt(p, "/metadata/uid") == victim_uid &&
           !p["metadata"].contains("deletionTimestamp");
  }, 2s)) << "the pod went away after a refused eviction";

  // One disruption allowed: the same eviction goes through, the Deployment replaces the pod.
  mergePatch(kBlueGreenReleases, name_, {{"spec", {{"podDisruptionBudget", {{"minAvailable", 2}}}}}});
  ASSERT_TRUE(waitFor("the blue budget at minAvailable 2 with one disruption allowed", [&] {
    b = get(kPodDisruptionBudgets, name_ + "-blue");
    return intAt(b, "/spec/minAvailable") == 2 &&
           intAt(b, "/status/observedGeneration") == intAt(b, "/metadata/generation") &&
           intAt(b, "/status/disruptionsAllowed") == 1;
  }, 30s)) << b.dump();
  auto allowed = evict(victim);
  ASSERT_TRUE(allowed) << allowed.error().describe();
  std::cout << "allowed eviction answered: " << allowed->dump() << "\n";
  ASSERT_TRUE(waitFor("the evicted pod gone", [&] {
    const json p = get(kPods, victim);
    return !p.is_object() || strAt(p, "/metadata/uid") != victim_uid;
  }, 30s));
  ASSERT_TRUE(waitFor("blue back at 3 ready pods and the budget at one disruption allowed", [&] {
    b = get(kPodDisruptionBudgets, name_ + "-blue");
    return deploymentState(deployment("blue")).fullyReady() && podsOf("blue").size() == 3 &&
           intAt(b, "/status/currentHealthy") == 3 && intAt(b, "/status/disruptionsAllowed") == 1;
  }, 30s)) << b.dump();
  std::cout << "blue budget at minAvailable 2 after the eviction: " << b["status"].dump() << "\n";
  ASSERT_TRUE(waitStable(30s, "blue"));
  EXPECT_EQ(routeService(), name_ + "-blue");
  EXPECT_EQ(sizeOf("blue"), 3);
}

// docs/api.md: a scale below spec.scaleDown.standbyReplicas is refused by the
// API server (the CRD's validation runs on a write through /scale too), so an
// autoscaler cannot take the release below its standby size.
TEST_F(ScaleTest, AScaleBelowStandbyReplicasIsRefusedByTheApiServer) {
  createRelease(kImage1, {{"scaleDown", {{"standbyReplicas", 2}}}});
  ASSERT_EQ(intAt(release(), "/spec/replicas"), 3);

  auto r = runCommand({"kubectl", "--kubeconfig", planeKubeconfig(), "-n", ns_, "scale", "bgr/" + name_,
                       "--replicas=1"},
                      30s);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_NE(r->exit_code, 0) << "kubectl scale below standbyReplicas succeeded: " << r->output;
  EXPECT_NE(r->output.find("spec.scaleDown.standbyReplicas must not exceed spec.replicas"), std::string::npos)
      << r->output;
  std::cout << "kubectl scale --replicas=1: " << r->output;

  // The same through the REST client, as an HPA writes it.
  auto cur = client_->get(kBlueGreenReleases, ns_, name_, "scale");
  ASSERT_TRUE(cur) << cur.error().describe();
  json s = *cur;
  s["spec"]["replicas"] = 1;
  auto w = client_->replace(kBlueGreenReleases, ns_, name_, s, {.subresource = "scale"});
  ASSERT_FALSE(w) << "a /scale write below standbyReplicas was accepted";
  EXPECT_EQ(w.error().http_status, 422) << w.error().describe();
  EXPECT_NE(w.error().message.find("spec.scaleDown.standbyReplicas"), std::string::npos)
      << w.error().describe();
  EXPECT_EQ(intAt(release(), "/spec/replicas"), 3) << "the refused scale changed spec.replicas";

  kubectlScale(2);  // down to standbyReplicas itself is fine
  EXPECT_EQ(intAt(release(), "/spec/replicas"), 2);
}

}  // namespace
}  // namespace bgo::itest
