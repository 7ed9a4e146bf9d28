#pragma once
// Rate limiters with client-go's maths (util/workqueue/default_rate_limiters.go):
// when(key) says how long to wait before the key's next retry; forget(key)
// ends its failure history. Thread-safe. Time comes from a core::Clock so the
// maths is testable with a ManualClock.

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "operator/core/clock.h"

namespace bgo::workqueue {

using Duration = std::chrono::nanoseconds;

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  virtual Duration when(const std::string& key) = 0;
  virtual void forget(const std::string& key) = 0;
  virtual int numRequeues(const std::string& key) = 0;
};

// base * 2^failures, capped at max (client-go: 5 ms .. 1000 s).
class ItemExponentialFailureRateLimiter final : public RateLimiter {
 public:
  ItemExponentialFailureRateLimiter(Duration base, Duration max);
  Duration when(const std::string& key) override;
  void forget(const std::string& key) override;
  int numRequeues(const std::string& key) override;

 private:
  std::mutex mu_;
  Duration base_;
  Duration max_;
  std::unordered_map<std::string, int> failures_;
};

// One token bucket for all keys (golang.org/x/time/rate reservations): `qps`
// tokens a second, at most `burst` banked; every when() takes a token and
// returns how long until it is due. Starts full.
class BucketRateLimiter final : public RateLimiter {
 public:
  BucketRateLimiter(core::Clock& clock, double qps, int burst);
  Duration when(const std::string& key) override;
  void forget(const std::string&) override {}
  int numRequeues(const std::string&) override { return 0; }

 private:
  std::mutex mu_;
  core::Clock& clock_;
  double qps_;
  double burst_;
  double tokens_;
  core::SteadyTime last_;
};

// The longest wait of several limiters (client-go's MaxOfRateLimiter).
class MaxOfRateLimiter final : public RateLimiter {
 public:
  explicit MaxOfRateLimiter(std::vector<std::unique_ptr<RateLimiter>> limiters);
  Duration when(const std::string& key) override;
  void forget(const std::string& key) override;
  int numRequeues(const std::string& key) override;

 private:
  std::vector<std::unique_ptr<RateLimiter>> limiters_;
};

struct RateLimiterConfig {
  Duration base_delay = std::chrono::milliseconds(5);
  Duration max_delay = std::chrono::seconds(1000);
  double qps = 10;
  int burst = 100;
};

// client-go's DefaultControllerRateLimiter: max(per-key exponential, overall bucket).
std::unique_ptr<RateLimiter> defaultControllerRateLimiter(core::Clock& clock, const RateLimiterConfig& config = {});

}  // namespace bgo::workqueue
