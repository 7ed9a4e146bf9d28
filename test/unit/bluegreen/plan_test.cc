// Table and scenario tests of plan(): observed state -> actions and status.
#include <gtest/gtest.h>

#include "operator/api/v1alpha1/revision.h"
#include "operator/traffic/traefik/ingress_route.h"
#include "unit/bluegreen/world.h"

namespace bgo::bluegreen {
namespace {

using testworld::podTemplate;
using testworld::releaseObject;
using testworld::World;
using namespace std::chrono_literals;

bool hasAction(const Plan& p, Action::Kind kind, const std::string& name) {
  for (const auto& a : p.actions) {
    if (a.kind == kind && a.name == name) return true;
  }
  return false;
}
bool hasEvent(const Plan& p, const std::string& reason) {
  for (const auto& e : p.events) {
    if (e.reason == reason) return true;
  }
  return false;
}

// Brings a fresh release to Stable on blue.
World stableOnBlue(json spec_extra = json::object()) {
  World w(releaseObject("shop:1.0", spec_extra));
  w.settle();
  return w;
}

// From Stable on blue: shop:2.0 deployed into green and ready, so the
// readyForSeconds clock runs from now on.
void deployGreen(World& w) {
  w.setImage("shop:2.0");
  w.step();
  w.converge();
  w.step();
}

// From Stable on blue: switched to shop:2.0 on green; the world right after the switch.
World switchedToGreen(json spec_extra = json::object()) {
  World w = stableOnBlue(spec_extra);
  deployGreen(w);
  w.advance(10s);
  EXPECT_TRUE(w.step().switched);
  return w;
}

// A fresh release with no main route of its own: it switches the rule `match`
// of the user's IngressRoute "web".
World onExistingRoute(const std::string& match) {
  json extra{{"routing",
              {{"host", nullptr}, {"existingIngressRoute", {{"name", "web"}, {"match", match}}}}}};
  return World(releaseObject("shop:1.0", extra));
}

// Invariant checked after every step in scenarios: the main route only ever
// names a color whose every replica is ready.
void expectMainRouteReady(World& w) {
  const std::string svc = w.mainRouteService();
  if (svc.empty()) return;
  const json& d = w.objects()["Deployment/" + svc];
  int want = w.release()["spec"]["replicas"];
  EXPECT_EQ(d["status"].value("readyReplicas", 0), want) << "main route names " << svc;
}

TEST(PlanTest, CreateDeploysBlueAndWaitsBeforeRouting) {
  World w(releaseObject("shop:1.0"));
  Plan p = w.step();
  EXPECT_TRUE(hasAction(p, Action::Kind::kApply, "shop-blue"));
  EXPECT_EQ(w.replicasOf("shop-blue"), 3);
  EXPECT_EQ(w.replicasOf("shop-green"), 0);
  EXPECT_TRUE(w.objects().count("Service/shop-blue"));
  EXPECT_TRUE(w.objects().count("Service/shop-green"));
  EXPECT_EQ(w.mainRouteService(), "");
  EXPECT_EQ(w.stage(), "Initializing");
  EXPECT_EQ(w.condition("Reconciling"), "True");
  EXPECT_EQ(w.condition("Ready"), "False");
  EXPECT_TRUE(hasEvent(p, "Deploying"));
}

TEST(PlanTest, CreateRoutesMainHostToBlueOnceReadyForElapsed) {
  World w(releaseObject("shop:1.0"));
  w.step();
  w.converge();
  Plan p = w.step();  // healthy now: the readyFor clock starts
  EXPECT_EQ(w.mainRouteService(), "");
  ASSERT_TRUE(p.requeue_after.has_value());
  EXPECT_LE(*p.requeue_after, 11s);
  w.advance(10s);
  p = w.step();
  EXPECT_TRUE(p.switched);
  EXPECT_EQ(w.mainRouteService(), "shop-blue");
  EXPECT_TRUE(w.objects().count("IngressRoute/shop-preview"));
  EXPECT_EQ(w.stage(), "Switching");
  p = w.step();
  EXPECT_EQ(w.stage(), "Stable");
  EXPECT_EQ(w.condition("Ready"), "True");
  EXPECT_EQ(w.condition("Reconciling"), "False");
  EXPECT_EQ(w.condition("Stalled"), "False");
  EXPECT_EQ(w.release()["status"]["activeColor"], "blue");
  EXPECT_EQ(w.release()["status"]["history"][0]["reason"], "Initial");
}

TEST(PlanTest, SettledReleaseCostsZeroWrites) {
  World w = stableOnBlue();
  w.advance(5s);
  int before = w.writes;
  Plan p = w.step();
  EXPECT_TRUE(p.actions.empty());
  EXPECT_EQ(w.writes, before) << "a settled release must not write, not even its status";
  EXPECT_FALSE(p.requeue_after.has_value());
}

TEST(PlanTest, PreviewRouteNamesBothColorsOnTheirHosts) {
  World w = stableOnBlue();
  const json& routes = w.objects()["IngressRoute/shop-preview"]["spec"]["routes"];
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0]["match"], "Host(`blue.shop.example.com`)");
  EXPECT_EQ(routes[0]["services"][0]["name"], "shop-blue");
  EXPECT_EQ(routes[1]["match"], "Host(`green.shop.example.com`)");
  EXPECT_EQ(routes[1]["services"][0]["name"], "shop-green");
  EXPECT_EQ(routes[1]["services"][0]["port"], 80);
}

TEST(PlanTest, NewImageGoesToGreenAndSwitchesOnlyWhenPromotable) {
  World w = stableOnBlue();
  w.setImage("shop:2.0");
  const std::string r2 = api::revisionOf(podTemplate("shop:2.0"));
  Plan p = w.step();
  EXPECT_EQ(w.revisionOf("shop-green"), r2);
  EXPECT_EQ(w.replicasOf("shop-green"), 3);
  EXPECT_EQ(w.replicasOf("shop-blue"), 3);
  EXPECT_EQ(w.mainRouteService(), "shop-blue");
  EXPECT_EQ(w.stage(), "Deploying");
  EXPECT_EQ(w.release()["status"]["previewColor"], "green");
  EXPECT_EQ(w.release()["status"]["previewRevision"], r2);
  w.ready_limit["green"] = 2;  // one pod still starting
  w.converge();
  w.step();
  EXPECT_EQ(w.stage(), "Deploying");
  EXPECT_EQ(w.mainRouteService(), "shop-blue");
  w.ready_limit["green"] = -1;
  w.converge();
  w.step();
  EXPECT_EQ(w.stage(), "Verifying");
  EXPECT_EQ(w.mainRouteService(), "shop-blue");
  w.advance(9s);
  w.step();
  EXPECT_EQ(w.mainRouteService(), "shop-blue") << "readyForSeconds not yet elapsed";
  w.advance(1s);
  p = w.step();
  EXPECT_TRUE(p.switched);
  EXPECT_TRUE(hasEvent(p, "Switched"));
  EXPECT_EQ(w.mainRouteService(), "shop-green");
  EXPECT_EQ(w.release()["status"]["history"][0]["from"], "blue");
  EXPECT_EQ(w.release()["status"]["history"][0]["to"], "green");
}

TEST(PlanTest, OldColorStaysWarmForDelayThenGoesToStandby) {
  World w = switchedToGreen(json{{"scaleDown", {{"delaySeconds", 30}, {"standbyReplicas", 1}}}});
  ASSERT_EQ(w.mainRouteService(), "shop-green");
  w.advance(1s);
  Plan p = w.step();
  EXPECT_EQ(w.stage(), "Draining");
  EXPECT_EQ(w.condition("Ready"), "False");
  EXPECT_EQ(w.replicasOf("shop-blue"), 3);
  ASSERT_TRUE(p.requeue_after.has_value());
  w.advance(28s);
  w.step();
  EXPECT_EQ(w.replicasOf("shop-blue"), 3) << "scaled down before delaySeconds";
  w.advance(2s);
  p = w.step();
  EXPECT_TRUE(hasEvent(p, "ScaledDown"));
  EXPECT_EQ(w.replicasOf("shop-blue"), 1);
  w.converge();
  w.step();
  EXPECT_EQ(w.stage(), "Stable");
  EXPECT_EQ(w.condition("Ready"), "True");
  EXPECT_EQ(w.revisionOf("shop-blue"), api::revisionOf(podTemplate("shop:1.0")))
      << "the standby color keeps its old revision for a later rollback";
}

TEST(PlanTest, WithoutTraefikApiTheOldColorServesForTheSafetyMargin) {
  World w = switchedToGreen(json{{"scaleDown", {{"delaySeconds", 0}}}});
  w.confirm_margin_seconds = 5;
  w.advance(1s);
  Plan p = w.step();
  EXPECT_EQ(w.stage(), "Switching");
  EXPECT_EQ(w.replicasOf("shop-blue"), 3) << "Traefik may still send requests to blue";
  ASSERT_TRUE(p.requeue_after.has_value());
  EXPECT_LE(*p.requeue_after, 5s);
  w.advance(4s);
  w.step();
  EXPECT_EQ(w.replicasOf("shop-blue"), 0) << "delaySeconds 0: down right after the margin";
}

TEST(PlanTest, TraefikApiConfirmationStartsTheScaleDownClock) {
  World w = switchedToGreen(json{{"scaleDown", {{"delaySeconds", 10}}}});
  w.route_live = false;
  for (int i = 0; i < 20; ++i) {
    w.advance(1s);
    w.step();
    ASSERT_EQ(w.replicasOf("shop-blue"), 3) << "scaled down before Traefik served green";
  }
  EXPECT_EQ(w.stage(), "Switching");
  EXPECT_EQ(w.condition("Ready"), "False");
  w.route_live = true;
  Plan p = w.step();
  EXPECT_TRUE(hasEvent(p, "TrafficConfirmed"));
  EXPECT_EQ(w.stage(), "Draining");
  EXPECT_FALSE(w.release()["status"].value("trafficConfirmedTime", "").empty());
  w.advance(9s);
  w.step();
  EXPECT_EQ(w.replicasOf("shop-blue"), 3) << "delaySeconds counts from the confirmation";
  w.advance(1s);
  w.step();
  EXPECT_EQ(w.replicasOf("shop-blue"), 0);
}

TEST(PlanTest, ATraefikApiThatNeverConfirmsDoesNotPinTheOldColorForever) {
  World w = switchedToGreen(json{{"scaleDown", {{"delaySeconds", 0}}}});
  w.route_live = false;
  w.confirm_margin_seconds = 5;
  bool warned = false;
  for (int i = 0; i < 61; ++i) {
    w.advance(1s);
    warned = warned || hasEvent(w.step(), "TrafficNotConfirmed");
  }
  EXPECT_TRUE(warned);
  w.step();
  EXPECT_EQ(w.replicasOf("shop-blue"), 0);
}

// Status times have second precision; the gates must not open early when the
// clock is between two seconds.
TEST(PlanTest, SubSecondClockNeverShortensReadyForSeconds) {
  World w = stableOnBlue();
  w.setImage("shop:2.0");
  w.step();
  w.converge();
  w.now += 900ms;
  w.step();  // healthy from now on: readyFor starts
  w.now += 9s + 200ms;
  Plan p = w.step();
  EXPECT_FALSE(p.switched) << "switched after 9.2 s of a 10 s readyForSeconds";
  w.advance(1s);
  p = w.step();
  EXPECT_TRUE(p.switched);
}

TEST(PlanTest, SwitchesAsSoonAsReadyForSecondsElapseToTheMillisecond) {
  World w = stableOnBlue();
  w.setImage("shop:2.0");
  w.step();
  w.converge();
  w.now += 300ms;
  Plan p = w.step();  // healthy from now on
  ASSERT_TRUE(p.requeue_after.has_value());
  EXPECT_EQ(*p.requeue_after, 10s) << "wake exactly when readyForSeconds elapse";
  w.now += 10s;
  EXPECT_TRUE(w.step().switched) << "no extra second of rounding before the switch";
}

TEST(PlanTest, SubSecondClockNeverShortensTheScaleDownDelay) {
  World w = stableOnBlue(json{{"scaleDown", {{"delaySeconds", 30}}}});
  deployGreen(w);
  w.advance(10s);
  w.now += 900ms;
  ASSERT_TRUE(w.step().switched);
  w.now += 29s + 200ms;
  w.step();
  EXPECT_EQ(w.replicasOf("shop-blue"), 3) << "scaled down 29.2 s after the switch, delay is 30 s";
  w.advance(1s);
  w.step();
  EXPECT_EQ(w.replicasOf("shop-blue"), 0);
}

TEST(PlanTest, NeverReadyReleaseFailsAtDeadlineAndLeavesTrafficAlone) {
  World w = stableOnBlue(json{{"promotion", {{"progressDeadlineSeconds", 120}}}});
  w.setImage("shop:broken");
  w.ready_limit["green"] = 0;
  for (int i = 0; i < 130; ++i) {
    w.step();
    w.converge();
    expectMainRouteReady(w);
    w.advance(1s);
  }
  w.step();
  EXPECT_EQ(w.stage(), "Failed");
  EXPECT_EQ(w.condition("Stalled"), "True");
  EXPECT_EQ(w.condition("Ready"), "False");
  EXPECT_EQ(w.condition("Reconciling"), "False");
  EXPECT_EQ(w.mainRouteService(), "shop-blue");
  EXPECT_EQ(w.replicasOf("shop-blue"), 3);
  EXPECT_EQ(w.replicasOf("shop-green"), 3) << "the failed color is left for inspection";
  // Becoming ready later does not switch a failed release by itself.
  w.ready_limit["green"] = -1;
  w.converge();
  w.advance(60s);
  w.step();
  EXPECT_EQ(w.stage(), "Failed");
  EXPECT_EQ(w.mainRouteService(), "shop-blue");
}

TEST(PlanTest, FailedReleaseCanBePromotedExplicitly) {
  World w = stableOnBlue(json{{"promotion", {{"progressDeadlineSeconds", 30}}}});
  w.setImage("shop:slow");
  w.ready_limit["green"] = 0;
  for (int i = 0; i < 40; ++i) {
    w.step();
    w.converge();
    w.advance(1s);
  }
  ASSERT_EQ(w.stage(), "Failed");
  w.ready_limit["green"] = -1;
  w.converge();
  w.annotate(api::kAnnotationPromote, api::revisionOf(podTemplate("shop:slow")));
  w.step();
  w.advance(10s);
  w.step();
  EXPECT_EQ(w.mainRouteService(), "shop-green");
}

TEST(PlanTest, ManualPromotionWaitsForTheRequestOfThatRevision) {
  World w = stableOnBlue(json{{"promotion", {{"auto", false}}}});
  deployGreen(w);
  const std::string r2 = api::revisionOf(podTemplate("shop:2.0"));
  w.advance(11s);
  Plan p = w.step();
  EXPECT_EQ(w.stage(), "AwaitingPromotion");
  EXPECT_TRUE(hasEvent(p, "Promotable"));
  EXPECT_EQ(w.condition("PreviewReady"), "True");
  EXPECT_EQ(w.condition("Reconciling"), "True");
  EXPECT_EQ(w.mainRouteService(), "shop-blue");
  w.annotate(api::kAnnotationPromote, "0000000000");  // a stale request
  w.step();
  EXPECT_EQ(w.mainRouteService(), "shop-blue");
  w.annotate(api::kAnnotationPromote, r2);
  p = w.step();
  EXPECT_TRUE(p.switched);
  EXPECT_EQ(w.mainRouteService(), "shop-green");
}

TEST(PlanTest, MainRouteTakenBySomeoneElseIsNotGivenToAnUnpromotedRevision) {
  World w = stableOnBlue(json{{"promotion", {{"auto", false}}}});
  deployGreen(w);
  const std::string r2 = api::revisionOf(podTemplate("shop:2.0"));
  w.advance(11s);
  w.step();
  ASSERT_EQ(w.stage(), "AwaitingPromotion");
  // Someone sends the main host to a maintenance page: no color serves it now.
  w.objects()["IngressRoute/shop"]["spec"]["routes"][0]["services"] =
      json::array({{{"name", "maintenance"}, {"port", 80}}});
  Plan p = w.step();
  EXPECT_FALSE(p.switched) << "switched to a revision nobody promoted";
  EXPECT_EQ(w.mainRouteService(), "maintenance");
  EXPECT_EQ(w.stage(), "AwaitingPromotion");
  EXPECT_NE(w.release()["status"]["message"].get<std::string>().find("maintenance"), std::string::npos);
  w.converge();
  w.advance(5s);
  w.step();
  EXPECT_EQ(w.mainRouteService(), "maintenance");
  EXPECT_EQ(w.replicasOf("shop-blue"), 3);
  w.annotate(api::kAnnotationPromote, r2);
  p = w.step();
  EXPECT_TRUE(p.switched);
  EXPECT_EQ(w.mainRouteService(), "shop-green");
}

TEST(PlanTest, MainRouteTakenBySomeoneElseGoesBackToThePromotedRevision) {
  World w = stableOnBlue(json{{"promotion", {{"auto", false}}}});
  w.objects()["IngressRoute/shop"]["spec"]["routes"][0]["services"] =
      json::array({{{"name", "maintenance"}, {"port", 80}}});
  w.step();
  w.advance(10s);  // readyForSeconds: the gates apply as for a first route
  Plan p = w.step();
  EXPECT_TRUE(p.switched) << "the revision on the route before was promoted: the route is put back";
  EXPECT_EQ(w.mainRouteService(), "shop-blue");
}

TEST(PlanTest, AbortScalesPreviewToStandbyAndKeepsTraffic) {
  World w = stableOnBlue(json{{"promotion", {{"auto", false}}}});
  w.setImage("shop:2.0");
  w.step();
  w.converge();
  w.annotate(api::kAnnotationAbort, api::revisionOf(podTemplate("shop:2.0")));
  Plan p = w.step();
  EXPECT_TRUE(hasEvent(p, "Aborted"));
  EXPECT_EQ(w.stage(), "Aborted");
  EXPECT_EQ(w.condition("Stalled"), "True");
  EXPECT_EQ(w.replicasOf("shop-green"), 0);
  EXPECT_EQ(w.replicasOf("shop-blue"), 3);
  EXPECT_EQ(w.mainRouteService(), "shop-blue");
  w.converge();
  w.step();  // status catches up with the scaled-down color
  int before = w.writes;
  p = w.step();
  EXPECT_EQ(w.writes, before) << "an aborted release settles: zero writes";
}

TEST(PlanTest, RevertWhileOldColorWarmSwitchesBackAtOnce) {
  World w = switchedToGreen();
  ASSERT_EQ(w.mainRouteService(), "shop-green");
  w.step();
  w.advance(5s);
  w.setImage("shop:1.0");  // revert: blue still runs it at full size
  Plan p = w.step();
  EXPECT_TRUE(p.switched) << "a warm rollback needs no new deploy and no readyFor wait";
  EXPECT_TRUE(hasEvent(p, "RolledBack"));
  EXPECT_EQ(w.mainRouteService(), "shop-blue");
  EXPECT_EQ(w.release()["status"]["history"][0]["reason"], "Rollback");
  for (const auto& a : p.actions) {
    EXPECT_FALSE(a.kind == Action::Kind::kApply && a.name == "shop-blue" &&
                 a.body["spec"]["template"]["spec"]["containers"][0]["image"] != "shop:1.0");
  }
}

TEST(PlanTest, RevertAfterScaleDownScalesUpAndWaitsForGates) {
  World w = stableOnBlue(json{{"scaleDown", {{"delaySeconds", 5}}}});
  w.setImage("shop:2.0");
  w.settle();
  ASSERT_EQ(w.mainRouteService(), "shop-green");
  ASSERT_EQ(w.replicasOf("shop-blue"), 0);
  w.setImage("shop:1.0");
  Plan p = w.step();
  EXPECT_FALSE(p.switched);
  EXPECT_EQ(w.replicasOf("shop-blue"), 3);
  EXPECT_EQ(w.revisionOf("shop-blue"), api::revisionOf(podTemplate("shop:1.0")));
  w.converge();
  w.step();
  w.advance(10s);
  w.step();
  EXPECT_EQ(w.mainRouteService(), "shop-blue");
}

TEST(PlanTest, NewRevisionIntoTheOldColorIsNoRollbackAndWaitsForGates) {
  // After blue -> green, a third revision goes to blue. Once the operator has
  // deployed it there, blue runs the release's revision and the last switch came
  // from blue; that alone must not make it a (warm) rollback that skips readyFor.
  for (const int delay : {5, 60}) {  // blue scaled down already / still warm
    SCOPED_TRACE("delaySeconds " + std::to_string(delay));
    World w = switchedToGreen(json{{"scaleDown", {{"delaySeconds", delay}}}});
    ASSERT_EQ(w.mainRouteService(), "shop-green");
    w.advance(std::chrono::seconds(delay == 5 ? 10 : 1));
    w.step();
    w.converge();
    ASSERT_EQ(w.replicasOf("shop-blue"), delay == 5 ? 0 : 3);

    w.setImage("shop:3.0");
    const std::string r3 = api::revisionOf(podTemplate("shop:3.0"));
    Plan p = w.step();  // deploys r3 into blue
    EXPECT_FALSE(p.switched);
    ASSERT_EQ(w.revisionOf("shop-blue"), r3);
    w.converge();
    p = w.step();
    EXPECT_FALSE(p.switched) << "switched to a revision that never passed readyForSeconds";
    EXPECT_EQ(w.mainRouteService(), "shop-green");
    EXPECT_EQ(w.stage(), "Verifying");
    w.advance(10s);
    p = w.step();
    EXPECT_TRUE(p.switched);
    EXPECT_EQ(w.mainRouteService(), "shop-blue");
    EXPECT_EQ(w.release()["status"]["history"][0]["reason"], "Promoted");
    EXPECT_TRUE(hasEvent(p, "Switched"));
  }
}

TEST(PlanTest, NewerRevisionMidReleaseReplacesPreviewAndRestartsGates) {
  World w = stableOnBlue();
  deployGreen(w);
  w.advance(8s);
  w.step();
  w.setImage("shop:3.0");
  const std::string r3 = api::revisionOf(podTemplate("shop:3.0"));
  w.step();
  EXPECT_EQ(w.revisionOf("shop-green"), r3);
  EXPECT_EQ(w.mainRouteService(), "shop-blue");
  w.converge();
  w.step();
  w.advance(5s);
  w.step();
  EXPECT_EQ(w.mainRouteService(), "shop-blue") << "gates start over for the newer revision";
  w.advance(5s);
  w.step();
  EXPECT_EQ(w.mainRouteService(), "shop-green");
  EXPECT_EQ(w.release()["status"]["history"][0]["revision"], r3);
}

TEST(PlanTest, ThreeQuickImagesEndOnTheLastAndNeverRouteToUnready) {
  World w = stableOnBlue();
  for (const char* image : {"shop:2.0", "shop:3.0", "shop:4.0"}) {
    w.setImage(image);
    for (int i = 0; i < 3; ++i) {
      w.step();
      expectMainRouteReady(w);
      w.advance(1s);
    }
    w.converge();
  }
  w.settle();
  expectMainRouteReady(w);
  const std::string r4 = api::revisionOf(podTemplate("shop:4.0"));
  EXPECT_EQ(w.release()["status"]["activeRevision"], r4);
  EXPECT_EQ(w.stage(), "Stable");
}

TEST(PlanTest, InvalidSpecIsStalledAndWritesNothingButStatus) {
  json bad = releaseObject("shop:1.0");
  bad["spec"]["routing"]["host"] = "Not A Host";
  World w(bad);
  Plan p = w.step();
  EXPECT_TRUE(p.actions.empty());
  EXPECT_EQ(w.condition("Stalled"), "True");
  EXPECT_NE(w.release()["status"]["message"].get<std::string>().find("spec.routing.host"),
            std::string::npos);
  EXPECT_TRUE(hasEvent(p, "InvalidSpec"));
  p = w.step();
  EXPECT_FALSE(hasEvent(p, "InvalidSpec")) << "no event storm on every resync";
}

TEST(PlanTest, RefusedWriteIsStalledKeepsTrafficAndWritesNothingButStatus) {
  World w = stableOnBlue();
  w.setImage("shop:2.0");
  w.rejected = "deployments/shop-green: Deployment.apps \"shop-green\" is invalid: "
               "spec.template.spec.containers[0].ports[0].containerPort: Invalid value: 70000";
  Plan p = w.step();
  EXPECT_TRUE(p.actions.empty()) << "nothing is written but status";
  EXPECT_EQ(w.stage(), "Failed");
  EXPECT_EQ(w.condition("Stalled"), "True");
  EXPECT_EQ(w.condition("Ready"), "False");
  const std::string msg = w.release()["status"]["message"];
  EXPECT_NE(msg.find("containerPort"), std::string::npos) << msg;
  EXPECT_EQ(w.release()["status"]["activeColor"], "blue");
  EXPECT_TRUE(hasEvent(p, "Rejected"));
  p = w.step();
  EXPECT_FALSE(hasEvent(p, "Rejected")) << "no event storm on every resync";

  w.rejected.reset();  // a new spec: planned as usual again
  w.setImage("shop:3.0");
  p = w.step();
  EXPECT_FALSE(p.actions.empty());
  EXPECT_NE(w.stage(), "Failed");
}

TEST(PlanTest, ForeignObjectWithOurNameIsNeverTakenOver) {
  World w(releaseObject("shop:1.0"));
  w.objects()["Deployment/shop-blue"] = json{
      {"metadata", {{"name", "shop-blue"}, {"labels", {{"team", "legacy"}}}}},
      {"spec", {{"replicas", 2}}}};
  Plan p = w.step();
  EXPECT_TRUE(p.actions.empty());
  EXPECT_EQ(w.condition("Stalled"), "True");
  EXPECT_NE(w.release()["status"]["message"].get<std::string>().find("Deployment shop-blue"),
            std::string::npos);
}

TEST(PlanTest, PausedObservesOnly) {
  World w = stableOnBlue();
  w.release()["spec"]["paused"] = true;
  w.setImage("shop:2.0");
  Plan p = w.step();
  EXPECT_TRUE(p.actions.empty());
  EXPECT_EQ(w.stage(), "Paused");
  w.release()["spec"]["paused"] = false;
  p = w.step();
  EXPECT_TRUE(hasAction(p, Action::Kind::kApply, "shop-green"));
}

TEST(PlanTest, ScalingTheLiveColorKeepsTrafficAndReportsNotReady) {
  World w = stableOnBlue();
  w.release()["spec"]["replicas"] = 5;
  Plan p = w.step();
  EXPECT_EQ(w.replicasOf("shop-blue"), 5);
  EXPECT_EQ(w.condition("Ready"), "False");
  EXPECT_EQ(w.mainRouteService(), "shop-blue");
  w.converge();
  w.step();
  EXPECT_EQ(w.condition("Ready"), "True");
}

TEST(PlanTest, ExistingRouteIsSwitchedWithGuardedPatch) {
  World w = onExistingRoute("Host(`shop.example.com`)");
  w.objects()["IngressRoute/web"] = json{
      {"metadata", {{"name", "web"}, {"namespace", "prod"}, {"annotations", {{"team", "x"}}}}},
      {"spec",
       {{"entryPoints", {"websecure"}},
        {"routes",
         {{{"match", "Host(`other.example.com`)"}, {"kind", "Rule"},
           {"services", {{{"name", "other"}, {"port", 8080}}}}},
          {{"match", "Host(`shop.example.com`)"}, {"kind", "Rule"},
           {"services", {{{"name", "legacy-shop"}, {"port", 8080}, {"weight", 1}}}}}}}}}};
  const json before = w.objects()["IngressRoute/web"];
  w.step();
  w.converge();
  w.step();
  w.advance(10s);
  Plan p = w.step();
  ASSERT_TRUE(p.switched);
  const Action* patch = nullptr;
  for (const auto& a : p.actions) {
    if (a.kind == Action::Kind::kJsonPatch) patch = &a;
  }
  ASSERT_NE(patch, nullptr);
  EXPECT_EQ(patch->name, "web");
  EXPECT_EQ(patch->body[0]["op"], "test");
  EXPECT_EQ(patch->body[1]["op"], "test");
  EXPECT_EQ(patch->body[1]["value"][0]["name"], "legacy-shop");
  json after = w.objects()["IngressRoute/web"];
  EXPECT_EQ(after["spec"]["routes"][1]["services"][0]["name"], "shop-blue");
  EXPECT_EQ(after["spec"]["routes"][1]["services"][0]["weight"], 1);
  after["spec"]["routes"][1]["services"] = before["spec"]["routes"][1]["services"];
  // The same patch records the switch on the route.
  ASSERT_TRUE(traefik::readSwitchRecord(after));
  EXPECT_EQ(traefik::readSwitchRecord(after)->to, "blue");
  after["metadata"]["annotations"].erase("bluegreen.io/switch");
  EXPECT_EQ(after, before) << "everything but the named route's services and the switch record stays as it was";
  EXPECT_FALSE(w.objects().count("IngressRoute/shop")) << "no managed main route in this mode";
}

TEST(PlanTest, MissingExistingRouteIsReportedAndNothingIsDeployed) {
  World w = onExistingRoute("Host(`a.b`)");
  Plan p = w.step();
  EXPECT_TRUE(p.actions.empty()) << "no pods for a version nothing can reach";
  EXPECT_TRUE(hasEvent(p, "RouteNotFound"));
  w.converge();
  w.advance(20s);
  p = w.step();
  EXPECT_FALSE(p.switched);
  EXPECT_TRUE(p.actions.empty());
  EXPECT_FALSE(hasEvent(p, "RouteNotFound")) << "one Event, not one per reconcile";
  EXPECT_FALSE(w.objects().count("Deployment/shop-blue"));
  EXPECT_EQ(w.condition("Stalled"), "True");
  const std::string msg = w.release()["status"]["message"];
  EXPECT_NE(msg.find("spec.routing.existingIngressRoute.name"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("waiting for"), std::string::npos) << "one truth in the message: " << msg;
  for (const auto& c : w.release()["status"]["conditions"]) {
    if (c["type"] == "Ready") {
      EXPECT_EQ(c["reason"], "RouteNotFound");
    }
  }

  // The route appears: the release starts.
  w.objects()["IngressRoute/web"] = {
      {"apiVersion", "traefik.io/v1alpha1"}, {"kind", "IngressRoute"},
      {"metadata", {{"name", "web"}, {"namespace", "prod"}}},
      {"spec", {{"routes", {{{"match", "Host(`a.b`)"}, {"kind", "Rule"}, {"services", {{{"name", "legacy"}, {"port", 80}}}}}}}}}};
  w.settle();
  EXPECT_EQ(w.stage(), "Stable");
  EXPECT_EQ(w.objects()["IngressRoute/web"]["spec"]["routes"][0]["services"][0]["name"], "shop-blue");
}

TEST(PlanTest, NamedTargetPortThatNoContainerDeclaresIsInvalidBeforeAnythingIsDeployed) {
  json extra{{"service", {{"port", 80}, {"targetPort", "http"}}}};
  World w(releaseObject("shop:1.0", extra));
  Plan p = w.step();
  EXPECT_TRUE(p.actions.empty());
  EXPECT_EQ(w.condition("Stalled"), "True");
  const std::string msg = w.release()["status"]["message"];
  EXPECT_NE(msg.find("spec.service.targetPort"), std::string::npos) << msg;
  EXPECT_NE(msg.find("\"http\""), std::string::npos) << msg;
}

TEST(PlanTest, RenamingTheNamedPortMidReleaseIsRefusedAndTrafficStays) {
  auto withPort = [](const std::string& image, const std::string& port) {
    json t = podTemplate(image);
    t["spec"]["containers"][0]["ports"] = {{{"name", port}, {"containerPort", 8080}}};
    return t;
  };
  json extra{{"service", {{"port", 80}, {"targetPort", "http"}}}, {"template", withPort("shop:1.0", "http")}};
  World w(releaseObject("shop:1.0", extra));
  w.settle();
  ASSERT_EQ(w.stage(), "Stable");
  w.release()["spec"]["template"] = withPort("shop:2.0", "web");
  w.release()["metadata"]["generation"] = 2;
  Plan p = w.step();
  EXPECT_TRUE(p.actions.empty());
  EXPECT_EQ(w.stage(), "Failed");
  EXPECT_EQ(w.mainRouteService(), "shop-blue");
  EXPECT_EQ(w.replicasOf("shop-blue"), 3);
  EXPECT_EQ(w.replicasOf("shop-green"), 0);
}

TEST(PlanTest, EndpointsWithoutTheServicePortAreNotReady) {
  auto slice = [](json ports) {
    return std::make_shared<const json>(json{
        {"endpoints", {{{"addresses", {"198.18.0.5"}}, {"conditions", {{"ready", true}}}}}}, {"ports", ports}});
  };
  EXPECT_EQ(countReadyEndpoints({slice(nullptr)}), 0) << "a named targetPort no pod declares: ports null";
  EXPECT_EQ(countReadyEndpoints({slice(json::array())}), 0);
  EXPECT_EQ(countReadyEndpoints({slice({{{"name", "web"}, {"port", 8080}}})}), 0) << "another port";
  EXPECT_EQ(countReadyEndpoints({slice({{{"name", "http"}, {"port", nullptr}}})}), 0);
  EXPECT_EQ(countReadyEndpoints({slice({{{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}}})}), 1);
}

TEST(PlanTest, WaitsUntilTraefikListsThePreviewColorsServers) {
  World w = stableOnBlue();
  deployGreen(w);
  w.advance(10s);
  Observed o = w.observe();
  o.preview_servable = false;
  o.preview_servable_problem = "Traefik lists no server of shop-green for Host(`green.shop.example.com`) yet";
  Plan p = plan(o);
  EXPECT_FALSE(p.switched) << "Traefik could not serve green";
  ASSERT_TRUE(p.requeue_after);
  EXPECT_LE(*p.requeue_after, 1s);
  EXPECT_NE(p.status.message.find("Traefik lists no server"), std::string::npos) << p.status.message;
  EXPECT_FALSE(p.status.promotable_since.empty()) << "the readyFor clock keeps running";
  o.preview_servable = true;
  EXPECT_TRUE(plan(o).switched);
}

TEST(PlanTest, ASwitchWhoseStatusWriteFailedIsRecoveredFromTheRoute) {
  for (bool existing : {false, true}) {
    SCOPED_TRACE(existing ? "existing route" : "managed route");
    World w = existing ? onExistingRoute("Host(`shop.example.com`)") : World(releaseObject("shop:1.0"));
    if (existing) {
      w.objects()["IngressRoute/web"] = {
          {"apiVersion", "traefik.io/v1alpha1"}, {"kind", "IngressRoute"},
          {"metadata", {{"name", "web"}, {"namespace", "prod"}}},
          {"spec", {{"routes", {{{"match", "Host(`shop.example.com`)"}, {"kind", "Rule"}, {"services", {{{"name", "legacy"}, {"port", 80}}}}}}}}}};
    }
    w.settle();
    ASSERT_EQ(w.stage(), "Stable");
    deployGreen(w);
    w.advance(10s);
    const json status_before = w.release()["status"];
    ASSERT_TRUE(w.step().switched);
    // The route patch went through; the status write after it did not.
    w.release()["status"] = status_before;
    w.advance(1s);
    Plan p = w.step();
    EXPECT_TRUE(hasEvent(p, "SwitchRecovered"));
    EXPECT_EQ(w.replicasOf("shop-blue"), 3) << "blue stays warm for rollback after the switch";
    EXPECT_EQ(w.release()["status"]["history"][0]["to"], "green");
    EXPECT_EQ(w.release()["status"]["history"][0]["from"], "blue");
    EXPECT_EQ(w.stage(), "Draining");
    w.advance(20s);
    w.step();
    EXPECT_EQ(w.replicasOf("shop-blue"), 3) << "the warm window counts from the switch";
    w.advance(15s);
    p = w.step();
    EXPECT_FALSE(hasEvent(p, "SwitchRecovered")) << "recovered once";
    EXPECT_EQ(w.replicasOf("shop-blue"), 0);
  }
}

TEST(PlanTest, ARouteOlderThanStatusIsNoNewSwitch) {
  World w = switchedToGreen();
  // The cache still shows the route before the switch, with its older record.
  json old_route = w.objects()["IngressRoute/shop"];
  old_route["spec"]["routes"][0]["services"][0]["name"] = "shop-blue";
  old_route["metadata"]["annotations"]["bluegreen.io/switch"] = traefik::switchRecord(
      {"", "blue", w.revisionOf("shop-blue"), w.release()["status"]["history"][1]["time"], "Initial"});
  World stale = w;
  stale.objects()["IngressRoute/shop"] = old_route;
  Plan p = plan(stale.observe());
  EXPECT_FALSE(hasEvent(p, "SwitchRecovered"));
  EXPECT_EQ(p.status.history.size(), w.release()["status"]["history"].size());
}

TEST(PlanTest, RemovingMiddlewaresAndTlsFromTheSpecRemovesThemFromTheRoutes) {
  json extra{{"routing", {{"middlewares", {{{"name", "auth"}}}}, {"tls", {{"certResolver", "le"}}}}}};
  World w = stableOnBlue(extra);
  ASSERT_TRUE(w.objects()["IngressRoute/shop"]["spec"]["routes"][0].contains("middlewares"));
  ASSERT_TRUE(w.objects()["IngressRoute/shop-preview"]["spec"].contains("tls"));
  w.release()["spec"]["routing"].erase("middlewares");
  w.release()["spec"]["routing"].erase("tls");
  w.release()["metadata"]["generation"] = 2;
  Plan p = w.step();
  EXPECT_TRUE(hasAction(p, Action::Kind::kApply, "shop"));
  EXPECT_TRUE(hasAction(p, Action::Kind::kApply, "shop-preview"));
  EXPECT_FALSE(hasEvent(p, "DriftCorrected")) << "a spec change is no drift";
  for (const char* route : {"IngressRoute/shop", "IngressRoute/shop-preview"}) {
    const json& ir = w.objects()[route];
    EXPECT_FALSE(ir["spec"].contains("tls")) << route;
    for (const auto& rt : ir["spec"]["routes"]) EXPECT_FALSE(rt.contains("middlewares")) << route;
  }
  w.converge();
  EXPECT_TRUE(w.step().actions.empty()) << "settled again";
}

TEST(PlanTest, AHandEditOfAManagedRouteIsRestoredAtOnceAndReported) {
  World w = stableOnBlue();
  w.objects()["IngressRoute/shop"]["spec"]["routes"][0]["middlewares"] = {{{"name", "hand-added"}}};
  Plan p = w.step();
  EXPECT_TRUE(hasAction(p, Action::Kind::kApply, "shop"));
  ASSERT_TRUE(hasEvent(p, "DriftCorrected"));
  for (const auto& e : p.events) {
    if (e.reason == "DriftCorrected") {
      EXPECT_NE(e.message.find("IngressRoute shop"), std::string::npos) << e.message;
      EXPECT_NE(e.message.find("spec.routes[0].middlewares"), std::string::npos) << e.message;
    }
  }
  EXPECT_FALSE(w.objects()["IngressRoute/shop"]["spec"]["routes"][0].contains("middlewares"));
  p = w.step();
  EXPECT_TRUE(p.actions.empty());
  EXPECT_FALSE(hasEvent(p, "DriftCorrected"));
}

TEST(PlanTest, ASecondReleaseOnTheSameRouteAndMatchIsRefused) {
  World w = onExistingRoute("Host(`shop.example.com`)");
  w.route_claimed_by = "shop-v1";
  Plan p = w.step();
  EXPECT_TRUE(p.actions.empty());
  EXPECT_TRUE(hasEvent(p, "RouteConflict"));
  EXPECT_EQ(w.stage(), "Failed");
  EXPECT_EQ(w.condition("Stalled"), "True");
  const std::string msg = w.release()["status"]["message"];
  EXPECT_NE(msg.find("BlueGreenRelease shop-v1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("spec.routing.existingIngressRoute"), std::string::npos) << msg;
}

TEST(PlanTest, LastTransitionTimeMovesOnlyWhenStatusFlips) {
  World w = stableOnBlue();
  auto ltt = [&](const std::string& type) {
    for (const auto& c : w.release()["status"]["conditions"]) {
      if (c["type"] == type) return c["lastTransitionTime"].get<std::string>();
    }
    return std::string();
  };
  const std::string stalled = ltt("Stalled");
  const std::string ready = ltt("Ready");
  w.setImage("shop:2.0");
  w.advance(3s);
  w.step();
  EXPECT_EQ(ltt("Stalled"), stalled);
  EXPECT_NE(ltt("Ready"), ready);
  EXPECT_EQ(w.release()["status"]["observedGeneration"], 2);
}

// --- sizes and the scale subresource ---------------------------------------

// What `kubectl scale` or an autoscaler does: a new spec.replicas.
void setReplicas(World& w, int n) {
  w.release()["spec"]["replicas"] = n;
  w.release()["metadata"]["generation"] = w.release()["metadata"]["generation"].get<int>() + 1;
}

TEST(PlanTest, ScaleStatusNamesTheLiveColorsPods) {
  World w(releaseObject("shop:1.0"));
  w.step();
  EXPECT_EQ(w.release()["status"]["selector"], "bluegreen.io/release=shop,bluegreen.io/color=blue")
      << "before the first switch: the color being brought up";
  w.settle();
  EXPECT_EQ(w.release()["status"]["replicas"], 3);
  EXPECT_EQ(w.release()["status"]["selector"], "bluegreen.io/release=shop,bluegreen.io/color=blue");

  World g = switchedToGreen();
  g.settle();
  ASSERT_EQ(g.stage(), "Stable");
  EXPECT_EQ(g.release()["status"]["selector"], "bluegreen.io/release=shop,bluegreen.io/color=green");
  EXPECT_EQ(g.release()["status"]["replicas"], 3);
  EXPECT_EQ(g.replicasOf("shop-blue"), 0);
}

TEST(PlanTest, ScalingASettledReleaseResizesOnlyTheLiveColor) {
  World w = stableOnBlue();
  setReplicas(w, 6);
  Plan p = w.step();
  EXPECT_EQ(w.replicasOf("shop-blue"), 6);
  EXPECT_EQ(w.replicasOf("shop-green"), 0);
  EXPECT_EQ(w.condition("Ready"), "False");
  w.settle();
  EXPECT_EQ(w.condition("Ready"), "True");
  EXPECT_EQ(w.release()["status"]["replicas"], 6);
  setReplicas(w, 2);
  w.step();
  EXPECT_EQ(w.replicasOf("shop-blue"), 2) << "no release in flight: down at once";
  EXPECT_EQ(w.replicasOf("shop-green"), 0);
}

TEST(PlanTest, PreviewStartsAtTheLiveColorsSizeWhenTheReleaseLowersReplicas) {
  World w = stableOnBlue();
  setReplicas(w, 6);  // an autoscaler raised it
  w.settle();
  ASSERT_EQ(w.replicasOf("shop-blue"), 6);
  // A manifest applied with its own (lower) replicas and a new image in one write.
  w.setImage("shop:2.0");
  w.release()["spec"]["replicas"] = 3;
  w.step();
  EXPECT_EQ(w.replicasOf("shop-green"), 6) << "the preview starts at the live color's size";
  EXPECT_EQ(w.replicasOf("shop-blue"), 6) << "the live color never shrinks mid-release";
  w.converge();
  w.step();
  EXPECT_EQ(w.stage(), "Verifying");
  w.advance(10s);
  ASSERT_TRUE(w.step().switched);
  w.advance(1s);
  w.step();
  EXPECT_EQ(w.stage(), "Draining");
  EXPECT_EQ(w.replicasOf("shop-green"), 6) << "the switch did not lower capacity";
  EXPECT_EQ(w.replicasOf("shop-blue"), 6) << "the rollback target stays at full size";
  w.advance(30s);
  w.step();
  EXPECT_EQ(w.replicasOf("shop-green"), 3) << "after the warm window spec.replicas rules";
  EXPECT_EQ(w.replicasOf("shop-blue"), 0);
  w.converge();
  w.step();
  EXPECT_EQ(w.stage(), "Stable");
  EXPECT_EQ(w.condition("Ready"), "True");
}

TEST(PlanTest, ALiveColorScaledOutsideTheSpecMidReleaseSizesThePreview) {
  World w = stableOnBlue();
  w.setImage("shop:2.0");
  w.step();
  ASSERT_EQ(w.replicasOf("shop-green"), 3);
  // Something scaled the live Deployment itself (an autoscaler aimed at it).
  w.objects()["Deployment/shop-blue"]["spec"]["replicas"] = 5;
  w.converge();
  w.step();
  EXPECT_EQ(w.replicasOf("shop-green"), 5);
  EXPECT_EQ(w.replicasOf("shop-blue"), 5) << "kept, not restored to 3, while the release runs";
  const std::string msg = w.release()["status"]["message"];
  EXPECT_NE(msg.find("/5 ready"), std::string::npos) << msg;
}

TEST(PlanTest, ScalingUpMidReleaseGrowsBothColorsAndRestartsTheGate) {
  World w = stableOnBlue();
  deployGreen(w);
  w.advance(5s);
  setReplicas(w, 5);
  Plan p = w.step();
  EXPECT_FALSE(p.switched);
  EXPECT_EQ(w.replicasOf("shop-blue"), 5);
  EXPECT_EQ(w.replicasOf("shop-green"), 5);
  EXPECT_EQ(w.release()["status"].value("promotableSince", ""), "") << "green is not at the new size yet";
  w.converge();
  w.step();
  w.advance(9s);
  EXPECT_FALSE(w.step().switched) << "readyForSeconds counts again from the new size";
  w.advance(1s);
  EXPECT_TRUE(w.step().switched);
  EXPECT_EQ(w.mainRouteService(), "shop-green");
}

TEST(PlanTest, ScalingDownMidReleaseWaitsUntilTheWarmWindowEnds) {
  World w = stableOnBlue();
  deployGreen(w);
  setReplicas(w, 2);
  w.step();
  EXPECT_EQ(w.replicasOf("shop-blue"), 3) << "the live color does not shrink mid-release";
  EXPECT_EQ(w.replicasOf("shop-green"), 3);
  w.advance(10s);
  ASSERT_TRUE(w.step().switched);
  w.advance(1s);
  w.step();
  EXPECT_EQ(w.stage(), "Draining");
  EXPECT_EQ(w.replicasOf("shop-green"), 3);
  EXPECT_EQ(w.replicasOf("shop-blue"), 3);
  w.advance(30s);
  w.step();
  EXPECT_EQ(w.replicasOf("shop-green"), 2);
  EXPECT_EQ(w.replicasOf("shop-blue"), 0);
  w.converge();
  w.step();
  EXPECT_EQ(w.stage(), "Stable");
  EXPECT_EQ(w.condition("Ready"), "True");
  EXPECT_EQ(w.release()["status"]["replicas"], 2);
}

TEST(PlanTest, ARollbackToTheWarmColorAfterScalingUpIsStillInstant) {
  World w = switchedToGreen();
  w.advance(1s);
  setReplicas(w, 5);
  w.step();
  EXPECT_EQ(w.replicasOf("shop-green"), 5);
  EXPECT_EQ(w.replicasOf("shop-blue"), 5) << "the rollback target follows the live color up";
  w.converge();
  w.setImage("shop:1.0");
  EXPECT_TRUE(w.step().switched) << "blue is warm at the release's size";
  EXPECT_EQ(w.mainRouteService(), "shop-blue");
}

// --- PodDisruptionBudgets ----------------------------------------------------

bool hasBudgetAction(const Plan& p, Action::Kind kind, const std::string& name) {
  for (const auto& a : p.actions) {
    if (a.kind == kind && a.name == name && a.gvr.resource == "poddisruptionbudgets") return true;
  }
  return false;
}

TEST(PlanTest, PodDisruptionBudgetPerColorFollowsTheSpec) {
  World w = stableOnBlue(json{{"podDisruptionBudget", {{"minAvailable", 2}}}});
  for (const char* color : {"blue", "green"}) {
    const json& b = w.objects()[std::string("PodDisruptionBudget/shop-") + color];
    ASSERT_TRUE(b.is_object()) << color;
    EXPECT_EQ(b["apiVersion"], "policy/v1");
    EXPECT_TRUE(ownedBy(b, "uid-1")) << color;
    EXPECT_EQ(b["spec"]["selector"]["matchLabels"]["bluegreen.io/color"], color);
    EXPECT_EQ(b["spec"]["selector"]["matchLabels"]["bluegreen.io/release"], "shop");
    EXPECT_EQ(b["spec"]["minAvailable"], 2);
    EXPECT_FALSE(b["spec"].contains("maxUnavailable"));
    EXPECT_EQ(b["spec"]["unhealthyPodEvictionPolicy"], "AlwaysAllow");
  }
  w.advance(5s);
  int before = w.writes;
  EXPECT_TRUE(w.step().actions.empty());
  EXPECT_EQ(w.writes, before) << "settled with budgets: zero writes";

  w.release()["spec"]["podDisruptionBudget"] = {{"maxUnavailable", "50%"}};
  Plan p = w.step();
  EXPECT_TRUE(hasBudgetAction(p, Action::Kind::kApply, "shop-blue"));
  EXPECT_TRUE(hasBudgetAction(p, Action::Kind::kApply, "shop-green"));
  EXPECT_EQ(w.objects()["PodDisruptionBudget/shop-blue"]["spec"]["maxUnavailable"], "50%");
  EXPECT_FALSE(w.objects()["PodDisruptionBudget/shop-blue"]["spec"].contains("minAvailable"));

  w.release()["spec"].erase("podDisruptionBudget");
  p = w.step();
  EXPECT_TRUE(hasBudgetAction(p, Action::Kind::kDelete, "shop-blue"));
  EXPECT_TRUE(hasBudgetAction(p, Action::Kind::kDelete, "shop-green"));
  EXPECT_EQ(w.objects().count("PodDisruptionBudget/shop-blue"), 0u);
  EXPECT_EQ(w.objects().count("PodDisruptionBudget/shop-green"), 0u);
  EXPECT_TRUE(w.step().actions.empty());
  EXPECT_EQ(w.stage(), "Stable");
}

TEST(PlanTest, APodDisruptionBudgetWithOurNameThatIsNotOursIsNeverTakenOver) {
  World w(releaseObject("shop:1.0", json{{"podDisruptionBudget", {{"maxUnavailable", 1}}}}));
  w.objects()["PodDisruptionBudget/shop-green"] =
      json{{"metadata", {{"name", "shop-green"}, {"namespace", "prod"}}}, {"spec", {{"minAvailable", 9}}}};
  Plan p = w.step();
  EXPECT_TRUE(p.actions.empty());
  EXPECT_EQ(w.stage(), "Failed");
  EXPECT_EQ(w.condition("Stalled"), "True");
  const std::string msg = w.release()["status"]["message"];
  EXPECT_NE(msg.find("PodDisruptionBudget shop-green"), std::string::npos) << msg;
  // Without a budget in the spec, that object is none of the release's business.
  w.release()["spec"].erase("podDisruptionBudget");
  w.settle();
  EXPECT_EQ(w.stage(), "Stable");
  EXPECT_EQ(w.objects()["PodDisruptionBudget/shop-green"]["spec"]["minAvailable"], 9);
}

}  // namespace
}  // namespace bgo::bluegreen
