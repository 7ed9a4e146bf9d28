#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace bgo::api {

// Stable short hash of a pod template: FNV-1a 64 over the canonical JSON
// (object keys sorted), first 10 hex digits. Same template -> same revision,
// across processes and versions of this operator.
std::string revisionOf(const nlohmann::json& pod_template);

}  // namespace bgo::api
