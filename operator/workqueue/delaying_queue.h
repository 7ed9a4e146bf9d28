#pragma once
// A WorkQueue with delayed adds on Boost.Asio steady timers (client-go's
// DelayingInterface). A key waiting on a timer is added once when it fires;
// adding it again with an earlier deadline moves the timer forward, a later
// one is ignored. Timers run on an io_context: either one the queue owns (with
// its own thread) or one the caller runs, which must keep running until the
// queue is destroyed. Timers use real steady time; delays are computed by the
// caller (e.g. a RateLimiter on a core::Clock).

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "operator/workqueue/queue.h"

namespace bgo::workqueue {

class DelayingQueue : public WorkQueue {
 public:
  // Owns an io_context and the thread that runs it.
  explicit DelayingQueue(core::Clock& clock, QueueObserver* observer = nullptr);
  // Uses the caller's io_context.
  DelayingQueue(core::Clock& clock, boost::asio::io_context& io, QueueObserver* observer = nullptr);
  ~DelayingQueue() override;

  // Adds `key` once `delay` has passed (at once when delay <= 0).
  void addAfter(const std::string& key, std::chrono::nanoseconds delay);
  // Keys waiting on a timer.
  std::size_t waiting() const;

  void shutDown() override;
  void shutDownWithDrain() override;

 private:
  using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;
  struct Waiting {
    std::chrono::steady_clock::time_point ready_at;
    std::shared_ptr<boost::asio::steady_timer> timer;
    uint64_t id = 0;
  };

  void stopTimers();
  // Runs `fn` on the strand, counted so destruction can wait for it.
  template <typename Fn>
  void onStrand(Fn&& fn);
  void finished();

  std::unique_ptr<boost::asio::io_context> owned_io_;
  boost::asio::io_context& io_;
  Strand strand_;
  std::unique_ptr<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread thread_;

  mutable std::mutex mu_;
  std::condition_variable idle_;
  std::unordered_map<std::string, Waiting> waiting_;  // touched on the strand, read under mu_
  uint64_t next_id_ = 0;
  std::size_t outstanding_ = 0;  // handlers queued on the strand
  bool stopped_ = false;
};

}  // namespace bgo::workqueue
