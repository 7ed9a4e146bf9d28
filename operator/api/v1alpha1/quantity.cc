#include "operator/api/v1alpha1/quantity.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <string>
#include <string_view>

namespace bgo::api {

using nlohmann::json;

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
  const std::string_view suffix = std::string_view(s).substr(i);
  long double scale = 1;
  if (suffix.size() == 2 && suffix[1] == 'i') {  // binary SI: Ki .. Ei
    const auto k = std::string_view("KMGTPE").find(suffix[0]);
    if (k == std::string_view::npos) return std::nullopt;
    scale = std::pow(1024.0L, static_cast<long double>(k + 1));
  } else if (!suffix.empty() && (suffix[0] == 'e' || suffix[0] == 'E') && suffix.size() > 1) {  // 1e3
    std::size_t j = (suffix[1] == '+' || suffix[1] == '-') ? 2 : 1;
    if (j == suffix.size()) return std::nullopt;
    for (std::size_t k = j; k < suffix.size(); ++k) {
      if (!std::isdigit(static_cast<unsigned char>(suffix[k]))) return std::nullopt;
    }
    scale = std::pow(10.0L, std::strtold(std::string(suffix.substr(1)).c_str(), nullptr));
  } else if (suffix.size() == 1) {  // decimal SI
    switch (suffix[0]) {
      case 'n': scale = 1e-9L; break;
      case 'u': scale = 1e-6L; break;
      case 'm': scale = 1e-3L; break;
      case 'k': scale = 1e3L; break;
      case 'M': scale = 1e6L; break;
      case 'G': scale = 1e9L; break;
      case 'T': scale = 1e12L; break;
      case 'P': scale = 1e15L; break;
      case 'E': scale = 1e18L; break;
      default: return std::nullopt;
    }
  } else if (!suffix.empty()) {
    return std::nullopt;
  }
  // strtold, not stold: a number too large is not a quantity here, not an exception.
  const long double value = std::strtold(s.substr(0, i).c_str(), nullptr) * scale;
  if (!std::isfinite(value)) return std::nullopt;
  return value;
}

}  // namespace bgo::api
