#include "operator/workqueue/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace bgo::workqueue {

ItemExponentialFailureRateLimiter::ItemExponentialFailureRateLimiter(Duration base, Duration max)
    : base_(base), max_(max) {}

Duration ItemExponentialFailureRateLimiter::when(const std::string& key) {
  std::lock_guard lock(mu_);
  int exp = failures_[key]++;
  // Computed in floating point so large exponents saturate instead of overflowing.
  double backoff = static_cast<double>(base_.count()) * std::pow(2.0, exp);
  if (backoff >= static_cast<double>(std::numeric_limits<Duration::rep>::max())) return max_;
  Duration d{static_cast<Duration::rep>(backoff)};
  return std::min(d, max_);
}

void ItemExponentialFailureRateLimiter::forget(const std::string& key) {
  std::lock_guard lock(mu_);
  failures_.erase(key);
}

int ItemExponentialFailureRateLimiter::numRequeues(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

BucketRateLimiter::BucketRateLimiter(core::Clock& clock, double qps, int burst)
    : clock_(clock), qps_(qps), burst_(burst), tokens_(burst), last_(clock.now()) {}

Duration BucketRateLimiter::when(const std::string&) {
  std::lock_guard lock(mu_);
  auto now = clock_.now();
  if (now > last_) {
    double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed * qps_);
    last_ = now;
  }
  tokens_ -= 1;
  if (tokens_ >= 0 || qps_ <= 0) return Duration::zero();
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(-tokens_ / qps_));
}

MaxOfRateLimiter::MaxOfRateLimiter(std::vector<std::unique_ptr<RateLimiter>> limiters)
    : limiters_(std::move(limiters)) {}

Duration MaxOfRateLimiter::when(const std::string& key) {
  Duration longest = Duration::zero();
  for (auto& l : limiters_) longest = std::max(longest, l->when(key));
  return longest;
}

void MaxOfRateLimiter::forget(const std::string& key) {
  for (auto& l : limiters_) l->forget(key);
}

int MaxOfRateLimiter::numRequeues(const std::string& key) {
  int most = 0;
  for (auto& l : limiters_) most = std::max(most, l->numRequeues(key));
  return most;
}

std::unique_ptr<RateLimiter> defaultControllerRateLimiter(core::Clock& clock, const RateLimiterConfig& config) {
  std::vector<std::unique_ptr<RateLimiter>> limiters;
  limiters.push_back(std::make_unique<ItemExponentialFailureRateLimiter>(config.base_delay, config.max_delay));
  limiters.push_back(std::make_unique<BucketRateLimiter>(clock, config.qps, config.burst));
  return std::make_unique<MaxOfRateLimiter>(std::move(limiters));
}

}  // namespace bgo::workqueue
