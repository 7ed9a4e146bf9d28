#include "operator/app/app.h"

#include <spdlog/spdlog.h>

#include "operator/api/v1alpha1/types.h"

namespace bgo::app {

using core::gvrs::kBlueGreenReleases;
using core::gvrs::kDeployments;
using core::gvrs::kEndpointSlices;
using core::gvrs::kIngressRoutes;
using core::gvrs::kIngressRouteTcps;
using core::gvrs::kPodDisruptionBudgets;
using core::gvrs::kServices;

std::chrono::milliseconds resyncRequeue(std::optional<std::chrono::milliseconds> requested,
                                        std::chrono::seconds resync_period) {
  const std::chrono::milliseconds resync = resync_period;
  return requested && *requested < resync ? *requested : resync;
}

informer::InformerOptions cacheOptions(std::shared_ptr<spdlog::logger> log) {
  informer::InformerOptions o;
  o.logger = std::move(log);
  // The caches are most of the operator's memory: ~80 KB per release as trees.
  o.packed = true;
  // What the operator never reads is not kept: managedFields and kubectl's
  // last-applied copy are often larger than the rest of the object.
  o.transform = [](nlohmann::json& obj) {
    auto meta = obj.find("metadata");
    if (meta == obj.end() || !meta->is_object()) return;
    meta->erase("managedFields");
    if (auto ann = meta->find("annotations"); ann != meta->end() && ann->is_object()) {
      ann->erase("kubectl.kubernetes.io/last-applied-configuration");
    }
  };
  return o;
}

App::App(Options options, kube::KubeClient& client, core::Clock& clock,
         std::shared_ptr<spdlog::logger> log, bluegreen::ReconcileObserver* reconcile_observer,
         workqueue::QueueObserver* queue_observer, controller::ControllerObserver* controller_observer)
    : options_(std::move(options)),
      client_(client),
      clock_(clock),
      log_(std::move(log)),
      kube_events_(client_, clock_, "bluegreen-operator"),
      events_(kube_events_),
      cache_(client_, clock_, options_.namespaces, cacheOptions(log_)),
      queue_(clock_, workqueue::defaultControllerRateLimiter(clock_), queue_observer),
      reconciler_(cache_, client_, events_, clock_, log_, reconcile_observer),
      controller_(
          "bluegreenrelease", queue_,
          [this](const core::ObjectKey& key) -> core::Result<controller::ReconcileResult> {
            auto out = reconciler_.reconcile(key);
            if (!out) return core::fail(out.error());
            controller::ReconcileResult r;
            if (cache_.get(kBlueGreenReleases, key.ns, key.name)) {
              r.requeue_after = resyncRequeue(out->requeue_after, options_.resync_period);
            }
            return r;
          },
          log_, controller_observer) {
  controller_.setTerminalRequeue(options_.resync_period);
  registerHandlers();
}

App::~App() { stop(); }

void App::enqueueKey(const std::string& key) {
  if (!key.empty()) queue_.add(key);
}

void App::registerHandlers() {
  // Handlers only enqueue keys; every reconcile re-reads the cache.
  auto releaseKey = [](const informer::ObjectPtr& o) { return informer::objectKey(*o); };
  // Releases that adopt the same user route decide among themselves who may
  // switch it (the oldest): one coming or going is news to the others.
  auto routeSharers = [this](const informer::ObjectPtr& o) {
    const auto& route = o->value("spec", nlohmann::json::object())
                            .value("routing", nlohmann::json::object())
                            .value("existingIngressRoute", nlohmann::json::object());
    if (!route.is_object() || !route.contains("name")) return;
    const auto& meta = o->value("metadata", nlohmann::json::object());
    for (const auto& r : cache_.releasesUsingRoute(meta.value("namespace", ""), route.value("name", ""))) {
      enqueueKey(informer::objectKey(*r));
    }
  };
  cache_.addHandlers(kBlueGreenReleases,
                     {[=, this](const informer::ObjectPtr& o) {
                        enqueueKey(releaseKey(o));
                        routeSharers(o);
                      },
                      [=, this](const informer::ObjectPtr& old_obj, const informer::ObjectPtr& o) {
                        // Our own status writes come back as updates: only spec,
                        // metadata (annotations, deletion) or a new object matter.
                        if (old_obj && o && old_obj->value("spec", nlohmann::json()) == o->value("spec", nlohmann::json()) &&
                            old_obj->value("metadata", nlohmann::json()).value("annotations", nlohmann::json()) ==
                                o->value("metadata", nlohmann::json()).value("annotations", nlohmann::json()) &&
                            !o->value("metadata", nlohmann::json::object()).contains("deletionTimestamp")) {
                          return;
                        }
                        enqueueKey(releaseKey(o));
                      },
                      [=, this](const informer::ObjectPtr& o) {
                        enqueueKey(releaseKey(o));
                        routeSharers(o);
                      }});
  informer::EventHandlers owned{
      [this](const informer::ObjectPtr& o) { enqueueKey(InformerCache::ownerKey(*o)); },
      [this](const informer::ObjectPtr&, const informer::ObjectPtr& o) { enqueueKey(InformerCache::ownerKey(*o)); },
      [this](const informer::ObjectPtr& o) { enqueueKey(InformerCache::ownerKey(*o)); }};
  cache_.addHandlers(kDeployments, owned);
  cache_.addHandlers(kServices, owned);
  cache_.addHandlers(kEndpointSlices, owned);
  cache_.addHandlers(kPodDisruptionBudgets, owned);
  cache_.addHandlers(core::gvrs::kJobs, owned);
  // IngressRoutes: ours carry the release label; a user's maps to the releases
  // that name it in spec.routing.existingIngressRoute.
  auto routeKeys = [this](const informer::ObjectPtr& o) {
    if (std::string k = InformerCache::ownerKey(*o); !k.empty()) {
      enqueueKey(k);
      return;
    }
    const auto& meta = o->value("metadata", nlohmann::json::object());
    for (const auto& r : cache_.releasesUsingRoute(meta.value("namespace", ""), meta.value("name", ""))) {
      enqueueKey(informer::objectKey(*r));
    }
  };
  cache_.addHandlers(kIngressRoutes,
                     {routeKeys, [=](const informer::ObjectPtr&, const informer::ObjectPtr& o) { routeKeys(o); },
                      routeKeys});
  // IngressRouteTCPs: ours carry the release label; a user's maps to the
  // releases that name it in spec.routing.tcp.existingIngressRouteTCP.
  auto tcpRouteKeys = [this](const informer::ObjectPtr& o) {
    if (std::string k = InformerCache::ownerKey(*o); !k.empty()) {
      enqueueKey(k);
      return;
    }
    const auto& meta = o->value("metadata", nlohmann::json::object());
    const std::string ns = meta.value("namespace", ""), name = meta.value("name", "");
    for (const auto& r : cache_.list(kBlueGreenReleases, ns)) {  // that namespace's only: no decoding of all
      const auto& tcp = r->value("spec", nlohmann::json::object())
                            .value("routing", nlohmann::json::object())
                            .value("tcp", nlohmann::json::object());
      if (tcp.is_object() && tcp.value("existingIngressRouteTCP", "") == name) {
        enqueueKey(informer::objectKey(*r));
      }
    }
  };
  cache_.addHandlers(kIngressRouteTcps,
                     {tcpRouteKeys, [=](const informer::ObjectPtr&, const informer::ObjectPtr& o) { tcpRouteKeys(o); },
                      tcpRouteKeys});
}

core::Status App::configureTraffic() {
  if (options_.traefik_api_url.empty()) {
    reconciler_.setTrafficConfirmation(nullptr, options_.traffic_confirm_margin);
    return {};
  }
  auto c = traefik::TraefikApiConfirmer::make(options_.traefik_api_url, std::chrono::seconds(5));
  if (!c) return core::fail(c.error());
  confirmer_ = std::move(*c);
  reconciler_.setTrafficConfirmation(confirmer_.get(), options_.traffic_confirm_margin);
  return {};
}

bool App::startCaches() {
  cache_.start();
  const auto start = std::chrono::steady_clock::now();
  if (!cache_.waitForSync(options_.cache_sync_timeout)) {
    if (stopping_.load()) return false;  // interrupted by a signal: nothing to report
    std::string why;
    for (auto* i : cache_.all()) {
      if (!i->hasSynced()) {
        why += " " + i->gvr().resource + (i->stats().last_error.empty() ? "" : " (" + i->stats().last_error + ")");
      }
    }
    log_->error("caches did not sync within {}s:{}; check the API server address, credentials and RBAC",
                options_.cache_sync_timeout.count(), why);
    return false;
  }
  log_->info("caches synced in {} ms ({} releases)",
             std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count(),
             cache_.releaseKeys().size());
  return true;
}

void App::enqueueAll() {
  for (const auto& k : cache_.releaseKeys()) enqueueKey(k);
}

void App::startWorkers() {
  if (workers_started_.exchange(true)) return;
  controller_.setActive(true);
  controller_.start(options_.workers);
  enqueueAll();
}

bool App::stop() {
  stopping_ = true;
  bool ok = true;
  if (workers_started_.exchange(false)) ok = controller_.stop(options_.shutdown_grace);
  else queue_.shutDown();
  events_.stop(std::chrono::seconds(2));
  if (events_.dropped() > 0) log_->warn("{} Events were not sent (queue full or shutting down)", events_.dropped());
  cache_.stop();
  return ok;
}

}  // namespace bgo::app
