#include "integration/support/release_fixture.h"

#include "integration/support/test_id.h"

namespace bgo::itest {

namespace {

using core::gvrs::kBlueGreenReleases;

json appContainer(const std::string& image) {
  return json{{"name", "app"},
              {"image", image},
              {"ports", json::array({{{"name", "http"}, {"containerPort", 8080}}})}};
}

}  // namespace

void ReleaseTest::SetUp() {
  ASSERT_FALSE(planeKubeconfig().empty()) << kNoPlane;
  auto client = planeClient();
  ASSERT_TRUE(client) << client.error().describe();
  client_ = std::move(*client);
  const std::string crd_error = applyCrdsOnce(suite_.source_dir);
  ASSERT_TRUE(crd_error.empty()) << crd_error;
  namespace_ =
      std::make_unique<ScopedNamespace>(*client_, suite_.namespace_prefix, suite_.suite_label);
  ASSERT_FALSE(namespace_->error()) << namespace_->error()->describe();
  ns_ = namespace_->name();
  host_ = name_ + "." + ns_ + ".example.test";
}

void ReleaseTest::TearDown() { namespace_.reset(); }

std::string ReleaseTest::uniqueLogPath(const std::string& what, const std::string& ext) const {
  return suite_.log_dir + "/" + currentTestId() + "-" + what + ext;
}

json ReleaseTest::releaseManifest(const std::string& image, const json& spec_patch,
                                  const json& pod_annotations) const {
  json tmpl{{"metadata", {{"labels", {{"app", name_}}}}},
            {"spec", {{"containers", json::array({appContainer(image)})}}}};
  if (!pod_annotations.empty()) tmpl["metadata"]["annotations"] = pod_annotations;
  json spec{{"replicas", suite_.replicas},
            {"template", tmpl},
            {"service", {{"port", 80}, {"targetPort", 8080}}},
            {"routing", {{"entryPoints", json::array({"web"})}, {"host", host_}}},
            {"promotion",
             {{"auto", true},
              {"readyForSeconds", 1},
              {"progressDeadlineSeconds", suite_.progress_deadline_seconds}}},
            {"scaleDown",
             {{"delaySeconds", suite_.scale_down_delay_seconds}, {"standbyReplicas", 0}}}};
  // A null patch (an argument written `{}`) would replace the whole spec.
  if (!spec_patch.is_null()) spec.merge_patch(spec_patch);
  return json{{"apiVersion", "bluegreen.io/v1alpha1"},
              {"kind", "BlueGreenRelease"},
              {"metadata", {{"name", name_}, {"namespace", ns_}}},
              {"spec", spec}};
}

void ReleaseTest::createRelease(const std::string& image, const json& spec_patch,
                                const json& pod_annotations) {
  auto r =
      client_->create(kBlueGreenReleases, ns_, releaseManifest(image, spec_patch, pod_annotations));
  ASSERT_TRUE(r) << r.error().describe();
}

void ReleaseTest::setImage(const std::string& image, const json& spec_patch,
                           const json& pod_annotations) {
  json spec = spec_patch.is_null() ? json::object() : spec_patch;
  spec["template"]["spec"]["containers"] = json::array({appContainer(image)});
  if (!pod_annotations.empty()) spec["template"]["metadata"]["annotations"] = pod_annotations;
  mergePatch(kBlueGreenReleases, name_, json{{"spec", spec}});
}

void ReleaseTest::mergePatch(const core::Gvr& gvr, const std::string& name, const json& patch) {
  auto r = client_->patch(gvr, ns_, name, kube::PatchType::kMerge, patch,
                          {.field_manager = "itest-user"});
  ASSERT_TRUE(r) << gvr.resource << "/" << name << ": " << r.error().describe();
}

json ReleaseTest::get(const core::Gvr& gvr, const std::string& name) {
  auto r = client_->get(gvr, ns_, name);
  if (r) return *r;
  if (!r.error().is(core::ErrorCode::kNotFound)) {
    ADD_FAILURE() << "get " << gvr.resource << "/" << name << ": " << r.error().describe();
  }
  return nullptr;
}

json ReleaseTest::status() {
  json r = release();
  return r.is_object() ? r.value("status", json::object()) : json::object();
}

kube::KubeClient* ReleaseTest::samplerClient() {
  if (!sampler_client_) {
    auto c = planeClient();
    if (!c) {
      ADD_FAILURE() << "sampler client: " << c.error().describe();
      return nullptr;
    }
    sampler_client_ = std::move(*c);
  }
  return sampler_client_.get();
}

::testing::AssertionResult ReleaseTest::waitFor(const std::string& what,
                                                const std::function<bool()>& pred, Millis timeout,
                                                Millis interval) {
  const auto start = std::chrono::steady_clock::now();
  std::string exited;
  const bool done =
      eventually([&] { return !(exited = exitedUnexpectedly()).empty() || pred(); }, timeout, interval);
  if (!exited.empty()) {
    return ::testing::AssertionFailure() << "stopped waiting for " << what << " after " << secondsSince(start)
                                         << " s: " << exited;
  }
  if (done) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "timed out after " << secondsSince(start) << " s waiting for " << what
         << "\nrelease status: " << status().dump(2);
}

::testing::AssertionResult ReleaseTest::waitForStage(const std::string& want, Millis timeout) {
  return waitFor("stage " + want, [&] { return stage() == want; }, timeout, suite_.release_poll);
}

::testing::AssertionResult ReleaseTest::waitStable(Millis timeout, const std::string& color) {
  return waitFor(
      "stage Stable with Ready=True" + (color.empty() ? std::string() : " on " + color),
      [&] {
        json r = release();
        if (!r.is_object()) return false;
        const json st = r.value("status", json::object());
        if (st.value("stage", "") != "Stable") return false;
        if (!color.empty() && st.value("activeColor", "") != color) return false;
        if (st.value("observedGeneration", int64_t{-1}) !=
            r.value("/metadata/generation"_json_pointer, int64_t{0})) {
          return false;
        }
        for (const auto& c : st.value("conditions", json::array())) {
          if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
        }
        return false;
      },
      timeout, suite_.release_poll);
}

int ReleaseTest::intAt(const json& obj, const char* pointer, int fallback) {
  if (!obj.is_object()) return fallback;
  return obj.value(json::json_pointer(pointer), fallback);
}

std::string ReleaseTest::strAt(const json& obj, const char* pointer) {
  if (!obj.is_object()) return "";
  return obj.value(json::json_pointer(pointer), std::string());
}

}  // namespace bgo::itest
