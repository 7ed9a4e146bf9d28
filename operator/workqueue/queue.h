#pragma once
// A work queue of string keys with client-go's semantics (util/workqueue):
//  - fair: keys are handed out in the order they were first added;
//  - stingy: a key added several times before a worker takes it is handed out
//    once, and a key is never held by two workers at once;
//  - a key added while a worker holds it is queued again when the worker calls
//    done(key), so the change is never lost;
//  - shutDown(): adds are ignored, get() still hands out what is queued and then
//    returns nullopt; shutDownWithDrain() also waits for held keys to be done.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "operator/core/clock.h"

namespace bgo::workqueue {

// Metrics hooks; every method has a no-op default. They may be called with the
// queue's lock held: keep them fast and never call back into the queue.
class QueueObserver {
 public:
  virtual ~QueueObserver() = default;
  virtual void onAdd(const std::string& /*key*/) {}        // a key became pending (not a coalesced add)
  virtual void onDepth(std::size_t /*depth*/) {}           // pending keys (as client-go counts depth)
  virtual void onQueueLatency(std::chrono::nanoseconds) {}  // pending -> handed to a worker
  virtual void onWorkDuration(std::chrono::nanoseconds) {}  // handed out -> done
  virtual void onRetry(const std::string& /*key*/) {}      // addRateLimited
};

class WorkQueue {
 public:
  explicit WorkQueue(core::Clock& clock, QueueObserver* observer = nullptr);
  virtual ~WorkQueue() = default;
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void add(const std::string& key);
  // Blocks until a key is available; nullopt once shut down and empty.
  // The caller must call done(key) when finished with it.
  std::optional<std::string> get();
  void done(const std::string& key);

  std::size_t len() const;  // keys waiting for a worker
  virtual void shutDown();
  // Shuts down and blocks until every handed-out key is done.
  virtual void shutDownWithDrain();
  bool shuttingDown() const;

 protected:
  core::Clock& clock_;
  QueueObserver* observer_;

 private:
  void shutDownLocked(bool drain);

  mutable std::mutex mu_;
  std::condition_variable cv_;        // get() waiters
  std::condition_variable drained_;   // shutDownWithDrain() waiter
  std::deque<std::string> queue_;
  std::unordered_set<std::string> dirty_;       // pending: queued, or re-added while processing
  std::unordered_set<std::string> processing_;  // held by a worker
  std::unordered_map<std::string, core::SteadyTime> added_at_;
  std::unordered_map<std::string, core::SteadyTime> started_at_;
  bool shutting_down_ = false;
  bool drain_ = false;
};

}  // namespace bgo::workqueue
