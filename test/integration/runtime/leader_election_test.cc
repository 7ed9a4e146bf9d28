// Two replicas on one Lease: only the leader writes; kill -9 or SIGTERM of the
// leader mid-release hands the release to the other, which completes it.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <atomic>
#include <csignal>
#include <iostream>
#include <mutex>
#include <numeric>
#include <thread>

#include "integration/runtime/runtime_fixture.h"

namespace bgo::itest {
namespace {

class RuntimeLeaderElectionTest : public RuntimeTest {
 protected:
  // Starts a replica and waits until it is the holder of the Lease.
  OperatorProcess* startLeader(const std::vector<std::string>& args) {
    OperatorProcess* op = startOperator({.args = args});
    if (!op) return nullptr;
    EXPECT_TRUE(waitIdentity(*op));
    EXPECT_TRUE(waitFor("the first replica to hold the Lease", [&] { return leaseHolder() == op->identity; }, 20s,
                        50ms));
    return op;
  }
  // Starts a replica that finds the Lease held: a standby, once its /readyz is 200.
  OperatorProcess* startStandby(const std::vector<std::string>& args) {
    OperatorProcess* op = startOperator({.args = args});
    if (!op) return nullptr;
    EXPECT_TRUE(waitIdentity(*op));
    EXPECT_TRUE(waitFor("the standby ready (caches synced, Lease read)", [&] {
      auto r = probe(*op, "/readyz");
      return r && r->status == 200;
    }, 20s, 50ms));
    return op;
  }
  std::string revisionOf(const std::string& color) {
    return status().value(json::json_pointer("/colors/" + color + "/revision"), std::string());
  }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : (v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2);
}

TEST_F(RuntimeLeaderElectionTest, ExactlyOneOfTwoReplicasLeadsAndOnlyItWrites) {
  OperatorProcess* a = startLeader(kFastLease);
  ASSERT_TRUE(a && !HasFailure());
  OperatorProcess* b = startStandby(kFastLease);
  ASSERT_TRUE(b && !HasFailure());
  ASSERT_NE(a->identity, b->identity);

  auto ea = scrape(*a), eb = scrape(*b);
  ASSERT_TRUE(ea && eb);
  EXPECT_EQ(leaderStatus(*ea), 1.0) << "the holder of the Lease reports itself as leader";
  EXPECT_EQ(leaderStatus(*eb), 0.0) << "a standby exports leader_election_master_status 0";
  EXPECT_EQ(writeRequests(*eb), 0) << "the standby wrote before the release started";
  const double a_writes_before = writeRequests(*ea);

  // Sample both replicas and the Lease throughout a release blue -> green.
  std::mutex mu;
  std::vector<std::string> violations;
  std::atomic<long> samples{0};
  auto sampler_client = planeClient();
  ASSERT_TRUE(sampler_client) << sampler_client.error().describe();
  Sampler sampler([&] {
    auto ra = probe(*a, "/metrics"), rb = probe(*b, "/metrics");
    auto lr = (*sampler_client)->get(core::gvrs::kLeases, ns_, kLeaseName);
    std::string problem;
    if (!ra || !rb || ra->status != 200 || rb->status != 200 || !lr) {
      problem = "a scrape or the Lease read failed";
    } else {
      const auto xa = test::parseExposition(ra->body), xb = test::parseExposition(rb->body);
      const double la = leaderStatus(xa).value_or(0), lb = leaderStatus(xb).value_or(0);
      const std::string holder = lr->value("/spec/holderIdentity"_json_pointer, std::string());
      if (!xa.ok() || !xb.ok()) problem = "invalid exposition: " + xa.error + xb.error;
      else if (la + lb != 1 || la != 1) problem = "leader status a=" + std::to_string(la) + " b=" + std::to_string(lb);
      else if (holder != a->identity) problem = "Lease holder " + holder;
      else if (writeRequests(xb) != 0) problem = "standby write requests " + std::to_string(writeRequests(xb));
    }
    ++samples;
    if (!problem.empty()) {
      std::lock_guard lock(mu);
      violations.push_back(problem);
    }
  }, 200ms);

  createRelease(kImage1);
  ASSERT_TRUE(waitStable(60s, "blue"));
  setImage(kImage2);
  ASSERT_TRUE(waitStable(60s, "green"));
  sampler.stop();

  {
    std::lock_guard lock(mu);
    EXPECT_TRUE(violations.empty()) << violations.size() << " of " << samples << " samples broke the rules; first: "
                                    << violations.front();
  }
  EXPECT_GE(samples.load(), 20);
  ea = scrape(*a);
  eb = scrape(*b);
  ASSERT_TRUE(ea && eb);
  EXPECT_EQ(writeRequests(*eb), 0) << "the standby made write requests";
  EXPECT_GT(writeRequests(*ea) - a_writes_before, 5) << "the leader's writes are counted (sanity of the metric)";
  EXPECT_EQ(sumWhere(*eb, "bluegreen_reconcile_total"), 0) << "the standby reconciled";
  EXPECT_GT(sumWhere(*ea, "bluegreen_reconcile_total"), 0);
  EXPECT_EQ(leaseHolder(), a->identity);
  EXPECT_TRUE(logContains(*a, "leader election: " + a->identity + " became the leader"));
  EXPECT_FALSE(logContains(*b, "became the leader"));
  std::cout << "[ figures  ] " << samples << " samples during the release: one leader, standby writes 0, leader writes "
            << writeRequests(*ea) - a_writes_before << "\n";
}

TEST_F(RuntimeLeaderElectionTest, StandbyTakesOverAfterKillAndCompletesTheRelease) {
  // Each run: a release waits in Verifying, the leader is killed, the standby takes
  // the Lease and finishes the release; a fresh standby joins for the next run.
  // BGO_FAILOVER_RUNS=n and BGO_FAILOVER_TIMINGS=lease,renew,retry (seconds) measure other settings.
  const int runs = std::getenv("BGO_FAILOVER_RUNS") ? std::atoi(std::getenv("BGO_FAILOVER_RUNS")) : 3;
  double lease_s = 6, renew_s = 4, retry_s = 1;
  if (const char* t = std::getenv("BGO_FAILOVER_TIMINGS")) {
    ASSERT_EQ(std::sscanf(t, "%lf,%lf,%lf", &lease_s, &renew_s, &retry_s), 3) << "BGO_FAILOVER_TIMINGS=" << t;
  }
  const double kLease = lease_s, kRetry = retry_s;
  auto num = [](double v) { return std::to_string(static_cast<int>(v)); };
  const std::vector<std::string> timings{"--lease-duration", num(lease_s), "--renew-deadline", num(renew_s),
                                         "--retry-period", num(retry_s)};
  OperatorProcess* leader = startLeader(timings);
  ASSERT_TRUE(leader && !HasFailure());
  OperatorProcess* standby = startStandby(timings);
  ASSERT_TRUE(standby && !HasFailure());
  createRelease(kImage1);
  ASSERT_TRUE(waitStable(60s, "blue"));

  const char* images[] = {kImage2, kImage3, kImage4, kImage1};
  std::vector<double> takeovers, completions;
  std::string color = "blue";
  for (int run = 0; run < runs; ++run) {
    SCOPED_TRACE("run " + std::to_string(run + 1));
    const std::string next = color == "blue" ? "green" : "blue";
    setImage(images[run % 4], {{"promotion", {{"readyForSeconds", 4}}}});
    ASSERT_TRUE(waitForStage("Verifying", 30s));
    const std::string revision = revisionOf(next);

    ASSERT_TRUE(leader->proc->signal(SIGKILL));
    const auto killed = std::chrono::steady_clock::now();
    ASSERT_EQ(leader->proc->wait(5s), 128 + SIGKILL);
    ASSERT_TRUE(waitFor("the standby holding the Lease", [&] { return leaseHolder() == standby->identity; },
                        std::chrono::seconds(static_cast<int>(kLease + 5 * kRetry + 5)), 20ms));
    const double takeover = secondsSince(killed);
    ASSERT_TRUE(waitStable(60s, next));
    const double complete = secondsSince(killed);
    takeovers.push_back(takeover);
    completions.push_back(complete);
    std::cout << "[ figures  ] run " << run + 1 << ": kill -9 -> new Lease holder " << takeover
              << " s, kill -> release Stable on " << next << " " << complete << " s\n";

    // The takeover waits out the lease on the standby's clock, from when it first saw the
    // last renewal: that renewal came at most one retry period before the kill, and the
    // standby saw it, then noticed the expiry, each at a retry up to 2.2 periods apart.
    EXPECT_GE(takeover, kLease - kRetry - 0.5) << "taken over before the lease expired";
    EXPECT_LE(takeover, kLease + 2 * 2.2 * kRetry + 0.5) << "takeover slower than lease duration + retry jitter";
    EXPECT_EQ(switchesTo(revision), 1) << "one switch to the new revision: " << status()["history"].dump();
    EXPECT_EQ(status().value("activeRevision", ""), revision);
    auto ex = scrape(*standby);
    ASSERT_TRUE(ex);
    EXPECT_EQ(leaderStatus(*ex), 1.0);
    EXPECT_EQ(sumWhere(*ex, "bluegreen_switches_total", [](const auto& l) { return l.at("reason") == "Promoted"; }),
              1.0)
        << "the new leader counted the switch it made";
    EXPECT_TRUE(logContains(*standby, "leader election: " + standby->identity + " became the leader"));

    color = next;
    leader = standby;
    if (run + 1 < runs) {
      standby = startStandby(timings);
      ASSERT_TRUE(standby && !HasFailure());
    }
  }
  const auto worst = *std::max_element(takeovers.begin(), takeovers.end());
  std::cout << "[ figures  ] failover over " << takeovers.size() << " runs (lease " << lease_s << " s, renew "
            << renew_s << " s, retry " << retry_s << " s): "
            << "kill -> new holder median " << median(takeovers) << " s, worst " << worst
            << " s; kill -> Stable median " << median(completions) << " s, worst "
            << *std::max_element(completions.begin(), completions.end()) << " s\n";
}

TEST_F(RuntimeLeaderElectionTest, LeaderThatLosesTheLeaseStopsWritingAndExits) {
  OperatorProcess* a = startLeader(kFastLease);
  ASSERT_TRUE(a && !HasFailure());
  createRelease(kImage1);
  ASSERT_TRUE(waitStable(60s, "blue"));

  // Someone else takes the Lease (as after a partition): a fresh renewTime, another holder.
  char now[64];
  const std::time_t t = std::time(nullptr);
  std::strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%S.000000Z", std::gmtime(&t));
  auto r = client_->patch(core::gvrs::kLeases, ns_, kLeaseName, kube::PatchType::kMerge,
                          json{{"spec", {{"holderIdentity", "intruder"}, {"renewTime", now}, {"leaseDurationSeconds", 60}}}},
                          {.field_manager = "itest-user"});
  ASSERT_TRUE(r) << r.error().describe();
  const auto taken = std::chrono::steady_clock::now();
  const auto code = a->proc->wait(10s);
  const double took = secondsSince(taken);
  ASSERT_TRUE(code) << "the leader kept running after it lost the Lease";
  EXPECT_EQ(*code, 1) << "a lost lease ends the process with exit 1 (a fresh one re-reads everything)";
  EXPECT_LE(took, 2.2 * 1 + 1.0) << "noticed at its next renewal";
  EXPECT_TRUE(logContains(*a, "lost the lease"));
  EXPECT_EQ(leaseHolder(), "intruder") << "the old leader wrote the Lease after losing it";
  std::cout << "[ figures  ] Lease taken by another holder -> leader exit " << took << " s (code " << *code << ")\n";
}

TEST_F(RuntimeLeaderElectionTest, SigtermReleasesTheLeaseAndTheStandbyFinishesTheRelease) {
  // A long lease, so a takeover by expiry (>= 14 s) cannot pass for a takeover by release.
  const std::vector<std::string> args{"--lease-duration", "15", "--renew-deadline", "10", "--retry-period", "1",
                                      "--shutdown-grace", "5"};
  OperatorProcess* leader = startLeader(args);
  ASSERT_TRUE(leader && !HasFailure());
  OperatorProcess* standby = startStandby(args);
  ASSERT_TRUE(standby && !HasFailure());
  createRelease(kImage1);
  ASSERT_TRUE(waitStable(60s, "blue"));

  setImage(kImage2, {{"promotion", {{"readyForSeconds", 3}}}});
  ASSERT_TRUE(waitForStage("Verifying", 30s));
  const std::string revision = revisionOf("green");

  // Every write to the Lease, from a watch: the released record ("" holder) may live only until the
  // standby's next retry (milliseconds), shorter than any polling interval.
  const std::string lease_rv = lease().value("/metadata/resourceVersion"_json_pointer, std::string());
  ASSERT_FALSE(lease_rv.empty());
  auto watch_client = planeClient();
  ASSERT_TRUE(watch_client) << watch_client.error().describe();
  auto stream = (*watch_client)->watch(core::gvrs::kLeases, ns_,
                                       {.field_selector = "metadata.name=" + std::string(kLeaseName),
                                        .resource_version = lease_rv, .allow_bookmarks = false});
  ASSERT_TRUE(stream) << stream.error().describe();
  std::mutex seen_mu;
  std::vector<std::string> holders;  // holderIdentity of each Lease write, in order
  std::optional<std::chrono::steady_clock::time_point> released;
  std::atomic<bool> standby_seen{false};
  std::thread watcher([&] {
    while (true) {
      auto ev = (*stream)->next();
      if (!ev || !*ev) return;
      if ((*ev)->type != kube::WatchEvent::Type::kModified && (*ev)->type != kube::WatchEvent::Type::kAdded) continue;
      const std::string h = (*ev)->object.value("/spec/holderIdentity"_json_pointer, std::string());
      std::lock_guard lock(seen_mu);
      if (holders.empty() || holders.back() != h) holders.push_back(h);
      if (h.empty() && !released) released = std::chrono::steady_clock::now();
      if (h == standby->identity) standby_seen = true;
    }
  });
  struct Joiner {
    std::thread& t;
    kube::WatchStream& s;
    ~Joiner() { s.cancel(); if (t.joinable()) t.join(); }
  } joiner{watcher, **stream};

  const auto termed = std::chrono::steady_clock::now();
  ASSERT_TRUE(leader->proc->signal(SIGTERM));
  double taken_at = -1;
  std::optional<int> exit_code;
  double exit_after = -1;
  ASSERT_TRUE(waitFor("the standby holding the Lease", [&] {
    if (!exit_code) {
      exit_code = leader->proc->wait(0ms);
      if (exit_code) exit_after = secondsSince(termed);
    }
    if (leaseHolder() == standby->identity) {
      taken_at = secondsSince(termed);
      return true;
    }
    return false;
  }, 20s, 10ms));
  if (!exit_code) {
    exit_code = leader->proc->wait(10s);
    exit_after = secondsSince(termed);
  }
  ASSERT_TRUE(exit_code) << "no exit within 10 s after the takeover";
  EXPECT_EQ(*exit_code, 0) << "SIGTERM ends the process with exit code 0";
  EXPECT_LE(exit_after, 5 + 1.0) << "exit beyond --shutdown-grace 5";
  EXPECT_TRUE(waitFor("the watch to deliver the standby's write", [&] { return standby_seen.load(); }, 5s, 10ms));
  std::string seq;
  double released_at = -1;
  {
    std::lock_guard lock(seen_mu);
    if (released) released_at = std::chrono::duration<double>(*released - termed).count();
    for (const auto& h : holders) seq += (seq.empty() ? "" : " -> ") + (h.empty() ? "\"\"" : h);
  }
  EXPECT_GE(released_at, 0) << "the Lease was never seen released; holders: " << seq;
  EXPECT_TRUE(logContains(*leader, "released lease " + ns_ + "/" + kLeaseName));
  EXPECT_LT(taken_at, 1 + 2.2 * 1 + 1.5) << "standby took over after " << taken_at
                                          << " s: not at its next retry after the release";
  json l = lease();
  EXPECT_EQ(l.value("/spec/holderIdentity"_json_pointer, std::string()), standby->identity);

  ASSERT_TRUE(waitStable(60s, "green"));
  const double complete = secondsSince(termed);
  EXPECT_EQ(switchesTo(revision), 1) << status()["history"].dump();
  EXPECT_EQ(status().value("activeRevision", ""), revision);
  std::cout << "[ figures  ] SIGTERM -> exit " << exit_after << " s (code " << *exit_code << "), Lease released "
            << released_at << " s, standby holder " << taken_at << " s, release Stable " << complete
            << " s; holders: " << seq << "\n";
}

}  // namespace
}  // namespace bgo::itest
