#include "operator/app/options.h"

#include <sstream>

#include <boost/program_options.hpp>

namespace bgo::app {

namespace po = boost::program_options;

namespace {

po::options_description describe(Options& o, std::string& namespaces_csv, int& lease, int& renew,
                                 int& retry, int& resync, int& grace, int& sync_timeout) {
  po::options_description d("bluegreen-operator: blue-green releases behind Traefik\nOptions");
  d.add_options()
      ("help,h", "show this help")
      ("kubeconfig", po::value(&o.kubeconfig), "kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)")
      ("context", po::value(&o.context), "kubeconfig context (default: current-context)")
      ("namespace", po::value(&namespaces_csv), "watch only this namespace (default: all)")
      ("namespaces", po::value(&namespaces_csv), "watch these namespaces, comma-separated")
      ("workers", po::value(&o.workers)->default_value(2), "concurrent reconciles")
      ("log-level", po::value(&o.log_level)->default_value("info"), "trace|debug|info|warn|error")
      ("log-format", po::value(&o.log_format)->default_value("text"), "text|json")
      ("leader-elect", po::value(&o.leader_elect)->default_value(true), "elect a leader on a Lease (true|false)")
      ("leader-election-namespace", po::value(&o.leader_election_namespace), "namespace of the Lease (default: $POD_NAMESPACE or bluegreen-system)")
      ("leader-election-id", po::value(&o.leader_election_id)->default_value("bluegreen-operator"), "name of the Lease")
      ("lease-duration", po::value(&lease)->default_value(15), "seconds a lease is valid")
      ("renew-deadline", po::value(&renew)->default_value(10), "seconds the leader retries renewing before giving up")
      ("retry-period", po::value(&retry)->default_value(2), "seconds between election attempts")
      ("bind-address", po::value(&o.bind_address)->default_value("0.0.0.0"), "address of the health and metrics endpoints")
      ("health-port", po::value(&o.health_port)->default_value(8081), "port of /healthz and /readyz (0: any free port)")
      ("metrics-port", po::value(&o.metrics_port)->default_value(8080), "port of /metrics (0: any free port; same as health-port: one server)")
      ("resync-period", po::value(&resync)->default_value(600), "seconds between full resyncs of every release")
      ("shutdown-grace", po::value(&grace)->default_value(20), "seconds to finish in-flight reconciles on SIGTERM")
      ("cache-sync-timeout", po::value(&sync_timeout)->default_value(120), "seconds to wait for caches at start")
      ("rest-threads", po::value(&o.rest_threads)->default_value(4), "HTTP client threads")
      ("traefik-api-url", po::value(&o.traefik_api_url), "Traefik's API (e.g. http://traefik.traefik:9000): after a switch, the old color is scaled down only once Traefik serves the new one")
      ("traffic-confirm-margin", po::value(&o.traffic_confirm_margin)->default_value(5), "without --traefik-api-url: seconds after a switch before it counts as live in Traefik (its provider throttle is 2 s by default)");
  return d;
}

}  // namespace

std::string usage() {
  Options o;
  std::string ns;
  int a, b, c, d, e, f;
  std::ostringstream out;
  out << describe(o, ns, a, b, c, d, e, f);
  return out.str();
}

core::Result<Options> parseOptions(int argc, const char* const* argv) {
  Options o;
  std::string namespaces_csv;
  int lease = 15, renew = 10, retry = 2, resync = 600, grace = 20, sync_timeout = 120;
  auto desc = describe(o, namespaces_csv, lease, renew, retry, resync, grace, sync_timeout);
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    return core::fail(core::ErrorCode::kConfig, std::string(e.what()) + " (see --help)");
  }
  if (vm.count("help")) return core::fail(core::ErrorCode::kCancelled, usage());
  std::stringstream ss(namespaces_csv);
  for (std::string item; std::getline(ss, item, ',');) {
    if (!item.empty()) o.namespaces.push_back(item);
  }
  o.lease_duration = std::chrono::seconds(lease);
  o.renew_deadline = std::chrono::seconds(renew);
  o.retry_period = std::chrono::seconds(retry);
  o.resync_period = std::chrono::seconds(resync);
  o.shutdown_grace = std::chrono::seconds(grace);
  o.cache_sync_timeout = std::chrono::seconds(sync_timeout);
  auto bad = [](const std::string& m) { return core::fail(core::ErrorCode::kConfig, m); };
  if (o.workers < 1 || o.workers > 64) return bad("--workers must be between 1 and 64");
  if (o.log_format != "text" && o.log_format != "json") return bad("--log-format must be text or json");
  if (lease <= renew || renew <= retry || retry < 1) {
    return bad("leader election needs lease-duration > renew-deadline > retry-period >= 1");
  }
  if (resync < 10) return bad("--resync-period must be at least 10 seconds");
  if (o.health_port < 0 || o.health_port > 65535 || o.metrics_port < 0 || o.metrics_port > 65535) {
    return bad("--health-port and --metrics-port must be between 0 and 65535");
  }
  if (o.traffic_confirm_margin < 0 || o.traffic_confirm_margin > 600) {
    return bad("--traffic-confirm-margin must be between 0 and 600 seconds");
  }
  if (o.rest_threads < 2 || o.rest_threads > 64) return bad("--rest-threads must be between 2 and 64");
  if (o.leader_election_namespace.empty()) {
    const char* pod_ns = std::getenv("POD_NAMESPACE");
    o.leader_election_namespace = pod_ns && *pod_ns ? pod_ns : "bluegreen-system";
  }
  return o;
}

}  // namespace bgo::app
