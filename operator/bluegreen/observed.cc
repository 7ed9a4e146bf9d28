#include "operator/bluegreen/observed.h"

#include <algorithm>
#include <set>

#include "operator/api/v1alpha1/types.h"
#include "operator/bluegreen/object_reader.h"

namespace bgo::bluegreen {
namespace {

int64_t num(const json& j, const char* key) {
  if (!j.is_object()) return 0;
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

}  // namespace

bool DeploymentView::caughtUp(int32_t want) const {
  return exists() && want > 0 && spec_replicas == want && observed_generation >= generation &&
         replicas == want && updated_replicas == want && ready_replicas == want &&
         available_replicas == want;
}

int32_t releaseSize(const api::Spec& spec, const DeploymentView& live) {
  return live.exists() ? std::max(spec.replicas, live.spec_replicas) : spec.replicas;
}

bool ownedBy(const json& object, const std::string& uid) {
  if (uid.empty() || !object.is_object()) return false;
  const json& meta = object.value("metadata", json::object());
  const json& refs = meta.is_object() ? meta.value("ownerReferences", json::array()) : json::array();
  if (!refs.is_array()) return false;
  for (const auto& ref : refs) {
    if (ref.is_object() && ref.value("uid", "") == uid && ref.value("controller", false)) return true;
  }
  return false;
}

DeploymentView viewDeployment(ObjectPtr d, const std::string& release_uid) {
  DeploymentView v;
  if (!d) return v;
  v.object = d;
  v.owned = ownedBy(*d, release_uid);
  const json& meta = d->value("metadata", json::object());
  const json& labels = meta.value("labels", json::object());
  if (labels.is_object()) v.revision = labels.value(api::kLabelRevision, "");
  v.generation = num(meta, "generation");
  const json& spec = d->value("spec", json::object());
  v.spec_replicas = static_cast<int32_t>(spec.is_object() && spec.contains("replicas")
                                             ? num(spec, "replicas")
                                             : 1);  // API default
  const json& containers =
      spec.value("template", json::object()).value("spec", json::object()).value("containers",
                                                                                  json::array());
  if (containers.is_array() && !containers.empty() && containers[0].is_object()) {
    v.image = containers[0].value("image", "");
  }
  const json& annotations = meta.value("annotations", json::object());
  if (annotations.is_object()) {
    if (auto it = annotations.find(api::kAnnotationHooks); it != annotations.end() && it->is_string()) {
      // Written by the operator; a hand-edited, unparsable one means no hooks.
      json parsed = json::parse(it->get<std::string>(), nullptr, false);
      std::vector<api::FieldError> ignored;
      if (!parsed.is_discarded()) v.hooks = api::parseHooks(parsed, "hooks", ignored);
    }
  }
  const json& status = d->value("status", json::object());
  v.observed_generation = num(status, "observedGeneration");
  v.replicas = static_cast<int32_t>(num(status, "replicas"));
  v.updated_replicas = static_cast<int32_t>(num(status, "updatedReplicas"));
  v.ready_replicas = static_cast<int32_t>(num(status, "readyReplicas"));
  v.available_replicas = static_cast<int32_t>(num(status, "availableReplicas"));
  return v;
}

JobView viewJob(ObjectPtr job, const std::string& release_uid, const std::string& termination) {
  JobView v;
  if (!job) return v;
  v.object = job;
  v.owned = ownedBy(*job, release_uid);
  const json& meta = job->value("metadata", json::object());
  const json& labels = meta.value("labels", json::object());
  if (labels.is_object()) v.revision = labels.value(api::kLabelRevision, "");
  v.start_time = meta.value("creationTimestamp", "");
  const json& status = job->value("status", json::object());
  const json& conds = status.is_object() ? status.value("conditions", json::array()) : json::array();
  if (!conds.is_array()) return v;
  for (const auto& c : conds) {
    if (!c.is_object() || c.value("status", "") != "True") continue;
    const std::string type = c.value("type", "");
    if (type == "Complete") {
      v.phase = JobView::Phase::kSucceeded;
      v.finish_time = status.value("completionTime", c.value("lastTransitionTime", ""));
      return v;
    }
    if (type == "Failed") {
      v.phase = JobView::Phase::kFailed;
      v.finish_time = c.value("lastTransitionTime", "");
      v.failure = c.value("reason", "Failed");
      if (const std::string m = c.value("message", ""); !m.empty()) v.failure += ": " + m;
      if (!termination.empty()) v.failure += "; " + termination;
      return v;
    }
  }
  return v;
}

int32_t countReadyEndpoints(const std::vector<ObjectPtr>& slices, const std::string& port_name) {
  return static_cast<int32_t>(readyEndpointAddresses(slices, port_name).size());
}

namespace {
bool carriesPort(const json& slice, const std::string& port_name) {
  const json& ports = slice.value("ports", json());
  if (!ports.is_array()) return false;
  for (const auto& p : ports) {
    if (p.is_object() && p.value("name", "") == port_name && p.contains("port") && p["port"].is_number_integer()) {
      return true;
    }
  }
  return false;
}
}  // namespace

std::set<std::string> readyEndpointAddresses(const std::vector<ObjectPtr>& slices, const std::string& port_name) {
  std::set<std::string> ready;
  for (const auto& s : slices) {
    if (!s || !s->is_object() || !carriesPort(*s, port_name)) continue;
    const json& eps = s->value("endpoints", json::array());
    if (!eps.is_array()) continue;
    for (const auto& ep : eps) {
      if (!ep.is_object()) continue;
      // A missing `ready` means unknown, which consumers treat as ready (EndpointSlice API).
      const json& cond = ep.value("conditions", json::object());
      bool is_ready = !cond.is_object() || cond.value("ready", true);
      if (!is_ready) continue;
      const json& addrs = ep.value("addresses", json::array());
      if (addrs.is_array() && !addrs.empty() && addrs[0].is_string()) {
        ready.insert(addrs[0].get<std::string>());
      }
    }
  }
  return ready;
}

DatabaseView viewDatabase(ObjectPtr service, int32_t port, const std::vector<ObjectPtr>& slices) {
  DatabaseView v;
  v.object = std::move(service);
  if (!v.object) return v;
  const json& spec = v.object->value("spec", json::object());
  const std::string name = v.object->value("/metadata/name"_json_pointer, std::string());
  if (spec.is_object() && spec.value("type", "") == "ExternalName") {
    // Nothing to count: Traefik resolves the name per connection (and needs
    // allowExternalNameServices); its existence is all the operator can check.
    v.external = true;
    return v;
  }
  // Slices name the Service port by its name ("" for a single unnamed port).
  std::optional<std::string> port_name;
  const json& ports = spec.is_object() ? spec.value("ports", json::array()) : json::array();
  if (ports.is_array()) {
    for (const auto& p : ports) {
      if (p.is_object() && p.value("port", 0) == port) port_name = p.value("name", "");
    }
  }
  if (!port_name) {
    v.problem = "Service " + name + " has no port " + std::to_string(port);
    return v;
  }
  v.ready_endpoints = countReadyEndpoints(slices, *port_name);
  if (v.ready_endpoints == 0) v.problem = "Service " + name + " has no ready endpoints";
  return v;
}

std::vector<ObjectPtr> ObjectReader::releasesUsingRoute(const std::string& ns, const std::string& name) const {
  std::vector<ObjectPtr> out;
  for (auto& r : list(core::gvrs::kBlueGreenReleases, ns)) {
    const json& route = r->value("spec", json::object()).value("routing", json::object()).value("existingIngressRoute", json());
    if (route.is_object() && route.value("name", "") == name) out.push_back(r);
  }
  return out;
}

}  // namespace bgo::bluegreen
