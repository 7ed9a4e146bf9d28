#include "operator/workqueue/rate_limiting_queue.h"

namespace bgo::workqueue {

RateLimitingQueue::RateLimitingQueue(core::Clock& clock, std::unique_ptr<RateLimiter> limiter,
                                     QueueObserver* observer)
    : DelayingQueue(clock, observer), limiter_(std::move(limiter)) {}

RateLimitingQueue::RateLimitingQueue(core::Clock& clock, std::unique_ptr<RateLimiter> limiter,
                                     boost::asio::io_context& io, QueueObserver* observer)
    : DelayingQueue(clock, io, observer), limiter_(std::move(limiter)) {}

void RateLimitingQueue::addRateLimited(const std::string& key) {
  if (shuttingDown()) return;
  if (observer_) observer_->onRetry(key);
  addAfter(key, limiter_->when(key));
}

void RateLimitingQueue::forget(const std::string& key) { limiter_->forget(key); }

int RateLimitingQueue::numRequeues(const std::string& key) { return limiter_->numRequeues(key); }

}  // namespace bgo::workqueue
