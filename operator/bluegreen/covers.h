#pragma once

#include <nlohmann/json.hpp>

namespace bgo::bluegreen {

// true when the live object (as the API server returns it) already holds every
// field of `desired`: objects by subset of keys, arrays element-wise with the
// same length. The server's normalisations count as equal: a field the server
// drops because it holds its zero value (false, 0, "", [], {}) and a resource
// quantity in another spelling ("0.5" and "500m", 1 and "1000m").
bool covers(const nlohmann::json& live, const nlohmann::json& desired);

}  // namespace bgo::bluegreen
