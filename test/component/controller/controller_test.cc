// The reconcile loop over a real queue: what happens to a key after each kind of outcome.
#include "operator/controller/controller.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include "operator/testing/manual_clock.h"
#include "operator/workqueue/rate_limiting_queue.h"

namespace bgo::controller {
namespace {

using namespace std::chrono_literals;

bool eventually(const std::function<bool()>& f, std::chrono::milliseconds limit) {
  for (auto end = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < end;) {
    if (f()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return f();
}

class ControllerTest : public ::testing::Test {
 protected:
  testing::ManualClock clock_;
  workqueue::RateLimitingQueue queue_{clock_, workqueue::defaultControllerRateLimiter(clock_)};
  std::shared_ptr<spdlog::logger> log_ =
      std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
  std::atomic<int> calls_{0};

  Controller terminalOnce() {
    return Controller("test", queue_, [this](const core::ObjectKey&) -> core::Result<ReconcileResult> {
      if (calls_++ == 0) return core::fail(core::ErrorCode::kInvalid, "refused for good");
      return ReconcileResult{};
    }, log_);
  }
};

TEST_F(ControllerTest, AKeyThatEndedOnATerminalErrorIsResyncedLikeEveryOther) {
  Controller c = terminalOnce();
  c.setTerminalRequeue(200ms);
  c.setActive(true);
  c.start(1);
  c.enqueue({"prod", "shop"});
  EXPECT_TRUE(eventually([&] { return calls_ == 2; }, 5000ms)) << "looked at again after the resync period";
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(calls_, 2) << "a success without requeue_after is not requeued";
  queue_.shutDown();
  c.stop(1000ms);
}

TEST_F(ControllerTest, WithoutATerminalRequeueOnlyAnEventBringsTheKeyBack) {
  Controller c = terminalOnce();
  c.setActive(true);
  c.start(1);
  c.enqueue({"prod", "shop"});
  EXPECT_TRUE(eventually([&] { return calls_ == 1; }, 5000ms));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(calls_, 1) << "no hot loop on a terminal error";
  queue_.shutDown();
  c.stop(1000ms);
}

}  // namespace
}  // namespace bgo::controller
