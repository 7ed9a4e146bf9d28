#include "integration/support/plane.h"

#include "integration/support/poll.h"
#include "integration/support/subprocess.h"

#include <cstdlib>
#include <mutex>

namespace bgo::itest {

std::string planeKubeconfig() {
  const char* p = std::getenv("BGO_KUBECONFIG");
  return p ? p : "";
}

core::Result<std::unique_ptr<kube::rest::RestKubeClient>> planeClient() {
  static std::once_flag once;
  std::call_once(once, [] { kube::rest::initRestRuntime(4); });
  const std::string path = planeKubeconfig();
  if (path.empty()) return core::fail(core::ErrorCode::kConfig, kNoPlane);
  auto cfg = kube::rest::resolveConfig(path);
  if (!cfg) return core::fail(cfg.error());
  return kube::rest::RestKubeClient::make(*cfg);
}

std::string applyCrdsOnce(const std::string& source_dir) {
  static std::once_flag once;
  static std::string error;
  std::call_once(once, [&] {
    auto r = runCommand({"kubectl", "--kubeconfig", planeKubeconfig(), "apply", "--server-side",
                         "--force-conflicts", "-k", source_dir + "/crds/"},
                        std::chrono::seconds(60));
    if (!r) error = r.error().describe();
    else if (r->exit_code != 0) error = "kubectl apply -k crds/ failed: " + r->output;
    if (!error.empty()) return;
    // A CRD created a moment ago can answer 404 for a while: wait until its resource is served.
    auto client = planeClient();
    if (!client) {
      error = client.error().describe();
      return;
    }
    core::Status last;
    const bool served = eventually([&] {
      kube::ListOptions one;
      one.limit = 1;
      auto l = (*client)->list(core::gvrs::kBlueGreenReleases, "default", one);
      last = l ? core::Status{} : core::fail(l.error());
      return l.ok();
    }, std::chrono::seconds(30), std::chrono::milliseconds(100));
    if (!served) error = "bluegreenreleases not served 30 s after kubectl apply -k crds/: " + last.error().describe();
  });
  return error;
}

}  // namespace bgo::itest
