// Create, a new image, and a release that never becomes ready: the operator
// binary against the real control plane, asserting on objects, status and Events.
#include <mutex>

#include "integration/operator/operator_fixture.h"

namespace bgo::itest {
namespace {

using core::gvrs::kDeployments;

class ReleaseLifecycleTest : public OperatorTest {
 protected:
  // Owned by the release (controller reference) and labelled per api.md.
  void expectOwned(const json& obj, const std::string& uid, const std::string& color) {
    ASSERT_TRUE(obj.is_object());
    const std::string what = obj.value("kind", "?") + "/" + strAt(obj, "/metadata/name");
    const json refs = obj.value("/metadata/ownerReferences"_json_pointer, json::array());
    ASSERT_EQ(refs.size(), 1u) << what;
    EXPECT_EQ(refs[0].value("apiVersion", ""), "bluegreen.io/v1alpha1") << what;
    EXPECT_EQ(refs[0].value("kind", ""), "BlueGreenRelease") << what;
    EXPECT_EQ(refs[0].value("name", ""), name_) << what;
    EXPECT_EQ(refs[0].value("uid", ""), uid) << what;
    EXPECT_TRUE(refs[0].value("controller", false)) << what;
    const json labels = obj.value("/metadata/labels"_json_pointer, json::object());
    EXPECT_EQ(labels.value("app.kubernetes.io/name", ""), name_) << what;
    EXPECT_EQ(labels.value("app.kubernetes.io/managed-by", ""), "bluegreen-operator") << what;
    EXPECT_EQ(labels.value("bluegreen.io/release", ""), name_) << what;
    if (!color.empty()) {
      EXPECT_EQ(labels.value("bluegreen.io/color", ""), color) << what;
    }
  }
};

TEST_F(ReleaseLifecycleTest, CreateDeploysBlueAndRoutesTheMainHostToIt) {
  startOperator();
  createRelease(kImage1);
  ASSERT_TRUE(waitStable(60s));

  const json r = release();
  const std::string uid = strAt(r, "/metadata/uid");
  const json st = r["status"];
  EXPECT_EQ(st.value("activeColor", ""), "blue");
  EXPECT_EQ(st.value("observedGeneration", 0), r["metadata"].value("generation", -1));
  EXPECT_EQ(conditionStatus("Ready"), "True");
  EXPECT_EQ(conditionStatus("Reconciling"), "False");
  EXPECT_EQ(conditionStatus("Stalled"), "False");
  EXPECT_EQ(conditionStatus("TrafficSwitched"), "True");

  // blue runs the template at full size; green exists at standby size.
  const json blue = deployment("blue");
  const DeploymentState b = deploymentState(blue);
  EXPECT_EQ(b.spec_replicas, 3);
  EXPECT_EQ(b.ready_replicas, 3);
  EXPECT_EQ(b.image, kImage1);
  EXPECT_FALSE(b.revision.empty());
  EXPECT_EQ(st.value("activeRevision", ""), b.revision);
  EXPECT_EQ(st.value("/colors/blue/revision"_json_pointer, std::string()), b.revision);
  EXPECT_EQ(st.value("/colors/blue/readyReplicas"_json_pointer, 0), 3);
  const json green = deployment("green");
  EXPECT_EQ(deploymentState(green).spec_replicas, 0);
  EXPECT_EQ(strAt(blue, "/spec/template/metadata/labels/bluegreen.io~1color"), "blue");
  EXPECT_EQ(strAt(blue, "/spec/template/metadata/labels/app"), name_) << "the user's pod labels stay";

  // Services: port 80 -> 8080, selecting one color each.
  for (const char* color : {"blue", "green"}) {
    const json svc = service(color);
    ASSERT_TRUE(svc.is_object()) << color;
    EXPECT_EQ(intAt(svc, "/spec/ports/0/port"), 80) << color;
    EXPECT_EQ(intAt(svc, "/spec/ports/0/targetPort"), 8080) << color;
    EXPECT_EQ(strAt(svc, "/spec/selector/bluegreen.io~1color"), color);
    EXPECT_EQ(strAt(svc, "/spec/selector/bluegreen.io~1release"), name_);
  }

  // The main route: the host to blue, with the port Traefik needs at run time.
  const json main = ingressRoute(name_);
  ASSERT_TRUE(main.is_object()) << "IngressRoute " << name_ << " missing";
  ASSERT_EQ(main["spec"]["routes"].size(), 1u);
  EXPECT_EQ(strAt(main, "/spec/routes/0/match"), "Host(`" + host_ + "`)");
  EXPECT_EQ(main["spec"]["routes"][0]["services"].size(), 1u);
  EXPECT_EQ(strAt(main, "/spec/routes/0/services/0/name"), name_ + "-blue");
  EXPECT_EQ(intAt(main, "/spec/routes/0/services/0/port"), 80);
  EXPECT_EQ(main["spec"]["entryPoints"], json::array({"web"}));

  // The preview route: blue.<host> and green.<host>, one color each.
  const json preview = ingressRoute(name_ + "-preview");
  ASSERT_TRUE(preview.is_object()) << "IngressRoute " << name_ << "-preview missing";
  ASSERT_EQ(preview["spec"]["routes"].size(), 2u);
  EXPECT_EQ(strAt(preview, "/spec/routes/0/match"), "Host(`blue." + host_ + "`)");
  EXPECT_EQ(strAt(preview, "/spec/routes/0/services/0/name"), name_ + "-blue");
  EXPECT_EQ(intAt(preview, "/spec/routes/0/services/0/port"), 80);
  EXPECT_EQ(strAt(preview, "/spec/routes/1/match"), "Host(`green." + host_ + "`)");
  EXPECT_EQ(strAt(preview, "/spec/routes/1/services/0/name"), name_ + "-green");

  expectOwned(blue, uid, "blue");
  expectOwned(green, uid, "green");
  expectOwned(service("blue"), uid, "blue");
  expectOwned(service("green"), uid, "green");
  expectOwned(main, uid, "");
  expectOwned(preview, uid, "");
  EXPECT_EQ(strAt(main, "/metadata/labels/bluegreen.io~1color"), "") << "the main route has no color";

  // History and Events: one deploy, one (initial) switch to blue.
  ASSERT_EQ(st.value("history", json::array()).size(), 1u);
  EXPECT_EQ(st["history"][0].value("to", ""), "blue");
  EXPECT_EQ(st["history"][0].value("reason", ""), "Initial");
  EXPECT_EQ(st["history"][0].value("revision", ""), b.revision);
  EXPECT_FALSE(st.value("lastSwitchTime", "").empty());
  EXPECT_EQ(releaseEvents("Deploying").size(), 1u);
  const auto switched = releaseEvents("Switched");
  ASSERT_EQ(switched.size(), 1u);
  EXPECT_EQ(switched[0].value("type", ""), "Normal");
  EXPECT_NE(switched[0].value("message", "").find("to blue"), std::string::npos)
      << switched[0].value("message", "");
}

TEST_F(ReleaseLifecycleTest, NewImageSwitchesOnlyOncePromotableThenScalesBlueDownAfterDelay) {
  constexpr int kReadyFor = 2;
  constexpr int kDelay = 4;
  startOperator();
  createRelease(kImage1, {{"promotion", {{"readyForSeconds", kReadyFor}, {"progressDeadlineSeconds", 40}}},
                          {"scaleDown", {{"delaySeconds", kDelay}}}});
  ASSERT_TRUE(waitStable(60s));
  const std::string rev1 = deploymentState(deployment("blue")).revision;

  // Sample the main route and green's readiness every 100 ms from here on.
  struct Sample {
    double t;
    std::string route;
    DeploymentState green;
  };
  std::mutex mu;
  std::vector<Sample> samples;
  const auto t0 = std::chrono::steady_clock::now();
  kube::KubeClient* sc = samplerClient();
  ASSERT_TRUE(sc);
  Sampler sampler(
      [&] {
        Sample s{secondsSince(t0), "", {}};
        auto ir = sc->get(core::gvrs::kIngressRoutes, ns_, name_);
        if (ir) s.route = strAt(*ir, "/spec/routes/0/services/0/name");
        auto g = sc->get(kDeployments, ns_, name_ + "-green");
        if (g) s.green = deploymentState(*g);
        std::lock_guard lock(mu);
        samples.push_back(std::move(s));
      },
      100ms);

  // Green pods take 3 s to become ready: green is deployed, blue keeps the host.
  setImage(kImage2, {}, {{"sim.bluegreen.io/ready-after-seconds", "3"}});
  ASSERT_TRUE(waitFor("green deployed with the new revision", [&] {
    const DeploymentState g = deploymentState(deployment("green"));
    return g.image == kImage2 && g.spec_replicas == 3 && !g.revision.empty() &&
           g.revision == previewRevision();
  }, 30s));
  EXPECT_EQ(status().value("previewColor", ""), "green");
  EXPECT_NE(previewRevision(), rev1);
  EXPECT_EQ(routeService(), name_ + "-blue");
  EXPECT_EQ(routeService(name_ + "-preview", "Host(`green." + host_ + "`)"), name_ + "-green")
      << "the preview host reaches green";
  const std::string rev2 = previewRevision();

  ASSERT_TRUE(waitFor("main route on green", [&] { return routeService() == name_ + "-green"; }, 40s, 50ms));
  const auto switched_at = std::chrono::steady_clock::now();
  // The old color stays at full size for delaySeconds (instant rollback)...
  EXPECT_EQ(deploymentState(deployment("blue")).spec_replicas, 3) << "blue shrank at the switch";
  // (delaySeconds counts from when the switch is live in Traefik: the margin.)
  EXPECT_TRUE(holdsFor([&] { return deploymentState(deployment("blue")).spec_replicas == 3; },
                       std::chrono::milliseconds((kConfirmMargin + kDelay) * 1000 - 1000)))
      << "blue scaled down before delaySeconds";
  EXPECT_EQ(stage(), "Draining");
  // ...then goes to standby.
  ASSERT_TRUE(waitFor("blue at standby (0)",
                      [&] { return deploymentState(deployment("blue")).spec_replicas == 0; }, 20s, 50ms));
  EXPECT_GE(secondsSince(switched_at), kConfirmMargin + kDelay - 0.5) << "blue scaled down too early";
  ASSERT_TRUE(waitStable(30s));
  sampler.stop();

  // While green was not fully ready, the main route named blue; the switch came
  // at least readyForSeconds after green became fully ready.
  std::optional<double> green_ready_at, green_routed_at;
  int unready_samples = 0;
  for (const auto& s : samples) {
    if (!s.green.fullyReady() || s.green.image != kImage2) {
      if (s.green.image == kImage2) ++unready_samples;
      EXPECT_NE(s.route, name_ + "-green") << "main route named green at t=" << s.t
                                           << " with " << s.green.ready_replicas << " ready";
      continue;
    }
    if (!green_ready_at) green_ready_at = s.t;
    if (s.route == name_ + "-green" && !green_routed_at) green_routed_at = s.t;
  }
  EXPECT_GE(unready_samples, 10) << "the sampler did not see green starting up";
  ASSERT_TRUE(green_ready_at && green_routed_at);
  EXPECT_GE(*green_routed_at - *green_ready_at, kReadyFor - 0.5)
      << "switched before green was ready for readyForSeconds";

  const json st = status();
  EXPECT_EQ(st.value("activeColor", ""), "green");
  EXPECT_EQ(st.value("activeRevision", ""), rev2);
  EXPECT_EQ(st.value("previewColor", ""), "");
  ASSERT_GE(st.value("history", json::array()).size(), 2u);
  EXPECT_EQ(st["history"][0].value("from", ""), "blue");
  EXPECT_EQ(st["history"][0].value("to", ""), "green");
  EXPECT_EQ(st["history"][0].value("revision", ""), rev2);
  EXPECT_EQ(st["history"][0].value("reason", ""), "Promoted");
  EXPECT_EQ(deploymentState(deployment("blue")).revision, rev1) << "standby keeps the old revision";
  EXPECT_EQ(releaseEvents("Switched").size(), 2u);
  EXPECT_EQ(releaseEvents("ScaledDown").size(), 1u);
  EXPECT_EQ(releaseEvents("Deploying").size(), 2u);
}

TEST_F(ReleaseLifecycleTest, PodsThatNeverBecomeReadyFailAtTheDeadlineAndLeaveTrafficAlone) {
  constexpr int kDeadline = 10;
  startOperator();
  createRelease(kImage1, {{"promotion", {{"progressDeadlineSeconds", kDeadline}}}});
  ASSERT_TRUE(waitStable(60s));
  const json route_before = ingressRoute(name_);
  const std::string rv_before = strAt(route_before, "/metadata/resourceVersion");

  // Check the main route throughout: same object version, still on blue.
  std::mutex mu;
  std::vector<std::string> route_violations;
  auto sample = mainRouteSample([&](const json& ir, const std::string& svc, kube::KubeClient&) {
    const std::string rv = strAt(ir, "/metadata/resourceVersion");
    if (svc != name_ + "-blue" || rv != rv_before) {
      std::lock_guard lock(mu);
      route_violations.push_back(svc + " at resourceVersion " + rv);
    }
  });
  ASSERT_TRUE(sample);
  Sampler sampler(sample, 100ms);

  const auto changed_at = std::chrono::steady_clock::now();
  setImage(kImage2, {}, {{"sim.bluegreen.io/ready", "false"}});
  ASSERT_TRUE(waitForStage("Failed", 40s));
  const double failed_after = secondsSince(changed_at);
  EXPECT_GE(failed_after, kDeadline - 1.0) << "failed before progressDeadlineSeconds";

  EXPECT_EQ(conditionStatus("Stalled"), "True");
  EXPECT_EQ(condition("Stalled").value("reason", ""), "ProgressDeadlineExceeded");
  EXPECT_EQ(conditionStatus("Ready"), "False");
  EXPECT_EQ(conditionStatus("Reconciling"), "False");
  EXPECT_EQ(status().value("activeColor", ""), "blue");
  const DeploymentState b = deploymentState(deployment("blue"));
  EXPECT_EQ(b.spec_replicas, 3);
  EXPECT_EQ(b.ready_replicas, 3);
  const DeploymentState g = deploymentState(deployment("green"));
  EXPECT_EQ(g.image, kImage2);
  EXPECT_EQ(g.spec_replicas, 3) << "the failed color is left for inspection";
  EXPECT_EQ(g.ready_replicas, 0);
  const auto failed = releaseEvents("Failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].value("type", ""), "Warning");

  // It stays failed (no flapping, no late switch) and the route stays untouched.
  EXPECT_TRUE(holdsFor([&] { return stage() == "Failed"; }, 2s));
  sampler.stop();
  EXPECT_GT(sampler.samples(), 20);
  EXPECT_TRUE(route_violations.empty()) << route_violations.size() << " samples, first: "
                                        << route_violations.front();
  EXPECT_EQ(ingressRoute(name_), route_before) << "the main route object changed";
}

}  // namespace
}  // namespace bgo::itest
