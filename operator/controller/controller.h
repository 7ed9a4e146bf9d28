#pragma once
// The generic reconcile loop: workers take keys from a rate-limited queue,
// call the reconcile function and requeue by the error's retry class:
//   replan  -> requeue soon (per-key backoff from a few ms)
//   backoff -> exponential per-key backoff (Retry-After honoured when longer)
//   none    -> forget: terminal, reported by the reconciler, no hot loop; looked
//              at again after the terminal requeue (the resync period)
// A success forgets the key's failures and requeues after `requeue_after`.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/logger.h>

#include "operator/core/gvr.h"
#include "operator/core/result.h"
#include "operator/workqueue/rate_limiting_queue.h"

namespace bgo::controller {

struct ReconcileResult {
  std::optional<std::chrono::nanoseconds> requeue_after;
};

using ReconcileFn = std::function<core::Result<ReconcileResult>(const core::ObjectKey&)>;

class ControllerObserver {
 public:
  virtual ~ControllerObserver() = default;
  virtual void onReconcile(const core::ObjectKey&, std::chrono::nanoseconds /*duration*/,
                           const core::Error* /*error or null*/) {}
};

class Controller {
 public:
  Controller(std::string name, workqueue::RateLimitingQueue& queue, ReconcileFn reconcile,
             std::shared_ptr<spdlog::logger> log, ControllerObserver* observer = nullptr);
  ~Controller();

  void enqueue(const core::ObjectKey& key) { queue_.add(key.str()); }
  void start(int workers);
  // Stops taking work and waits for in-flight reconciles (bounded by `grace`).
  // Returns false when some were still running at the bound.
  bool stop(std::chrono::milliseconds grace);
  // Writes are allowed only while true (leader election flips it).
  void setActive(bool active) { active_.store(active); }
  // A key whose reconcile ended on a terminal error is looked at again after
  // `after` (the resync period), like every other key; zero: only on events.
  void setTerminalRequeue(std::chrono::milliseconds after) { terminal_requeue_ = after; }
  bool active() const { return active_.load(); }
  // Seconds since a worker last finished or waited for work: the /healthz signal.
  std::chrono::steady_clock::time_point lastProgress() const;
  std::size_t inFlight() const { return in_flight_.load(); }

 private:
  void worker();
  void processOne(const std::string& key);
  std::chrono::milliseconds terminal_requeue_{0};

  std::string name_;
  workqueue::RateLimitingQueue& queue_;
  ReconcileFn reconcile_;
  std::shared_ptr<spdlog::logger> log_;
  ControllerObserver* observer_;
  std::vector<std::thread> workers_;
  std::atomic<bool> active_{true};
  std::atomic<std::size_t> in_flight_{0};
  std::atomic<int64_t> last_progress_ns_{0};
};

}  // namespace bgo::controller
