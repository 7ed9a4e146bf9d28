#include "operator/testing/manual_clock.h"

#include <gtest/gtest.h>

namespace bgo::testing {
namespace {

using namespace std::chrono_literals;

TEST(ManualClockTest, MovesOnlyWhenAdvanced) {
  ManualClock c;
  auto t0 = c.now();
  auto w0 = c.wallNow();
  EXPECT_EQ(c.now(), t0);
  c.advance(1500ms);
  EXPECT_EQ(c.now() - t0, 1500ms);
  EXPECT_EQ(c.wallNow() - w0, 1500ms);
}

TEST(ManualClockTest, SetNeverGoesBackwards) {
  ManualClock c;
  auto t0 = c.now();
  c.set(t0 + 10s);
  EXPECT_EQ(c.now(), t0 + 10s);
  c.set(t0);
  EXPECT_EQ(c.now(), t0 + 10s);
}

TEST(ManualClockTest, WallClockStartsAtAFixedDate) {
  ManualClock c;
  EXPECT_EQ(core::formatRfc3339(c.wallNow()), "2026-01-01T00:00:00Z");
}

}  // namespace
}  // namespace bgo::testing
