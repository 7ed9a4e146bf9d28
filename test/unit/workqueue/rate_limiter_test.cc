#include "operator/workqueue/rate_limiter.h"

#include <gtest/gtest.h>

#include "operator/testing/manual_clock.h"

namespace bgo::workqueue {
namespace {

using namespace std::chrono_literals;

TEST(ItemExponentialFailureRateLimiterTest, DoublesPerFailureUpToTheCap) {
  ItemExponentialFailureRateLimiter l(5ms, 1000s);
  EXPECT_EQ(l.when("a"), 5ms);
  EXPECT_EQ(l.when("a"), 10ms);
  EXPECT_EQ(l.when("a"), 20ms);
  EXPECT_EQ(l.when("a"), 40ms);
  EXPECT_EQ(l.numRequeues("a"), 4);
  EXPECT_EQ(l.when("b"), 5ms);  // per key
  for (int i = 0; i < 10; ++i) (void)l.when("a");
  EXPECT_EQ(l.when("a"), 5ms * (1 << 14));  // 81.92 s
  EXPECT_EQ(l.when("a"), 5ms * (1 << 15));
  for (int i = 0; i < 2; ++i) (void)l.when("a");
  EXPECT_EQ(l.when("a"), 1000s);  // 5 ms * 2^18 = 1310.72 s, capped
}

TEST(ItemExponentialFailureRateLimiterTest, CapsAndNeverOverflows) {
  ItemExponentialFailureRateLimiter l(5ms, 1000s);
  Duration last{};
  for (int i = 0; i < 200; ++i) last = l.when("a");
  EXPECT_EQ(last, 1000s);
  EXPECT_EQ(l.numRequeues("a"), 200);
}

TEST(ItemExponentialFailureRateLimiterTest, ForgetStartsOver) {
  ItemExponentialFailureRateLimiter l(5ms, 1000s);
  (void)l.when("a");
  (void)l.when("a");
  l.forget("a");
  EXPECT_EQ(l.numRequeues("a"), 0);
  EXPECT_EQ(l.when("a"), 5ms);
}

TEST(BucketRateLimiterTest, BurstIsFreeThenPacedAtQps) {
  testing::ManualClock clock;
  BucketRateLimiter l(clock, 10, 100);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(l.when("k" + std::to_string(i)), Duration::zero()) << i;
  EXPECT_EQ(l.when("x"), 100ms);
  EXPECT_EQ(l.when("y"), 200ms);
  // One second refills ten tokens: two pay the debt, eight are free.
  clock.advance(1s);
  for (int i = 0; i < 8; ++i) ASSERT_EQ(l.when("z"), Duration::zero()) << i;
  EXPECT_EQ(l.when("z"), 100ms);
  EXPECT_EQ(l.numRequeues("z"), 0);
}

TEST(BucketRateLimiterTest, RefillStopsAtBurst) {
  testing::ManualClock clock;
  BucketRateLimiter l(clock, 10, 5);
  clock.advance(1h);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(l.when("a"), Duration::zero());
  EXPECT_EQ(l.when("a"), 100ms);
}

TEST(MaxOfRateLimiterTest, DefaultControllerLimiterTakesTheLongerWait) {
  testing::ManualClock clock;
  auto l = defaultControllerRateLimiter(clock, RateLimiterConfig{.base_delay = 5ms, .max_delay = 1000s, .qps = 10, .burst = 3});
  EXPECT_EQ(l->when("a"), 5ms);
  EXPECT_EQ(l->when("a"), 10ms);
  EXPECT_EQ(l->when("b"), 5ms);
  // Bucket exhausted (burst 3): now the bucket's 100 ms dominates the item's 20 ms.
  EXPECT_EQ(l->when("a"), 100ms);
  EXPECT_EQ(l->numRequeues("a"), 3);
  l->forget("a");
  EXPECT_EQ(l->numRequeues("a"), 0);
  clock.advance(10s);
  EXPECT_EQ(l->when("a"), 5ms);
}

}  // namespace
}  // namespace bgo::workqueue
