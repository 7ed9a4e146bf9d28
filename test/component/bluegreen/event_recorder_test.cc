#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "operator/controller/event_recorder.h"
#include "operator/testing/fake_kube_client.h"
#include "operator/testing/manual_clock.h"

namespace bgo::controller {
namespace {

using namespace std::chrono_literals;

TEST(EventRecorderTest, SameEventWithinTheIntervalIsSentOnce) {
  testing::ManualClock clock;
  testing::FakeKubeClient fake(clock);
  KubeEventRecorder rec(fake, clock, "bluegreen-operator", 300s);
  ObjectRef ref{"bluegreen.io/v1alpha1", "BlueGreenRelease", "prod", "shop", "uid-1", ""};
  rec.record(ref, "Normal", "Switched", "switched to green");
  rec.record(ref, "Normal", "Switched", "switched to green");
  auto list = fake.list(core::gvrs::kEvents, "prod");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ((*list)["items"].size(), 1u);
  EXPECT_EQ((*list)["items"][0]["involvedObject"]["uid"], "uid-1");
  EXPECT_EQ((*list)["items"][0]["reason"], "Switched");
}

TEST(EventRecorderTest, ARepeatAfterTheIntervalCountsInsteadOfDuplicating) {
  testing::ManualClock clock;
  testing::FakeKubeClient fake(clock);
  KubeEventRecorder rec(fake, clock, "bluegreen-operator", 10s);
  ObjectRef ref{"bluegreen.io/v1alpha1", "BlueGreenRelease", "prod", "shop", "uid-1", ""};
  rec.record(ref, "Warning", "Failed", "not promotable");
  clock.advance(11s);
  rec.record(ref, "Warning", "Failed", "not promotable");
  rec.record(ref, "Normal", "Deploying", "deploying");
  auto list = fake.list(core::gvrs::kEvents, "prod");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ((*list)["items"].size(), 2u);
  for (const auto& e : (*list)["items"]) {
    EXPECT_EQ(e["count"], e["reason"] == "Failed" ? 2 : 1) << e.dump();
  }
}

TEST(EventRecorderTest, EventNamesAreStableSoAResentCreateCannotDuplicate) {
  ObjectRef ref{"v1", "X", "ns", "obj", "u", ""};
  auto a = KubeEventRecorder::buildEvent(ref, "Normal", "R", "m", "c", "t1");
  auto b = KubeEventRecorder::buildEvent(ref, "Normal", "R", "m", "c", "t2");
  auto c = KubeEventRecorder::buildEvent(ref, "Normal", "R", "other", "c", "t1");
  EXPECT_EQ(a["metadata"]["name"], b["metadata"]["name"]);
  EXPECT_NE(a["metadata"]["name"], c["metadata"]["name"]);
  EXPECT_EQ(a["metadata"]["name"].get<std::string>().rfind("obj.", 0), 0u);
}


// An inner recorder that blocks while `held` and notes what it was given.
class GatedRecorder final : public EventRecorder {
 public:
  void record(const ObjectRef&, const std::string&, const std::string& reason, const std::string&) override {
    std::unique_lock lock(mu_);
    entered_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !held_; });
    seen_.push_back(reason);
  }
  void release() {
    std::lock_guard lock(mu_);
    held_ = false;
    cv_.notify_all();
  }
  bool waitEntered() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 5s, [&] { return entered_; });
  }
  std::vector<std::string> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = true;
  bool entered_ = false;
  std::vector<std::string> seen_;
};

const ObjectRef kRef{"bluegreen.io/v1alpha1", "BlueGreenRelease", "prod", "shop", "uid-1", ""};

TEST(AsyncEventRecorderTest, RecordDoesNotWaitForTheApiAndKeepsTheOrder) {
  GatedRecorder inner;
  AsyncEventRecorder rec(inner);
  auto recorded = std::async(std::launch::async, [&] {
    for (const char* r : {"Deploying", "Promotable", "Switched"}) rec.record(kRef, "Normal", r, "m");
  });
  ASSERT_EQ(recorded.wait_for(2s), std::future_status::ready) << "record() waited for the blocked API";
  ASSERT_TRUE(inner.waitEntered());
  inner.release();
  rec.stop(5s);
  EXPECT_EQ(inner.seen(), (std::vector<std::string>{"Deploying", "Promotable", "Switched"}));
  EXPECT_EQ(rec.dropped(), 0u);
}

TEST(AsyncEventRecorderTest, AFullQueueDropsAndCountsInsteadOfBlocking) {
  GatedRecorder inner;
  AsyncEventRecorder rec(inner, 2);
  rec.record(kRef, "Normal", "InFlight", "m");
  ASSERT_TRUE(inner.waitEntered());
  for (const char* r : {"Q1", "Q2", "Dropped"}) rec.record(kRef, "Normal", r, "m");
  EXPECT_EQ(rec.dropped(), 1u);
  inner.release();
  rec.stop(5s);
  EXPECT_EQ(inner.seen(), (std::vector<std::string>{"InFlight", "Q1", "Q2"}));
}

TEST(AsyncEventRecorderTest, StopGivesUpOnWhatWaitsPastTheGracePeriod) {
  GatedRecorder inner;
  AsyncEventRecorder rec(inner);
  rec.record(kRef, "Normal", "InFlight", "m");
  ASSERT_TRUE(inner.waitEntered());
  rec.record(kRef, "Normal", "Waiting", "m");
  std::thread later([&] {
    std::this_thread::sleep_for(300ms);
    inner.release();
  });
  rec.stop(50ms);  // returns once the Event in flight is answered; the waiting one is dropped
  later.join();
  EXPECT_EQ(inner.seen(), std::vector<std::string>{"InFlight"});
  EXPECT_EQ(rec.dropped(), 1u);
  rec.record(kRef, "Normal", "AfterStop", "m");
  EXPECT_EQ(rec.dropped(), 2u);
}

}  // namespace
}  // namespace bgo::controller
