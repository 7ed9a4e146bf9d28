#pragma once
// One reconcile of one release: observe (from the caches) -> plan (pure) ->
// execute (the only writes) -> status (one write, only when it changed).

#include <chrono>
#include <memory>
#include <map>
#include <mutex>
#include <optional>

#include <spdlog/logger.h>

#include "operator/bluegreen/object_reader.h"
#include "operator/bluegreen/plan.h"
#include "operator/controller/event_recorder.h"
#include "operator/core/clock.h"
#include "operator/core/gvr.h"
#include "operator/kube/kube_client.h"
#include "operator/traffic/traefik/route_confirmer.h"

namespace bgo::bluegreen {

struct ReconcileOutcome {
  std::optional<std::chrono::milliseconds> requeue_after;
  std::size_t writes = 0;     // API writes this reconcile made (status included)
  bool switched = false;
  std::string stage;
};

// Hooks for metrics; no-ops by default.
class ReconcileObserver {
 public:
  virtual ~ReconcileObserver() = default;
  virtual void onPlan(const core::ObjectKey&, const Observed&, const Plan&) {}
  virtual void onSwitched(const core::ObjectKey&, const std::string& /*reason*/) {}
  virtual void onGone(const core::ObjectKey&) {}  // the release no longer exists
};

class Reconciler {
 public:
  Reconciler(const ObjectReader& cache, kube::KubeClient& client, controller::EventRecorder& events,
             core::Clock& clock, std::shared_ptr<spdlog::logger> log,
             ReconcileObserver* observer = nullptr);

  core::Result<ReconcileOutcome> reconcile(const core::ObjectKey& key);

  // Confirm switches through Traefik's API (null: wait `margin_seconds` instead).
  void setTrafficConfirmation(traefik::RouteConfirmer* confirmer, int margin_seconds) {
    confirmer_ = confirmer;
    confirm_margin_seconds_ = margin_seconds;
  }

  // Gathers what plan() needs; exposed for tests.
  std::optional<Observed> observe(const core::ObjectKey& key) const;

 private:
  core::Status execute(const core::ObjectKey& key, const Action& a);
  // The caches hold only objects labelled as ours: a miss is read from the
  // API server, so someone else's object with our name is seen (and refused).
  core::Status readMisses(Observed& o);
  void releaseGone(const core::ObjectKey& key);
  // For a failed hook Job not yet recorded as failed: the failing container's
  // termination message, read from the Job's pods (not cached: rarely needed).
  core::Status readHookFailures(Observed& o);

  // After a status write the cache must move past the resourceVersion the
  // plan was made from before the next plan: status carries the switch history
  // and gate clocks, and planning on a stale copy could, e.g., scale down a
  // color that was switched away from a moment ago.
  bool awaitingCache(const core::ObjectKey& key, const std::string& cached_rv);
  void expectNewerThan(const core::ObjectKey& key, const std::string& rv);

  struct Expectation {
    std::string stale_rv;
    core::SteadyTime until;
  };
  std::mutex expectations_mu_;
  std::map<std::string, Expectation> expectations_;

  // Writes the API server refused as invalid, per release: not sent again for
  // the same spec generation until kRejectionRetry has passed (an admission
  // rule may change without the release changing).
  struct Rejection {
    int64_t generation = 0;
    std::string message;
    core::SteadyTime until;
  };
  static constexpr std::chrono::minutes kRejectionRetry{5};
  std::optional<std::string> rejection(const core::ObjectKey& key, int64_t generation);
  void reject(const core::ObjectKey& key, int64_t generation, const std::string& message);
  std::mutex rejections_mu_;
  std::map<std::string, Rejection> rejections_;

  const ObjectReader& cache_;
  kube::KubeClient& client_;
  controller::EventRecorder& events_;
  core::Clock& clock_;
  std::shared_ptr<spdlog::logger> log_;
  ReconcileObserver* observer_;
  traefik::RouteConfirmer* confirmer_ = nullptr;
  int confirm_margin_seconds_ = 5;
  void askTraefik(Observed& o) const;
  void askPreview(Observed& o) const;
  std::string routeClaimant(const json& self, const api::Release& r) const;
};

}  // namespace bgo::bluegreen
