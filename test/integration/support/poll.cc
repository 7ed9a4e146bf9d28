#include "integration/support/poll.h"

namespace bgo::itest {

bool eventually(const std::function<bool()>& done, Millis timeout, Millis interval) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(interval);
  }
}

bool holdsFor(const std::function<bool()>& ok, Millis window, Millis interval) {
  const auto deadline = std::chrono::steady_clock::now() + window;
  for (;;) {
    if (!ok()) return false;
    if (std::chrono::steady_clock::now() >= deadline) return true;
    std::this_thread::sleep_for(interval);
  }
}

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

Sampler::Sampler(std::function<void()> sample, Millis interval)
    : sample_(std::move(sample)), interval_(interval), thread_([this] {
        while (!stop_.load()) {
          sample_();
          ++samples_;
          std::this_thread::sleep_for(interval_);
        }
      }) {}

Sampler::~Sampler() { stop(); }

void Sampler::stop() {
  stop_ = true;
  if (!thread_.joinable()) return;
  thread_.join();
  sample_();
  ++samples_;
}

}  // namespace bgo::itest
