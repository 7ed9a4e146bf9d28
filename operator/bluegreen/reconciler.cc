#include "operator/bluegreen/reconciler.h"

#include <spdlog/spdlog.h>

#include "operator/api/v1alpha1/codec.h"
#include "operator/api/v1alpha1/revision.h"
#include "operator/traffic/traefik/ingress_route.h"
#include "operator/traffic/traefik/ingress_route_tcp.h"

namespace bgo::bluegreen {

using core::gvrs::kBlueGreenReleases;
using core::gvrs::kDeployments;
using core::gvrs::kEndpointSlices;
using core::gvrs::kIngressRoutes;
using core::gvrs::kIngressRouteTcps;
using core::gvrs::kJobs;
using core::gvrs::kPodDisruptionBudgets;
using core::gvrs::kPods;
using core::gvrs::kServices;

Reconciler::Reconciler(const ObjectReader& cache, kube::KubeClient& client,
                       controller::EventRecorder& events, core::Clock& clock,
                       std::shared_ptr<spdlog::logger> log, ReconcileObserver* observer)
    : cache_(cache), client_(client), events_(events), clock_(clock), log_(std::move(log)),
      observer_(observer) {}

std::optional<Observed> Reconciler::observe(const core::ObjectKey& key) const {
  auto obj = cache_.get(kBlueGreenReleases, key.ns, key.name);
  if (!obj) return std::nullopt;
  auto parsed = api::parseRelease(*obj);
  if (!parsed) return std::nullopt;
  Observed o;
  o.release_object = *obj;
  o.parsed = std::move(*parsed);
  o.now = clock_.wallNow();
  const api::Release& r = o.parsed.release;
  for (api::Color c : {api::Color::kBlue, api::Color::kGreen}) {
    const std::string name = r.name + "-" + api::toString(c);
    const int i = static_cast<int>(c);
    o.deployments[i] = viewDeployment(cache_.get(kDeployments, r.ns, name), r.uid);
    o.services[i].object = cache_.get(kServices, r.ns, name);
    if (o.services[i].object) {
      o.services[i].owned = ownedBy(*o.services[i].object, r.uid);
      o.services[i].ready_endpoints = countReadyEndpoints(
          cache_.listByLabel(kEndpointSlices, r.ns, "kubernetes.io/service-name", name));
    }
    o.budgets[i].object = cache_.get(kPodDisruptionBudgets, r.ns, name);
    if (o.budgets[i].object) o.budgets[i].owned = ownedBy(*o.budgets[i].object, r.uid);
  }
  o.main_route.object = cache_.get(kIngressRoutes, r.ns, traefik::mainRouteName(r));
  if (o.main_route.object) o.main_route.owned = ownedBy(*o.main_route.object, r.uid);
  o.preview_route.object = cache_.get(kIngressRoutes, r.ns, traefik::previewRouteName(r));
  if (o.preview_route.object) o.preview_route.owned = ownedBy(*o.preview_route.object, r.uid);
  if (r.spec.existing_route) o.route_claimed_by = routeClaimant(*obj, r);
  if (!r.spec.tcp || !r.spec.tcp->existing.empty()) {
    o.unwanted_tcp_route.object = cache_.get(kIngressRouteTcps, r.ns, traefik::ownedTcpRouteName(r));
    if (o.unwanted_tcp_route.object) o.unwanted_tcp_route.owned = ownedBy(*o.unwanted_tcp_route.object, r.uid);
  }
  if (r.spec.tcp) {
    o.tcp_route.object = cache_.get(kIngressRouteTcps, r.ns, traefik::tcpRouteName(r));
    if (o.tcp_route.object) o.tcp_route.owned = ownedBy(*o.tcp_route.object, r.uid);
    for (api::Color c : {api::Color::kBlue, api::Color::kGreen}) {
      const api::TcpBackend& b = r.spec.tcp->backend(c);
      o.databases[static_cast<int>(c)] =
          viewDatabase(cache_.get(kServices, r.ns, b.service), b.port,
                       cache_.listByLabel(kEndpointSlices, r.ns, "kubernetes.io/service-name", b.service));
    }
  }
  for (const auto& job : cache_.listByLabel(kJobs, r.ns, api::kLabelRelease, r.name)) {
    if (job) o.jobs[job->value("/metadata/name"_json_pointer, std::string())] = viewJob(job, r.uid);
  }
  return o;
}

// The oldest other release (creation time, then name) adopting the same route
// and match owns it; "" when that is this release.
std::string Reconciler::routeClaimant(const json& self, const api::Release& r) const {
  const json& meta = self.value("metadata", json::object());
  const std::pair<std::string, std::string> mine{meta.value("creationTimestamp", ""), r.name};
  std::optional<std::pair<std::string, std::string>> oldest;
  for (const auto& other : cache_.releasesUsingRoute(r.ns, r.spec.existing_route->name)) {
    const json& m = other->value("metadata", json::object());
    if (m.value("uid", "") == r.uid || m.contains("deletionTimestamp")) continue;
    const json& route =
        other->value("spec", json::object()).value("routing", json::object()).value("existingIngressRoute", json());
    if (!route.is_object() || route.value("match", "") != r.spec.existing_route->match) continue;
    std::pair<std::string, std::string> theirs{m.value("creationTimestamp", ""), m.value("name", "")};
    if (theirs < mine && (!oldest || theirs < *oldest)) oldest = theirs;
  }
  return oldest ? oldest->second : "";
}

// Only while a release is in flight or a switch waits for confirmation: one or
// two GETs to Traefik's API each.
void Reconciler::askTraefik(Observed& o) const {
  o.confirm_margin_seconds = confirm_margin_seconds_;
  if (!confirmer_) return;
  askPreview(o);
  const api::Status& st = o.release().status;
  if (st.last_switch_time.empty() || !st.traffic_confirmed_time.empty() || st.history.empty() ||
      st.history.front().from.empty() || !o.main_route.exists()) {
    return;
  }
  const api::Release& r = o.release();
  auto target = traefik::readTarget(*o.main_route.object, traefik::mainMatch(r), r);
  if (!target.color) return;
  const std::string svc = r.name + "-" + api::toString(*target.color);
  traefik::ConfirmQuery q{r.ns, traefik::mainRouteName(r), traefik::mainMatch(r),
                          readyEndpointAddresses(cache_.listByLabel(kEndpointSlices, r.ns,
                                                                    "kubernetes.io/service-name", svc))};
  auto live = confirmer_->live(q);
  if (live) {
    o.route_live = *live;
    if (!*live) o.route_live_problem = "Traefik does not route " + q.match + " to " + svc + " alone yet";
  } else {
    o.route_live = false;
    o.route_live_problem = live.error().message;
  }
}

// Before a switch: does Traefik list servers for the preview color's router?
void Reconciler::askPreview(Observed& o) const {
  const api::Release& r = o.release();
  if (!o.main_route.exists() || !o.preview_route.exists() || !r.spec.template_.is_object()) return;
  auto target = traefik::readTarget(*o.main_route.object, traefik::mainMatch(r), r);
  if (!target.color) return;
  const api::Color preview = api::other(*target.color);
  const std::string revision = api::revisionOf(r.spec.template_);
  if (o.deployment(*target.color).revision == revision || o.deployment(preview).revision != revision) return;
  const std::string& host = r.spec.previewHost(preview);
  if (host.empty()) return;
  // Only when the other gates may pass now: no calls while pods start or the readyFor clock runs.
  if (!o.deployment(preview).caughtUp(releaseSize(r.spec, o.deployment(*target.color)))) return;
  if (auto since = core::parseRfc3339(r.status.promotable_since);
      since && o.now < *since + std::chrono::seconds(r.spec.ready_for_seconds)) {
    return;
  }
  const std::string svc = traefik::colorServiceName(r, preview);
  traefik::ConfirmQuery q{r.ns, traefik::previewRouteName(r), traefik::hostMatch(host),
                          readyEndpointAddresses(
                              cache_.listByLabel(kEndpointSlices, r.ns, "kubernetes.io/service-name", svc))};
  auto live = confirmer_->live(q);
  o.preview_servable = live && *live;
  if (!o.preview_servable.value()) {
    o.preview_servable_problem =
        live ? "Traefik lists no server of " + svc + " for " + q.match + " yet" : live.error().message;
  }
}

core::Status Reconciler::readMisses(Observed& o) {
  const api::Release& r = o.release();
  for (api::Color c : {api::Color::kBlue, api::Color::kGreen}) {
    const std::string name = r.name + "-" + api::toString(c);
    const int i = static_cast<int>(c);
    if (!o.deployments[i].exists()) {
      auto live = client_.get(kDeployments, r.ns, name);
      if (live) {
        o.deployments[i] = viewDeployment(std::make_shared<const json>(std::move(*live)), r.uid);
      } else if (!live.error().is(core::ErrorCode::kNotFound)) {
        return core::fail(live.error());
      }
    }
    if (!o.services[i].exists()) {
      auto live = client_.get(kServices, r.ns, name);
      if (live) {
        o.services[i].object = std::make_shared<const json>(std::move(*live));
        o.services[i].owned = ownedBy(*o.services[i].object, r.uid);
      } else if (!live.error().is(core::ErrorCode::kNotFound)) {
        return core::fail(live.error());
      }
    }
    // The database Services are the user's: the caches hold only ours, so they
    // and their slices are read here (a GET and a LIST per color per reconcile).
    if (r.spec.tcp && !o.databases[i].exists()) {
      const api::TcpBackend& b = r.spec.tcp->backend(c);
      auto live = client_.get(kServices, r.ns, b.service);
      if (live) {
        kube::ListOptions lo;
        lo.label_selector = "kubernetes.io/service-name=" + b.service;
        auto slices = client_.list(kEndpointSlices, r.ns, lo);
        if (!slices) return core::fail(slices.error());
        std::vector<ObjectPtr> items;
        for (const auto& it : slices->value("items", json::array())) items.push_back(std::make_shared<const json>(it));
        o.databases[i] = viewDatabase(std::make_shared<const json>(std::move(*live)), b.port, items);
      } else if (!live.error().is(core::ErrorCode::kNotFound)) {
        return core::fail(live.error());
      }
    }
    // Only when the spec asks for budgets: a release without one costs no reads.
    if (r.spec.pod_disruption_budget && !o.budgets[i].exists()) {
      auto live = client_.get(kPodDisruptionBudgets, r.ns, name);
      if (live) {
        o.budgets[i].object = std::make_shared<const json>(std::move(*live));
        o.budgets[i].owned = ownedBy(*o.budgets[i].object, r.uid);
      } else if (!live.error().is(core::ErrorCode::kNotFound)) {
        return core::fail(live.error());
      }
    }
  }
  return {};
}

namespace {
// "container migrate exited 1 (Error): boom" from the first pod of the Job
// with a container that terminated unsuccessfully.
std::string terminationMessage(const json& pods) {
  for (const auto& pod : pods.value("items", json::array())) {
    const json& st = pod.value("status", json::object());
    for (const char* list : {"containerStatuses", "initContainerStatuses"}) {
      for (const auto& cs : st.value(list, json::array())) {
        const json& t = cs.value("state", json::object()).value("terminated", json());
        if (!t.is_object() || t.value("exitCode", 0) == 0) continue;
        std::string msg = "container " + cs.value("name", "") + " exited " + std::to_string(t.value("exitCode", 0));
        if (const std::string reason = t.value("reason", ""); !reason.empty()) msg += " (" + reason + ")";
        if (std::string m = t.value("message", ""); !m.empty()) {
          while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
          if (m.size() > 1024) m = "..." + m.substr(m.size() - 1024);
          msg += ": " + m;
        }
        return msg;
      }
    }
  }
  return "";
}
}  // namespace

core::Status Reconciler::readHookFailures(Observed& o) {
  const api::Release& r = o.release();
  for (auto& [name, v] : o.jobs) {
    if (!v.owned || v.phase != JobView::Phase::kFailed) continue;
    bool recorded = false;
    for (const auto& h : r.status.hooks) recorded = recorded || (h.job == name && h.phase == "Failed");
    if (recorded) continue;
    kube::ListOptions opts;
    opts.label_selector = "job-name=" + name;
    auto pods = client_.list(kPods, r.ns, opts);
    if (!pods) return core::fail(pods.error());
    v = viewJob(v.object, r.uid, terminationMessage(*pods));
  }
  return {};
}

core::Status Reconciler::execute(const core::ObjectKey& key, const Action& a) {
  if (a.kind == Action::Kind::kCreate) {
    log_->info("[{}] create {}/{}: {}", key.str(), a.gvr.resource, a.name, a.why);
    kube::WriteOptions opts;
    opts.field_manager = api::kFieldManager;
    auto res = client_.create(a.gvr, a.ns, a.body, opts);
    // Created before (a lagging cache, a restart, another replica): it ran or
    // runs already; the next reconcile reads it. Never created twice.
    if (!res && res.error().is(core::ErrorCode::kAlreadyExists)) {
      log_->info("[{}] {}/{} exists already; reading it instead", key.str(), a.gvr.resource, a.name);
      return {};
    }
    if (!res) {
      core::Error e = res.error();
      e.message = a.gvr.resource + "/" + a.name + ": " + e.message;
      return core::fail(e);
    }
    return {};
  }
  if (a.kind == Action::Kind::kDelete) {
    log_->info("[{}] delete {}/{}: {}", key.str(), a.gvr.resource, a.name, a.why);
    kube::DeleteOptions del;
    del.precondition_uid = a.body.value("uid", "");
    del.propagation_policy = a.body.value("propagationPolicy", "");
    auto st = client_.remove(a.gvr, a.ns, a.name, del);
    if (!st && !st.error().is(core::ErrorCode::kNotFound)) {
      core::Error e = st.error();
      e.message = a.gvr.resource + "/" + a.name + ": " + e.message;
      return core::fail(e);
    }
    return {};
  }
  kube::WriteOptions opts;
  opts.field_manager = api::kFieldManager;
  kube::PatchType type = kube::PatchType::kMerge;
  switch (a.kind) {
    case Action::Kind::kApply:
      type = kube::PatchType::kApply;
      opts.force = true;  // our own objects: take back fields someone else changed
      break;
    case Action::Kind::kMergePatch: type = kube::PatchType::kMerge; break;
    case Action::Kind::kJsonPatch: type = kube::PatchType::kJson; break;
    case Action::Kind::kDelete:
    case Action::Kind::kCreate: break;  // handled above
  }
  log_->info("[{}] {} {}/{}: {}", key.str(), a.kind == Action::Kind::kApply ? "apply" : "patch",
             a.gvr.resource, a.name, a.why);
  auto res = client_.patch(a.gvr, a.ns, a.name, type, a.body, opts);
  if (!res) {
    core::Error e = res.error();
    // A failed JSON Patch `test` means someone changed the route meanwhile:
    // re-read and re-plan, never overwrite.
    if (a.kind == Action::Kind::kJsonPatch &&
        (e.code == core::ErrorCode::kInvalid || e.code == core::ErrorCode::kConflict)) {
      e.code = core::ErrorCode::kConflict;
      e.retry = core::RetryClass::kReplan;
      e.message = "IngressRoute " + a.name + " changed since it was read; will re-read: " + e.message;
    }
    e.message = a.gvr.resource + "/" + a.name + ": " + e.message;
    return core::fail(e);
  }
  return {};
}

void Reconciler::releaseGone(const core::ObjectKey& key) {
  // Owned objects go by garbage collection. A user's IngressRoute that still
  // names one of our Services is left alone, and a warning says so.
  for (const auto& ir : cache_.list(kIngressRoutes, key.ns)) {
    if (!ir) continue;
    const json& meta = ir->value("metadata", json::object());
    if (meta.contains("ownerReferences")) continue;
    for (const auto& rt : ir->value("spec", json::object()).value("routes", json::array())) {
      for (const auto& svc : rt.value("services", json::array())) {
        const std::string n = svc.value("name", "");
        if (n == key.name + "-blue" || n == key.name + "-green") {
          events_.record({"traefik.io/v1alpha1", "IngressRoute", key.ns, meta.value("name", ""),
                          meta.value("uid", ""), ""},
                         "Warning", "ReleaseDeleted",
                         "BlueGreenRelease " + key.name + " was deleted; this route still sends " +
                             rt.value("match", "") + " to Service " + n +
                             ", which is being garbage-collected: point it elsewhere");
          return;
        }
      }
    }
  }
}

bool Reconciler::awaitingCache(const core::ObjectKey& key, const std::string& cached_rv) {
  std::lock_guard lock(expectations_mu_);
  auto it = expectations_.find(key.str());
  if (it == expectations_.end()) return false;
  if (it->second.stale_rv != cached_rv || clock_.now() >= it->second.until) {
    expectations_.erase(it);  // caught up (or the watch is too slow to wait for)
    return false;
  }
  return true;
}

std::optional<std::string> Reconciler::rejection(const core::ObjectKey& key, int64_t generation) {
  std::lock_guard lock(rejections_mu_);
  auto it = rejections_.find(key.str());
  if (it == rejections_.end()) return std::nullopt;
  if (it->second.generation != generation || clock_.now() >= it->second.until) {
    rejections_.erase(it);  // a new spec, or time to try again
    return std::nullopt;
  }
  return it->second.message;
}

void Reconciler::reject(const core::ObjectKey& key, int64_t generation, const std::string& message) {
  std::lock_guard lock(rejections_mu_);
  rejections_[key.str()] = {generation, message, clock_.now() + kRejectionRetry};
}

void Reconciler::expectNewerThan(const core::ObjectKey& key, const std::string& rv) {
  std::lock_guard lock(expectations_mu_);
  expectations_[key.str()] = {rv, clock_.now() + std::chrono::seconds(30)};
}

core::Result<ReconcileOutcome> Reconciler::reconcile(const core::ObjectKey& key) {
  ReconcileOutcome out;
  auto observed = observe(key);
  if (!observed) {
    {
      std::lock_guard lock(rejections_mu_);
      rejections_.erase(key.str());
    }
    releaseGone(key);
    if (observer_) observer_->onGone(key);
    return out;
  }
  if (observed->release().deleting) return out;
  if (awaitingCache(key, observed->release().resource_version)) {
    out.requeue_after = std::chrono::milliseconds(100);
    return out;
  }
  if (auto st = readMisses(*observed); !st) {
    core::Error e = st.error();
    e.message = "reading objects missing from the cache: " + e.message;
    return core::fail(e);
  }
  if (auto st = readHookFailures(*observed); !st) {
    core::Error e = st.error();
    e.message = "reading the pods of a failed hook Job: " + e.message;
    return core::fail(e);
  }
  askTraefik(*observed);
  const api::Release& r = observed->release();
  observed->rejected = rejection(key, r.generation);
  Plan p = plan(*observed);
  if (observer_) observer_->onPlan(key, *observed, p);
  const controller::ObjectRef ref{api::kApiVersion, api::kKind, r.ns, r.name, r.uid,
                                  r.resource_version};

  auto executeAll = [&]() -> core::Status {
    for (const auto& a : p.actions) {
      auto st = execute(key, a);
      if (!st) return st;
      ++out.writes;
    }
    return {};
  };
  auto st = executeAll();
  if (!st && (st.error().is(core::ErrorCode::kInvalid) || st.error().is(core::ErrorCode::kBadRequest)) &&
      !observed->rejected) {
    // Invalid input the server refused: plan again with the rejection, which
    // reports it in status and writes nothing else. (Other terminal errors,
    // e.g. a write refused because leadership was lost, are not about the spec.)
    log_->warn("[{}] {} (not sent again until the spec changes)", key.str(), st.error().describe());
    reject(key, r.generation, st.error().message);
    observed->rejected = st.error().message;
    p = plan(*observed);
    if (observer_) observer_->onPlan(key, *observed, p);
    st = executeAll();
  }
  if (!st) {
    log_->warn("[{}] {} (retry: {})", key.str(), st.error().describe(), core::toString(st.error().retry));
    return core::fail(st.error());
  }
  for (const auto& e : p.events) {
    log_->info("[{}] event {} {}: {}", key.str(), e.type, e.reason, e.message);
    events_.record(ref, e.type, e.reason, e.message);
  }
  if (p.switched && observer_) observer_->onSwitched(key, p.status.history.empty() ? "" : p.status.history.front().reason);

  json status = api::statusToJson(p.status);
  if (observed->release_object.value("status", json::object()) != status) {
    json body = observed->release_object;
    body["apiVersion"] = api::kApiVersion;  // list items may come without them
    body["kind"] = api::kKind;
    body["status"] = status;
    // The resourceVersion precondition turns a stale cache into a Conflict
    // (re-plan) instead of a status built on old facts.
    auto res = client_.replace(kBlueGreenReleases, r.ns, r.name, body, {.subresource = "status"});
    if (!res) {
      core::Error e = res.error();
      e.message = "status: " + e.message;
      log_->debug("[{}] {}", key.str(), e.describe());
      return core::fail(e);
    }
    ++out.writes;
    expectNewerThan(key, r.resource_version);
  }
  if (p.requeue_after) out.requeue_after = *p.requeue_after;
  out.switched = p.switched;
  out.stage = p.status.stage;
  return out;
}

}  // namespace bgo::bluegreen
