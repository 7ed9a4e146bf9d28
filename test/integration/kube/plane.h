#pragma once
// Helpers for tests against the real control plane (BGO_KUBECONFIG).

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "operator/kube/kube_client.h"
#include "operator/kube/rest/config.h"
#include "operator/kube/rest/rest_kube_client.h"

namespace bgo::testing {

using json = nlohmann::json;

// The path in BGO_KUBECONFIG, or "" (callers FAIL with kPlaneMissing).
std::string planeKubeconfigPath();
inline constexpr const char* kPlaneMissing =
    "BGO_KUBECONFIG is not set: start the control plane (test/controlplane/start.sh) and "
    "`source build/plane/env`, or run through `make test`";

// The admin configuration of the plane; an error describes what is missing.
core::Result<kube::rest::ClusterConfig> planeConfig();
std::unique_ptr<kube::rest::RestKubeClient> planeClient(kube::rest::RestOptions options = {});

// A name unique to this process and call: "<prefix>-<pid>-<counter>-<random>".
std::string uniqueName(const std::string& prefix);

// A namespace created for one test and deleted (in the background) after it.
class TestNamespace {
 public:
  TestNamespace(kube::KubeClient& client, const std::string& prefix);
  ~TestNamespace();
  const std::string& name() const { return name_; }
  const std::optional<core::Error>& error() const { return error_; }

 private:
  kube::KubeClient& client_;
  std::string name_;
  std::optional<core::Error> error_;
};

// The test CRD: widgets.contract.bgo.test/v1, namespaced, spec + status subresource.
extern const core::Gvr kWidgets;
json widgetCrd();
json makeWidget(const std::string& ns, const std::string& name, const json& spec);
// Creates the CRD if missing and waits until it is served.
core::Status ensureWidgetCrd(kube::KubeClient& client, std::chrono::seconds timeout = std::chrono::seconds(30));

// The next event that is not a bookmark (nullopt at end of stream).
core::Result<std::optional<kube::WatchEvent>> nextNonBookmark(kube::WatchStream& stream);

// Waits until a watch of Events from resourceVersion "1" is answered with 410:
// Events have no watch cache, and the plane's kube-apiserver compacts etcd every
// 10 s (--etcd-compaction-interval), so this holds within ~20 s of its start.
core::Status waitUntilCompacted(kube::KubeClient& client,
                                std::chrono::seconds timeout = std::chrono::seconds(60));

// Polls `done` every 50 ms until it is true or `timeout` passes.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout);

std::string rvOf(const json& obj);

}  // namespace bgo::testing
