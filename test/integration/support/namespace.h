#pragma once
// A namespace that lives for one test: unique name, a label naming the suite
// (so leftovers are easy to find), deleted when the object goes.

#include <optional>
#include <string>

#include "operator/core/error.h"
#include "operator/kube/kube_client.h"

namespace bgo::itest {

// "<prefix>-<pid>-<counter>-<random>", cut to a DNS label.
std::string uniqueName(const std::string& prefix);

class ScopedNamespace {
 public:
  // Creates the namespace now; check error() before using it.
  ScopedNamespace(kube::KubeClient& client, const std::string& prefix, const std::string& suite);
  // Deletes it (the API server finishes in the background).
  ~ScopedNamespace();
  ScopedNamespace(const ScopedNamespace&) = delete;
  ScopedNamespace& operator=(const ScopedNamespace&) = delete;

  const std::string& name() const { return name_; }
  const std::optional<core::Error>& error() const { return error_; }
  // Keep the namespace after the test (to look at it by hand).
  void keep() { keep_ = true; }

 private:
  kube::KubeClient& client_;
  std::string name_;
  std::optional<core::Error> error_;
  bool keep_ = false;
};

}  // namespace bgo::itest
