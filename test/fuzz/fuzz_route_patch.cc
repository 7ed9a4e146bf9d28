// A user's IngressRoute of any shape: reading which color it serves never
// throws, and a switch patch, when one is made, applies to the route it was made
// from and leaves it serving exactly the new color with the switch recorded.
#include <cstddef>
#include <cstdint>
#include <string>

#include "operator/traffic/traefik/ingress_route.h"
#include "test/fuzz/fuzz_check.h"

using bgo::api::Color;
using bgo::traefik::json;

namespace {

bgo::api::Release existingRouteRelease() {
  bgo::api::Release r;
  r.ns = "shop";
  r.name = "shop";
  r.spec.service_port = 80;
  r.spec.existing_route = bgo::api::ExistingRoute{"web", "Host(`shop.example.com`)"};
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  json route = json::parse(data, data + size, nullptr, false);
  if (route.is_discarded()) return 0;
  // Whatever the spec holds, an object the API server returns has a metadata map.
  const bool api_object = route.is_object() && route.contains("metadata") && route["metadata"].is_object();
  static const bgo::api::Release r = existingRouteRelease();
  const std::string match = bgo::traefik::mainMatch(r);

  const bgo::traefik::RouteTarget before = bgo::traefik::readTarget(route, match, r);
  (void)bgo::traefik::readSwitchRecord(route);
  const Color to = before.color ? bgo::api::other(*before.color) : Color::kGreen;
  const bgo::api::HistoryEntry record{"", bgo::api::toString(to), "abc123", "2026-01-01T00:00:00Z", "Promoted"};
  auto patch = bgo::traefik::switchPatch(route, r, to, bgo::traefik::switchRecord(record));
  if (!patch) {
    FUZZ_CHECK(!before.route_found);
    return 0;
  }
  FUZZ_CHECK(before.route_found);
  if (!api_object) return 0;
  json after;
  try {
    after = route.patch(*patch);  // what the API server does with it
  } catch (const json::exception& e) {
    std::fprintf(stderr, "patch does not apply: %s\npatch: %s\n", e.what(), patch->dump().c_str());
    FUZZ_CHECK(false);
  }
  const bgo::traefik::RouteTarget now = bgo::traefik::readTarget(after, match, r);
  FUZZ_CHECK(now.route_found && now.index == before.index);
  FUZZ_CHECK(now.color == to);
  FUZZ_CHECK(bgo::traefik::readSwitchRecord(after) == record);
  return 0;
}
