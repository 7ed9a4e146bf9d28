#pragma once
// What every suite that runs the operator binary against the real control plane
// shares: one namespace per test, an admin client, one release named "app", and
// helpers that read and wait on that release the way a person would (kubectl
// get), so assertions are on what the cluster holds. A suite derives from
// ReleaseTest and adds how it runs and observes the operator processes.

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "integration/support/namespace.h"
#include "integration/support/plane.h"
#include "integration/support/poll.h"

namespace bgo::itest {

using json = nlohmann::json;
using namespace std::chrono_literals;

inline constexpr const char* kImage1 = "registry.example/app:1";
inline constexpr const char* kImage2 = "registry.example/app:2";
inline constexpr const char* kImage3 = "registry.example/app:3";
inline constexpr const char* kImage4 = "registry.example/app:4";

// What a suite sets for its tests. The directories come from the suite's own
// build target (its compile definitions), not from this library's.
struct ReleaseSuite {
  std::string source_dir;        // the checkout, whose crds/ are applied once per process
  std::string log_dir;           // where uniqueLogPath() puts files
  std::string namespace_prefix;  // of each test's namespace
  std::string suite_label;       // the namespace's suite label
  // releaseManifest() defaults, tuned to the suite's scenarios.
  int replicas = 2;
  int progress_deadline_seconds = 60;
  int scale_down_delay_seconds = 2;
  // How often waitForStage and waitStable read the release.
  Millis release_poll = kPollInterval;
};

class ReleaseTest : public ::testing::Test {
 protected:
  explicit ReleaseTest(ReleaseSuite suite) : suite_(std::move(suite)) {}

  // Client, CRDs, namespace. A suite's TearDown stops its processes first, then calls this.
  void SetUp() override;
  void TearDown() override;

  // <log dir>/<Suite.Test>-<what><ext>
  std::string uniqueLogPath(const std::string& what, const std::string& ext = ".log") const;

  // --- the release ----------------------------------------------------------
  // The manifest of release `name_`; `spec_patch` is merged into the spec
  // (RFC 7386; null counts as no patch), `pod_annotations` go on spec.template.
  json releaseManifest(const std::string& image, const json& spec_patch = json::object(),
                       const json& pod_annotations = json::object()) const;
  void createRelease(const std::string& image, const json& spec_patch = json::object(),
                     const json& pod_annotations = json::object());
  // A new image in spec.template, with more spec changes and pod annotations
  // (null removes one) in the same write.
  void setImage(const std::string& image, const json& spec_patch = json::object(),
                const json& pod_annotations = json::object());
  void mergePatch(const core::Gvr& gvr, const std::string& name, const json& patch);

  // --- reading --------------------------------------------------------------
  // The object, or null when it does not exist (other errors fail the test).
  json get(const core::Gvr& gvr, const std::string& name);
  json release() { return get(core::gvrs::kBlueGreenReleases, name_); }
  json status();  // {} when there is no release or no status yet
  std::string stage() { return status().value("stage", ""); }

  // A client for a Sampler's thread, apart from client_ (the test body's); made
  // on first use. Null, with a failure recorded, when it cannot be made.
  kube::KubeClient* samplerClient();

  // --- waiting --------------------------------------------------------------
  // Polls `pred`; on timeout the failure names `what` and shows the release status.
  // Stops early when exitedUnexpectedly() has something to say.
  ::testing::AssertionResult waitFor(const std::string& what, const std::function<bool()>& pred,
                                     Millis timeout, Millis interval = kPollInterval);
  ::testing::AssertionResult waitForStage(const std::string& stage, Millis timeout);
  // Stage Stable, Ready=True, observedGeneration current, active color `color` (any when "").
  ::testing::AssertionResult waitStable(Millis timeout = 60s, const std::string& color = "");
  // Non-empty (why) when a process the test relies on has exited: waiting on is pointless.
  virtual std::string exitedUnexpectedly() { return ""; }

  // The field at `pointer`, or the fallback when `obj` is no object or lacks it.
  static int intAt(const json& obj, const char* pointer, int fallback = -1);
  static std::string strAt(const json& obj, const char* pointer);

  const ReleaseSuite suite_;
  std::unique_ptr<kube::rest::RestKubeClient> client_;
  std::unique_ptr<ScopedNamespace> namespace_;
  std::string ns_;
  std::string name_ = "app";
  std::string host_;

 private:
  std::unique_ptr<kube::rest::RestKubeClient> sampler_client_;
};

}  // namespace bgo::itest
