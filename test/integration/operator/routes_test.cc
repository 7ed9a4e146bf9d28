// A user's own IngressRoute (existingIngressRoute), concurrent edits of it, and
// spec errors only the operator can see.
#include <thread>

#include "integration/operator/operator_fixture.h"
#include "operator/api/v1alpha1/codec.h"
#include "operator/traffic/traefik/ingress_route.h"

namespace bgo::itest {
namespace {

using core::gvrs::kDeployments;
using core::gvrs::kIngressRoutes;
using core::gvrs::kServices;

class ExistingRouteTest : public OperatorTest {
 protected:
  std::string shopHost() const { return "shop." + ns_ + ".example.test"; }
  std::string shopMatch() const { return "Host(`" + shopHost() + "`)"; }

  // A route object a team would own: several routes, middlewares, TLS, labels,
  // annotations; route 1 carries the shop's host.
  json userRoute(const std::string& name) const {
    return json{
        {"apiVersion", "traefik.io/v1alpha1"},
        {"kind", "IngressRoute"},
        {"metadata",
         {{"name", name},
          {"namespace", ns_},
          {"labels", {{"team", "edge"}, {"tier", "frontend"}}},
          {"annotations", {{"example.test/owner", "edge-team"}, {"example.test/ticket", "OPS-1234"}}}}},
        {"spec",
         {{"entryPoints", json::array({"web", "websecure"})},
          {"routes",
           json::array(
               {{{"kind", "Rule"},
                 {"match", "Host(`other." + ns_ + ".example.test`)"},
                 {"priority", 10},
                 {"middlewares", json::array({{{"name", "strip-prefix"}}})},
                 {"services", json::array({{{"name", "other"}, {"port", 8080}}})}},
                {{"kind", "Rule"},
                 {"match", shopMatch()},
                 {"middlewares", json::array({{{"name", "auth"}, {"namespace", ns_}}})},
                 {"services", json::array({{{"name", "legacy-shop"},
                                            {"port", 8080},
                                            {"weight", 1},
                                            {"passHostHeader", true}}})}},
                {{"kind", "Rule"},
                 {"match", shopMatch() + " && PathPrefix(`/api`)"},
                 {"priority", 100},
                 {"services", json::array({{{"name", "api"}, {"port", 9000}},
                                           {{"name", "api-canary"}, {"port", 9000}, {"weight", 5}}})}}})},
          {"tls", {{"secretName", "shop-tls"}, {"domains", json::array({{{"main", shopHost()}}})}}}}}};
  }

  json existingRouteSpec(const std::string& route_name) const {
    return json{{"routing",
                 {{"host", nullptr},
                  {"existingIngressRoute", {{"name", route_name}, {"match", shopMatch()}}},
                  {"previewHosts", {{"blue", "blue." + shopHost()}, {"green", "green." + shopHost()}}}}}};
  }

  json createUserRoute(const std::string& name) {
    auto r = client_->create(kIngressRoutes, ns_, userRoute(name), {.field_manager = "edge-team"});
    EXPECT_TRUE(r) << r.error().describe();
    return r ? *r : json();
  }

  // The object without what every write changes (and what a person does not own).
  static json comparable(json ir) {
    if (!ir.is_object()) return ir;
    for (const char* f : {"resourceVersion", "generation", "managedFields"}) ir["metadata"].erase(f);
    // The one field the operator adds to a user's route: the record of its last switch.
    if (auto a = ir["metadata"].find("annotations"); a != ir["metadata"].end() && a->is_object()) {
      a->erase("bluegreen.io/switch");
      if (a->empty()) ir["metadata"].erase("annotations");
    }
    return ir;
  }
  // `after` equals `before` except spec.routes[1].services, which must be `services`.
  void expectOnlyShopServicesChanged(const json& before, const json& after, const json& services) {
    ASSERT_TRUE(after.is_object());
    EXPECT_EQ(after["spec"]["routes"][1]["services"], services);
    json masked = comparable(after);
    masked["spec"]["routes"][1]["services"] = before["spec"]["routes"][1]["services"];
    EXPECT_EQ(masked, comparable(before)) << "a field other than the shop route's services changed:\nbefore "
                                          << comparable(before).dump() << "\nafter  " << comparable(after).dump();
  }
  json shopServices(const std::string& service) {
    return json::array({{{"name", service}, {"port", 80}, {"weight", 1}, {"passHostHeader", true}}});
  }
};

TEST_F(ExistingRouteTest, OnlyTheNamedRoutesServicesChangeAndEverythingElseStaysByteForByte) {
  const json before = createUserRoute("web");
  ASSERT_TRUE(before.is_object());
  startOperator();
  createRelease(kImage1, existingRouteSpec("web"));
  ASSERT_TRUE(waitStable(60s));

  json after = ingressRoute("web");
  expectOnlyShopServicesChanged(before, after, shopServices(name_ + "-blue"));
  const auto record = traefik::readSwitchRecord(after);
  ASSERT_TRUE(record) << "the switch is recorded on the route: " << after["metadata"].dump();
  EXPECT_EQ(record->to, "blue");
  EXPECT_FALSE(after["metadata"].contains("ownerReferences")) << "the user's route must stay the user's";
  EXPECT_FALSE(ingressRoute(name_).is_object()) << "no managed main route in existingIngressRoute mode";
  const json preview = ingressRoute(name_ + "-preview");
  ASSERT_TRUE(preview.is_object());
  EXPECT_EQ(strAt(preview, "/spec/routes/0/match"), "Host(`blue." + shopHost() + "`)");
  EXPECT_EQ(strAt(preview, "/spec/routes/1/services/0/name"), name_ + "-green");
  EXPECT_EQ(status().value("activeColor", ""), "blue");
  const auto switched = releaseEvents("Switched");
  ASSERT_EQ(switched.size(), 1u);
  EXPECT_NE(switched[0].value("message", "").find("legacy-shop"), std::string::npos)
      << "the event says what the route sent traffic to before: " << switched[0].value("message", "");

  setImage(kImage2);
  ASSERT_TRUE(waitFor("the shop route on green",
                      [&] { return routeService("web", shopMatch()) == name_ + "-green"; }, 30s));
  ASSERT_TRUE(waitStable(30s));
  after = ingressRoute("web");
  expectOnlyShopServicesChanged(before, after, shopServices(name_ + "-green"));
  EXPECT_EQ(status().value("activeColor", ""), "green");
}

TEST_F(ExistingRouteTest, GuardedSwitchPatchIsRejectedByTheServerAfterAConcurrentEdit) {
  // The operator's own patch builder against the real API server: a patch built
  // from a copy read before someone else's edit must fail, and leave the edit.
  ASSERT_TRUE(createUserRoute("web").is_object());
  const json stale = ingressRoute("web");
  auto parsed = api::parseRelease(releaseManifest(kImage1, existingRouteSpec("web")));
  ASSERT_TRUE(parsed);
  ASSERT_TRUE(parsed->errors.empty()) << parsed->errorSummary();
  auto patch = traefik::switchPatch(stale, parsed->release, api::Color::kGreen, "{}");
  ASSERT_TRUE(patch) << patch.error().describe();

  const json foreign = json::array({{{"name", "maintenance"}, {"port", 8080}}});
  auto edit = client_->patch(kIngressRoutes, ns_, "web", kube::PatchType::kJson,
                             json::array({{{"op", "replace"}, {"path", "/spec/routes/1/services"}, {"value", foreign}}}),
                             {.field_manager = "someone-else"});
  ASSERT_TRUE(edit) << edit.error().describe();

  auto res = client_->patch(kIngressRoutes, ns_, "web", kube::PatchType::kJson, *patch,
                            {.field_manager = "bluegreen-operator"});
  ASSERT_FALSE(res) << "the stale patch went through: " << res->dump();
  EXPECT_TRUE(res.error().is(core::ErrorCode::kInvalid) || res.error().is(core::ErrorCode::kConflict))
      << res.error().describe();
  const json now = ingressRoute("web");
  EXPECT_EQ(now["spec"]["routes"][1]["services"], foreign);
  EXPECT_EQ(strAt(now, "/metadata/resourceVersion"), strAt(*edit, "/metadata/resourceVersion"));

  // Rebuilt from a fresh read it applies, keeping everything else.
  auto fresh = traefik::switchPatch(now, parsed->release, api::Color::kGreen, "{}");
  ASSERT_TRUE(fresh);
  auto ok = client_->patch(kIngressRoutes, ns_, "web", kube::PatchType::kJson, *fresh,
                           {.field_manager = "bluegreen-operator"});
  ASSERT_TRUE(ok) << ok.error().describe();
  expectOnlyShopServicesChanged(now, *ok, json::array({{{"name", name_ + "-green"}, {"port", 80}}}));
}

TEST_F(ExistingRouteTest, ForeignEditWhileAwaitingPromotionIsReReadAndNeverSwitchedWithoutPromotion) {
  ASSERT_TRUE(createUserRoute("web").is_object());
  startOperator();
  json spec = existingRouteSpec("web");
  spec["promotion"] = {{"auto", false}};
  createRelease(kImage1, spec);
  ASSERT_TRUE(waitStable(60s));
  setImage(kImage2);
  ASSERT_TRUE(waitForStage("AwaitingPromotion", 30s));
  const std::string rev2 = previewRevision();

  // Someone else points the shop's route at a maintenance page.
  const json foreign = json::array({{{"name", "maintenance"}, {"port", 8080}}});
  auto edit = client_->patch(kIngressRoutes, ns_, "web", kube::PatchType::kJson,
                             json::array({{{"op", "replace"}, {"path", "/spec/routes/1/services"}, {"value", foreign}}}),
                             {.field_manager = "someone-else"});
  ASSERT_TRUE(edit) << edit.error().describe();
  const json edited = *edit;

  // The operator re-reads the route (its status names what the route sends to
  // now), and without a promote request the unpromoted revision does not get it.
  EXPECT_TRUE(waitFor("status naming the foreign service",
                      [&] { return status().value("message", "").find("maintenance") != std::string::npos; }, 10s));
  EXPECT_EQ(stage(), "AwaitingPromotion");
  EXPECT_TRUE(holdsFor([&] { return routeService("web", shopMatch()) == "maintenance"; }, 3s))
      << "the route went to " << routeService("web", shopMatch()) << " without a promote request";
  EXPECT_GE(deploymentState(deployment("blue")).spec_replicas, 3)
      << "blue was scaled down although no switch was promoted";

  annotateRelease("bluegreen.io/promote", rev2);
  ASSERT_TRUE(waitFor("the shop route on green after promote",
                      [&] { return routeService("web", shopMatch()) == name_ + "-green"; }, 15s));
  const json after = ingressRoute("web");
  // The operator patched the object as edited: every other field is the edited one.
  json masked = comparable(after);
  masked["spec"]["routes"][1]["services"] = foreign;
  EXPECT_EQ(masked, comparable(edited));
}

TEST_F(ExistingRouteTest, DeletingTheReleaseLeavesTheUserRouteAloneAndWarns) {
  ASSERT_TRUE(createUserRoute("web").is_object());
  startOperator();
  createRelease(kImage1, existingRouteSpec("web"));
  ASSERT_TRUE(waitStable(60s));
  const json before = ingressRoute("web");

  ASSERT_TRUE(client_->remove(core::gvrs::kBlueGreenReleases, ns_, name_));
  // Owned objects go by garbage collection...
  ASSERT_TRUE(waitFor("owned objects collected", [&] {
    return listItems(kDeployments).empty() && !get(kServices, name_ + "-blue").is_object() &&
           !get(kServices, name_ + "-green").is_object() && !ingressRoute(name_ + "-preview").is_object();
  }, 60s));
  // ...the user's route stays as it was, and a warning says where it points.
  EXPECT_EQ(comparable(ingressRoute("web")), comparable(before));
  ASSERT_TRUE(waitFor("a ReleaseDeleted warning on the route", [&] {
    for (const auto& e : listItems(core::gvrs::kEvents)) {
      if (e.value("reason", "") == "ReleaseDeleted" && strAt(e, "/involvedObject/kind") == "IngressRoute" &&
          strAt(e, "/involvedObject/name") == "web" && e.value("type", "") == "Warning" &&
          e.value("message", "").find(name_ + "-blue") != std::string::npos) {
        return true;
      }
    }
    return false;
  }, 15s));
}

TEST_F(ExistingRouteTest, ASecondReleaseOnTheSameRouteAndMatchIsStalledNamingTheFirst) {
  ASSERT_TRUE(createUserRoute("web").is_object());
  startOperator();
  createRelease(kImage1, existingRouteSpec("web"));
  ASSERT_TRUE(waitStable(60s));
  json second = releaseManifest(kImage2, existingRouteSpec("web"));
  second["metadata"]["name"] = "app2";
  auto created = client_->create(core::gvrs::kBlueGreenReleases, ns_, second);
  ASSERT_TRUE(created) << created.error().describe();
  auto secondStatus = [&] {
    json r = get(core::gvrs::kBlueGreenReleases, "app2");
    return r.is_object() ? r.value("status", json::object()) : json::object();
  };
  ASSERT_TRUE(waitFor("app2 Stalled", [&] { return secondStatus().value("stage", "") == "Failed"; }, 30s));
  const std::string msg = secondStatus().value("message", "");
  EXPECT_NE(msg.find("BlueGreenRelease " + name_), std::string::npos) << msg;
  EXPECT_NE(msg.find("spec.routing.existingIngressRoute"), std::string::npos) << msg;
  bool stalled = false;
  for (const auto& c : secondStatus().value("conditions", json::array())) {
    if (c.value("type", "") == "Stalled") stalled = c.value("status", "") == "True" && c.value("reason", "") == "RouteConflict";
  }
  EXPECT_TRUE(stalled) << secondStatus().dump();
  EXPECT_TRUE(holdsFor([&] {
    return routeService("web", shopMatch()) == name_ + "-blue" && !get(kDeployments, "app2-blue").is_object();
  }, 3s)) << "the second release deployed or switched the route";
  EXPECT_EQ(stage(), "Stable") << "the first release is untouched";
}

class SpecErrorTest : public ExistingRouteTest {};

TEST_F(SpecErrorTest, MissingExistingIngressRouteIsStalledWithAMessageNamingTheField) {
  startOperator();
  createRelease(kImage1, existingRouteSpec("edge"));
  ASSERT_TRUE(waitFor("Stalled=True", [&] { return conditionStatus("Stalled") == "True"; }, 30s));
  const json stalled = condition("Stalled");
  EXPECT_EQ(stalled.value("reason", ""), "RouteNotFound");
  const std::string msg = stalled.value("message", "");
  EXPECT_NE(msg.find("spec.routing.existingIngressRoute.name"), std::string::npos) << msg;
  EXPECT_NE(msg.find("edge"), std::string::npos) << msg;
  EXPECT_NE(status().value("message", "").find("existingIngressRoute"), std::string::npos);
  EXPECT_EQ(conditionStatus("Ready"), "False");
  EXPECT_TRUE(holdsFor([&] { return !ingressRoute("edge").is_object() && !ingressRoute(name_).is_object(); }, 2s))
      << "the operator created a route it was told to patch";
  EXPECT_TRUE(listItems(kDeployments).empty()) << "nothing is deployed before the route exists";

  // Once the route exists, the release proceeds.
  const json before = createUserRoute("edge");
  ASSERT_TRUE(waitStable(30s));
  EXPECT_EQ(conditionStatus("Stalled"), "False");
  expectOnlyShopServicesChanged(before, ingressRoute("edge"), shopServices(name_ + "-blue"));
}

TEST_F(SpecErrorTest, ForeignDeploymentWithTheBlueNameIsNeverTakenOver) {
  const json foreign{
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", name_ + "-blue"}, {"namespace", ns_}, {"labels", {{"team", "legacy"}}}}},
      {"spec",
       {{"replicas", 1},
        {"selector", {{"matchLabels", {{"app", "legacy"}}}}},
        {"template",
         {{"metadata", {{"labels", {{"app", "legacy"}}}}},
          {"spec", {{"containers", json::array({{{"name", "legacy"}, {"image", "legacy:1"}}})}}}}}}}};
  auto created = client_->create(kDeployments, ns_, foreign, {.field_manager = "legacy-team"});
  ASSERT_TRUE(created) << created.error().describe();

  startOperator();
  createRelease(kImage1);
  ASSERT_TRUE(waitFor("Stalled=True", [&] { return conditionStatus("Stalled") == "True"; }, 30s));
  const json stalled = condition("Stalled");
  EXPECT_EQ(stalled.value("reason", ""), "NameConflict");
  EXPECT_NE(stalled.value("message", "").find("Deployment " + name_ + "-blue"), std::string::npos)
      << stalled.value("message", "");
  EXPECT_EQ(stage(), "Failed");
  EXPECT_EQ(conditionStatus("Ready"), "False");
  const auto events = releaseEvents("NameConflict");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].value("type", ""), "Warning");

  // Nothing of the release appears, and the foreign object is as its owner left it.
  EXPECT_TRUE(holdsFor([&] {
    return !get(kServices, name_ + "-blue").is_object() && !get(kServices, name_ + "-green").is_object() &&
           !deployment("green").is_object() && listItems(kIngressRoutes).empty();
  }, 2s)) << "the operator created objects despite the conflict";
  const json now = deployment("blue");
  EXPECT_EQ(now["spec"], (*created)["spec"]);
  EXPECT_EQ(now["metadata"]["labels"], (*created)["metadata"]["labels"]);
  EXPECT_FALSE(now["metadata"].contains("ownerReferences"));
  for (const auto& mf : now["metadata"].value("managedFields", json::array())) {
    EXPECT_NE(mf.value("manager", ""), "bluegreen-operator") << "the operator wrote to the foreign Deployment";
  }
}

TEST_F(SpecErrorTest, ForeignServiceWithTheGreenNameIsNeverTakenOver) {
  // A Service's selector can be changed: a forced apply would silently take it over.
  const json foreign{
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata", {{"name", name_ + "-green"}, {"namespace", ns_}, {"labels", {{"team", "legacy"}}}}},
      {"spec", {{"selector", {{"app", "legacy"}}}, {"ports", json::array({{{"port", 8080}}})}}}};
  auto created = client_->create(kServices, ns_, foreign, {.field_manager = "legacy-team"});
  ASSERT_TRUE(created) << created.error().describe();

  startOperator();
  createRelease(kImage1);
  ASSERT_TRUE(waitFor("Stalled=True", [&] { return conditionStatus("Stalled") == "True"; }, 30s));
  EXPECT_EQ(condition("Stalled").value("reason", ""), "NameConflict");
  EXPECT_NE(condition("Stalled").value("message", "").find("Service " + name_ + "-green"), std::string::npos)
      << condition("Stalled").value("message", "");
  EXPECT_TRUE(holdsFor([&] { return listItems(kDeployments).empty() && listItems(kIngressRoutes).empty(); }, 2s))
      << "the operator created objects despite the conflict";
  const json now = service("green");
  EXPECT_EQ(strAt(now, "/metadata/resourceVersion"), strAt(*created, "/metadata/resourceVersion"))
      << "the foreign Service was written to: " << now.dump();
}

// A template the CRD accepts but the API server refuses for a Deployment (a
// port out of range): the release says so, names the field, keeps the traffic
// where it was, and neither retries in a loop nor writes again.
TEST_F(SpecErrorTest, TemplateTheServerRejectsIsStalledWithItsMessageAndTrafficStays) {
  startOperator({"--resync-period", "10"});
  createRelease(kImage1);
  ASSERT_TRUE(waitStable(60s));
  const json bad_container{{"name", "app"},
                           {"image", kImage2},
                           {"ports", json::array({{{"name", "http"}, {"containerPort", 70000}}})}};
  mergePatch(core::gvrs::kBlueGreenReleases, name_,
             {{"spec", {{"template", {{"spec", {{"containers", json::array({bad_container})}}}}}}}});
  ASSERT_TRUE(waitFor("Stalled=True", [&] { return conditionStatus("Stalled") == "True"; }, 30s));
  const json stalled = condition("Stalled");
  EXPECT_EQ(stalled.value("reason", ""), "Rejected");
  const std::string msg = stalled.value("message", "");
  EXPECT_NE(msg.find("deployments/" + name_ + "-green"), std::string::npos) << msg;
  EXPECT_NE(msg.find("spec.template.spec.containers[0].ports[0].containerPort"), std::string::npos)
      << "the message names the field: " << msg;
  EXPECT_EQ(stage(), "Failed");
  EXPECT_EQ(conditionStatus("Ready"), "False");
  EXPECT_EQ(conditionStatus("Reconciling"), "False");
  EXPECT_EQ(status().value("activeColor", ""), "blue");
  EXPECT_EQ(routeService(), name_ + "-blue") << "the main route moved";
  EXPECT_EQ(deploymentState(deployment("blue")).spec_replicas, 3);
  EXPECT_EQ(deploymentState(deployment("blue")).image, kImage1);
  const auto rejected = releaseEvents("Rejected");
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0].value("type", ""), "Warning");

  // No loop: across a resync, no write at all (the failed apply is not repeated).
  auto refusedRequests = [&] {
    const std::string m = operatorMetrics();
    return metricSum(m, "rest_client_requests_total", {{"code", "422"}}).value_or(0) +
           metricSum(m, "rest_client_requests_total", {{"code", "400"}}).value_or(0);
  };
  const double writes = settledWrites();
  const double refused = refusedRequests();
  std::this_thread::sleep_for(12s);  // longer than --resync-period: the window is the assertion
  EXPECT_EQ(operatorWrites(), writes) << "the operator kept writing while the template was rejected";
  EXPECT_EQ(refusedRequests(), refused) << "the rejected apply was sent again";
  EXPECT_EQ(releaseEvents("Rejected").size(), 1u);

  // Fixed template: the release goes on to green.
  setImage(kImage3);
  ASSERT_TRUE(waitStable(60s));
  EXPECT_EQ(status().value("activeColor", ""), "green");
  EXPECT_EQ(conditionStatus("Stalled"), "False");
  EXPECT_EQ(deploymentState(deployment("green")).image, kImage3);
}

}  // namespace
}  // namespace bgo::itest
