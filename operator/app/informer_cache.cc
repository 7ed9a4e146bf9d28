#include "operator/app/informer_cache.h"

#include <iterator>

#include "operator/api/v1alpha1/types.h"

namespace bgo::app {

using core::gvrs::kBlueGreenReleases;
using core::gvrs::kDeployments;
using core::gvrs::kJobs;
using core::gvrs::kEndpointSlices;
using core::gvrs::kIngressRoutes;
using core::gvrs::kIngressRouteTcps;
using core::gvrs::kPodDisruptionBudgets;
using core::gvrs::kServices;

namespace {
constexpr const char* kServiceNameLabel = "kubernetes.io/service-name";
constexpr const char* kServiceIndex = "service";
constexpr const char* kRouteIndex = "existing-route";

// Drops what the operator never reads of a cached object of `gvr` (memory; the
// caches are most of it). Deployments: viewDeployment reads the status counters,
// not the conditions. EndpointSlices: readyEndpointAddresses reads each
// endpoint's addresses and conditions.ready (a missing `ready` stays missing).
void trim(const core::Gvr& gvr, nlohmann::json& obj) {
  if (gvr == kDeployments) {
    if (auto st = obj.find("status"); st != obj.end() && st->is_object()) st->erase("conditions");
  } else if (gvr == kEndpointSlices) {
    if (auto meta = obj.find("metadata"); meta != obj.end() && meta->is_object()) meta->erase("annotations");
    auto eps = obj.find("endpoints");
    if (eps == obj.end() || !eps->is_array()) return;
    for (auto& ep : *eps) {
      if (!ep.is_object()) continue;
      for (const char* f : {"targetRef", "nodeName", "zone", "hints", "deprecatedTopology"}) ep.erase(f);
      if (auto c = ep.find("conditions"); c != ep.end() && c->is_object()) {
        c->erase("serving");
        c->erase("terminating");
      }
    }
  }
}

std::string label(const nlohmann::json& obj, const char* key) {
  const auto& labels = obj.value("metadata", nlohmann::json::object()).value("labels", nlohmann::json::object());
  return labels.is_object() ? labels.value(key, "") : "";
}
}  // namespace

InformerCache::InformerCache(kube::KubeClient& client, core::Clock& clock,
                             std::vector<std::string> namespaces, informer::InformerOptions options)
    : namespaces_(std::move(namespaces)) {
  if (namespaces_.empty()) namespaces_.push_back("");
  // Only our own Deployments/Services (and the slices that inherit their labels)
  // are cached: memory stays proportional to releases, not to the cluster.
  const std::string ours = std::string(api::kLabelManagedBy) + "=" + api::kManagedByValue;
  const std::vector<std::pair<core::Gvr, std::string>> resources = {
      {kBlueGreenReleases, ""}, {kDeployments, ours}, {kServices, ours},
      {kEndpointSlices, ours},  {kIngressRoutes, ""},  {kPodDisruptionBudgets, ours},
      {kIngressRouteTcps, ""}, {kJobs, ours}};
  for (const auto& [gvr, selector] : resources) {
    for (const auto& ns : namespaces_) {
      informer::InformerOptions o = options;
      o.transform = [gvr = gvr, outer = options.transform](nlohmann::json& obj) {
        if (outer) outer(obj);
        trim(gvr, obj);
      };
      auto inf = std::make_unique<informer::Informer>(client, gvr, ns, selector, clock, o);
      if (gvr == kBlueGreenReleases) {
        inf->addIndex(kRouteIndex, [](const nlohmann::json& o) {
          const auto& ex = o.value("spec", nlohmann::json::object())
                               .value("routing", nlohmann::json::object())
                               .value("existingIngressRoute", nlohmann::json::object());
          const std::string name = ex.is_object() ? ex.value("name", "") : "";
          if (name.empty()) return std::vector<std::string>{};
          return std::vector<std::string>{o["metadata"].value("namespace", "") + "/" + name};
        });
      }
      if (gvr == kEndpointSlices) {
        inf->addIndex(kServiceIndex, [](const nlohmann::json& o) {
          std::string svc = label(o, kServiceNameLabel);
          std::string ns = o["metadata"].value("namespace", "");
          return svc.empty() ? std::vector<std::string>{} : std::vector<std::string>{ns + "/" + svc};
        });
      }
      by_resource_[gvr.resource].push_back(std::move(inf));
    }
  }
}

std::string InformerCache::ownerKey(const nlohmann::json& obj) {
  std::string rel = label(obj, api::kLabelRelease);
  if (rel.empty()) return "";
  return obj["metadata"].value("namespace", "") + "/" + rel;
}

void InformerCache::start() {
  for (auto* i : all()) i->start();
}
void InformerCache::stop() {
  for (auto* i : all()) i->stop();
}
bool InformerCache::hasSynced() const {
  for (auto* i : all()) {
    if (!i->hasSynced()) return false;
  }
  return true;
}
bool InformerCache::waitForSync(std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (auto* i : all()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !i->waitForSync(left)) return false;
  }
  return true;
}

void InformerCache::addHandlers(const core::Gvr& gvr, informer::EventHandlers h) {
  for (auto& i : by_resource_.at(gvr.resource)) i->addEventHandlers(h);
}

std::vector<informer::Informer*> InformerCache::all() const {
  std::vector<informer::Informer*> out;
  for (const auto& [_, v] : by_resource_) {
    for (const auto& i : v) out.push_back(i.get());
  }
  return out;
}

informer::Informer* InformerCache::find(const core::Gvr& gvr, const std::string& ns) const {
  auto it = by_resource_.find(gvr.resource);
  if (it == by_resource_.end()) return nullptr;
  for (std::size_t i = 0; i < namespaces_.size(); ++i) {
    if (namespaces_[i].empty() || namespaces_[i] == ns) return it->second[i].get();
  }
  return nullptr;
}

std::vector<std::string> InformerCache::releaseKeys() const {
  std::vector<std::string> out;
  for (const auto& i : by_resource_.at(kBlueGreenReleases.resource)) {
    auto keys = i->keys();
    out.insert(out.end(), std::make_move_iterator(keys.begin()), std::make_move_iterator(keys.end()));
  }
  return out;
}

std::vector<std::shared_ptr<const nlohmann::json>> InformerCache::releasesUsingRoute(const std::string& ns,
                                                                                   const std::string& name) const {
  auto* i = find(kBlueGreenReleases, ns);
  return i ? i->byIndex(kRouteIndex, ns + "/" + name) : std::vector<std::shared_ptr<const nlohmann::json>>{};
}

std::shared_ptr<const nlohmann::json> InformerCache::get(const core::Gvr& gvr, const std::string& ns,
                                                         const std::string& name) const {
  auto* i = find(gvr, ns);
  return i ? i->get(ns, name) : nullptr;
}

std::vector<std::shared_ptr<const nlohmann::json>> InformerCache::listByLabel(
    const core::Gvr& gvr, const std::string& ns, const std::string& key, const std::string& value) const {
  auto* i = find(gvr, ns);
  if (!i) return {};
  if (gvr == kEndpointSlices && key == kServiceNameLabel) return i->byIndex(kServiceIndex, ns + "/" + value);
  std::vector<std::shared_ptr<const nlohmann::json>> out;
  for (auto& o : i->listNamespace(ns)) {
    if (label(*o, key.c_str()) == value) out.push_back(o);
  }
  return out;
}

std::vector<std::shared_ptr<const nlohmann::json>> InformerCache::list(const core::Gvr& gvr,
                                                                       const std::string& ns) const {
  auto* i = find(gvr, ns);
  return i ? i->listNamespace(ns) : std::vector<std::shared_ptr<const nlohmann::json>>{};
}

}  // namespace bgo::app
