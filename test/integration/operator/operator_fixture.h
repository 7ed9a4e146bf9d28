#pragma once
// One test = one namespace, one release named "app" (see ReleaseTest) and one
// operator process (the real binary) watching that namespace, plus readers for
// the objects the operator owns: Deployments, Services, IngressRoutes, Events.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "integration/support/http.h"
#include "integration/support/release_fixture.h"
#include "integration/support/subprocess.h"

namespace bgo::itest {

// Seconds after a switch before the operator counts it as live in Traefik (no
// Traefik API on the plane): Traefik's default provider throttle.
inline constexpr int kConfirmMargin = 2;

class OperatorTest : public ReleaseTest {
 protected:
  OperatorTest();
  void TearDown() override;

  // --- the operator process -------------------------------------------------
  // Starts the binary for this test's namespace; a new log file per start.
  void startOperator(const std::vector<std::string>& extra_args = {});
  // Sends `sig` and waits for the exit; returns the exit code (128 + signal).
  int stopOperator(int sig);
  std::string operatorLogTail(std::size_t lines = 60) const;
  std::string exitedUnexpectedly() override;
  // The running operator's /metrics (its port from the "starting:" log line).
  std::string operatorMetrics();
  // Write requests the operator sent (create, update, apply, patch, delete).
  double operatorWrites();
  // operatorWrites() once it held for 1 s: Events are sent after the reconcile that planned them
  // (AsyncEventRecorder), so one may still be in flight when the state a test waits for is visible.
  double settledWrites();
  double operatorReconciles();

  // --- the release ----------------------------------------------------------
  void annotateRelease(const std::string& key, const std::string& value);

  // --- reading --------------------------------------------------------------
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

  // A Sampler body: reads the main IngressRoute through samplerClient() and hands
  // it, the service its first route names and that client to `on_route`; does
  // nothing while the route is absent. Empty (failure recorded) without a client.
  using RouteSample =
      std::function<void(const json& route, const std::string& service, kube::KubeClient& client)>;
  std::function<void()> mainRouteSample(RouteSample on_route);

  std::string describeState();

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
