#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace bgo::bluegreen {

// true when the live object (as the API server returns it) already holds every
// field of `desired`: objects by subset of keys, arrays element-wise with the
// same length. The server's normalisations count as equal: a field the server
// drops because it holds its zero value (false, 0, "", [], {}) and a resource
// quantity in another spelling ("0.5" and "500m", 1 and "1000m").
bool covers(const nlohmann::json& live, const nlohmann::json& desired);

// The path of the first field of `desired` that `live` does not cover
// ("spec.routes[0].middlewares"), or nullopt when it covers all of it.
std::optional<std::string> difference(const nlohmann::json& live, const nlohmann::json& desired);

// What the operator last applied is kept as a hash in an annotation of the
// object, so a field removed from the spec is removed from the object too
// (covers() alone only sees fields the desired object has). spec.replicas is
// left out: it also moves by merge patch (scale-down, warm-up).
inline constexpr const char* kAnnotationApplied = "bluegreen.io/applied";
std::string appliedHash(const nlohmann::json& desired);
nlohmann::json withAppliedHash(nlohmann::json desired);

struct Freshness {
  enum class State { kUpToDate, kChanged, kDrifted };
  State state = State::kUpToDate;
  std::string field;  // kDrifted: the first field someone else changed
};
// kChanged: the spec asks for something else than what was applied last (or
// nothing was applied by this version yet). kDrifted: what was applied last is
// still what the spec asks for, but the live object was changed since.
// `exact_spec`: the object is entirely ours, so a field in live.spec that the
// desired spec lacks is drift too (routes; Deployments and Services get server
// defaults and are compared one way).
Freshness freshness(const nlohmann::json& live, const nlohmann::json& desired, bool exact_spec);

}  // namespace bgo::bluegreen
