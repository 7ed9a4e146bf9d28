#pragma once
// Is a switched route live in Traefik's data plane? Traefik's CRDs have no
// status, so the object cannot tell; Traefik's own API can. The operator asks
// before it starts the scale-down clock of the color it switched away from.

#include <chrono>
#include <memory>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/core/result.h"

namespace bgo::traefik {

struct ConfirmQuery {
  std::string ns;
  std::string ingress_route;       // name of the IngressRoute holding the main route
  std::string match;               // the route's match, i.e. Traefik router's rule
  std::set<std::string> want_ips;  // ready endpoint addresses of the color that should serve
};

class RouteConfirmer {
 public:
  virtual ~RouteConfirmer() = default;
  // true: the router for `match` is enabled and every server of its service is
  // one of `want_ips` (and there is at least one).
  virtual core::Result<bool> live(const ConfirmQuery& query) = 0;
};

// Reads Traefik's API (`--api` on an entry point the operator can reach), e.g.
// http://traefik.traefik-system:9000. Plain HTTP only.
class TraefikApiConfirmer final : public RouteConfirmer {
 public:
  static core::Result<std::unique_ptr<TraefikApiConfirmer>> make(const std::string& base_url,
                                                                 std::chrono::milliseconds timeout);
  core::Result<bool> live(const ConfirmQuery& query) override;

  // Pure parts, for tests: pick the router for the query from /api/http/routers,
  // and judge a service from /api/http/services/<name>.
  static core::Result<std::string> routerService(const nlohmann::json& routers, const ConfirmQuery& q);
  static bool servesOnly(const nlohmann::json& service, const std::set<std::string>& want_ips);

 private:
  TraefikApiConfirmer(std::string host, std::string port, std::string base_path,
                      std::chrono::milliseconds timeout)
      : host_(std::move(host)), port_(std::move(port)), base_path_(std::move(base_path)), timeout_(timeout) {}
  core::Result<nlohmann::json> getJson(const std::string& path);

  std::string host_;
  std::string port_;
  std::string base_path_;
  std::chrono::milliseconds timeout_;
};

}  // namespace bgo::traefik
