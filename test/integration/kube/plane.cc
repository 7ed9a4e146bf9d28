#include "integration/kube/plane.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <random>
#include <thread>

namespace bgo::testing {

using core::ErrorCode;

const core::Gvr kWidgets{"contract.bgo.test", "v1", "widgets", true};

std::string planeKubeconfigPath() {
  const char* p = std::getenv("BGO_KUBECONFIG");
  return p ? p : "";
}

core::Result<kube::rest::ClusterConfig> planeConfig() {
  std::string path = planeKubeconfigPath();
  if (path.empty()) return core::fail(ErrorCode::kConfig, kPlaneMissing);
  return kube::rest::loadKubeconfig(path);
}

std::unique_ptr<kube::rest::RestKubeClient> planeClient(kube::rest::RestOptions options) {
  auto cfg = planeConfig();
  if (!cfg) return nullptr;
  auto c = kube::rest::RestKubeClient::make(*cfg, options);
  if (!c) return nullptr;
  return std::move(*c);
}

std::string uniqueName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  static const unsigned salt = std::random_device{}() % 100000;
  return prefix + "-" + std::to_string(getpid() % 100000) + "-" + std::to_string(counter++) + "-" +
         std::to_string(salt);
}

TestNamespace::TestNamespace(kube::KubeClient& client, const std::string& prefix)
    : client_(client), name_(uniqueName(prefix)) {
  auto r = client_.create(core::gvrs::kNamespaces, "",
                          json{{"apiVersion", "v1"}, {"kind", "Namespace"},
                               {"metadata", {{"name", name_}, {"labels", {{"bgo-test", "kube"}}}}}});
  if (!r) error_ = r.error();
}

TestNamespace::~TestNamespace() {
  if (!error_) (void)client_.remove(core::gvrs::kNamespaces, "", name_);
}

json widgetCrd() {
  json open = {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
  return json{
      {"apiVersion", "apiextensions.k8s.io/v1"},
      {"kind", "CustomResourceDefinition"},
      {"metadata", {{"name", "widgets.contract.bgo.test"}}},
      {"spec",
       {{"group", "contract.bgo.test"},
        {"scope", "Namespaced"},
        {"names", {{"plural", "widgets"}, {"singular", "widget"}, {"kind", "Widget"}, {"listKind", "WidgetList"}}},
        {"versions",
         json::array({{{"name", "v1"},
                       {"served", true},
                       {"storage", true},
                       {"subresources", {{"status", json::object()}}},
                       {"schema",
                        {{"openAPIV3Schema",
                          {{"type", "object"}, {"properties", {{"spec", open}, {"status", open}}}}}}}}})}}}};
}

json makeWidget(const std::string& ns, const std::string& name, const json& spec) {
  return json{{"apiVersion", "contract.bgo.test/v1"},
              {"kind", "Widget"},
              {"metadata", {{"name", name}, {"namespace", ns}}},
              {"spec", spec}};
}

core::Status ensureWidgetCrd(kube::KubeClient& client, std::chrono::seconds timeout) {
  auto r = client.create(core::gvrs::kCrds, "", widgetCrd());
  if (!r && !r.error().is(ErrorCode::kAlreadyExists)) return core::fail(r.error());
  // Established, and the new resource actually served (a list answers).
  std::optional<core::Error> last;
  bool ok = eventually(
      [&] {
        auto crd = client.get(core::gvrs::kCrds, "", "widgets.contract.bgo.test");
        if (!crd) return last = crd.error(), false;
        bool established = false;
        for (const auto& c : crd->value("/status/conditions"_json_pointer, json::array())) {
          if (c.value("type", "") == "Established" && c.value("status", "") == "True") established = true;
        }
        if (!established) return false;
        auto l = client.list(kWidgets, "", {});
        if (!l) return last = l.error(), false;
        return true;
      },
      timeout);
  if (!ok) {
    return core::fail(ErrorCode::kTimeout,
                      "CRD widgets.contract.bgo.test not served" + (last ? ": " + last->describe() : ""));
  }
  return {};
}

core::Result<std::optional<kube::WatchEvent>> nextNonBookmark(kube::WatchStream& stream) {
  for (;;) {
    auto ev = stream.next();
    if (!ev || !*ev || (*ev)->type != kube::WatchEvent::Type::kBookmark) return ev;
  }
}

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string rvOf(const json& obj) {
  return obj.value("/metadata/resourceVersion"_json_pointer, std::string());
}

core::Status waitUntilCompacted(kube::KubeClient& client, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last = "no answer";
  while (std::chrono::steady_clock::now() < deadline) {
    kube::WatchOptions w;
    w.resource_version = "1";
    w.timeout_seconds = 2;
    auto stream = client.watch(core::gvrs::kEvents, "default", w);
    if (!stream) {
      if (stream.error().is(core::ErrorCode::kGone)) return {};
      last = stream.error().describe();
    } else {
      auto ev = nextNonBookmark(**stream);
      if (ev && ev->has_value() && (**ev).type == kube::WatchEvent::Type::kError &&
          (**ev).object.value("code", 0) == 410) {
        return {};
      }
      last = ev ? (ev->has_value() ? std::string(kube::toString((**ev).type)) + " event" : "end of stream")
                : ev.error().describe();
      (*stream)->cancel();
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  return core::fail(core::ErrorCode::kTimeout,
                    "resourceVersion 1 of Events was not compacted within " + std::to_string(timeout.count()) +
                        "s (last: " + last + "); is kube-apiserver running with --etcd-compaction-interval?");
}

}  // namespace bgo::testing
