#include "operator/testing/manual_clock.h"

namespace bgo::testing {

namespace {
// 2026-01-01T00:00:00Z
constexpr std::chrono::seconds kWallStart{1767225600};
}  // namespace

ManualClock::ManualClock()
    : steady_(core::SteadyTime{} + std::chrono::hours(1000)), wall_(core::WallTime{kWallStart}) {}

core::SteadyTime ManualClock::now() const {
  std::lock_guard lock(mu_);
  return steady_;
}

core::WallTime ManualClock::wallNow() const {
  std::lock_guard lock(mu_);
  return wall_;
}

void ManualClock::advance(std::chrono::nanoseconds d) {
  std::lock_guard lock(mu_);
  if (d.count() < 0) return;
  steady_ += d;
  wall_ += std::chrono::duration_cast<core::WallTime::duration>(d);
}

void ManualClock::set(core::SteadyTime t) {
  std::lock_guard lock(mu_);
  if (t > steady_) {
    wall_ += std::chrono::duration_cast<core::WallTime::duration>(t - steady_);
    steady_ = t;
  }
}

void ManualClock::setWall(core::WallTime t) {
  std::lock_guard lock(mu_);
  wall_ = t;
}

}  // namespace bgo::testing
