#include "integration/support/plane.h"

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

}  // namespace bgo::itest
