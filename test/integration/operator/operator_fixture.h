#pragma once
// One test = one namespace, one operator process (the real binary), one
// release named "app" and the real control plane. Helpers read the objects the
// way a person would (kubectl get), so assertions are on what the cluster holds.

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "integration/support/http.h"
#include "integration/support/namespace.h"
#include "integration/support/plane.h"
#include "integration/support/poll.h"
#include "integration/support/subprocess.h"

namespace bgo::itest {

using json = nlohmann::json;
using namespace std::chrono_literals;

inline constexpr const char* kImage1 = "registry.example/app:1";
inline constexpr const char* kImage2 = "registry.example/app:2";
inline constexpr const char* kImage3 = "registry.example/app:3";
inline constexpr const char* kImage4 = "registry.example/app:4";

// Seconds after a switch before the operator counts it as live in Traefik (no
// Traefik API on the plane): Traefik's default provider throttle.
inline constexpr int kConfirmMargin = 2;

class OperatorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  void SetUp() override;
  void TearDown() override;

  // --- the operator process -------------------------------------------------
  // Starts the binary for this test's namespace; a new log file per start.
  void startOperator(const std::vector<std::string>& extra_args = {});
  // Sends `sig` and waits for the exit; returns the exit code (128 + signal).
  int stopOperator(int sig);
  std::string operatorLogTail(std::size_t lines = 60) const;
  // The running operator's /metrics (its port from the "starting:" log line).
  std::string operatorMetrics();
  // Write requests the operator sent (create, update, apply, patch, delete).
  double operatorWrites();
  double operatorReconciles();

  // --- the release ----------------------------------------------------------
  // The manifest of release `name_`; `spec_patch` is merged into the spec (RFC 7386).
  json releaseManifest(const std::string& image, const json& spec_patch = json::object(),
                       const json& pod_annotations = json::object()) const;
  void createRelease(const std::string& image, const json& spec_patch = json::object(),
                     const json& pod_annotations = json::object());
  // A new image (and pod annotations; null removes one) in spec.template.
  void setImage(const std::string& image, const json& pod_annotations = json::object());
  void annotateRelease(const std::string& key, const std::string& value);
  void mergePatch(const core::Gvr& gvr, const std::string& name, const json& patch);

  // --- reading --------------------------------------------------------------
  // The object, or null when it does not exist (other errors fail the test).
  json get(const core::Gvr& gvr, const std::string& name);
  json release() { return get(core::gvrs::kBlueGreenReleases, name_); }
  json status();
  std::string stage();
  std::string previewRevision();
  // "True" / "False" / "" (absent).
  std::string conditionStatus(const std::string& type);
  json condition(const std::string& type);  // {} when absent
  json deployment(const std::string& color) { return get(core::gvrs::kDeployments, name_ + "-" + color); }
  json service(const std::string& color) { return get(core::gvrs::kServices, name_ + "-" + color); }
  json ingressRoute(const std::string& name) { return get(core::gvrs::kIngressRoutes, name); }
  // The service named by the route whose match is `match` in IngressRoute
  // `route` (defaults: the managed main route and its host); "" if none.
  std::string routeService(const std::string& route = "", const std::string& match = "");
  // Events about the release (reason filter optional), oldest first.
  std::vector<json> releaseEvents(const std::string& reason = "");
  std::size_t countNamespaceEvents();
  std::vector<json> listItems(const core::Gvr& gvr);

  // --- waiting --------------------------------------------------------------
  // Polls `pred`; on timeout the failure names `what` and shows the release status.
  ::testing::AssertionResult waitFor(const std::string& what, const std::function<bool()>& pred,
                                     Millis timeout, Millis interval = kPollInterval);
  ::testing::AssertionResult waitForStage(const std::string& stage, Millis timeout);
  // Stage Stable, Ready=True, observedGeneration current.
  ::testing::AssertionResult waitStable(Millis timeout = 60s);

  std::string describeState();

  static int intAt(const json& obj, const char* pointer, int fallback = -1);
  static std::string strAt(const json& obj, const char* pointer);

  std::unique_ptr<kube::rest::RestKubeClient> client_;
  std::unique_ptr<ScopedNamespace> namespace_;
  std::string ns_;
  std::string name_ = "app";
  std::string host_;
  std::unique_ptr<Subprocess> operator_;
  std::vector<std::string> operator_logs_;
};

// Snapshot of one Deployment's replica counts, for samplers.
struct DeploymentState {
  bool exists = false;
  int spec_replicas = 0;
  int ready_replicas = 0;
  int updated_replicas = 0;
  int64_t generation = 0;
  int64_t observed_generation = 0;
  std::string revision;
  std::string image;
  // Caught up at its spec: the rollout finished and every replica is ready.
  bool fullyReady() const {
    return exists && observed_generation >= generation && updated_replicas == spec_replicas &&
           ready_replicas == spec_replicas;
  }
};
DeploymentState deploymentState(const json& deployment);

}  // namespace bgo::itest
