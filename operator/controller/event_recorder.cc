#include "operator/controller/event_recorder.h"

#include <cstdint>
#include <cstdio>

namespace bgo::controller {

KubeEventRecorder::KubeEventRecorder(kube::KubeClient& client, core::Clock& clock,
                                     std::string component, std::chrono::seconds dedup_interval)
    : client_(client), clock_(clock), component_(std::move(component)),
      dedup_interval_(dedup_interval) {}

json KubeEventRecorder::buildEvent(const ObjectRef& about, const std::string& type,
                                   const std::string& reason, const std::string& message,
                                   const std::string& component, const std::string& now) {
  json ref{{"apiVersion", about.api_version}, {"kind", about.kind}, {"namespace", about.ns},
           {"name", about.name}};
  if (!about.uid.empty()) ref["uid"] = about.uid;
  if (!about.resource_version.empty()) ref["resourceVersion"] = about.resource_version;
  // A name derived from what the event says makes a retried POST (the HTTP
  // client may resend on a dropped keep-alive connection) an AlreadyExists
  // instead of a duplicate Event.
  std::uint64_t h = 14695981039346656037ull;
  for (const std::string* part : {&about.uid, &about.name, &type, &reason, &message}) {
    for (unsigned char c : *part) {
      h ^= c;
      h *= 1099511628211ull;
    }
    h ^= 0xff;
    h *= 1099511628211ull;
  }
  char suffix[17];
  std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(h));
  return json{{"apiVersion", "v1"},
              {"kind", "Event"},
              {"metadata", {{"name", about.name + "." + suffix}, {"namespace", about.ns}}},
              {"involvedObject", ref},
              {"type", type},
              {"reason", reason},
              {"message", message.size() > 1024 ? message.substr(0, 1021) + "..." : message},
              {"source", {{"component", component}}},
              {"reportingComponent", component},
              {"reportingInstance", component},
              {"action", reason},
              {"firstTimestamp", now},
              {"lastTimestamp", now},
              {"count", 1}};
}

void KubeEventRecorder::record(const ObjectRef& about, const std::string& type,
                               const std::string& reason, const std::string& message) {
  const std::string key = about.ns + "/" + about.name + "/" + reason + "/" + message;
  {
    std::lock_guard lock(mu_);
    auto now = clock_.now();
    auto it = last_sent_.find(key);
    if (it != last_sent_.end() && now - it->second < dedup_interval_) return;
    last_sent_[key] = now;
    if (last_sent_.size() > 4096) last_sent_.clear();  // bounded memory
  }
  // Events are best effort: a failure must never fail a reconcile.
  const std::string now = core::formatRfc3339(clock_.wallNow());
  json event = buildEvent(about, type, reason, message, component_, now);
  auto created = client_.create(core::gvrs::kEvents, about.ns, event);
  if (created || !created.error().is(core::ErrorCode::kAlreadyExists)) return;
  // The same thing happened again (after the dedup interval): count it, as kubectl shows "(x2)".
  const std::string name = event["metadata"]["name"];
  auto existing = client_.get(core::gvrs::kEvents, about.ns, name);
  if (!existing) return;
  if (existing->value("lastTimestamp", "") == now) return;  // a resent POST, not a repeat
  (void)client_.patch(core::gvrs::kEvents, about.ns, name, kube::PatchType::kMerge,
                      json{{"count", existing->value("count", 1) + 1}, {"lastTimestamp", now}});
}

AsyncEventRecorder::AsyncEventRecorder(EventRecorder& inner, std::size_t capacity)
    : inner_(inner), capacity_(capacity), thread_([this] { run(); }) {}

AsyncEventRecorder::~AsyncEventRecorder() { stop(std::chrono::seconds(1)); }

void AsyncEventRecorder::record(const ObjectRef& about, const std::string& type, const std::string& reason,
                                const std::string& message) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= capacity_) {
      ++dropped_;
      return;
    }
    queue_.push_back({about, type, reason, message});
  }
  cv_.notify_one();
}

void AsyncEventRecorder::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, all sent
    Item item = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    inner_.record(item.about, item.type, item.reason, item.message);
    lock.lock();
    busy_ = false;
    idle_.notify_all();
  }
}

void AsyncEventRecorder::stop(std::chrono::milliseconds grace) {
  {
    std::unique_lock lock(mu_);
    if (stopping_) return;
    // Whatever is not sent within the grace period is dropped: shutdown must not hang on the API.
    idle_.wait_for(lock, grace, [&] { return queue_.empty() && !busy_; });
    dropped_ += queue_.size();
    queue_.clear();
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

}  // namespace bgo::controller
