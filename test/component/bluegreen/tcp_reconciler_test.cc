// spec.routing.tcp through the reconciler over FakeKubeClient: the database
// Services are read from the API (the caches hold only the operator's own
// objects), the IngressRouteTCP is applied or JSON-patched for real.
#include <gtest/gtest.h>

#include <algorithm>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "operator/bluegreen/reconciler.h"
#include "operator/testing/builders.h"
#include "operator/testing/fake_kube_client.h"
#include "operator/testing/manual_clock.h"
#include "unit/bluegreen/world.h"

namespace bgo::bluegreen {
namespace {

using namespace std::chrono_literals;
using core::gvrs::kBlueGreenReleases;
using core::gvrs::kDeployments;
using core::gvrs::kEndpointSlices;
using core::gvrs::kIngressRoutes;
using core::gvrs::kIngressRouteTcps;
using core::gvrs::kServices;
using testing::FakeKubeClient;
using testing::Verb;

// The informers' view: Services only when labelled as ours, so the user's
// database Services must be read from the API by the reconciler.
class OursOnlyReader final : public ObjectReader {
 public:
  explicit OursOnlyReader(kube::KubeClient& c) : c_(c) {}
  std::shared_ptr<const json> get(const core::Gvr& gvr, const std::string& ns, const std::string& name) const override {
    auto r = c_.get(gvr, ns, name);
    if (!r) return nullptr;
    if ((gvr == kDeployments || gvr == kServices) &&
        r->value("/metadata/labels/app.kubernetes.io~1managed-by"_json_pointer, std::string()) != "bluegreen-operator") {
      return nullptr;
    }
    return std::make_shared<const json>(*r);
  }
  std::vector<std::shared_ptr<const json>> listByLabel(const core::Gvr& gvr, const std::string& ns,
                                                       const std::string& key, const std::string& value) const override {
    kube::ListOptions o;
    o.label_selector = key + "=" + value;
    std::vector<std::shared_ptr<const json>> out;
    if (auto r = c_.list(gvr, ns, o)) {
      for (const auto& i : (*r)["items"]) {
        // The slice cache holds only slices of our Services.
        if (gvr == kEndpointSlices && value.rfind("shop-", 0) != 0) continue;
        out.push_back(std::make_shared<const json>(i));
      }
    }
    return out;
  }
  std::vector<std::shared_ptr<const json>> list(const core::Gvr& gvr, const std::string& ns) const override {
    std::vector<std::shared_ptr<const json>> out;
    if (auto r = c_.list(gvr, ns, {})) {
      for (const auto& i : (*r)["items"]) out.push_back(std::make_shared<const json>(i));
    }
    return out;
  }

 private:
  kube::KubeClient& c_;
};

class Recorder final : public controller::EventRecorder {
 public:
  void record(const controller::ObjectRef&, const std::string&, const std::string& reason,
              const std::string& message) override {
    events.emplace_back(reason, message);
  }
  std::vector<std::pair<std::string, std::string>> events;
  bool has(const std::string& reason) const {
    return std::any_of(events.begin(), events.end(), [&](const auto& e) { return e.first == reason; });
  }
};

class TcpReconcilerTest : public ::testing::Test {
 protected:
  TcpReconcilerTest()
      : reader_(fake_),
        log_(std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>())),
        rec_(reader_, fake_, events_, clock_, log_) {}

  void create(json tcp_extra = json::object()) {
    json tcp{{"entryPoints", {"postgres"}},
             {"blue", {{"service", "db-blue"}, {"port", 5432}}},
             {"green", {{"service", "db-green"}, {"port", 5432}}}};
    tcp.merge_patch(tcp_extra);
    json r = testworld::releaseObject("shop:1.0", {{"routing", {{"tcp", tcp}}}});
    r["metadata"].erase("uid");
    r["metadata"].erase("generation");
    ASSERT_TRUE(fake_.create(kBlueGreenReleases, "prod", r).ok());
  }
  void database(const std::string& name, int ready) {
    ASSERT_TRUE(fake_.create(kServices, "prod", testing::makeService("prod", name, {{"db", name}}, 5432, 5432)).ok());
    setReady(name, ready);
  }
  void setReady(const std::string& name, int ready) {
    std::vector<std::string> ips;
    for (int i = 0; i < ready; ++i) ips.push_back("198.18.1." + std::to_string(10 + i));
    fake_.seed(kEndpointSlices, testing::makeEndpointSlice("prod", name + "-xyz", name, ips, 5432));
  }

  ReconcileOutcome reconcile() {
    auto out = rec_.reconcile({"prod", "shop"});
    EXPECT_TRUE(out.ok()) << out.error().describe();
    return out.ok() ? *out : ReconcileOutcome{};
  }
  void converge() {
    auto list = fake_.list(kDeployments, "prod");
    ASSERT_TRUE(list.ok());
    for (const auto& d : (*list)["items"]) {
      const std::string name = d["metadata"]["name"];
      int n = d["spec"].value("replicas", 1);
      json status{{"observedGeneration", d["metadata"]["generation"]}, {"replicas", n}, {"updatedReplicas", n},
                  {"readyReplicas", n}, {"availableReplicas", n}};
      ASSERT_TRUE(fake_.patch(kDeployments, "prod", name, kube::PatchType::kMerge, {{"status", status}},
                              {.subresource = "status"})
                      .ok());
      std::vector<std::string> ips;
      for (int i = 0; i < n; ++i) ips.push_back("198.18.0." + std::to_string(10 + i));
      fake_.seed(kEndpointSlices, testing::makeEndpointSlice("prod", name + "-abcde", name, ips));
    }
  }
  void stableOnBlue() {
    reconcile();
    converge();
    reconcile();
    clock_.advance(11s);
    reconcile();
    reconcile();
  }
  void newImage(const std::string& image) {
    json patch{{"spec", {{"template", testworld::podTemplate(image)}}}};
    ASSERT_TRUE(fake_.patch(kBlueGreenReleases, "prod", "shop", kube::PatchType::kMerge, patch).ok());
  }
  std::string routeService(const core::Gvr& gvr, const std::string& name) {
    auto r = fake_.get(gvr, "prod", name);
    if (!r) return "";
    for (const auto& rt : (*r)["spec"]["routes"]) {
      if (rt.value("match", "") == "HostSNI(`*`)" || gvr == kIngressRoutes) {
        return rt["services"].size() == 1 ? rt["services"][0].value("name", "") : "(several)";
      }
    }
    return "";
  }
  json status() { return (*fake_.get(kBlueGreenReleases, "prod", "shop"))["status"]; }

  testing::ManualClock clock_;
  FakeKubeClient fake_;
  OursOnlyReader reader_;
  Recorder events_;
  std::shared_ptr<spdlog::logger> log_;
  Reconciler rec_;
};

TEST_F(TcpReconcilerTest, OwnedRouteFollowsTheSwitchWrittenAfterTheMainRoute) {
  create();
  database("db-blue", 1);
  database("db-green", 1);
  stableOnBlue();
  EXPECT_EQ(routeService(kIngressRoutes, "shop"), "shop-blue");
  EXPECT_EQ(routeService(kIngressRouteTcps, "shop-tcp"), "db-blue");
  auto tcp = fake_.get(kIngressRouteTcps, "prod", "shop-tcp");
  ASSERT_TRUE(tcp.ok());
  EXPECT_EQ((*tcp)["metadata"]["ownerReferences"][0]["kind"], "BlueGreenRelease");
  EXPECT_EQ((*tcp)["spec"]["entryPoints"], json({"postgres"}));

  newImage("shop:2.0");
  reconcile();
  converge();
  reconcile();
  clock_.advance(11s);
  fake_.clearWrites();
  auto out = reconcile();
  ASSERT_TRUE(out.switched);
  EXPECT_EQ(routeService(kIngressRoutes, "shop"), "shop-green");
  EXPECT_EQ(routeService(kIngressRouteTcps, "shop-tcp"), "db-green");
  int http_at = -1, tcp_at = -1, i = 0;
  for (const auto& w : fake_.writes()) {
    if (w.gvr == kIngressRoutes && w.name == "shop") http_at = i;
    if (w.gvr == kIngressRouteTcps) tcp_at = i;
    ++i;
  }
  ASSERT_GE(http_at, 0);
  ASSERT_GE(tcp_at, 0);
  EXPECT_LT(http_at, tcp_at) << "the database route is written after the main route";
  EXPECT_TRUE(events_.has("DatabaseRouteMoved"));
  EXPECT_EQ(status()["tcpRoute"]["backend"], "db-green:5432");
  EXPECT_EQ(status()["tcpRoute"]["color"], "green");

  reconcile();
  fake_.clearWrites();
  EXPECT_EQ(reconcile().writes, 0u);
  EXPECT_EQ(fake_.writeCount(), 0u) << "reconcile again: zero writes";
}

TEST_F(TcpReconcilerTest, UnreadyDatabaseHoldsTheHttpSwitch) {
  create();
  database("db-blue", 1);
  database("db-green", 0);
  stableOnBlue();
  newImage("shop:2.0");
  reconcile();
  converge();
  reconcile();
  clock_.advance(11s);
  auto out = reconcile();
  EXPECT_FALSE(out.switched);
  ASSERT_TRUE(out.requeue_after);
  EXPECT_LE(*out.requeue_after, 2s);
  EXPECT_EQ(routeService(kIngressRoutes, "shop"), "shop-blue");
  EXPECT_EQ(routeService(kIngressRouteTcps, "shop-tcp"), "db-blue");
  const std::string msg = status()["message"];
  EXPECT_NE(msg.find("database Service db-green (spec.routing.tcp.green.service) is not ready"), std::string::npos)
      << msg;
  setReady("db-green", 2);
  clock_.advance(2s);
  EXPECT_TRUE(reconcile().switched);
  EXPECT_EQ(routeService(kIngressRouteTcps, "shop-tcp"), "db-green");
}

TEST_F(TcpReconcilerTest, MissingServiceStallsAndWritesOnlyStatus) {
  create();
  database("db-blue", 1);
  fake_.clearWrites();
  reconcile();
  for (const auto& w : fake_.writes()) {
    EXPECT_TRUE(w.gvr == kBlueGreenReleases && w.subresource == "status") << w.gvr.resource << "/" << w.name;
  }
  auto st = status();
  EXPECT_EQ(st["message"].get<std::string>().rfind("spec.routing.tcp.green.service: Service db-green not found", 0),
            0u)
      << st["message"];
  bool stalled = false;
  for (const auto& c : st["conditions"]) stalled |= c["type"] == "Stalled" && c["status"] == "True";
  EXPECT_TRUE(stalled);
  EXPECT_TRUE(events_.has("BackendNotFound"));
  EXPECT_FALSE(fake_.get(kDeployments, "prod", "shop-blue").ok()) << "nothing deployed";
}

TEST_F(TcpReconcilerTest, ExistingIngressRouteTcpIsPatchedWithAGuard) {
  create({{"existingIngressRouteTCP", "db"}});
  database("db-blue", 1);
  database("db-green", 1);
  json user = json::parse(R"J({"apiVersion":"traefik.io/v1alpha1","kind":"IngressRouteTCP",
    "metadata":{"name":"db","namespace":"prod","labels":{"team":"data"}},
    "spec":{"entryPoints":["pg"],"routes":[{"match":"HostSNI(`*`)","services":[{"name":"legacy-db","port":5432}]}]}})J");
  ASSERT_TRUE(fake_.create(kIngressRouteTcps, "prod", user).ok());
  stableOnBlue();
  EXPECT_EQ(routeService(kIngressRouteTcps, "db"), "db-blue");
  EXPECT_FALSE(fake_.get(kIngressRouteTcps, "prod", "shop-tcp").ok());
  auto db = *fake_.get(kIngressRouteTcps, "prod", "db");
  EXPECT_EQ(db["metadata"]["labels"]["team"], "data");
  EXPECT_FALSE(db["metadata"].contains("ownerReferences"));

  // A concurrent edit between read and patch: the guard turns it into a re-plan.
  newImage("shop:2.0");
  reconcile();
  converge();
  reconcile();
  clock_.advance(11s);
  fake_.setFaultHook([&](const testing::Call& c) -> std::optional<core::Error> {
    if (c.verb == Verb::kPatch && c.gvr == kIngressRouteTcps) {
      return core::Error::make(core::ErrorCode::kInvalid, "the server rejected our request: test operation failed", 422);
    }
    return std::nullopt;
  });
  auto failed = rec_.reconcile({"prod", "shop"});
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().retry, core::RetryClass::kReplan);
  fake_.setFaultHook(nullptr);
  EXPECT_EQ(routeService(kIngressRoutes, "shop"), "shop-green") << "the main route went first";
  EXPECT_EQ(routeService(kIngressRouteTcps, "db"), "db-blue");
  reconcile();  // completes the move forward
  EXPECT_EQ(routeService(kIngressRouteTcps, "db"), "db-green");
}

}  // namespace
}  // namespace bgo::bluegreen
