#include "operator/controller/leader_election.h"

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include "operator/core/gvr.h"
#include "operator/testing/fake_kube_client.h"
#include "operator/testing/manual_clock.h"

namespace bgo::controller {
namespace {

using namespace std::chrono_literals;
using core::gvrs::kLeases;
using json = nlohmann::json;

constexpr const char* kNs = "bluegreen-system";
constexpr const char* kLease = "bluegreen-operator";

// One replica's view of the API server: the shared fake, behind a switch that
// can break or hang this replica's calls, and a hook before its writes.
class ReplicaClient final : public kube::KubeClient {
 public:
  explicit ReplicaClient(kube::KubeClient& inner) : inner_(inner) {}

  std::atomic<bool> broken{false};
  std::function<void()> before_write;  // runs once, then clears itself

  void hangCalls() {
    std::lock_guard lock(mu_);
    hang_ = true;
  }
  // Waits (real time, bounded) until a call is stuck in the hang.
  bool waitUntilHanging() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 5s, [&] { return hanging_ > 0; });
  }
  // The hung calls then fail with a timeout, or go through when `succeed` (a slow answer).
  void releaseHang(bool succeed = false) {
    std::lock_guard lock(mu_);
    hang_ = false;
    pass_after_hang_ = succeed;
    cv_.notify_all();
  }

  kube::Result<json> get(const core::Gvr& g, const std::string& ns, const std::string& n,
                         const std::string& sub = "") override {
    if (auto e = gate()) return core::fail(*e);
    return inner_.get(g, ns, n, sub);
  }
  kube::Result<json> list(const core::Gvr& g, const std::string& ns, const kube::ListOptions& o = {}) override {
    if (auto e = gate()) return core::fail(*e);
    return inner_.list(g, ns, o);
  }
  kube::Result<json> create(const core::Gvr& g, const std::string& ns, const json& body,
                            const kube::WriteOptions& o = {}) override {
    if (auto e = gate()) return core::fail(*e);
    runHook();
    return inner_.create(g, ns, body, o);
  }
  kube::Result<json> replace(const core::Gvr& g, const std::string& ns, const std::string& n,
                             const json& body, const kube::WriteOptions& o = {}) override {
    if (auto e = gate()) return core::fail(*e);
    runHook();
    return inner_.replace(g, ns, n, body, o);
  }
  kube::Result<json> patch(const core::Gvr& g, const std::string& ns, const std::string& n,
                           kube::PatchType t, const json& p, const kube::WriteOptions& o = {}) override {
    if (auto e = gate()) return core::fail(*e);
    runHook();
    return inner_.patch(g, ns, n, t, p, o);
  }
  kube::Status remove(const core::Gvr& g, const std::string& ns, const std::string& n,
                      const kube::DeleteOptions& o = {}) override {
    if (auto e = gate()) return core::fail(*e);
    return inner_.remove(g, ns, n, o);
  }
  kube::Result<std::unique_ptr<kube::WatchStream>> watch(const core::Gvr& g, const std::string& ns,
                                                         const kube::WatchOptions& o = {}) override {
    return inner_.watch(g, ns, o);
  }

 private:
  std::optional<core::Error> gate() {
    {
      std::unique_lock lock(mu_);
      if (hang_) {
        ++hanging_;
        cv_.notify_all();
        cv_.wait(lock, [&] { return !hang_; });
        --hanging_;
        if (pass_after_hang_) return std::nullopt;
        return core::Error::make(core::ErrorCode::kTimeout, "request timed out");
      }
    }
    if (broken) return core::Error::make(core::ErrorCode::kUnavailable, "connection refused");
    return std::nullopt;
  }
  void runHook() {
    auto hook = std::move(before_write);
    before_write = nullptr;
    if (hook) hook();
  }

  kube::KubeClient& inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool hang_ = false;
  bool pass_after_hang_ = false;
  int hanging_ = 0;
};

// Counts callbacks; lets a test wait for one.
struct Events {
  std::mutex mu;
  std::condition_variable cv;
  int started = 0;
  int stopped = 0;
  std::vector<std::string> leaders;
  std::vector<core::SteadyTime> stopped_at;

  LeaderCallbacks callbacks(const core::Clock& clock) {
    return {[this] {
              std::lock_guard l(mu);
              ++started;
              cv.notify_all();
            },
            [this, &clock] {
              std::lock_guard l(mu);
              ++stopped;
              stopped_at.push_back(clock.now());
              cv.notify_all();
            },
            [this](const std::string& id) {
              std::lock_guard l(mu);
              leaders.push_back(id);
            }};
  }
  bool waitFor(std::function<bool()> pred) {
    std::unique_lock l(mu);
    return cv.wait_for(l, 5s, pred);
  }
  int startedCount() {
    std::lock_guard l(mu);
    return started;
  }
  int stoppedCount() {
    std::lock_guard l(mu);
    return stopped;
  }
};

// Waits (real time, bounded) for another thread's progress.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds within = 5s) {
  const auto until = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::yield();
  }
  return pred();
}

class LeaderElectionTest : public ::testing::Test {
 protected:
  LeaderElectionConfig config(const std::string& id) {
    LeaderElectionConfig c;
    c.lease_namespace = kNs;
    c.lease_name = kLease;
    c.identity = id;
    c.jitter = 0;  // deterministic retry times in threaded tests
    return c;
  }
  json lease() { return *api_.get(kLeases, kNs, kLease); }
  int leaders() { return int(a_.isLeader()) + int(b_.isLeader()); }
  // Moves time and lets threaded electors see it.
  void advance(std::chrono::nanoseconds d) {
    clock_.advance(d);
    waiter_a_.wake();
    waiter_b_.wake();
  }

  testing::ManualClock clock_;
  testing::FakeKubeClient api_{clock_};
  ReplicaClient client_a_{api_};
  ReplicaClient client_b_{api_};
  ClockWaiter waiter_a_{clock_};
  ClockWaiter waiter_b_{clock_};
  Events ev_a_;
  Events ev_b_;
  LeaderElector a_{client_a_, clock_, waiter_a_, config("replica-a"), ev_a_.callbacks(clock_)};
  LeaderElector b_{client_b_, clock_, waiter_b_, config("replica-b"), ev_b_.callbacks(clock_)};
};

TEST_F(LeaderElectionTest, ExactlyOneOfTwoCandidatesLeads) {
  EXPECT_FALSE(a_.leaderKnown());
  ASSERT_TRUE(a_.tryAcquireOrRenew());
  EXPECT_FALSE(b_.tryAcquireOrRenew());
  EXPECT_TRUE(b_.leaderKnown());
  for (int round = 0; round < 30; ++round) {
    advance(2s);
    EXPECT_TRUE(a_.tryAcquireOrRenew()) << round;
    EXPECT_FALSE(b_.tryAcquireOrRenew()) << round;
    ASSERT_EQ(leaders(), 1) << round;
    ASSERT_TRUE(a_.isLeader());
  }
  EXPECT_EQ(b_.leader(), "replica-a");
  EXPECT_EQ(ev_a_.startedCount(), 1);
  EXPECT_EQ(ev_b_.startedCount(), 0);
  EXPECT_EQ(ev_b_.leaders, std::vector<std::string>{"replica-a"});

  const json spec = lease()["spec"];
  EXPECT_EQ(spec["holderIdentity"], "replica-a");
  EXPECT_EQ(spec["leaseDurationSeconds"], 15);
  EXPECT_EQ(spec["leaseTransitions"], 0);
  const std::regex micro(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)");
  EXPECT_TRUE(std::regex_match(spec["renewTime"].get<std::string>(), micro)) << spec;
  EXPECT_TRUE(std::regex_match(spec["acquireTime"].get<std::string>(), micro)) << spec;
  EXPECT_NE(spec["renewTime"], spec["acquireTime"]);  // renewed since
}

TEST_F(LeaderElectionTest, ALeaderWhoseRenewalsFailStopsExactlyAtTheRenewDeadline) {
  ASSERT_TRUE(a_.tryAcquireOrRenew());
  const auto t0 = clock_.now();
  EXPECT_EQ(a_.renewDeadline(), t0 + 10s);
  LeaderOnlyWrites writes(client_a_, [&] { return a_.isLeader(); });

  client_a_.broken = true;
  for (int i = 1; i <= 4; ++i) {
    advance(2s);
    EXPECT_FALSE(a_.tryAcquireOrRenew());
    EXPECT_TRUE(a_.isLeader()) << "still inside the deadline at +" << 2 * i << "s";
  }
  advance(1999ms);
  EXPECT_TRUE(a_.isLeader());
  client_a_.broken = false;  // the gate itself is under test now
  EXPECT_TRUE(writes.create(core::gvrs::kConfigMaps, "default",
                            {{"metadata", {{"name", "before-deadline"}, {"namespace", "default"}}}})
                  .ok());
  client_a_.broken = true;

  advance(1ms);  // t0 + 10s: no thread has run, yet the replica must stop writing
  EXPECT_FALSE(a_.isLeader());
  client_a_.broken = false;
  auto refused = writes.create(core::gvrs::kConfigMaps, "default",
                               {{"metadata", {{"name", "after-deadline"}, {"namespace", "default"}}}});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, core::ErrorCode::kCancelled);
  EXPECT_EQ(writes.refused(), 1u);
  client_a_.broken = true;

  EXPECT_EQ(ev_a_.stoppedCount(), 0);
  EXPECT_FALSE(a_.enforceDeadline());
  EXPECT_EQ(ev_a_.stoppedCount(), 1);
  EXPECT_EQ(ev_a_.stopped_at.at(0), t0 + 10s);
  EXPECT_FALSE(a_.enforceDeadline());
  EXPECT_EQ(ev_a_.stoppedCount(), 1);  // once
}

TEST_F(LeaderElectionTest, TheOtherReplicaTakesOverOnlyAfterTheLeaseExpires) {
  ASSERT_TRUE(a_.tryAcquireOrRenew());
  EXPECT_FALSE(b_.tryAcquireOrRenew());
  for (int i = 0; i < 3; ++i) {
    advance(2s);
    ASSERT_TRUE(a_.tryAcquireOrRenew());
    EXPECT_FALSE(b_.tryAcquireOrRenew());
  }
  // A dies here (kill -9): no more renewals, no release.
  const auto died = clock_.now();
  std::optional<core::SteadyTime> took_over;
  for (int i = 0; i < 20 && !took_over; ++i) {
    advance(1s);
    if (b_.tryAcquireOrRenew()) took_over = clock_.now();
    ASSERT_LE(leaders(), 1) << "two leaders at +" << i + 1 << "s";
  }
  ASSERT_TRUE(took_over.has_value());
  // B last saw A's record change at `died` (its try right after A's last renewal).
  EXPECT_EQ(*took_over - died, 15s);
  EXPECT_TRUE(b_.isLeader());
  EXPECT_FALSE(a_.isLeader());
  const json spec = lease()["spec"];
  EXPECT_EQ(spec["holderIdentity"], "replica-b");
  EXPECT_EQ(spec["leaseTransitions"], 1);
  EXPECT_EQ(ev_b_.startedCount(), 1);
  EXPECT_EQ(ev_b_.leaders, (std::vector<std::string>{"replica-a", "replica-b"}));
}

TEST_F(LeaderElectionTest, AStartingReplicaWaitsAFullLeaseForAHolderItNeverSawRenew) {
  ASSERT_TRUE(a_.tryAcquireOrRenew());
  advance(60s);  // A is long dead, but B has only now started: it cannot know that
  EXPECT_FALSE(b_.tryAcquireOrRenew());
  advance(14s);
  EXPECT_FALSE(b_.tryAcquireOrRenew());
  advance(1s);
  EXPECT_TRUE(b_.tryAcquireOrRenew());
}

TEST_F(LeaderElectionTest, ReleaseOnShutdownHandsOverAtOnce) {
  ASSERT_TRUE(a_.tryAcquireOrRenew());
  EXPECT_FALSE(b_.tryAcquireOrRenew());
  advance(2s);
  ASSERT_TRUE(a_.tryAcquireOrRenew());

  EXPECT_TRUE(a_.release());
  EXPECT_FALSE(a_.isLeader());
  EXPECT_EQ(ev_a_.stoppedCount(), 1);
  json spec = lease()["spec"];
  EXPECT_EQ(spec["holderIdentity"], "");
  EXPECT_EQ(spec["leaseDurationSeconds"], 1);

  EXPECT_TRUE(b_.tryAcquireOrRenew());  // no clock movement needed
  spec = lease()["spec"];
  EXPECT_EQ(spec["holderIdentity"], "replica-b");
  EXPECT_EQ(spec["leaseTransitions"], 1);
  EXPECT_TRUE(a_.release());  // not ours any more: nothing to do
  EXPECT_EQ(lease()["spec"]["holderIdentity"], "replica-b");
}

TEST_F(LeaderElectionTest, ConcurrentCreatesHaveOneWinner) {
  client_b_.before_write = [&] { ASSERT_TRUE(a_.tryAcquireOrRenew()); };
  EXPECT_FALSE(b_.tryAcquireOrRenew());  // AlreadyExists -> re-read -> held by A
  EXPECT_TRUE(a_.isLeader());
  EXPECT_EQ(b_.leader(), "replica-a");
  EXPECT_EQ(leaders(), 1);
}

TEST_F(LeaderElectionTest, ConcurrentTakeoversOfAFreeLeaseHaveOneWinnerByResourceVersion) {
  ASSERT_TRUE(a_.tryAcquireOrRenew());
  ASSERT_TRUE(a_.release());
  const auto writes_before = api_.writeCount(testing::Verb::kReplace);
  // B reads the free lease, then A takes it before B's write lands: B's write
  // carries a stale resourceVersion and gets 409.
  client_b_.before_write = [&] { ASSERT_TRUE(a_.tryAcquireOrRenew()); };
  EXPECT_FALSE(b_.tryAcquireOrRenew());
  EXPECT_TRUE(a_.isLeader());
  EXPECT_FALSE(b_.isLeader());
  EXPECT_EQ(lease()["spec"]["holderIdentity"], "replica-a");
  bool saw_conflict = false;
  for (const auto& w : api_.writes()) {
    if (w.error == core::ErrorCode::kConflict) saw_conflict = true;
  }
  EXPECT_TRUE(saw_conflict);
  EXPECT_EQ(api_.writeCount(testing::Verb::kReplace) - writes_before, 2u);  // A's win, B's 409
}

TEST_F(LeaderElectionTest, ALeaderThatSeesAnotherHolderStopsAtOnce) {
  ASSERT_TRUE(a_.tryAcquireOrRenew());
  json l = lease();
  l["spec"]["holderIdentity"] = "someone-else";  // e.g. an operator edited the Lease by hand
  ASSERT_TRUE(api_.replace(kLeases, kNs, kLease, l).ok());
  advance(2s);
  EXPECT_FALSE(a_.tryAcquireOrRenew());
  EXPECT_FALSE(a_.isLeader());
  EXPECT_EQ(ev_a_.stoppedCount(), 1);
}

TEST_F(LeaderElectionTest, TheWatchdogStopsLeadingWhileARenewalHangs) {
  a_.start();
  ASSERT_TRUE(ev_a_.waitFor([&] { return ev_a_.started == 1; }));
  const auto t0 = clock_.now();
  client_a_.hangCalls();
  advance(2s);  // the loop's next renewal starts and hangs
  ASSERT_TRUE(client_a_.waitUntilHanging());
  advance(7s);
  EXPECT_TRUE(a_.isLeader());
  EXPECT_EQ(ev_a_.stoppedCount(), 0);
  advance(1s);  // t0 + 10s
  EXPECT_FALSE(a_.isLeader());
  ASSERT_TRUE(ev_a_.waitFor([&] { return ev_a_.stopped == 1; }))
      << "onStoppedLeading must come at the deadline while the renewal is still stuck";
  EXPECT_EQ(ev_a_.stopped_at.at(0), t0 + 10s);
  client_a_.releaseHang();
  a_.stop();
}

// Seen in the chaos run: the watchdog ended leadership at the deadline, then the
// renewal that had been in flight succeeded and the same process led again while
// it shut down. As in client-go, leadership that ended never comes back, and the
// elector stops renewing a lease it no longer leads on.
TEST_F(LeaderElectionTest, ARenewalThatSucceedsAfterTheDeadlineDoesNotLeadAgain) {
  a_.start();
  ASSERT_TRUE(ev_a_.waitFor([&] { return ev_a_.started == 1; }));
  client_a_.hangCalls();
  advance(2s);
  ASSERT_TRUE(client_a_.waitUntilHanging());
  advance(8s);  // the renew deadline: the watchdog stops leading while the renewal hangs
  ASSERT_TRUE(ev_a_.waitFor([&] { return ev_a_.stopped == 1; }));
  const std::string renewed = lease()["spec"]["renewTime"];
  client_a_.releaseHang(/*succeed=*/true);  // the stuck renewal now goes through
  ASSERT_TRUE(eventually([&] { return lease()["spec"]["renewTime"] != renewed; }));
  for (int i = 0; i < 3; ++i) advance(2s);  // later attempts, if any were still made
  EXPECT_FALSE(eventually([&] { return ev_a_.startedCount() > 1; }, 300ms))
      << "leadership ended at the deadline and must not start again";
  EXPECT_FALSE(a_.isLeader());
  const std::string last = lease()["spec"]["renewTime"];
  advance(2s);
  EXPECT_FALSE(eventually([&] { return lease()["spec"]["renewTime"] != last; }, 300ms))
      << "an elector that stopped leading keeps renewing the lease";
  a_.stop();
}

TEST_F(LeaderElectionTest, RunningElectorsHandOverOnStopWithinOneRetryPeriod) {
  a_.start();
  ASSERT_TRUE(ev_a_.waitFor([&] { return ev_a_.started == 1; }));
  b_.start();
  for (int i = 0; i < 5; ++i) {
    advance(2s);
    // Let A's thread renew at this instant before time moves on again.
    ASSERT_TRUE(eventually([&] { return a_.renewDeadline() == clock_.now() + 10s; })) << i;
    ASSERT_TRUE(a_.isLeader());
    ASSERT_FALSE(b_.isLeader());
  }
  EXPECT_EQ(ev_b_.startedCount(), 0);
  a_.stop();  // releases the lease
  EXPECT_EQ(lease()["spec"]["holderIdentity"], "");
  EXPECT_EQ(ev_a_.stoppedCount(), 1);
  const auto released = clock_.now();
  advance(2s);
  ASSERT_TRUE(ev_b_.waitFor([&] { return ev_b_.started == 1; }));
  EXPECT_LE(clock_.now() - released, 2s);
  EXPECT_TRUE(b_.isLeader());
  b_.stop();
  EXPECT_EQ(lease()["spec"]["holderIdentity"], "");
}

TEST(LeaderElectionConfigTest, RejectsDurationsClientGoRejects) {
  LeaderElectionConfig c;
  c.lease_namespace = "ns";
  EXPECT_TRUE(validate(c).ok());
  c.renew_deadline = 15s;
  EXPECT_FALSE(validate(c).ok());  // lease must exceed the renew deadline
  c.renew_deadline = 2s;
  EXPECT_FALSE(validate(c).ok());  // renew deadline must exceed 1.2 x retry
  c.renew_deadline = 10s;
  c.lease_namespace = "";
  EXPECT_FALSE(validate(c).ok());
}

TEST(LeaderElectionIdentityTest, IsHostnameWithARandomSuffix) {
  const std::string a = defaultIdentity();
  const std::string b = defaultIdentity();
  EXPECT_NE(a, b);
  EXPECT_TRUE(std::regex_match(a, std::regex(R"(.+_[0-9a-f]{8})"))) << a;
}

TEST(LeaseRecordTest, KeepsFieldsItDoesNotModel) {
  json lease = {{"metadata", {{"name", "x"}, {"labels", {{"a", "b"}}}}}, {"spec", {{"strategy", "Custom"}}}};
  LeaseRecord r{"me", 15, "t1", "t2", 3};
  r.writeTo(lease);
  EXPECT_EQ(lease["metadata"]["labels"]["a"], "b");
  EXPECT_EQ(lease["spec"]["strategy"], "Custom");
  EXPECT_EQ(LeaseRecord::fromLease(lease), r);
  EXPECT_EQ(formatMicroTime(core::WallTime{} + std::chrono::seconds(1767225600) + 1234567us),
            "2026-01-01T00:00:01.234567Z");
}

}  // namespace
}  // namespace bgo::controller
