#pragma once
// JSON <-> types. Parsing never throws: problems come back as FieldErrors that
// name the field, so the operator can report them as Stalled.

#include <string>
#include <vector>

#include "operator/api/v1alpha1/types.h"
#include "operator/core/result.h"

namespace bgo::api {

struct FieldError {
  std::string field;    // "spec.routing.host"
  std::string message;  // "must be a lowercase DNS name"
  std::string str() const { return field + ": " + message; }
};

struct Parsed {
  Release release;
  std::vector<FieldError> errors;  // empty: spec is valid
  std::string errorSummary() const;  // "spec.a: x; spec.b: y"
};

// Fails only when the object is not a BlueGreenRelease at all (no metadata.name).
core::Result<Parsed> parseRelease(const json& object);

// Checks CEL cannot express (or that an older CRD let through). Fills defaults.
std::vector<FieldError> validateAndDefault(Spec& spec);

// spec.hooks (also the bluegreen.io/hooks annotation of a Deployment).
inline constexpr std::size_t kMaxHookNameLength = 40;
Hooks parseHooks(const json& hooks, const std::string& path, std::vector<FieldError>& errors);
json hooksToJson(const Hooks& hooks);
std::vector<FieldError> validateHooks(const Hooks& hooks);

Status parseStatus(const json& status);
json statusToJson(const Status& status);

}  // namespace bgo::api
