#include "operator/api/v1alpha1/revision.h"

#include <cstdint>
#include <cstdio>

namespace bgo::api {

std::string revisionOf(const nlohmann::json& pod_template) {
  // nlohmann::json keeps objects in a std::map, so dump() is canonical.
  const std::string text = pod_template.dump();
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return std::string(buf, 10);
}

}  // namespace bgo::api
