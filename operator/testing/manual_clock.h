#pragma once
// A Clock that moves only when a test says so. Thread-safe: code under test may
// read it from its own threads while the test advances it.

#include <chrono>
#include <mutex>

#include "operator/core/clock.h"

namespace bgo::testing {

class ManualClock final : public core::Clock {
 public:
  // Starts at an arbitrary steady epoch and at 2026-01-01T00:00:00Z wall time.
  ManualClock();

  core::SteadyTime now() const override;
  core::WallTime wallNow() const override;

  // Moves both clocks forward by d.
  void advance(std::chrono::nanoseconds d);
  // Jumps the steady clock to t (it may not go backwards; earlier values are ignored).
  void set(core::SteadyTime t);
  void setWall(core::WallTime t);

 private:
  mutable std::mutex mu_;
  core::SteadyTime steady_;
  core::WallTime wall_;
};

}  // namespace bgo::testing
