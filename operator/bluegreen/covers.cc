#include "operator/bluegreen/covers.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>

#include "operator/api/v1alpha1/quantity.h"

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

// `quantities`: `desired` is a resource list, its values are quantities.
bool coversAt(const json& live, const json& desired, bool quantities) {
  if (desired.is_object()) {
    if (!live.is_object()) return false;
    for (auto it = desired.begin(); it != desired.end(); ++it) {
      auto l = live.find(it.key());
      if (l == live.end()) {
        if (zeroValue(it.value())) continue;
        return false;
      }
      if (quantities || isQuantity(it.key())) {
        if (!sameQuantity(*l, it.value())) return false;
      } else if (!coversAt(*l, it.value(), holdsQuantities(it.key()))) {
        return false;
      }
    }
    return true;
  }
  if (desired.is_array()) {
    if (!live.is_array() || live.size() != desired.size()) return false;
    for (std::size_t i = 0; i < desired.size(); ++i) {
      if (!coversAt(live[i], desired[i], false)) return false;
    }
    return true;
  }
  return live == desired;
}

}  // namespace

bool covers(const json& live, const json& desired) { return coversAt(live, desired, false); }

}  // namespace bgo::bluegreen
