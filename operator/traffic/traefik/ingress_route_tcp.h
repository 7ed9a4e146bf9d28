#pragma once
// Traefik IngressRouteTCP (traefik.io/v1alpha1): the database route of
// spec.routing.tcp. Managed mode: the operator owns `<name>-tcp`, one router
// HostSNI(`*`) with exactly one service. Existing mode: the user owns an
// IngressRouteTCP; only the services of its HostSNI(`*`) route are replaced,
// with a guarded JSON Patch.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/api/v1alpha1/types.h"
#include "operator/core/result.h"

namespace bgo::traefik {

using json = nlohmann::json;
using api::Color;

// Without TLS a TCP router can only match every connection (SNI is unseen).
inline constexpr const char* kTcpMatchAll = "HostSNI(`*`)";

std::string tcpRouteName(const api::Release& r);  // existingIngressRouteTCP or <name>-tcp
std::string ownedTcpRouteName(const api::Release& r);  // <name>-tcp, the one the operator creates
std::string tcpBackend(const api::Release& r, Color c);  // "db-blue:5432"

// Full apply configuration; `meta` carries labels and ownerReferences.
json managedTcpRoute(const api::Release& r, Color c, const json& meta);

struct TcpTarget {
  bool route_found = false;     // a route with HostSNI(`*`) exists
  std::optional<Color> color;   // exactly one service: the backend of this color
  std::string description;      // "db-blue:5432", "a:1 + b:2", "" for no services
  int index = -1;               // position in spec.routes
};
// `prefer`: the color to report when both colors name the same backend.
TcpTarget readTcpTarget(const json& route, const api::Release& r, std::optional<Color> prefer);

// Tests that the route at its index still has the match and the services we
// read, then replaces the services with the color's backend (keeping the first
// entry's other fields, e.g. terminationDelay or proxyProtocol).
core::Result<json> tcpSwitchPatch(const json& route, const api::Release& r, Color to);

}  // namespace bgo::traefik
