// /healthz and /readyz of the real binary: not ready before the caches sync
// (an API server it cannot reach), ready after a normal start, and the
// leader-state-known check on its own (a Lease the operator may not read).
#include <csignal>
#include <fstream>
#include <iostream>

#include "integration/runtime/runtime_fixture.h"

namespace bgo::itest {
namespace {

class RuntimeProbesTest : public RuntimeTest {
 protected:
  static bool contains(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }
};

TEST_F(RuntimeProbesTest, ReadyzStays503WhileCachesCannotSync) {
  const int port = closedLocalPort();
  ASSERT_GT(port, 0);
  const std::string token = "unreachable-test-token-7f3a9c1e5b2d4f6a8c0e2b4d6f8a0c2e";
  const std::string path = uniqueLogPath("unreachable", ".kubeconfig");
  {
    const json kubeconfig{
        {"apiVersion", "v1"},
        {"kind", "Config"},
        {"clusters", json::array({{{"name", "nowhere"},
                                   {"cluster", {{"server", "https://127.0.0.1:" + std::to_string(port)},
                                                {"insecure-skip-tls-verify", true}}}}})},
        {"users", json::array({{{"name", "u"}, {"user", {{"token", token}}}}})},
        {"contexts", json::array({{{"name", "c"}, {"context", {{"cluster", "nowhere"}, {"user", "u"}}}}})},
        {"current-context", "c"}};
    makeDirs(std::string(BGO_ITEST_LOG_DIR));
    std::ofstream(path, std::ios::trunc) << kubeconfig.dump(2) << "\n";
  }
  OperatorProcess* op = startOperator({.kubeconfig = path, .args = {"--cache-sync-timeout", "60"}});
  ASSERT_TRUE(op);

  std::string last_body;
  int samples = 0;
  const bool never_ready = holdsFor([&] {
    auto ready = probe(*op, "/readyz");
    auto live = probe(*op, "/healthz");
    if (!ready || !live) return false;
    last_body = ready->body;
    ++samples;
    return ready->status == 503 && live->status == 200 &&
           contains(ready->body, "[-]informers-synced failed") &&
           contains(ready->body, "[-]leader-state-known failed") && op->proc->running();
  }, 4s, 100ms);
  EXPECT_TRUE(never_ready) << "after " << samples << " samples, /readyz said:\n" << last_body;
  // The reason names what is missing: the resources whose informers have not listed.
  for (const char* resource : {"bluegreenreleases", "deployments", "services", "ingressroutes"}) {
    EXPECT_TRUE(contains(last_body, resource)) << "the reason does not name " << resource << ":\n" << last_body;
  }
  EXPECT_TRUE(contains(last_body, "readyz check failed")) << last_body;
  auto live = probe(*op, "/healthz");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200) << live->body;

  // Stopping must not wait for the cache-sync timeout.
  const auto termed = std::chrono::steady_clock::now();
  ASSERT_TRUE(op->proc->signal(SIGTERM));
  const auto code = op->proc->wait(10s);
  const double took = secondsSince(termed);
  EXPECT_TRUE(code) << "still running 10 s after SIGTERM while waiting for caches";
  EXPECT_EQ(code, 0) << "a SIGTERM before the caches synced is still a clean stop";
  EXPECT_LT(took, 3.0);
  std::cout << "[ figures  ] unreachable API server: /readyz 503 over " << samples << " samples; SIGTERM -> exit "
            << took << " s (code " << (code ? std::to_string(*code) : "none") << ")\n";
  EXPECT_EQ(logText(*op).find(token), std::string::npos) << "the kubeconfig token appears in the log";
}

TEST_F(RuntimeProbesTest, ReadyzTurns200AfterSyncAndLeaseRead) {
  OperatorProcess* op = startOperator();
  ASSERT_TRUE(op);
  // The first answers may come before the caches synced; whatever comes, it is 200 or 503, never garbage.
  std::vector<int> seen;
  ASSERT_TRUE(waitFor("/readyz 200", [&] {
    auto r = probe(*op, "/readyz");
    if (!r) return false;
    if (seen.empty() || seen.back() != r->status) seen.push_back(r->status);
    return r->status == 200;
  }, 30s, 20ms));
  for (int s : seen) EXPECT_TRUE(s == 200 || s == 503) << "/readyz answered " << s;
  auto ready = probe(*op, "/readyz");
  ASSERT_TRUE(ready);
  EXPECT_TRUE(contains(ready->body, "[+]informers-synced ok")) << ready->body;
  EXPECT_TRUE(contains(ready->body, "[+]leader-state-known ok")) << ready->body;
  EXPECT_TRUE(lease().is_object()) << "ready with --leader-elect=true means the Lease was read or written";
  EXPECT_TRUE(logContains(*op, "caches synced"));
  auto live = probe(*op, "/healthz");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200) << live->body;
  EXPECT_TRUE(contains(live->body, "[+]reconcile-loop ok")) << live->body;

  // Only GET and HEAD; an unknown path is 404.
  auto missing = probe(*op, "/nothing-here");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  std::cout << "[ figures  ] /readyz sequence on a normal start:";
  for (int s : seen) std::cout << " " << s;
  std::cout << "\n";
}

TEST_F(RuntimeProbesTest, NotReadyWhileTheLeaseCannotBeRead) {
  // The operator's rights in the namespace, minus the Lease rule: the caches
  // sync, the elector gets 403 on the Lease, so leader state stays unknown.
  auto sa = makeServiceAccountKubeconfig(*client_, ns_, uniqueLogPath("no-lease", ".kubeconfig"), false);
  ASSERT_TRUE(sa.error.empty()) << sa.error;
  OperatorProcess* op = startOperator({.kubeconfig = sa.path});
  ASSERT_TRUE(op);
  ASSERT_TRUE(waitFor("the caches synced", [&] { return logContains(*op, "caches synced"); }, 30s));
  std::string body;
  const bool not_ready = holdsFor([&] {
    auto r = probe(*op, "/readyz");
    if (!r) return false;
    body = r->body;
    return r->status == 503 && contains(body, "[+]informers-synced ok") &&
           contains(body, "[-]leader-state-known failed");
  }, 3s, 100ms);
  EXPECT_TRUE(not_ready) << body;
  EXPECT_TRUE(logContains(*op, "leader election: reading lease " + ns_ + "/" + kLeaseName))
      << "the 403 on the Lease is logged";
  EXPECT_TRUE(lease().is_null()) << "no Lease was created without the right to";

  // Without leader election the same rights are enough to be ready.
  OperatorProcess* solo = startOperator({.kubeconfig = sa.path, .leader_elect = false});
  ASSERT_TRUE(solo);
  EXPECT_TRUE(waitFor("/readyz 200 with --leader-elect=false", [&] {
    auto r = probe(*solo, "/readyz");
    return r && r->status == 200 && contains(r->body, "[+]leader-state-known ok");
  }, 30s));
}

}  // namespace
}  // namespace bgo::itest
