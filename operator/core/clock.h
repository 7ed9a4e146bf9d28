#pragma once
// Time is a dependency: production reads the system clocks, tests advance a
// ManualClock (operator/testing) instead of sleeping.

#include <chrono>
#include <optional>
#include <string>

namespace bgo::core {

using SteadyTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SteadyTime now() const = 0;     // for intervals and deadlines
  virtual WallTime wallNow() const = 0;   // for timestamps written to the API
};

class SystemClock final : public Clock {
 public:
  SteadyTime now() const override { return std::chrono::steady_clock::now(); }
  WallTime wallNow() const override { return std::chrono::system_clock::now(); }
};

// RFC 3339 with second precision, UTC ("2026-11-29T16:06:49Z"), as Kubernetes writes it.
std::string formatRfc3339(WallTime t);
// Same with milliseconds ("2026-11-29T16:06:49.123Z"): for gate clocks, where a
// whole second of rounding would delay or shorten a gate.
std::string formatRfc3339Millis(WallTime t);
// Parses both (any number of fractional digits); nullopt on garbage.
std::optional<WallTime> parseRfc3339(const std::string& s);

}  // namespace bgo::core
