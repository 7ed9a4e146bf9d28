#pragma once
// Command-line options of bluegreen-operator.

#include <chrono>
#include <string>
#include <vector>

#include "operator/core/result.h"

namespace bgo::app {

struct Options {
  std::string kubeconfig;            // empty: $KUBECONFIG, in-cluster, ~/.kube/config
  std::string context;
  std::vector<std::string> namespaces;  // empty: all namespaces
  int workers = 2;
  std::string log_level = "info";
  std::string log_format = "text";
  bool leader_elect = true;
  std::string leader_election_namespace;  // default: $POD_NAMESPACE or bluegreen-system
  std::string leader_election_id = "bluegreen-operator";
  std::chrono::seconds lease_duration{15};
  std::chrono::seconds renew_deadline{10};
  std::chrono::seconds retry_period{2};
  std::string bind_address = "0.0.0.0";
  int health_port = 8081;
  int metrics_port = 8080;
  std::chrono::seconds resync_period{600};
  std::chrono::seconds shutdown_grace{20};
  std::chrono::seconds cache_sync_timeout{120};
  int rest_threads = 4;
  std::string traefik_api_url;        // empty: no confirmation through Traefik's API
  int traffic_confirm_margin = 5;     // seconds a switch needs to reach Traefik without its API
};

// Parses argv; --help prints usage and returns an error with code kCancelled.
core::Result<Options> parseOptions(int argc, const char* const* argv);
std::string usage();

}  // namespace bgo::app
