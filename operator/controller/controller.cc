#include "operator/controller/controller.h"

#include <condition_variable>
#include <mutex>

#include <spdlog/spdlog.h>

namespace bgo::controller {

namespace {
int64_t steadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

Controller::Controller(std::string name, workqueue::RateLimitingQueue& queue, ReconcileFn reconcile,
                       std::shared_ptr<spdlog::logger> log, ControllerObserver* observer)
    : name_(std::move(name)), queue_(queue), reconcile_(std::move(reconcile)), log_(std::move(log)),
      observer_(observer) {
  last_progress_ns_ = steadyNowNs();
}

Controller::~Controller() { stop(std::chrono::milliseconds(0)); }

void Controller::start(int workers) {
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { worker(); });
}

bool Controller::stop(std::chrono::milliseconds grace) {
  if (workers_.empty()) return true;
  // Drain in the background so the bound holds even if a reconcile hangs.
  std::mutex mu;
  std::condition_variable cv;
  bool drained = false;
  std::thread drainer([&] {
    queue_.shutDownWithDrain();
    std::lock_guard lock(mu);
    drained = true;
    cv.notify_all();
  });
  bool ok;
  {
    std::unique_lock lock(mu);
    ok = cv.wait_for(lock, grace, [&] { return drained; });
  }
  if (!ok) {
    log_->warn("{}: {} reconcile(s) still running after {} ms; not waiting longer", name_,
               in_flight_.load(), grace.count());
    drainer.detach();
    for (auto& w : workers_) w.detach();
  } else {
    drainer.join();
    for (auto& w : workers_) w.join();
  }
  workers_.clear();
  return ok;
}

std::chrono::steady_clock::time_point Controller::lastProgress() const {
  return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(last_progress_ns_.load()));
}

void Controller::worker() {
  for (;;) {
    last_progress_ns_ = steadyNowNs();
    auto key = queue_.get();
    if (!key) return;
    processOne(*key);
    queue_.done(*key);
  }
}

void Controller::processOne(const std::string& key) {
  if (!active_.load()) {
    // Not the leader (any more): drop the key; the new leader resyncs everything.
    queue_.forget(key);
    return;
  }
  ++in_flight_;
  const auto start = std::chrono::steady_clock::now();
  core::Result<ReconcileResult> res = core::fail(core::ErrorCode::kInternal, "not run");
  try {
    res = reconcile_(core::ObjectKey::parse(key));
  } catch (const std::exception& e) {
    // The worker's catch-all: a bug must not take the process down.
    res = core::fail(core::ErrorCode::kInternal, std::string("reconcile threw: ") + e.what());
  }
  const auto took = std::chrono::steady_clock::now() - start;
  --in_flight_;
  if (observer_) observer_->onReconcile(core::ObjectKey::parse(key), took, res ? nullptr : &res.error());
  if (res) {
    queue_.forget(key);
    if (res->requeue_after) queue_.addAfter(key, *res->requeue_after);
    return;
  }
  const core::Error& e = res.error();
  switch (e.retry) {
    case core::RetryClass::kReplan:
      log_->debug("[{}] {}; re-planning", key, e.describe());
      queue_.addRateLimited(key);
      break;
    case core::RetryClass::kBackoff:
      log_->warn("[{}] {}; retrying with backoff (attempt {})", key, e.describe(),
                 queue_.numRequeues(key) + 1);
      if (e.retry_after) queue_.addAfter(key, *e.retry_after);
      else queue_.addRateLimited(key);
      break;
    case core::RetryClass::kNone:
      queue_.forget(key);
      if (terminal_requeue_.count() > 0) {
        log_->error("[{}] {}; not retrying until the release changes or the resync in {}s", key, e.describe(),
                    std::chrono::duration_cast<std::chrono::seconds>(terminal_requeue_).count());
        queue_.addAfter(key, terminal_requeue_);
      } else {
        log_->error("[{}] {}; not retrying until the release changes", key, e.describe());
      }
      break;
  }
}

}  // namespace bgo::controller
