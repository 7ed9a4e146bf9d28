#include "operator/observability/operator_metrics.h"

#include <gtest/gtest.h>

#include "operator/core/clock.h"
#include "operator/observability/controller_metrics.h"
#include "operator/testing/manual_clock.h"
#include "operator/workqueue/queue.h"
#include "unit/observability/exposition_parser.h"
#include "unit/observability/operator_metric_families.h"

namespace bgo::observability {
namespace {

using namespace std::chrono_literals;
using bgo::test::kOperatorMetricFamilies;
using bgo::test::parseExposition;

class OperatorMetricsTest : public ::testing::Test {
 protected:
  bgo::test::Exposition scrape() {
    auto ex = parseExposition(registry_.render());
    EXPECT_TRUE(ex.ok()) << ex.error;
    return ex;
  }

  Registry registry_;
  OperatorMetrics m_{registry_};
};

TEST_F(OperatorMetricsTest, DefinesEveryFamilyWithItsType) {
  auto ex = scrape();
  for (const auto& [name, type] : kOperatorMetricFamilies) {
    const auto* f = ex.family(name);
    ASSERT_NE(f, nullptr) << name;
    EXPECT_EQ(f->type, type) << name;
    EXPECT_FALSE(f->help.empty()) << name;
  }
  EXPECT_EQ(ex.families.size(), kOperatorMetricFamilies.size());
  EXPECT_EQ(ex.value("bluegreen_rollbacks_total"), 0.0);
}

TEST_F(OperatorMetricsTest, QueueMetricsFollowARealWorkQueue) {
  testing::ManualClock clock;
  QueueMetrics qm(m_, "bluegreen");
  workqueue::WorkQueue q(clock, &qm);
  q.add("ns/a");
  q.add("ns/b");
  q.add("ns/a");  // coalesced: not an add
  auto ex = scrape();
  EXPECT_EQ(ex.value("workqueue_adds_total", {{"name", "bluegreen"}}), 2.0);
  EXPECT_EQ(ex.value("workqueue_depth", {{"name", "bluegreen"}}), 2.0);

  clock.advance(300ms);
  auto key = q.get();
  ASSERT_EQ(key, "ns/a");
  clock.advance(2s);
  q.done(*key);
  qm.onRetry("ns/a");

  ex = scrape();
  EXPECT_EQ(ex.value("workqueue_depth", {{"name", "bluegreen"}}), 1.0);
  EXPECT_EQ(ex.value("workqueue_queue_duration_seconds_count", {{"name", "bluegreen"}}), 1.0);
  EXPECT_NEAR(*ex.value("workqueue_queue_duration_seconds_sum", {{"name", "bluegreen"}}), 0.3, 1e-9);
  EXPECT_NEAR(*ex.value("workqueue_work_duration_seconds_sum", {{"name", "bluegreen"}}), 2.0, 1e-9);
  EXPECT_EQ(ex.value("workqueue_retries_total", {{"name", "bluegreen"}}), 1.0);
}

TEST_F(OperatorMetricsTest, ControllerMetricsCountResultsAndRetryClasses) {
  ControllerMetrics cm(m_);
  core::ObjectKey k{"ns", "a"};
  cm.onReconcile(k, 20ms, nullptr);
  cm.onReconcile(k, 40ms, nullptr);
  auto conflict = core::Error::make(core::ErrorCode::kConflict, "stale", 409);
  cm.onReconcile(k, 5ms, &conflict);
  auto unavailable = core::Error::make(core::ErrorCode::kUnavailable, "down", 503);
  cm.onReconcile(k, 5s, &unavailable);

  auto ex = scrape();
  EXPECT_EQ(ex.value("bluegreen_reconcile_total", {{"result", "success"}}), 2.0);
  EXPECT_EQ(ex.value("bluegreen_reconcile_total", {{"result", "error"}}), 2.0);
  EXPECT_EQ(ex.value("bluegreen_reconcile_errors_total", {{"retry", "replan"}}), 1.0);
  EXPECT_EQ(ex.value("bluegreen_reconcile_errors_total", {{"retry", "backoff"}}), 1.0);
  EXPECT_EQ(ex.value("bluegreen_reconcile_duration_seconds_count"), 4.0);
  EXPECT_NEAR(*ex.value("bluegreen_reconcile_duration_seconds_sum"), 5.065, 1e-9);
  EXPECT_EQ(ex.value("bluegreen_reconcile_duration_seconds_bucket", {{"le", "0.025"}}), 2.0);
}

TEST_F(OperatorMetricsTest, RestMetricsLabelVerbAndCodeAndTransportErrors) {
  RestMetrics rm(m_);
  rm.onRequest("GET", core::gvrs::kDeployments, 200, 10ms);
  rm.onRequest("GET", core::gvrs::kDeployments, 200, 30ms);
  rm.onRequest("PATCH", core::gvrs::kServices, 409, 5ms);
  rm.onRequest("WATCH", core::gvrs::kPods, 0, 1s);
  auto ex = scrape();
  EXPECT_EQ(ex.value("rest_client_requests_total", {{"verb", "GET"}, {"code", "200"}}), 2.0);
  EXPECT_EQ(ex.value("rest_client_requests_total", {{"verb", "PATCH"}, {"code", "409"}}), 1.0);
  EXPECT_EQ(ex.value("rest_client_requests_total", {{"verb", "WATCH"}, {"code", "<error>"}}), 1.0);
  EXPECT_EQ(ex.value("rest_client_request_duration_seconds_count", {{"verb", "GET"}}), 2.0);
  EXPECT_NEAR(*ex.value("rest_client_request_duration_seconds_sum", {{"verb", "GET"}}), 0.04, 1e-9);
}

TEST_F(OperatorMetricsTest, LeaderStatusFlips) {
  m_.setLeader("bluegreen-operator", false);
  EXPECT_EQ(scrape().value("leader_election_master_status", {{"name", "bluegreen-operator"}}), 0.0);
  m_.setLeader("bluegreen-operator", true);
  EXPECT_EQ(scrape().value("leader_election_master_status", {{"name", "bluegreen-operator"}}), 1.0);
}

// --- the domain ---

class ReleaseMetricsTest : public OperatorMetricsTest {
 protected:
  const core::ObjectKey key_{"shop", "web"};
  ReleaseMetrics rm_{m_};

  static core::WallTime at(const std::string& s) { return *core::parseRfc3339(s); }

  bluegreen::Observed observed(const std::string& stage, const std::string& active,
                               const std::string& promotable_since = "",
                               std::vector<api::HistoryEntry> history = {}) {
    bluegreen::Observed o;
    o.parsed.release.ns = key_.ns;
    o.parsed.release.name = key_.name;
    o.parsed.release.status.stage = stage;
    o.parsed.release.status.active_color = active;
    o.parsed.release.status.promotable_since = promotable_since;
    o.parsed.release.status.history = std::move(history);
    o.now = at("2026-01-01T10:00:30Z");
    return o;
  }
  static bluegreen::Plan plan(const std::string& stage, const std::string& active,
                              std::vector<api::HistoryEntry> history = {}, bool switched = false) {
    bluegreen::Plan p;
    p.status.stage = stage;
    p.status.active_color = active;
    p.status.history = std::move(history);
    p.switched = switched;
    return p;
  }
  std::map<std::string, std::string> info(const std::string& color, const std::string& stage) const {
    return {{"namespace", key_.ns}, {"name", key_.name}, {"active_color", color}, {"stage", stage}};
  }
  std::map<std::string, std::string> sw(const std::string& reason) const {
    return {{"namespace", key_.ns}, {"name", key_.name}, {"reason", reason}};
  }
};

TEST_F(ReleaseMetricsTest, ReleaseInfoKeepsOneSeriesPerReleaseAndDropsOldLabelSets) {
  rm_.onPlan(key_, observed("", ""), plan("Deploying", ""));
  auto ex = scrape();
  EXPECT_EQ(ex.value("bluegreen_release_info", info("", "Deploying")), 1.0);

  rm_.onPlan(key_, observed("Deploying", ""), plan("Deploying", ""));  // unchanged
  rm_.onPlan(key_, observed("Deploying", ""), plan("Stable", "blue"));
  ex = scrape();
  EXPECT_EQ(ex.samples("bluegreen_release_info").size(), 1u);
  EXPECT_EQ(ex.value("bluegreen_release_info", info("blue", "Stable")), 1.0);
  EXPECT_FALSE(ex.value("bluegreen_release_info", info("", "Deploying")).has_value());

  rm_.releaseGone(key_);
  EXPECT_TRUE(scrape().samples("bluegreen_release_info").empty());
}

TEST_F(ReleaseMetricsTest, CountsASwitchOnceOnlyAfterItsWritesSucceeded) {
  const api::HistoryEntry promoted{"blue", "green", "rev2", "2026-01-01T10:00:30Z", "Promoted"};
  const std::vector<api::HistoryEntry> before{{"", "blue", "rev1", "2026-01-01T09:00:00Z", "Initial"}};
  auto obs = observed("AwaitingPromotion", "blue", "2026-01-01T10:00:05Z", before);
  auto p = plan("Draining", "green", {promoted, before[0]}, true);

  // Planned, but the writes failed: onSwitched never came. Nothing counted.
  rm_.onPlan(key_, obs, p);
  auto ex = scrape();
  EXPECT_FALSE(ex.value("bluegreen_switches_total", sw("Promoted")).has_value());
  EXPECT_EQ(ex.value("bluegreen_promotable_to_switched_seconds_count"), 0.0);

  // Planned again and done.
  rm_.onPlan(key_, obs, p);
  rm_.onSwitched(key_, "Promoted");
  // A stale cache makes the planner repeat the same switch: not a second one.
  rm_.onPlan(key_, obs, p);
  rm_.onSwitched(key_, "Promoted");

  ex = scrape();
  EXPECT_EQ(ex.value("bluegreen_switches_total", sw("Promoted")), 1.0);
  EXPECT_EQ(ex.value("bluegreen_rollbacks_total"), 0.0);
  EXPECT_EQ(ex.value("bluegreen_promotable_to_switched_seconds_count"), 1.0);
  EXPECT_NEAR(*ex.value("bluegreen_promotable_to_switched_seconds_sum"), 25.0, 1e-9);
  EXPECT_EQ(ex.value("bluegreen_promotable_to_switched_seconds_bucket", {{"le", "20"}}), 0.0);
  EXPECT_EQ(ex.value("bluegreen_promotable_to_switched_seconds_bucket", {{"le", "30"}}), 1.0);
}

TEST_F(ReleaseMetricsTest, ASwitchAlreadyInTheObservedHistoryIsNotCounted) {
  const api::HistoryEntry promoted{"blue", "green", "rev2", "2026-01-01T10:00:30Z", "Promoted"};
  auto obs = observed("Draining", "green", "", {promoted});
  rm_.onPlan(key_, obs, plan("Draining", "green", {promoted}, true));
  rm_.onSwitched(key_, "Promoted");
  EXPECT_FALSE(scrape().value("bluegreen_switches_total", sw("Promoted")).has_value());
}

TEST_F(ReleaseMetricsTest, RollbacksCountAsSwitchesAndRollbacks) {
  const api::HistoryEntry promoted{"blue", "green", "rev2", "2026-01-01T10:00:00Z", "Promoted"};
  const api::HistoryEntry back{"green", "blue", "rev1", "2026-01-01T10:05:00Z", "Rollback"};
  auto obs = observed("Stable", "green", "", {promoted});
  auto p = plan("Draining", "blue", {back, promoted}, true);
  p.status.promotable_since = "2026-01-01T10:05:00Z";  // warm rollback: the gate opened just now
  rm_.onPlan(key_, obs, p);
  rm_.onSwitched(key_, "Rollback");
  auto ex = scrape();
  EXPECT_EQ(ex.value("bluegreen_switches_total", sw("Rollback")), 1.0);
  EXPECT_EQ(ex.value("bluegreen_rollbacks_total"), 1.0);
  EXPECT_EQ(ex.value("bluegreen_promotable_to_switched_seconds_count"), 1.0);
  EXPECT_NEAR(*ex.value("bluegreen_promotable_to_switched_seconds_sum"), 0.0, 1e-9);

  // Then forward again to the same revision: a new switch.
  const api::HistoryEntry again{"blue", "green", "rev2", "2026-01-01T10:10:00Z", "Promoted"};
  rm_.onPlan(key_, observed("Stable", "blue", "", {back, promoted}),
             plan("Draining", "green", {again, back, promoted}, true));
  rm_.onSwitched(key_, "Promoted");
  EXPECT_EQ(scrape().value("bluegreen_switches_total", sw("Promoted")), 1.0);

  rm_.releaseGone(key_);
  ex = scrape();
  EXPECT_TRUE(ex.samples("bluegreen_switches_total").empty());
  EXPECT_EQ(ex.value("bluegreen_rollbacks_total"), 1.0);  // a total, kept
}

TEST_F(ReleaseMetricsTest, CountsEachEntryIntoFailedOnce) {
  rm_.onPlan(key_, observed("Deploying", "blue"), plan("Failed", "blue"));
  rm_.onPlan(key_, observed("Deploying", "blue"), plan("Failed", "blue"));  // stale cache
  rm_.onPlan(key_, observed("Failed", "blue"), plan("Failed", "blue"));
  EXPECT_EQ(scrape().value("bluegreen_failed_releases_total"), 1.0);
  rm_.onPlan(key_, observed("Failed", "blue"), plan("Deploying", "blue"));  // a new revision
  rm_.onPlan(key_, observed("Deploying", "blue"), plan("Failed", "blue"));
  EXPECT_EQ(scrape().value("bluegreen_failed_releases_total"), 2.0);
}

}  // namespace
}  // namespace bgo::observability
