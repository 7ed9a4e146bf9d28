// Safety holes found by using the operator as a person would, each against the
// real API server and controllers: a gate that must not be fooled, changes that
// must reach the objects both ways, hand edits that must not vanish silently.
#include "integration/operator/operator_fixture.h"

namespace bgo::itest {
namespace {

using core::gvrs::kBlueGreenReleases;
using core::gvrs::kDeployments;
using core::gvrs::kIngressRoutes;

class SafetyTest : public OperatorTest {
 protected:
  static json containerWithPort(const std::string& image, const std::string& port_name) {
    return json{{"name", "app"},
                {"image", image},
                {"ports", json::array({{{"name", port_name}, {"containerPort", 8080}}})}};
  }
  bool hasMiddlewares(const json& route) {
    for (const auto& rt : route.value("/spec/routes"_json_pointer, json::array())) {
      if (rt.contains("middlewares")) return true;
    }
    return false;
  }
};

// The new template renames the container port the Service names
// (targetPort: http): its pods would have endpoints without a port, ready but
// unservable. Refused before anything is deployed; traffic stays on blue.
TEST_F(SafetyTest, ANamedTargetPortTheNewTemplateNoLongerDeclaresIsRefusedAndTrafficStays) {
  startOperator();
  createRelease(kImage1, {{"service", {{"port", 80}, {"targetPort", "http"}}}});
  ASSERT_TRUE(waitStable(60s));
  mergePatch(kBlueGreenReleases, name_,
             {{"spec", {{"template", {{"spec", {{"containers", json::array({containerWithPort(kImage2, "web")})}}}}}}}});
  ASSERT_TRUE(waitFor("Stalled=True", [&] { return conditionStatus("Stalled") == "True"; }, 30s));
  EXPECT_EQ(condition("Stalled").value("reason", ""), "InvalidSpec");
  const std::string msg = condition("Stalled").value("message", "");
  EXPECT_NE(msg.find("spec.service.targetPort"), std::string::npos) << msg;
  EXPECT_TRUE(holdsFor([&] {
    return routeService() == name_ + "-blue" && deploymentState(deployment("green")).image != kImage2;
  }, 3s)) << "the renamed-port template was deployed or switched to";
  EXPECT_EQ(deploymentState(deployment("blue")).spec_replicas, 3);
}

// Removing middlewares and TLS from the spec removes them from both routes
// (server-side apply drops fields the operator no longer sets).
TEST_F(SafetyTest, FieldsRemovedFromTheSpecLeaveTheRoutes) {
  startOperator();
  createRelease(kImage1, {{"routing", {{"middlewares", json::array({{{"name", "auth"}}})},
                                       {"tls", {{"secretName", "app-tls"}}}}}});
  ASSERT_TRUE(waitStable(60s));
  ASSERT_TRUE(hasMiddlewares(ingressRoute(name_)));
  ASSERT_TRUE(ingressRoute(name_ + "-preview")["spec"].contains("tls"));
  mergePatch(kBlueGreenReleases, name_, {{"spec", {{"routing", {{"middlewares", nullptr}, {"tls", nullptr}}}}}});
  ASSERT_TRUE(waitFor("middlewares and tls gone from both routes", [&] {
    const json main = ingressRoute(name_), preview = ingressRoute(name_ + "-preview");
    return !hasMiddlewares(main) && !hasMiddlewares(preview) && !main["spec"].contains("tls") &&
           !preview["spec"].contains("tls");
  }, 20s));
  EXPECT_TRUE(releaseEvents("DriftCorrected").empty()) << "a spec change is no drift";
  ASSERT_TRUE(waitStable(30s));
}

// A middleware added by hand to the operator's own route is restored at once
// and reported, not silently dropped at the next release.
TEST_F(SafetyTest, AHandEditOfTheManagedRouteIsRestoredAndReported) {
  startOperator();
  createRelease(kImage1);
  ASSERT_TRUE(waitStable(60s));
  auto edit = client_->patch(kIngressRoutes, ns_, name_, kube::PatchType::kJson,
                             json::array({{{"op", "add"}, {"path", "/spec/routes/0/middlewares"},
                                           {"value", json::array({{{"name", "hand-added"}}})}}}),
                             {.field_manager = "kubectl-edit"});
  ASSERT_TRUE(edit) << edit.error().describe();
  ASSERT_TRUE(waitFor("the hand edit reverted", [&] { return !hasMiddlewares(ingressRoute(name_)); }, 20s));
  ASSERT_TRUE(waitFor("a DriftCorrected Event", [&] { return !releaseEvents("DriftCorrected").empty(); }, 10s));
  const std::string msg = releaseEvents("DriftCorrected")[0].value("message", "");
  EXPECT_NE(msg.find("IngressRoute " + name_), std::string::npos) << msg;
  EXPECT_NE(msg.find("middlewares"), std::string::npos) << msg;
  EXPECT_EQ(routeService(), name_ + "-blue");
  // Restored once: settled again at zero writes.
  ASSERT_TRUE(waitStable(30s));
  const double writes = settledWrites();
  EXPECT_TRUE(holdsFor([&] { return operatorWrites() == writes; }, 3s)) << "the restore did not settle";
}

// A route that does not exist yet: nothing is deployed, one message says why.
TEST_F(SafetyTest, AMissingExistingRouteDeploysNothingAndSaysOneThing) {
  startOperator();
  createRelease(kImage1, {{"routing", {{"host", nullptr},
                                       {"existingIngressRoute", {{"name", "edge"}, {"match", "Host(`x.example.test`)"}}},
                                       {"previewHosts", {{"blue", "blue.x.example.test"}, {"green", "green.x.example.test"}}}}}});
  ASSERT_TRUE(waitFor("Stalled=True", [&] { return conditionStatus("Stalled") == "True"; }, 30s));
  EXPECT_TRUE(holdsFor([&] { return listItems(kDeployments).empty(); }, 3s)) << "pods started for an unreachable release";
  const std::string msg = status().value("message", "");
  EXPECT_NE(msg.find("spec.routing.existingIngressRoute.name"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("waiting for"), std::string::npos) << "two truths in one message: " << msg;
  EXPECT_EQ(condition("Ready").value("reason", ""), "RouteNotFound");
  EXPECT_EQ(releaseEvents("RouteNotFound").size(), 1u);
}

}  // namespace
}  // namespace bgo::itest
