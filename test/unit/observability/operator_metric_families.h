#pragma once
// The metric families the operator exposes on /metrics, each with its type:
// the unit test of OperatorMetrics and the test of the real binary's /metrics
// hold the exposition to the same list.

#include <map>
#include <string>

namespace bgo::test {

// family name -> counter, gauge or histogram
inline const std::map<std::string, std::string> kOperatorMetricFamilies{
    {"bluegreen_reconcile_total", "counter"},
    {"bluegreen_reconcile_errors_total", "counter"},
    {"bluegreen_reconcile_duration_seconds", "histogram"},
    {"workqueue_depth", "gauge"},
    {"workqueue_adds_total", "counter"},
    {"workqueue_queue_duration_seconds", "histogram"},
    {"workqueue_work_duration_seconds", "histogram"},
    {"workqueue_retries_total", "counter"},
    {"rest_client_requests_total", "counter"},
    {"rest_client_request_duration_seconds", "histogram"},
    {"informer_watch_restarts_total", "counter"},
    {"informer_relists_total", "counter"},
    {"leader_election_master_status", "gauge"},
    {"bluegreen_release_info", "gauge"},
    {"bluegreen_switches_total", "counter"},
    {"bluegreen_rollbacks_total", "counter"},
    {"bluegreen_failed_releases_total", "counter"},
    {"bluegreen_promotable_to_switched_seconds", "histogram"},
};

}  // namespace bgo::test
