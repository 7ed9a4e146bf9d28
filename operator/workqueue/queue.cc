#include "operator/workqueue/queue.h"

namespace bgo::workqueue {

WorkQueue::WorkQueue(core::Clock& clock, QueueObserver* observer) : clock_(clock), observer_(observer) {}

void WorkQueue::add(const std::string& key) {
  std::lock_guard lock(mu_);
  if (shutting_down_) return;
  if (dirty_.count(key)) return;  // already pending: coalesce
  dirty_.insert(key);
  if (observer_) observer_->onAdd(key);
  added_at_.emplace(key, clock_.now());
  if (observer_) observer_->onDepth(dirty_.size());
  if (processing_.count(key)) return;  // queued again by done()
  queue_.push_back(key);
  cv_.notify_one();
}

std::optional<std::string> WorkQueue::get() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !queue_.empty() || shutting_down_; });
  if (queue_.empty()) return std::nullopt;
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  processing_.insert(key);
  dirty_.erase(key);
  auto now = clock_.now();
  if (observer_) {
    observer_->onDepth(dirty_.size());
    if (auto it = added_at_.find(key); it != added_at_.end()) observer_->onQueueLatency(now - it->second);
  }
  added_at_.erase(key);
  started_at_[key] = now;
  return key;
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard lock(mu_);
  if (!processing_.erase(key)) return;
  if (auto it = started_at_.find(key); it != started_at_.end()) {
    if (observer_) observer_->onWorkDuration(clock_.now() - it->second);
    started_at_.erase(it);
  }
  if (dirty_.count(key)) {
    queue_.push_back(key);
    cv_.notify_one();
  } else if (processing_.empty()) {
    drained_.notify_all();
  }
}

std::size_t WorkQueue::len() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void WorkQueue::shutDownLocked(bool drain) {
  drain_ = drain;
  shutting_down_ = true;
  cv_.notify_all();
  drained_.notify_all();
}

void WorkQueue::shutDown() {
  std::lock_guard lock(mu_);
  shutDownLocked(false);
}

void WorkQueue::shutDownWithDrain() {
  std::unique_lock lock(mu_);
  shutDownLocked(true);
  // A plain shutDown() from elsewhere ends the wait, as in client-go.
  drained_.wait(lock, [&] { return processing_.empty() || !drain_; });
}

bool WorkQueue::shuttingDown() const {
  std::lock_guard lock(mu_);
  return shutting_down_;
}

}  // namespace bgo::workqueue
