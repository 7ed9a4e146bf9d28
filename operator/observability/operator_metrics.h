#pragma once
// The operator's metric families, defined in one place, and adapters from the
// hook interfaces of the work queue, the reconciler and the REST client to them
// (controller_metrics.h and informer_metrics.h hold two more). The core modules
// know nothing of metrics: they call their observer interfaces, and the
// adapters live here.

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "operator/bluegreen/reconciler.h"
#include "operator/core/gvr.h"
#include "operator/kube/rest/rest_kube_client.h"
#include "operator/observability/metrics.h"
#include "operator/workqueue/queue.h"

namespace bgo::observability {

// Every family the operator exports. Docs: docs/observability.md.
struct OperatorMetrics {
  explicit OperatorMetrics(Registry& registry);

  Registry& registry;

  // Controller (one per reconcile).
  Family<Counter>& reconcile_total;             // bluegreen_reconcile_total{result}
  Family<Counter>& reconcile_errors_total;      // bluegreen_reconcile_errors_total{retry}
  Family<Histogram>& reconcile_duration;        // bluegreen_reconcile_duration_seconds

  // Work queue (client-go names, label `name` = the queue's name).
  Family<Gauge>& workqueue_depth;               // workqueue_depth{name}
  Family<Counter>& workqueue_adds;              // workqueue_adds_total{name}
  Family<Histogram>& workqueue_queue_duration;  // workqueue_queue_duration_seconds{name}
  Family<Histogram>& workqueue_work_duration;   // workqueue_work_duration_seconds{name}
  Family<Counter>& workqueue_retries;           // workqueue_retries_total{name}

  // API client.
  Family<Counter>& rest_requests;               // rest_client_requests_total{verb,code}
  Family<Histogram>& rest_request_duration;     // rest_client_request_duration_seconds{verb}

  // Informers.
  Family<Counter>& informer_watch_restarts;     // informer_watch_restarts_total{resource}
  Family<Counter>& informer_relists;            // informer_relists_total{resource}

  // Leader election.
  Family<Gauge>& leader_status;                 // leader_election_master_status{name}

  // The domain.
  Family<Gauge>& release_info;                  // bluegreen_release_info{namespace,name,active_color,stage}
  Family<Counter>& switches;                    // bluegreen_switches_total{namespace,name,reason}
  Family<Counter>& rollbacks;                   // bluegreen_rollbacks_total
  Family<Counter>& failed_releases;             // bluegreen_failed_releases_total
  Family<Histogram>& promotable_to_switched;    // bluegreen_promotable_to_switched_seconds

  // leader_election_master_status{name=lease} = 1 or 0. Call from the
  // elector's callbacks (and with false at startup when election is on).
  void setLeader(const std::string& lease_name, bool leading);
};

// workqueue::QueueObserver -> workqueue_* {name}. Pass it to the queue's
// constructor; it must outlive the queue.
class QueueMetrics final : public workqueue::QueueObserver {
 public:
  QueueMetrics(OperatorMetrics& m, const std::string& queue_name);
  void onAdd(const std::string& key) override;
  void onDepth(std::size_t depth) override;
  void onQueueLatency(std::chrono::nanoseconds d) override;
  void onWorkDuration(std::chrono::nanoseconds d) override;
  void onRetry(const std::string& key) override;

 private:
  // Children resolved once: the queue calls these under its lock.
  Counter& adds_;
  Gauge& depth_;
  Histogram& queue_duration_;
  Histogram& work_duration_;
  Counter& retries_;
};

// kube::rest::RequestObserver -> rest_client_requests_total{verb,code} (code
// "<error>" when no response came, as client-go writes it) and latency{verb}.
class RestMetrics final : public kube::rest::RequestObserver {
 public:
  explicit RestMetrics(OperatorMetrics& m);
  void onRequest(std::string_view verb, const core::Gvr& gvr, int code,
                 std::chrono::nanoseconds latency) override;

 private:
  OperatorMetrics& m_;
};

// bluegreen::ReconcileObserver -> the domain metrics:
//  - bluegreen_release_info: one series per release at 1, carrying the planned
//    active color and stage; the old series is removed when either changes;
//  - a switch is counted once, after its writes succeeded (onSwitched), and only
//    when the plan added a new history entry (a stale cache can make the
//    planner repeat a switch it already recorded);
//  - failed releases: transitions into stage Failed;
//  - promotable -> switched: from status.promotableSince (as observed, or as
//    planned when the gate opened in the same reconcile) to the switch time.
class ReleaseMetrics final : public bluegreen::ReconcileObserver {
 public:
  explicit ReleaseMetrics(OperatorMetrics& m);
  void onPlan(const core::ObjectKey& key, const bluegreen::Observed& observed,
              const bluegreen::Plan& plan) override;
  void onSwitched(const core::ObjectKey& key, const std::string& reason) override;
  // The release is gone: drop its series. (The reconciler has no hook for this
  // yet; call it where deletion is noticed.)
  void releaseGone(const core::ObjectKey& key);
  void onGone(const core::ObjectKey& key) override { releaseGone(key); }

 private:
  struct SwitchId {
    std::string from, to, revision;
    bool operator==(const SwitchId&) const = default;
  };
  struct PendingSwitch {
    SwitchId id;
    std::string reason;
    std::optional<double> promotable_seconds;
  };
  struct State {
    LabelValues info;                    // current release_info series
    std::string stage;                   // last planned stage
    std::optional<SwitchId> last_switch;  // last switch counted
    std::optional<PendingSwitch> pending;
  };

  OperatorMetrics& m_;
  std::mutex mu_;
  std::map<core::ObjectKey, State> releases_;
};

}  // namespace bgo::observability
