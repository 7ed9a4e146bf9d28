#pragma once

#include <optional>

#include <nlohmann/json.hpp>

namespace bgo::api {

// The value of a Kubernetes resource.Quantity ("500m", "1Gi", "1e3", 2), or
// nullopt when `v` is not one.
std::optional<long double> quantityValue(const nlohmann::json& v);

}  // namespace bgo::api
