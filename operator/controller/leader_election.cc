#include "operator/controller/leader_election.h"

#include <unistd.h>

#include <algorithm>
#include <ctime>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "operator/core/gvr.h"

namespace bgo::controller {

using json = nlohmann::json;
using core::gvrs::kLeases;

namespace {

int64_t ceilSeconds(std::chrono::milliseconds d) {
  return std::max<int64_t>(1, (d.count() + 999) / 1000);
}

}  // namespace

// --- ClockWaiter ---

uint64_t ClockWaiter::token() const {
  std::lock_guard lock(mu_);
  return generation_;
}

void ClockWaiter::waitUntil(core::SteadyTime deadline, uint64_t token) {
  std::unique_lock lock(mu_);
  while (generation_ == token) {
    const auto now = clock_.now();
    if (now >= deadline) return;
    // Bounded so a far deadline cannot overflow the system clock's arithmetic.
    const auto left = std::min<std::chrono::nanoseconds>(deadline - now, std::chrono::hours(1));
    cv_.wait_for(lock, left);
  }
}

void ClockWaiter::wake() {
  {
    std::lock_guard lock(mu_);
    ++generation_;
  }
  cv_.notify_all();
}

// --- config, identity, record ---

core::Status validate(const LeaderElectionConfig& c) {
  using core::ErrorCode;
  if (c.lease_name.empty()) return core::fail(ErrorCode::kConfig, "leader election: empty lease name");
  if (c.lease_namespace.empty()) {
    return core::fail(ErrorCode::kConfig, "leader election: empty lease namespace");
  }
  if (c.retry_period.count() <= 0 || c.renew_deadline.count() <= 0 || c.lease_duration.count() <= 0) {
    return core::fail(ErrorCode::kConfig, "leader election: durations must be positive");
  }
  if (c.lease_duration <= c.renew_deadline) {
    return core::fail(ErrorCode::kConfig,
                      "leader election: lease duration must be greater than the renew deadline");
  }
  const double jitter = std::max(1.0, c.jitter);
  if (static_cast<double>(c.renew_deadline.count()) <= jitter * static_cast<double>(c.retry_period.count())) {
    return core::fail(ErrorCode::kConfig, fmt::format("leader election: renew deadline must be greater "
                                                      "than {} x the retry period",
                                                      jitter));
  }
  return {};
}

std::string defaultIdentity() {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') std::snprintf(host, sizeof(host), "unknown");
  std::random_device rd;
  return fmt::format("{}_{:08x}", host, rd());
}

std::string formatMicroTime(core::WallTime t) {
  using namespace std::chrono;
  const auto secs = time_point_cast<seconds>(t);
  const auto us = duration_cast<microseconds>(t - secs).count();
  const std::time_t tt = system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us);
}

LeaseRecord LeaseRecord::fromLease(const json& lease) {
  LeaseRecord r;
  const json spec = lease.value("spec", json::object());
  auto str = [&](const char* k) {
    auto it = spec.find(k);
    return it != spec.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto num = [&](const char* k) {
    auto it = spec.find(k);
    return it != spec.end() && it->is_number_integer() ? it->get<int64_t>() : int64_t{0};
  };
  r.holder_identity = str("holderIdentity");
  r.lease_duration_seconds = num("leaseDurationSeconds");
  r.acquire_time = str("acquireTime");
  r.renew_time = str("renewTime");
  r.lease_transitions = num("leaseTransitions");
  return r;
}

void LeaseRecord::writeTo(json& lease) const {
  json& spec = lease["spec"];
  if (!spec.is_object()) spec = json::object();
  spec["holderIdentity"] = holder_identity;
  spec["leaseDurationSeconds"] = lease_duration_seconds;
  spec["acquireTime"] = acquire_time;
  spec["renewTime"] = renew_time;
  spec["leaseTransitions"] = lease_transitions;
}

// --- LeaderElector ---

LeaderElector::LeaderElector(kube::KubeClient& client, core::Clock& clock, Waiter& waiter,
                             LeaderElectionConfig config, LeaderCallbacks callbacks,
                             std::shared_ptr<spdlog::logger> log)
    : client_(client),
      clock_(clock),
      waiter_(waiter),
      config_(std::move(config)),
      callbacks_(std::move(callbacks)),
      log_(log ? std::move(log) : spdlog::default_logger()),
      rng_(config_.seed ? config_.seed : std::random_device{}()) {
  if (config_.identity.empty()) config_.identity = defaultIdentity();
}

LeaderElector::~LeaderElector() { stop(); }

bool LeaderElector::isLeader() const {
  std::lock_guard lock(mu_);
  return leading_ && clock_.now() < deadline_;
}

std::string LeaderElector::leader() const {
  std::lock_guard lock(mu_);
  return observed_.holder_identity;
}

bool LeaderElector::leaderKnown() const {
  std::lock_guard lock(mu_);
  return known_;
}

core::SteadyTime LeaderElector::renewDeadline() const {
  std::lock_guard lock(mu_);
  return deadline_;
}

LeaderElector::Attempt LeaderElector::attemptOnce() {
  const auto start = clock_.now();
  const std::string now_s = formatMicroTime(clock_.wallNow());
  const std::string& ns = config_.lease_namespace;
  const std::string& name = config_.lease_name;

  auto got = client_.get(kLeases, ns, name);
  if (!got) {
    if (!got.error().is(core::ErrorCode::kNotFound)) {
      log_->warn("leader election: reading lease {}/{}: {}", ns, name, got.error().describe());
      return Attempt::kFailed;
    }
    LeaseRecord rec{config_.identity, ceilSeconds(config_.lease_duration), now_s, now_s, 0};
    json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                  {"kind", "Lease"},
                  {"metadata", {{"name", name}, {"namespace", ns}}}};
    rec.writeTo(lease);
    auto created = client_.create(kLeases, ns, lease);
    if (!created) {
      log_->warn("leader election: creating lease {}/{}: {}", ns, name, created.error().describe());
      return created.error().is(core::ErrorCode::kAlreadyExists) ? Attempt::kConflict : Attempt::kFailed;
    }
    std::lock_guard lock(mu_);
    lease_ = std::move(*created);
    observed_ = rec;
    observed_time_ = clock_.now();
    known_ = true;
    deadline_ = start + config_.renew_deadline;
    return Attempt::kHeld;
  }

  const LeaseRecord old = LeaseRecord::fromLease(*got);
  {
    std::lock_guard lock(mu_);
    known_ = true;
    if (!(old == observed_)) {
      observed_ = old;
      observed_time_ = clock_.now();
    }
    const auto duration = old.lease_duration_seconds > 0 ? std::chrono::seconds(old.lease_duration_seconds)
                                                         : std::chrono::seconds(0);
    if (!old.holder_identity.empty() && old.holder_identity != config_.identity &&
        observed_time_ + duration > clock_.now()) {
      return Attempt::kNotOurs;
    }
  }

  LeaseRecord rec{config_.identity, ceilSeconds(config_.lease_duration), now_s, now_s, 0};
  if (old.holder_identity == config_.identity) {
    rec.acquire_time = old.acquire_time;
    rec.lease_transitions = old.lease_transitions;
  } else {
    rec.lease_transitions = old.lease_transitions + 1;
  }
  json lease = *got;  // keep what we do not model (labels, annotations, managedFields)
  rec.writeTo(lease);
  auto written = client_.replace(kLeases, ns, name, lease);
  if (!written) {
    if (written.error().is(core::ErrorCode::kConflict)) return Attempt::kConflict;
    log_->warn("leader election: updating lease {}/{}: {}", ns, name, written.error().describe());
    return Attempt::kFailed;
  }
  std::lock_guard lock(mu_);
  lease_ = std::move(*written);
  observed_ = rec;
  observed_time_ = clock_.now();
  deadline_ = start + config_.renew_deadline;
  return Attempt::kHeld;
}

bool LeaderElector::tryAcquireOrRenew() {
  Attempt a = attemptOnce();
  // A 409 means the lease changed under us: read it again right away.
  if (a == Attempt::kConflict) a = attemptOnce();
  reportLeader(leader());
  if (a == Attempt::kHeld) {
    startLeading();
    return true;
  }
  if (a == Attempt::kNotOurs) stopLeading("the lease is held by " + leader());
  enforceDeadline();
  return false;
}

bool LeaderElector::enforceDeadline() {
  bool lost = false;
  {
    std::lock_guard lock(mu_);
    lost = leading_ && clock_.now() >= deadline_;
  }
  if (lost) stopLeading("no renewal within the renew deadline");
  return isLeader();
}

void LeaderElector::startLeading() {
  std::lock_guard t(transition_mu_);
  {
    std::lock_guard lock(mu_);
    // A renewal in flight when the deadline ended leadership may still succeed: it does not lead again.
    if (leading_ || ended_) return;
    leading_ = true;
  }
  log_->info("leader election: {} became the leader (lease {}/{})", config_.identity,
             config_.lease_namespace, config_.lease_name);
  waiter_.wake();  // the watchdog now has a deadline to watch
  if (callbacks_.on_started_leading) callbacks_.on_started_leading();
}

void LeaderElector::stopLeading(const std::string& why, bool lost) {
  std::lock_guard t(transition_mu_);
  {
    std::lock_guard lock(mu_);
    if (!leading_) return;
    leading_ = false;
    ended_ = ended_ || lost;
  }
  log_->warn("leader election: {} stopped leading: {}", config_.identity, why);
  if (callbacks_.on_stopped_leading) callbacks_.on_stopped_leading();
}

void LeaderElector::reportLeader(const std::string& holder) {
  std::lock_guard t(transition_mu_);
  {
    std::lock_guard lock(mu_);
    if (holder.empty() || holder == reported_leader_) return;
    reported_leader_ = holder;
  }
  log_->info("leader election: the leader is {}", holder);
  if (callbacks_.on_new_leader) callbacks_.on_new_leader(holder);
}

bool LeaderElector::release() {
  for (int i = 0; i < 2; ++i) {
    json lease;
    LeaseRecord old;
    {
      std::lock_guard lock(mu_);
      if (observed_.holder_identity != config_.identity) return true;
      lease = lease_;
      old = observed_;
    }
    // Stop writing first: from here on the lease may belong to someone else.
    stopLeading("releasing the lease", /*lost=*/false);
    const std::string now_s = formatMicroTime(clock_.wallNow());
    LeaseRecord rec{"", 1, now_s, now_s, old.lease_transitions};
    rec.writeTo(lease);
    auto written = client_.replace(kLeases, config_.lease_namespace, config_.lease_name, lease);
    if (written) {
      std::lock_guard lock(mu_);
      lease_ = std::move(*written);
      observed_ = rec;
      observed_time_ = clock_.now();
      log_->info("leader election: released lease {}/{}", config_.lease_namespace, config_.lease_name);
      return true;
    }
    if (!written.error().is(core::ErrorCode::kConflict)) {
      log_->warn("leader election: releasing lease {}/{}: {}", config_.lease_namespace,
                 config_.lease_name, written.error().describe());
      return false;
    }
    // Changed since we last saw it: re-read; if it is still ours, try once more.
    auto got = client_.get(kLeases, config_.lease_namespace, config_.lease_name);
    if (!got) return false;
    std::lock_guard lock(mu_);
    lease_ = *got;
    observed_ = LeaseRecord::fromLease(*got);
    observed_time_ = clock_.now();
  }
  return false;
}

core::SteadyTime LeaderElector::nextAttempt(core::SteadyTime now) {
  std::lock_guard lock(mu_);
  if (leading_) return now + config_.retry_period;  // renew on a fixed period
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const double factor = 1.0 + std::max(0.0, config_.jitter) * u(rng_);
  return now + std::chrono::duration_cast<std::chrono::nanoseconds>(config_.retry_period * factor);
}

void LeaderElector::loop() {
  log_->info("leader election: {} is a candidate for lease {}/{}", config_.identity,
             config_.lease_namespace, config_.lease_name);
  for (;;) {
    // Periods count from the start of an attempt, so a slow call does not
    // stretch the renewal cadence.
    const auto started = clock_.now();
    tryAcquireOrRenew();
    const auto next = nextAttempt(started);
    const uint64_t token = waiter_.token();
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      if (ended_) {  // renewing a lease it no longer leads on would only keep the others waiting
        log_->info("leader election: {} stops renewing: its leadership has ended", config_.identity);
        return;
      }
    }
    waiter_.waitUntil(next, token);
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
  }
}

void LeaderElector::watchdog() {
  for (;;) {
    const uint64_t token = waiter_.token();
    core::SteadyTime until;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      until = leading_ ? deadline_ : clock_.now() + std::chrono::hours(1);
    }
    waiter_.waitUntil(until, token);
    enforceDeadline();
  }
}

void LeaderElector::start() {
  std::lock_guard lock(mu_);
  if (started_) return;
  started_ = true;
  loop_thread_ = std::thread([this] { loop(); });
  watchdog_thread_ = std::thread([this] { watchdog(); });
}

void LeaderElector::stop() {
  {
    std::lock_guard lock(mu_);
    if (!started_ || stopping_) return;
    stopping_ = true;
  }
  waiter_.wake();
  if (loop_thread_.joinable()) loop_thread_.join();
  if (watchdog_thread_.joinable()) watchdog_thread_.join();
  if (config_.release_on_stop) release();
  stopLeading("shutting down");
}

// --- LeaderOnlyWrites ---

LeaderOnlyWrites::LeaderOnlyWrites(kube::KubeClient& inner, std::function<bool()> allowed)
    : inner_(inner), allowed_(std::move(allowed)) {}

core::Status LeaderOnlyWrites::check(const char* verb, const core::Gvr& gvr, const std::string& name) {
  if (allowed_()) return {};
  ++refused_;
  return core::fail(core::ErrorCode::kCancelled,
                    fmt::format("not the leader: {} {} {} refused", verb, gvr.resource, name));
}

kube::Result<json> LeaderOnlyWrites::get(const core::Gvr& gvr, const std::string& ns,
                                         const std::string& name, const std::string& subresource) {
  return inner_.get(gvr, ns, name, subresource);
}

kube::Result<json> LeaderOnlyWrites::list(const core::Gvr& gvr, const std::string& ns,
                                          const kube::ListOptions& opts) {
  return inner_.list(gvr, ns, opts);
}

kube::Result<json> LeaderOnlyWrites::create(const core::Gvr& gvr, const std::string& ns, const json& body,
                                            const kube::WriteOptions& opts) {
  if (auto st = check("create", gvr, body.value("/metadata/name"_json_pointer, std::string())); !st) {
    return core::fail(st.error());
  }
  return inner_.create(gvr, ns, body, opts);
}

kube::Result<json> LeaderOnlyWrites::replace(const core::Gvr& gvr, const std::string& ns,
                                             const std::string& name, const json& body,
                                             const kube::WriteOptions& opts) {
  if (auto st = check("replace", gvr, name); !st) return core::fail(st.error());
  return inner_.replace(gvr, ns, name, body, opts);
}

kube::Result<json> LeaderOnlyWrites::patch(const core::Gvr& gvr, const std::string& ns,
                                           const std::string& name, kube::PatchType type,
                                           const json& patch, const kube::WriteOptions& opts) {
  if (auto st = check("patch", gvr, name); !st) return core::fail(st.error());
  return inner_.patch(gvr, ns, name, type, patch, opts);
}

kube::Status LeaderOnlyWrites::remove(const core::Gvr& gvr, const std::string& ns, const std::string& name,
                                      const kube::DeleteOptions& opts) {
  if (auto st = check("delete", gvr, name); !st) return st;
  return inner_.remove(gvr, ns, name, opts);
}

kube::Result<std::unique_ptr<kube::WatchStream>> LeaderOnlyWrites::watch(const core::Gvr& gvr,
                                                                        const std::string& ns,
                                                                        const kube::WatchOptions& opts) {
  return inner_.watch(gvr, ns, opts);
}

}  // namespace bgo::controller
