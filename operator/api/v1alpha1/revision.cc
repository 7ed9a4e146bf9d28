#include "operator/api/v1alpha1/revision.h"

#include <cstdint>
#include <cstdio>

namespace bgo::api {

std::string fnv1aHex(std::string_view text, std::size_t digits) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return std::string(buf, digits < 16 ? digits : 16);
}

std::string revisionOf(const nlohmann::json& pod_template) {
  // nlohmann::json keeps objects in a std::map, so dump() is canonical.
  return fnv1aHex(pod_template.dump(), 10);
}

}  // namespace bgo::api
