#pragma once
// The operator as it runs in production, against the real control plane: one
// namespace per test (which also holds the leader-election Lease), one or more
// real operator processes, and their /healthz, /readyz, /metrics and logs.
// Assertions read what the cluster holds (the Lease, the release status) and
// what the processes expose (parsed /metrics, JSON log lines).

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "integration/support/http.h"
#include "integration/support/release_fixture.h"
#include "integration/support/subprocess.h"
#include "unit/observability/exposition_parser.h"

namespace bgo::itest {

inline constexpr const char* kLeaseName = "bluegreen-operator";

// Lease timings for failover tests (seconds): takeover after a kill comes
// between lease - retry and lease + 2.2 * retry after it.
inline const std::vector<std::string> kFastLease{"--lease-duration", "6", "--renew-deadline", "4",
                                                 "--retry-period", "1"};

// One operator process and what its log told about it.
struct OperatorProcess {
  std::unique_ptr<Subprocess> proc;
  std::string log_path;
  int health_port = 0;
  int metrics_port = 0;
  std::string identity;  // from "leader election: <id> is a candidate"
};

struct LaunchOptions {
  std::string kubeconfig;            // "" = the plane's admin kubeconfig
  bool leader_elect = true;
  std::vector<std::string> args;     // appended to the defaults
};

class RuntimeTest : public ReleaseTest {
 protected:
  RuntimeTest();
  void TearDown() override;

  // --- operator processes ---------------------------------------------------
  // Starts the binary with --namespace/--leader-election-namespace = this
  // test's namespace, ports 0, --log-level debug; waits for its "starting:"
  // line (ports). nullptr (with a failure recorded) when it did not start.
  OperatorProcess* startOperator(const LaunchOptions& options = {});
  // Waits until the log names the elector's identity (after the caches synced).
  ::testing::AssertionResult waitIdentity(OperatorProcess& op, Millis timeout = 30s);
  std::string logText(const OperatorProcess& op) const;
  bool logContains(const OperatorProcess& op, const std::string& needle) const;

  // GET on the process's health or metrics port.
  std::optional<HttpResponse> probe(const OperatorProcess& op, const std::string& path);
  // /metrics parsed strictly; nullopt (with a failure) when unreachable or invalid.
  std::optional<test::Exposition> scrape(const OperatorProcess& op);
  // Sum of the samples of `name` whose labels satisfy `match`.
  static double sumWhere(const test::Exposition& ex, const std::string& name,
                         const std::function<bool(const std::map<std::string, std::string>&)>& match =
                             nullptr);
  // API requests this process sent that are not reads (verbs other than get, list, watch).
  static double writeRequests(const test::Exposition& ex);
  // leader_election_master_status{name=<lease>}; nullopt when the series is absent.
  static std::optional<double> leaderStatus(const test::Exposition& ex);

  // --- the Lease --------------------------------------------------------------
  json lease();                // null when absent
  std::string leaseHolder();   // "" when free or absent

  // --- the release ----------------------------------------------------------
  // Entries of status.history that switched to `revision`.
  int switchesTo(const std::string& revision);

  std::vector<std::unique_ptr<OperatorProcess>> operators_;
};

// A ServiceAccount in `ns` with exactly the operator's rights there (the rules
// of manifests/rbac/cluster_role.yaml as a Role, plus the Lease rule unless
// `leases` is false), a fresh token from the TokenRequest API, and a kubeconfig
// using that token. Everything lives in the namespace, so it goes with it.
struct ServiceAccountKubeconfig {
  std::string path;
  std::string token;
  std::string ca_data;  // base64, as in the kubeconfig
  std::string error;    // empty on success
};
ServiceAccountKubeconfig makeServiceAccountKubeconfig(kube::KubeClient& client, const std::string& ns,
                                                      const std::string& path, bool leases = true);

// A TCP port on 127.0.0.1 nothing listens on (bound, then closed).
int closedLocalPort();

}  // namespace bgo::itest
