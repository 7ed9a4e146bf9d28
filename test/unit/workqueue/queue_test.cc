#include "operator/workqueue/queue.h"

#include <atomic>
#include <future>
#include <map>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "operator/testing/manual_clock.h"

namespace bgo::workqueue {
namespace {

using namespace std::chrono_literals;

class WorkQueueTest : public ::testing::Test {
 protected:
  testing::ManualClock clock_;
};

TEST_F(WorkQueueTest, HandsOutKeysInTheOrderTheyWereAdded) {
  WorkQueue q(clock_);
  q.add("a");
  q.add("b");
  q.add("c");
  EXPECT_EQ(q.get(), "a");
  EXPECT_EQ(q.get(), "b");
  EXPECT_EQ(q.get(), "c");
}

TEST_F(WorkQueueTest, CoalescesDuplicateAddsOfAPendingKey) {
  WorkQueue q(clock_);
  q.add("a");
  q.add("b");
  q.add("a");
  q.add("a");
  EXPECT_EQ(q.len(), 2u);
  EXPECT_EQ(q.get(), "a");
  EXPECT_EQ(q.get(), "b");
  EXPECT_EQ(q.len(), 0u);
}

TEST_F(WorkQueueTest, KeyAddedWhileProcessingIsQueuedAgainOnDone) {
  WorkQueue q(clock_);
  q.add("a");
  ASSERT_EQ(q.get(), "a");
  q.add("a");
  q.add("a");
  EXPECT_EQ(q.len(), 0u);  // not handed to a second worker while held
  q.add("b");
  EXPECT_EQ(q.get(), "b");
  q.done("a");
  EXPECT_EQ(q.len(), 1u);  // once, however often it was re-added
  EXPECT_EQ(q.get(), "a");
  q.done("a");
  q.done("b");
  EXPECT_EQ(q.len(), 0u);
}

TEST_F(WorkQueueTest, DoneWithoutReAddForgetsTheKey) {
  WorkQueue q(clock_);
  q.add("a");
  ASSERT_EQ(q.get(), "a");
  q.done("a");
  EXPECT_EQ(q.len(), 0u);
  q.add("a");
  EXPECT_EQ(q.len(), 1u);
}

TEST_F(WorkQueueTest, ShutDownUnblocksWaitingWorkers) {
  WorkQueue q(clock_);
  std::vector<std::future<std::optional<std::string>>> workers;
  for (int i = 0; i < 3; ++i) workers.push_back(std::async(std::launch::async, [&] { return q.get(); }));
  EXPECT_EQ(workers[0].wait_for(20ms), std::future_status::timeout);
  q.shutDown();
  for (auto& w : workers) {
    ASSERT_EQ(w.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(w.get(), std::nullopt);
  }
  EXPECT_TRUE(q.shuttingDown());
}

TEST_F(WorkQueueTest, AfterShutDownQueuedKeysAreStillHandedOutAndAddsIgnored) {
  WorkQueue q(clock_);
  q.add("a");
  q.shutDown();
  q.add("b");
  EXPECT_EQ(q.get(), "a");
  EXPECT_EQ(q.get(), std::nullopt);
}

TEST_F(WorkQueueTest, ShutDownWithDrainWaitsForKeysInFlight) {
  WorkQueue q(clock_);
  q.add("a");
  ASSERT_EQ(q.get(), "a");
  auto drain = std::async(std::launch::async, [&] { q.shutDownWithDrain(); });
  EXPECT_EQ(drain.wait_for(30ms), std::future_status::timeout);
  EXPECT_EQ(q.get(), std::nullopt);  // already shutting down
  q.done("a");
  EXPECT_EQ(drain.wait_for(5s), std::future_status::ready);
}

TEST_F(WorkQueueTest, ShutDownEndsAPendingDrain) {
  WorkQueue q(clock_);
  q.add("a");
  ASSERT_EQ(q.get(), "a");
  auto drain = std::async(std::launch::async, [&] { q.shutDownWithDrain(); });
  EXPECT_EQ(drain.wait_for(20ms), std::future_status::timeout);
  q.shutDown();
  EXPECT_EQ(drain.wait_for(5s), std::future_status::ready);
}

// Several producers and workers over a few hot keys: no key is ever held by two
// workers, and every key is processed after its last add (no lost update).
TEST_F(WorkQueueTest, NeverProcessesAKeyConcurrentlyAndLosesNoAdds) {
  WorkQueue q(clock_);
  constexpr int kKeys = 8;
  constexpr int kProducers = 4;
  constexpr int kAddsPerProducer = 5000;
  constexpr int kWorkers = 6;
  std::array<std::atomic<int>, kKeys> active{};
  std::array<std::atomic<int64_t>, kKeys> added_version{};
  std::array<std::atomic<int64_t>, kKeys> processed_version{};
  std::atomic<int64_t> version{0};
  std::atomic<int> overlaps{0};
  std::atomic<int> processed{0};

  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&] {
      while (auto key = q.get()) {
        int k = std::stoi(*key);
        if (active[k].fetch_add(1) != 0) overlaps.fetch_add(1);
        // Everything added before this point is covered by this pass.
        processed_version[k].store(added_version[k].load());
        std::this_thread::yield();
        active[k].fetch_sub(1);
        processed.fetch_add(1);
        q.done(*key);
      }
    });
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kAddsPerProducer; ++i) {
        int k = (i * 7 + p) % kKeys;
        added_version[k].store(++version);
        q.add(std::to_string(k));
      }
    });
  }
  for (auto& t : producers) t.join();
  q.shutDownWithDrain();
  q.shutDown();
  for (auto& t : workers) t.join();

  EXPECT_EQ(overlaps.load(), 0);
  for (int k = 0; k < kKeys; ++k) {
    EXPECT_EQ(processed_version[k].load(), added_version[k].load()) << "key " << k;
  }
  EXPECT_GE(processed.load(), kKeys);
  EXPECT_LT(processed.load(), kProducers * kAddsPerProducer);  // coalescing happened
}

class RecordingObserver : public QueueObserver {
 public:
  void onAdd(const std::string& key) override { adds.push_back(key); }
  void onDepth(std::size_t d) override { depth = d; }
  void onQueueLatency(std::chrono::nanoseconds d) override { latencies.push_back(d); }
  void onWorkDuration(std::chrono::nanoseconds d) override { work.push_back(d); }
  std::vector<std::string> adds;
  std::size_t depth = 0;
  std::vector<std::chrono::nanoseconds> latencies;
  std::vector<std::chrono::nanoseconds> work;
};

TEST_F(WorkQueueTest, ReportsAddsDepthLatencyAndWorkDuration) {
  RecordingObserver obs;
  WorkQueue q(clock_, &obs);
  q.add("a");
  q.add("a");
  q.add("b");
  EXPECT_EQ(obs.adds, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(obs.depth, 2u);
  clock_.advance(2s);
  ASSERT_EQ(q.get(), "a");
  EXPECT_EQ(obs.depth, 1u);
  ASSERT_EQ(obs.latencies.size(), 1u);
  EXPECT_EQ(obs.latencies[0], 2s);
  clock_.advance(3s);
  q.done("a");
  ASSERT_EQ(obs.work.size(), 1u);
  EXPECT_EQ(obs.work[0], 3s);
}

}  // namespace
}  // namespace bgo::workqueue
