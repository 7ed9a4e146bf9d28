#include "operator/traffic/traefik/ingress_route.h"

namespace bgo::traefik {

std::string hostMatch(const std::string& host) { return "Host(`" + host + "`)"; }
std::string colorServiceName(const api::Release& r, Color c) {
  return r.name + "-" + api::toString(c);
}
std::string mainRouteName(const api::Release& r) {
  return r.spec.existing_route ? r.spec.existing_route->name : r.name;
}
std::string previewRouteName(const api::Release& r) { return r.name + "-preview"; }

std::string mainMatch(const api::Release& r) {
  return r.spec.existing_route ? r.spec.existing_route->match : hostMatch(r.spec.host);
}

namespace {

json serviceRef(const api::Release& r, Color c) {
  return json{{"name", colorServiceName(r, c)}, {"port", r.spec.service_port}};
}

json middlewares(const api::Release& r) {
  json out = json::array();
  for (const auto& m : r.spec.middlewares) {
    json ref{{"name", m.name}};
    if (!m.ns.empty()) ref["namespace"] = m.ns;
    out.push_back(ref);
  }
  return out;
}

json route(const api::Release& r, const std::string& host, Color c) {
  json rt{{"kind", "Rule"}, {"match", hostMatch(host)}, {"services", json::array({serviceRef(r, c)})}};
  if (!r.spec.middlewares.empty()) rt["middlewares"] = middlewares(r);
  return rt;
}

json routeObject(const api::Release& r, const std::string& name, const json& meta, json routes) {
  json obj{{"apiVersion", "traefik.io/v1alpha1"},
           {"kind", "IngressRoute"},
           {"metadata", meta},
           {"spec", {{"entryPoints", r.spec.entry_points}, {"routes", std::move(routes)}}}};
  obj["metadata"]["name"] = name;
  obj["metadata"]["namespace"] = r.ns;
  if (r.spec.tls.is_object()) obj["spec"]["tls"] = r.spec.tls;
  return obj;
}

}  // namespace

json managedMainRoute(const api::Release& r, Color active, const json& meta) {
  return routeObject(r, mainRouteName(r), meta, json::array({route(r, r.spec.host, active)}));
}

json managedPreviewRoute(const api::Release& r, const json& meta) {
  json routes = json::array();
  for (Color c : {Color::kBlue, Color::kGreen}) {
    const std::string& host = r.spec.previewHost(c);
    if (!host.empty()) routes.push_back(route(r, host, c));
  }
  return routeObject(r, previewRouteName(r), meta, std::move(routes));
}

namespace {

// A string member of an object, `fallback` when absent or of another type: a
// user's route may hold anything its CRD lets through, and must not throw here.
std::string text(const json& obj, const char* key, const std::string& fallback = "") {
  if (!obj.is_object()) return fallback;
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : fallback;
}

}  // namespace

RouteTarget readTarget(const json& ir, const std::string& match, const api::Release& r) {
  RouteTarget out;
  const json* routes = nullptr;
  if (ir.is_object() && ir.contains("spec") && ir["spec"].is_object()) {
    auto it = ir["spec"].find("routes");
    if (it != ir["spec"].end() && it->is_array()) routes = &*it;
  }
  if (!routes) return out;
  for (std::size_t i = 0; i < routes->size(); ++i) {
    const json& rt = (*routes)[i];
    if (text(rt, "match") != match) continue;
    out.route_found = true;
    out.index = static_cast<int>(i);
    auto services = rt.find("services");
    if (services == rt.end() || !services->is_array()) return out;
    for (const auto& s : *services) {
      if (!out.description.empty()) out.description += " + ";
      out.description += text(s, "name", "?");
      if (s.is_object() && s.contains("port")) out.description += ":" + s["port"].dump();
    }
    if (services->size() == 1 && (*services)[0].is_object()) {
      const json& s = (*services)[0];
      if (text(s, "kind", "Service") == "Service" && text(s, "namespace", r.ns) == r.ns) {
        const std::string name = text(s, "name");
        if (name == colorServiceName(r, Color::kBlue)) out.color = Color::kBlue;
        if (name == colorServiceName(r, Color::kGreen)) out.color = Color::kGreen;
      }
    }
    return out;
  }
  return out;
}

std::string switchRecord(const api::HistoryEntry& e) {
  return json{{"from", e.from}, {"to", e.to}, {"revision", e.revision}, {"time", e.time}, {"reason", e.reason}}
      .dump();
}

std::optional<api::HistoryEntry> readSwitchRecord(const json& ir) {
  if (!ir.is_object()) return std::nullopt;
  const json& meta = ir.value("metadata", json::object());
  const json& ann = meta.is_object() ? meta.value("annotations", json::object()) : json::object();
  if (!ann.is_object() || !ann.contains(kAnnotationSwitch) || !ann[kAnnotationSwitch].is_string()) return std::nullopt;
  json rec = json::parse(ann[kAnnotationSwitch].get<std::string>(), nullptr, false);
  if (!rec.is_object()) return std::nullopt;
  auto text = [&](const char* k) { return rec.contains(k) && rec[k].is_string() ? rec[k].get<std::string>() : ""; };
  api::HistoryEntry e{text("from"), text("to"), text("revision"), text("time"), text("reason")};
  if (e.to.empty() || e.time.empty()) return std::nullopt;
  return e;
}

core::Result<json> switchPatch(const json& ir, const api::Release& r, Color to, const std::string& record) {
  const std::string match = mainMatch(r);
  RouteTarget t = readTarget(ir, match, r);
  if (!t.route_found) {
    return core::fail(core::ErrorCode::kInvalid,
                      "IngressRoute " + mainRouteName(r) + " has no route with match " + match);
  }
  const std::string base = "/spec/routes/" + std::to_string(t.index);
  const json& current = ir["spec"]["routes"][t.index].value("services", json::array());
  json entry = current.is_array() && !current.empty() && current[0].is_object() ? current[0]
                                                                                   : json::object();
  entry.erase("namespace");
  entry.erase("kind");
  entry["name"] = colorServiceName(r, to);
  entry["port"] = r.spec.service_port;
  json ops = json::array();
  ops.push_back({{"op", "test"}, {"path", base + "/match"}, {"value", match}});
  if (ir["spec"]["routes"][t.index].contains("services")) {
    ops.push_back({{"op", "test"}, {"path", base + "/services"}, {"value", current}});
    ops.push_back({{"op", "replace"}, {"path", base + "/services"}, {"value", json::array({entry})}});
  } else {
    ops.push_back({{"op", "add"}, {"path", base + "/services"}, {"value", json::array({entry})}});
  }
  // "add" replaces a member that exists; an absent annotations map is added whole.
  const json& meta = ir.value("metadata", json::object());
  if (meta.is_object() && meta.contains("annotations") && meta["annotations"].is_object()) {
    ops.push_back({{"op", "add"}, {"path", "/metadata/annotations/bluegreen.io~1switch"}, {"value", record}});
  } else {
    ops.push_back({{"op", "add"}, {"path", "/metadata/annotations"}, {"value", {{kAnnotationSwitch, record}}}});
  }
  return ops;
}

}  // namespace bgo::traefik
