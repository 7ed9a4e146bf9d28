// InformerCache over FakeKubeClient: the index that maps a user's IngressRoute
// to the releases that name it follows the releases as they change.
#include "operator/app/informer_cache.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "operator/testing/fake_kube_client.h"

namespace bgo::app {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace gvrs = core::gvrs;

json release(const std::string& ns, const std::string& name, const std::string& route) {
  json r{{"apiVersion", "bluegreen.io/v1alpha1"},
         {"kind", "BlueGreenRelease"},
         {"metadata", {{"namespace", ns}, {"name", name}}},
         {"spec", {{"routing", {{"host", name + ".example.test"}}}}}};
  if (!route.empty()) r["spec"]["routing"]["existingIngressRoute"] = {{"name", route}};
  return r;
}

std::vector<std::string> names(const std::vector<std::shared_ptr<const json>>& objs) {
  std::vector<std::string> out;
  for (const auto& o : objs) out.push_back((*o)["metadata"].value("name", ""));
  std::sort(out.begin(), out.end());
  return out;
}

// Waits (bounded) for the informers to deliver what the fake holds.
bool eventually(const std::function<bool()>& pred) {
  for (int i = 0; i < 400; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

TEST(InformerCacheTest, ReleasesUsingRouteFollowsTheReleases) {
  testing::FakeKubeClient client;
  client.seed(gvrs::kBlueGreenReleases, release("a", "one", "shared"));
  client.seed(gvrs::kBlueGreenReleases, release("a", "two", "other"));
  client.seed(gvrs::kBlueGreenReleases, release("a", "three", ""));
  client.seed(gvrs::kBlueGreenReleases, release("b", "four", "shared"));
  core::SystemClock clock;
  InformerCache cache(client, clock, {}, {});
  cache.start();
  ASSERT_TRUE(cache.waitForSync(5s));

  EXPECT_EQ(names(cache.releasesUsingRoute("a", "shared")), std::vector<std::string>{"one"});
  EXPECT_EQ(names(cache.releasesUsingRoute("b", "shared")), std::vector<std::string>{"four"})
      << "a route is looked up in its own namespace";
  EXPECT_TRUE(cache.releasesUsingRoute("a", "three").empty()) << "a release without existingIngressRoute";
  EXPECT_TRUE(cache.releasesUsingRoute("c", "shared").empty());

  // "one" moves to the other route; "two" stops naming one.
  client.seed(gvrs::kBlueGreenReleases, release("a", "one", "other"));
  client.seed(gvrs::kBlueGreenReleases, release("a", "two", ""));
  EXPECT_TRUE(eventually([&] {
    return names(cache.releasesUsingRoute("a", "other")) == std::vector<std::string>{"one"} &&
           cache.releasesUsingRoute("a", "shared").empty();
  })) << "other: " << names(cache.releasesUsingRoute("a", "other")).size();

  ASSERT_TRUE(client.remove(gvrs::kBlueGreenReleases, "a", "one"));
  EXPECT_TRUE(eventually([&] { return cache.releasesUsingRoute("a", "other").empty(); }));
  cache.stop();
}

TEST(InformerCacheTest, ReleasesUsingRouteOnlyInWatchedNamespaces) {
  testing::FakeKubeClient client;
  client.seed(gvrs::kBlueGreenReleases, release("a", "one", "shared"));
  client.seed(gvrs::kBlueGreenReleases, release("b", "two", "shared"));
  core::SystemClock clock;
  InformerCache cache(client, clock, {"a"}, {});
  cache.start();
  ASSERT_TRUE(cache.waitForSync(5s));
  EXPECT_EQ(names(cache.releasesUsingRoute("a", "shared")), std::vector<std::string>{"one"});
  EXPECT_TRUE(cache.releasesUsingRoute("b", "shared").empty());
  cache.stop();
}

// spec.routing.tcp: IngressRouteTCPs are watched like IngressRoutes, a
// user's (unlabelled) one included, so its edits reach the release.
TEST(InformerCacheTest, WatchesIngressRouteTcps) {
  testing::FakeKubeClient client;
  json route{{"apiVersion", "traefik.io/v1alpha1"},
             {"kind", "IngressRouteTCP"},
             {"metadata", {{"namespace", "a"}, {"name", "db"}}},
             {"spec", {{"routes", json::array()}}}};
  client.seed(gvrs::kIngressRouteTcps, route);
  core::SystemClock clock;
  InformerCache cache(client, clock, {}, {});
  cache.start();
  ASSERT_TRUE(cache.waitForSync(5s));
  EXPECT_NE(cache.get(gvrs::kIngressRouteTcps, "a", "db"), nullptr);
  route["spec"]["entryPoints"] = json::array({"pg"});
  client.seed(gvrs::kIngressRouteTcps, route);
  EXPECT_TRUE(eventually([&] {
    auto o = cache.get(gvrs::kIngressRouteTcps, "a", "db");
    return o && o->value("/spec/entryPoints"_json_pointer, json()) == json::array({"pg"});
  }));
  cache.stop();
}

}  // namespace
}  // namespace bgo::app
