// spec.routing.tcp on the real plane: the IngressRouteTCP follows the main
// route through a switch and a rollback, stays when pinned, patches a user's
// route, never names a database without ready endpoints, and a missing
// database Service stalls the release with the field named.
#include <thread>

#include "integration/operator/operator_fixture.h"

namespace bgo::itest {
namespace {

using core::gvrs::kEndpointSlices;
using core::gvrs::kIngressRouteTcps;
using core::gvrs::kServices;

class TcpRouteTest : public OperatorTest {
 protected:
  // A database Service as a team would run it outside the colors: no
  // selector, its EndpointSlice written by the test (ready or not).
  void database(const std::string& name, bool ready) {
    json svc{{"apiVersion", "v1"},
             {"kind", "Service"},
             {"metadata", {{"name", name}, {"namespace", ns_}}},
             {"spec", {{"ports", json::array({{{"name", "pg"}, {"port", 5432}, {"protocol", "TCP"}}})}}}};
    auto r = client_->create(kServices, ns_, svc);
    ASSERT_TRUE(r) << r.error().describe();
    setDatabaseReady(name, ready);
  }
  void setDatabaseReady(const std::string& name, bool ready) {
    json slice{{"apiVersion", "discovery.k8s.io/v1"},
               {"kind", "EndpointSlice"},
               {"metadata",
                {{"name", name + "-manual"},
                 {"namespace", ns_},
                 {"labels",
                  {{"kubernetes.io/service-name", name}, {"endpointslice.kubernetes.io/managed-by", "bgo-tests"}}}}},
               {"addressType", "IPv4"},
               {"ports", json::array({{{"name", "pg"}, {"port", 5432}, {"protocol", "TCP"}}})},
               {"endpoints", json::array({{{"addresses", json::array({"198.18.9.1"})},
                                           {"conditions", {{"ready", ready}}}}})}};
    if (get(kEndpointSlices, name + "-manual").is_object()) {
      mergePatch(kEndpointSlices, name + "-manual", {{"endpoints", slice["endpoints"]}});
    } else {
      auto r = client_->create(kEndpointSlices, ns_, slice);
      ASSERT_TRUE(r) << r.error().describe();
    }
  }
  json tcpSpec(json extra = json::object()) const {
    json tcp{{"entryPoints", {"postgres"}},
             {"blue", {{"service", "db-blue"}, {"port", 5432}}},
             {"green", {{"service", "db-green"}, {"port", 5432}}}};
    tcp.merge_patch(extra);
    return json{{"routing", {{"tcp", tcp}}}, {"scaleDown", {{"delaySeconds", 120}}}};
  }
  // The service of the HostSNI(`*`) route of IngressRouteTCP `route` ("" if none).
  std::string tcpService(const std::string& route = "") {
    const json obj = get(kIngressRouteTcps, route.empty() ? name_ + "-tcp" : route);
    if (!obj.is_object()) return "";
    for (const auto& rt : obj["spec"].value("routes", json::array())) {
      if (rt.value("match", "") != "HostSNI(`*`)") continue;
      const json& s = rt.value("services", json::array());
      return s.size() == 1 ? s[0].value("name", "") : "(" + std::to_string(s.size()) + " services)";
    }
    return "";
  }
};

TEST_F(TcpRouteTest, OwnedRouteFollowsTheSwitchAndTheRollback) {
  database("db-blue", true);
  database("db-green", true);
  startOperator();
  createRelease(kImage1, tcpSpec());
  ASSERT_TRUE(waitStable(60s));
  EXPECT_EQ(tcpService(), "db-blue");
  const json route = get(kIngressRouteTcps, name_ + "-tcp");
  EXPECT_EQ(route["spec"]["entryPoints"], json({"postgres"}));
  EXPECT_EQ(route["spec"]["routes"].size(), 1u);
  EXPECT_EQ(route["metadata"]["ownerReferences"][0]["name"], name_);
  EXPECT_EQ(status()["tcpRoute"].value("backend", ""), "db-blue:5432");

  setImage(kImage2);
  ASSERT_TRUE(waitFor("main route on green", [&] { return routeService() == name_ + "-green"; }, 30s));
  ASSERT_TRUE(waitFor("database route on green", [&] { return tcpService() == "db-green"; }, 10s));
  ASSERT_TRUE(waitForStage("Draining", 10s));
  ASSERT_TRUE(waitFor("status.tcpRoute on green", [&] { return status()["tcpRoute"].value("color", "") == "green"; },
                      10s));
  const auto moved = releaseEvents("DatabaseRouteMoved");
  ASSERT_EQ(moved.size(), 2u) << "one for the first route, one for the switch";
  EXPECT_NE(moved[1].value("message", "").find("established connections stay on db-blue:5432"), std::string::npos)
      << moved[1].value("message", "");

  setImage(kImage1);
  ASSERT_TRUE(waitFor("main route back on blue", [&] { return routeService() == name_ + "-blue"; }, 10s, 20ms));
  ASSERT_TRUE(waitFor("database route back on blue", [&] { return tcpService() == "db-blue"; }, 5s, 20ms));
  EXPECT_TRUE(waitFor("three moves recorded", [&] { return releaseEvents("DatabaseRouteMoved").size() == 3u; }, 10s));
}

TEST_F(TcpRouteTest, PinnedRouteStaysThroughASwitch) {
  database("db-blue", true);
  database("db-green", true);
  startOperator();
  createRelease(kImage1, tcpSpec({{"pinned", "green"}}));
  ASSERT_TRUE(waitStable(60s, "blue"));
  EXPECT_EQ(tcpService(), "db-green");
  setImage(kImage2);
  ASSERT_TRUE(waitFor("main route on green", [&] { return routeService() == name_ + "-green"; }, 30s));
  setImage(kImage3);
  ASSERT_TRUE(waitFor("main route back on blue", [&] { return routeService() == name_ + "-blue"; }, 30s));
  EXPECT_EQ(tcpService(), "db-green");
  EXPECT_EQ(releaseEvents("DatabaseRouteMoved").size(), 1u) << "created once, never moved";
}

TEST_F(TcpRouteTest, ExistingIngressRouteTcpIsPatchedAndOtherwiseLeftAlone) {
  database("db-blue", true);
  database("db-green", true);
  json user{{"apiVersion", "traefik.io/v1alpha1"},
            {"kind", "IngressRouteTCP"},
            {"metadata", {{"name", "db"}, {"namespace", ns_}, {"labels", {{"team", "data"}}}}},
            {"spec",
             {{"entryPoints", {"pg"}},
              {"routes", json::array({{{"match", "HostSNI(`*`)"},
                                       {"services", json::array({{{"name", "legacy-db"}, {"port", 5432},
                                                                  {"terminationDelay", 400}}})}}})}}}};
  auto created = client_->create(kIngressRouteTcps, ns_, user, {.field_manager = "data-team"});
  ASSERT_TRUE(created) << created.error().describe();
  startOperator();
  createRelease(kImage1, tcpSpec({{"existingIngressRouteTCP", "db"}}));
  ASSERT_TRUE(waitStable(60s));
  json after = get(kIngressRouteTcps, "db");
  EXPECT_EQ(after["spec"]["routes"][0]["services"],
            json::parse(R"J([{"name":"db-blue","port":5432,"terminationDelay":400}])J"));
  EXPECT_EQ(after["spec"]["entryPoints"], json({"pg"}));
  EXPECT_EQ(after["metadata"]["labels"], json({{"team", "data"}}));
  EXPECT_FALSE(after["metadata"].contains("ownerReferences"));
  EXPECT_FALSE(get(kIngressRouteTcps, name_ + "-tcp").is_object());
  setImage(kImage2);
  ASSERT_TRUE(waitFor("user's route on green", [&] { return tcpService("db") == "db-green"; }, 30s));
}

// A user's change reaches the objects it describes both ways: without
// spec.routing.tcp the operator's own route goes; a user's route stays.
TEST_F(TcpRouteTest, RemovingTheDatabaseRouteDeletesTheOwnedRouteOnly) {
  database("db-blue", true);
  database("db-green", true);
  startOperator();
  createRelease(kImage1, tcpSpec());
  ASSERT_TRUE(waitStable(60s));
  ASSERT_EQ(tcpService(), "db-blue");
  mergePatch(core::gvrs::kBlueGreenReleases, name_, {{"spec", {{"routing", {{"tcp", nullptr}}}}}});
  ASSERT_TRUE(waitFor("the owned IngressRouteTCP deleted", [&] { return !get(kIngressRouteTcps, name_ + "-tcp").is_object(); },
                      15s));
  ASSERT_TRUE(waitFor("status without tcpRoute", [&] { return !status().contains("tcpRoute"); }, 10s));
  EXPECT_EQ(releaseEvents("DatabaseRouteRemoved").size(), 1u);
  EXPECT_EQ(routeService(), name_ + "-blue") << "the main route is untouched";
  ASSERT_TRUE(waitStable(10s));
}

TEST_F(TcpRouteTest, UnreadyDatabaseHoldsBothRoutesAndNamesTheService) {
  database("db-blue", true);
  database("db-green", false);
  startOperator();
  createRelease(kImage1, tcpSpec());
  ASSERT_TRUE(waitStable(60s));
  setImage(kImage2);
  // Green's pods pass every gate (Verifying, readyForSeconds 1 s): only the database holds the switch.
  ASSERT_TRUE(waitFor("green healthy, held by its database", [&] {
    const json st = status();
    return st.value("stage", "") == "Verifying" &&
           st.value("message", "").find("database Service db-green (spec.routing.tcp.green.service) is not "
                                        "ready") != std::string::npos;
  }, 40s));
  std::this_thread::sleep_for(3s);  // well past readyForSeconds
  EXPECT_EQ(status().value("stage", ""), "Verifying");
  EXPECT_EQ(routeService(), name_ + "-blue");
  EXPECT_EQ(tcpService(), "db-blue");
  setDatabaseReady("db-green", true);
  ASSERT_TRUE(waitFor("main route on green", [&] { return routeService() == name_ + "-green"; }, 15s));
  EXPECT_TRUE(waitFor("database route on green", [&] { return tcpService() == "db-green"; }, 5s));
}

TEST_F(TcpRouteTest, MissingDatabaseServiceStallsWithTheFieldAndDeploysNothing) {
  database("db-blue", true);
  startOperator();
  createRelease(kImage1, tcpSpec());
  ASSERT_TRUE(waitFor("Stalled naming the field", [&] {
    return conditionStatus("Stalled") == "True" &&
           status().value("message", "").rfind("spec.routing.tcp.green.service: Service db-green not found", 0) == 0;
  }, 30s));
  EXPECT_FALSE(deployment("blue").is_object());
  EXPECT_FALSE(get(kIngressRouteTcps, name_ + "-tcp").is_object());
  EXPECT_EQ(releaseEvents("BackendNotFound").size(), 1u);
  database("db-green", true);
  EXPECT_TRUE(waitStable(60s));
  EXPECT_EQ(tcpService(), "db-blue");
}

}  // namespace
}  // namespace bgo::itest
