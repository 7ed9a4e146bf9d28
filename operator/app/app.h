#pragma once
// Wires the operator: informers -> queue -> workers -> reconciler, plus the
// periodic resync. main() parses flags, builds an App and runs it.

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>

#include <spdlog/logger.h>

#include "operator/app/informer_cache.h"
#include "operator/app/options.h"
#include "operator/bluegreen/reconciler.h"
#include "operator/controller/controller.h"
#include "operator/controller/event_recorder.h"
#include "operator/workqueue/rate_limiting_queue.h"

namespace bgo::app {

// The options of the operator's informers: what is dropped before caching, packed storage.
informer::InformerOptions cacheOptions(std::shared_ptr<spdlog::logger> log);

// When to look at a release again: what its reconcile asked for, and at the
// latest after the resync period (the safety net for changes no watch reports,
// e.g. objects outside the label-filtered caches).
std::chrono::milliseconds resyncRequeue(std::optional<std::chrono::milliseconds> requested,
                                        std::chrono::seconds resync_period);

class App {
 public:
  App(Options options, kube::KubeClient& client, core::Clock& clock,
      std::shared_ptr<spdlog::logger> log, bluegreen::ReconcileObserver* reconcile_observer = nullptr,
      workqueue::QueueObserver* queue_observer = nullptr,
      controller::ControllerObserver* controller_observer = nullptr);
  ~App();

  // Configures --traefik-api-url; an error names the flag.
  core::Status configureTraffic();
  // Starts informers and waits for their caches; false (logged) on timeout.
  bool startCaches();
  // Starts the workers and enqueues every release (call when leading).
  void startWorkers();
  void enqueueAll();
  // Stops taking work, finishes in-flight reconciles within the grace period.
  bool stop();

  bool cachesSynced() const { return cache_.hasSynced(); }
  controller::Controller& controller() { return controller_; }
  InformerCache& cache() { return cache_; }

 private:
  void registerHandlers();
  void enqueueKey(const std::string& key);

  Options options_;
  kube::KubeClient& client_;
  core::Clock& clock_;
  std::shared_ptr<spdlog::logger> log_;
  controller::KubeEventRecorder kube_events_;
  controller::AsyncEventRecorder events_;
  InformerCache cache_;
  workqueue::RateLimitingQueue queue_;
  std::unique_ptr<traefik::TraefikApiConfirmer> confirmer_;
  bluegreen::Reconciler reconciler_;
  controller::Controller controller_;
  std::atomic<bool> workers_started_{false};
  std::atomic<bool> stopping_{false};
};

}  // namespace bgo::app
