#include "operator/api/v1alpha1/codec.h"

#include <regex>
#include <set>

#include "operator/api/v1alpha1/quantity.h"
#include "operator/api/v1alpha1/tcp_codec.h"

namespace bgo::api {
namespace {

// Reads optional typed fields, recording a FieldError instead of throwing.
class Reader {
 public:
  explicit Reader(std::vector<FieldError>& errors) : errors_(errors) {}

  const json* child(const json& obj, const char* key, const std::string& path, bool want_object) {
    if (!obj.is_object()) return nullptr;
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    if (want_object && !it->is_object()) {
      errors_.push_back({path, "must be an object"});
      return nullptr;
    }
    return &*it;
  }

  void readInt(const json& obj, const char* key, const std::string& path, int32_t& out) {
    if (!obj.is_object()) return;
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return;
    if (!it->is_number_integer()) {
      errors_.push_back({path, "must be an integer"});
      return;
    }
    auto v = it->get<int64_t>();
    if (v < INT32_MIN || v > INT32_MAX) {
      errors_.push_back({path, "out of range"});
      return;
    }
    out = static_cast<int32_t>(v);
  }

  void readBool(const json& obj, const char* key, const std::string& path, bool& out) {
    if (!obj.is_object()) return;
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return;
    if (!it->is_boolean()) {
      errors_.push_back({path, "must be true or false"});
      return;
    }
    out = it->get<bool>();
  }

  void readString(const json& obj, const char* key, const std::string& path, std::string& out) {
    if (!obj.is_object()) return;
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return;
    if (!it->is_string()) {
      errors_.push_back({path, "must be a string"});
      return;
    }
    out = it->get<std::string>();
  }

 private:
  std::vector<FieldError>& errors_;
};

bool isDnsName(const std::string& s) {
  static const std::regex kDns(
      R"(^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)");
  return !s.empty() && s.size() <= 253 && std::regex_match(s, kDns);
}

std::string str(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

int64_t i64(const json& obj, const char* key) {
  if (!obj.is_object()) return 0;
  auto it = obj.find(key);
  return it != obj.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

int32_t i32(const json& obj, const char* key) { return static_cast<int32_t>(i64(obj, key)); }

void parseSpec(const json& spec, Spec& out, std::vector<FieldError>& errors) {
  Reader r(errors);
  if (!spec.is_object()) {
    errors.push_back({"spec", "is required"});
    return;
  }
  r.readInt(spec, "replicas", "spec.replicas", out.replicas);
  r.readBool(spec, "paused", "spec.paused", out.paused);

  if (auto it = spec.find("template"); it != spec.end() && it->is_object()) {
    out.template_ = *it;
  } else {
    errors.push_back({"spec.template", "is required (a PodTemplateSpec)"});
  }

  if (const json* svc = r.child(spec, "service", "spec.service", true)) {
    r.readInt(*svc, "port", "spec.service.port", out.service_port);
    if (auto it = svc->find("targetPort"); it != svc->end() && !it->is_null()) {
      if (it->is_number_integer() || it->is_string()) {
        out.service_target_port = *it;
      } else {
        errors.push_back({"spec.service.targetPort", "must be a port number or a port name"});
      }
    }
  }

  if (const json* routing = r.child(spec, "routing", "spec.routing", true)) {
    if (auto it = routing->find("entryPoints"); it != routing->end() && !it->is_null()) {
      if (!it->is_array()) {
        errors.push_back({"spec.routing.entryPoints", "must be a list of strings"});
      } else {
        out.entry_points.clear();
        for (const auto& e : *it) {
          if (e.is_string()) out.entry_points.push_back(e.get<std::string>());
          else errors.push_back({"spec.routing.entryPoints", "must be a list of strings"});
        }
      }
    }
    r.readString(*routing, "host", "spec.routing.host", out.host);
    if (const json* ph = r.child(*routing, "previewHosts", "spec.routing.previewHosts", true)) {
      r.readString(*ph, "blue", "spec.routing.previewHosts.blue", out.preview_host_blue);
      r.readString(*ph, "green", "spec.routing.previewHosts.green", out.preview_host_green);
    }
    if (auto it = routing->find("middlewares"); it != routing->end() && !it->is_null()) {
      if (!it->is_array()) {
        errors.push_back({"spec.routing.middlewares", "must be a list"});
      } else {
        for (std::size_t i = 0; i < it->size(); ++i) {
          const json& m = (*it)[i];
          MiddlewareRef ref{str(m, "name"), str(m, "namespace")};
          if (ref.name.empty()) {
            errors.push_back({"spec.routing.middlewares[" + std::to_string(i) + "].name",
                              "is required"});
          }
          out.middlewares.push_back(ref);
        }
      }
    }
    if (auto it = routing->find("tls"); it != routing->end() && !it->is_null()) {
      if (it->is_object()) out.tls = *it;
      else errors.push_back({"spec.routing.tls", "must be an object"});
    }
    if (const json* ex = r.child(*routing, "existingIngressRoute",
                                 "spec.routing.existingIngressRoute", true)) {
      ExistingRoute e{str(*ex, "name"), str(*ex, "match")};
      if (e.name.empty()) {
        errors.push_back({"spec.routing.existingIngressRoute.name", "is required"});
      }
      if (e.match.empty()) {
        errors.push_back({"spec.routing.existingIngressRoute.match", "is required"});
      }
      out.existing_route = e;
    }
    parseTcpRoute(*routing, out, errors);
  } else {
    errors.push_back({"spec.routing", "is required"});
  }

  if (const json* p = r.child(spec, "promotion", "spec.promotion", true)) {
    r.readBool(*p, "auto", "spec.promotion.auto", out.auto_promote);
    r.readInt(*p, "readyForSeconds", "spec.promotion.readyForSeconds", out.ready_for_seconds);
    r.readInt(*p, "progressDeadlineSeconds", "spec.promotion.progressDeadlineSeconds",
              out.progress_deadline_seconds);
  }
  if (const json* s = r.child(spec, "scaleDown", "spec.scaleDown", true)) {
    r.readInt(*s, "delaySeconds", "spec.scaleDown.delaySeconds", out.scale_down_delay_seconds);
    r.readInt(*s, "standbyReplicas", "spec.scaleDown.standbyReplicas", out.standby_replicas);
  }
  if (const json* b = r.child(spec, "podDisruptionBudget", "spec.podDisruptionBudget", true)) {
    DisruptionBudget budget;
    if (auto it = b->find("minAvailable"); it != b->end()) budget.min_available = *it;
    if (auto it = b->find("maxUnavailable"); it != b->end()) budget.max_unavailable = *it;
    out.pod_disruption_budget = budget;
  }
  if (auto it = spec.find("hooks"); it != spec.end() && !it->is_null()) {
    out.hooks = parseHooks(*it, "spec.hooks", errors);
  }
}

}  // namespace

Hooks parseHooks(const json& hooks, const std::string& path, std::vector<FieldError>& errors) {
  Hooks out;
  if (!hooks.is_object()) {
    errors.push_back({path, "must be an object"});
    return out;
  }
  Reader r(errors);
  for (HookKind kind : {HookKind::kPreSwitch, HookKind::kPostSwitch, HookKind::kOnRollback}) {
    const std::string list_path = path + "." + toString(kind);
    auto it = hooks.find(toString(kind));
    if (it == hooks.end() || it->is_null()) continue;
    if (!it->is_array()) {
      errors.push_back({list_path, "must be a list"});
      continue;
    }
    auto& dst = kind == HookKind::kPreSwitch    ? out.pre_switch
                : kind == HookKind::kPostSwitch ? out.post_switch
                                                : out.on_rollback;
    for (std::size_t i = 0; i < it->size(); ++i) {
      const json& h = (*it)[i];
      const std::string hp = list_path + "[" + std::to_string(i) + "]";
      if (!h.is_object()) {
        errors.push_back({hp, "must be an object"});
        continue;
      }
      Hook hook;
      r.readString(h, "name", hp + ".name", hook.name);
      if (auto t = h.find("template"); t != h.end() && t->is_object()) hook.template_ = *t;
      r.readInt(h, "timeoutSeconds", hp + ".timeoutSeconds", hook.timeout_seconds);
      r.readInt(h, "backoffLimit", hp + ".backoffLimit", hook.backoff_limit);
      r.readBool(h, "irreversible", hp + ".irreversible", hook.irreversible);
      dst.push_back(std::move(hook));
    }
  }
  return out;
}

json hooksToJson(const Hooks& hooks) {
  json out = json::object();
  for (HookKind kind : {HookKind::kPreSwitch, HookKind::kPostSwitch, HookKind::kOnRollback}) {
    const auto& list = hooks.of(kind);
    if (list.empty()) continue;
    json items = json::array();
    for (const auto& h : list) {
      json item{{"name", h.name},
                {"template", h.template_},
                {"timeoutSeconds", h.timeout_seconds},
                {"backoffLimit", h.backoff_limit}};
      if (h.irreversible) item["irreversible"] = true;
      items.push_back(item);
    }
    out[toString(kind)] = items;
  }
  return out;
}

std::vector<FieldError> validateHooks(const Hooks& hooks) {
  std::vector<FieldError> errors;
  static const std::regex kLabel(R"(^[a-z0-9]([-a-z0-9]*[a-z0-9])?$)");
  std::set<std::string> names;
  for (HookKind kind : {HookKind::kPreSwitch, HookKind::kPostSwitch, HookKind::kOnRollback}) {
    const auto& list = hooks.of(kind);
    for (std::size_t i = 0; i < list.size(); ++i) {
      const Hook& h = list[i];
      const std::string hp = std::string("spec.hooks.") + toString(kind) + "[" + std::to_string(i) + "]";
      if (h.name.empty() || h.name.size() > kMaxHookNameLength || !std::regex_match(h.name, kLabel)) {
        errors.push_back({hp + ".name", "must be a lowercase DNS label of at most " +
                                            std::to_string(kMaxHookNameLength) + " characters, got \"" +
                                            h.name + "\""});
      } else if (!names.insert(h.name).second) {
        errors.push_back({hp + ".name", "\"" + h.name + "\" is used by another hook; hook names must be unique"});
      }
      const json& pod = h.template_.is_object() ? h.template_.value("spec", json()) : json();
      const json& cs = pod.is_object() ? pod.value("containers", json()) : json();
      if (!cs.is_array() || cs.empty()) {
        errors.push_back({hp + ".template.spec.containers", "must list at least one container"});
      }
      const std::string restart = pod.is_object() ? pod.value("restartPolicy", std::string()) : "";
      if (!restart.empty() && restart != "Never" && restart != "OnFailure") {
        errors.push_back({hp + ".template.spec.restartPolicy", "must be Never or OnFailure (a Job's pod), got " + restart});
      }
      if (h.timeout_seconds <= 0) {
        errors.push_back({hp + ".timeoutSeconds", "must be > 0, got " + std::to_string(h.timeout_seconds)});
      }
      if (h.backoff_limit < 0) {
        errors.push_back({hp + ".backoffLimit", "must be >= 0, got " + std::to_string(h.backoff_limit)});
      }
      if (h.irreversible && kind != HookKind::kPreSwitch) {
        errors.push_back({hp + ".irreversible",
                          "only a preSwitch hook can be irreversible (it changes what the previous revision can run on)"});
      }
    }
  }
  return errors;
}

std::string Parsed::errorSummary() const {
  std::string out;
  for (const auto& e : errors) {
    if (!out.empty()) out += "; ";
    out += e.str();
  }
  return out;
}

namespace {
// The API server answers an unparsable quantity with a 500 that names no
// field: check a container's resources here, where the error can say which one.
void checkQuantities(const json& container, const std::string& path, std::vector<FieldError>& errors) {
  const json& res = container.is_object() ? container.value("resources", json()) : json();
  if (!res.is_object()) return;
  for (const char* kind : {"limits", "requests"}) {
    const json& values = res.value(kind, json());
    if (!values.is_object()) continue;
    for (auto it = values.begin(); it != values.end(); ++it) {
      if (quantityValue(it.value())) continue;
      errors.push_back({path + ".resources." + kind + "." + it.key(),
                        it.value().dump() + " is not a resource quantity (e.g. 500m, 2, 128Mi, 1Gi)"});
    }
  }
}

// Whether a container (not an init container: the endpoint controller looks
// only at containers) declares a port named `name`.
bool declaresPort(const json& pod_template, const std::string& name) {
  const json& pod = pod_template.value("spec", json::object());
  const json& cs = pod.is_object() ? pod.value("containers", json()) : json();
  if (!cs.is_array()) return false;
  for (const auto& c : cs) {
    const json& ports = c.is_object() ? c.value("ports", json()) : json();
    if (!ports.is_array()) continue;
    for (const auto& port : ports) {
      if (port.is_object() && port.value("name", json()) == name) return true;
    }
  }
  return false;
}
// An int >= 0 or a percentage "0%".."100%", as PodDisruptionBudget takes them.
void checkBudgetValue(const json& v, const std::string& field, std::vector<FieldError>& errors) {
  static const std::regex kPercent(R"(^(100|[1-9]?[0-9])%$)");
  if (v.is_number_integer()) {
    if (v.get<int64_t>() < 0) errors.push_back({field, "must be >= 0, got " + v.dump()});
    else if (v.get<int64_t>() > INT32_MAX) errors.push_back({field, "out of range"});
  } else if (!v.is_string() || !std::regex_match(v.get<std::string>(), kPercent)) {
    errors.push_back({field, "must be a number of pods (>= 0) or a percentage from 0% to 100%, got " + v.dump()});
  }
}

void checkBudget(const DisruptionBudget& b, std::vector<FieldError>& errors) {
  const bool min = !b.min_available.is_null(), max = !b.max_unavailable.is_null();
  if (min == max) {
    errors.push_back({"spec.podDisruptionBudget", "set exactly one of minAvailable and maxUnavailable"});
  }
  if (min) checkBudgetValue(b.min_available, "spec.podDisruptionBudget.minAvailable", errors);
  if (max) checkBudgetValue(b.max_unavailable, "spec.podDisruptionBudget.maxUnavailable", errors);
}
}  // namespace

std::vector<FieldError> validateAndDefault(Spec& spec) {
  std::vector<FieldError> errors;
  if (spec.replicas < 0) errors.push_back({"spec.replicas", "must be >= 0"});
  if (spec.template_.is_object()) {
    const json& pod = spec.template_.value("spec", json::object());
    const json& containers = pod.is_object() ? pod.value("containers", json()) : json();
    if (!containers.is_array() || containers.empty()) {
      errors.push_back({"spec.template.spec.containers", "must list at least one container"});
    } else {
      for (std::size_t i = 0; i < containers.size(); ++i) {
        if (str(containers[i], "image").empty()) {
          errors.push_back({"spec.template.spec.containers[" + std::to_string(i) + "].image",
                            "is required"});
        }
      }
    }
    for (const char* list : {"containers", "initContainers"}) {
      const json& cs = pod.is_object() ? pod.value(list, json()) : json();
      if (!cs.is_array()) continue;
      for (std::size_t i = 0; i < cs.size(); ++i) {
        checkQuantities(cs[i], "spec.template.spec." + std::string(list) + "[" + std::to_string(i) + "]", errors);
      }
    }
  }
  if (spec.service_port < 1 || spec.service_port > 65535) {
    errors.push_back({"spec.service.port", "must be between 1 and 65535"});
  }
  if (spec.service_target_port.is_null()) spec.service_target_port = spec.service_port;
  if (spec.service_target_port.is_number_integer()) {
    auto p = spec.service_target_port.get<int64_t>();
    if (p < 1 || p > 65535) {
      errors.push_back({"spec.service.targetPort", "must be between 1 and 65535"});
    }
  } else if (spec.service_target_port.is_string() && spec.template_.is_object()) {
    // A name no container declares gives endpoints without a port: ready
    // addresses that Traefik cannot serve.
    const std::string name = spec.service_target_port.get<std::string>();
    if (!declaresPort(spec.template_, name)) {
      errors.push_back({"spec.service.targetPort",
                        "names port \"" + name +
                            "\", which no container of spec.template declares (spec.template.spec.containers[*].ports[*].name)"});
    }
  }

  const bool has_host = !spec.host.empty();
  if (has_host == spec.existing_route.has_value()) {
    errors.push_back({"spec.routing",
                      "set exactly one of host (the operator owns the routes) or "
                      "existingIngressRoute (patch a route you own)"});
  }
  if (has_host) {
    if (!isDnsName(spec.host)) {
      errors.push_back({"spec.routing.host", "must be a lowercase DNS name, got \"" + spec.host + "\""});
    }
    if (spec.preview_host_blue.empty()) spec.preview_host_blue = "blue." + spec.host;
    if (spec.preview_host_green.empty()) spec.preview_host_green = "green." + spec.host;
  }
  for (auto [field, value] : {std::pair{"spec.routing.previewHosts.blue", &spec.preview_host_blue},
                              std::pair{"spec.routing.previewHosts.green", &spec.preview_host_green}}) {
    if (!value->empty() && !isDnsName(*value)) {
      errors.push_back({field, "must be a lowercase DNS name, got \"" + *value + "\""});
    }
    if (!value->empty() && *value == spec.host) {
      errors.push_back({field, "must differ from spec.routing.host"});
    }
  }
  if (!spec.preview_host_blue.empty() && spec.preview_host_blue == spec.preview_host_green) {
    errors.push_back({"spec.routing.previewHosts", "blue and green must differ"});
  }
  if (spec.entry_points.empty()) {
    errors.push_back({"spec.routing.entryPoints", "must name at least one entry point"});
  }
  if (spec.ready_for_seconds < 0) {
    errors.push_back({"spec.promotion.readyForSeconds", "must be >= 0"});
  }
  if (spec.progress_deadline_seconds <= spec.ready_for_seconds) {
    errors.push_back({"spec.promotion.progressDeadlineSeconds",
                      "must be greater than spec.promotion.readyForSeconds"});
  }
  if (spec.scale_down_delay_seconds < 0) {
    errors.push_back({"spec.scaleDown.delaySeconds", "must be >= 0"});
  }
  if (spec.standby_replicas < 0) {
    errors.push_back({"spec.scaleDown.standbyReplicas", "must be >= 0"});
  } else if (spec.standby_replicas > spec.replicas) {
    errors.push_back({"spec.scaleDown.standbyReplicas", "must not exceed spec.replicas"});
  }
  if (spec.pod_disruption_budget) checkBudget(*spec.pod_disruption_budget, errors);
  validateTcpRoute(spec, errors);
  auto hook_errors = validateHooks(spec.hooks);
  errors.insert(errors.end(), hook_errors.begin(), hook_errors.end());
  return errors;
}

core::Result<Parsed> parseRelease(const json& object) {
  if (!object.is_object() || !object.contains("metadata") || !object["metadata"].is_object()) {
    return core::fail(core::ErrorCode::kInvalid, "object has no metadata");
  }
  const json& meta = object["metadata"];
  Parsed out;
  Release& r = out.release;
  r.name = str(meta, "name");
  if (r.name.empty()) return core::fail(core::ErrorCode::kInvalid, "metadata.name is empty");
  r.ns = str(meta, "namespace");
  r.uid = str(meta, "uid");
  r.generation = i64(meta, "generation");
  r.resource_version = str(meta, "resourceVersion");
  r.deleting = meta.contains("deletionTimestamp") && !meta["deletionTimestamp"].is_null();
  if (auto it = meta.find("annotations"); it != meta.end() && it->is_object()) {
    r.promote_request = str(*it, kAnnotationPromote);
    r.abort_request = str(*it, kAnnotationAbort);
    r.acknowledge_request = str(*it, kAnnotationAcknowledge);
    r.allow_rollback_request = str(*it, kAnnotationAllowRollback);
  }
  parseSpec(object.value("spec", json()), r.spec, out.errors);
  auto more = validateAndDefault(r.spec);
  out.errors.insert(out.errors.end(), more.begin(), more.end());
  r.status = parseStatus(object.value("status", json::object()));
  return out;
}

namespace {

ColorStatus parseColorStatus(const json& j) {
  ColorStatus c;
  c.revision = str(j, "revision");
  c.replicas = i32(j, "replicas");
  c.ready_replicas = i32(j, "readyReplicas");
  c.available_replicas = i32(j, "availableReplicas");
  c.ready_endpoints = i32(j, "readyEndpoints");
  c.image = str(j, "image");
  return c;
}

json colorStatusToJson(const ColorStatus& c) {
  json j = json::object();
  if (!c.revision.empty()) j["revision"] = c.revision;
  j["replicas"] = c.replicas;
  j["readyReplicas"] = c.ready_replicas;
  j["availableReplicas"] = c.available_replicas;
  j["readyEndpoints"] = c.ready_endpoints;
  if (!c.image.empty()) j["image"] = c.image;
  return j;
}

void putIfSet(json& j, const char* key, const std::string& v) {
  if (!v.empty()) j[key] = v;
}

}  // namespace

Status parseStatus(const json& s) {
  Status out;
  if (!s.is_object()) return out;
  out.observed_generation = i64(s, "observedGeneration");
  out.active_color = str(s, "activeColor");
  out.active_revision = str(s, "activeRevision");
  out.preview_color = str(s, "previewColor");
  out.preview_revision = str(s, "previewRevision");
  out.stage = str(s, "stage");
  out.message = str(s, "message");
  out.replicas = i32(s, "replicas");
  out.selector = str(s, "selector");
  if (auto it = s.find("colors"); it != s.end() && it->is_object()) {
    if (it->contains("blue")) out.blue = parseColorStatus((*it)["blue"]);
    if (it->contains("green")) out.green = parseColorStatus((*it)["green"]);
  }
  out.release_start_time = str(s, "releaseStartTime");
  out.promotable_since = str(s, "promotableSince");
  out.last_switch_time = str(s, "lastSwitchTime");
  out.traffic_confirmed_time = str(s, "trafficConfirmedTime");
  out.scale_down_at = str(s, "scaleDownAt");
  out.tcp_route = parseTcpRouteStatus(s);
  if (auto it = s.find("history"); it != s.end() && it->is_array()) {
    for (const auto& h : *it) {
      out.history.push_back(
          {str(h, "from"), str(h, "to"), str(h, "revision"), str(h, "time"), str(h, "reason")});
    }
  }
  if (auto it = s.find("hooks"); it != s.end() && it->is_array()) {
    for (const auto& h : *it) {
      out.hooks.push_back({str(h, "name"), str(h, "kind"), str(h, "revision"), str(h, "job"), str(h, "phase"),
                           str(h, "startTime"), str(h, "finishTime"), str(h, "message"),
                           h.is_object() && h.value("irreversible", false) == true});
    }
  }
  if (auto it = s.find("conditions"); it != s.end() && it->is_array()) {
    for (const auto& c : *it) {
      out.conditions.push_back({str(c, "type"), str(c, "status"), i64(c, "observedGeneration"),
                                str(c, "lastTransitionTime"), str(c, "reason"), str(c, "message")});
    }
  }
  return out;
}

json statusToJson(const Status& s) {
  json j = json::object();
  j["observedGeneration"] = s.observed_generation;
  putIfSet(j, "activeColor", s.active_color);
  putIfSet(j, "activeRevision", s.active_revision);
  putIfSet(j, "previewColor", s.preview_color);
  putIfSet(j, "previewRevision", s.preview_revision);
  putIfSet(j, "stage", s.stage);
  putIfSet(j, "message", s.message);
  j["replicas"] = s.replicas;
  putIfSet(j, "selector", s.selector);
  if (s.blue || s.green) {
    json colors = json::object();
    if (s.blue) colors["blue"] = colorStatusToJson(*s.blue);
    if (s.green) colors["green"] = colorStatusToJson(*s.green);
    j["colors"] = colors;
  }
  putIfSet(j, "releaseStartTime", s.release_start_time);
  putIfSet(j, "promotableSince", s.promotable_since);
  putIfSet(j, "lastSwitchTime", s.last_switch_time);
  putIfSet(j, "trafficConfirmedTime", s.traffic_confirmed_time);
  putIfSet(j, "scaleDownAt", s.scale_down_at);
  putTcpRouteStatus(s.tcp_route, j);
  if (!s.history.empty()) {
    json h = json::array();
    for (const auto& e : s.history) {
      json item = {{"to", e.to}, {"revision", e.revision}, {"time", e.time}, {"reason", e.reason}};
      if (!e.from.empty()) item["from"] = e.from;
      h.push_back(item);
    }
    j["history"] = h;
  }
  if (!s.hooks.empty()) {
    json hs = json::array();
    for (const auto& h : s.hooks) {
      json item{{"name", h.name}, {"kind", h.kind}, {"revision", h.revision}, {"job", h.job}, {"phase", h.phase}};
      putIfSet(item, "startTime", h.start_time);
      putIfSet(item, "finishTime", h.finish_time);
      putIfSet(item, "message", h.message);
      if (h.irreversible) item["irreversible"] = true;
      hs.push_back(item);
    }
    j["hooks"] = hs;
  }
  if (!s.conditions.empty()) {
    json cs = json::array();
    for (const auto& c : s.conditions) {
      cs.push_back({{"type", c.type},
                    {"status", c.status},
                    {"observedGeneration", c.observed_generation},
                    {"lastTransitionTime", c.last_transition_time},
                    {"reason", c.reason},
                    {"message", c.message}});
    }
    j["conditions"] = cs;
  }
  return j;
}

}  // namespace bgo::api
