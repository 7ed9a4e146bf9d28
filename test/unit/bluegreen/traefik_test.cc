#include <gtest/gtest.h>

#include "operator/traffic/traefik/ingress_route.h"
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
  auto patch = switchPatch(ir, r, Color::kGreen);
  ASSERT_TRUE(patch.ok());
  json after = ir.patch(*patch);
  EXPECT_EQ(after["spec"]["routes"][0]["services"][0]["name"], "shop-green");
  // Someone else changed the services meanwhile: the test op fails, nothing is overwritten.
  json concurrent = ir;
  concurrent["spec"]["routes"][0]["services"][0]["name"] = "hotfix";
  EXPECT_THROW(concurrent.patch(*patch), nlohmann::json::exception);
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
