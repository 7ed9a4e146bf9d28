#include "operator/workqueue/delaying_queue.h"

#include <boost/asio/post.hpp>

namespace bgo::workqueue {

namespace asio = boost::asio;

DelayingQueue::DelayingQueue(core::Clock& clock, QueueObserver* observer)
    : WorkQueue(clock, observer),
      owned_io_(std::make_unique<asio::io_context>(1)),
      io_(*owned_io_),
      strand_(asio::make_strand(io_)),
      work_(std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(io_.get_executor())) {
  thread_ = std::thread([this] { io_.run(); });
}

DelayingQueue::DelayingQueue(core::Clock& clock, asio::io_context& io, QueueObserver* observer)
    : WorkQueue(clock, observer), io_(io), strand_(asio::make_strand(io_)) {}

DelayingQueue::~DelayingQueue() {
  stopTimers();
  {
    std::unique_lock lock(mu_);
    idle_.wait(lock, [&] { return outstanding_ == 0; });
  }
  if (owned_io_) {
    work_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }
}

template <typename Fn>
void DelayingQueue::onStrand(Fn&& fn) {
  {
    std::lock_guard lock(mu_);
    ++outstanding_;
  }
  asio::post(strand_, [this, fn = std::forward<Fn>(fn)]() mutable {
    fn();
    finished();
  });
}

void DelayingQueue::finished() {
  std::lock_guard lock(mu_);
  if (--outstanding_ == 0) idle_.notify_all();
}

void DelayingQueue::addAfter(const std::string& key, std::chrono::nanoseconds delay) {
  if (shuttingDown()) return;
  if (delay <= std::chrono::nanoseconds::zero()) {
    add(key);
    return;
  }
  auto ready_at = std::chrono::steady_clock::now() + delay;
  onStrand([this, key, ready_at] {
    std::unique_lock lock(mu_);
    if (stopped_) return;
    if (auto it = waiting_.find(key); it != waiting_.end()) {
      if (it->second.ready_at <= ready_at) return;  // an earlier timer is already set
      it->second.timer->cancel();
    }
    auto timer = std::make_shared<asio::steady_timer>(strand_, ready_at);
    uint64_t id = ++next_id_;
    waiting_[key] = Waiting{ready_at, timer, id};
    ++outstanding_;
    lock.unlock();
    timer->async_wait([this, key, id, timer](const boost::system::error_code& ec) {
      bool fire = false;
      {
        std::lock_guard guard(mu_);
        auto it = waiting_.find(key);
        if (!ec && it != waiting_.end() && it->second.id == id) {
          waiting_.erase(it);
          fire = true;
        }
      }
      if (fire) add(key);
      finished();
    });
  });
}

std::size_t DelayingQueue::waiting() const {
  std::lock_guard lock(mu_);
  return waiting_.size();
}

void DelayingQueue::stopTimers() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
  }
  onStrand([this] {
    std::lock_guard lock(mu_);
    stopped_ = true;
    for (auto& [key, w] : waiting_) w.timer->cancel();
    waiting_.clear();
  });
}

void DelayingQueue::shutDown() {
  WorkQueue::shutDown();
  stopTimers();
}

void DelayingQueue::shutDownWithDrain() {
  stopTimers();
  WorkQueue::shutDownWithDrain();
}

}  // namespace bgo::workqueue
