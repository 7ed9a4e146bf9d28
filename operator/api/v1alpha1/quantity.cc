#include "operator/api/v1alpha1/quantity.h"

#include <cctype>
#include <cmath>
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

}  // namespace bgo::api
