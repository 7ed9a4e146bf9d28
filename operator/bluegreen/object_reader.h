#pragma once
// Read-only view of the caches the reconciler plans from. Production wraps the
// informers' stores; tests can wrap anything.

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/core/gvr.h"

namespace bgo::bluegreen {

class ObjectReader {
 public:
  virtual ~ObjectReader() = default;
  virtual std::shared_ptr<const nlohmann::json> get(const core::Gvr& gvr, const std::string& ns,
                                                    const std::string& name) const = 0;
  // Objects of gvr in ns whose label `key` equals `value`.
  virtual std::vector<std::shared_ptr<const nlohmann::json>> listByLabel(
      const core::Gvr& gvr, const std::string& ns, const std::string& key,
      const std::string& value) const = 0;
  virtual std::vector<std::shared_ptr<const nlohmann::json>> list(const core::Gvr& gvr,
                                                                  const std::string& ns) const = 0;
  // Releases in `ns` whose spec.routing.existingIngressRoute names IngressRoute `name`.
  virtual std::vector<std::shared_ptr<const nlohmann::json>> releasesUsingRoute(const std::string& ns,
                                                                               const std::string& name) const;
};

}  // namespace bgo::bluegreen
