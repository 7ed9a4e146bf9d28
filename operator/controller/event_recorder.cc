#include "operator/controller/event_recorder.h"

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
  return json{{"apiVersion", "v1"},
              {"kind", "Event"},
              {"metadata", {{"generateName", about.name + "."}, {"namespace", about.ns}}},
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
  (void)client_.create(core::gvrs::kEvents, about.ns,
                       buildEvent(about, type, reason, message, component_,
                                  core::formatRfc3339(clock_.wallNow())));
}

}  // namespace bgo::controller
