#pragma once
// The informers the operator runs, and the ObjectReader the reconciler plans from.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "operator/bluegreen/object_reader.h"
#include "operator/informer/informer.h"

namespace bgo::app {

// One informer per resource and watched namespace ("" = all namespaces).
class InformerCache final : public bluegreen::ObjectReader {
 public:
  InformerCache(kube::KubeClient& client, core::Clock& clock, std::vector<std::string> namespaces,
                informer::InformerOptions options);

  // Key of the release an object belongs to (label bluegreen.io/release), or "".
  static std::string ownerKey(const nlohmann::json& obj);

  void start();
  void stop();
  bool waitForSync(std::chrono::milliseconds timeout) const;
  bool hasSynced() const;

  // Handlers for one resource, every namespace.
  void addHandlers(const core::Gvr& gvr, informer::EventHandlers h);
  // "namespace/name" of every cached release, without decoding one (10,000 decoded at once were
  // ~220 MiB: the start-up peak).
  std::vector<std::string> releaseKeys() const;
  // Releases in `ns` whose spec.routing.existingIngressRoute names IngressRoute `name` (an index).
  std::vector<std::shared_ptr<const nlohmann::json>> releasesUsingRoute(const std::string& ns,
                                                                       const std::string& name) const override;

  std::shared_ptr<const nlohmann::json> get(const core::Gvr& gvr, const std::string& ns,
                                            const std::string& name) const override;
  std::vector<std::shared_ptr<const nlohmann::json>> listByLabel(const core::Gvr& gvr, const std::string& ns,
                                                                 const std::string& key,
                                                                 const std::string& value) const override;
  std::vector<std::shared_ptr<const nlohmann::json>> list(const core::Gvr& gvr,
                                                          const std::string& ns) const override;

  std::vector<informer::Informer*> all() const;

 private:
  informer::Informer* find(const core::Gvr& gvr, const std::string& ns) const;

  std::vector<std::string> namespaces_;
  std::map<std::string, std::vector<std::unique_ptr<informer::Informer>>> by_resource_;
};

}  // namespace bgo::app
