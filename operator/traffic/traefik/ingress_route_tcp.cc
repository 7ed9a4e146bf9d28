#include "operator/traffic/traefik/ingress_route_tcp.h"

namespace bgo::traefik {
namespace {

std::string text(const json& obj, const char* key, const std::string& fallback = "") {
  if (!obj.is_object()) return fallback;
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : fallback;
}

bool names(const json& svc, const api::Release& r, const api::TcpBackend& b) {
  return svc.is_object() && text(svc, "name") == b.service && text(svc, "namespace", r.ns) == r.ns &&
         svc.contains("port") && svc["port"].is_number_integer() && svc["port"].get<int64_t>() == b.port;
}

}  // namespace

std::string ownedTcpRouteName(const api::Release& r) { return r.name + "-tcp"; }

std::string tcpRouteName(const api::Release& r) {
  return r.spec.tcp && !r.spec.tcp->existing.empty() ? r.spec.tcp->existing : ownedTcpRouteName(r);
}

std::string tcpBackend(const api::Release& r, Color c) {
  const api::TcpBackend& b = r.spec.tcp->backend(c);
  return b.service + ":" + std::to_string(b.port);
}

json managedTcpRoute(const api::Release& r, Color c, const json& meta) {
  const api::TcpBackend& b = r.spec.tcp->backend(c);
  json obj{{"apiVersion", "traefik.io/v1alpha1"},
           {"kind", "IngressRouteTCP"},
           {"metadata", meta},
           {"spec",
            {{"entryPoints", r.spec.tcp->entry_points},
             {"routes", json::array({{{"match", kTcpMatchAll},
                                      {"services", json::array({{{"name", b.service}, {"port", b.port}}})}}})}}}};
  obj["metadata"]["name"] = tcpRouteName(r);
  obj["metadata"]["namespace"] = r.ns;
  return obj;
}

TcpTarget readTcpTarget(const json& route, const api::Release& r, std::optional<Color> prefer) {
  TcpTarget out;
  if (!r.spec.tcp || !route.is_object() || !route.contains("spec") || !route["spec"].is_object()) return out;
  auto routes = route["spec"].find("routes");
  if (routes == route["spec"].end() || !routes->is_array()) return out;
  for (std::size_t i = 0; i < routes->size(); ++i) {
    const json& rt = (*routes)[i];
    if (text(rt, "match") != kTcpMatchAll) continue;
    out.route_found = true;
    out.index = static_cast<int>(i);
    auto services = rt.find("services");
    if (services == rt.end() || !services->is_array()) return out;
    for (const auto& s : *services) {
      if (!out.description.empty()) out.description += " + ";
      out.description += text(s, "name", "?");
      if (s.is_object() && s.contains("port")) out.description += ":" + s["port"].dump();
    }
    if (services->size() != 1) return out;  // several: a weighted split, never ours
    const json& s = (*services)[0];
    std::vector<Color> order{Color::kBlue, Color::kGreen};
    if (prefer == Color::kGreen) order = {Color::kGreen, Color::kBlue};
    for (Color c : order) {
      if (names(s, r, r.spec.tcp->backend(c))) {
        out.color = c;
        break;
      }
    }
    return out;
  }
  return out;
}

core::Result<json> tcpSwitchPatch(const json& route, const api::Release& r, Color to) {
  TcpTarget t = readTcpTarget(route, r, to);
  if (!t.route_found) {
    return core::fail(core::ErrorCode::kInvalid,
                      "IngressRouteTCP " + tcpRouteName(r) + " has no route with match " + kTcpMatchAll);
  }
  const std::string base = "/spec/routes/" + std::to_string(t.index);
  const json& rt = route["spec"]["routes"][t.index];
  const json current = rt.value("services", json::array());
  json entry = current.is_array() && !current.empty() && current[0].is_object() ? current[0] : json::object();
  entry.erase("namespace");
  entry.erase("weight");  // one service: a weight means nothing
  const api::TcpBackend& b = r.spec.tcp->backend(to);
  entry["name"] = b.service;
  entry["port"] = b.port;
  json ops = json::array();
  ops.push_back({{"op", "test"}, {"path", base + "/match"}, {"value", kTcpMatchAll}});
  if (rt.contains("services")) {
    ops.push_back({{"op", "test"}, {"path", base + "/services"}, {"value", current}});
    ops.push_back({{"op", "replace"}, {"path", base + "/services"}, {"value", json::array({entry})}});
  } else {
    ops.push_back({{"op", "add"}, {"path", base + "/services"}, {"value", json::array({entry})}});
  }
  return ops;
}

}  // namespace bgo::traefik
