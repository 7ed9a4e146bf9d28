#include "integration/support/namespace.h"

#include <unistd.h>

#include <atomic>
#include <random>

namespace bgo::itest {

std::string uniqueName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  static const unsigned salt = std::random_device{}() % 100000;
  std::string name = prefix + "-" + std::to_string(getpid() % 100000) + "-" +
                     std::to_string(counter++) + "-" + std::to_string(salt);
  if (name.size() > 63) name = name.substr(name.size() - 63);
  while (!name.empty() && name.front() == '-') name.erase(0, 1);
  return name;
}

ScopedNamespace::ScopedNamespace(kube::KubeClient& client, const std::string& prefix,
                                 const std::string& suite)
    : client_(client), name_(uniqueName(prefix)) {
  nlohmann::json ns{{"apiVersion", "v1"},
                    {"kind", "Namespace"},
                    {"metadata", {{"name", name_}, {"labels", {{"bgo-test", suite}}}}}};
  auto r = client_.create(core::gvrs::kNamespaces, "", ns);
  if (!r) error_ = r.error();
}

ScopedNamespace::~ScopedNamespace() {
  if (!error_ && !keep_) {
    (void)client_.remove(core::gvrs::kNamespaces, "", name_, {.propagation_policy = "Background"});
  }
}

}  // namespace bgo::itest
