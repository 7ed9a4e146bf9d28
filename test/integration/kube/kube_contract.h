#pragma once
// The KubeClient contract: one set of expectations that FakeKubeClient and
// RestKubeClient on the real control plane must both meet, so the fake cannot
// drift from the API server it stands in for.
//
// An Env type provides:
//   static constexpr const char* kName;
//   std::string setupError();        // "" when the backend is ready
//   kube::KubeClient& client();
//   core::Status prepareWidgets();   // the test CRD (kWidgets) served, with a status subresource
//   void forgetHistory();            // make resourceVersion "1" too old to watch from

#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/kube/plane.h"
#include "operator/kube/kube_client.h"

namespace bgo::testing {

using core::ErrorCode;
using kube::PatchType;
using kube::WatchEvent;

inline uint64_t rvNumber(const json& obj) {
  std::string rv = rvOf(obj);
  return rv.empty() ? 0 : std::stoull(rv);
}

inline std::string str(const json& j) { return j.is_string() ? j.get<std::string>() : j.dump(); }

inline json configMap(const std::string& ns, const std::string& name, const json& data,
                      const json& labels = json::object()) {
  return json{{"apiVersion", "v1"},
              {"kind", "ConfigMap"},
              {"metadata", {{"name", name}, {"namespace", ns}, {"labels", labels}}},
              {"data", data}};
}

template <typename Env>
class KubeContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = std::make_unique<Env>();
    if (std::string e = env_->setupError(); !e.empty()) FAIL() << Env::kName << ": " << e;
    ns_ = uniqueName("contract");
    auto created = client().create(core::gvrs::kNamespaces, "",
                                   json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns_}}}});
    ASSERT_TRUE(created.ok()) << created.error().describe();
  }
  void TearDown() override {
    if (env_ && !ns_.empty()) (void)client().remove(core::gvrs::kNamespaces, "", ns_);
  }

  kube::KubeClient& client() { return env_->client(); }

  void prepareWidgets() {
    auto st = env_->prepareWidgets();
    ASSERT_TRUE(st.ok()) << st.error().describe();
  }

  kube::WatchOptions watchFrom(const std::string& rv) {
    kube::WatchOptions w;
    w.resource_version = rv;
    w.timeout_seconds = 20;  // a missing event fails the test instead of hanging it
    return w;
  }

  std::unique_ptr<Env> env_;
  std::string ns_;
};

TYPED_TEST_SUITE_P(KubeContractTest);

TYPED_TEST_P(KubeContractTest, CreateSetsServerFieldsAndGetReturnsTheObject) {
  auto created = this->client().create(core::gvrs::kConfigMaps, this->ns_, configMap(this->ns_, "a", {{"k", "v"}}));
  ASSERT_TRUE(created.ok()) << created.error().describe();
  const json& m = (*created)["metadata"];
  EXPECT_EQ(m.value("name", ""), "a");
  EXPECT_EQ(m.value("namespace", ""), this->ns_);
  EXPECT_FALSE(m.value("uid", "").empty());
  EXPECT_FALSE(m.value("creationTimestamp", "").empty());
  EXPECT_GT(rvNumber(*created), 0u);

  auto got = this->client().get(core::gvrs::kConfigMaps, this->ns_, "a");
  ASSERT_TRUE(got.ok()) << got.error().describe();
  EXPECT_EQ(rvOf(*got), rvOf(*created));
  EXPECT_EQ((*got)["metadata"]["uid"], m["uid"]);
  EXPECT_EQ((*got)["data"], (json{{"k", "v"}}));
  // ConfigMaps do not track generation.
  EXPECT_FALSE((*got)["metadata"].contains("generation"));
}

TYPED_TEST_P(KubeContractTest, CreatingAnExistingNameIsAlreadyExists) {
  ASSERT_TRUE(this->client().create(core::gvrs::kConfigMaps, this->ns_, configMap(this->ns_, "a", {})).ok());
  auto again = this->client().create(core::gvrs::kConfigMaps, this->ns_, configMap(this->ns_, "a", {}));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists) << again.error().describe();
  EXPECT_EQ(again.error().http_status, 409);
}

TYPED_TEST_P(KubeContractTest, MissingObjectsAreNotFound) {
  auto& c = this->client();
  const auto& cm = core::gvrs::kConfigMaps;
  auto get = c.get(cm, this->ns_, "nope");
  ASSERT_FALSE(get.ok());
  EXPECT_EQ(get.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(get.error().http_status, 404);
  auto put = c.replace(cm, this->ns_, "nope", configMap(this->ns_, "nope", {}));
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().code, ErrorCode::kNotFound) << put.error().describe();
  auto patch = c.patch(cm, this->ns_, "nope", PatchType::kMerge, json{{"data", {{"x", "y"}}}});
  ASSERT_FALSE(patch.ok());
  EXPECT_EQ(patch.error().code, ErrorCode::kNotFound);
  auto del = c.remove(cm, this->ns_, "nope");
  ASSERT_FALSE(del.ok());
  EXPECT_EQ(del.error().code, ErrorCode::kNotFound);
}

TYPED_TEST_P(KubeContractTest, ListPagesWithLimitAndContinue) {
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(this->client()
                    .create(core::gvrs::kConfigMaps, this->ns_,
                            configMap(this->ns_, "paged-" + std::to_string(i), {}, {{"set", "paged"}}))
                    .ok());
  }
  ASSERT_TRUE(this->client().create(core::gvrs::kConfigMaps, this->ns_, configMap(this->ns_, "other", {})).ok());

  kube::ListOptions opts;
  opts.label_selector = "set=paged";
  opts.limit = 3;
  std::vector<size_t> sizes;
  std::set<std::string> names;
  for (int page = 0; page < 10; ++page) {
    auto r = this->client().list(core::gvrs::kConfigMaps, this->ns_, opts);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_FALSE((*r)["metadata"].value("resourceVersion", "").empty());
    sizes.push_back((*r)["items"].size());
    for (const auto& item : (*r)["items"]) names.insert(str(item["metadata"]["name"]));
    opts.continue_token = (*r)["metadata"].value("continue", "");
    if (opts.continue_token.empty()) break;
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{3, 3, 1}));
  EXPECT_EQ(names.size(), 7u);
  EXPECT_EQ(names.count("other"), 0u);

  kube::ListOptions all;
  all.limit = 2;
  auto everything = kube::listAll(this->client(), core::gvrs::kConfigMaps, this->ns_, all);
  ASSERT_TRUE(everything.ok());
  // 8 of ours; a real namespace also gets kube-root-ca.crt once its controller runs.
  std::set<std::string> listed;
  for (const auto& item : everything->items) listed.insert(str(item["metadata"]["name"]));
  listed.erase("kube-root-ca.crt");
  EXPECT_EQ(listed.size(), 8u);
  EXPECT_FALSE(everything->resource_version.empty());
}

TYPED_TEST_P(KubeContractTest, ReplaceWithStaleResourceVersionIsConflict) {
  auto created = this->client().create(core::gvrs::kConfigMaps, this->ns_, configMap(this->ns_, "a", {{"n", "0"}}));
  ASSERT_TRUE(created.ok());
  json first = *created;
  first["data"]["n"] = "1";
  auto replaced = this->client().replace(core::gvrs::kConfigMaps, this->ns_, "a", first);
  ASSERT_TRUE(replaced.ok()) << replaced.error().describe();
  EXPECT_GT(rvNumber(*replaced), rvNumber(*created));

  json stale = *created;  // still carries the first resourceVersion
  stale["data"]["n"] = "2";
  auto conflict = this->client().replace(core::gvrs::kConfigMaps, this->ns_, "a", stale);
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().code, ErrorCode::kConflict) << conflict.error().describe();
  EXPECT_EQ(conflict.error().http_status, 409);

  // Without a resourceVersion the replace is unconditional.
  json blind = configMap(this->ns_, "a", {{"n", "3"}});
  auto unconditional = this->client().replace(core::gvrs::kConfigMaps, this->ns_, "a", blind);
  ASSERT_TRUE(unconditional.ok()) << unconditional.error().describe();
  EXPECT_EQ((*unconditional)["data"]["n"], "3");
}

TYPED_TEST_P(KubeContractTest, MergeAndJsonPatchesEditTheLiveObject) {
  ASSERT_TRUE(this->client()
                  .create(core::gvrs::kConfigMaps, this->ns_, configMap(this->ns_, "a", {{"keep", "1"}, {"drop", "2"}}))
                  .ok());
  auto merged = this->client().patch(core::gvrs::kConfigMaps, this->ns_, "a", PatchType::kMerge,
                                     json{{"data", {{"drop", nullptr}, {"add", "3"}}}});
  ASSERT_TRUE(merged.ok()) << merged.error().describe();
  EXPECT_EQ((*merged)["data"], (json{{"keep", "1"}, {"add", "3"}}));

  auto patched = this->client().patch(
      core::gvrs::kConfigMaps, this->ns_, "a", PatchType::kJson,
      json::array({{{"op", "test"}, {"path", "/data/keep"}, {"value", "1"}},
                   {{"op", "replace"}, {"path", "/data/keep"}, {"value", "9"}}}));
  ASSERT_TRUE(patched.ok()) << patched.error().describe();
  EXPECT_EQ((*patched)["data"]["keep"], "9");

  // A failed `test` guards the write: nothing changes.
  auto guarded = this->client().patch(
      core::gvrs::kConfigMaps, this->ns_, "a", PatchType::kJson,
      json::array({{{"op", "test"}, {"path", "/data/keep"}, {"value", "1"}},
                   {{"op", "replace"}, {"path", "/data/keep"}, {"value", "0"}}}));
  ASSERT_FALSE(guarded.ok());
  EXPECT_EQ(guarded.error().code, ErrorCode::kInvalid) << guarded.error().describe();
  auto after = this->client().get(core::gvrs::kConfigMaps, this->ns_, "a");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ((*after)["data"]["keep"], "9");
  EXPECT_EQ(rvOf(*after), rvOf(*patched));
}

TYPED_TEST_P(KubeContractTest, ApplyCreatesAndARepeatedApplyChangesNothing) {
  kube::WriteOptions w;
  w.field_manager = "contract-test";
  w.force = true;
  json desired = configMap(this->ns_, "applied", {{"color", "blue"}});
  auto first = this->client().patch(core::gvrs::kConfigMaps, this->ns_, "applied", PatchType::kApply, desired, w);
  ASSERT_TRUE(first.ok()) << first.error().describe();
  EXPECT_EQ((*first)["data"]["color"], "blue");

  auto again = this->client().patch(core::gvrs::kConfigMaps, this->ns_, "applied", PatchType::kApply, desired, w);
  ASSERT_TRUE(again.ok()) << again.error().describe();
  EXPECT_EQ(rvOf(*again), rvOf(*first)) << "a no-op apply must not write";

  desired["data"]["color"] = "green";
  auto changed = this->client().patch(core::gvrs::kConfigMaps, this->ns_, "applied", PatchType::kApply, desired, w);
  ASSERT_TRUE(changed.ok()) << changed.error().describe();
  EXPECT_GT(rvNumber(*changed), rvNumber(*first));
  EXPECT_EQ((*changed)["data"]["color"], "green");
}

TYPED_TEST_P(KubeContractTest, NoOpMergePatchKeepsResourceVersion) {
  auto created = this->client().create(core::gvrs::kConfigMaps, this->ns_, configMap(this->ns_, "a", {{"k", "v"}}));
  ASSERT_TRUE(created.ok());
  auto same = this->client().patch(core::gvrs::kConfigMaps, this->ns_, "a", PatchType::kMerge,
                                   json{{"data", {{"k", "v"}}}});
  ASSERT_TRUE(same.ok()) << same.error().describe();
  EXPECT_EQ(rvOf(*same), rvOf(*created));
}

TYPED_TEST_P(KubeContractTest, GenerationBumpsOnlyWhenSpecChanges) {
  this->prepareWidgets();
  auto created = this->client().create(kWidgets, this->ns_, makeWidget(this->ns_, "w", {{"size", 1}}));
  ASSERT_TRUE(created.ok()) << created.error().describe();
  EXPECT_EQ((*created)["metadata"].value("generation", 0), 1);

  auto labelled = this->client().patch(kWidgets, this->ns_, "w", PatchType::kMerge,
                                       json{{"metadata", {{"labels", {{"tier", "gold"}}}}}});
  ASSERT_TRUE(labelled.ok()) << labelled.error().describe();
  EXPECT_GT(rvNumber(*labelled), rvNumber(*created));
  EXPECT_EQ((*labelled)["metadata"].value("generation", 0), 1) << "metadata changes keep generation";

  auto resized = this->client().patch(kWidgets, this->ns_, "w", PatchType::kMerge, json{{"spec", {{"size", 2}}}});
  ASSERT_TRUE(resized.ok()) << resized.error().describe();
  EXPECT_EQ((*resized)["metadata"].value("generation", 0), 2);
}

TYPED_TEST_P(KubeContractTest, StatusSubresourceWritesOnlyStatus) {
  this->prepareWidgets();
  auto created = this->client().create(kWidgets, this->ns_, makeWidget(this->ns_, "w", {{"size", 1}}));
  ASSERT_TRUE(created.ok()) << created.error().describe();
  EXPECT_FALSE(created->contains("status")) << "status is ignored on create";

  // A /status write that also changes spec: only status lands.
  json body = *created;
  body["spec"]["size"] = 5;
  body["status"] = {{"ready", true}};
  kube::WriteOptions status_write;
  status_write.subresource = "status";
  auto st = this->client().replace(kWidgets, this->ns_, "w", body, status_write);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ((*st)["spec"]["size"], 1);
  EXPECT_EQ((*st)["status"]["ready"], true);
  EXPECT_EQ((*st)["metadata"].value("generation", 0), 1);

  // A main-resource write that changes status: status is kept as it was.
  json main = *st;
  main["status"] = {{"ready", false}};
  main["spec"]["size"] = 2;
  auto updated = this->client().replace(kWidgets, this->ns_, "w", main);
  ASSERT_TRUE(updated.ok()) << updated.error().describe();
  EXPECT_EQ((*updated)["status"]["ready"], true);
  EXPECT_EQ((*updated)["spec"]["size"], 2);
  EXPECT_EQ((*updated)["metadata"].value("generation", 0), 2);

  // Merge patch through /status.
  auto patched = this->client().patch(kWidgets, this->ns_, "w", PatchType::kMerge,
                                      json{{"status", {{"phase", "Done"}}}, {"spec", {{"size", 7}}}}, status_write);
  ASSERT_TRUE(patched.ok()) << patched.error().describe();
  EXPECT_EQ((*patched)["status"]["phase"], "Done");
  EXPECT_EQ((*patched)["status"]["ready"], true);
  EXPECT_EQ((*patched)["spec"]["size"], 2);

  auto got = this->client().get(kWidgets, this->ns_, "w", "status");
  ASSERT_TRUE(got.ok()) << got.error().describe();
  EXPECT_EQ((*got)["status"]["phase"], "Done");
}

TYPED_TEST_P(KubeContractTest, DeleteHonoursPreconditionsAndRemoves) {
  auto created = this->client().create(core::gvrs::kConfigMaps, this->ns_, configMap(this->ns_, "a", {}));
  ASSERT_TRUE(created.ok());
  auto bumped = this->client().patch(core::gvrs::kConfigMaps, this->ns_, "a", PatchType::kMerge,
                                     json{{"data", {{"x", "1"}}}});
  ASSERT_TRUE(bumped.ok());

  kube::DeleteOptions stale;
  stale.precondition_resource_version = rvOf(*created);
  auto refused = this->client().remove(core::gvrs::kConfigMaps, this->ns_, "a", stale);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict) << refused.error().describe();

  kube::DeleteOptions current;
  current.precondition_uid = str((*created)["metadata"]["uid"]);
  current.precondition_resource_version = rvOf(*bumped);
  auto removed = this->client().remove(core::gvrs::kConfigMaps, this->ns_, "a", current);
  ASSERT_TRUE(removed.ok()) << removed.error().describe();
  auto gone = this->client().get(core::gvrs::kConfigMaps, this->ns_, "a");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
}

TYPED_TEST_P(KubeContractTest, WatchDeliversWritesInOrder) {
  auto listed = this->client().list(core::gvrs::kConfigMaps, this->ns_);
  ASSERT_TRUE(listed.ok());
  auto stream = this->client().watch(core::gvrs::kConfigMaps, this->ns_,
                                     this->watchFrom(str((*listed)["metadata"]["resourceVersion"])));
  ASSERT_TRUE(stream.ok()) << stream.error().describe();

  auto created = this->client().create(core::gvrs::kConfigMaps, this->ns_, configMap(this->ns_, "w", {{"v", "1"}}));
  ASSERT_TRUE(created.ok());
  auto patched = this->client().patch(core::gvrs::kConfigMaps, this->ns_, "w", PatchType::kMerge,
                                      json{{"data", {{"v", "2"}}}});
  ASSERT_TRUE(patched.ok());
  ASSERT_TRUE(this->client().remove(core::gvrs::kConfigMaps, this->ns_, "w").ok());

  std::vector<WatchEvent::Type> expected = {WatchEvent::Type::kAdded, WatchEvent::Type::kModified,
                                            WatchEvent::Type::kDeleted};
  uint64_t last_rv = 0;
  for (size_t i = 0; i < expected.size();) {
    auto ev = nextNonBookmark(**stream);
    ASSERT_TRUE(ev.ok()) << ev.error().describe();
    ASSERT_TRUE(ev->has_value()) << "stream ended after " << i << " events";
    const WatchEvent& e = **ev;
    // kube-root-ca.crt may be published into a new namespace: not ours.
    if (e.object["metadata"].value("name", "") != "w") continue;
    EXPECT_EQ(kube::toString(e.type), std::string(kube::toString(expected[i]))) << "event " << i;
    EXPECT_GT(rvNumber(e.object), last_rv) << "event " << i;
    last_rv = rvNumber(e.object);
    if (i == 0) {
      EXPECT_EQ(rvOf(e.object), rvOf(*created));
    }
    if (i == 1) {
      EXPECT_EQ(e.object["data"]["v"], "2");
    }
    ++i;
  }
  (*stream)->cancel();
  auto after = (*stream)->next();
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code, ErrorCode::kCancelled);
}

TYPED_TEST_P(KubeContractTest, WatchFromAResourceVersionReplaysOnlyLaterWrites) {
  auto a = this->client().create(core::gvrs::kConfigMaps, this->ns_, configMap(this->ns_, "a", {{"v", "1"}}));
  ASSERT_TRUE(a.ok());
  auto a2 = this->client().patch(core::gvrs::kConfigMaps, this->ns_, "a", PatchType::kMerge,
                                 json{{"data", {{"v", "2"}}}});
  ASSERT_TRUE(a2.ok());
  auto b = this->client().create(core::gvrs::kConfigMaps, this->ns_, configMap(this->ns_, "b", {}));
  ASSERT_TRUE(b.ok());

  auto stream = this->client().watch(core::gvrs::kConfigMaps, this->ns_, this->watchFrom(rvOf(*a)));
  ASSERT_TRUE(stream.ok()) << stream.error().describe();
  std::vector<std::pair<std::string, std::string>> seen;  // (type, rv)
  while (seen.size() < 2) {
    auto ev = nextNonBookmark(**stream);
    ASSERT_TRUE(ev.ok()) << ev.error().describe();
    ASSERT_TRUE(ev->has_value());
    if ((**ev).object["metadata"].value("name", "") == "kube-root-ca.crt") continue;
    seen.emplace_back(kube::toString((**ev).type), rvOf((**ev).object));
  }
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, std::string>>{{"MODIFIED", rvOf(*a2)}, {"ADDED", rvOf(*b)}}));
}

TYPED_TEST_P(KubeContractTest, WatchFiltersByLabelSelector) {
  auto listed = this->client().list(core::gvrs::kConfigMaps, this->ns_);
  ASSERT_TRUE(listed.ok());
  auto opts = this->watchFrom(str((*listed)["metadata"]["resourceVersion"]));
  opts.label_selector = "pick=yes";
  auto stream = this->client().watch(core::gvrs::kConfigMaps, this->ns_, opts);
  ASSERT_TRUE(stream.ok());
  ASSERT_TRUE(this->client().create(core::gvrs::kConfigMaps, this->ns_, configMap(this->ns_, "skip", {})).ok());
  ASSERT_TRUE(this->client()
                  .create(core::gvrs::kConfigMaps, this->ns_, configMap(this->ns_, "pick", {}, {{"pick", "yes"}}))
                  .ok());
  auto ev = nextNonBookmark(**stream);
  ASSERT_TRUE(ev.ok()) << ev.error().describe();
  ASSERT_TRUE(ev->has_value());
  EXPECT_EQ((**ev).object["metadata"]["name"], "pick");
  EXPECT_EQ((**ev).type, WatchEvent::Type::kAdded);
}

TYPED_TEST_P(KubeContractTest, WatchFromAForgottenResourceVersionGetsAnExpiredEvent) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(this->client()
                    .create(core::gvrs::kConfigMaps, this->ns_, configMap(this->ns_, "h" + std::to_string(i), {}))
                    .ok());
  }
  this->env_->forgetHistory();
  // The real server accepts the watch and sends one ERROR event (410 Expired).
  // Events: the one resource the API server watches from etcd, not a cache.
  auto stream = this->client().watch(core::gvrs::kEvents, this->ns_, this->watchFrom("1"));
  ASSERT_TRUE(stream.ok()) << stream.error().describe();
  auto ev = (*stream)->next();
  ASSERT_TRUE(ev.ok()) << ev.error().describe();
  ASSERT_TRUE(ev->has_value());
  EXPECT_EQ((**ev).type, WatchEvent::Type::kError);
  EXPECT_EQ((**ev).object.value("kind", ""), "Status");
  EXPECT_EQ((**ev).object.value("code", 0), 410);
  EXPECT_EQ((**ev).object.value("reason", ""), "Expired");
  EXPECT_EQ(kube::errorFromStatus(0, (**ev).object).code, ErrorCode::kGone);
}

// What the operator relies on for hook Jobs: one create per name, status only
// through /status and only with the conditions the Job controller writes.
inline json hookJob(const std::string& ns, const std::string& name) {
  json container{{"name", "m"}, {"image", "x:1"}, {"command", {"sh", "-c", "exit 0"}}};
  json pod{{"restartPolicy", "Never"}, {"containers", json::array({container})}};
  // managedBy: the plane's Job controller leaves it to the test, which plays that part.
  json spec{{"backoffLimit", 0},
            {"activeDeadlineSeconds", 60},
            {"managedBy", "bluegreen.io/contract-test"},
            {"template", {{"spec", pod}}}};
  json meta{{"name", name}, {"namespace", ns}, {"labels", {{"bluegreen.io/release", "shop"}}}};
  return json{{"apiVersion", "batch/v1"}, {"kind", "Job"}, {"metadata", meta}, {"spec", spec}};
}

TYPED_TEST_P(KubeContractTest, JobsAreCreatedOnceByNameAndFinishOnlyThroughTheirStatusRules) {
  const auto& jobs = core::gvrs::kJobs;
  auto created = this->client().create(jobs, this->ns_, hookJob(this->ns_, "shop-migrate-1"));
  ASSERT_TRUE(created.ok()) << created.error().describe();
  EXPECT_EQ((*created)["metadata"].value("generation", 0), 1);
  auto again = this->client().create(jobs, this->ns_, hookJob(this->ns_, "shop-migrate-1"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists) << again.error().describe();
  kube::ListOptions by_label;
  by_label.label_selector = "bluegreen.io/release=shop";
  auto listed = this->client().list(jobs, this->ns_, by_label);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ((*listed)["items"].size(), 1u);

  const std::string t = "2026-01-01T00:00:00Z";
  kube::WriteOptions status_write;
  status_write.subresource = "status";
  auto cond = [&](const char* type) {
    return json{{"type", type}, {"status", "True"}, {"reason", "X"}, {"message", "m"}, {"lastTransitionTime", t}};
  };
  auto bare = this->client().patch(jobs, this->ns_, "shop-migrate-1", PatchType::kMerge,
                                   json{{"status", {{"startTime", t}, {"completionTime", t}, {"succeeded", 1},
                                                    {"conditions", json::array({cond("Complete")})}}}},
                                   status_write);
  ASSERT_FALSE(bare.ok()) << "Complete without SuccessCriteriaMet";
  EXPECT_EQ(bare.error().code, ErrorCode::kInvalid);
  EXPECT_THAT(bare.error().message, ::testing::HasSubstr("without the SuccessCriteriaMet=true condition"));
  auto no_start = this->client().patch(
      jobs, this->ns_, "shop-migrate-1", PatchType::kMerge,
      json{{"status", {{"failed", 1}, {"conditions", json::array({cond("FailureTarget"), cond("Failed")})}}}}, status_write);
  ASSERT_FALSE(no_start.ok()) << "a finished Job without startTime";
  EXPECT_THAT(no_start.error().message, ::testing::HasSubstr("startTime is required for finished job"));
  auto failed = this->client().patch(
      jobs, this->ns_, "shop-migrate-1", PatchType::kMerge,
      json{{"status", {{"startTime", t}, {"failed", 1}, {"conditions", json::array({cond("FailureTarget"), cond("Failed")})}}}},
      status_write);
  ASSERT_TRUE(failed.ok()) << failed.error().describe();
  EXPECT_EQ((*failed)["status"]["conditions"][1]["type"], "Failed");
  EXPECT_EQ((*failed)["spec"]["activeDeadlineSeconds"], 60);

  kube::DeleteOptions background;
  background.propagation_policy = "Background";
  background.precondition_uid = str((*created)["metadata"]["uid"]);
  ASSERT_TRUE(this->client().remove(jobs, this->ns_, "shop-migrate-1", background).ok());
  auto gone = this->client().get(jobs, this->ns_, "shop-migrate-1");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
}

REGISTER_TYPED_TEST_SUITE_P(KubeContractTest, CreateSetsServerFieldsAndGetReturnsTheObject,
                            CreatingAnExistingNameIsAlreadyExists, MissingObjectsAreNotFound,
                            ListPagesWithLimitAndContinue, ReplaceWithStaleResourceVersionIsConflict,
                            MergeAndJsonPatchesEditTheLiveObject, ApplyCreatesAndARepeatedApplyChangesNothing,
                            NoOpMergePatchKeepsResourceVersion, GenerationBumpsOnlyWhenSpecChanges,
                            StatusSubresourceWritesOnlyStatus, DeleteHonoursPreconditionsAndRemoves,
                            WatchDeliversWritesInOrder, WatchFromAResourceVersionReplaysOnlyLaterWrites,
                            WatchFiltersByLabelSelector, WatchFromAForgottenResourceVersionGetsAnExpiredEvent,
                            JobsAreCreatedOnceByNameAndFinishOnlyThroughTheirStatusRules);

}  // namespace bgo::testing
