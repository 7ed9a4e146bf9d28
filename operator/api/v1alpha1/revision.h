#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace bgo::api {

// Stable short hash of a pod template: FNV-1a 64 over the canonical JSON
// (object keys sorted), first 10 hex digits. Same template -> same revision,
// across processes and versions of this operator.
std::string revisionOf(const nlohmann::json& pod_template);

// The first `digits` (<= 16) hex digits of FNV-1a 64 over text: stable names derived from their parts.
std::string fnv1aHex(std::string_view text, std::size_t digits);

}  // namespace bgo::api
