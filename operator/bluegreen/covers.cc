#include "operator/bluegreen/covers.h"

#include <cctype>
#include <cmath>
#include <string>
#include <string_view>

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
  const auto a = quantityValue(live), b = quantityValue(desired);
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

std::optional<long double> quantityValue(const json& v) {
  if (v.is_number()) return v.get<long double>();
  if (!v.is_string()) return std::nullopt;
  const std::string& s = v.get_ref<const std::string&>();
  // <sign><digits>[.<digits>]<suffix>, as resource.Quantity parses it.
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  bool digits = false;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, digits = true;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, digits = true;
  }
  if (!digits) return std::nullopt;
  long double value = std::stold(s.substr(0, i));
  const std::string_view suffix = std::string_view(s).substr(i);
  if (suffix.empty()) return value;
  if (suffix.size() == 2 && suffix[1] == 'i') {
    static constexpr std::string_view kBinary = "KMGTPE";
    const auto k = kBinary.find(suffix[0]);
    if (k == std::string_view::npos) return std::nullopt;
    return value * std::pow(1024.0L, static_cast<long double>(k + 1));
  }
  if (suffix[0] == 'e' || suffix[0] == 'E') {
    std::size_t j = 1;
    if (j < suffix.size() && (suffix[j] == '+' || suffix[j] == '-')) ++j;
    if (j == suffix.size()) return std::nullopt;
    for (std::size_t k = j; k < suffix.size(); ++k) {
      if (!std::isdigit(static_cast<unsigned char>(suffix[k]))) return std::nullopt;
    }
    return value * std::pow(10.0L, std::stold(std::string(suffix.substr(1))));
  }
  if (suffix.size() != 1) return std::nullopt;
  switch (suffix[0]) {
    case 'n': return value * 1e-9L;
    case 'u': return value * 1e-6L;
    case 'm': return value * 1e-3L;
    case 'k': return value * 1e3L;
    case 'M': return value * 1e6L;
    case 'G': return value * 1e9L;
    case 'T': return value * 1e12L;
    case 'P': return value * 1e15L;
    case 'E': return value * 1e18L;
    default: return std::nullopt;
  }
}

}  // namespace bgo::bluegreen
