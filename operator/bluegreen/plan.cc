#include "operator/bluegreen/plan.h"

#include <algorithm>
#include <set>

#include "operator/api/v1alpha1/revision.h"
#include "operator/bluegreen/covers.h"
#include "operator/bluegreen/tcp_plan.h"
#include "operator/bluegreen/hooks.h"
#include "operator/api/v1alpha1/codec.h"
#include "operator/traffic/traefik/ingress_route.h"
#include "operator/traffic/traefik/ingress_route_tcp.h"

namespace bgo::bluegreen {

using api::Stage;
using core::gvrs::kDeployments;
using core::gvrs::kIngressRoutes;
using core::gvrs::kJobs;
using core::gvrs::kPodDisruptionBudgets;
using core::gvrs::kServices;

json ownedMeta(const api::Release& r, std::optional<Color> c) {
  json labels{{api::kLabelName, r.name},
              {api::kLabelManagedBy, api::kManagedByValue},
              {api::kLabelRelease, r.name}};
  if (c) labels[api::kLabelColor] = api::toString(*c);
  return json{{"labels", labels},
              {"ownerReferences", json::array({{{"apiVersion", api::kApiVersion},
                                                {"kind", api::kKind},
                                                {"name", r.name},
                                                {"uid", r.uid},
                                                {"controller", true},
                                                {"blockOwnerDeletion", true}}})}};
}

json desiredDeployment(const api::Release& r, Color c, int32_t replicas) {
  const std::string revision = api::revisionOf(r.spec.template_);
  json meta = ownedMeta(r, c);
  meta["name"] = r.name + "-" + api::toString(c);
  meta["namespace"] = r.ns;
  meta["labels"][api::kLabelRevision] = revision;
  // The hooks travel with the revision: a rollback runs the onRollback hooks
  // of the revision being left, whatever spec.hooks says by then.
  if (!r.spec.hooks.empty()) meta["annotations"][api::kAnnotationHooks] = api::hooksToJson(r.spec.hooks).dump();
  json tmpl = r.spec.template_;
  if (!tmpl.contains("metadata") || !tmpl["metadata"].is_object()) tmpl["metadata"] = json::object();
  json& pod_labels = tmpl["metadata"]["labels"];
  if (!pod_labels.is_object()) pod_labels = json::object();
  pod_labels[api::kLabelName] = r.name;
  pod_labels[api::kLabelRelease] = r.name;
  pod_labels[api::kLabelColor] = api::toString(c);
  pod_labels[api::kLabelRevision] = revision;
  return json{{"apiVersion", "apps/v1"},
              {"kind", "Deployment"},
              {"metadata", meta},
              {"spec",
               {{"replicas", replicas},
                {"selector",
                 {{"matchLabels",
                   {{api::kLabelRelease, r.name}, {api::kLabelColor, api::toString(c)}}}}},
                {"template", tmpl}}}};
}

json desiredService(const api::Release& r, Color c) {
  json meta = ownedMeta(r, c);
  meta["name"] = r.name + "-" + api::toString(c);
  meta["namespace"] = r.ns;
  return json{{"apiVersion", "v1"},
              {"kind", "Service"},
              {"metadata", meta},
              {"spec",
               {{"selector", {{api::kLabelRelease, r.name}, {api::kLabelColor, api::toString(c)}}},
                {"ports",
                 json::array({{{"name", kServicePortName},
                               {"port", r.spec.service_port},
                               {"targetPort", r.spec.service_target_port},
                               {"protocol", "TCP"}}})}}}};
}

json desiredBudget(const api::Release& r, Color c) {
  json meta = ownedMeta(r, c);
  meta["name"] = r.name + "-" + api::toString(c);
  meta["namespace"] = r.ns;
  json spec{{"selector",
             {{"matchLabels", {{api::kLabelRelease, r.name}, {api::kLabelColor, api::toString(c)}}}}},
            // An unready pod serves nothing: it may always be evicted, or a
            // color whose pods never became ready would block node drains.
            {"unhealthyPodEvictionPolicy", "AlwaysAllow"}};
  const api::DisruptionBudget& b = *r.spec.pod_disruption_budget;
  if (!b.min_available.is_null()) spec["minAvailable"] = b.min_available;
  if (!b.max_unavailable.is_null()) spec["maxUnavailable"] = b.max_unavailable;
  return json{{"apiVersion", "policy/v1"}, {"kind", "PodDisruptionBudget"}, {"metadata", meta}, {"spec", spec}};
}

std::string colorSelector(const api::Release& r, Color c) {
  return std::string(api::kLabelRelease) + "=" + r.name + "," + api::kLabelColor + "=" + api::toString(c);
}

namespace {

using Seconds = std::chrono::seconds;

// Gate clocks keep milliseconds: rounding to seconds would either shorten a
// gate or delay every switch by up to a second.
std::string stamp(core::WallTime t) { return core::formatRfc3339Millis(t); }

struct Verdict {
  Stage stage = Stage::kStable;
  std::string message;
  bool ready = false;
  std::string ready_reason;
  bool reconciling = false;
  std::string reconciling_reason;
  bool stalled = false;
  std::string stalled_reason;
  bool preview_ready = false;
  std::string preview_reason = "NoPreview";
  std::string preview_message = "no release in flight";
};

class Planner {
 public:
  explicit Planner(const Observed& o)
      : o_(o), r_(o.release()), spec_(r_.spec), now_(stamp(o.now)),
        cond_now_(core::formatRfc3339(o.now)) {
    p_.status = r_.status;
    p_.status.observed_generation = r_.generation;
    if (spec_.template_.is_object()) revision_ = api::revisionOf(spec_.template_);
  }

  Plan run();

 private:
  const DeploymentView& dep(Color c) const { return o_.deployment(c); }
  api::Status& st() { return p_.status; }
  const api::Status& st() const { return p_.status; }

  void event(const char* type, const char* reason, std::string message) {
    p_.events.push_back({type, reason, std::move(message)});
  }
  void act(Action::Kind kind, const core::Gvr& gvr, const std::string& name, json body,
           std::string why) {
    p_.actions.push_back({kind, gvr, r_.ns, name, std::move(body), std::move(why)});
  }
  void wakeAt(const std::string& rfc3339, Seconds offset = Seconds(0)) {
    auto t = core::parseRfc3339(rfc3339);
    if (!t) return;
    auto at = *t + offset;
    auto after = std::chrono::ceil<std::chrono::milliseconds>(at - o_.now);
    if (after < std::chrono::milliseconds(10)) after = std::chrono::milliseconds(10);
    if (!p_.requeue_after || after < *p_.requeue_after) p_.requeue_after = after;
  }
  bool reached(const std::string& rfc3339, int seconds) const {
    auto t = core::parseRfc3339(rfc3339);
    return t && o_.now >= *t + Seconds(seconds);
  }

  std::string conflictingObject() const;
  // Needs `want` applied over `live`? Reports a foreign edit of an object
  // whose spec is ours (drift) with a Warning Event.
  bool outdated(const ObjectPtr& live, const json& want, bool exact_spec);
  void adoptSwitchFromRoute(Color active);
  Plan routeMissing();
  Plan tcpBlocked(const tcp::Blocker& b);
  void removeUnwantedTcpRoute();
  void ensureTcpRoute(Color http_color);
  void fillColors();
  void ensureServices();
  void ensureBudgets();
  void scaleStatus(Color live);
  void ensureDeploymentAt(Color c, int32_t replicas, const char* why);
  void scaleTo(Color c, int32_t replicas, const char* why);
  void ensureRoutes(std::optional<Color> main_color, const std::string& switch_record = "");
  void switchTo(Color to, std::optional<Color> from, const char* reason, const std::string& revision = "");

  // Hooks (docs/database.md).
  enum class HookState { kDone, kWaiting, kFailed };
  struct HookResult {
    HookState state = HookState::kDone;
    std::string message;
    std::string job;
  };
  // Runs `hooks` in order: creates the first Job not yet created, waits for
  // it, goes on when it succeeded; reports the first failure.
  HookResult runHooks(api::HookKind kind, const std::vector<api::Hook>& hooks, const HookContext& ctx);
  // The onRollback hooks owed by the last switch, if it went back to an older
  // revision: those of the revision it left, with that revision's image.
  std::optional<HookResult> rollbackHooks(Color active);
  api::HookStatus* hookEntry(const std::string& job);
  // A failed preSwitch/postSwitch hook of `revision` no later run made good: its message.
  std::string hookFailure(const std::string& revision) const;
  // An irreversible hook of `revision` that succeeded: its name.
  std::string irreversibleDone(const std::string& revision) const;
  bool olderRevision(const std::string& revision, const std::string& live) const;
  std::optional<std::pair<std::string, std::string>> irreversibleOnTheWay(const std::string& target) const;
  std::set<std::string> keptRevisions() const;
  void pruneHooks();
  void hookVerdict(Verdict& v, const HookResult& res, const std::string& note);
  void refuseRollback(Verdict& v, const std::string& left, const std::string& hook, const std::string& what);
  bool gate(Color c, int32_t want, bool warm_rollback);
  void settle(Color active);
  bool confirmTraffic(Color active);
  void inFlight(Color active);
  void initial();
  void finish(Verdict v);
  // Failed and Stalled for `reason`: nothing is written but status, and a
  // Warning Event only when the release was not already failed this way.
  Plan refuse(const char* reason, std::string message);

  const Observed& o_;
  const api::Release& r_;
  const api::Spec& spec_;
  const std::string now_;
  const std::string cond_now_;  // condition times: whole seconds, as Kubernetes writes them
  std::string revision_;
  Plan p_;
  traefik::RouteTarget target_;
  std::string route_problem_;  // existing route missing / no such match
  std::optional<Color> switched_to_;  // the color this plan switches the main route to
};

std::string Planner::conflictingObject() const {
  for (Color c : {Color::kBlue, Color::kGreen}) {
    const std::string name = r_.name + "-" + api::toString(c);
    if (dep(c).exists() && !dep(c).owned) return "Deployment " + name;
    if (o_.service(c).exists() && !o_.service(c).owned) return "Service " + name;
    if (spec_.pod_disruption_budget && o_.budget(c).exists() && !o_.budget(c).owned) {
      return "PodDisruptionBudget " + name;
    }
  }
  if (!spec_.existing_route && o_.main_route.exists() && !o_.main_route.owned) {
    return "IngressRoute " + traefik::mainRouteName(r_);
  }
  if (o_.preview_route.exists() && !o_.preview_route.owned) {
    return "IngressRoute " + traefik::previewRouteName(r_);
  }
  return "";
}

void Planner::fillColors() {
  for (Color c : {Color::kBlue, Color::kGreen}) {
    std::optional<api::ColorStatus>& out = c == Color::kBlue ? st().blue : st().green;
    const DeploymentView& d = dep(c);
    if (!d.exists()) {
      out.reset();
      continue;
    }
    out = api::ColorStatus{d.revision,        d.spec_replicas, d.ready_replicas,
                           d.available_replicas, o_.service(c).ready_endpoints, d.image};
  }
}

void Planner::ensureServices() {
  for (Color c : {Color::kBlue, Color::kGreen}) {
    json want = withAppliedHash(desiredService(r_, c));
    const ServiceView& s = o_.service(c);
    if (outdated(s.object, want, false)) {
      act(Action::Kind::kApply, kServices, want["metadata"]["name"], want,
          std::string(s.exists() ? "update" : "create") + " Service for " + api::toString(c));
    }
  }
}

// One PodDisruptionBudget per color while the spec asks for one; owned ones
// are deleted when it no longer does (uid precondition: only ours).
void Planner::ensureBudgets() {
  for (Color c : {Color::kBlue, Color::kGreen}) {
    const BudgetView& b = o_.budget(c);
    const std::string name = r_.name + "-" + api::toString(c);
    if (!spec_.pod_disruption_budget) {
      if (b.exists() && b.owned) {
        act(Action::Kind::kDelete, kPodDisruptionBudgets, name,
            json{{"uid", b.object->value("/metadata/uid"_json_pointer, std::string())}},
            "delete PodDisruptionBudget of " + std::string(api::toString(c)) +
                ": spec.podDisruptionBudget was removed");
      }
      continue;
    }
    json want = withAppliedHash(desiredBudget(r_, c));
    if (outdated(b.object, want, false)) {
      act(Action::Kind::kApply, kPodDisruptionBudgets, name, want,
          std::string(b.exists() ? "update" : "create") + " PodDisruptionBudget for " + api::toString(c));
    }
  }
}

// What the scale subresource serves (status.replicas, status.selector): the
// live color, so an HPA measures the pods that take the traffic.
void Planner::scaleStatus(Color live) {
  st().replicas = dep(live).replicas;
  st().selector = colorSelector(r_, live);
}

// Server-side apply of the current template to a color: only for a color that
// runs (or is to run) the desired revision, since we hold only that template.
void Planner::ensureDeploymentAt(Color c, int32_t replicas, const char* why) {
  json want = withAppliedHash(desiredDeployment(r_, c, replicas));
  const DeploymentView& d = dep(c);
  if (!outdated(d.object, want, false)) return;
  act(Action::Kind::kApply, kDeployments, want["metadata"]["name"], want,
      std::string(why) + ": revision " + revision_ + " on " + api::toString(c) + " at " +
          std::to_string(replicas) + " replicas");
}

// Changes only spec.replicas: the color keeps whatever template it runs.
void Planner::scaleTo(Color c, int32_t replicas, const char* why) {
  const DeploymentView& d = dep(c);
  if (!d.exists() || d.spec_replicas == replicas) return;
  act(Action::Kind::kMergePatch, kDeployments, r_.name + "-" + api::toString(c),
      json{{"spec", {{"replicas", replicas}}}},
      std::string(why) + ": scale " + api::toString(c) + " from " +
          std::to_string(d.spec_replicas) + " to " + std::to_string(replicas));
}

void Planner::ensureRoutes(std::optional<Color> main_color, const std::string& switch_record) {
  if (!spec_.existing_route && main_color) {
    json meta = ownedMeta(r_, std::nullopt);
    // Not switching: keep the record of the last switch the route carries.
    std::string record = switch_record;
    if (record.empty() && o_.main_route.exists()) {
      if (auto rec = traefik::readSwitchRecord(*o_.main_route.object)) record = traefik::switchRecord(*rec);
    }
    if (!record.empty()) meta["annotations"][traefik::kAnnotationSwitch] = record;
    json want = withAppliedHash(traefik::managedMainRoute(r_, *main_color, meta));
    if (outdated(o_.main_route.object, want, true)) {
      act(Action::Kind::kApply, kIngressRoutes, want["metadata"]["name"], want,
          "route " + spec_.host + " to " + api::toString(*main_color));
    }
  }
  if (!spec_.preview_host_blue.empty() || !spec_.preview_host_green.empty()) {
    json want = withAppliedHash(traefik::managedPreviewRoute(r_, ownedMeta(r_, std::nullopt)));
    if (outdated(o_.preview_route.object, want, true)) {
      act(Action::Kind::kApply, kIngressRoutes, want["metadata"]["name"], want,
          "preview routes for blue and green");
    }
  }
}

void Planner::switchTo(Color to, std::optional<Color> from, const char* reason, const std::string& rev) {
  const std::string& revision = rev.empty() ? revision_ : rev;
  const std::string what = traefik::mainMatch(r_);
  const std::string from_s = from ? api::toString(*from) : "";
  // The cache may not show our own switch yet; never record the same switch twice.
  const bool recorded = !st().history.empty() && st().history.front().to == api::toString(to) &&
                        st().history.front().revision == revision &&
                        st().history.front().from == from_s;
  const api::HistoryEntry entry =
      recorded ? st().history.front() : api::HistoryEntry{from_s, api::toString(to), revision, now_, reason};
  const std::string record = traefik::switchRecord(entry);
  if (spec_.existing_route) {
    auto patch = traefik::switchPatch(*o_.main_route.object, r_, to, record);
    if (!patch) return;  // the route has no such match: reported by routeMissing()
    act(Action::Kind::kJsonPatch, kIngressRoutes, spec_.existing_route->name, *patch,
        "switch " + what + " to " + api::toString(to));
    ensureRoutes(std::nullopt);
  } else {
    ensureRoutes(to, record);
  }
  p_.switched = true;
  switched_to_ = to;
  if (!recorded) {
    st().history.insert(st().history.begin(), entry);
    if (st().history.size() > api::kMaxHistory) st().history.resize(api::kMaxHistory);
    st().last_switch_time = now_;
    st().traffic_confirmed_time.clear();
    st().scale_down_at.clear();  // set once Traefik serves the new color
    std::string msg = "switched " + what + " from " +
                      (from ? api::toString(*from) : target_.description.empty()
                                                          ? std::string("nothing")
                                                          : target_.description) +
                      " to " + api::toString(to) + " (revision " + revision + ")";
    const std::string why = reason;
    event(why == "HookRollback" ? "Warning" : "Normal",
          why == "Rollback" || why == "HookRollback" ? "RolledBack" : "Switched", msg);
  }
}

// Promotion gate: the Deployment caught up and the Service lists every replica
// as a ready endpoint, continuously for readyForSeconds. A warm rollback target
// (it served until the last switch and never scaled down) passes at once.
bool Planner::gate(Color c, int32_t want, bool warm_rollback) {
  const DeploymentView& d = dep(c);
  const bool healthy = d.caughtUp(want) && o_.service(c).ready_endpoints >= want;
  if (!healthy) {
    st().promotable_since.clear();
    return false;
  }
  if (st().promotable_since.empty()) st().promotable_since = now_;
  // Traefik must list servers for the color's preview router: endpoints it
  // cannot use would pass every other gate. Not a reason to restart the clock
  // (Traefik lags the endpoints by its provider throttle), only to wait.
  // The same for the color's database when the TCP route follows: a switch
  // that would have to name a database without ready endpoints waits whole.
  const bool db_ready = tcp::switchHold(o_, c).empty();
  const bool servable = (!o_.preview_servable.has_value() || *o_.preview_servable) && db_ready;
  if (warm_rollback && servable) return true;
  if (reached(st().promotable_since, spec_.ready_for_seconds)) {
    if (servable) return true;
    wakeAt(now_, Seconds(db_ready ? 1 : 2));  // database Services are read, not watched
    return false;
  }
  wakeAt(st().promotable_since, Seconds(spec_.ready_for_seconds));
  return false;
}

api::HookStatus* Planner::hookEntry(const std::string& job) {
  for (auto& e : st().hooks) {
    if (e.job == job) return &e;
  }
  return nullptr;
}

Planner::HookResult Planner::runHooks(api::HookKind kind, const std::vector<api::Hook>& hooks,
                                      const HookContext& ctx) {
  const std::string kind_s = api::toString(kind);
  for (const api::Hook& h : hooks) {
    std::string job = hookJobName(r_.name, ctx.revision, kind, h.name, 0);
    auto phaseOf = [&](const std::string& name) -> std::string {
      if (auto it = o_.jobs.find(name); it != o_.jobs.end() && it->second.owned) {
        return it->second.phase == JobView::Phase::kFailed      ? "Failed"
               : it->second.phase == JobView::Phase::kSucceeded ? "Succeeded"
                                                                : "Running";
      }
      const api::HookStatus* e = hookEntry(name);
      return e ? e->phase : "";
    };
    // A promote request for the revision retries a failed hook once, as a
    // second Job: a Job name is never reused, so nothing runs twice by accident.
    if (kind != api::HookKind::kOnRollback && r_.promote_request == ctx.revision && phaseOf(job) == "Failed") {
      job = hookJobName(r_.name, ctx.revision, kind, h.name, 1);
    }
    const std::string what = kind_s + " hook " + h.name + " (Job " + job + ")";
    api::HookStatus* e = hookEntry(job);
    const std::string before = e ? e->phase : "";
    if (!e) {
      st().hooks.insert(st().hooks.begin(),
                        api::HookStatus{h.name, kind_s, ctx.revision, job, "Running", now_, "", "", h.irreversible});
      e = &st().hooks.front();
    }
    auto it = o_.jobs.find(job);
    if (it == o_.jobs.end()) {
      if (before == "Succeeded" || before == "Failed") {
        // Finished and since deleted: what status recorded stands; never run again.
      } else {
        act(Action::Kind::kCreate, kJobs, job, withAppliedHash(desiredJob(r_, kind, h, ctx, job)),
            "run " + what + " for revision " + ctx.revision);
        if (before.empty()) {
          event("Normal", "HookStarted", "started " + what + " for revision " + ctx.revision);
        }
        e->phase = "Running";
      }
    } else if (!it->second.owned) {
      e->phase = "Failed";
      e->message = "Job " + job + " exists but is not owned by BlueGreenRelease " + r_.name +
                   "; the operator never runs a hook under a foreign Job: delete that Job";
      if (e->finish_time.empty()) e->finish_time = now_;
    } else {
      const JobView& j = it->second;
      if (!j.start_time.empty() && before.empty()) e->start_time = j.start_time;
      if (j.phase == JobView::Phase::kSucceeded) {
        e->phase = "Succeeded";
        e->finish_time = j.finish_time.empty() ? now_ : j.finish_time;
        e->message.clear();
      } else if (j.phase == JobView::Phase::kFailed) {
        e->phase = "Failed";
        e->finish_time = j.finish_time.empty() ? now_ : j.finish_time;
        // Keep a message read with the pods; a later read may find them gone.
        if (e->message.empty() || before != "Failed") e->message = j.failure;
      } else {
        e->phase = "Running";
      }
    }
    if (e->phase == "Running") return {HookState::kWaiting, "running " + what, job};
    if (e->phase == "Failed") {
      std::string msg = what + " failed for revision " + ctx.revision + ": " + e->message;
      if (before != "Failed") event("Warning", "HookFailed", msg);
      return {HookState::kFailed, msg, job};
    }
    if (before != "Succeeded") event("Normal", "HookSucceeded", what + " succeeded for revision " + ctx.revision);
  }
  return {};
}

std::string Planner::hookFailure(const std::string& revision) const {
  for (const auto& e : st().hooks) {
    if (e.revision != revision || e.phase != "Failed" || e.kind == api::toString(api::HookKind::kOnRollback)) {
      continue;
    }
    bool made_good = false;
    for (const auto& o : st().hooks) {
      made_good = made_good || (o.revision == revision && o.kind == e.kind && o.name == e.name && o.phase == "Succeeded");
    }
    if (!made_good) return e.kind + " hook " + e.name + " (Job " + e.job + ") failed for revision " + revision + ": " + e.message;
  }
  return "";
}

std::string Planner::irreversibleDone(const std::string& revision) const {
  for (const auto& e : st().hooks) {
    if (e.revision == revision && e.irreversible && e.phase == "Succeeded") return e.name;
  }
  return "";
}

// Going to `revision` is a rollback when it was first switched to before the
// live revision was (history is newest first: a larger last index is older).
// Going forward again to a revision that was rolled back from is no rollback.
bool Planner::olderRevision(const std::string& revision, const std::string& live) const {
  const auto& h = r_.status.history;
  std::optional<std::size_t> first_target, first_live;
  for (std::size_t i = 0; i < h.size(); ++i) {
    if (h[i].revision == revision) first_target = i;
    if (h[i].revision == live) first_live = i;
  }
  return first_target && first_live && *first_target > *first_live;
}

// Irreversible hooks between the live revision and `target` (going back in
// history): the first revision whose hook succeeded and that no override
// annotation names, with the hook.
std::optional<std::pair<std::string, std::string>> Planner::irreversibleOnTheWay(const std::string& target) const {
  for (const auto& e : r_.status.history) {
    if (e.revision == target) break;
    const std::string hook = irreversibleDone(e.revision);
    if (!hook.empty() && r_.allow_rollback_request != e.revision) return std::pair{e.revision, hook};
  }
  return std::nullopt;
}

std::optional<Planner::HookResult> Planner::rollbackHooks(Color active) {
  const auto& h = st().history;
  if (h.size() < 2 || h[0].to != api::toString(active) || (h[0].reason != "Rollback" && h[0].reason != "HookRollback")) {
    return std::nullopt;
  }
  auto left = api::parseColor(h[0].from);
  if (!left) return std::nullopt;
  const DeploymentView& d = dep(*left);
  // The color left must still hold the revision it served (it keeps its
  // template until a new release is deployed into it).
  if (!d.exists() || d.revision != h[1].revision || h[1].to != h[0].from) return std::nullopt;
  if (d.hooks.on_rollback.empty()) return std::nullopt;
  HookResult res = runHooks(api::HookKind::kOnRollback, d.hooks.on_rollback,
                            HookContext{*left, d.revision, h[0].revision, d.image});
  // The person looked at the database and says it is fine to go on.
  if (res.state == HookState::kFailed && !r_.acknowledge_request.empty() && r_.acknowledge_request == res.job) {
    return HookResult{};
  }
  if (res.state == HookState::kFailed) {
    res.message += "; traffic stays on " + std::string(api::toString(active)) +
                   "; the database state is unknown: no new release starts until you check it and run kubectl annotate bgr " +
                   r_.name + " " + api::kAnnotationAcknowledge + "=" + res.job + " --overwrite";
  }
  return res;
}

void Planner::hookVerdict(Verdict& v, const HookResult& res, const std::string& note) {
  if (res.state == HookState::kWaiting) {
    v.stage = Stage::kRunningHook;
    v.reconciling = true;
    v.reconciling_reason = "RunningHook";
    v.ready_reason = "RunningHook";
    v.stalled = false;
    v.message = res.message + note;
  } else if (res.state == HookState::kFailed) {
    v.stage = Stage::kFailed;
    v.reconciling = false;
    v.stalled = true;
    v.stalled_reason = "HookFailed";
    v.ready_reason = "HookFailed";
    v.message = res.message + note;
  }
}

void Planner::refuseRollback(Verdict& v, const std::string& left, const std::string& hook, const std::string& what) {
  v.stage = Stage::kFailed;
  v.reconciling = false;
  v.stalled = true;
  v.stalled_reason = "RollbackRefused";
  v.ready_reason = "RollbackRefused";
  v.message = what + " refused: the irreversible hook " + hook + " of revision " + left +
              " succeeded, so the older revision may not find the data it needs; traffic stays on revision " + left +
              "; to go back anyway: kubectl annotate bgr " + r_.name + " " + api::kAnnotationAllowRollback + "=" + left +
              " --overwrite";
  if (r_.status.message != v.message) event("Warning", "RollbackRefused", v.message);
}

std::set<std::string> Planner::keptRevisions() const {
  std::set<std::string> keep{revision_, dep(Color::kBlue).revision, dep(Color::kGreen).revision};
  std::size_t distinct = 0;
  std::set<std::string> seen;
  for (const auto& h : st().history) {
    if (seen.insert(h.revision).second && ++distinct > kKeepHookRevisions) break;
    keep.insert(h.revision);
  }
  keep.erase("");
  return keep;
}

// Finished Jobs of revisions no longer kept go (their pods with them), and
// status keeps at most kMaxHookStatus runs, never dropping a kept revision's.
void Planner::pruneHooks() {
  const std::set<std::string> keep = keptRevisions();
  for (const auto& [name, j] : o_.jobs) {
    if (!j.owned || !j.finished() || keep.count(j.revision)) continue;
    act(Action::Kind::kDelete, kJobs, name,
        json{{"uid", j.object->value("/metadata/uid"_json_pointer, std::string())}, {"propagationPolicy", "Background"}},
        "delete finished hook Job of revision " + j.revision + " (hooks are kept for the last " +
            std::to_string(kKeepHookRevisions) + " revisions)");
  }
  auto& hs = st().hooks;
  for (std::size_t i = hs.size(); i-- > 0 && hs.size() > api::kMaxHookStatus;) {
    if (!keep.count(hs[i].revision)) hs.erase(hs.begin() + static_cast<std::ptrdiff_t>(i));
  }
}

void Planner::initial() {
  // No color serves the main route yet: bring one up, then route to it.
  Color target = (dep(Color::kGreen).revision == revision_ && dep(Color::kBlue).revision != revision_)
                     ? Color::kGreen
                     : Color::kBlue;
  Color idle = api::other(target);
  if (st().preview_revision != revision_ || st().release_start_time.empty()) {
    st().release_start_time = now_;
    st().promotable_since.clear();
  }
  st().preview_color = api::toString(target);
  st().preview_revision = revision_;
  ensureServices();
  ensureBudgets();
  scaleStatus(target);
  ensureDeploymentAt(target, spec_.replicas, "deploy");
  if (!dep(idle).exists()) ensureDeploymentAt(idle, spec_.standby_replicas, "create standby");
  if (dep(target).revision != revision_) {
    event("Normal", "Deploying",
          "deploying revision " + revision_ + " to " + api::toString(target) + " at " +
              std::to_string(spec_.replicas) + " replicas");
  }
  Verdict v;
  v.reconciling = true;
  v.reconciling_reason = "Initializing";
  v.ready_reason = "Initializing";
  v.stage = Stage::kInitializing;
  const bool promotable = dep(target).revision == revision_ && gate(target, spec_.replicas, false);
  // The route served this release before and someone sent it elsewhere: with
  // manual promotion, only the revision last switched to may be put back
  // without a promote request.
  const auto& h = st().history;
  const bool needs_request = !spec_.auto_promote && !h.empty() && h.front().revision != revision_ &&
                             r_.promote_request != revision_;
  if (promotable && needs_request) {
    v.stage = Stage::kAwaitingPromotion;
    v.reconciling_reason = "AwaitingPromotion";
    v.message = traefik::mainMatch(r_) + " goes to " + target_.description +
                ", not to this release; revision " + revision_ + " on " + api::toString(target) +
                " is promotable; to route it there: kubectl annotate bgr " + r_.name + " " +
                api::kAnnotationPromote + "=" + revision_ + " --overwrite";
  } else if (promotable) {
    const HookResult pre = runHooks(api::HookKind::kPreSwitch, spec_.hooks.pre_switch,
                                    HookContext{target, revision_, "", dep(target).image});
    if (pre.state == HookState::kDone) {
      switchTo(target, std::nullopt, "Initial");
      v.stage = Stage::kSwitching;
      v.message = "routing " + traefik::mainMatch(r_) + " to " + api::toString(target);
    } else {
      hookVerdict(v, pre, "; " + traefik::mainMatch(r_) + " is routed to " + api::toString(target) +
                              " once the preSwitch hooks succeeded");
    }
  } else if (reached(st().release_start_time, spec_.progress_deadline_seconds) && !promotable) {
    v.stage = Stage::kFailed;
    v.stalled = true;
    v.stalled_reason = "ProgressDeadlineExceeded";
    v.reconciling = false;
    v.message = api::toString(target) + std::string(" did not become ready within ") +
                std::to_string(spec_.progress_deadline_seconds) + "s";
  } else {
    v.message = "waiting for " + std::string(api::toString(target)) + " to become ready (" +
                std::to_string(dep(target).ready_replicas) + "/" +
                std::to_string(spec_.replicas) + " ready)" +
                (tcp::switchHold(o_, target).empty() ? "" : "; " + tcp::switchHold(o_, target));
    wakeAt(st().release_start_time, Seconds(spec_.progress_deadline_seconds));
  }
  st().active_color.clear();
  st().active_revision.clear();
  finish(v);
}

// After a switch away from a color, that color keeps serving until Traefik
// serves the new one (confirmed through its API, or a safety margin when none
// is configured), then stays warm for delaySeconds more for an instant rollback.
bool Planner::confirmTraffic(Color active) {
  if (!st().traffic_confirmed_time.empty()) return true;
  if (o_.route_live.has_value()) {
    if (*o_.route_live) {
      st().traffic_confirmed_time = now_;
      event("Normal", "TrafficConfirmed",
            "Traefik serves " + traefik::mainMatch(r_) + " from " + api::toString(active) + " only");
      return true;
    }
    // A Traefik API that never confirms must not keep the old color forever.
    const int give_up = std::max(60, 12 * o_.confirm_margin_seconds);
    if (reached(st().last_switch_time, give_up)) {
      st().traffic_confirmed_time = now_;
      event("Warning", "TrafficNotConfirmed",
            "Traefik's API did not confirm the switch to " + std::string(api::toString(active)) +
                " within " + std::to_string(give_up) + "s (" + o_.route_live_problem +
                "); proceeding as if it had");
      return true;
    }
    wakeAt(now_, Seconds(1));
    return false;
  }
  if (reached(st().last_switch_time, o_.confirm_margin_seconds)) {
    st().traffic_confirmed_time =
        stamp(*core::parseRfc3339(st().last_switch_time) + Seconds(o_.confirm_margin_seconds));
    return true;
  }
  wakeAt(st().last_switch_time, Seconds(o_.confirm_margin_seconds));
  return false;
}

void Planner::settle(Color active) {
  const Color idle = api::other(active);
  const auto& h = st().history;
  const bool switched_away = !h.empty() && h.front().to == api::toString(active) &&
                             h.front().from == api::toString(idle);
  const bool confirmed = !switched_away || confirmTraffic(active);
  // drainSeconds: established database connections stay on the old backend.
  const int32_t delay = spec_.scale_down_delay_seconds + tcp::drainSeconds(spec_);
  if (switched_away && confirmed && st().scale_down_at.empty()) {
    st().scale_down_at = stamp(*core::parseRfc3339(st().traffic_confirmed_time) + Seconds(delay));
  }
  // Hooks after a switch: the onRollback hooks of a revision traffic left, or
  // the postSwitch hooks of the one it went to (the old color stays at full
  // size until they succeeded; a failure switches back at once).
  std::optional<HookResult> hook;
  std::string hook_note;
  bool hold_warm = false;
  if (auto rb = rollbackHooks(active)) {
    if (rb->state != HookState::kDone) hook = rb;
  } else if (switched_away && confirmed && h.front().revision == revision_ && h.front().reason != "Rollback" &&
             h.front().reason != "HookRollback" && !spec_.hooks.post_switch.empty()) {
    HookResult post = runHooks(api::HookKind::kPostSwitch, spec_.hooks.post_switch,
                               HookContext{active, revision_, dep(idle).revision, dep(active).image});
    if (post.state == HookState::kWaiting) {
      hold_warm = true;
      hook_note = "; " + std::string(api::toString(idle)) + " stays at full size until it succeeded";
      hook = post;
    } else if (post.state == HookState::kFailed) {
      hold_warm = true;
      const std::string irreversible = irreversibleDone(revision_);
      if (!irreversible.empty() && r_.allow_rollback_request != revision_) {
        post.message += "; switching back to " + std::string(api::toString(idle)) + " refused: the irreversible hook " +
                        irreversible + " of revision " + revision_ +
                        " succeeded; traffic stays on " + api::toString(active) + "; to switch back anyway: kubectl annotate bgr " +
                        r_.name + " " + api::kAnnotationAllowRollback + "=" + revision_ + " --overwrite";
        if (r_.status.message != post.message) event("Warning", "RollbackRefused", post.message);
      } else if (dep(idle).exists() && !dep(idle).revision.empty()) {
        switchTo(idle, active, "HookRollback", dep(idle).revision);
        post.message += "; traffic switched back to " + std::string(api::toString(idle)) + " (revision " +
                        dep(idle).revision + ")";
      }
      hook = post;
    }
  }
  const bool warm = hold_warm || (switched_away && (!confirmed || !reached(st().traffic_confirmed_time, delay)));
  // Until the warm window ends the release is still in flight: neither color
  // shrinks (the new one keeps the size the old one had, the old one stays a
  // full-size rollback target). Then spec.replicas rules, down included.
  const int32_t live_want = warm ? releaseSize(spec_, dep(active)) : spec_.replicas;
  ensureDeploymentAt(active, live_want, "keep live");
  const int32_t idle_want = warm ? live_want : spec_.standby_replicas;
  if (!dep(idle).exists()) {
    ensureDeploymentAt(idle, spec_.standby_replicas, "create standby");
  } else if (dep(idle).spec_replicas != idle_want) {
    scaleTo(idle, idle_want, warm ? "keep warm for rollback" : "scale down after delay");
    if (!warm && idle_want < dep(idle).spec_replicas) {
      event("Normal", "ScaledDown",
            std::string(api::toString(idle)) + " scaled to " + std::to_string(idle_want) +
                " standby replicas");
    }
  }
  st().preview_color.clear();
  st().preview_revision.clear();
  st().promotable_since.clear();
  st().release_start_time.clear();
  if (!warm) st().scale_down_at.clear();

  Verdict v;
  if (!dep(active).caughtUp(live_want) && live_want > 0) {
    v.stage = Stage::kDeploying;
    v.reconciling = true;
    v.reconciling_reason = "Scaling";
    v.ready_reason = "Scaling";
    v.message = std::string(api::toString(active)) + " has " +
                std::to_string(dep(active).available_replicas) + "/" +
                std::to_string(live_want) + " available replicas";
  } else if (warm && !confirmed) {
    v.stage = Stage::kSwitching;
    v.reconciling = true;
    v.reconciling_reason = "ConfirmingTraffic";
    v.ready_reason = "ConfirmingTraffic";
    v.message = "waiting for Traefik to serve " + traefik::mainMatch(r_) + " from " +
                api::toString(active) +
                (o_.route_live_problem.empty() ? "" : ": " + o_.route_live_problem);
  } else if (warm) {
    v.stage = Stage::kDraining;
    v.reconciling = true;
    v.reconciling_reason = "Draining";
    v.ready_reason = "Draining";
    v.message = std::string(api::toString(idle)) + " stays warm for rollback until " +
                st().scale_down_at;
    wakeAt(st().traffic_confirmed_time, Seconds(delay));
  } else if (!p_.actions.empty()) {
    v.stage = Stage::kStable;
    v.reconciling = true;
    v.reconciling_reason = "Converging";
    v.ready_reason = "Converging";
    v.message = "applying " + std::to_string(p_.actions.size()) + " change(s)";
  } else {
    v.stage = Stage::kStable;
    v.ready = true;
    v.ready_reason = "Stable";
    v.message = std::string(api::toString(active)) + " serves revision " + revision_ + " at " +
                std::to_string(spec_.replicas) + " replicas";
  }
  if (hook) hookVerdict(v, *hook, hook_note);
  finish(v);
}

void Planner::inFlight(Color active) {
  const Color preview = api::other(active);
  const bool fresh = st().preview_revision != revision_ || st().release_start_time.empty();
  const std::string old_stage = st().stage;
  if (fresh) {
    st().release_start_time = now_;
    st().promotable_since.clear();
  }
  st().preview_color = api::toString(preview);
  st().preview_revision = revision_;
  // Both colors run at the live color's current size or spec.replicas, the
  // larger: scaling up grows both at once, scaling down waits for the switch.
  const int32_t size = releaseSize(spec_, dep(active));
  scaleTo(active, size, "keep live");

  Verdict v;
  v.reconciling = true;
  v.ready_reason = "ReleaseInProgress";

  // Traffic went back to this color: the down step of the revision it left
  // comes first, and a failed one blocks every new release until acknowledged.
  if (auto rb = rollbackHooks(active); rb && rb->state != HookState::kDone) {
    hookVerdict(v, *rb, rb->state == HookState::kWaiting
                            ? "; traffic is back on " + std::string(api::toString(active)) + "; revision " + revision_ +
                                  " waits for it"
                            : "");
    finish(v);
    return;
  }

  if (r_.abort_request == revision_) {
    scaleTo(preview, spec_.standby_replicas, "abort");
    st().promotable_since.clear();
    v.stage = Stage::kAborted;
    v.reconciling = false;
    v.stalled = true;
    v.stalled_reason = "Aborted";
    v.ready_reason = "Aborted";
    v.message = "release of revision " + revision_ + " aborted; traffic stays on " +
                api::toString(active) + "; change spec.template or remove the " +
                api::kAnnotationAbort + " annotation to try again";
    if (old_stage != api::toString(Stage::kAborted)) event("Normal", "Aborted", v.message);
    finish(v);
    return;
  }

  // A rollback returns to the revision the preview color served before the last
  // switch (history[1]). That the color runs revision_ now is not enough: it
  // does right after we deployed a new revision there too.
  const auto& h = st().history;
  const bool rollback = h.size() >= 2 && h[0].from == api::toString(preview) &&
                        h[0].to == api::toString(active) && h[1].to == api::toString(preview) &&
                        h[1].revision == revision_ && dep(preview).revision == revision_;
  bool promotable = false;
  if (!dep(preview).exists() || dep(preview).revision != revision_) {
    ensureDeploymentAt(preview, size, "deploy");
    event("Normal", "Deploying",
          "deploying revision " + revision_ + " to " + api::toString(preview) + " at " +
              std::to_string(size) + " replicas");
    st().promotable_since.clear();
  } else {
    const bool warm = rollback && dep(preview).spec_replicas == size;
    ensureDeploymentAt(preview, size, rollback ? "rollback" : "deploy");
    promotable = gate(preview, size, warm);
  }

  const bool promote_requested = r_.promote_request == revision_;
  // A revision that missed its deadline stays failed; one a hook failed or a
  // refused rollback stopped is judged by its hooks below instead.
  const api::Condition* stalled_before = r_.status.condition(api::kCondStalled);
  const bool hook_stall = stalled_before && stalled_before->status == "True" &&
                          (stalled_before->reason == "HookFailed" || stalled_before->reason == "RollbackRefused");
  const bool was_failed = old_stage == api::toString(Stage::kFailed) && !fresh && !hook_stall;
  // Back to a revision that served before the live one: its preSwitch hooks
  // ran when it was first released; the live one's onRollback runs after.
  const bool back = olderRevision(revision_, dep(active).revision);
  const std::string hook_failure = hookFailure(revision_);
  const auto irreversible = back ? irreversibleOnTheWay(revision_) : std::nullopt;
  const bool deadline = reached(st().release_start_time, spec_.progress_deadline_seconds);
  v.preview_ready = promotable;
  v.preview_reason = promotable ? "Promotable" : "NotReady";
  v.preview_message = std::string(api::toString(preview)) + " " +
                      std::to_string(dep(preview).ready_replicas) + "/" +
                      std::to_string(size) + " ready, " +
                      std::to_string(o_.service(preview).ready_endpoints) + " ready endpoints" +
                      (o_.preview_servable == false ? "; " + o_.preview_servable_problem : "") +
                      (tcp::switchHold(o_, preview).empty() ? "" : "; " + tcp::switchHold(o_, preview));

  if (!hook_failure.empty() && !promote_requested) {
    v.stage = Stage::kFailed;
    v.reconciling = false;
    v.stalled = true;
    v.stalled_reason = "HookFailed";
    v.ready_reason = "HookFailed";
    v.message = hook_failure + "; traffic stays on " + api::toString(active) + ", " + api::toString(preview) +
                " is kept for inspection; to retry the hook: kubectl annotate bgr " + r_.name + " " +
                api::kAnnotationPromote + "=" + revision_ + " --overwrite, or change spec.template";
  } else if (irreversible) {
    refuseRollback(v, irreversible->first, irreversible->second,
                   "rollback from revision " + dep(active).revision + " to " + revision_);
  } else if ((was_failed || (deadline && !promotable)) && !promote_requested) {
    v.stage = Stage::kFailed;
    v.reconciling = false;
    v.stalled = true;
    v.stalled_reason = "ProgressDeadlineExceeded";
    v.ready_reason = "ReleaseFailed";
    v.message = "revision " + revision_ + " on " + api::toString(preview) +
                " was not promotable within " + std::to_string(spec_.progress_deadline_seconds) +
                "s; traffic stays on " + api::toString(active) + "; " + v.preview_message;
    if (old_stage != api::toString(Stage::kFailed)) event("Warning", "Failed", v.message);
  } else if (promotable && (spec_.auto_promote || promote_requested)) {
    const HookResult pre = back ? HookResult{}
                                : runHooks(api::HookKind::kPreSwitch, spec_.hooks.pre_switch,
                                           HookContext{preview, revision_, dep(active).revision, dep(preview).image});
    if (pre.state == HookState::kDone) {
      switchTo(preview, active, back ? "Rollback" : "Promoted");
      v.stage = Stage::kSwitching;
      v.message = "switching " + traefik::mainMatch(r_) + " to " + api::toString(preview);
    } else {
      hookVerdict(v, pre, pre.state == HookState::kWaiting
                              ? "; traffic stays on " + std::string(api::toString(active)) + " until the preSwitch hooks succeeded"
                              : "; traffic stays on " + std::string(api::toString(active)) + ", " +
                                    api::toString(preview) + " is kept for inspection; to retry the hook: kubectl annotate bgr " +
                                    r_.name + " " + api::kAnnotationPromote + "=" + revision_ +
                                    " --overwrite, or change spec.template");
    }
  } else if (promotable) {
    v.stage = Stage::kAwaitingPromotion;
    v.reconciling_reason = "AwaitingPromotion";
    v.message = "revision " + revision_ + " on " + api::toString(preview) +
                " is promotable; to switch: kubectl annotate bgr " + r_.name + " " +
                api::kAnnotationPromote + "=" + revision_ + " --overwrite";
    if (old_stage != api::toString(Stage::kAwaitingPromotion)) {
      event("Normal", "Promotable", v.message);
    }
  } else {
    v.stage = st().promotable_since.empty() ? Stage::kDeploying : Stage::kVerifying;
    v.message = v.preview_message;
    wakeAt(st().release_start_time, Seconds(spec_.progress_deadline_seconds));
  }
  if (v.reconciling && v.reconciling_reason.empty()) v.reconciling_reason = "ReleaseInProgress";
  finish(v);
}

void setCondition(std::vector<api::Condition>& conds, const std::string& type, bool value,
                  const std::string& reason, const std::string& message, int64_t generation,
                  const std::string& now) {
  const std::string status = value ? "True" : "False";
  for (auto& c : conds) {
    if (c.type != type) continue;
    if (c.status != status) c.last_transition_time = now;
    c.status = status;
    c.reason = reason;
    c.message = message;
    c.observed_generation = generation;
    return;
  }
  conds.push_back({type, status, generation, now, reason, message});
}

void Planner::finish(Verdict v) {
  st().stage = api::toString(v.stage);
  st().message = v.message;
  auto& c = st().conditions;
  const int64_t g = r_.generation;
  setCondition(c, api::kCondReady, v.ready, v.ready ? "Stable" : v.ready_reason,
               v.ready ? v.message : "not ready: " + v.message, g, cond_now_);
  setCondition(c, api::kCondReconciling, v.reconciling,
               v.reconciling ? v.reconciling_reason : "Idle", v.reconciling ? v.message : "", g,
               cond_now_);
  setCondition(c, api::kCondStalled, v.stalled, v.stalled ? v.stalled_reason : "None",
               v.stalled ? v.message : "", g, cond_now_);
  setCondition(c, api::kCondPreviewReady, v.preview_ready, v.preview_reason, v.preview_message, g,
               cond_now_);
  if (!spec_.hooks.empty() || !st().hooks.empty()) {
    const bool hook_failed = v.stalled && (v.stalled_reason == "HookFailed" || v.stalled_reason == "RollbackRefused");
    const bool running = v.stage == Stage::kRunningHook;
    setCondition(c, api::kCondHooksSucceeded, !hook_failed && !running,
                 hook_failed ? v.stalled_reason : running ? "Running" : "Succeeded",
                 hook_failed || running ? v.message : "every hook that ran succeeded", g, cond_now_);
  }
  const bool on_current = !st().active_revision.empty() && st().active_revision == revision_;
  setCondition(c, api::kCondTrafficSwitched, on_current || p_.switched,
               on_current ? "OnCurrentRevision" : p_.switched ? "Switched" : "OnPreviousRevision",
               st().active_color.empty() ? "no color serves the main route yet"
                                         : traefik::mainMatch(r_) + " -> " + st().active_color,
               g, cond_now_);
}

Plan Planner::refuse(const char* reason, std::string message) {
  Verdict v;
  v.stage = Stage::kFailed;
  v.stalled = true;
  v.stalled_reason = reason;
  v.ready_reason = reason;
  v.message = std::move(message);
  if (r_.status.stage != api::toString(Stage::kFailed) || r_.status.message != v.message) {
    event("Warning", reason, v.message);
  }
  finish(v);
  return std::move(p_);
}

bool Planner::outdated(const ObjectPtr& live, const json& want, bool exact_spec) {
  if (!live) return true;
  const Freshness f = freshness(*live, want, exact_spec);
  if (f.state == Freshness::State::kDrifted) {
    event("Warning", "DriftCorrected",
          want.value("kind", "") + " " + want["metadata"].value("name", "") + " was changed outside the operator (" +
              f.field + "); restored what BlueGreenRelease " + r_.name +
              " declares: change the release instead (spec.routing.middlewares, spec.template, ...)");
  }
  return f.state != Freshness::State::kUpToDate;
}

// The route carries a record of the switch that produced it. One newer than
// status's history means the status write after that switch failed: the
// switch happened, so it gets its confirmation and warm window like any other.
void Planner::adoptSwitchFromRoute(Color active) {
  auto rec = traefik::readSwitchRecord(*o_.main_route.object);
  if (!rec || rec->to != api::toString(active)) return;
  auto& h = st().history;
  if (!h.empty()) {
    const auto& f = h.front();
    if (f.to == rec->to && f.from == rec->from && f.revision == rec->revision) return;
    auto front_t = core::parseRfc3339(f.time), rec_t = core::parseRfc3339(rec->time);
    if (!rec_t || (front_t && *rec_t <= *front_t)) return;  // the route is older news than status
  }
  h.insert(h.begin(), *rec);
  if (h.size() > api::kMaxHistory) h.resize(api::kMaxHistory);
  st().last_switch_time = rec->time;
  st().traffic_confirmed_time.clear();
  st().scale_down_at.clear();
  event("Warning", "SwitchRecovered",
        "the main route shows a switch " + (rec->from.empty() ? std::string() : "from " + rec->from + " ") + "to " +
            rec->to + " (revision " + rec->revision + ") at " + rec->time +
            " that status had not recorded (its write failed); it is confirmed and kept warm like any switch");
}

// An existing route that is missing (or lacks the match) gets nothing: no
// pods for a version nothing can reach, nothing half-applied. What runs
// already is left as it is.
Plan Planner::routeMissing() {
  Verdict v;
  v.stage = Stage::kInitializing;
  v.stalled = true;
  v.stalled_reason = "RouteNotFound";
  v.ready_reason = "RouteNotFound";
  const bool deployed = dep(Color::kBlue).exists() || dep(Color::kGreen).exists();
  v.message = route_problem_ + (deployed ? "; blue and green are left as they are until it exists"
                                         : "; nothing is deployed until it exists");
  if (r_.status.message != v.message) event("Warning", "RouteNotFound", v.message);
  finish(v);
  return std::move(p_);
}

// spec.routing.tcp names something that does not exist (a backend Service,
// the user's IngressRouteTCP): nothing is written, nothing half-switched.
Plan Planner::tcpBlocked(const tcp::Blocker& b) {
  if (b.reason == "NameConflict") return refuse("NameConflict", b.message);
  Verdict v;
  v.stage = Stage::kInitializing;
  v.stalled = true;
  v.stalled_reason = b.reason;
  v.ready_reason = b.reason;
  v.message = b.message;
  if (r_.status.message != v.message) event("Warning", b.reason.c_str(), v.message);
  finish(v);
  // Database Services are read per reconcile, not watched: look again.
  wakeAt(now_, Seconds(5));
  return std::move(p_);
}

// The operator's own <name>-tcp once the spec no longer asks for it: left in
// place it would keep routing the entry point (beside a user's route named
// instead, two routes for one HostSNI). A user's route is never deleted.
void Planner::removeUnwantedTcpRoute() {
  const RouteView& rt = o_.unwanted_tcp_route;
  if (!rt.exists() || !rt.owned) return;
  const std::string name = traefik::ownedTcpRouteName(r_);
  const std::string why = spec_.tcp ? "spec.routing.tcp.existingIngressRouteTCP names " + spec_.tcp->existing
                                    : std::string("spec.routing.tcp was removed");
  act(Action::Kind::kDelete, core::gvrs::kIngressRouteTcps, name,
      json{{"uid", rt.object->value("/metadata/uid"_json_pointer, std::string())}},
      "delete database route " + name + ": " + why);
  event("Normal", "DatabaseRouteRemoved",
        "IngressRouteTCP " + name + " deleted: " + why + "; established connections stay open until a peer "
        "closes them");
}

void Planner::ensureTcpRoute(Color http_color) {
  tcp::Step step = tcp::plan(o_, http_color, now_, r_.status.tcp_route);
  for (auto& a : step.actions) p_.actions.push_back(std::move(a));
  for (auto& e : step.events) p_.events.push_back(std::move(e));
  st().tcp_route = step.status;
  if (step.waiting.empty()) return;
  st().message += "; " + step.waiting;
  if (st().stage == api::toString(Stage::kStable)) {
    setCondition(st().conditions, api::kCondReady, false, "DatabaseRouteWaiting", "not ready: " + st().message,
                 r_.generation, cond_now_);
  }
  wakeAt(now_, Seconds(2));
}

Plan Planner::run() {
  fillColors();
  if (!o_.parsed.errors.empty()) {
    return refuse("InvalidSpec", "invalid spec: " + o_.parsed.errorSummary() + "; nothing was changed");
  }
  if (std::string conflict = conflictingObject(); !conflict.empty()) {
    return refuse("NameConflict",
                  conflict + " exists but is not owned by BlueGreenRelease " + r_.name +
                      "; the operator never takes over objects it did not create: rename the release "
                      "or remove that object");
  }
  if (!o_.route_claimed_by.empty()) {
    return refuse("RouteConflict",
                  "spec.routing.existingIngressRoute: the route " + spec_.existing_route->match + " of IngressRoute " +
                      spec_.existing_route->name + " is already switched by BlueGreenRelease " +
                      o_.route_claimed_by +
                      "; two releases must not switch one route: point this release at another route or match, "
                      "or delete the other release; nothing was changed");
  }
  if (o_.rejected) {
    return refuse("Rejected", "the API server rejected " + *o_.rejected +
                                  "; traffic is unchanged: correct spec.template and apply it again");
  }

  const std::string match = traefik::mainMatch(r_);
  if (o_.main_route.exists()) target_ = traefik::readTarget(*o_.main_route.object, match, r_);
  if (spec_.existing_route) {
    if (!o_.main_route.exists()) {
      route_problem_ = "spec.routing.existingIngressRoute.name: IngressRoute " +
                       spec_.existing_route->name + " not found in namespace " + r_.ns;
    } else if (!target_.route_found) {
      route_problem_ = "spec.routing.existingIngressRoute.match: IngressRoute " +
                       spec_.existing_route->name + " has no route with match " + match;
    }
  }
  std::optional<Color> active = target_.color;
  st().active_color = active ? api::toString(*active) : "";
  st().active_revision = active ? dep(*active).revision : "";
  if (active) {
    adoptSwitchFromRoute(*active);
    scaleStatus(*active);
  }
  st().tcp_route = tcp::observedStatus(o_, r_.status.tcp_route);

  if (spec_.paused) {
    Verdict v;
    v.stage = Stage::kPaused;
    v.ready = active && dep(*active).revision == revision_ && dep(*active).caughtUp(spec_.replicas);
    v.ready_reason = "Paused";
    v.message = "paused: observing only; set spec.paused=false to resume";
    finish(v);
    return std::move(p_);
  }
  if (!route_problem_.empty()) return routeMissing();
  if (auto b = tcp::blocker(o_)) return tcpBlocked(*b);

  if (!active) {
    initial();
  } else {
    ensureServices();
    ensureBudgets();
    ensureRoutes(*active);
    if (dep(*active).revision == revision_) settle(*active);
    else inFlight(*active);
  }
  // Last: the database route follows the main route as this plan leaves it.
  if (spec_.tcp && (switched_to_ || active)) ensureTcpRoute(switched_to_ ? *switched_to_ : *active);
  removeUnwantedTcpRoute();
  pruneHooks();
  return std::move(p_);
}

}  // namespace

Plan plan(const Observed& observed) { return Planner(observed).run(); }

}  // namespace bgo::bluegreen
