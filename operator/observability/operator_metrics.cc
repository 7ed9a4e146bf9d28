#include "operator/observability/operator_metrics.h"

#include <string>

#include "operator/core/clock.h"

namespace bgo::observability {

namespace {

// Reconciles and API calls: milliseconds to a minute.
const std::vector<double> kRequestBuckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                          0.25,  0.5,    1,     2.5,  5,     10,   30, 60};
// Queue latencies as client-go measures them: 1 us .. 100 s, by tens.
const std::vector<double> kQueueBuckets = exponentialBuckets(1e-6, 10, 9);
// Promotion waits: seconds to an hour (readyForSeconds defaults to 10).
const std::vector<double> kPromotionBuckets{1, 5, 10, 15, 20, 30, 45, 60, 120, 300, 600, 1800, 3600};

constexpr const char* kStageFailed = "Failed";

}  // namespace

OperatorMetrics::OperatorMetrics(Registry& r)
    : registry(r),
      reconcile_total(r.counter("bluegreen_reconcile_total",
                                "Reconciles of BlueGreenReleases by result (success, error).",
                                {"result"})),
      reconcile_errors_total(r.counter("bluegreen_reconcile_errors_total",
                                       "Failed reconciles by retry class (replan, backoff, none).",
                                       {"retry"})),
      reconcile_duration(r.histogram("bluegreen_reconcile_duration_seconds",
                                     "Time one reconcile took, in seconds.", {}, kRequestBuckets)),
      workqueue_depth(r.gauge("workqueue_depth", "Keys waiting in the work queue.", {"name"})),
      workqueue_adds(r.counter("workqueue_adds_total",
                               "Keys that became pending in the work queue (coalesced adds not counted).",
                               {"name"})),
      workqueue_queue_duration(r.histogram("workqueue_queue_duration_seconds",
                                           "Time a key waited in the queue before a worker took it.",
                                           {"name"}, kQueueBuckets)),
      workqueue_work_duration(r.histogram("workqueue_work_duration_seconds",
                                          "Time a worker held a key.", {"name"}, kQueueBuckets)),
      workqueue_retries(r.counter("workqueue_retries_total", "Rate-limited re-adds of keys.", {"name"})),
      rest_requests(r.counter("rest_client_requests_total",
                              "API server requests by verb and HTTP status code.", {"verb", "code"})),
      rest_request_duration(r.histogram("rest_client_request_duration_seconds",
                                        "API server request latency by verb, in seconds.", {"verb"},
                                        kRequestBuckets)),
      informer_watch_restarts(r.counter("informer_watch_restarts_total",
                                        "Watches resumed after they ended or failed.", {"resource"})),
      informer_relists(r.counter("informer_relists_total",
                                 "Full relists after the first list (410 Gone and the like).",
                                 {"resource"})),
      leader_status(r.gauge("leader_election_master_status",
                            "1 while this replica holds the leader lease, else 0.", {"name"})),
      release_info(r.gauge("bluegreen_release_info",
                           "One series per BlueGreenRelease at 1: its active color and stage.",
                           {"namespace", "name", "active_color", "stage"})),
      switches(r.counter("bluegreen_switches_total",
                         "Main-route switches by release and reason (Initial, Promoted, Rollback).",
                         {"namespace", "name", "reason"})),
      rollbacks(r.counter("bluegreen_rollbacks_total", "Switches back to the previous color.")),
      failed_releases(r.counter("bluegreen_failed_releases_total",
                                "Releases that entered stage Failed (progress deadline, invalid spec).")),
      promotable_to_switched(r.histogram(
          "bluegreen_promotable_to_switched_seconds",
          "Time from the preview becoming promotable (status.promotableSince) to the route switch.",
          {}, kPromotionBuckets)) {}

void OperatorMetrics::setLeader(const std::string& lease_name, bool leading) {
  leader_status.with({lease_name}).set(leading ? 1.0 : 0.0);
}

QueueMetrics::QueueMetrics(OperatorMetrics& m, const std::string& queue_name)
    : adds_(m.workqueue_adds.with({queue_name})),
      depth_(m.workqueue_depth.with({queue_name})),
      queue_duration_(m.workqueue_queue_duration.with({queue_name})),
      work_duration_(m.workqueue_work_duration.with({queue_name})),
      retries_(m.workqueue_retries.with({queue_name})) {}

void QueueMetrics::onAdd(const std::string&) { adds_.inc(); }
void QueueMetrics::onDepth(std::size_t depth) { depth_.set(static_cast<double>(depth)); }
void QueueMetrics::onQueueLatency(std::chrono::nanoseconds d) { queue_duration_.observe(d); }
void QueueMetrics::onWorkDuration(std::chrono::nanoseconds d) { work_duration_.observe(d); }
void QueueMetrics::onRetry(const std::string&) { retries_.inc(); }

RestMetrics::RestMetrics(OperatorMetrics& m) : m_(m) {}

void RestMetrics::onRequest(std::string_view verb, const core::Gvr&, int code,
                            std::chrono::nanoseconds latency) {
  const std::string v(verb);
  m_.rest_requests.with({v, code > 0 ? std::to_string(code) : "<error>"}).inc();
  m_.rest_request_duration.with({v}).observe(latency);
}

ReleaseMetrics::ReleaseMetrics(OperatorMetrics& m) : m_(m) {}

void ReleaseMetrics::onPlan(const core::ObjectKey& key, const bluegreen::Observed& observed,
                            const bluegreen::Plan& plan) {
  const api::Status& before = observed.release().status;
  const api::Status& after = plan.status;
  std::lock_guard lock(mu_);
  State& s = releases_[key];

  LabelValues info{key.ns, key.name, after.active_color, after.stage};
  if (info != s.info) {
    if (!s.info.empty()) m_.release_info.remove(s.info);
    m_.release_info.with(info).set(1.0);
    s.info = std::move(info);
  }

  if (after.stage == kStageFailed && before.stage != kStageFailed && s.stage != kStageFailed) {
    m_.failed_releases.with({}).inc();
  }
  s.stage = after.stage;

  s.pending.reset();
  if (!plan.switched || after.history.empty()) return;
  const api::HistoryEntry& e = after.history.front();
  if (!before.history.empty() && before.history.front() == e) return;  // recorded earlier
  PendingSwitch p{{e.from, e.to, e.revision}, e.reason, std::nullopt};
  const std::string& since =
      !before.promotable_since.empty() ? before.promotable_since : after.promotable_since;
  auto from = core::parseRfc3339(since);
  auto to = e.time.empty() ? std::optional<core::WallTime>(observed.now) : core::parseRfc3339(e.time);
  if (from && to && *to >= *from) p.promotable_seconds = std::chrono::duration<double>(*to - *from).count();
  s.pending = std::move(p);
}

void ReleaseMetrics::onSwitched(const core::ObjectKey& key, const std::string&) {
  std::lock_guard lock(mu_);
  auto it = releases_.find(key);
  if (it == releases_.end() || !it->second.pending) return;
  State& s = it->second;
  PendingSwitch p = std::move(*s.pending);
  s.pending.reset();
  if (s.last_switch && *s.last_switch == p.id) return;  // the same switch planned again
  s.last_switch = p.id;
  m_.switches.with({key.ns, key.name, p.reason}).inc();
  if (p.reason == "Rollback") m_.rollbacks.with({}).inc();
  if (p.promotable_seconds) m_.promotable_to_switched.with({}).observe(*p.promotable_seconds);
}

void ReleaseMetrics::releaseGone(const core::ObjectKey& key) {
  std::lock_guard lock(mu_);
  auto it = releases_.find(key);
  if (it == releases_.end()) return;
  if (!it->second.info.empty()) m_.release_info.remove(it->second.info);
  releases_.erase(it);
  // Per-release switch counters go too: their series would otherwise live forever.
  for (const char* reason : {"Initial", "Promoted", "Rollback"}) {
    m_.switches.remove({key.ns, key.name, reason});
  }
}

}  // namespace bgo::observability
