// InformerCache over FakeKubeClient: the index that maps a user's IngressRoute
// to the releases that name it follows the releases as they change.
#include "operator/app/informer_cache.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>
#include <tuple>

#include <gtest/gtest.h>

#include "operator/bluegreen/observed.h"
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

// The cache drops fields nobody reads; what the planner sees stays the same.
TEST(InformerCacheTest, TrimmedObjectsGiveThePlannerTheSameViews) {
  const std::string ours = "app.kubernetes.io/managed-by";
  json dep{{"apiVersion", "apps/v1"},
           {"kind", "Deployment"},
           {"metadata",
            {{"namespace", "a"},
             {"name", "web-green"},
             {"generation", 3},
             {"labels", {{ours, "bluegreen-operator"}, {"bluegreen.io/revision", "abc"}}},
             {"ownerReferences", json::array({{{"uid", "u1"}, {"controller", true}}})}}},
           {"spec", {{"replicas", 2}, {"template", {{"spec", {{"containers", json::array({{{"name", "app"}, {"image", "img:2"}}})}}}}}}},
           {"status",
            {{"observedGeneration", 3},
             {"replicas", 2},
             {"updatedReplicas", 2},
             {"readyReplicas", 2},
             {"availableReplicas", 2},
             {"conditions", json::array({{{"type", "Available"}, {"status", "True"}}})}}}};
  json slice{{"apiVersion", "discovery.k8s.io/v1"},
             {"kind", "EndpointSlice"},
             {"metadata",
              {{"namespace", "a"},
               {"name", "web-green-x1"},
               {"labels", {{ours, "bluegreen-operator"}, {"kubernetes.io/service-name", "web-green"}}},
               {"annotations", {{"endpoints.kubernetes.io/last-change-trigger-time", "2026-01-01T00:00:00Z"}}}}},
             {"addressType", "IPv4"},
             {"ports", json::array({{{"name", "http"}, {"port", 8080}}})},
             {"endpoints",
              json::array({{{"addresses", {"10.0.0.1"}},
                            {"conditions", {{"ready", true}, {"serving", true}, {"terminating", false}}},
                            {"nodeName", "n1"},
                            {"targetRef", {{"kind", "Pod"}, {"name", "p1"}}}},
                           {{"addresses", {"10.0.0.2"}}, {"conditions", {{"ready", false}}}},
                           {{"addresses", {"10.0.0.3"}}, {"nodeName", "n2"}}})}};
  testing::FakeKubeClient client;
  client.seed(gvrs::kDeployments, dep);
  client.seed(gvrs::kEndpointSlices, slice);
  core::SystemClock clock;
  InformerCache cache(client, clock, {}, {});
  cache.start();
  ASSERT_TRUE(cache.waitForSync(5s));

  auto cached_dep = cache.get(gvrs::kDeployments, "a", "web-green");
  ASSERT_TRUE(cached_dep);
  EXPECT_FALSE((*cached_dep)["status"].contains("conditions"));
  auto raw_dep = client.get(gvrs::kDeployments, "a", "web-green");
  ASSERT_TRUE(raw_dep);
  auto a = bluegreen::viewDeployment(std::make_shared<const json>(*raw_dep), "u1");
  auto b = bluegreen::viewDeployment(cached_dep, "u1");
  EXPECT_EQ(std::tie(a.owned, a.revision, a.image, a.spec_replicas, a.generation, a.observed_generation, a.replicas,
                     a.updated_replicas, a.ready_replicas, a.available_replicas),
            std::tie(b.owned, b.revision, b.image, b.spec_replicas, b.generation, b.observed_generation, b.replicas,
                     b.updated_replicas, b.ready_replicas, b.available_replicas));
  EXPECT_EQ((*cached_dep)["spec"], (*raw_dep)["spec"]) << "spec is compared for drift: kept whole";

  auto cached = cache.listByLabel(gvrs::kEndpointSlices, "a", "kubernetes.io/service-name", "web-green");
  ASSERT_EQ(cached.size(), 1u);
  EXPECT_FALSE((*cached[0])["endpoints"][0].contains("targetRef"));
  EXPECT_FALSE((*cached[0])["endpoints"][0]["conditions"].contains("serving"));
  auto raw_slice = client.get(gvrs::kEndpointSlices, "a", "web-green-x1");
  ASSERT_TRUE(raw_slice);
  EXPECT_EQ(bluegreen::readyEndpointAddresses(cached),
            bluegreen::readyEndpointAddresses({std::make_shared<const json>(*raw_slice)}));
  EXPECT_EQ(bluegreen::readyEndpointAddresses(cached), (std::set<std::string>{"10.0.0.1", "10.0.0.3"}));
}

}  // namespace
}  // namespace bgo::app
