#pragma once
// A tiny in-memory world for planner tests: holds the objects plan() observes,
// applies a Plan's actions the way the API server and controllers would, and
// lets a test make a color ready or not. No threads, no clock: time is a field.

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/api/v1alpha1/codec.h"
#include "operator/bluegreen/observed.h"
#include "operator/bluegreen/plan.h"

namespace bgo::bluegreen::testworld {

using json = nlohmann::json;
using namespace std::chrono_literals;

inline json podTemplate(const std::string& image) {
  return json{{"metadata", {{"labels", {{"app", "shop"}}}}},
              {"spec", {{"containers", json::array({{{"name", "app"}, {"image", image}}})}}}};
}

inline json releaseObject(const std::string& image, json spec_extra = json::object()) {
  json spec{{"replicas", 3},
            {"template", podTemplate(image)},
            {"service", {{"port", 80}, {"targetPort", 8080}}},
            {"routing", {{"entryPoints", {"web"}}, {"host", "shop.example.com"}}},
            {"promotion", {{"auto", true}, {"readyForSeconds", 10}, {"progressDeadlineSeconds", 600}}},
            {"scaleDown", {{"delaySeconds", 30}, {"standbyReplicas", 0}}}};
  spec.merge_patch(spec_extra);
  return json{{"apiVersion", "bluegreen.io/v1alpha1"},
              {"kind", "BlueGreenRelease"},
              {"metadata",
               {{"name", "shop"}, {"namespace", "prod"}, {"uid", "uid-1"}, {"generation", 1}}},
              {"spec", spec}};
}

class World {
 public:
  explicit World(json release) : release_(std::move(release)) {}

  json& release() { return release_; }
  std::map<std::string, json>& objects() { return objects_; }  // "Kind/name"
  core::WallTime now = core::WallTime(std::chrono::seconds(1'800'000'000));
  int writes = 0;
  // Traefik's view handed to plan(); margin 0 keeps most tests about the delay alone.
  std::optional<bool> route_live;
  int confirm_margin_seconds = 0;
  // A write the API server refused for this spec (what the reconciler remembers).
  std::optional<std::string> rejected;
  // An older release adopting the same existing route (what the reconciler finds).
  std::string route_claimed_by;
  // Replicas of a color that the simulated kubelet lets become ready (-1: all).
  std::map<std::string, int> ready_limit;
  // spec.routing.tcp: ready endpoints of each database Service (by name;
  // absent: 1). The Services themselves are objects "Service/<name>".
  std::map<std::string, int> db_endpoints;

  // A database Service `name` with one port (ExternalName when `external`).
  void addDatabase(const std::string& name, int port = 5432, bool external = false) {
    json spec{{"ports", json::array({{{"port", port}, {"protocol", "TCP"}}})}};
    if (external) spec = {{"type", "ExternalName"}, {"externalName", name + ".db.example.net"}};
    objects_["Service/" + name] = {{"apiVersion", "v1"}, {"kind", "Service"},
                                   {"metadata", {{"name", name}, {"namespace", "prod"}}}, {"spec", spec}};
  }
  std::string tcpRouteService(const std::string& route = "shop-tcp") const {
    auto it = objects_.find("IngressRouteTCP/" + route);
    if (it == objects_.end()) return "";
    const json& svc = it->second["spec"]["routes"][0]["services"];
    return svc.size() == 1 ? svc[0].value("name", "") : "(" + std::to_string(svc.size()) + " services)";
  }

  void setImage(const std::string& image) {
    release_["spec"]["template"] = podTemplate(image);
    release_["metadata"]["generation"] = release_["metadata"]["generation"].get<int>() + 1;
  }
  // A user's edit of the spec: a new generation.
  template <class F>
  void editSpec(F&& edit) {
    edit(release_["spec"]);
    release_["metadata"]["generation"] = release_["metadata"]["generation"].get<int>() + 1;
  }
  void annotate(const std::string& key, const std::string& value) {
    release_["metadata"]["annotations"][key] = value;
  }

  Observed observe() const {
    Observed o;
    o.release_object = release_;
    o.parsed = api::parseRelease(release_).value();
    o.now = now;
    o.route_live = route_live;
    o.confirm_margin_seconds = confirm_margin_seconds;
    o.rejected = rejected;
    o.route_claimed_by = route_claimed_by;
    const std::string uid = o.parsed.release.uid;
    for (api::Color c : {api::Color::kBlue, api::Color::kGreen}) {
      const std::string n = std::string("shop-") + api::toString(c);
      int i = static_cast<int>(c);
      if (auto it = objects_.find("Deployment/" + n); it != objects_.end()) {
        o.deployments[i] = viewDeployment(std::make_shared<const json>(it->second), uid);
      }
      if (auto it = objects_.find("Service/" + n); it != objects_.end()) {
        o.services[i].object = std::make_shared<const json>(it->second);
        o.services[i].owned = ownedBy(it->second, uid);
        o.services[i].ready_endpoints = o.deployments[i].ready_replicas;
      }
      if (auto it = objects_.find("PodDisruptionBudget/" + n); it != objects_.end()) {
        o.budgets[i].object = std::make_shared<const json>(it->second);
        o.budgets[i].owned = ownedBy(it->second, uid);
      }
    }
    const std::string main_name = o.parsed.release.spec.existing_route
                                      ? o.parsed.release.spec.existing_route->name
                                      : "shop";
    if (auto it = objects_.find("IngressRoute/" + main_name); it != objects_.end()) {
      o.main_route.object = std::make_shared<const json>(it->second);
      o.main_route.owned = ownedBy(it->second, uid);
    }
    if (auto it = objects_.find("IngressRoute/shop-preview"); it != objects_.end()) {
      o.preview_route.object = std::make_shared<const json>(it->second);
      o.preview_route.owned = ownedBy(it->second, uid);
    }
    if (!o.parsed.release.spec.tcp || !o.parsed.release.spec.tcp->existing.empty()) {
      if (auto it = objects_.find("IngressRouteTCP/shop-tcp"); it != objects_.end()) {
        o.unwanted_tcp_route.object = std::make_shared<const json>(it->second);
        o.unwanted_tcp_route.owned = ownedBy(it->second, uid);
      }
    }
    if (const auto& tcp = o.parsed.release.spec.tcp) {
      const std::string name = tcp->existing.empty() ? "shop-tcp" : tcp->existing;
      if (auto it = objects_.find("IngressRouteTCP/" + name); it != objects_.end()) {
        o.tcp_route.object = std::make_shared<const json>(it->second);
        o.tcp_route.owned = ownedBy(it->second, uid);
      }
      for (api::Color c : {api::Color::kBlue, api::Color::kGreen}) {
        const api::TcpBackend& b = tcp->backend(c);
        auto it = objects_.find("Service/" + b.service);
        if (it == objects_.end()) continue;
        const int n = db_endpoints.count(b.service) ? db_endpoints.at(b.service) : 1;
        json slice{{"ports", json::array({{{"name", ""}, {"port", b.port}}})}, {"endpoints", json::array()}};
        for (int e = 0; e < n; ++e) {
          slice["endpoints"].push_back({{"addresses", {"10.9.0." + std::to_string(e + 1)}}, {"conditions", {{"ready", true}}}});
        }
        o.databases[static_cast<int>(c)] = viewDatabase(std::make_shared<const json>(it->second), b.port,
                                                        {std::make_shared<const json>(slice)});
      }
    }
    for (const auto& [key, obj] : objects_) {
      if (key.rfind("Job/", 0) != 0) continue;
      const std::string name = key.substr(4);
      o.jobs[name] = viewJob(std::make_shared<const json>(obj), uid, termination.count(name) ? termination.at(name) : "");
    }
    return o;
  }

  // Applies actions and the status, like the executor; returns the plan.
  Plan step() {
    Plan p = plan(observe());
    for (const auto& a : p.actions) {
      ++writes;
      if (a.kind == Action::Kind::kDelete) {
        objects_.erase(kindOf(a) + "/" + a.name);
        deleted.push_back(kindOf(a) + "/" + a.name + " " + a.body.value("propagationPolicy", ""));
        continue;
      }
      if (a.kind == Action::Kind::kCreate) {
        // A fixed name: AlreadyExists leaves the object as it is.
        const std::string key = kindOf(a) + "/" + a.name;
        if (!objects_.count(key)) {
          objects_[key] = a.body;
          objects_[key]["metadata"]["creationTimestamp"] = core::formatRfc3339(now);
          ++creates[key];
        }
        continue;
      }
      const std::string key = a.body.is_object() && a.body.contains("kind") && a.kind == Action::Kind::kApply
                                  ? a.body["kind"].get<std::string>() + "/" + a.name
                                  : kindOf(a) + "/" + a.name;
      json& obj = objects_[key];
      switch (a.kind) {
        case Action::Kind::kApply: {
          // Server-side apply by the only manager of the object: it becomes
          // what was applied (a field left out is removed), status and
          // generation stay the server's.
          json status = obj.is_object() ? obj.value("status", json()) : json();
          json generation = obj.is_object() ? obj.value("/metadata/generation"_json_pointer, json()) : json();
          obj = a.body;
          if (!status.is_null()) obj["status"] = status;
          if (!generation.is_null()) obj["metadata"]["generation"] = generation;
          break;
        }
        case Action::Kind::kMergePatch:
          obj.merge_patch(a.body);
          break;
        case Action::Kind::kJsonPatch:
          obj = obj.patch(a.body);
          break;
        case Action::Kind::kDelete:
        case Action::Kind::kCreate:
          break;
      }
      if (key.rfind("Deployment/", 0) == 0) {
        int g = obj["metadata"].value("generation", 0);
        obj["metadata"]["generation"] = g + 1;
      }
    }
    json status = api::statusToJson(p.status);
    if (release_.value("status", json()) != status) ++writes;
    release_["status"] = status;
    return p;
  }

  // The deployment controller + kubelet: every Deployment converges at once,
  // limited by ready_limit for its color.
  void converge() {
    for (auto& [key, obj] : objects_) {
      if (key.rfind("Deployment/", 0) != 0) continue;
      const std::string color = obj["metadata"]["labels"].value("bluegreen.io/color", "");
      int want = obj["spec"].value("replicas", 1);
      int ready = want;
      if (auto it = ready_limit.find(color); it != ready_limit.end() && it->second >= 0) {
        ready = std::min(want, it->second);
      }
      obj["status"] = {{"observedGeneration", obj["metadata"]["generation"]},
                       {"replicas", want},
                       {"updatedReplicas", want},
                       {"readyReplicas", ready},
                       {"availableReplicas", ready}};
    }
  }

  void advance(std::chrono::seconds d) { now += d; }

  // The Job controller: finishes a Job (Complete, or Failed with `reason`),
  // and the failing container's termination message the reconciler would read.
  void finishJob(const std::string& name, bool ok, const std::string& reason = "BackoffLimitExceeded",
                 const std::string& container_message = "") {
    json& j = objects_.at("Job/" + name);
    const std::string t = core::formatRfc3339(now);
    j["status"] = ok ? json{{"succeeded", 1},
                            {"completionTime", t},
                            {"conditions", json::array({{{"type", "Complete"}, {"status", "True"}, {"lastTransitionTime", t}}})}}
                     : json{{"failed", 1},
                            {"conditions", json::array({{{"type", "Failed"},
                                                         {"status", "True"},
                                                         {"reason", reason},
                                                         {"message", "Job has reached the specified backoff limit"},
                                                         {"lastTransitionTime", t}}})}};
    if (!container_message.empty()) termination[name] = container_message;
  }
  std::vector<std::string> jobs() const {
    std::vector<std::string> out;
    for (const auto& [key, _] : objects_) {
      if (key.rfind("Job/", 0) == 0) out.push_back(key.substr(4));
    }
    return out;
  }
  std::map<std::string, int> creates;       // "Job/name" -> times created
  std::vector<std::string> deleted;         // "Kind/name propagationPolicy"
  std::map<std::string, std::string> termination;

  std::string mainRouteService() const {
    auto it = objects_.find("IngressRoute/shop");
    if (it == objects_.end()) return "";
    return it->second["spec"]["routes"][0]["services"][0].value("name", "");
  }
  int replicasOf(const std::string& deployment) const {
    auto it = objects_.find("Deployment/" + deployment);
    return it == objects_.end() ? -1 : it->second["spec"].value("replicas", -1);
  }
  std::string revisionOf(const std::string& deployment) const {
    auto it = objects_.find("Deployment/" + deployment);
    return it == objects_.end() ? ""
                                : it->second["metadata"]["labels"].value("bluegreen.io/revision", "");
  }
  std::string stage() const { return release_["status"].value("stage", ""); }
  std::string condition(const std::string& type) const {
    for (const auto& c : release_["status"].value("conditions", json::array())) {
      if (c["type"] == type) return c["status"];
    }
    return "";
  }

  // Runs step+converge until the stage stops changing and no actions are left
  // (bounded), advancing time by `tick` each round.
  void settle(std::chrono::seconds tick = 1s, int max_rounds = 200) {
    for (int i = 0; i < max_rounds; ++i) {
      Plan p = step();
      converge();
      if (p.actions.empty() && !p.requeue_after && stage() == "Stable") return;
      advance(tick);
    }
  }

 private:
  static std::string kindOf(const Action& a) {
    if (a.gvr.resource == "deployments") return "Deployment";
    if (a.gvr.resource == "services") return "Service";
    if (a.gvr.resource == "poddisruptionbudgets") return "PodDisruptionBudget";
    if (a.gvr.resource == "ingressroutetcps") return "IngressRouteTCP";
    if (a.gvr.resource == "jobs") return "Job";
    return "IngressRoute";
  }
  json release_;
  std::map<std::string, json> objects_;
};

}  // namespace bgo::bluegreen::testworld
