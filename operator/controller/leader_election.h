#pragma once
// Leader election on a coordination.k8s.io/v1 Lease, with client-go's
// semantics (tools/leaderelection):
//  - a candidate takes the lease when it is free (holderIdentity empty) or
//    expired: the record has not changed for leaseDurationSeconds as measured
//    on OUR clock from when we first saw it (no trust in other clocks);
//  - the leader renews every retry period; every write carries the
//    resourceVersion it read, so two candidates never both win (409 -> re-read
//    and retry once);
//  - a leader that has not renewed within the renew deadline stops leading at
//    once: isLeader() turns false at the deadline by itself, a watchdog thread
//    calls onStoppedLeading then even if the renewing call is stuck;
//  - stop() releases the lease (holder "", leaseDurationSeconds 1) so another
//    replica takes over at its next retry instead of after a full lease.
// The renew deadline counts from the START of the last successful renewal:
// the server applied it no earlier, so other candidates' expiry (a lease
// duration after they saw it) comes later than our deadline.
//
// Time comes from the Clock and every wait goes through a Waiter, so tests
// drive the elector step by step (tryAcquireOrRenew/enforceDeadline) or run
// its threads over a ManualClock.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "operator/core/clock.h"
#include "operator/core/result.h"
#include "operator/kube/kube_client.h"

namespace spdlog {
class logger;
}

namespace bgo::controller {

// Waits measured on a Clock, cut short by wake(). take a token() before
// checking the state you wait on; a wake() after the token ends the wait, so
// no wake-up is lost in between.
class Waiter {
 public:
  virtual ~Waiter() = default;
  virtual uint64_t token() const = 0;
  virtual void waitUntil(core::SteadyTime deadline, uint64_t token) = 0;
  virtual void wake() = 0;
};

// Condition-variable Waiter over any Clock. With a clock that only moves when
// told (ManualClock), call wake() after moving it so waiters re-read it.
class ClockWaiter final : public Waiter {
 public:
  explicit ClockWaiter(const core::Clock& clock) : clock_(clock) {}
  uint64_t token() const override;
  void waitUntil(core::SteadyTime deadline, uint64_t token) override;
  void wake() override;

 private:
  const core::Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t generation_ = 0;
};

struct LeaderElectionConfig {
  std::string lease_namespace;
  std::string lease_name = "bluegreen-operator";
  std::string identity;  // empty: defaultIdentity()
  std::chrono::milliseconds lease_duration{15000};
  std::chrono::milliseconds renew_deadline{10000};
  std::chrono::milliseconds retry_period{2000};
  // A candidate waits retry_period * (1 + jitter * U[0,1)) between attempts (client-go: 1.2).
  double jitter = 1.2;
  uint64_t seed = 0;  // 0: random
  bool release_on_stop = true;
};

// client-go's checks: lease > renew deadline > jitter * retry period, all > 0.
core::Status validate(const LeaderElectionConfig& config);

// "<hostname>_<8 hex digits>": unique per process, readable in the Lease.
std::string defaultIdentity();

// Called on the thread that noticed the change, outside the elector's lock
// (they may call isLeader()), one at a time and in order; never call start(),
// stop() or release() from them.
struct LeaderCallbacks {
  std::function<void()> on_started_leading;
  // Stop writing now: the lease may be someone else's soon.
  std::function<void()> on_stopped_leading;
  // A different holder was observed (ourselves included); never "".
  std::function<void(const std::string& identity)> on_new_leader;
};

// The lease fields (LeaderElectionRecord).
struct LeaseRecord {
  std::string holder_identity;
  int64_t lease_duration_seconds = 0;
  std::string acquire_time;  // MicroTime, RFC 3339 with microseconds
  std::string renew_time;
  int64_t lease_transitions = 0;
  bool operator==(const LeaseRecord&) const = default;

  static LeaseRecord fromLease(const nlohmann::json& lease);
  void writeTo(nlohmann::json& lease) const;  // sets .spec, keeps everything else
};

// RFC 3339 with microseconds, UTC: what the API server expects in a MicroTime.
std::string formatMicroTime(core::WallTime t);

class LeaderElector {
 public:
  LeaderElector(kube::KubeClient& client, core::Clock& clock, Waiter& waiter,
                LeaderElectionConfig config, LeaderCallbacks callbacks,
                std::shared_ptr<spdlog::logger> log = nullptr);
  ~LeaderElector();  // stop()
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // --- one step at a time: the loop's body, public for tests ---
  // One attempt to take or renew the lease. True when we hold it afterwards.
  bool tryAcquireOrRenew();
  // Stops leading when the renew deadline has passed. Returns isLeader().
  bool enforceDeadline();
  // Gives the lease up if the last observed holder is us. True when nothing
  // is left to release.
  bool release();
  // When the loop makes its next attempt after one that started at `now`.
  core::SteadyTime nextAttempt(core::SteadyTime now);

  // --- the loop: an election thread and a deadline watchdog ---
  void start();
  // Ends the loop, then releases the lease when release_on_stop. Blocks while
  // a lease call is in flight (bounded by the client's request timeout). Call
  // it after the controller finished its in-flight work.
  void stop();

  // True while we hold the lease and the renew deadline has not passed.
  bool isLeader() const;
  // The last observed holder ("" when free or not yet read).
  std::string leader() const;
  // True once the lease was read or written at least once (for /readyz).
  bool leaderKnown() const;
  const std::string& identity() const { return config_.identity; }
  const LeaderElectionConfig& config() const { return config_; }
  // When leadership ends unless renewed (meaningful while leading).
  core::SteadyTime renewDeadline() const;

 private:
  enum class Attempt { kHeld, kNotOurs, kFailed, kConflict };
  Attempt attemptOnce();
  void startLeading();
  // `lost`: leadership ended against our will (deadline, another holder); it never starts again.
  void stopLeading(const std::string& why, bool lost = true);
  void reportLeader(const std::string& holder);
  void loop();
  void watchdog();

  kube::KubeClient& client_;
  core::Clock& clock_;
  Waiter& waiter_;
  LeaderElectionConfig config_;
  LeaderCallbacks callbacks_;
  std::shared_ptr<spdlog::logger> log_;

  std::mutex transition_mu_;  // serializes state changes with their callbacks
  mutable std::mutex mu_;     // the fields below
  nlohmann::json lease_;      // last lease read or written
  LeaseRecord observed_;
  core::SteadyTime observed_time_{};
  bool known_ = false;
  bool leading_ = false;
  bool ended_ = false;  // led and stopped: never leads or renews again (as client-go's elector)
  core::SteadyTime deadline_{};
  std::string reported_leader_;
  bool stopping_ = false;
  bool started_ = false;
  std::mt19937_64 rng_;

  std::thread loop_thread_;
  std::thread watchdog_thread_;
};

// A KubeClient that lets writes through only while `allowed()` says so (wire
// it to LeaderElector::isLeader): a replica that lost the lease stops writing
// at once, in-flight reconciles included. Refused writes fail with Cancelled.
// Reads and watches always pass. The elector itself must use the raw client.
class LeaderOnlyWrites final : public kube::KubeClient {
 public:
  LeaderOnlyWrites(kube::KubeClient& inner, std::function<bool()> allowed);

  kube::Result<nlohmann::json> get(const core::Gvr& gvr, const std::string& ns, const std::string& name,
                                   const std::string& subresource = "") override;
  kube::Result<nlohmann::json> list(const core::Gvr& gvr, const std::string& ns,
                                    const kube::ListOptions& opts = {}) override;
  kube::Result<nlohmann::json> create(const core::Gvr& gvr, const std::string& ns,
                                      const nlohmann::json& body,
                                      const kube::WriteOptions& opts = {}) override;
  kube::Result<nlohmann::json> replace(const core::Gvr& gvr, const std::string& ns,
                                       const std::string& name, const nlohmann::json& body,
                                       const kube::WriteOptions& opts = {}) override;
  kube::Result<nlohmann::json> patch(const core::Gvr& gvr, const std::string& ns,
                                     const std::string& name, kube::PatchType type,
                                     const nlohmann::json& patch,
                                     const kube::WriteOptions& opts = {}) override;
  kube::Status remove(const core::Gvr& gvr, const std::string& ns, const std::string& name,
                      const kube::DeleteOptions& opts = {}) override;
  kube::Result<std::unique_ptr<kube::WatchStream>> watch(const core::Gvr& gvr, const std::string& ns,
                                                         const kube::WatchOptions& opts = {}) override;

  uint64_t refused() const { return refused_.load(); }

 private:
  core::Status check(const char* verb, const core::Gvr& gvr, const std::string& name);

  kube::KubeClient& inner_;
  std::function<bool()> allowed_;
  std::atomic<uint64_t> refused_{0};
};

}  // namespace bgo::controller
