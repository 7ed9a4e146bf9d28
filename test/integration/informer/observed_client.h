#pragma once
// A KubeClient decorator for informer tests: forwards every call to the real
// client and records each watch (the resourceVersion it resumed from, how the
// server answered, 410s seen), and lets a test cut the open watches and hold
// new ones at a gate, so an informer's progress stops for as long as the test
// needs (until its resourceVersion is compacted).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "operator/kube/kube_client.h"

namespace bgo::inftest {

struct ListCall {
  std::chrono::steady_clock::time_point at;
  std::string continue_token;    // "" for a first page
  std::string answer;            // "rv=<resourceVersion> items=<n>", or the error
};

struct WatchCall {
  std::chrono::steady_clock::time_point at;
  std::string resource_version;  // what the watch resumed from
  std::string answer;            // "open", or the error ("Gone (410): ...", "Unavailable: ...")
};

class ObservedClient final : public kube::KubeClient {
 public:
  explicit ObservedClient(kube::KubeClient& inner) : inner_(inner) {}
  ~ObservedClient() override;

  kube::Result<kube::json> get(const kube::Gvr& gvr, const std::string& ns, const std::string& name,
                               const std::string& subresource = "") override {
    return inner_.get(gvr, ns, name, subresource);
  }
  kube::Result<kube::json> list(const kube::Gvr& gvr, const std::string& ns,
                                const kube::ListOptions& opts = {}) override;
  kube::Result<kube::json> create(const kube::Gvr& gvr, const std::string& ns, const kube::json& body,
                                  const kube::WriteOptions& opts = {}) override {
    return inner_.create(gvr, ns, body, opts);
  }
  kube::Result<kube::json> replace(const kube::Gvr& gvr, const std::string& ns, const std::string& name,
                                   const kube::json& body, const kube::WriteOptions& opts = {}) override {
    return inner_.replace(gvr, ns, name, body, opts);
  }
  kube::Result<kube::json> patch(const kube::Gvr& gvr, const std::string& ns, const std::string& name,
                                 kube::PatchType type, const kube::json& patch,
                                 const kube::WriteOptions& opts = {}) override {
    return inner_.patch(gvr, ns, name, type, patch, opts);
  }
  kube::Status remove(const kube::Gvr& gvr, const std::string& ns, const std::string& name,
                      const kube::DeleteOptions& opts = {}) override {
    return inner_.remove(gvr, ns, name, opts);
  }
  kube::Result<std::unique_ptr<kube::WatchStream>> watch(const kube::Gvr& gvr, const std::string& ns,
                                                         const kube::WatchOptions& opts = {}) override;

  // New watches wait at a closed gate (inside watch()) until it opens.
  void closeGate();
  void openGate();
  // Callers blocked at the gate right now.
  int waitingAtGate() const;
  // Cancels every open watch (the informer sees a dropped stream).
  void cutWatches();

  std::vector<WatchCall> watchCalls() const;
  int watchesOpened() const;
  int gones() const { return gones_.load(); }  // 410 answers and 410 ERROR events
  std::vector<ListCall> listCalls() const;
  std::chrono::steady_clock::time_point lastWatchOpened() const;

  // Called by the stream wrappers.
  void noteGone() { ++gones_; }
  void forget(kube::WatchStream* inner);

 private:
  kube::KubeClient& inner_;
  mutable std::mutex mu_;
  std::condition_variable gate_cv_;
  bool gate_closed_ = false;
  bool closing_ = false;
  int waiting_ = 0;
  std::set<kube::WatchStream*> open_;
  std::vector<WatchCall> calls_;
  std::vector<ListCall> list_calls_;
  std::chrono::steady_clock::time_point last_opened_{};
  std::atomic<int> gones_{0};
};

}  // namespace bgo::inftest
