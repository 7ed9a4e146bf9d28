#include "operator/bluegreen/covers.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>

#include "operator/api/v1alpha1/quantity.h"
#include "operator/api/v1alpha1/revision.h"

namespace bgo::bluegreen {
namespace {

using nlohmann::json;

// Keys whose values are quantities: resource lists (limits, requests, overhead)
// hold one per resource name; sizeLimit is one.
bool holdsQuantities(std::string_view key) { return key == "limits" || key == "requests" || key == "overhead"; }
bool isQuantity(std::string_view key) { return key == "sizeLimit"; }

// What Go's encoding/json leaves out under omitempty.
bool zeroValue(const json& v) {
  return v.is_null() || (v.is_boolean() && !v.get<bool>()) || (v.is_number() && v.get<double>() == 0) ||
         (v.is_string() && v.get_ref<const std::string&>().empty()) ||
         ((v.is_array() || v.is_object()) && v.empty());
}

bool sameQuantity(const json& live, const json& desired) {
  if (live == desired) return true;
  const auto a = api::quantityValue(live), b = api::quantityValue(desired);
  if (!a || !b) return false;
  return std::fabs(*a - *b) <= 1e-12L * std::max(std::fabs(*a), std::fabs(*b));
}

std::string at(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

// `quantities`: `desired` is a resource list, its values are quantities.
std::optional<std::string> diffAt(const json& live, const json& desired, bool quantities, const std::string& path) {
  if (desired.is_object()) {
    if (!live.is_object()) return path;
    for (auto it = desired.begin(); it != desired.end(); ++it) {
      auto l = live.find(it.key());
      if (l == live.end()) {
        if (zeroValue(it.value())) continue;
        return at(path, it.key());
      }
      if (quantities || isQuantity(it.key())) {
        if (!sameQuantity(*l, it.value())) return at(path, it.key());
      } else if (auto d = diffAt(*l, it.value(), holdsQuantities(it.key()), at(path, it.key()))) {
        return d;
      }
    }
    return std::nullopt;
  }
  if (desired.is_array()) {
    if (!live.is_array() || live.size() != desired.size()) return path;
    for (std::size_t i = 0; i < desired.size(); ++i) {
      if (auto d = diffAt(live[i], desired[i], false, path + "[" + std::to_string(i) + "]")) return d;
    }
    return std::nullopt;
  }
  if (live == desired) return std::nullopt;
  return path;
}

std::string annotation(const json& obj, const char* key) {
  const json& meta = obj.is_object() ? obj.value("metadata", json::object()) : json::object();
  const json& ann = meta.is_object() ? meta.value("annotations", json::object()) : json::object();
  return ann.is_object() ? ann.value(key, "") : "";
}

}  // namespace

bool covers(const json& live, const json& desired) { return !diffAt(live, desired, false, ""); }

std::optional<std::string> difference(const json& live, const json& desired) {
  return diffAt(live, desired, false, "");
}

std::string appliedHash(const json& desired) {
  json d = desired;
  if (auto s = d.find("spec"); s != d.end() && s->is_object()) s->erase("replicas");
  if (auto m = d.find("metadata"); m != d.end() && m->is_object()) {
    if (auto a = m->find("annotations"); a != m->end() && a->is_object()) {
      a->erase(kAnnotationApplied);
      if (a->empty()) m->erase(a);
    }
  }
  // Same canonical FNV-1a as the revision: nlohmann::json keeps keys sorted.
  return api::revisionOf(d);
}

json withAppliedHash(json desired) {
  const std::string h = appliedHash(desired);
  desired["metadata"]["annotations"][kAnnotationApplied] = h;
  return desired;
}

Freshness freshness(const json& live, const json& desired, bool exact_spec) {
  if (annotation(live, kAnnotationApplied) != appliedHash(desired)) return {Freshness::State::kChanged, ""};
  json want = desired;
  want["metadata"]["annotations"][kAnnotationApplied] = appliedHash(desired);
  if (auto d = difference(live, want)) {
    // Only replicas differ: scaling, ours or by the spec, not a foreign edit.
    json no_replicas = want;
    if (auto s = no_replicas.find("spec"); s != no_replicas.end() && s->is_object()) s->erase("replicas");
    if (!difference(live, no_replicas)) return {Freshness::State::kChanged, ""};
    return {Freshness::State::kDrifted, *d};
  }
  if (exact_spec) {
    if (auto d = difference(desired.value("spec", json::object()), live.value("spec", json::object()))) {
      return {Freshness::State::kDrifted, "spec." + *d};
    }
  }
  return {};
}

}  // namespace bgo::bluegreen
