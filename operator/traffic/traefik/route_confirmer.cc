#include "operator/traffic/traefik/route_confirmer.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace bgo::traefik {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;
using json = nlohmann::json;

core::Result<std::unique_ptr<TraefikApiConfirmer>> TraefikApiConfirmer::make(
    const std::string& base_url, std::chrono::milliseconds timeout) {
  const std::string scheme = "http://";
  if (base_url.rfind(scheme, 0) != 0) {
    return core::fail(core::ErrorCode::kConfig,
                      "--traefik-api-url must start with http:// (got \"" + base_url + "\")");
  }
  std::string rest = base_url.substr(scheme.size());
  std::string path;
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    path = rest.substr(slash);
    rest = rest.substr(0, slash);
  }
  while (!path.empty() && path.back() == '/') path.pop_back();
  std::string host = rest, port = "80";
  if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host.empty() || port.empty()) {
    return core::fail(core::ErrorCode::kConfig, "--traefik-api-url: no host in \"" + base_url + "\"");
  }
  return std::unique_ptr<TraefikApiConfirmer>(new TraefikApiConfirmer(host, port, path, timeout));
}

core::Result<json> TraefikApiConfirmer::getJson(const std::string& path) {
  try {
    boost::asio::io_context io;
    tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    stream.expires_after(timeout_);
    stream.connect(resolver.resolve(host_, port_));
    http::request<http::empty_body> req{http::verb::get, base_path_ + path, 11};
    req.set(http::field::host, host_);
    req.set(http::field::accept, "application/json");
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    if (res.result_int() == 404) return core::fail(core::ErrorCode::kNotFound, "Traefik API: " + path + " not found", 404);
    if (res.result_int() != 200) {
      return core::fail(core::ErrorCode::kUnavailable,
                        "Traefik API " + path + " answered " + std::to_string(res.result_int()),
                        static_cast<int>(res.result_int()));
    }
    return json::parse(res.body());
  } catch (const std::exception& e) {
    return core::fail(core::ErrorCode::kUnavailable, "Traefik API " + host_ + ":" + port_ + path + ": " + e.what());
  }
}

core::Result<std::string> TraefikApiConfirmer::routerService(const json& routers, const ConfirmQuery& q) {
  if (!routers.is_array()) return core::fail(core::ErrorCode::kInternal, "Traefik API: routers is not a list");
  // Router names are "<namespace>-<ingressroute>-<hash of the match>@kubernetescrd".
  const std::string prefix = q.ns + "-" + q.ingress_route + "-";
  for (const auto& r : routers) {
    if (!r.is_object() || r.value("provider", "") != "kubernetescrd" || r.value("rule", "") != q.match) continue;
    if (r.value("name", "").rfind(prefix, 0) != 0) continue;
    if (r.value("status", "") != "enabled") {
      return core::fail(core::ErrorCode::kUnavailable, "Traefik router " + r.value("name", "") + " is " + r.value("status", "?"));
    }
    std::string svc = r.value("service", "");
    if (svc.find('@') == std::string::npos) svc += "@kubernetescrd";
    return svc;
  }
  return core::fail(core::ErrorCode::kNotFound, "Traefik has no router for " + q.match + " from IngressRoute " +
                                                    q.ns + "/" + q.ingress_route + " yet");
}

bool TraefikApiConfirmer::servesOnly(const json& service, const std::set<std::string>& want_ips) {
  const json& lb = service.value("loadBalancer", json::object());
  const json& servers = lb.is_object() ? lb.value("servers", json::array()) : json::array();
  if (!servers.is_array() || servers.empty() || want_ips.empty()) return false;
  for (const auto& s : servers) {
    // "http://198.18.0.7:8080" -> "198.18.0.7" (IPv6 "[::1]:80" -> "::1")
    std::string url = s.value("url", "");
    auto start = url.find("://");
    std::string hostport = start == std::string::npos ? url : url.substr(start + 3);
    std::string host;
    if (!hostport.empty() && hostport[0] == '[') {
      host = hostport.substr(1, hostport.find(']') - 1);
    } else {
      host = hostport.substr(0, hostport.rfind(':'));
    }
    if (!want_ips.count(host)) return false;
  }
  return true;
}

core::Result<bool> TraefikApiConfirmer::live(const ConfirmQuery& q) {
  auto routers = getJson("/api/http/routers?per_page=1000&search=" + q.ns + "-" + q.ingress_route + "-");
  if (!routers) return core::fail(routers.error());
  auto svc = routerService(*routers, q);
  if (!svc) {
    if (svc.error().is(core::ErrorCode::kNotFound)) return false;  // not loaded yet
    return core::fail(svc.error());
  }
  auto service = getJson("/api/http/services/" + *svc);
  if (!service) {
    if (service.error().is(core::ErrorCode::kNotFound)) return false;
    return core::fail(service.error());
  }
  return servesOnly(*service, q.want_ips);
}

}  // namespace bgo::traefik
