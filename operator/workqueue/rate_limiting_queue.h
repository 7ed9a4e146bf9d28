#pragma once
// A DelayingQueue whose retries are paced by a RateLimiter (client-go's
// RateLimitingInterface): addRateLimited(key) waits limiter.when(key) before
// adding; forget(key) ends the key's backoff once it succeeded.

#include <memory>

#include "operator/workqueue/delaying_queue.h"
#include "operator/workqueue/rate_limiter.h"

namespace bgo::workqueue {

class RateLimitingQueue final : public DelayingQueue {
 public:
  RateLimitingQueue(core::Clock& clock, std::unique_ptr<RateLimiter> limiter, QueueObserver* observer = nullptr);
  RateLimitingQueue(core::Clock& clock, std::unique_ptr<RateLimiter> limiter, boost::asio::io_context& io,
                    QueueObserver* observer = nullptr);

  void addRateLimited(const std::string& key);
  void forget(const std::string& key);
  int numRequeues(const std::string& key);

 private:
  std::unique_ptr<RateLimiter> limiter_;
};

}  // namespace bgo::workqueue
