#pragma once
// The backends the contract runs against.

#include <memory>
#include <string>

#include "integration/kube/plane.h"
#include "operator/testing/fake_kube_client.h"

namespace bgo::testing {

struct FakeEnv {
  static constexpr const char* kName = "FakeKubeClient";
  FakeKubeClient fake;
  std::string setupError() { return ""; }
  kube::KubeClient& client() { return fake; }
  core::Status prepareWidgets() {
    fake.setStatusSubresource(kWidgets, true);
    return {};
  }
  void forgetHistory() { fake.compactHistory(); }
};

struct RestEnv {
  static constexpr const char* kName = "RestKubeClient";
  std::unique_ptr<kube::rest::RestKubeClient> rest;
  std::string error;
  RestEnv() {
    auto cfg = planeConfig();
    if (!cfg) {
      error = cfg.error().message;
      return;
    }
    auto c = kube::rest::RestKubeClient::make(*cfg);
    if (!c) {
      error = c.error().describe();
      return;
    }
    rest = std::move(*c);
  }
  std::string setupError() { return error; }
  kube::KubeClient& client() { return *rest; }
  core::Status prepareWidgets() { return ensureWidgetCrd(*rest); }
  // Events have no watch cache, so their watches read etcd, which the plane's
  // kube-apiserver compacts every 10 s: wait until resourceVersion 1 is gone.
  void forgetHistory() { (void)waitUntilCompacted(*rest); }
};

}  // namespace bgo::testing
