#include <gtest/gtest.h>

#include "operator/traffic/traefik/ingress_route.h"
#include "operator/traffic/traefik/route_confirmer.h"
#include "unit/bluegreen/world.h"

namespace bgo::traefik {
namespace {

api::Release release() {
  return api::parseRelease(bluegreen::testworld::releaseObject("shop:1")).value().release;
}

TEST(IngressRouteTest, ReadsTheColorOfTheMatchingRoute) {
  auto r = release();
  json ir = managedMainRoute(r, Color::kGreen, json::object());
  auto t = readTarget(ir, "Host(`shop.example.com`)", r);
  EXPECT_TRUE(t.route_found);
  ASSERT_TRUE(t.color.has_value());
  EXPECT_EQ(*t.color, Color::kGreen);
  EXPECT_EQ(ir["spec"]["routes"][0]["services"][0]["port"], 80) << "Traefik needs the port";
}

TEST(IngressRouteTest, ForeignOrSplitBackendsHaveNoColor) {
  auto r = release();
  json ir = {{"spec",
              {{"routes",
                {{{"match", "Host(`shop.example.com`)"},
                  {"services", {{{"name", "shop-blue"}, {"port", 80}}, {{"name", "shop-green"}, {"port", 80}}}}}}}}}};
  auto t = readTarget(ir, "Host(`shop.example.com`)", r);
  EXPECT_TRUE(t.route_found);
  EXPECT_FALSE(t.color.has_value());
  EXPECT_EQ(t.description, "shop-blue:80 + shop-green:80");
  ir["spec"]["routes"][0]["services"] = {{{"name", "shop-blue"}, {"namespace", "elsewhere"}}};
  EXPECT_FALSE(readTarget(ir, "Host(`shop.example.com`)", r).color.has_value());
  EXPECT_FALSE(readTarget(ir, "Host(`nope`)", r).route_found);
}

TEST(IngressRouteTest, SwitchPatchTestsBeforeReplacing) {
  auto r = release();
  json ir = managedMainRoute(r, Color::kBlue, json::object());
  const api::HistoryEntry rec{"blue", "green", "8a01e2", "2026-12-06T10:00:00.123Z", "Promoted"};
  auto patch = switchPatch(ir, r, Color::kGreen, switchRecord(rec));
  ASSERT_TRUE(patch.ok());
  json after = ir.patch(*patch);
  EXPECT_EQ(after["spec"]["routes"][0]["services"][0]["name"], "shop-green");
  // The same write records the switch on the route; a route with annotations keeps them.
  EXPECT_EQ(readSwitchRecord(after), rec);
  json annotated = ir;
  annotated["metadata"]["annotations"] = {{"team", "shop"}};
  json after2 = annotated.patch(*switchPatch(annotated, r, Color::kGreen, switchRecord(rec)));
  EXPECT_EQ(after2["metadata"]["annotations"]["team"], "shop");
  EXPECT_EQ(readSwitchRecord(after2), rec);
  // Someone else changed the services meanwhile: the test op fails, nothing is overwritten.
  json concurrent = ir;
  concurrent["spec"]["routes"][0]["services"][0]["name"] = "hotfix";
  EXPECT_THROW(concurrent.patch(*patch), nlohmann::json::exception);
}

TEST(IngressRouteTest, SwitchRecordIgnoresWhatItCannotRead) {
  json ir{{"metadata", {{"annotations", {{"bluegreen.io/switch", "not json"}}}}}};
  EXPECT_FALSE(readSwitchRecord(ir));
  ir["metadata"]["annotations"]["bluegreen.io/switch"] = R"({"from":"blue"})";
  EXPECT_FALSE(readSwitchRecord(ir)) << "no target color, no time";
  EXPECT_FALSE(readSwitchRecord(json::array()));
}

TEST(IngressRouteTest, MiddlewaresAndTlsPassThrough) {
  auto raw = bluegreen::testworld::releaseObject("shop:1");
  raw["spec"]["routing"]["middlewares"] = {{{"name", "auth"}, {"namespace", "infra"}}};
  raw["spec"]["routing"]["tls"] = {{"certResolver", "le"}};
  auto r = api::parseRelease(raw).value().release;
  json ir = managedPreviewRoute(r, json::object());
  EXPECT_EQ(ir["spec"]["tls"]["certResolver"], "le");
  EXPECT_EQ(ir["spec"]["routes"][0]["middlewares"][0]["namespace"], "infra");
}

}  // namespace
}  // namespace bgo::traefik

namespace bgo::traefik {
namespace {

TEST(RouteConfirmerTest, PicksTheRouterOfTheIngressRouteAndMatch) {
  json routers = json::parse(R"j([
    {"name":"prod-shop-preview-1a2b@kubernetescrd","provider":"kubernetescrd","rule":"Host(`blue.shop.example.com`)","service":"prod-shop-preview-1a2b","status":"enabled"},
    {"name":"prod-shop-9f8e@kubernetescrd","provider":"kubernetescrd","rule":"Host(`shop.example.com`)","service":"prod-shop-9f8e","status":"enabled"},
    {"name":"other-shop-9f8e@kubernetescrd","provider":"kubernetescrd","rule":"Host(`shop.example.com`)","service":"x","status":"enabled"}])j");
  ConfirmQuery q{"prod", "shop", "Host(`shop.example.com`)", {}};
  auto svc = TraefikApiConfirmer::routerService(routers, q);
  ASSERT_TRUE(svc.ok());
  EXPECT_EQ(*svc, "prod-shop-9f8e@kubernetescrd");
  routers[1]["status"] = "disabled";
  EXPECT_FALSE(TraefikApiConfirmer::routerService(routers, q).ok());
  EXPECT_EQ(TraefikApiConfirmer::routerService(json::array(), q).error().code, core::ErrorCode::kNotFound);
}

TEST(RouteConfirmerTest, LiveOnlyWhenEveryServerIsOfTheNewColor) {
  json svc = json::parse(R"j({"loadBalancer":{"servers":[{"url":"http://198.18.0.7:8080"},{"url":"http://198.18.0.9:8080"}]}})j");
  EXPECT_TRUE(TraefikApiConfirmer::servesOnly(svc, {"198.18.0.7", "198.18.0.9", "198.18.0.11"}));
  EXPECT_FALSE(TraefikApiConfirmer::servesOnly(svc, {"198.18.0.7"})) << "an old server is still listed";
  EXPECT_FALSE(TraefikApiConfirmer::servesOnly(json::object(), {"198.18.0.7"})) << "no servers yet";
  EXPECT_FALSE(TraefikApiConfirmer::servesOnly(svc, {}));
}

TEST(RouteConfirmerTest, AcceptsOnlyPlainHttpUrls) {
  EXPECT_TRUE(TraefikApiConfirmer::make("http://127.0.0.1:9000", std::chrono::seconds(1)).ok());
  EXPECT_TRUE(TraefikApiConfirmer::make("http://traefik.kube-system/prefix/", std::chrono::seconds(1)).ok());
  auto bad = TraefikApiConfirmer::make("https://traefik:9000", std::chrono::seconds(1));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("--traefik-api-url"), std::string::npos);
}

TEST(RouteConfirmerTest, UnreachableApiIsAnErrorNotACrash) {
  // Port 1 on loopback: nothing listens there.
  auto c = TraefikApiConfirmer::make("http://127.0.0.1:1", std::chrono::seconds(1));
  ASSERT_TRUE(c.ok());
  auto live = (*c)->live({"prod", "shop", "Host(`shop.example.com`)", {"198.18.0.7"}});
  ASSERT_FALSE(live.ok());
  EXPECT_EQ(live.error().code, core::ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace bgo::traefik
