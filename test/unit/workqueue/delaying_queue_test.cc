#include "operator/workqueue/delaying_queue.h"

#include <condition_variable>
#include <future>
#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "operator/testing/manual_clock.h"
#include "operator/workqueue/rate_limiting_queue.h"

namespace bgo::workqueue {
namespace {

using namespace std::chrono_literals;

// get() with a deadline, so a broken timer fails the test instead of hanging it.
std::optional<std::string> getWithin(WorkQueue& q, std::chrono::milliseconds limit) {
  auto f = std::async(std::launch::async, [&] { return q.get(); });
  if (f.wait_for(limit) != std::future_status::ready) {
    q.shutDown();
    ADD_FAILURE() << "no key within " << limit.count() << " ms";
  }
  return f.get();
}

class DelayingQueueTest : public ::testing::Test {
 protected:
  testing::ManualClock clock_;
};

TEST_F(DelayingQueueTest, AddsTheKeyOnlyAfterTheDelay) {
  DelayingQueue q(clock_);
  auto start = std::chrono::steady_clock::now();
  q.addAfter("a", 50ms);
  EXPECT_EQ(q.len(), 0u);
  EXPECT_EQ(getWithin(q, 5000ms), "a");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);
  EXPECT_EQ(q.waiting(), 0u);
}

TEST_F(DelayingQueueTest, NonPositiveDelayAddsAtOnce) {
  DelayingQueue q(clock_);
  q.addAfter("a", 0ms);
  q.addAfter("b", -5ms);
  EXPECT_EQ(q.len(), 2u);
}

TEST_F(DelayingQueueTest, EarlierDeadlineWinsAndTheKeyIsAddedOnce) {
  DelayingQueue q(clock_);
  q.addAfter("a", 1h);
  q.addAfter("a", 20ms);
  q.addAfter("a", 2h);  // later: ignored
  EXPECT_EQ(getWithin(q, 5000ms), "a");
  q.done("a");
  EXPECT_EQ(q.waiting(), 0u);  // the hour-long timer was replaced, not kept
  EXPECT_EQ(q.len(), 0u);
}

class AddCounter : public QueueObserver {
 public:
  void onAdd(const std::string&) override {
    std::lock_guard lock(mu);
    ++adds;
    cv.notify_all();
  }
  bool waitFor(int n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 5s, [&] { return adds >= n; });
  }
  std::mutex mu;
  std::condition_variable cv;
  int adds = 0;
};

TEST_F(DelayingQueueTest, ATimerFiringWhileTheKeyIsHeldQueuesItAfterDone) {
  AddCounter adds;
  DelayingQueue q(clock_, &adds);
  q.add("a");
  EXPECT_EQ(getWithin(q, 5000ms), "a");
  q.addAfter("a", 10ms);
  ASSERT_TRUE(adds.waitFor(2));  // the timer fired and re-added "a" while held
  EXPECT_EQ(q.len(), 0u);
  q.done("a");
  EXPECT_EQ(q.len(), 1u);
}

TEST_F(DelayingQueueTest, ShutDownDropsWaitingKeysAndIgnoresNewOnes) {
  DelayingQueue q(clock_);
  q.addAfter("a", 1h);
  q.shutDown();
  q.addAfter("b", 1ms);
  EXPECT_EQ(getWithin(q, 5000ms), std::nullopt);
}

TEST_F(DelayingQueueTest, RunsOnAnInjectedIoContext) {
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  {
    DelayingQueue q(clock_, io);
    q.addAfter("a", 10ms);
    EXPECT_EQ(getWithin(q, 5000ms), "a");
    q.addAfter("b", 1h);  // pending at destruction: cancelled cleanly
  }
  guard.reset();
  runner.join();
}

class ScriptedLimiter : public RateLimiter {
 public:
  Duration when(const std::string& key) override {
    ++requeues[key];
    return delay;
  }
  void forget(const std::string& key) override { requeues.erase(key); }
  int numRequeues(const std::string& key) override { return requeues.count(key) ? requeues[key] : 0; }
  Duration delay = 10ms;
  std::map<std::string, int> requeues;
};

class RetryObserver : public QueueObserver {
 public:
  void onRetry(const std::string&) override { ++retries; }
  std::atomic<int> retries{0};
};

TEST_F(DelayingQueueTest, RateLimitedAddWaitsForTheLimiter) {
  auto limiter = std::make_unique<ScriptedLimiter>();
  auto* l = limiter.get();
  RetryObserver obs;
  RateLimitingQueue q(clock_, std::move(limiter), &obs);
  q.addRateLimited("a");
  EXPECT_EQ(q.len(), 0u);
  EXPECT_EQ(getWithin(q, 5000ms), "a");
  q.done("a");
  q.addRateLimited("a");
  EXPECT_EQ(q.numRequeues("a"), 2);
  EXPECT_EQ(obs.retries.load(), 2);
  q.forget("a");
  EXPECT_EQ(q.numRequeues("a"), 0);
  l->delay = Duration::zero();
  q.addRateLimited("b");
  EXPECT_GE(q.len(), 1u);
}

TEST_F(DelayingQueueTest, DefaultLimiterRetriesQuicklyAtFirst) {
  RateLimitingQueue q(clock_, defaultControllerRateLimiter(clock_));
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) {
    q.addRateLimited("a");  // 5, 10, 20 ms
    ASSERT_EQ(getWithin(q, 5000ms), "a");
    q.done("a");
  }
  EXPECT_GE(std::chrono::steady_clock::now() - start, 35ms);
  EXPECT_EQ(q.numRequeues("a"), 3);
}

}  // namespace
}  // namespace bgo::workqueue
