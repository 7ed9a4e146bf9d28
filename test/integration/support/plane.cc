#include "integration/support/plane.h"

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
  });
  return error;
}

}  // namespace bgo::itest
