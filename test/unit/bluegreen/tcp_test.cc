// spec.routing.tcp: codec, the IngressRouteTCP builder and patch, and the
// planner's database route (follow, pinned, gates, blockers, drain).
#include <gtest/gtest.h>

#include "operator/api/v1alpha1/codec.h"
#include "operator/bluegreen/tcp_plan.h"
#include "operator/traffic/traefik/ingress_route_tcp.h"
#include "unit/bluegreen/world.h"

namespace bgo::bluegreen {
namespace {

using testworld::releaseObject;
using testworld::World;
using namespace std::chrono_literals;

json tcpSpec(json extra = json::object()) {
  json tcp{{"entryPoints", {"postgres"}},
           {"blue", {{"service", "db-blue"}, {"port", 5432}}},
           {"green", {{"service", "db-green"}, {"port", 5432}}}};
  tcp.merge_patch(extra);
  return json{{"routing", {{"tcp", tcp}}}};
}

World tcpWorld(json extra = json::object()) {
  World w(releaseObject("shop:1.0", tcpSpec(std::move(extra))));
  w.addDatabase("db-blue");
  w.addDatabase("db-green");
  return w;
}

std::vector<std::string> errorFields(const json& release) {
  std::vector<std::string> out;
  auto parsed = api::parseRelease(release);
  if (!parsed) return {"not a release: " + parsed.error().message};
  for (const auto& e : parsed->errors) out.push_back(e.field + ": " + e.message);
  return out;
}

bool hasEvent(const Plan& p, const std::string& reason) {
  for (const auto& e : p.events) {
    if (e.reason == reason) return true;
  }
  return false;
}
const PlannedEvent* event(const Plan& p, const std::string& reason) {
  for (const auto& e : p.events) {
    if (e.reason == reason) return &e;
  }
  return nullptr;
}
int indexOf(const Plan& p, const std::string& resource) {
  for (std::size_t i = 0; i < p.actions.size(); ++i) {
    if (p.actions[i].gvr.resource == resource) return static_cast<int>(i);
  }
  return -1;
}

// --- codec ----------------------------------------------------------------------------------------

TEST(TcpCodecTest, ParsesFollowByDefault) {
  auto parsed = api::parseRelease(releaseObject("shop:1.0", tcpSpec({{"drainSeconds", 20}}))).value();
  ASSERT_TRUE(parsed.errors.empty()) << parsed.errorSummary();
  ASSERT_TRUE(parsed.release.spec.tcp);
  const api::TcpRoute& t = *parsed.release.spec.tcp;
  EXPECT_EQ(t.entry_points, std::vector<std::string>{"postgres"});
  EXPECT_EQ(t.green.service, "db-green");
  EXPECT_EQ(t.green.port, 5432);
  EXPECT_FALSE(t.pinned);
  EXPECT_EQ(t.drain_seconds, 20);
  EXPECT_TRUE(t.existing.empty());
}

TEST(TcpCodecTest, NamesTheFieldOfEachBadInput) {
  auto has = [](const std::vector<std::string>& errs, const std::string& prefix) {
    for (const auto& e : errs) {
      if (e.rfind(prefix, 0) == 0) return true;
    }
    return false;
  };
  auto errs = errorFields(releaseObject("shop:1.0", tcpSpec({{"entryPoints", json::array()}})));
  EXPECT_TRUE(has(errs, "spec.routing.tcp.entryPoints: must name at least one entry point"));
  errs = errorFields(releaseObject("shop:1.0", tcpSpec({{"green", {{"port", 70000}}}})));
  EXPECT_TRUE(has(errs, "spec.routing.tcp.green.port: must be between 1 and 65535, got 70000"));
  errs = errorFields(releaseObject("shop:1.0", tcpSpec({{"blue", {{"port", 0}}}})));
  EXPECT_TRUE(has(errs, "spec.routing.tcp.blue.port"));
  errs = errorFields(releaseObject("shop:1.0", tcpSpec({{"follow", "Active"}, {"pinned", "blue"}})));
  EXPECT_TRUE(has(errs, "spec.routing.tcp: set at most one of spec.routing.tcp.follow and spec.routing.tcp.pinned"));
  errs = errorFields(releaseObject("shop:1.0", tcpSpec({{"pinned", "red"}})));
  EXPECT_TRUE(has(errs, "spec.routing.tcp.pinned: must be blue or green"));
  errs = errorFields(releaseObject("shop:1.0", tcpSpec({{"green", nullptr}})));
  EXPECT_TRUE(has(errs, "spec.routing.tcp.green: is required"));
  errs = errorFields(releaseObject("shop:1.0", tcpSpec({{"blue", {{"service", ""}}}})));
  EXPECT_TRUE(has(errs, "spec.routing.tcp.blue.service: is required"));
  errs = errorFields(releaseObject("shop:1.0", tcpSpec({{"drainSeconds", -1}})));
  EXPECT_TRUE(has(errs, "spec.routing.tcp.drainSeconds"));
}

TEST(TcpCodecTest, StatusRoundTrips) {
  api::Status s;
  s.tcp_route = api::TcpRouteStatus{"shop-tcp", "green", "db-green:5432", "2027-01-15T08:00:00.000Z"};
  json j = api::statusToJson(s);
  EXPECT_EQ(j["tcpRoute"]["backend"], "db-green:5432");
  EXPECT_EQ(api::parseStatus(j).tcp_route, s.tcp_route);
  EXPECT_FALSE(api::statusToJson(api::Status{}).contains("tcpRoute"));
}

// --- IngressRouteTCP ------------------------------------------------------------------------------

api::Release release(json extra = json::object()) {
  return api::parseRelease(releaseObject("shop:1.0", tcpSpec(std::move(extra)))).value().release;
}

TEST(IngressRouteTcpTest, ManagedRouteHasOneServiceAndMatchesEverything) {
  api::Release r = release();
  json obj = traefik::managedTcpRoute(r, api::Color::kGreen, json::object());
  EXPECT_EQ(obj["kind"], "IngressRouteTCP");
  EXPECT_EQ(obj["metadata"]["name"], "shop-tcp");
  EXPECT_EQ(obj["spec"]["entryPoints"], json({"postgres"}));
  ASSERT_EQ(obj["spec"]["routes"].size(), 1u);
  EXPECT_EQ(obj["spec"]["routes"][0]["match"], "HostSNI(`*`)");
  EXPECT_EQ(obj["spec"]["routes"][0]["services"], json::parse(R"J([{"name":"db-green","port":5432}])J"));
  auto t = traefik::readTcpTarget(obj, r, std::nullopt);
  EXPECT_EQ(t.color, api::Color::kGreen);
  EXPECT_EQ(t.description, "db-green:5432");
}

TEST(IngressRouteTcpTest, ReadsNoColorForTwoServicesOrAnotherPort) {
  api::Release r = release();
  json obj = traefik::managedTcpRoute(r, api::Color::kBlue, json::object());
  obj["spec"]["routes"][0]["services"].push_back({{"name", "db-green"}, {"port", 5432}});
  auto t = traefik::readTcpTarget(obj, r, std::nullopt);
  EXPECT_FALSE(t.color);
  EXPECT_EQ(t.description, "db-blue:5432 + db-green:5432");
  obj["spec"]["routes"][0]["services"] = json::parse(R"J([{"name":"db-blue","port":6432}])J");
  EXPECT_FALSE(traefik::readTcpTarget(obj, r, std::nullopt).color);
  obj["spec"]["routes"][0]["services"] = json::parse(R"J([{"name":"db-blue","port":5432,"namespace":"other"}])J");
  EXPECT_FALSE(traefik::readTcpTarget(obj, r, std::nullopt).color);
}

TEST(IngressRouteTcpTest, SwitchPatchTestsWhatItReplacesAndKeepsOtherFields) {
  api::Release r = release({{"existingIngressRouteTCP", "db"}});
  json route = json::parse(R"J({"metadata":{"name":"db"},"spec":{"entryPoints":["pg"],"routes":[
    {"match":"HostSNI(`a.example`)","services":[{"name":"x","port":1}]},
    {"match":"HostSNI(`*`)","services":[{"name":"db-blue","port":5432,"terminationDelay":500,"weight":3}]}]}})J");
  auto ops = traefik::tcpSwitchPatch(route, r, api::Color::kGreen);
  ASSERT_TRUE(ops);
  EXPECT_EQ((*ops)[0], json::parse(R"J({"op":"test","path":"/spec/routes/1/match","value":"HostSNI(`*`)"})J"));
  EXPECT_EQ((*ops)[1]["op"], "test");
  EXPECT_EQ((*ops)[1]["value"], route["spec"]["routes"][1]["services"]);
  EXPECT_EQ((*ops)[2]["op"], "replace");
  EXPECT_EQ((*ops)[2]["value"], json::parse(R"J([{"name":"db-green","port":5432,"terminationDelay":500}])J"));
  json patched = route.patch(*ops);
  EXPECT_EQ(traefik::readTcpTarget(patched, r, std::nullopt).color, api::Color::kGreen);
  EXPECT_EQ(patched["spec"]["routes"][0], route["spec"]["routes"][0]);
  // Someone changed the services meanwhile: the test op fails, nothing is overwritten.
  json edited = route;
  edited["spec"]["routes"][1]["services"][0]["name"] = "legacy";
  EXPECT_THROW((void)edited.patch(*ops), nlohmann::json::exception);
  json no_catch_all = json::parse(R"J({"spec":{"routes":[{"match":"HostSNI(`a`)","services":[]}]}})J");
  EXPECT_FALSE(traefik::tcpSwitchPatch(no_catch_all, r, api::Color::kGreen));
}

// --- planner --------------------------------------------------------------------------------------

TEST(TcpPlanTest, CreatesTheRouteOnBlueAfterTheMainRoute) {
  World w = tcpWorld();
  Plan first_route;
  for (int i = 0; i < 50 && first_route.actions.empty(); ++i) {
    Plan p = w.step();
    if (p.switched) first_route = p;
    w.converge();
    w.advance(1s);
  }
  ASSERT_TRUE(first_route.switched);
  const int http = indexOf(first_route, "ingressroutes"), tcp = indexOf(first_route, "ingressroutetcps");
  ASSERT_GE(http, 0);
  ASSERT_GE(tcp, 0);
  EXPECT_LT(http, tcp) << "the database route is written after the main route";
  EXPECT_EQ(w.tcpRouteService(), "db-blue");
  EXPECT_TRUE(hasEvent(first_route, "DatabaseRouteMoved"));
  w.settle();
  EXPECT_EQ(w.stage(), "Stable");
  EXPECT_EQ(w.release()["status"]["tcpRoute"]["color"], "blue");
  EXPECT_EQ(w.release()["status"]["tcpRoute"]["backend"], "db-blue:5432");
  EXPECT_EQ(w.release()["status"]["tcpRoute"]["name"], "shop-tcp");
  const int writes = w.writes;
  EXPECT_TRUE(w.step().actions.empty());
  EXPECT_EQ(w.writes, writes) << "reconcile again: zero writes";
}

TEST(TcpPlanTest, FollowsTheSwitchInTheSamePlanAndBackOnRollback) {
  World w = tcpWorld();
  w.settle();
  w.setImage("shop:2.0");
  w.step();
  w.converge();
  w.step();
  w.advance(10s);
  Plan sw = w.step();
  ASSERT_TRUE(sw.switched);
  EXPECT_LT(indexOf(sw, "ingressroutes"), indexOf(sw, "ingressroutetcps"));
  EXPECT_EQ(w.mainRouteService(), "shop-green");
  EXPECT_EQ(w.tcpRouteService(), "db-green");
  const PlannedEvent* e = event(sw, "DatabaseRouteMoved");
  ASSERT_NE(e, nullptr);
  EXPECT_NE(e->message.find("from db-blue:5432 to db-green:5432"), std::string::npos) << e->message;
  EXPECT_NE(e->message.find("established connections stay on db-blue:5432"), std::string::npos) << e->message;
  EXPECT_EQ(w.release()["status"]["tcpRoute"]["color"], "green");
  EXPECT_FALSE(w.release()["status"]["tcpRoute"].value("lastMoveTime", "").empty());
  // The cache still shows the route before our write: written again, but no second event.
  w.objects()["IngressRouteTCP/shop-tcp"]["spec"]["routes"][0]["services"][0]["name"] = "db-blue";
  Plan again = w.step();
  EXPECT_FALSE(hasEvent(again, "DatabaseRouteMoved"));
  EXPECT_EQ(w.tcpRouteService(), "db-green");
  // Rollback while blue is warm: both routes go back in one plan.
  w.converge();
  w.advance(2s);
  w.step();
  w.setImage("shop:1.0");
  Plan back = w.step();
  ASSERT_TRUE(back.switched);
  EXPECT_EQ(w.mainRouteService(), "shop-blue");
  EXPECT_EQ(w.tcpRouteService(), "db-blue");
  EXPECT_TRUE(hasEvent(back, "DatabaseRouteMoved"));
}

TEST(TcpPlanTest, PinnedStaysThroughSwitches) {
  World w = tcpWorld({{"pinned", "green"}});
  w.settle();
  EXPECT_EQ(w.mainRouteService(), "shop-blue");
  EXPECT_EQ(w.tcpRouteService(), "db-green");
  w.setImage("shop:2.0");
  w.settle();
  EXPECT_EQ(w.mainRouteService(), "shop-green");
  EXPECT_EQ(w.tcpRouteService(), "db-green");
  w.setImage("shop:3.0");
  w.settle();
  EXPECT_EQ(w.mainRouteService(), "shop-blue");
  EXPECT_EQ(w.tcpRouteService(), "db-green");
}

TEST(TcpPlanTest, PinnedNeedsOnlyItsOwnDatabase) {
  World w(releaseObject("shop:1.0", tcpSpec({{"pinned", "blue"}})));
  w.addDatabase("db-blue");
  w.settle();
  EXPECT_EQ(w.stage(), "Stable");
  EXPECT_EQ(w.tcpRouteService(), "db-blue");
}

TEST(TcpPlanTest, UnreadyDatabaseHoldsTheHttpSwitchTooAndNamesIt) {
  World w = tcpWorld();
  w.settle();
  w.db_endpoints["db-green"] = 0;
  w.setImage("shop:2.0");
  for (int i = 0; i < 30; ++i) {
    Plan p = w.step();
    EXPECT_FALSE(p.switched);
    EXPECT_EQ(indexOf(p, "ingressroutetcps"), -1);
    w.converge();
    w.advance(1s);
  }
  EXPECT_EQ(w.mainRouteService(), "shop-blue");
  EXPECT_EQ(w.tcpRouteService(), "db-blue");
  const std::string msg = w.release()["status"]["message"];
  EXPECT_NE(msg.find("database Service db-green (spec.routing.tcp.green.service) is not ready: Service db-green has "
                     "no ready endpoints"),
            std::string::npos)
      << msg;
  Plan held = w.step();
  ASSERT_TRUE(held.requeue_after);
  EXPECT_LE(*held.requeue_after, 2000ms) << "database Services are not watched: the gate looks again";
  w.db_endpoints["db-green"] = 1;
  Plan sw = w.step();
  EXPECT_TRUE(sw.switched);
  EXPECT_EQ(w.mainRouteService(), "shop-green");
  EXPECT_EQ(w.tcpRouteService(), "db-green");
}

TEST(TcpPlanTest, DatabaseWithoutTheBackendPortIsNotReady) {
  World w = tcpWorld({{"green", {{"port", 6432}}}});
  w.settle();
  w.setImage("shop:2.0");
  w.settle(1s, 30);
  EXPECT_EQ(w.mainRouteService(), "shop-blue");
  EXPECT_NE(w.release()["status"]["message"].get<std::string>().find("Service db-green has no port 6432"),
            std::string::npos);
}

TEST(TcpPlanTest, ExternalNameDatabaseIsTrusted) {
  World w(releaseObject("shop:1.0", tcpSpec()));
  w.addDatabase("db-blue");
  w.addDatabase("db-green", 5432, /*external=*/true);
  w.db_endpoints["db-green"] = 0;  // an ExternalName Service never has endpoints
  w.settle();
  w.setImage("shop:2.0");
  w.settle();
  EXPECT_EQ(w.mainRouteService(), "shop-green");
  EXPECT_EQ(w.tcpRouteService(), "db-green");
}

TEST(TcpPlanTest, MissingBackendServiceStallsWithTheFieldAndWritesNothing) {
  World w = tcpWorld();
  w.settle();
  w.objects().erase("Service/db-green");
  w.setImage("shop:2.0");
  const auto before = w.objects();
  Plan p = w.step();
  EXPECT_TRUE(p.actions.empty());
  EXPECT_FALSE(p.switched);
  EXPECT_EQ(w.objects(), before);
  EXPECT_EQ(w.condition("Stalled"), "True");
  EXPECT_EQ(w.condition("Ready"), "False");
  const std::string msg = w.release()["status"]["message"];
  EXPECT_EQ(msg.rfind("spec.routing.tcp.green.service: Service db-green not found in namespace prod", 0), 0u) << msg;
  EXPECT_TRUE(hasEvent(p, "BackendNotFound"));
  ASSERT_TRUE(p.requeue_after);
  EXPECT_FALSE(hasEvent(w.step(), "BackendNotFound")) << "one Warning Event, not one per reconcile";
  w.addDatabase("db-green");
  w.settle();
  EXPECT_EQ(w.mainRouteService(), "shop-green");
  EXPECT_EQ(w.tcpRouteService(), "db-green");
  EXPECT_EQ(w.condition("Stalled"), "False");
}

TEST(TcpPlanTest, ForeignObjectWithTheRouteNameIsANameConflict) {
  World w = tcpWorld();
  w.objects()["IngressRouteTCP/shop-tcp"] = {{"kind", "IngressRouteTCP"},
                                             {"metadata", {{"name", "shop-tcp"}}},
                                             {"spec", {{"routes", json::array()}}}};
  Plan p = w.step();
  EXPECT_TRUE(p.actions.empty());
  EXPECT_EQ(w.condition("Stalled"), "True");
  EXPECT_NE(w.release()["status"]["message"].get<std::string>().find("IngressRouteTCP shop-tcp exists but is not owned"),
            std::string::npos);
}

TEST(TcpPlanTest, PatchesAnExistingIngressRouteTcpAndNeedsItToExist) {
  World w = tcpWorld({{"existingIngressRouteTCP", "db"}});
  Plan p = w.step();
  EXPECT_TRUE(p.actions.empty());
  EXPECT_EQ(w.release()["status"]["message"].get<std::string>().rfind(
                "spec.routing.tcp.existingIngressRouteTCP: IngressRouteTCP db not found", 0),
            0u);
  w.objects()["IngressRouteTCP/db"] = json::parse(R"J({"kind":"IngressRouteTCP","metadata":{"name":"db"},
    "spec":{"entryPoints":["pg"],"routes":[{"match":"HostSNI(`*`)","services":[{"name":"legacy-db","port":5432}]}]}})J");
  w.settle();
  EXPECT_EQ(w.tcpRouteService("db"), "db-blue");
  EXPECT_FALSE(w.objects().count("IngressRouteTCP/shop-tcp"));
  EXPECT_EQ(w.objects()["IngressRouteTCP/db"]["spec"]["entryPoints"], json({"pg"})) << "only services are patched";
  w.setImage("shop:2.0");
  w.settle();
  EXPECT_EQ(w.tcpRouteService("db"), "db-green");
  const int writes = w.writes;
  EXPECT_TRUE(w.step().actions.empty());
  EXPECT_EQ(w.writes, writes);
}

TEST(TcpPlanTest, WorksWithAnExistingHttpRouteToo) {
  json extra = tcpSpec({{"existingIngressRouteTCP", "db"}});
  extra["routing"]["host"] = nullptr;
  extra["routing"]["existingIngressRoute"] = {{"name", "web"}, {"match", "Host(`shop.example.com`)"}};
  World w(releaseObject("shop:1.0", extra));
  w.addDatabase("db-blue");
  w.addDatabase("db-green");
  w.objects()["IngressRoute/web"] = json::parse(R"J({"kind":"IngressRoute","metadata":{"name":"web"},
    "spec":{"routes":[{"match":"Host(`shop.example.com`)","services":[{"name":"legacy","port":80}]}]}})J");
  w.objects()["IngressRouteTCP/db"] = json::parse(R"J({"kind":"IngressRouteTCP","metadata":{"name":"db"},
    "spec":{"routes":[{"match":"HostSNI(`*`)","services":[{"name":"legacy-db","port":5432}]}]}})J");
  w.settle();
  EXPECT_EQ(w.objects()["IngressRoute/web"]["spec"]["routes"][0]["services"][0]["name"], "shop-blue");
  EXPECT_EQ(w.tcpRouteService("db"), "db-blue");
  w.setImage("shop:2.0");
  w.settle();
  EXPECT_EQ(w.objects()["IngressRoute/web"]["spec"]["routes"][0]["services"][0]["name"], "shop-green");
  EXPECT_EQ(w.tcpRouteService("db"), "db-green");
}

TEST(TcpPlanTest, DrainSecondsKeepsTheOldColorWarmLonger) {
  World w = tcpWorld({{"drainSeconds", 20}});
  w.settle();
  w.setImage("shop:2.0");
  w.step();
  w.converge();
  w.step();
  w.advance(10s);
  ASSERT_TRUE(w.step().switched);
  w.converge();
  w.step();  // confirmed (margin 0): scale-down clock set
  const auto confirmed = core::parseRfc3339(w.release()["status"]["trafficConfirmedTime"]);
  const auto at = core::parseRfc3339(w.release()["status"]["scaleDownAt"]);
  ASSERT_TRUE(confirmed && at);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(*at - *confirmed).count(), 30 + 20);
  w.advance(31s);
  w.step();
  EXPECT_EQ(w.replicasOf("shop-blue"), 3) << "delaySeconds passed, drainSeconds not yet";
  w.advance(20s);
  w.step();
  EXPECT_EQ(w.replicasOf("shop-blue"), 0);
}

TEST(TcpPlanTest, PinnedRouteIgnoresDrainSeconds) {
  api::Spec s;
  s.tcp = api::TcpRoute{};
  s.tcp->drain_seconds = 20;
  EXPECT_EQ(tcp::drainSeconds(s), 20);
  s.tcp->pinned = api::Color::kBlue;
  EXPECT_EQ(tcp::drainSeconds(s), 0);
  EXPECT_EQ(tcp::drainSeconds(api::Spec{}), 0);
}

TEST(TcpPlanTest, HandEditedRouteIsRestoredWithDriftEvent) {
  World w = tcpWorld();
  w.settle();
  w.objects()["IngressRouteTCP/shop-tcp"]["spec"]["entryPoints"] = json({"web"});
  Plan p = w.step();
  EXPECT_TRUE(hasEvent(p, "DriftCorrected"));
  EXPECT_EQ(w.objects()["IngressRouteTCP/shop-tcp"]["spec"]["entryPoints"], json({"postgres"}));
}

// spec.routing.tcp added to a settled release whose live color's database is
// not ready: the route is not created, and the release does not claim Ready.
TEST(TcpPlanTest, RouteAddedWhileTheLiveDatabaseIsUnreadyWaitsAndIsNotReady) {
  World w(releaseObject("shop:1.0"));
  w.settle();
  ASSERT_EQ(w.condition("Ready"), "True");
  w.addDatabase("db-blue");
  w.addDatabase("db-green");
  w.db_endpoints["db-blue"] = 0;
  w.release()["spec"].merge_patch(tcpSpec());
  Plan p = w.step();
  EXPECT_EQ(indexOf(p, "ingressroutetcps"), -1);
  EXPECT_EQ(w.tcpRouteService(), "");
  EXPECT_EQ(w.condition("Ready"), "False");
  EXPECT_NE(w.release()["status"]["message"].get<std::string>().find(
                "database route shop-tcp waits for Service db-blue (spec.routing.tcp.blue.service)"),
            std::string::npos)
      << w.release()["status"]["message"];
  ASSERT_TRUE(p.requeue_after);
  w.db_endpoints["db-blue"] = 1;
  w.settle();
  EXPECT_EQ(w.tcpRouteService(), "db-blue");
  EXPECT_EQ(w.condition("Ready"), "True");
}

TEST(TcpPlanTest, RemovingTheTcpSpecDeletesTheOwnedRoute) {
  World w = tcpWorld();
  w.settle();
  ASSERT_EQ(w.tcpRouteService(), "db-blue");
  w.objects()["IngressRouteTCP/shop-tcp"]["metadata"]["uid"] = "uid-tcp";
  w.editSpec([](json& spec) { spec["routing"].erase("tcp"); });
  Plan p = w.step();
  const int i = indexOf(p, "ingressroutetcps");
  ASSERT_GE(i, 0);
  EXPECT_EQ(p.actions[i].kind, Action::Kind::kDelete);
  EXPECT_EQ(p.actions[i].name, "shop-tcp");
  EXPECT_EQ(p.actions[i].body.value("uid", ""), "uid-tcp") << "deleted only as the object that was read";
  const PlannedEvent* e = event(p, "DatabaseRouteRemoved");
  ASSERT_NE(e, nullptr);
  EXPECT_NE(e->message.find("spec.routing.tcp was removed"), std::string::npos) << e->message;
  w.converge();
  w.settle();
  EXPECT_FALSE(w.objects().count("IngressRouteTCP/shop-tcp"));
  EXPECT_FALSE(w.release()["status"].contains("tcpRoute"));
  EXPECT_EQ(w.stage(), "Stable");
  const int writes = w.writes;
  EXPECT_TRUE(w.step().actions.empty());
  EXPECT_EQ(w.writes, writes);
}

TEST(TcpPlanTest, NamingAnExistingRouteDeletesTheOwnedOneAndKeepsTheUsers) {
  World w = tcpWorld();
  w.settle();
  ASSERT_EQ(w.tcpRouteService(), "db-blue");
  w.objects()["IngressRouteTCP/db"] = json::parse(R"J({"kind":"IngressRouteTCP","metadata":{"name":"db"},
    "spec":{"entryPoints":["pg"],"routes":[{"match":"HostSNI(`*`)","services":[{"name":"legacy-db","port":5432}]}]}})J");
  w.editSpec([](json& spec) { spec["routing"]["tcp"]["existingIngressRouteTCP"] = "db"; });
  w.settle();
  EXPECT_FALSE(w.objects().count("IngressRouteTCP/shop-tcp")) << "two routes for one HostSNI would both route";
  EXPECT_EQ(w.tcpRouteService("db"), "db-blue");
  // Back to no database route: the user's route is left as it is.
  w.editSpec([](json& spec) { spec["routing"].erase("tcp"); });
  w.settle();
  EXPECT_TRUE(w.objects().count("IngressRouteTCP/db"));
}

TEST(TcpPlanTest, AForeignRouteWithTheOwnedNameIsNeverDeleted) {
  World w(releaseObject("shop:1.0"));
  w.objects()["IngressRouteTCP/shop-tcp"] = json::parse(R"J({"kind":"IngressRouteTCP","metadata":{"name":"shop-tcp"},
    "spec":{"routes":[{"match":"HostSNI(`*`)","services":[{"name":"theirs","port":5432}]}]}})J");
  w.settle();
  EXPECT_TRUE(w.objects().count("IngressRouteTCP/shop-tcp"));
}

TEST(TcpPlanTest, NoTcpSpecMeansNoTcpRouteAndNoStatus) {
  World w(releaseObject("shop:1.0"));
  w.settle();
  for (const auto& [k, _] : w.objects()) EXPECT_EQ(k.rfind("IngressRouteTCP/", 0), std::string::npos) << k;
  EXPECT_FALSE(w.release()["status"].contains("tcpRoute"));
}

}  // namespace
}  // namespace bgo::bluegreen
