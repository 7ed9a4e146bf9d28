// The reconciler over FakeKubeClient: real writes (apply, patches, status
// subresource with resourceVersion preconditions) against API-server semantics.
#include <gtest/gtest.h>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "operator/api/v1alpha1/revision.h"
#include "operator/bluegreen/hooks.h"
#include "operator/bluegreen/reconciler.h"
#include "operator/testing/builders.h"
#include "operator/testing/fake_kube_client.h"
#include "operator/testing/manual_clock.h"
#include "operator/traffic/traefik/route_confirmer.h"
#include "unit/bluegreen/world.h"

namespace bgo::bluegreen {
namespace {

using namespace std::chrono_literals;
using core::gvrs::kBlueGreenReleases;
using core::gvrs::kDeployments;
using core::gvrs::kEndpointSlices;
using core::gvrs::kIngressRoutes;
using testing::FakeKubeClient;
using testing::Verb;

// Reads straight from the fake: the component test's stand-in for informers.
class ClientReader final : public ObjectReader {
 public:
  explicit ClientReader(kube::KubeClient& c) : c_(c) {}
  std::shared_ptr<const json> pinned_release;  // simulates a cache that lags behind
  bool hide_jobs = false;                      // a Jobs cache that has not seen a create yet
  // Like the operator's informers: Deployments and Services only when labelled
  // managed-by bluegreen-operator.
  bool only_ours = false;

  std::shared_ptr<const json> get(const core::Gvr& gvr, const std::string& ns,
                                  const std::string& name) const override {
    if (gvr == kBlueGreenReleases && pinned_release) return pinned_release;
    auto r = c_.get(gvr, ns, name);
    if (r && only_ours &&
        (gvr == kDeployments || gvr == core::gvrs::kServices || gvr == core::gvrs::kPodDisruptionBudgets) &&
        r->value("/metadata/labels/app.kubernetes.io~1managed-by"_json_pointer, std::string()) !=
            "bluegreen-operator") {
      return nullptr;
    }
    return r ? std::make_shared<const json>(*r) : nullptr;
  }
  std::vector<std::shared_ptr<const json>> listByLabel(const core::Gvr& gvr, const std::string& ns,
                                                       const std::string& key,
                                                       const std::string& value) const override {
    if (hide_jobs && gvr == core::gvrs::kJobs) return {};
    kube::ListOptions o;
    o.label_selector = key + "=" + value;
    return items(gvr, ns, o);
  }
  std::vector<std::shared_ptr<const json>> list(const core::Gvr& gvr,
                                                const std::string& ns) const override {
    return items(gvr, ns, {});
  }

 private:
  std::vector<std::shared_ptr<const json>> items(const core::Gvr& gvr, const std::string& ns,
                                                 const kube::ListOptions& o) const {
    std::vector<std::shared_ptr<const json>> out;
    auto r = c_.list(gvr, ns, o);
    if (r) {
      for (const auto& i : (*r)["items"]) out.push_back(std::make_shared<const json>(i));
    }
    return out;
  }
  kube::KubeClient& c_;
};

class CountingRecorder final : public controller::EventRecorder {
 public:
  void record(const controller::ObjectRef&, const std::string&, const std::string& reason,
              const std::string&) override {
    reasons.push_back(reason);
  }
  std::vector<std::string> reasons;
};

class ReconcilerTest : public ::testing::Test {
 protected:
  ReconcilerTest()
      : reader_(fake_),
        log_(std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>())),
        rec_(reader_, fake_, events_, clock_, log_) {
    json r = testworld::releaseObject("shop:1.0");
    r["metadata"].erase("uid");
    r["metadata"].erase("generation");
    auto created = fake_.create(kBlueGreenReleases, "prod", r);
    EXPECT_TRUE(created.ok());
  }

  ReconcileOutcome reconcile() {
    auto out = rec_.reconcile({"prod", "shop"});
    EXPECT_TRUE(out.ok()) << out.error().describe();
    return out.ok() ? *out : ReconcileOutcome{};
  }

  // Plays the deployment controller, kubelet and EndpointSlice controller.
  void converge() {
    auto list = fake_.list(kDeployments, "prod");
    ASSERT_TRUE(list.ok());
    for (const auto& d : (*list)["items"]) {
      const std::string name = d["metadata"]["name"];
      int n = d["spec"].value("replicas", 1);
      json status{{"observedGeneration", d["metadata"]["generation"]},
                  {"replicas", n}, {"updatedReplicas", n}, {"readyReplicas", n},
                  {"availableReplicas", n}};
      ASSERT_TRUE(fake_.patch(kDeployments, "prod", name, kube::PatchType::kMerge,
                              {{"status", status}}, {.subresource = "status"})
                      .ok());
      std::vector<std::string> ips;
      for (int i = 0; i < n; ++i) ips.push_back("198.18.0." + std::to_string(10 + i));
      json slice = testing::makeEndpointSlice("prod", name + "-abcde", name, ips);
      fake_.seed(kEndpointSlices, slice);
    }
  }

  // Created, converged, past readyForSeconds, switched to blue and settled.
  void stableOnBlue() {
    reconcile();
    converge();
    reconcile();
    clock_.advance(11s);
    reconcile();
    reconcile();
  }

  std::string mainRouteService() {
    auto r = fake_.get(kIngressRoutes, "prod", "shop");
    return r ? (*r)["spec"]["routes"][0]["services"][0].value("name", "") : "";
  }

  testing::ManualClock clock_;
  FakeKubeClient fake_;
  ClientReader reader_;
  CountingRecorder events_;
  std::shared_ptr<spdlog::logger> log_;
  Reconciler rec_;
};

TEST_F(ReconcilerTest, CreateThenSwitchThenSettledCostsZeroWrites) {
  reconcile();
  converge();
  reconcile();
  clock_.advance(11s);
  auto out = reconcile();
  EXPECT_TRUE(out.switched);
  EXPECT_EQ(mainRouteService(), "shop-blue");
  reconcile();
  auto status = (*fake_.get(kBlueGreenReleases, "prod", "shop"))["status"];
  EXPECT_EQ(status["stage"], "Stable");
  EXPECT_EQ(status["activeColor"], "blue");
  EXPECT_EQ(status["observedGeneration"], 1);

  fake_.clearWrites();
  out = reconcile();
  EXPECT_EQ(out.writes, 0u);
  EXPECT_EQ(fake_.writeCount(), 0u) << "a settled release costs zero writes";
}

TEST_F(ReconcilerTest, NewImageSwitchesToGreenThroughTheApi) {
  stableOnBlue();
  json patch{{"spec", {{"template", testworld::podTemplate("shop:2.0")}}}};
  ASSERT_TRUE(fake_.patch(kBlueGreenReleases, "prod", "shop", kube::PatchType::kMerge, patch).ok());
  reconcile();
  EXPECT_EQ(mainRouteService(), "shop-blue");
  converge();
  reconcile();
  clock_.advance(11s);
  auto out = reconcile();
  EXPECT_TRUE(out.switched);
  EXPECT_EQ(mainRouteService(), "shop-green");
  EXPECT_NE(std::find(events_.reasons.begin(), events_.reasons.end(), "Switched"),
            events_.reasons.end());
  auto green = fake_.get(kDeployments, "prod", "shop-green");
  ASSERT_TRUE(green.ok());
  EXPECT_EQ((*green)["metadata"]["labels"]["bluegreen.io/revision"],
            api::revisionOf(testworld::podTemplate("shop:2.0")));
  EXPECT_EQ((*green)["metadata"]["ownerReferences"][0]["kind"], "BlueGreenRelease");
}

TEST_F(ReconcilerTest, StaleStatusIsAConflictNotAnOverwrite) {
  reconcile();
  // Someone else writes the release between our read and our status write.
  fake_.setFaultHook([&](const testing::Call& c) -> std::optional<core::Error> {
    if (c.verb == Verb::kReplace && c.subresource == "status") {
      return core::Error::make(core::ErrorCode::kConflict, "the object has been modified", 409);
    }
    return std::nullopt;
  });
  converge();
  auto out = rec_.reconcile({"prod", "shop"});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().retry, core::RetryClass::kReplan);
}

TEST_F(ReconcilerTest, NeverPlansTwiceOnAReleaseItAlreadyWroteStatusFor) {
  auto before = fake_.get(kBlueGreenReleases, "prod", "shop");
  ASSERT_TRUE(before.ok());
  reconcile();  // writes status: the release moves to a new resourceVersion
  reader_.pinned_release = std::make_shared<const json>(*before);
  fake_.clearWrites();
  auto out = reconcile();
  EXPECT_EQ(fake_.writeCount(), 0u) << "planned from a cache older than our own status write";
  ASSERT_TRUE(out.requeue_after.has_value());
  EXPECT_LE(*out.requeue_after, std::chrono::milliseconds(500));
  reader_.pinned_release.reset();
  fake_.clearWrites();
  out = reconcile();
  EXPECT_EQ(fake_.writeCount(Verb::kPatch), 0u) << "caught up: the objects exist already";
  EXPECT_FALSE(out.requeue_after.has_value() && *out.requeue_after < std::chrono::seconds(1));
}

TEST_F(ReconcilerTest, ForeignObjectTheCacheDoesNotHoldIsSeenAndNeverTakenOver) {
  // Someone else's Service and Deployment carry our names but not our labels,
  // so the label-filtered caches do not show them.
  reader_.only_ours = true;
  json svc = testing::makeService("prod", "shop-green", {{"app", "legacy"}}, 80, 8080, {{"team", "legacy"}});
  ASSERT_TRUE(fake_.create(core::gvrs::kServices, "prod", svc).ok());
  json dep = testing::makeDeployment("prod", "shop-blue", {{"app", "legacy"}}, "legacy:1");
  ASSERT_TRUE(fake_.create(kDeployments, "prod", dep).ok());
  fake_.clearWrites();
  reconcile();
  for (const auto& w : fake_.writes()) {
    EXPECT_FALSE(w.gvr == kDeployments || w.gvr == core::gvrs::kServices)
        << "wrote " << w.gvr.resource << "/" << w.name;
  }
  auto foreign = fake_.get(core::gvrs::kServices, "prod", "shop-green");
  ASSERT_TRUE(foreign.ok());
  EXPECT_FALSE((*foreign)["metadata"].contains("ownerReferences"));
  EXPECT_EQ((*foreign)["spec"]["selector"], svc["spec"]["selector"]);
  auto status = (*fake_.get(kBlueGreenReleases, "prod", "shop"))["status"];
  EXPECT_EQ(status["stage"], "Failed");
  EXPECT_NE(status["message"].get<std::string>().find("Deployment shop-blue"), std::string::npos)
      << status["message"];
  EXPECT_NE(std::find(events_.reasons.begin(), events_.reasons.end(), "NameConflict"),
            events_.reasons.end());
}

TEST_F(ReconcilerTest, ServerErrorsComeBackWithBackoffClass) {
  fake_.failNext(Verb::kPatch, std::nullopt,
                 core::Error::make(core::ErrorCode::kUnavailable, "etcd leader changed", 503));
  auto out = rec_.reconcile({"prod", "shop"});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().retry, core::RetryClass::kBackoff);
  EXPECT_NE(out.error().message.find("etcd leader changed"), std::string::npos);
}

// The server refuses the new template (422): status says so once, traffic
// stays, the refused write is not sent again for that spec, and a new spec
// is tried at once.
// Answers for Traefik's preview router of green; the main router is always live.
class PreviewConfirmer final : public traefik::RouteConfirmer {
 public:
  bool preview_servable = false;
  int preview_calls = 0;
  core::Result<bool> live(const traefik::ConfirmQuery& q) override {
    if (q.ingress_route != "shop-preview") return true;
    ++preview_calls;
    return preview_servable && !q.want_ips.empty();
  }
};

TEST_F(ReconcilerTest, TheSwitchWaitsUntilTraefikListsThePreviewColorsServers) {
  PreviewConfirmer traefik;
  rec_.setTrafficConfirmation(&traefik, 5);
  stableOnBlue();
  json patch{{"spec", {{"template", testworld::podTemplate("shop:2.0")}}}};
  ASSERT_TRUE(fake_.patch(kBlueGreenReleases, "prod", "shop", kube::PatchType::kMerge, patch).ok());
  reconcile();
  converge();
  reconcile();
  clock_.advance(5s);
  reconcile();
  EXPECT_EQ(traefik.preview_calls, 1) << "asked once when green became healthy, not while readyFor runs";
  clock_.advance(6s);
  auto out = reconcile();
  EXPECT_FALSE(out.switched) << "switched to a color Traefik lists no server for";
  EXPECT_EQ(mainRouteService(), "shop-blue");
  const std::string msg = (*fake_.get(kBlueGreenReleases, "prod", "shop"))["status"]["message"];
  EXPECT_NE(msg.find("Traefik"), std::string::npos) << msg;
  traefik.preview_servable = true;
  out = reconcile();
  EXPECT_TRUE(out.switched);
  EXPECT_EQ(mainRouteService(), "shop-green");
}

// The route patch goes through, the status write right after it fails: the
// next reconcile must still treat it as a switch (confirmation, warm window),
// not scale the old color down at once.
TEST_F(ReconcilerTest, ASwitchWhoseStatusWriteFailedKeepsTheOldColorWarm) {
  stableOnBlue();
  json patch{{"spec", {{"template", testworld::podTemplate("shop:2.0")}}}};
  ASSERT_TRUE(fake_.patch(kBlueGreenReleases, "prod", "shop", kube::PatchType::kMerge, patch).ok());
  reconcile();
  converge();
  reconcile();
  clock_.advance(11s);
  bool failed_once = false;
  fake_.setFaultHook([&](const testing::Call& c) -> std::optional<core::Error> {
    if (!failed_once && c.verb == Verb::kReplace && c.subresource == "status") {
      failed_once = true;
      return core::Error::make(core::ErrorCode::kConflict, "the object has been modified", 409);
    }
    return std::nullopt;
  });
  auto out = rec_.reconcile({"prod", "shop"});
  ASSERT_FALSE(out.ok()) << "the status write was to fail";
  ASSERT_TRUE(failed_once);
  ASSERT_EQ(mainRouteService(), "shop-green") << "the route patch went through before it";
  auto blueReplicas = [&] { return (*fake_.get(kDeployments, "prod", "shop-blue"))["spec"].value("replicas", -1); };
  reconcile();
  auto status = (*fake_.get(kBlueGreenReleases, "prod", "shop"))["status"];
  EXPECT_EQ(blueReplicas(), 3) << "blue was scaled down right after an unrecorded switch";
  EXPECT_EQ(status["history"][0]["to"], "green");
  EXPECT_EQ(status["history"][0]["from"], "blue");
  EXPECT_NE(std::find(events_.reasons.begin(), events_.reasons.end(), "SwitchRecovered"), events_.reasons.end());
  clock_.advance(5s);  // the confirmation margin (no Traefik API here)
  reconcile();
  EXPECT_EQ(blueReplicas(), 3) << "warm for scaleDown.delaySeconds after the confirmation";
  clock_.advance(31s);
  reconcile();
  EXPECT_EQ(blueReplicas(), 0);
}

TEST_F(ReconcilerTest, WriteTheServerRejectsIsReportedOnceAndNotRepeated) {
  stableOnBlue();
  ASSERT_EQ(mainRouteService(), "shop-blue");
  json patch{{"spec", {{"template", testworld::podTemplate("shop:2.0")}}}};
  ASSERT_TRUE(fake_.patch(kBlueGreenReleases, "prod", "shop", kube::PatchType::kMerge, patch).ok());
  int rejected_applies = 0;
  fake_.setFaultHook([&](const testing::Call& c) -> std::optional<core::Error> {
    if (c.verb == Verb::kPatch && c.gvr == kDeployments && c.name == "shop-green") {
      ++rejected_applies;
      return core::Error::make(core::ErrorCode::kInvalid,
                               "Deployment.apps \"shop-green\" is invalid: spec.template.spec.containers[0]."
                               "ports[0].containerPort: Invalid value: 70000",
                               422);
    }
    return std::nullopt;
  });
  auto out = reconcile();  // reported in status, not returned as an error
  EXPECT_EQ(rejected_applies, 1);
  auto status = (*fake_.get(kBlueGreenReleases, "prod", "shop"))["status"];
  EXPECT_EQ(status["stage"], "Failed");
  EXPECT_EQ(status["activeColor"], "blue");
  const std::string msg = status["message"];
  EXPECT_NE(msg.find("deployments/shop-green"), std::string::npos) << msg;
  EXPECT_NE(msg.find("containerPort"), std::string::npos) << msg;
  bool stalled = false;
  for (const auto& c : status["conditions"]) {
    if (c["type"] == "Stalled") stalled = c["status"] == "True" && c["reason"] == "Rejected";
  }
  EXPECT_TRUE(stalled) << status.dump();
  EXPECT_EQ(std::count(events_.reasons.begin(), events_.reasons.end(), "Rejected"), 1);
  EXPECT_EQ(mainRouteService(), "shop-blue");

  fake_.clearWrites();
  reconcile();
  clock_.advance(60s);
  reconcile();
  EXPECT_EQ(rejected_applies, 1) << "the refused write was sent again for the same spec";
  EXPECT_EQ(fake_.writeCount(), 0u);
  EXPECT_EQ(std::count(events_.reasons.begin(), events_.reasons.end(), "Rejected"), 1);

  // After a while it is tried again (an admission rule may have changed).
  clock_.advance(5min);
  reconcile();
  EXPECT_EQ(rejected_applies, 2);

  // A corrected template is applied at once.
  fake_.clearFaults();
  patch = {{"spec", {{"template", testworld::podTemplate("shop:3.0")}}}};
  ASSERT_TRUE(fake_.patch(kBlueGreenReleases, "prod", "shop", kube::PatchType::kMerge, patch).ok());
  reconcile();
  auto green = fake_.get(kDeployments, "prod", "shop-green");
  ASSERT_TRUE(green.ok());
  EXPECT_EQ((*green)["metadata"]["labels"]["bluegreen.io/revision"],
            api::revisionOf(testworld::podTemplate("shop:3.0")));
  status = (*fake_.get(kBlueGreenReleases, "prod", "shop"))["status"];
  EXPECT_NE(status["stage"], "Failed");
}

TEST_F(ReconcilerTest, TerminalErrorsThatAreNotAboutTheSpecAreNotReportedAsRejected) {
  // What the leader-only client answers once leadership is lost.
  fake_.failNext(Verb::kPatch, std::nullopt,
                 core::Error::make(core::ErrorCode::kCancelled, "not the leader: patch services shop-blue refused", 0));
  auto out = rec_.reconcile({"prod", "shop"});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, core::ErrorCode::kCancelled);
  EXPECT_EQ(std::count(events_.reasons.begin(), events_.reasons.end(), "Rejected"), 0);
  // Nothing is remembered against the spec: the next reconcile applies normally.
  reconcile();
  EXPECT_TRUE(fake_.get(kDeployments, "prod", "shop-blue").ok());
}

TEST_F(ReconcilerTest, DeletedReleaseIsANoOp) {
  ASSERT_TRUE(fake_.remove(kBlueGreenReleases, "prod", "shop").ok());
  fake_.clearWrites();
  auto out = rec_.reconcile({"prod", "shop"});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(fake_.writeCount(), 0u);
}

TEST_F(ReconcilerTest, PodDisruptionBudgetsAreAppliedPerColorAndDeletedWhenRemoved) {
  using core::gvrs::kPodDisruptionBudgets;
  ASSERT_TRUE(fake_.patch(kBlueGreenReleases, "prod", "shop", kube::PatchType::kMerge,
                          {{"spec", {{"podDisruptionBudget", {{"minAvailable", "50%"}}}}}})
                  .ok());
  stableOnBlue();
  const std::string uid = (*fake_.get(kBlueGreenReleases, "prod", "shop"))["metadata"]["uid"];
  for (const char* name : {"shop-blue", "shop-green"}) {
    auto b = fake_.get(kPodDisruptionBudgets, "prod", name);
    ASSERT_TRUE(b.ok()) << name;
    EXPECT_EQ((*b)["spec"]["minAvailable"], "50%");
    EXPECT_EQ((*b)["metadata"]["ownerReferences"][0]["uid"], uid);
  }
  reconcile();  // Converging -> Stable
  fake_.clearWrites();
  EXPECT_EQ(reconcile().writes, 0u) << "settled with budgets: zero writes";

  ASSERT_TRUE(fake_.patch(kBlueGreenReleases, "prod", "shop", kube::PatchType::kMerge,
                          {{"spec", {{"podDisruptionBudget", nullptr}}}})
                  .ok());
  reconcile();
  for (const char* name : {"shop-blue", "shop-green"}) {
    auto b = fake_.get(kPodDisruptionBudgets, "prod", name);
    ASSERT_FALSE(b.ok()) << name << " still exists";
    EXPECT_TRUE(b.error().is(core::ErrorCode::kNotFound));
  }
  reconcile();  // Converging -> Stable
  fake_.clearWrites();
  EXPECT_EQ(reconcile().writes, 0u);
  EXPECT_EQ((*fake_.get(kBlueGreenReleases, "prod", "shop"))["status"]["stage"], "Stable");
}

TEST_F(ReconcilerTest, AForeignPodDisruptionBudgetTheCacheDoesNotHoldIsSeenAndNeverTakenOver) {
  using core::gvrs::kPodDisruptionBudgets;
  reader_.only_ours = true;
  json pdb{{"apiVersion", "policy/v1"},
           {"kind", "PodDisruptionBudget"},
           {"metadata", {{"name", "shop-blue"}, {"namespace", "prod"}}},
           {"spec", {{"minAvailable", 7}, {"selector", {{"matchLabels", {{"app", "legacy"}}}}}}}};
  ASSERT_TRUE(fake_.create(kPodDisruptionBudgets, "prod", pdb).ok());
  ASSERT_TRUE(fake_.patch(kBlueGreenReleases, "prod", "shop", kube::PatchType::kMerge,
                          {{"spec", {{"podDisruptionBudget", {{"maxUnavailable", 1}}}}}})
                  .ok());
  fake_.clearWrites();
  reconcile();
  for (const auto& w : fake_.writes()) {
    EXPECT_FALSE(w.gvr == kPodDisruptionBudgets) << "wrote " << w.gvr.resource << "/" << w.name;
  }
  EXPECT_EQ((*fake_.get(kPodDisruptionBudgets, "prod", "shop-blue"))["spec"]["minAvailable"], 7);
  auto status = (*fake_.get(kBlueGreenReleases, "prod", "shop"))["status"];
  EXPECT_EQ(status["stage"], "Failed");
  EXPECT_NE(status["message"].get<std::string>().find("PodDisruptionBudget shop-blue"), std::string::npos)
      << status["message"];
}

TEST_F(ReconcilerTest, ANewSpecReplicasResizesTheLiveDeploymentAndTheScaleStatus) {
  stableOnBlue();
  auto status = (*fake_.get(kBlueGreenReleases, "prod", "shop"))["status"];
  EXPECT_EQ(status["replicas"], 3);
  EXPECT_EQ(status["selector"], "bluegreen.io/release=shop,bluegreen.io/color=blue");
  ASSERT_TRUE(fake_.patch(kBlueGreenReleases, "prod", "shop", kube::PatchType::kMerge,
                          {{"spec", {{"replicas", 5}}}})
                  .ok());
  reconcile();
  EXPECT_EQ((*fake_.get(kDeployments, "prod", "shop-blue"))["spec"]["replicas"], 5);
  EXPECT_EQ((*fake_.get(kDeployments, "prod", "shop-green"))["spec"]["replicas"], 0);
  converge();
  reconcile();
  status = (*fake_.get(kBlueGreenReleases, "prod", "shop"))["status"];
  EXPECT_EQ(status["replicas"], 5);
  EXPECT_EQ(status["stage"], "Stable");
}


// --- hooks -----------------------------------------------------------------------------------------

// Plays the Job controller: the conditions it writes, in the order the API
// server requires (FakeKubeClient enforces the same rules).
void finishJob(FakeKubeClient& fake, const std::string& name, bool ok) {
  const std::string t = "2026-01-01T00:00:00Z";
  auto cond = [&](const char* type, const char* reason) {
    return json{{"type", type}, {"status", "True"}, {"reason", reason}, {"message", "Job has reached the specified backoff limit"},
                {"lastTransitionTime", t}};
  };
  json status = ok ? json{{"startTime", t}, {"completionTime", t}, {"succeeded", 1},
                          {"conditions", json::array({cond("SuccessCriteriaMet", "CompletionsReached"),
                                                      cond("Complete", "CompletionsReached")})}}
                   : json{{"startTime", t}, {"failed", 1},
                          {"conditions", json::array({cond("FailureTarget", "BackoffLimitExceeded"),
                                                      cond("Failed", "BackoffLimitExceeded")})}};
  auto r = fake.patch(core::gvrs::kJobs, "prod", name, kube::PatchType::kMerge, json{{"status", status}},
                      {.subresource = "status"});
  ASSERT_TRUE(r.ok()) << r.error().describe();
}

json hooksSpec() {
  auto hook = [](const char* name) {
    return json{{"name", name},
                {"template", {{"spec", {{"containers", json::array({{{"name", name}, {"command", {"sh", "-c", "exit 1"}}}})}}}}}};
  };
  return json{{"preSwitch", json::array({hook("migrate")})}};
}

class HookReconcilerTest : public ReconcilerTest {
 protected:
  // Stable on blue, then shop:2.0 with a preSwitch hook, promotable: the next reconcile creates the Job.
  void releaseWithHook() {
    stableOnBlue();
    json patch{{"spec", {{"template", testworld::podTemplate("shop:2.0")}, {"hooks", hooksSpec()}}}};
    ASSERT_TRUE(fake_.patch(kBlueGreenReleases, "prod", "shop", kube::PatchType::kMerge, patch).ok());
    reconcile();
    converge();
    reconcile();
    clock_.advance(11s);
  }
  json status() { return (*fake_.get(kBlueGreenReleases, "prod", "shop"))["status"]; }
  size_t jobCreates() {
    size_t n = 0;
    for (const auto& w : fake_.writes()) n += w.verb == Verb::kCreate && w.gvr == core::gvrs::kJobs && w.changed;
    return n;
  }
  const std::string job_ = hookJobName("shop", api::revisionOf(testworld::podTemplate("shop:2.0")),
                                       api::HookKind::kPreSwitch, "migrate");
};

TEST_F(HookReconcilerTest, AHookJobIsCreatedOnceAcrossARestartWithACacheThatLags) {
  releaseWithHook();
  fake_.clearWrites();
  auto out = reconcile();
  EXPECT_FALSE(out.switched);
  auto created = fake_.get(core::gvrs::kJobs, "prod", job_);
  ASSERT_TRUE(created.ok()) << "the preSwitch Job exists once the preview is promotable";
  EXPECT_EQ((*created)["metadata"]["ownerReferences"][0]["kind"], "BlueGreenRelease");
  EXPECT_EQ(status()["stage"], "RunningHook");
  EXPECT_EQ(mainRouteService(), "shop-blue");

  // A restarted operator (or a second replica) whose Jobs cache is empty: the
  // create meets AlreadyExists, the Job is left as it is, nothing fails.
  ClientReader lagging(fake_);
  lagging.hide_jobs = true;
  Reconciler other(lagging, fake_, events_, clock_, log_);
  clock_.advance(1s);
  auto again = other.reconcile({"prod", "shop"});
  ASSERT_TRUE(again.ok()) << again.error().describe();
  auto still = fake_.get(core::gvrs::kJobs, "prod", job_);
  ASSERT_TRUE(still.ok());
  EXPECT_EQ((*still)["metadata"]["uid"], (*created)["metadata"]["uid"]);
  EXPECT_EQ((*still)["metadata"]["resourceVersion"], (*created)["metadata"]["resourceVersion"]);
  EXPECT_EQ(jobCreates(), 1u) << "one create reached the store";
}

TEST_F(HookReconcilerTest, AFailedHookNamesTheContainersTerminationMessageAndKeepsTraffic) {
  releaseWithHook();
  reconcile();
  // The Job's pod, as the kubelet leaves it.
  fake_.seed(core::gvrs::kPods,
             json{{"apiVersion", "v1"},
                  {"kind", "Pod"},
                  {"metadata", {{"name", job_ + "-x1"}, {"namespace", "prod"}, {"labels", {{"job-name", job_}}}}},
                  {"status",
                   {{"phase", "Failed"},
                    {"containerStatuses",
                     json::array({{{"name", "migrate"},
                                   {"state", {{"terminated", {{"exitCode", 1}, {"reason", "Error"}, {"message", "boom\n"}}}}}}})}}}});
  finishJob(fake_, job_, false);
  clock_.advance(1s);
  reconcile();
  json st = status();
  EXPECT_EQ(st["stage"], "Failed");
  const std::string msg = st["message"];
  EXPECT_NE(msg.find("preSwitch hook migrate"), std::string::npos) << msg;
  EXPECT_NE(msg.find(job_), std::string::npos) << msg;
  EXPECT_NE(msg.find("container migrate exited 1 (Error): boom"), std::string::npos) << msg;
  EXPECT_EQ(st["hooks"][0]["phase"], "Failed");
  EXPECT_EQ(mainRouteService(), "shop-blue");
  EXPECT_NE(std::find(events_.reasons.begin(), events_.reasons.end(), "HookFailed"), events_.reasons.end());
  fake_.clearWrites();
  clock_.advance(1s);
  auto out = reconcile();
  EXPECT_EQ(out.writes, 0u) << "a failed hook settles: no writes, no second Job";
  EXPECT_EQ(fake_.writeCount(), 0u);
}

TEST_F(HookReconcilerTest, ASucceededHookSwitchesAndThenCostsZeroWrites) {
  releaseWithHook();
  reconcile();
  finishJob(fake_, job_, true);
  clock_.advance(1s);
  auto out = reconcile();
  EXPECT_TRUE(out.switched);
  EXPECT_EQ(mainRouteService(), "shop-green");
  for (int i = 0; i < 5; ++i) {
    clock_.advance(40s);
    reconcile();
    converge();
  }
  EXPECT_EQ(status()["stage"], "Stable");
  fake_.clearWrites();
  out = reconcile();
  EXPECT_EQ(out.writes, 0u);
  EXPECT_EQ(jobCreates(), 0u);
}

}  // namespace
}  // namespace bgo::bluegreen
