#pragma once
// A control plane of the suite's own (test/controlplane/start.sh with a
// temporary BGO_PLANE_DIR: own state, own ports), so a test may kill and
// restart its kube-apiserver without disturbing the shared plane at
// build/plane. Purged by the destructor; a detached watchdog purges it too if
// the test process dies first (a ctest timeout kills with SIGKILL).

#include <chrono>
#include <memory>
#include <string>

#include "operator/core/result.h"
#include "operator/kube/rest/rest_kube_client.h"

namespace bgo::inftest {

class PrivatePlane {
 public:
  // `controlplane_dir` is the repo's test/controlplane. Requires BGO_KUBECONFIG
  // (the shared plane is up, so its programs are built), like every
  // integration test; the error says what is missing or what start.sh printed.
  static core::Result<std::unique_ptr<PrivatePlane>> start(const std::string& controlplane_dir);
  ~PrivatePlane();  // stop.sh --purge
  PrivatePlane(const PrivatePlane&) = delete;
  PrivatePlane& operator=(const PrivatePlane&) = delete;

  const std::string& dir() const { return dir_; }
  std::string kubeconfig() const { return dir_ + "/admin.kubeconfig"; }
  // A new admin client of this plane.
  core::Result<std::unique_ptr<kube::rest::RestKubeClient>> client(kube::rest::RestOptions options = {}) const;

  // Sends `sig` to the plane's kube-apiserver (pid from its pid file, checked
  // against /proc) and waits until the process is gone.
  core::Status killApiserver(int sig, std::chrono::seconds timeout = std::chrono::seconds(20));
  // start.sh again: it restarts the components that died and waits for /readyz.
  core::Status restart();
  const std::string& lastStartOutput() const { return last_output_; }
  // The last lines of a component's log ("kube-apiserver", "etcd", ...).
  std::string logTail(const std::string& component, std::size_t lines = 30) const;

 private:
  PrivatePlane(std::string controlplane_dir, std::string dir)
      : cp_dir_(std::move(controlplane_dir)), dir_(std::move(dir)) {}
  static core::Result<std::unique_ptr<PrivatePlane>> startOnce(const std::string& controlplane_dir);
  core::Status runScript(const std::string& script, const std::string& arg);

  std::string cp_dir_;
  std::string dir_;
  std::string last_output_;
};

}  // namespace bgo::inftest
