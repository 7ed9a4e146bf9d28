#pragma once
// Waiting on a live system without fixed sleeps: poll a condition until it
// holds (or a deadline passes), check that it keeps holding over a window, and
// sample in the background while the test drives the system.

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

namespace bgo::itest {

using Millis = std::chrono::milliseconds;
inline constexpr Millis kPollInterval{100};

// Calls `done` every `interval` until it returns true (-> true) or `timeout`
// passes (-> false, after one last call).
bool eventually(const std::function<bool()>& done, Millis timeout, Millis interval = kPollInterval);

// Calls `ok` every `interval` for `window`; false as soon as it returns false.
// For "nothing happens" claims, where the window itself is the assertion.
bool holdsFor(const std::function<bool()>& ok, Millis window, Millis interval = kPollInterval);

// Seconds since `start` as a double, for reports.
double secondsSince(std::chrono::steady_clock::time_point start);

// Runs `sample` on its own thread every `interval` until stop() (or the
// destructor). `sample` must be thread-safe with respect to the test body.
// stop() takes one last sample after the loop ends: the state the test waited
// for is always among the samples, however the last interval fell.
class Sampler {
 public:
  Sampler(std::function<void()> sample, Millis interval);
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;
  void stop();
  long samples() const { return samples_.load(); }

 private:
  std::function<void()> sample_;
  Millis interval_;
  std::atomic<bool> stop_{false};
  std::atomic<long> samples_{0};
  std::thread thread_;
};

}  // namespace bgo::itest
