#pragma once
// Kubernetes label-selector strings ("a=b,c!=d,e in (x,y),f notin (z),g,!h"),
// parsed and matched the way the API server does: `!=` and `notin` also match
// objects that lack the label.

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/core/result.h"

namespace bgo::testing {

class LabelSelector {
 public:
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kDoesNotExist };
  struct Requirement {
    std::string key;
    Op op = Op::kExists;
    std::vector<std::string> values;
  };

  // Empty string selects everything. Malformed input -> BadRequest.
  static core::Result<LabelSelector> parse(const std::string& text);

  bool matches(const std::map<std::string, std::string>& labels) const;
  // Reads metadata.labels of a Kubernetes object.
  bool matchesObject(const nlohmann::json& object) const;
  bool empty() const { return requirements_.empty(); }
  const std::vector<Requirement>& requirements() const { return requirements_; }

 private:
  std::vector<Requirement> requirements_;
};

}  // namespace bgo::testing
