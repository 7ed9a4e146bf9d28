#include "operator/api/v1alpha1/tcp_codec.h"

namespace bgo::api {
namespace {

constexpr const char* kTcp = "spec.routing.tcp";

std::string str(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

void parseBackend(const json& tcp, Color c, TcpBackend& out, std::vector<FieldError>& errors) {
  const std::string path = std::string(kTcp) + "." + toString(c);
  auto it = tcp.find(toString(c));
  if (it == tcp.end() || it->is_null()) {
    errors.push_back({path, "is required ({service, port})"});
    return;
  }
  if (!it->is_object()) {
    errors.push_back({path, "must be an object ({service, port})"});
    return;
  }
  out.service = str(*it, "service");
  if (out.service.empty()) errors.push_back({path + ".service", "is required"});
  auto port = it->find("port");
  if (port == it->end() || port->is_null()) {
    errors.push_back({path + ".port", "is required"});
  } else if (!port->is_number_integer()) {
    errors.push_back({path + ".port", "must be an integer"});
  } else {
    const int64_t v = port->get<int64_t>();
    out.port = v >= 1 && v <= 65535 ? static_cast<int32_t>(v) : 0;
    if (out.port == 0) errors.push_back({path + ".port", "must be between 1 and 65535, got " + port->dump()});
  }
}

}  // namespace

void parseTcpRoute(const json& routing, Spec& spec, std::vector<FieldError>& errors) {
  if (!routing.is_object()) return;
  auto it = routing.find("tcp");
  if (it == routing.end() || it->is_null()) return;
  if (!it->is_object()) {
    errors.push_back({kTcp, "must be an object"});
    return;
  }
  const json& tcp = *it;
  TcpRoute out;
  if (auto eps = tcp.find("entryPoints"); eps != tcp.end() && eps->is_array()) {
    for (const auto& e : *eps) {
      if (e.is_string() && !e.get<std::string>().empty()) out.entry_points.push_back(e.get<std::string>());
      else errors.push_back({std::string(kTcp) + ".entryPoints", "must be a list of entry point names"});
    }
  } else if (eps != tcp.end() && !eps->is_null()) {
    errors.push_back({std::string(kTcp) + ".entryPoints", "must be a list of entry point names"});
  }
  parseBackend(tcp, Color::kBlue, out.blue, errors);
  parseBackend(tcp, Color::kGreen, out.green, errors);
  const bool has_follow = tcp.contains("follow") && !tcp["follow"].is_null();
  const bool has_pinned = tcp.contains("pinned") && !tcp["pinned"].is_null();
  if (has_follow && has_pinned) {
    errors.push_back({kTcp, "set at most one of spec.routing.tcp.follow and spec.routing.tcp.pinned"});
  }
  if (has_follow && str(tcp, "follow") != "Active") {
    errors.push_back({std::string(kTcp) + ".follow", "must be Active, got " + tcp["follow"].dump()});
  }
  if (has_pinned) {
    out.pinned = parseColor(str(tcp, "pinned"));
    if (!out.pinned) {
      errors.push_back({std::string(kTcp) + ".pinned", "must be blue or green, got " + tcp["pinned"].dump()});
    }
  }
  if (auto ex = tcp.find("existingIngressRouteTCP"); ex != tcp.end() && !ex->is_null()) {
    if (ex->is_string() && !ex->get<std::string>().empty()) out.existing = ex->get<std::string>();
    else errors.push_back({std::string(kTcp) + ".existingIngressRouteTCP", "must be the name of an IngressRouteTCP"});
  }
  if (auto d = tcp.find("drainSeconds"); d != tcp.end() && !d->is_null()) {
    if (!d->is_number_integer() || d->get<int64_t>() < 0 || d->get<int64_t>() > 86400) {
      errors.push_back({std::string(kTcp) + ".drainSeconds", "must be an integer from 0 to 86400, got " + d->dump()});
    } else {
      out.drain_seconds = static_cast<int32_t>(d->get<int64_t>());
    }
  }
  spec.tcp = std::move(out);
}

void validateTcpRoute(const Spec& spec, std::vector<FieldError>& errors) {
  if (!spec.tcp) return;
  if (spec.tcp->entry_points.empty()) {
    errors.push_back({std::string(kTcp) + ".entryPoints", "must name at least one entry point"});
  }
}

std::optional<TcpRouteStatus> parseTcpRouteStatus(const json& status) {
  if (!status.is_object()) return std::nullopt;
  auto it = status.find("tcpRoute");
  if (it == status.end() || !it->is_object()) return std::nullopt;
  return TcpRouteStatus{str(*it, "name"), str(*it, "color"), str(*it, "backend"), str(*it, "lastMoveTime")};
}

void putTcpRouteStatus(const std::optional<TcpRouteStatus>& s, json& status) {
  if (!s) return;
  json j = json::object();
  if (!s->name.empty()) j["name"] = s->name;
  if (!s->color.empty()) j["color"] = s->color;
  if (!s->backend.empty()) j["backend"] = s->backend;
  if (!s->last_move_time.empty()) j["lastMoveTime"] = s->last_move_time;
  status["tcpRoute"] = j;
}

}  // namespace bgo::api
