// The periodic resync: every release is looked at again within the period.
#include <gtest/gtest.h>

#include "operator/app/app.h"

namespace bgo::app {
namespace {

using namespace std::chrono_literals;

TEST(ResyncRequeueTest, SettledReleaseComesBackAfterTheResyncPeriod) {
  EXPECT_EQ(resyncRequeue(std::nullopt, 600s), 600'000ms);
}

TEST(ResyncRequeueTest, EarlierRequestOfTheReconcileWins) {
  EXPECT_EQ(resyncRequeue(3s, 600s), 3'000ms);
  EXPECT_EQ(resyncRequeue(100ms, 10s), 100ms);
}

TEST(ResyncRequeueTest, LaterRequestIsCappedAtTheResyncPeriod) {
  EXPECT_EQ(resyncRequeue(std::chrono::milliseconds(3600s), 600s), 600'000ms);
}

}  // namespace
}  // namespace bgo::app
