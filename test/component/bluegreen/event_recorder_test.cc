#include <gtest/gtest.h>

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

}  // namespace
}  // namespace bgo::controller
