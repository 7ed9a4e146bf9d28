#pragma once
// ObjectReader over the API server: `plan` gives the operator's planner what
// the reconciler would observe, read now instead of from informer caches.

#include <mutex>
#include <optional>
#include <string>

#include "operator/bluegreen/object_reader.h"
#include "operator/kube/kube_client.h"

namespace bgo::cli {

class LiveObjectReader final : public bluegreen::ObjectReader {
 public:
  explicit LiveObjectReader(kube::KubeClient& client) : client_(client) {}

  std::shared_ptr<const nlohmann::json> get(const core::Gvr& gvr, const std::string& ns,
                                            const std::string& name) const override;
  std::vector<std::shared_ptr<const nlohmann::json>> listByLabel(const core::Gvr& gvr, const std::string& ns,
                                                                 const std::string& key,
                                                                 const std::string& value) const override;
  std::vector<std::shared_ptr<const nlohmann::json>> list(const core::Gvr& gvr, const std::string& ns) const override;

  // The first read that failed for another reason than NotFound: a plan made
  // without that object would be wrong, so the caller reports it instead.
  std::optional<core::Error> firstError() const;

 private:
  void note(const core::Error& e) const;
  kube::KubeClient& client_;
  mutable std::mutex mu_;
  mutable std::optional<core::Error> error_;
};

}  // namespace bgo::cli
