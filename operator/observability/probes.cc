#include "operator/observability/probes.h"

#include <fmt/format.h>

namespace bgo::observability {

namespace {
int64_t toNs(core::SteadyTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
}  // namespace

Heartbeat::Heartbeat(std::string name, const core::Clock& clock, std::chrono::nanoseconds max_age)
    : name_(std::move(name)), clock_(clock), max_age_(max_age), last_ns_(toNs(clock.now())) {}

void Heartbeat::tick() { last_ns_.store(toNs(clock_.now()), std::memory_order_relaxed); }

void Heartbeat::setSource(std::function<core::SteadyTime()> source) { source_ = std::move(source); }

void Heartbeat::onlyWhile(std::function<bool()> busy) { busy_ = std::move(busy); }

std::optional<std::string> Heartbeat::problem() const {
  if (busy_ && !busy_()) return std::nullopt;
  const int64_t last = source_ ? toNs(source_()) : last_ns_.load(std::memory_order_relaxed);
  const auto age = std::chrono::nanoseconds(toNs(clock_.now()) - last);
  if (age <= max_age_) return std::nullopt;
  using Ms = std::chrono::milliseconds;
  return fmt::format("no heartbeat for {} ms (limit {} ms)",
                     std::chrono::duration_cast<Ms>(age).count(),
                     std::chrono::duration_cast<Ms>(max_age_).count());
}

void CheckSet::add(const std::string& name, Check check) {
  std::lock_guard lock(mu_);
  entries_.push_back({name, std::move(check), false, ""});
}

void CheckSet::add(Heartbeat& heartbeat) {
  add(heartbeat.name(), [&heartbeat] { return heartbeat.problem(); });
}

void CheckSet::set(const std::string& name, bool ok, std::string reason) {
  std::lock_guard lock(mu_);
  for (auto& e : entries_) {
    if (e.name == name && !e.check) {
      e.ok = ok;
      e.reason = std::move(reason);
      return;
    }
  }
  entries_.push_back({name, nullptr, ok, std::move(reason)});
}

CheckSet::Verdict CheckSet::evaluate() const {
  std::vector<Entry> entries;
  {
    std::lock_guard lock(mu_);
    entries = entries_;
  }
  Verdict v;
  for (const auto& e : entries) {
    std::optional<std::string> problem;
    if (e.check) {
      problem = e.check();
    } else if (!e.ok) {
      problem = e.reason.empty() ? std::string("not yet") : e.reason;
    }
    if (problem) {
      v.ok = false;
      v.text += "[-]" + e.name + " failed: " + *problem + "\n";
    } else {
      v.text += "[+]" + e.name + " ok\n";
    }
  }
  return v;
}

}  // namespace bgo::observability
