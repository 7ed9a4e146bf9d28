// Kubeconfig parsing: any text ends in a configuration or in one error that
// names the kubeconfig, never in an exception. Relative file references resolve
// under a folder that does not exist; absolute ones are read, at most 4 MiB.
#include <cstddef>
#include <cstdint>
#include <string>

#include "operator/kube/rest/config.h"
#include "test/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string path = "/nonexistent-fuzz/kubeconfig";
  for (const char* context : {"", "ctx"}) {
    auto cfg = bgo::kube::rest::parseKubeconfig(text, path, context);
    if (cfg) {
      FUZZ_CHECK(!cfg->server.empty());
      FUZZ_CHECK(cfg->source.find(path) != std::string::npos);
    } else {
      FUZZ_CHECK(cfg.error().message.find("kubeconfig " + path) != std::string::npos);
    }
  }
  return 0;
}
