#pragma once
// Traefik IngressRoute (traefik.io/v1alpha1) building and reading.
// Managed mode: the operator owns `<name>` (main host -> active color) and
// `<name>-preview` (preview hosts -> each color). Existing mode: the user owns
// an IngressRoute; only the services of the route with the configured match
// are replaced, with a guarded JSON Patch.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/api/v1alpha1/types.h"
#include "operator/core/result.h"

namespace bgo::traefik {

using json = nlohmann::json;
using api::Color;

std::string hostMatch(const std::string& host);  // Host(`shop.example.com`)
std::string colorServiceName(const api::Release& r, Color c);  // shop-blue
std::string mainRouteName(const api::Release& r);               // shop
std::string previewRouteName(const api::Release& r);            // shop-preview

// Full apply configurations; `meta` carries labels and ownerReferences.
json managedMainRoute(const api::Release& r, Color active, const json& meta);
json managedPreviewRoute(const api::Release& r, const json& meta);

// What the route with `match` sends traffic to.
struct RouteTarget {
  bool route_found = false;          // a route with that match exists
  std::optional<Color> color;        // exactly one service, one of this release's colors
  std::string description;           // "shop-blue:80", "legacy:8080 + shop-green:80", ...
  int index = -1;                    // position in spec.routes
};
RouteTarget readTarget(const json& ingress_route, const std::string& match, const api::Release& r);

// The match that carries the main host for this release.
std::string mainMatch(const api::Release& r);

// The switch is recorded on the route itself, in the same write that makes it
// (annotation bluegreen.io/switch, a JSON HistoryEntry): a status write that
// fails after it cannot make the operator forget that traffic just moved.
inline constexpr const char* kAnnotationSwitch = "bluegreen.io/switch";
std::string switchRecord(const api::HistoryEntry& e);
std::optional<api::HistoryEntry> readSwitchRecord(const json& ingress_route);

// JSON Patch for a user's IngressRoute: test that the route at its index still
// has the match and the services we read, then replace the services with the
// new color (keeping the first entry's other fields, e.g. weight or sticky),
// and set the switch record annotation.
core::Result<json> switchPatch(const json& ingress_route, const api::Release& r, Color to,
                               const std::string& record);

}  // namespace bgo::traefik
