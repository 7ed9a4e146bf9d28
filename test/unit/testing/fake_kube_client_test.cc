#include "operator/testing/fake_kube_client.h"

#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "operator/testing/builders.h"
#include "operator/testing/manual_clock.h"

namespace bgo::testing {
namespace {

using namespace std::chrono_literals;
using core::ErrorCode;
using kube::PatchType;
using kube::WatchEvent;
namespace gvrs = core::gvrs;

int64_t rvOf(const json& o) { return std::stoll(o["metadata"]["resourceVersion"].get<std::string>()); }

json bgr(const std::string& ns, const std::string& name) {
  return {{"apiVersion", "bluegreen.io/v1alpha1"},
          {"kind", "BlueGreenRelease"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec", {{"image", "web:1"}}}};
}

class FakeKubeClientTest : public ::testing::Test {
 protected:
  ManualClock clock_;
  FakeKubeClient fake_{clock_};

  json mustCreate(const core::Gvr& g, const json& body) {
    auto r = fake_.create(g, body["metadata"].value("namespace", ""), body);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().describe());
    return r.ok() ? *r : json();
  }
  std::vector<WatchEvent> drain(kube::WatchStream& w, size_t n) {
    std::vector<WatchEvent> out;
    while (out.size() < n) {
      auto ev = w.next();
      if (!ev.ok() || !ev->has_value()) break;
      out.push_back(**ev);
    }
    return out;
  }
};

TEST_F(FakeKubeClientTest, ResourceVersionIsGlobalAndMonotonic) {
  int64_t last = std::stoll(fake_.resourceVersion());
  for (int i = 0; i < 3; ++i) {
    json cm = mustCreate(gvrs::kConfigMaps, makeConfigMap("a", "cm" + std::to_string(i)));
    EXPECT_GT(rvOf(cm), last);
    last = rvOf(cm);
    json d = mustCreate(gvrs::kDeployments, makeDeployment("b", "d" + std::to_string(i), {{"app", "x"}}, "img"));
    EXPECT_GT(rvOf(d), last);
    last = rvOf(d);
  }
  auto p = fake_.patch(gvrs::kConfigMaps, "a", "cm0", PatchType::kMerge, {{"data", {{"k", "v"}}}});
  ASSERT_TRUE(p.ok());
  EXPECT_GT(rvOf(*p), last);
  EXPECT_EQ(std::to_string(rvOf(*p)), fake_.resourceVersion());
}

TEST_F(FakeKubeClientTest, CreateSetsServerOwnedFields) {
  json d = mustCreate(gvrs::kDeployments, makeDeployment("ns", "web", {{"app", "web"}}, "img"));
  EXPECT_FALSE(d["metadata"].value("uid", "").empty());
  EXPECT_EQ(d["metadata"]["creationTimestamp"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(d["metadata"]["generation"], 1);
  EXPECT_EQ(d["metadata"]["namespace"], "ns");
  // ConfigMaps have no generation on a real server.
  json cm = mustCreate(gvrs::kConfigMaps, makeConfigMap("ns", "cm"));
  EXPECT_FALSE(cm["metadata"].contains("generation"));
  EXPECT_EQ(cm["kind"], "ConfigMap");
  EXPECT_NE(cm["metadata"]["uid"], d["metadata"]["uid"]);
}

TEST_F(FakeKubeClientTest, CreateGeneratesNameFromGenerateName) {
  json cm = makeConfigMap("ns", "");
  cm["metadata"].erase("name");
  cm["metadata"]["generateName"] = "job-";
  auto r = fake_.create(gvrs::kConfigMaps, "ns", cm);
  ASSERT_TRUE(r.ok());
  std::string name = (*r)["metadata"]["name"];
  EXPECT_EQ(name.rfind("job-", 0), 0u);
  EXPECT_EQ(name.size(), 9u);
}

TEST_F(FakeKubeClientTest, CreateExistingIsAlreadyExistsAndGetMissingIsNotFound) {
  mustCreate(gvrs::kConfigMaps, makeConfigMap("ns", "cm"));
  auto again = fake_.create(gvrs::kConfigMaps, "ns", makeConfigMap("ns", "cm"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(again.error().http_status, 409);
  auto missing = fake_.get(gvrs::kConfigMaps, "ns", "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().message, "configmaps \"nope\" not found");
  // The same name in another namespace is another object.
  EXPECT_TRUE(fake_.create(gvrs::kConfigMaps, "other", makeConfigMap("other", "cm")).ok());
}

TEST_F(FakeKubeClientTest, CreateWithResourceVersionFailsLikeTheServer) {
  json cm = makeConfigMap("ns", "cm");
  cm["metadata"]["resourceVersion"] = "5";
  auto r = fake_.create(gvrs::kConfigMaps, "ns", cm);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInternal);
}

TEST_F(FakeKubeClientTest, ReplaceWithStaleResourceVersionIsConflict) {
  json cm = mustCreate(gvrs::kConfigMaps, makeConfigMap("ns", "cm", {{"a", "1"}}));
  json first = cm;
  first["data"]["a"] = "2";
  auto ok = fake_.replace(gvrs::kConfigMaps, "ns", "cm", first);
  ASSERT_TRUE(ok.ok());
  json stale = cm;  // still carries the original resourceVersion
  stale["data"]["a"] = "3";
  auto r = fake_.replace(gvrs::kConfigMaps, "ns", "cm", stale);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kConflict);
  EXPECT_EQ(r.error().http_status, 409);
  EXPECT_EQ((*fake_.get(gvrs::kConfigMaps, "ns", "cm"))["data"]["a"], "2");
}

TEST_F(FakeKubeClientTest, ReplaceOfMissingObjectIsNotFound) {
  auto r = fake_.replace(gvrs::kConfigMaps, "ns", "cm", makeConfigMap("ns", "cm"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
}

TEST_F(FakeKubeClientTest, CustomResourceReplaceNeedsResourceVersion) {
  json obj = mustCreate(gvrs::kBlueGreenReleases, bgr("ns", "r"));
  json body = obj;
  body["metadata"].erase("resourceVersion");
  body["spec"]["image"] = "web:2";
  auto r = fake_.replace(gvrs::kBlueGreenReleases, "ns", "r", body);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalid);
  // A ConfigMap accepts an unconditional update.
  mustCreate(gvrs::kConfigMaps, makeConfigMap("ns", "cm"));
  EXPECT_TRUE(fake_.replace(gvrs::kConfigMaps, "ns", "cm", makeConfigMap("ns", "cm", {{"x", "y"}})).ok());
}

TEST_F(FakeKubeClientTest, GenerationBumpsOnlyWhenSpecChanges) {
  json d = mustCreate(gvrs::kDeployments, makeDeployment("ns", "web", {{"app", "web"}}, "img:1"));
  // Metadata only: new resourceVersion, same generation.
  auto labelled = fake_.patch(gvrs::kDeployments, "ns", "web", PatchType::kMerge,
                              {{"metadata", {{"labels", {{"team", "a"}}}}}});
  ASSERT_TRUE(labelled.ok());
  EXPECT_GT(rvOf(*labelled), rvOf(d));
  EXPECT_EQ((*labelled)["metadata"]["generation"], 1);
  // Status only: same generation.
  auto status = fake_.patch(gvrs::kDeployments, "ns", "web", PatchType::kMerge,
                            {{"status", {{"replicas", 1}}}}, {.subresource = "status"});
  ASSERT_TRUE(status.ok());
  EXPECT_EQ((*status)["metadata"]["generation"], 1);
  // Spec: generation 2.
  auto spec = fake_.patch(gvrs::kDeployments, "ns", "web", PatchType::kMerge, {{"spec", {{"replicas", 3}}}});
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ((*spec)["metadata"]["generation"], 2);
  // A client cannot set generation itself.
  json body = *spec;
  body["metadata"]["generation"] = 42;
  auto r = fake_.replace(gvrs::kDeployments, "ns", "web", body);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["metadata"]["generation"], 2);
}

TEST_F(FakeKubeClientTest, WriteThatChangesNothingKeepsResourceVersion) {
  json cm = mustCreate(gvrs::kConfigMaps, makeConfigMap("ns", "cm", {{"a", "1"}}));
  auto w = fake_.watch(gvrs::kConfigMaps, "ns", {.resource_version = fake_.resourceVersion()});
  ASSERT_TRUE(w.ok());
  auto same = fake_.replace(gvrs::kConfigMaps, "ns", "cm", cm);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(rvOf(*same), rvOf(cm));
  auto patched = fake_.patch(gvrs::kConfigMaps, "ns", "cm", PatchType::kMerge, {{"data", {{"a", "1"}}}});
  ASSERT_TRUE(patched.ok());
  EXPECT_EQ(rvOf(*patched), rvOf(cm));
  auto writes = fake_.writes();
  ASSERT_EQ(writes.size(), 3u);
  EXPECT_TRUE(writes[0].changed);
  EXPECT_FALSE(writes[1].changed);
  EXPECT_FALSE(writes[2].changed);
  // No watch event: the next one is from a real change.
  ASSERT_TRUE(fake_.patch(gvrs::kConfigMaps, "ns", "cm", PatchType::kMerge, {{"data", {{"a", "2"}}}}).ok());
  auto ev = (*w)->next();
  ASSERT_TRUE(ev.ok() && ev->has_value());
  EXPECT_EQ((*ev)->object["data"]["a"], "2");
}

TEST_F(FakeKubeClientTest, StatusSubresourceIsolatesStatusFromSpec) {
  json d = mustCreate(gvrs::kBlueGreenReleases, bgr("ns", "r"));
  // A main write cannot change status.
  json body = d;
  body["status"] = {{"phase", "Ready"}};
  body["spec"]["image"] = "web:2";
  auto main = fake_.replace(gvrs::kBlueGreenReleases, "ns", "r", body);
  ASSERT_TRUE(main.ok());
  EXPECT_FALSE(main->contains("status"));
  EXPECT_EQ((*main)["spec"]["image"], "web:2");
  EXPECT_EQ((*main)["metadata"]["generation"], 2);
  // A status write cannot change spec or labels.
  json sbody = *main;
  sbody["status"] = {{"phase", "Ready"}};
  sbody["spec"]["image"] = "web:3";
  sbody["metadata"]["labels"] = {{"x", "y"}};
  auto st = fake_.replace(gvrs::kBlueGreenReleases, "ns", "r", sbody, {.subresource = "status"});
  ASSERT_TRUE(st.ok());
  EXPECT_EQ((*st)["status"]["phase"], "Ready");
  EXPECT_EQ((*st)["spec"]["image"], "web:2");
  EXPECT_FALSE((*st)["metadata"].contains("labels"));
  EXPECT_EQ((*st)["metadata"]["generation"], 2);
  // Status on create is dropped.
  json withStatus = bgr("ns", "r2");
  withStatus["status"] = {{"phase", "Ready"}};
  EXPECT_FALSE(mustCreate(gvrs::kBlueGreenReleases, withStatus).contains("status"));
}

TEST_F(FakeKubeClientTest, ResourcesWithoutStatusSubresourceAnswerNotFound) {
  mustCreate(gvrs::kConfigMaps, makeConfigMap("ns", "cm"));
  auto r = fake_.patch(gvrs::kConfigMaps, "ns", "cm", PatchType::kMerge, {{"status", {{"a", 1}}}},
                       {.subresource = "status"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
}

TEST_F(FakeKubeClientTest, JsonPatchAppliesAndFailedTestIsInvalid) {
  mustCreate(gvrs::kConfigMaps, makeConfigMap("ns", "cm", {{"a", "1"}}));
  json ok_patch = json::array({{{"op", "test"}, {"path", "/data/a"}, {"value", "1"}},
                               {{"op", "replace"}, {"path", "/data/a"}, {"value", "2"}},
                               {{"op", "add"}, {"path", "/data/b"}, {"value", "3"}}});
  auto r = fake_.patch(gvrs::kConfigMaps, "ns", "cm", PatchType::kJson, ok_patch);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ((*r)["data"], json({{"a", "2"}, {"b", "3"}}));

  json guarded = json::array({{{"op", "test"}, {"path", "/data/a"}, {"value", "1"}},
                              {{"op", "replace"}, {"path", "/data/a"}, {"value", "9"}}});
  auto failed = fake_.patch(gvrs::kConfigMaps, "ns", "cm", PatchType::kJson, guarded);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(failed.error().http_status, 422);
  EXPECT_EQ((*fake_.get(gvrs::kConfigMaps, "ns", "cm"))["data"]["a"], "2");

  auto missing = fake_.patch(gvrs::kConfigMaps, "ns", "cm", PatchType::kJson,
                             json::array({{{"op", "remove"}, {"path", "/data/zzz"}}}));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kInvalid);

  auto malformed = fake_.patch(gvrs::kConfigMaps, "ns", "cm", PatchType::kJson, json{{"op", "add"}});
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error().code, ErrorCode::kBadRequest);
}

TEST_F(FakeKubeClientTest, MergePatchWithStaleResourceVersionIsConflict) {
  json cm = mustCreate(gvrs::kConfigMaps, makeConfigMap("ns", "cm", {{"a", "1"}, {"b", "2"}}));
  auto r = fake_.patch(gvrs::kConfigMaps, "ns", "cm", PatchType::kMerge,
                       {{"metadata", {{"resourceVersion", cm["metadata"]["resourceVersion"]}}},
                        {"data", {{"a", nullptr}}}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["data"], json({{"b", "2"}}));
  auto stale = fake_.patch(gvrs::kConfigMaps, "ns", "cm", PatchType::kMerge,
                           {{"metadata", {{"resourceVersion", cm["metadata"]["resourceVersion"]}}},
                            {"data", {{"b", "3"}}}});
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, ErrorCode::kConflict);
}

TEST_F(FakeKubeClientTest, PatchOfMissingObjectIsNotFound) {
  auto r = fake_.patch(gvrs::kConfigMaps, "ns", "nope", PatchType::kMerge, {{"data", {{"a", "1"}}}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
}

TEST_F(FakeKubeClientTest, ServerSideApplyCreatesUpdatesAndNoOpKeepsResourceVersion) {
  json applied = makeConfigMap("ns", "cm", {{"a", "1"}});
  kube::WriteOptions wo{.field_manager = "bgo", .force = true};
  auto created = fake_.patch(gvrs::kConfigMaps, "ns", "cm", PatchType::kApply, applied, wo);
  ASSERT_TRUE(created.ok()) << created.error().describe();
  auto again = fake_.patch(gvrs::kConfigMaps, "ns", "cm", PatchType::kApply, applied, wo);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(rvOf(*again), rvOf(*created));
  applied["data"]["a"] = "2";
  auto changed = fake_.patch(gvrs::kConfigMaps, "ns", "cm", PatchType::kApply, applied, wo);
  ASSERT_TRUE(changed.ok());
  EXPECT_GT(rvOf(*changed), rvOf(*created));
  EXPECT_EQ((*changed)["data"]["a"], "2");

  auto no_manager = fake_.patch(gvrs::kConfigMaps, "ns", "cm", PatchType::kApply, applied);
  ASSERT_FALSE(no_manager.ok());
  EXPECT_EQ(no_manager.error().code, ErrorCode::kBadRequest);
}

TEST_F(FakeKubeClientTest, DryRunStoresNothing) {
  auto c = fake_.create(gvrs::kConfigMaps, "ns", makeConfigMap("ns", "cm"), {.dry_run = true});
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(fake_.get(gvrs::kConfigMaps, "ns", "cm").ok());
  json cm = mustCreate(gvrs::kConfigMaps, makeConfigMap("ns", "cm", {{"a", "1"}}));
  std::string rv = fake_.resourceVersion();
  auto p = fake_.patch(gvrs::kConfigMaps, "ns", "cm", PatchType::kMerge, {{"data", {{"a", "2"}}}}, {.dry_run = true});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)["data"]["a"], "2");
  EXPECT_EQ(fake_.resourceVersion(), rv);
  EXPECT_EQ((*fake_.get(gvrs::kConfigMaps, "ns", "cm"))["data"]["a"], "1");
}

TEST_F(FakeKubeClientTest, DeleteHonoursPreconditionsAndFinalizers) {
  json cm = mustCreate(gvrs::kConfigMaps, makeConfigMap("ns", "cm"));
  auto wrong = fake_.remove(gvrs::kConfigMaps, "ns", "cm", {.precondition_uid = std::string("other")});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::kConflict);
  EXPECT_TRUE(fake_.remove(gvrs::kConfigMaps, "ns", "cm", {.precondition_uid = cm["metadata"]["uid"].get<std::string>()}).ok());
  EXPECT_FALSE(fake_.get(gvrs::kConfigMaps, "ns", "cm").ok());
  EXPECT_EQ(fake_.remove(gvrs::kConfigMaps, "ns", "cm").error().code, ErrorCode::kNotFound);

  json r = bgr("ns", "r");
  r["metadata"]["finalizers"] = {"bluegreen.io/cleanup"};
  json created = mustCreate(gvrs::kBlueGreenReleases, r);
  ASSERT_TRUE(fake_.remove(gvrs::kBlueGreenReleases, "ns", "r").ok());
  auto deleting = fake_.get(gvrs::kBlueGreenReleases, "ns", "r");
  ASSERT_TRUE(deleting.ok());
  EXPECT_TRUE((*deleting)["metadata"].contains("deletionTimestamp"));
  auto cleared = fake_.patch(gvrs::kBlueGreenReleases, "ns", "r", PatchType::kMerge,
                             {{"metadata", {{"finalizers", nullptr}}}});
  ASSERT_TRUE(cleared.ok());
  EXPECT_FALSE(fake_.get(gvrs::kBlueGreenReleases, "ns", "r").ok());
}

TEST_F(FakeKubeClientTest, DeletingANamespaceDeletesItsObjects) {
  mustCreate(gvrs::kNamespaces, makeNamespace("team"));
  mustCreate(gvrs::kConfigMaps, makeConfigMap("team", "a"));
  mustCreate(gvrs::kConfigMaps, makeConfigMap("keep", "b"));
  ASSERT_TRUE(fake_.remove(gvrs::kNamespaces, "", "team").ok());
  EXPECT_EQ(fake_.objectCount(gvrs::kConfigMaps), 1u);
  EXPECT_EQ(fake_.objectCount(gvrs::kConfigMaps, "keep"), 1u);
}

TEST_F(FakeKubeClientTest, RequireNamespacesRejectsObjectsInMissingNamespaces) {
  FakeKubeClient strict(clock_, FakeOptions{.require_namespaces = true});
  auto r = strict.create(gvrs::kConfigMaps, "ns", makeConfigMap("ns", "cm"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(strict.create(gvrs::kNamespaces, "", makeNamespace("ns")).ok());
  EXPECT_TRUE(strict.create(gvrs::kConfigMaps, "ns", makeConfigMap("ns", "cm")).ok());
}

TEST_F(FakeKubeClientTest, ListFiltersByNamespaceAndSelectors) {
  mustCreate(gvrs::kConfigMaps, makeConfigMap("a", "web", {}, {{"app", "web"}, {"env", "prod"}}));
  mustCreate(gvrs::kConfigMaps, makeConfigMap("a", "db", {}, {{"app", "db"}, {"env", "prod"}}));
  mustCreate(gvrs::kConfigMaps, makeConfigMap("b", "web", {}, {{"app", "web"}, {"env", "dev"}}));
  mustCreate(gvrs::kConfigMaps, makeConfigMap("b", "plain"));
  auto names = [&](const std::string& ns, const std::string& sel, const std::string& fields = "") {
    auto l = fake_.list(gvrs::kConfigMaps, ns, {.label_selector = sel, .field_selector = fields});
    EXPECT_TRUE(l.ok());
    std::vector<std::string> out;
    for (const auto& i : (*l)["items"]) out.push_back(i["metadata"]["namespace"].get<std::string>() + "/" + i["metadata"]["name"].get<std::string>());
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(names("", ""), (V{"a/db", "a/web", "b/plain", "b/web"}));
  EXPECT_EQ(names("a", ""), (V{"a/db", "a/web"}));
  EXPECT_EQ(names("", "app=web"), (V{"a/web", "b/web"}));
  EXPECT_EQ(names("", "app!=web"), (V{"a/db", "b/plain"}));
  EXPECT_EQ(names("", "env in (prod,qa),app notin (db)"), (V{"a/web"}));
  EXPECT_EQ(names("", "!app"), (V{"b/plain"}));
  EXPECT_EQ(names("", "env"), (V{"a/db", "a/web", "b/web"}));
  EXPECT_EQ(names("", "", "metadata.name=web"), (V{"a/web", "b/web"}));
  EXPECT_EQ(fake_.list(gvrs::kConfigMaps, "", {.label_selector = "app in (x"}).error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(fake_.list(gvrs::kConfigMaps, "", {.field_selector = "spec.x=1"}).error().code, ErrorCode::kBadRequest);

  auto l = fake_.list(gvrs::kConfigMaps, "");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ((*l)["kind"], "ConfigMapList");
  EXPECT_EQ((*l)["metadata"]["resourceVersion"], fake_.resourceVersion());
  EXPECT_FALSE((*l)["items"][0].contains("kind"));  // typed lists omit item kinds
}

TEST_F(FakeKubeClientTest, PagingServesAConsistentSnapshot) {
  for (int i = 0; i < 5; ++i) mustCreate(gvrs::kConfigMaps, makeConfigMap("ns", "cm" + std::to_string(i), {{"v", "0"}}));
  auto p1 = fake_.list(gvrs::kConfigMaps, "ns", {.limit = 2});
  ASSERT_TRUE(p1.ok());
  ASSERT_EQ((*p1)["items"].size(), 2u);
  EXPECT_EQ((*p1)["metadata"]["remainingItemCount"], 3);
  std::string snapshot_rv = (*p1)["metadata"]["resourceVersion"];
  // Changes between pages do not show in later pages.
  ASSERT_TRUE(fake_.patch(gvrs::kConfigMaps, "ns", "cm3", PatchType::kMerge, {{"data", {{"v", "1"}}}}).ok());
  ASSERT_TRUE(fake_.remove(gvrs::kConfigMaps, "ns", "cm4").ok());
  mustCreate(gvrs::kConfigMaps, makeConfigMap("ns", "cm5"));
  auto all = kube::listAll(fake_, gvrs::kConfigMaps, "ns", {.limit = 2, .continue_token = (*p1)["metadata"]["continue"]});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->items.size(), 3u);
  EXPECT_EQ(all->items[0]["metadata"]["name"], "cm2");
  EXPECT_EQ(all->items[1]["data"]["v"], "0");
  EXPECT_EQ(all->items[2]["metadata"]["name"], "cm4");
  EXPECT_EQ(all->resource_version, snapshot_rv);
}

TEST_F(FakeKubeClientTest, ContinueTokenAfterCompactionIsGone) {
  for (int i = 0; i < 3; ++i) mustCreate(gvrs::kConfigMaps, makeConfigMap("ns", "cm" + std::to_string(i)));
  auto p1 = fake_.list(gvrs::kConfigMaps, "ns", {.limit = 1});
  ASSERT_TRUE(p1.ok());
  mustCreate(gvrs::kConfigMaps, makeConfigMap("ns", "later"));
  fake_.compactHistory();
  auto p2 = fake_.list(gvrs::kConfigMaps, "ns", {.limit = 1, .continue_token = (*p1)["metadata"]["continue"]});
  ASSERT_FALSE(p2.ok());
  EXPECT_EQ(p2.error().code, ErrorCode::kGone);
}

TEST_F(FakeKubeClientTest, WatchFromResourceVersionDeliversEventsInOrder) {
  json a = mustCreate(gvrs::kConfigMaps, makeConfigMap("ns", "a"));
  std::string from = a["metadata"]["resourceVersion"];
  mustCreate(gvrs::kConfigMaps, makeConfigMap("ns", "b"));
  ASSERT_TRUE(fake_.patch(gvrs::kConfigMaps, "ns", "a", PatchType::kMerge, {{"data", {{"x", "1"}}}}).ok());
  mustCreate(gvrs::kConfigMaps, makeConfigMap("other", "c"));  // outside the watched namespace
  auto w = fake_.watch(gvrs::kConfigMaps, "ns", {.resource_version = from});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(fake_.remove(gvrs::kConfigMaps, "ns", "b").ok());  // after the watch started
  auto evs = drain(**w, 3);
  ASSERT_EQ(evs.size(), 3u);
  EXPECT_EQ(evs[0].type, WatchEvent::Type::kAdded);
  EXPECT_EQ(evs[0].object["metadata"]["name"], "b");
  EXPECT_EQ(evs[1].type, WatchEvent::Type::kModified);
  EXPECT_EQ(evs[1].object["metadata"]["name"], "a");
  EXPECT_EQ(evs[2].type, WatchEvent::Type::kDeleted);
  EXPECT_EQ(evs[2].object["metadata"]["name"], "b");
  EXPECT_EQ(std::to_string(rvOf(evs[2].object)), fake_.resourceVersion());
  EXPECT_LT(rvOf(evs[0].object), rvOf(evs[1].object));
  EXPECT_LT(rvOf(evs[1].object), rvOf(evs[2].object));
}

TEST_F(FakeKubeClientTest, WatchWithoutResourceVersionStartsWithCurrentState) {
  mustCreate(gvrs::kConfigMaps, makeConfigMap("ns", "a"));
  mustCreate(gvrs::kConfigMaps, makeConfigMap("ns", "b"));
  auto w = fake_.watch(gvrs::kConfigMaps, "ns", {});
  ASSERT_TRUE(w.ok());
  auto evs = drain(**w, 2);
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].type, WatchEvent::Type::kAdded);
  EXPECT_EQ(evs[1].type, WatchEvent::Type::kAdded);
}

TEST_F(FakeKubeClientTest, WatchTranslatesSelectorTransitions) {
  mustCreate(gvrs::kConfigMaps, makeConfigMap("ns", "cm", {}, {{"app", "web"}}));
  auto w = fake_.watch(gvrs::kConfigMaps, "ns", {.label_selector = "app=web", .resource_version = fake_.resourceVersion()});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(fake_.patch(gvrs::kConfigMaps, "ns", "cm", PatchType::kMerge, {{"metadata", {{"labels", {{"app", "db"}}}}}}).ok());
  ASSERT_TRUE(fake_.patch(gvrs::kConfigMaps, "ns", "cm", PatchType::kMerge, {{"data", {{"ignored", "1"}}}}).ok());
  ASSERT_TRUE(fake_.patch(gvrs::kConfigMaps, "ns", "cm", PatchType::kMerge, {{"metadata", {{"labels", {{"app", "web"}}}}}}).ok());
  auto evs = drain(**w, 2);
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].type, WatchEvent::Type::kDeleted);
  EXPECT_EQ(evs[0].object["metadata"]["labels"]["app"], "web");  // the last state it matched
  EXPECT_EQ(evs[1].type, WatchEvent::Type::kAdded);
  EXPECT_EQ(evs[1].object["data"]["ignored"], "1");
}

TEST_F(FakeKubeClientTest, WatchFromTooOldResourceVersionGetsExpiredError) {
  FakeKubeClient small(clock_, FakeOptions{.event_history = 3});
  auto first = small.create(gvrs::kConfigMaps, "ns", makeConfigMap("ns", "cm0"));
  ASSERT_TRUE(first.ok());
  for (int i = 1; i < 6; ++i) ASSERT_TRUE(small.create(gvrs::kConfigMaps, "ns", makeConfigMap("ns", "cm" + std::to_string(i))).ok());
  auto w = small.watch(gvrs::kConfigMaps, "ns", {.resource_version = (*first)["metadata"]["resourceVersion"]});
  ASSERT_TRUE(w.ok());
  auto ev = (*w)->next();
  ASSERT_TRUE(ev.ok() && ev->has_value());
  EXPECT_EQ((*ev)->type, WatchEvent::Type::kError);
  EXPECT_EQ((*ev)->object["code"], 410);
  EXPECT_EQ(kube::errorFromStatus(0, (*ev)->object).code, ErrorCode::kGone);
  auto end = (*w)->next();
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end->has_value());
  // Within the history it still resumes.
  std::string recent = std::to_string(std::stoll(small.resourceVersion()) - 2);
  auto w2 = small.watch(gvrs::kConfigMaps, "ns", {.resource_version = recent});
  ASSERT_TRUE(w2.ok());
  EXPECT_EQ(drain(**w2, 2).size(), 2u);
}

TEST_F(FakeKubeClientTest, ForcedGoneAppliesToTheNextWatchOnly) {
  fake_.forceGoneOnNextWatch();
  auto w = fake_.watch(gvrs::kConfigMaps, "ns", {.resource_version = fake_.resourceVersion()});
  ASSERT_TRUE(w.ok());
  auto ev = (*w)->next();
  ASSERT_TRUE(ev.ok() && ev->has_value());
  EXPECT_EQ((*ev)->type, WatchEvent::Type::kError);
  auto w2 = fake_.watch(gvrs::kConfigMaps, "ns", {.resource_version = fake_.resourceVersion()});
  ASSERT_TRUE(w2.ok());
  EXPECT_EQ(fake_.openWatches(), 1u);
}

TEST_F(FakeKubeClientTest, CancelUnblocksABlockedNext) {
  auto w = fake_.watch(gvrs::kConfigMaps, "ns", {.resource_version = fake_.resourceVersion()});
  ASSERT_TRUE(w.ok());
  auto pending = std::async(std::launch::async, [&] { return (*w)->next(); });
  EXPECT_EQ(pending.wait_for(30ms), std::future_status::timeout);  // it really blocks
  (*w)->cancel();
  ASSERT_EQ(pending.wait_for(5s), std::future_status::ready);
  auto r = pending.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kCancelled);
}

TEST_F(FakeKubeClientTest, ClosedWatchEndsAndBrokenWatchFails) {
  auto w1 = fake_.watch(gvrs::kConfigMaps, "ns", {.resource_version = fake_.resourceVersion()});
  ASSERT_TRUE(w1.ok());
  fake_.closeWatches();
  auto end = (*w1)->next();
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end->has_value());

  auto w2 = fake_.watch(gvrs::kConfigMaps, "ns", {.resource_version = fake_.resourceVersion()});
  ASSERT_TRUE(w2.ok());
  mustCreate(gvrs::kConfigMaps, makeConfigMap("ns", "lost"));
  fake_.breakWatches(core::Error::make(ErrorCode::kUnavailable, "connection reset", 503));
  auto err = (*w2)->next();
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(fake_.openWatches(), 0u);
}

TEST_F(FakeKubeClientTest, WatchEndsAtTimeoutSecondsOnTheClock) {
  auto w = fake_.watch(gvrs::kConfigMaps, "ns", {.resource_version = fake_.resourceVersion(), .timeout_seconds = 60});
  ASSERT_TRUE(w.ok());
  auto pending = std::async(std::launch::async, [&] { return (*w)->next(); });
  EXPECT_EQ(pending.wait_for(30ms), std::future_status::timeout);
  clock_.advance(61s);
  ASSERT_EQ(pending.wait_for(5s), std::future_status::ready);
  auto r = pending.get();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
}

TEST_F(FakeKubeClientTest, BookmarksCarryTheCurrentResourceVersion) {
  mustCreate(gvrs::kConfigMaps, makeConfigMap("ns", "a"));
  auto with = fake_.watch(gvrs::kConfigMaps, "ns", {.resource_version = fake_.resourceVersion(), .allow_bookmarks = true});
  auto without = fake_.watch(gvrs::kConfigMaps, "ns", {.resource_version = fake_.resourceVersion(), .allow_bookmarks = false});
  ASSERT_TRUE(with.ok() && without.ok());
  mustCreate(gvrs::kConfigMaps, makeConfigMap("other", "b"));
  fake_.sendBookmarks();
  auto ev = (*with)->next();
  ASSERT_TRUE(ev.ok() && ev->has_value());
  EXPECT_EQ((*ev)->type, WatchEvent::Type::kBookmark);
  EXPECT_EQ((*ev)->object["metadata"]["resourceVersion"], fake_.resourceVersion());
  fake_.closeWatches();
  auto none = (*without)->next();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_F(FakeKubeClientTest, WriteLogRecordsEveryWriteInOrder) {
  mustCreate(gvrs::kConfigMaps, makeConfigMap("ns", "cm"));
  ASSERT_TRUE(fake_.get(gvrs::kConfigMaps, "ns", "cm").ok());  // reads are not writes
  mustCreate(gvrs::kBlueGreenReleases, bgr("ns", "r"));
  ASSERT_TRUE(fake_.patch(gvrs::kBlueGreenReleases, "ns", "r", PatchType::kMerge, {{"status", {{"p", 1}}}},
                          {.subresource = "status"}).ok());
  ASSERT_FALSE(fake_.remove(gvrs::kConfigMaps, "ns", "missing").ok());
  auto w = fake_.writes();
  ASSERT_EQ(w.size(), 4u);
  EXPECT_EQ(w[0].verb, Verb::kCreate);
  EXPECT_EQ(w[0].gvr, gvrs::kConfigMaps);
  EXPECT_EQ(w[1].gvr, gvrs::kBlueGreenReleases);
  EXPECT_EQ(w[2].verb, Verb::kPatch);
  EXPECT_EQ(w[2].subresource, "status");
  EXPECT_EQ(w[2].patch_type, PatchType::kMerge);
  EXPECT_EQ(w[2].name, "r");
  EXPECT_EQ(w[3].verb, Verb::kDelete);
  EXPECT_EQ(w[3].error, ErrorCode::kNotFound);
  EXPECT_EQ(fake_.writeCount(Verb::kPatch), 1u);
  EXPECT_EQ(fake_.callCount(Verb::kGet), 1u);
  fake_.clearWrites();
  EXPECT_EQ(fake_.writeCount(), 0u);
}

TEST_F(FakeKubeClientTest, FailNextInjectsErrorsForMatchingCalls) {
  fake_.failNext(Verb::kCreate, gvrs::kConfigMaps, core::Error::make(ErrorCode::kTooManyRequests, "slow down", 429), 2);
  EXPECT_TRUE(fake_.create(gvrs::kSecrets, "ns", {{"metadata", {{"name", "s"}}}}).ok());  // other resource
  for (int i = 0; i < 2; ++i) {
    auto r = fake_.create(gvrs::kConfigMaps, "ns", makeConfigMap("ns", "cm"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kTooManyRequests);
  }
  EXPECT_TRUE(fake_.create(gvrs::kConfigMaps, "ns", makeConfigMap("ns", "cm")).ok());
  EXPECT_EQ(fake_.writes()[1].error, ErrorCode::kTooManyRequests);
}

TEST_F(FakeKubeClientTest, FaultHookSeesEveryCall) {
  int seen = 0;
  fake_.setFaultHook([&](const Call& c) -> std::optional<core::Error> {
    ++seen;
    if (c.verb == Verb::kGet && c.name == "boom") return core::Error::make(ErrorCode::kTimeout, "timeout", 504);
    return std::nullopt;
  });
  EXPECT_EQ(fake_.get(gvrs::kConfigMaps, "ns", "boom").error().code, ErrorCode::kTimeout);
  EXPECT_EQ(fake_.get(gvrs::kConfigMaps, "ns", "fine").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(fake_.watch(gvrs::kConfigMaps, "ns").ok(), true);
  EXPECT_EQ(seen, 3);
  fake_.clearFaults();
  EXPECT_EQ(fake_.get(gvrs::kConfigMaps, "ns", "boom").error().code, ErrorCode::kNotFound);
}

TEST_F(FakeKubeClientTest, SeedBypassesFaultsAndTheWriteLog) {
  fake_.failNext(Verb::kCreate, std::nullopt, core::Error::make(ErrorCode::kInternal, "x", 500));
  json d = makeDeployment("ns", "web", {{"app", "web"}}, "img");
  d["status"] = {{"readyReplicas", 1}};
  json stored = fake_.seed(gvrs::kDeployments, d);
  EXPECT_EQ(stored["status"]["readyReplicas"], 1);
  EXPECT_EQ(fake_.writeCount(), 0u);
  EXPECT_FALSE(fake_.create(gvrs::kConfigMaps, "ns", makeConfigMap("ns", "x")).ok());  // fault still queued
}

}  // namespace
}  // namespace bgo::testing
