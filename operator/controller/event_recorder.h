#pragma once
// Kubernetes Events for decisions a person wants to see. The same event for the
// same object is sent at most once per interval (kubectl shows the first one;
// a storm helps nobody), so a retried reconcile does not spam.

#include <map>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/core/clock.h"
#include "operator/kube/kube_client.h"

namespace bgo::controller {

using json = nlohmann::json;

struct ObjectRef {
  std::string api_version;
  std::string kind;
  std::string ns;
  std::string name;
  std::string uid;
  std::string resource_version;
};

class EventRecorder {
 public:
  virtual ~EventRecorder() = default;
  virtual void record(const ObjectRef& about, const std::string& type, const std::string& reason,
                      const std::string& message) = 0;
};

class KubeEventRecorder final : public EventRecorder {
 public:
  KubeEventRecorder(kube::KubeClient& client, core::Clock& clock, std::string component,
                    std::chrono::seconds dedup_interval = std::chrono::minutes(5));
  void record(const ObjectRef& about, const std::string& type, const std::string& reason,
              const std::string& message) override;

  static json buildEvent(const ObjectRef& about, const std::string& type, const std::string& reason,
                         const std::string& message, const std::string& component,
                         const std::string& now);

 private:
  kube::KubeClient& client_;
  core::Clock& clock_;
  std::string component_;
  std::chrono::seconds dedup_interval_;
  std::mutex mu_;
  std::map<std::string, core::SteadyTime> last_sent_;
};

}  // namespace bgo::controller
