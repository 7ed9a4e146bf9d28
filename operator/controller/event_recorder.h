#pragma once
// Kubernetes Events for decisions a person wants to see. The same event for the
// same object is sent at most once per interval (kubectl shows the first one;
// a storm helps nobody), so a retried reconcile does not spam.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "operator/core/clock.h"
#include "operator/kube/kube_client.h"

namespace bgo::controller {

using json = nlohmann::json;

struct ObjectRef {
  std::string api_version;
  std::string kind;
  std::string ns;
  std::string name;
  std::string uid;
  std::string resource_version;
};

class EventRecorder {
 public:
  virtual ~EventRecorder() = default;
  virtual void record(const ObjectRef& about, const std::string& type, const std::string& reason,
                      const std::string& message) = 0;
};

class KubeEventRecorder final : public EventRecorder {
 public:
  KubeEventRecorder(kube::KubeClient& client, core::Clock& clock, std::string component,
                    std::chrono::seconds dedup_interval = std::chrono::minutes(5));
  void record(const ObjectRef& about, const std::string& type, const std::string& reason,
              const std::string& message) override;

  static json buildEvent(const ObjectRef& about, const std::string& type, const std::string& reason,
                         const std::string& message, const std::string& component,
                         const std::string& now);

 private:
  kube::KubeClient& client_;
  core::Clock& clock_;
  std::string component_;
  std::chrono::seconds dedup_interval_;
  std::mutex mu_;
  std::map<std::string, core::SteadyTime> last_sent_;
};

// Sends the Events of `inner` from a thread of its own, in order, so a reconcile never waits for
// one (client-go's recorder is asynchronous too): a switch then costs the route and the status
// write, not three writes in turn. Bounded: with `capacity` waiting, new Events are dropped and
// counted (best effort, like every Event). stop() sends what waits within the grace period.
class AsyncEventRecorder final : public EventRecorder {
 public:
  explicit AsyncEventRecorder(EventRecorder& inner, std::size_t capacity = 1000);
  ~AsyncEventRecorder() override;
  AsyncEventRecorder(const AsyncEventRecorder&) = delete;
  AsyncEventRecorder& operator=(const AsyncEventRecorder&) = delete;

  void record(const ObjectRef& about, const std::string& type, const std::string& reason,
              const std::string& message) override;
  // Sends what is queued (until `grace` has passed), then ends the thread. Later Events are dropped.
  void stop(std::chrono::milliseconds grace);
  std::uint64_t dropped() const { return dropped_.load(); }

 private:
  struct Item {
    ObjectRef about;
    std::string type, reason, message;
  };
  void run();

  EventRecorder& inner_;
  const std::size_t capacity_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  bool stopping_ = false;
  bool busy_ = false;
  std::condition_variable idle_;
  std::atomic<std::uint64_t> dropped_{0};
  std::thread thread_;
};

}  // namespace bgo::controller
