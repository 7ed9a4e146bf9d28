#include "operator/testing/fake_kube_client.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <utility>

#include "operator/testing/label_selector.h"

namespace bgo::testing {

using core::Error;
using core::ErrorCode;
using core::Gvr;
using core::fail;
using kube::PatchType;
using kube::WatchEvent;

const char* toString(Verb v) {
  switch (v) {
    case Verb::kGet: return "get";
    case Verb::kList: return "list";
    case Verb::kCreate: return "create";
    case Verb::kReplace: return "replace";
    case Verb::kPatch: return "patch";
    case Verb::kDelete: return "delete";
    case Verb::kWatch: return "watch";
  }
  return "?";
}

namespace {

// ---------- resource facts ----------

// Groups served by kube-apiserver itself; anything else is a custom resource.
bool isCustom(const Gvr& g) {
  if (g.group.empty()) return false;
  static const std::set<std::string> kBuiltin = {"apps", "batch", "autoscaling", "policy"};
  if (kBuiltin.count(g.group)) return false;
  const std::string suffix = ".k8s.io";
  return !(g.group.size() > suffix.size() &&
           g.group.compare(g.group.size() - suffix.size(), suffix.size(), suffix) == 0);
}

// Built-in resources whose strategy maintains metadata.generation. Custom
// resources always do. ConfigMaps, Secrets, Services, ... have no generation.
bool tracksGeneration(const Gvr& g) {
  if (isCustom(g)) return true;
  static const std::set<std::string> kTracked = {
      "deployments", "replicasets", "statefulsets", "daemonsets", "jobs", "cronjobs",
      "ingresses", "networkpolicies", "poddisruptionbudgets", "horizontalpodautoscalers",
      "customresourcedefinitions"};
  return kTracked.count(g.resource) > 0;
}

// Built-in resources with a /status subresource. Custom resources are assumed
// to enable it, except Traefik's CRDs, which define none.
bool defaultHasStatus(const Gvr& g) {
  if (isCustom(g)) return g.group != "traefik.io" && g.group != "traefik.containo.us";
  static const std::set<std::string> kWithStatus = {
      "deployments", "replicasets", "statefulsets", "daemonsets", "jobs", "cronjobs", "pods",
      "services", "namespaces", "nodes", "persistentvolumeclaims", "persistentvolumes",
      "ingresses", "poddisruptionbudgets", "horizontalpodautoscalers",
      "customresourcedefinitions", "replicationcontrollers", "resourcequotas",
      "certificatesigningrequests", "apiservices"};
  return kWithStatus.count(g.resource) > 0;
}

std::string guessKind(const Gvr& g) {
  static const std::map<std::string, std::string> kKinds = {
      {"configmaps", "ConfigMap"}, {"secrets", "Secret"}, {"services", "Service"},
      {"deployments", "Deployment"}, {"replicasets", "ReplicaSet"}, {"pods", "Pod"},
      {"namespaces", "Namespace"}, {"events", "Event"}, {"endpointslices", "EndpointSlice"},
      {"endpoints", "Endpoints"}, {"leases", "Lease"}, {"ingressroutes", "IngressRoute"}, {"ingressroutetcps", "IngressRouteTCP"},
      {"traefikservices", "TraefikService"}, {"middlewares", "Middleware"},
      {"bluegreenreleases", "BlueGreenRelease"}, {"serviceaccounts", "ServiceAccount"},
      {"customresourcedefinitions", "CustomResourceDefinition"},
      {"statefulsets", "StatefulSet"}, {"daemonsets", "DaemonSet"}, {"nodes", "Node"}};
  if (auto it = kKinds.find(g.resource); it != kKinds.end()) return it->second;
  std::string s = g.resource;
  if (s.size() > 3 && s.compare(s.size() - 3, 3, "ies") == 0) s = s.substr(0, s.size() - 3) + "y";
  else if (!s.empty() && s.back() == 's') s.pop_back();
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

std::string gvrId(const Gvr& g) { return g.resource + "." + g.group; }
// "deployments.apps" / "configmaps", as the server names resources in messages.
std::string resourceLabel(const Gvr& g) { return g.group.empty() ? g.resource : g.resource + "." + g.group; }
std::string storeKey(const std::string& ns, const std::string& name) { return ns.empty() ? name : ns + "/" + name; }

json& meta(json& o) {
  auto it = o.find("metadata");
  if (it == o.end() || !it->is_object()) o["metadata"] = json::object();
  return o["metadata"];
}
std::string metaStr(const json& o, const char* field) {
  if (!o.is_object()) return "";
  auto m = o.find("metadata");
  if (m == o.end() || !m->is_object()) return "";
  auto f = m->find(field);
  return f != m->end() && f->is_string() ? f->get<std::string>() : "";
}
bool hasFinalizers(const json& o) {
  const json& m = o.value("metadata", json::object());
  auto f = m.find("finalizers");
  return f != m.end() && f->is_array() && !f->empty();
}

// Everything but metadata and status: what generation tracks.
json specPart(const json& o) {
  json s = o;
  s.erase("metadata");
  s.erase("status");
  s.erase("apiVersion");
  s.erase("kind");
  return s;
}

Error notFound(const Gvr& g, const std::string& name) {
  return Error::make(ErrorCode::kNotFound, resourceLabel(g) + " \"" + name + "\" not found", 404);
}
Error conflictModified(const Gvr& g, const std::string& name) {
  return Error::make(ErrorCode::kConflict,
                     "Operation cannot be fulfilled on " + resourceLabel(g) + " \"" + name +
                         "\": the object has been modified; please apply your changes to the latest "
                         "version and try again",
                     409);
}
Error badRequest(std::string msg) { return Error::make(ErrorCode::kBadRequest, std::move(msg), 400); }
Error invalid(std::string msg) { return Error::make(ErrorCode::kInvalid, std::move(msg), 422); }

// The API server's rules for a Job's finishing conditions (the Job controller
// sets the interim condition first): a test that fakes the controller must
// write what the controller writes, or it passes here and fails on a plane.
std::optional<Error> jobStatusError(const std::string& name, const json& status) {
  auto isTrue = [&](const char* type) {
    for (const auto& c : status.value("conditions", json::array())) {
      if (c.is_object() && c.value("type", "") == type && c.value("status", "") == "True") return true;
    }
    return false;
  };
  const std::string head = "Job.batch \"" + name + "\" is invalid: ";
  if (isTrue("Complete") && !isTrue("SuccessCriteriaMet")) {
    return invalid(head + "status.conditions: Invalid value: cannot set Complete=True condition without the SuccessCriteriaMet=true condition");
  }
  if (isTrue("Failed") && !isTrue("FailureTarget")) {
    return invalid(head + "status.conditions: Invalid value: cannot set Failed=True condition without the FailureTarget=true condition");
  }
  if (isTrue("Complete") && !status.contains("completionTime")) {
    return invalid(head + "status.completionTime: Required value: completionTime is required for Complete jobs");
  }
  if ((isTrue("Complete") || isTrue("Failed")) && !status.contains("startTime")) {
    return invalid(head + "status.startTime: Required value: startTime is required for finished job");
  }
  return std::nullopt;
}
Error expired(std::string msg) { return Error::make(ErrorCode::kGone, std::move(msg), 410); }

json statusObject(const Error& e, const std::string& reason) {
  return json{{"kind", "Status"},   {"apiVersion", "v1"},  {"metadata", json::object()},
              {"status", "Failure"}, {"message", e.message}, {"reason", reason},
              {"code", e.http_status}};
}

std::optional<int64_t> parseRv(const std::string& s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

// Apply: objects merge recursively, anything else replaces; null is ignored.
void applyMerge(json& target, const json& applied) {
  for (const auto& [k, v] : applied.items()) {
    if (v.is_null()) continue;
    if (v.is_object() && target.contains(k) && target[k].is_object()) {
      applyMerge(target[k], v);
    } else {
      target[k] = v;
    }
  }
}

// Field selectors: only metadata.name and metadata.namespace, as every resource supports.
struct FieldSelector {
  struct Req {
    std::string field;
    bool negate = false;
    std::string value;
  };
  std::vector<Req> reqs;

  static core::Result<FieldSelector> parse(const std::string& text) {
    FieldSelector fs;
    size_t start = 0;
    while (start <= text.size() && !text.empty()) {
      size_t comma = text.find(',', start);
      std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      Req r;
      size_t op = part.find("!=");
      if (op != std::string::npos) {
        r.negate = true;
        r.field = part.substr(0, op);
        r.value = part.substr(op + 2);
      } else if ((op = part.find("==")) != std::string::npos) {
        r.field = part.substr(0, op);
        r.value = part.substr(op + 2);
      } else if ((op = part.find('=')) != std::string::npos) {
        r.field = part.substr(0, op);
        r.value = part.substr(op + 1);
      } else {
        return fail(badRequest("invalid field selector: \"" + part + "\""));
      }
      if (r.field != "metadata.name" && r.field != "metadata.namespace") {
        return fail(badRequest("field label not supported: " + r.field));
      }
      fs.reqs.push_back(std::move(r));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return fs;
  }

  bool matches(const json& o) const {
    for (const auto& r : reqs) {
      std::string actual = metaStr(o, r.field == "metadata.name" ? "name" : "namespace");
      if ((actual == r.value) == r.negate) return false;
    }
    return true;
  }
};

struct Watcher {
  std::string gvr_id;
  std::string ns;
  LabelSelector labels;
  FieldSelector fields;
  bool bookmarks = false;
  bool has_deadline = false;
  core::SteadyTime deadline;
  std::deque<WatchEvent> queue;
  bool cancelled = false;
  bool ended = false;  // after the queue drains, next() -> nullopt
  std::optional<Error> failure;
  std::condition_variable cv;

  bool inScope(const std::string& id, const json& obj) const {
    return id == gvr_id && (ns.empty() || metaStr(obj, "namespace") == ns);
  }
  bool matches(const json& obj) const { return labels.matchesObject(obj) && fields.matches(obj); }
};

struct HistEvent {
  int64_t rv = 0;
  std::string gvr_id;
  std::string key;
  WatchEvent::Type type = WatchEvent::Type::kAdded;
  json object;          // the state after the event (for deletes: the last state, new rv)
  json prev;            // the state before (null for creations)
};

}  // namespace

// ---------- shared state ----------

struct FakeKubeClient::State {
  struct Fault {
    Verb verb;
    std::optional<Gvr> gvr;
    Error error;
    int count;
  };

  core::Clock* clock = nullptr;
  std::unique_ptr<core::Clock> owned_clock;
  FakeOptions opts;
  mutable std::mutex mu;
  int64_t rv = 1000;
  int64_t compacted_rv = 1000;  // history holds every event with rv > compacted_rv
  std::map<std::string, std::map<std::string, json>> objects;  // gvr_id -> "ns/name" -> object
  std::map<std::string, Gvr> gvrs;
  std::map<std::string, std::string> kinds;
  std::map<std::string, bool> status_override;
  std::deque<HistEvent> history;
  std::vector<std::shared_ptr<Watcher>> watchers;
  std::vector<WriteRecord> writes;
  std::map<Verb, size_t> calls;
  std::vector<Fault> faults;
  FaultHook hook;
  int force_gone = 0;
  std::mt19937_64 rng{std::random_device{}()};

  bool hasStatus(const Gvr& g) const {
    if (auto it = status_override.find(gvrId(g)); it != status_override.end()) return it->second;
    return defaultHasStatus(g);
  }
  std::string kindOf(const Gvr& g) const {
    if (auto it = kinds.find(gvrId(g)); it != kinds.end()) return it->second;
    return guessKind(g);
  }
  std::string newUid() {
    static const char* kHex = "0123456789abcdef";
    std::string u;
    for (int i = 0; i < 32; ++i) {
      int d = static_cast<int>(rng() % 16);
      if (i == 12) d = 4;
      if (i == 16) d = 8 + d % 4;
      u.push_back(kHex[d]);
      if (i == 7 || i == 11 || i == 15 || i == 19) u.push_back('-');
    }
    return u;
  }
  std::string randomSuffix() {
    static const char* kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
    std::string s;
    for (int i = 0; i < 5; ++i) s.push_back(kAlphabet[rng() % 27]);
    return s;
  }

  // Fault check: the first matching queued fault, else the hook (called unlocked).
  std::optional<Error> fault(const Call& call) {
    FaultHook h;
    {
      std::lock_guard lock(mu);
      ++calls[call.verb];
      for (auto it = faults.begin(); it != faults.end(); ++it) {
        if (it->verb == call.verb && (!it->gvr || *it->gvr == call.gvr)) {
          Error e = it->error;
          if (--it->count <= 0) faults.erase(it);
          return e;
        }
      }
      h = hook;
    }
    if (h) return h(call);
    return std::nullopt;
  }

  void record(WriteRecord r) {
    std::lock_guard lock(mu);
    writes.push_back(std::move(r));
  }

  // One create, replace or patch request: the fault check, then `op` on the
  // store with mu held, then the write log entry, whatever the outcome. `op`
  // may fill in rec.changed (and rec.name for a generated name).
  template <typename Op>
  core::Result<json> write(WriteRecord rec, Op op) {
    if (auto e = fault(Call{rec.verb, rec.gvr, rec.ns, rec.name, rec.subresource})) {
      rec.error = e->code;
      record(std::move(rec));
      return fail(*e);
    }
    std::lock_guard lock(mu);
    core::Result<json> r = op(rec);
    if (r) rec.resource_version = metaStr(*r, "resourceVersion");
    else rec.error = r.error().code;
    writes.push_back(std::move(rec));
    return r;
  }

  // ----- watch plumbing (mu held) -----

  std::optional<WatchEvent> convert(const Watcher& w, const HistEvent& ev) const {
    if (!w.inScope(ev.gvr_id, ev.type == WatchEvent::Type::kDeleted ? ev.prev : ev.object)) return std::nullopt;
    bool cur = ev.type != WatchEvent::Type::kDeleted && w.matches(ev.object);
    bool old = !ev.prev.is_null() && w.matches(ev.prev);
    if (cur && !old) return WatchEvent{WatchEvent::Type::kAdded, ev.object};
    if (cur && old) return WatchEvent{WatchEvent::Type::kModified, ev.object};
    if (!cur && old) {
      // As the watch cache does: the previous content with the event's resourceVersion.
      json o = ev.prev;
      meta(o)["resourceVersion"] = std::to_string(ev.rv);
      return WatchEvent{WatchEvent::Type::kDeleted, std::move(o)};
    }
    return std::nullopt;
  }

  void emit(HistEvent ev) {
    for (auto& w : watchers) {
      if (auto we = convert(*w, ev)) {
        w->queue.push_back(std::move(*we));
        w->cv.notify_all();
      }
    }
    history.push_back(std::move(ev));
    while (history.size() > opts.event_history) {
      compacted_rv = history.front().rv;
      history.pop_front();
    }
  }

  void detach(const std::shared_ptr<Watcher>& w) {
    watchers.erase(std::remove(watchers.begin(), watchers.end(), w), watchers.end());
  }

  // ----- writes (mu held) -----

  std::string nextRv() { return std::to_string(++rv); }

  // Stores `res` replacing `old` (or deletes it when its finalizers are gone
  // during deletion). `res` already has server-owned fields restored.
  json commit(const Gvr& g, const std::string& key, const json& old, json res) {
    std::string id = gvrId(g);
    std::string newrv = nextRv();
    meta(res)["resourceVersion"] = newrv;
    if (!metaStr(res, "deletionTimestamp").empty() && !hasFinalizers(res)) {
      objects[id].erase(key);
      emit(HistEvent{rv, id, key, WatchEvent::Type::kDeleted, res, old});
      return res;
    }
    objects[id][key] = res;
    emit(HistEvent{rv, id, key, WatchEvent::Type::kModified, res, old});
    return res;
  }

  core::Result<json> doCreate(const Gvr& g, const std::string& ns, const json& body, bool dry_run) {
    if (!body.is_object()) return fail(badRequest("the body of the request was not a JSON object"));
    json obj = body;
    json& m = meta(obj);
    std::string name = m.value("name", "");
    if (name.empty()) {
      std::string gen = m.value("generateName", "");
      if (gen.empty()) return fail(invalid(resourceLabel(g) + " is invalid: metadata.name: Required value: name or generateName is required"));
      name = gen + randomSuffix();
      m["name"] = name;
    }
    if (g.namespaced) {
      if (ns.empty()) return fail(badRequest("a namespace is required to create " + resourceLabel(g)));
      std::string body_ns = m.value("namespace", "");
      if (!body_ns.empty() && body_ns != ns) {
        return fail(badRequest("the namespace of the provided object does not match the namespace sent on the request"));
      }
      m["namespace"] = ns;
      if (opts.require_namespaces && !objects[gvrId(core::gvrs::kNamespaces)].count(ns)) {
        return fail(Error::make(ErrorCode::kNotFound, "namespaces \"" + ns + "\" not found", 404));
      }
    } else {
      m.erase("namespace");
    }
    if (!m.value("resourceVersion", "").empty()) {
      // The real server fails this in storage, as an internal error.
      return fail(Error::make(ErrorCode::kInternal, "resourceVersion should not be set on objects to be created", 500));
    }
    std::string api = obj.value("apiVersion", "");
    if (!api.empty() && api != g.apiVersion()) {
      return fail(badRequest("the API version in the data (" + api + ") does not match the expected API version (" + g.apiVersion() + ")"));
    }
    obj["apiVersion"] = g.apiVersion();
    if (obj.value("kind", "").empty()) obj["kind"] = kindOf(g);
    std::string id = gvrId(g);
    std::string key = storeKey(g.namespaced ? ns : "", name);
    if (objects[id].count(key)) {
      return fail(Error::make(ErrorCode::kAlreadyExists, resourceLabel(g) + " \"" + name + "\" already exists", 409));
    }
    m["uid"] = newUid();
    m["creationTimestamp"] = core::formatRfc3339(clock->wallNow());
    m.erase("deletionTimestamp");
    m.erase("deletionGracePeriodSeconds");
    if (tracksGeneration(g)) m["generation"] = 1;
    else m.erase("generation");
    if (hasStatus(g)) obj.erase("status");
    if (dry_run) return obj;
    kinds.emplace(id, obj["kind"].get<std::string>());
    gvrs.emplace(id, g);
    m["resourceVersion"] = nextRv();
    objects[id][key] = obj;
    emit(HistEvent{rv, id, key, WatchEvent::Type::kAdded, obj, json()});
    return obj;
  }

  // Turns a client's full desired object into the stored one and commits it.
  core::Result<json> doUpdate(const Gvr& g, const std::string& key, const json& old, const json& cand,
                              const std::string& sub, bool dry_run, bool& changed) {
    json res;
    if (sub == "status") {
      res = old;
      if (cand.contains("status")) res["status"] = cand["status"];
      else res.erase("status");
      if (g.group == "batch" && g.resource == "jobs") {
        if (auto e = jobStatusError(metaStr(old, "name"), res.value("status", json::object()))) return fail(*e);
      }
    } else {
      res = cand;
      if (hasStatus(g)) {
        if (old.contains("status")) res["status"] = old["status"];
        else res.erase("status");
      }
      json& m = meta(res);
      const json& om = old.at("metadata");
      for (const char* f : {"uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                            "namespace", "generation", "resourceVersion"}) {
        if (om.contains(f)) m[f] = om[f];
        else m.erase(f);
      }
      res["apiVersion"] = old.value("apiVersion", g.apiVersion());
      res["kind"] = old.value("kind", kindOf(g));
      if (tracksGeneration(g) && specPart(res) != specPart(old)) {
        m["generation"] = om.value("generation", 0) + 1;
      }
      if (!metaStr(old, "deletionTimestamp").empty() && m.contains("finalizers") && om.contains("finalizers")) {
        // Finalizers may only be removed while deleting.
        for (const auto& f : m["finalizers"]) {
          const json& of = om["finalizers"];
          if (std::find(of.begin(), of.end(), f) == of.end()) {
            return fail(Error::make(ErrorCode::kForbidden, "no new finalizers can be added if the object is being deleted", 403));
          }
        }
      }
    }
    if (res == old) return old;  // no change: no write, no new resourceVersion
    if (dry_run) return res;
    changed = true;
    return commit(g, key, old, std::move(res));
  }

  // Deletes (mu held); finalizers turn it into setting deletionTimestamp.
  void doDelete(const Gvr& g, const std::string& key, const json& old, bool& changed) {
    std::string id = gvrId(g);
    changed = true;
    if (hasFinalizers(old)) {
      if (!metaStr(old, "deletionTimestamp").empty()) {
        changed = false;
        return;
      }
      json res = old;
      json& m = meta(res);
      m["deletionTimestamp"] = core::formatRfc3339(clock->wallNow());
      m["deletionGracePeriodSeconds"] = 0;
      if (tracksGeneration(g)) m["generation"] = m.value("generation", 0) + 1;
      commit(g, key, old, std::move(res));
      return;
    }
    json res = old;
    meta(res)["resourceVersion"] = nextRv();
    objects[id].erase(key);
    emit(HistEvent{rv, id, key, WatchEvent::Type::kDeleted, res, old});
    if (g == core::gvrs::kNamespaces || (g.resource == "namespaces" && g.group.empty())) {
      // The namespace controller's work, done at once.
      std::string ns = metaStr(old, "name");
      for (auto& [gid, objs] : objects) {
        if (gid == id) continue;
        for (auto it = objs.begin(); it != objs.end();) {
          if (metaStr(it->second, "namespace") == ns) {
            json before = it->second;
            json gone = before;
            std::string k = it->first;
            meta(gone)["resourceVersion"] = nextRv();
            it = objs.erase(it);
            emit(HistEvent{rv, gid, k, WatchEvent::Type::kDeleted, std::move(gone), std::move(before)});
          } else {
            ++it;
          }
        }
      }
    }
  }
};

namespace {

class FakeWatchStream final : public kube::WatchStream {
 public:
  FakeWatchStream(std::shared_ptr<FakeKubeClient::State> st, std::shared_ptr<Watcher> w)
      : st_(std::move(st)), w_(std::move(w)) {}
  ~FakeWatchStream() override {
    std::lock_guard lock(st_->mu);
    st_->detach(w_);
  }

  kube::Result<std::optional<WatchEvent>> next() override {
    std::unique_lock lock(st_->mu);
    for (;;) {
      if (w_->cancelled) return fail(ErrorCode::kCancelled, "watch cancelled");
      if (!w_->queue.empty()) {
        WatchEvent ev = std::move(w_->queue.front());
        w_->queue.pop_front();
        return std::optional<WatchEvent>(std::move(ev));
      }
      if (w_->failure) return fail(*w_->failure);
      if (w_->ended) return std::optional<WatchEvent>();
      if (w_->has_deadline && st_->clock->now() >= w_->deadline) {
        w_->ended = true;
        st_->detach(w_);
        continue;
      }
      // Bounded waits so a timeoutSeconds on a manual clock is noticed.
      w_->cv.wait_for(lock, std::chrono::milliseconds(20));
    }
  }

  void cancel() override {
    std::lock_guard lock(st_->mu);
    w_->cancelled = true;
    st_->detach(w_);
    w_->cv.notify_all();
  }

 private:
  std::shared_ptr<FakeKubeClient::State> st_;
  std::shared_ptr<Watcher> w_;
};

}  // namespace

// ---------- FakeKubeClient ----------

FakeKubeClient::FakeKubeClient() : FakeKubeClient(FakeOptions{}) {}

FakeKubeClient::FakeKubeClient(FakeOptions options) : state_(std::make_shared<State>()) {
  state_->owned_clock = std::make_unique<core::SystemClock>();
  state_->clock = state_->owned_clock.get();
  state_->opts = options;
}

FakeKubeClient::FakeKubeClient(core::Clock& clock, FakeOptions options) : state_(std::make_shared<State>()) {
  state_->clock = &clock;
  state_->opts = options;
}

FakeKubeClient::~FakeKubeClient() {
  // Streams may outlive us; end them so nobody blocks on a dead server.
  std::lock_guard lock(state_->mu);
  for (auto& w : state_->watchers) {
    w->failure = Error::make(ErrorCode::kUnavailable, "fake API server shut down", 503);
    w->cv.notify_all();
  }
  state_->watchers.clear();
}

kube::Result<json> FakeKubeClient::get(const Gvr& gvr, const std::string& ns, const std::string& name,
                                       const std::string& subresource) {
  if (auto e = state_->fault(Call{Verb::kGet, gvr, ns, name, subresource})) return fail(*e);
  std::lock_guard lock(state_->mu);
  if (!subresource.empty() && (subresource != "status" || !state_->hasStatus(gvr))) {
    return fail(Error::make(ErrorCode::kNotFound, "the server could not find the requested resource", 404));
  }
  auto& objs = state_->objects[gvrId(gvr)];
  auto it = objs.find(storeKey(gvr.namespaced ? ns : "", name));
  if (it == objs.end()) return fail(notFound(gvr, name));
  return it->second;
}

kube::Result<json> FakeKubeClient::list(const Gvr& gvr, const std::string& ns, const kube::ListOptions& opts) {
  if (auto e = state_->fault(Call{Verb::kList, gvr, ns, "", ""})) return fail(*e);
  auto labels = LabelSelector::parse(opts.label_selector);
  if (!labels) return fail(labels.error());
  auto fields = FieldSelector::parse(opts.field_selector);
  if (!fields) return fail(fields.error());
  if (opts.limit < 0) return fail(badRequest("limit must not be negative"));

  State& st = *state_;
  std::lock_guard lock(st.mu);
  std::string id = gvrId(gvr);
  auto& current = st.objects[id];
  int64_t snapshot_rv = st.rv;
  std::string start_after;
  // key -> object as of snapshot_rv, only for keys that changed after it.
  std::map<std::string, const json*> overrides;
  bool use_overrides = false;

  if (!opts.continue_token.empty()) {
    if (!opts.resource_version.empty()) {
      return fail(badRequest("specifying resource version is not allowed when using continue"));
    }
    auto colon = opts.continue_token.find(':');
    auto tok_rv = colon == std::string::npos ? std::nullopt : parseRv(opts.continue_token.substr(0, colon));
    if (!tok_rv) return fail(badRequest("continue key is not valid: incorrect encoded start resourceVersion"));
    if (*tok_rv < st.compacted_rv) {
      return fail(expired("The provided continue parameter is too old to display a consistent list result. "
                          "You can start a new list without the continue parameter."));
    }
    snapshot_rv = *tok_rv;
    start_after = opts.continue_token.substr(colon + 1);
    for (auto it = st.history.rbegin(); it != st.history.rend() && it->rv > snapshot_rv; ++it) {
      if (it->gvr_id == id) overrides[it->key] = &it->prev;
    }
    use_overrides = !overrides.empty();
  } else if (!opts.resource_version.empty() && opts.resource_version != "0") {
    auto want = parseRv(opts.resource_version);
    if (!want) return fail(badRequest("invalid resource version: " + opts.resource_version));
    if (*want > st.rv) {
      return fail(Error::make(ErrorCode::kTimeout, "Too large resource version: " + opts.resource_version +
                                                       ", current: " + std::to_string(st.rv), 504));
    }
  }

  // The consistent view: current objects, with changes after snapshot_rv undone.
  std::map<std::string, const json*> view;
  for (auto& [k, o] : current) {
    if (!use_overrides || !overrides.count(k)) view.emplace(k, &o);
  }
  for (auto& [k, o] : overrides) {
    if (!o->is_null()) view.emplace(k, o);
  }

  bool builtin = !isCustom(gvr);
  json items = json::array();
  std::string last_key;
  size_t remaining = 0;
  bool more = false;
  auto it = start_after.empty() ? view.begin() : view.upper_bound(start_after);
  for (; it != view.end(); ++it) {
    const json& o = *it->second;
    if (gvr.namespaced && !ns.empty() && metaStr(o, "namespace") != ns) continue;
    if (!labels->matchesObject(o) || !fields->matches(o)) continue;
    if (opts.limit > 0 && static_cast<int64_t>(items.size()) >= opts.limit) {
      more = true;
      ++remaining;
      continue;
    }
    json item = o;
    if (builtin) {
      // Typed lists carry no apiVersion/kind on their items.
      item.erase("apiVersion");
      item.erase("kind");
    }
    items.push_back(std::move(item));
    last_key = it->first;
  }
  json listmeta = {{"resourceVersion", std::to_string(snapshot_rv)}};
  if (more) {
    listmeta["continue"] = std::to_string(snapshot_rv) + ":" + last_key;
    if (labels->empty() && fields->reqs.empty()) listmeta["remainingItemCount"] = remaining;
  }
  return json{{"kind", st.kindOf(gvr) + "List"},
              {"apiVersion", gvr.apiVersion()},
              {"metadata", std::move(listmeta)},
              {"items", std::move(items)}};
}

kube::Result<json> FakeKubeClient::create(const Gvr& gvr, const std::string& ns, const json& body,
                                          const kube::WriteOptions& opts) {
  std::string name = body.is_object() ? metaStr(body, "name") : "";
  State& st = *state_;
  return st.write({Verb::kCreate, gvr, ns, name, opts.subresource, std::nullopt, opts.dry_run},
                  [&](WriteRecord& rec) -> kube::Result<json> {
    if (!opts.subresource.empty()) {
      return fail(Error::make(ErrorCode::kNotFound, "the server could not find the requested resource",
                              404));
    }
    auto r = st.doCreate(gvr, ns, body, opts.dry_run);
    rec.changed = r.ok() && !opts.dry_run;
    if (r) rec.name = metaStr(*r, "name");
    return r;
  });
}

kube::Result<json> FakeKubeClient::replace(const Gvr& gvr, const std::string& ns, const std::string& name,
                                           const json& body, const kube::WriteOptions& opts) {
  State& st = *state_;
  return st.write({Verb::kReplace, gvr, ns, name, opts.subresource, std::nullopt, opts.dry_run},
                  [&](WriteRecord& rec) -> kube::Result<json> {
    if (!opts.subresource.empty() && (opts.subresource != "status" || !st.hasStatus(gvr))) {
      return fail(Error::make(ErrorCode::kNotFound, "the server could not find the requested resource", 404));
    }
    if (!body.is_object()) return fail(badRequest("the body of the request was not a JSON object"));
    std::string body_name = metaStr(body, "name");
    if (body_name != name) {
      return fail(badRequest("the name of the object (" + body_name + ") does not match the name on the URL (" + name + ")"));
    }
    std::string key = storeKey(gvr.namespaced ? ns : "", name);
    auto& objs = st.objects[gvrId(gvr)];
    auto it = objs.find(key);
    if (it == objs.end()) return fail(notFound(gvr, name));
    const json old = it->second;
    std::string want_rv = metaStr(body, "resourceVersion");
    if (want_rv.empty() && isCustom(gvr)) {
      return fail(invalid(resourceLabel(gvr) + " \"" + name +
                          "\" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update"));
    }
    if (!want_rv.empty() && want_rv != metaStr(old, "resourceVersion")) return fail(conflictModified(gvr, name));
    return st.doUpdate(gvr, key, old, body, opts.subresource, opts.dry_run, rec.changed);
  });
}

kube::Result<json> FakeKubeClient::patch(const Gvr& gvr, const std::string& ns, const std::string& name,
                                         PatchType type, const json& patch, const kube::WriteOptions& opts) {
  State& st = *state_;
  return st.write({Verb::kPatch, gvr, ns, name, opts.subresource, type, opts.dry_run},
                  [&](WriteRecord& rec) -> kube::Result<json> {
    if (!opts.subresource.empty() && (opts.subresource != "status" || !st.hasStatus(gvr))) {
      return fail(Error::make(ErrorCode::kNotFound, "the server could not find the requested resource", 404));
    }
    if (type == PatchType::kApply) {
      if (opts.field_manager.empty()) {
        return fail(badRequest("PATCH, application/apply-patch+yaml requests require fieldManager"));
      }
      if (!patch.is_object() || patch.value("apiVersion", "").empty() || patch.value("kind", "").empty()) {
        return fail(badRequest("apply patches must carry apiVersion and kind"));
      }
      if (metaStr(patch, "name") != name) {
        return fail(badRequest("the name of the object (" + metaStr(patch, "name") +
                               ") does not match the name on the URL (" + name + ")"));
      }
    }
    std::string key = storeKey(gvr.namespaced ? ns : "", name);
    auto& objs = st.objects[gvrId(gvr)];
    auto it = objs.find(key);
    if (it == objs.end()) {
      if (type == PatchType::kApply && opts.subresource.empty()) {
        json body = patch;
        meta(body).erase("resourceVersion");
        auto r = st.doCreate(gvr, ns, body, opts.dry_run);
        rec.changed = r.ok() && !opts.dry_run;
        return r;
      }
      return fail(notFound(gvr, name));
    }
    const json old = it->second;
    json patched;
    switch (type) {
      case PatchType::kJson:
        try {
          patched = old.patch(patch);
        } catch (const json::parse_error& e) {
          if (e.id == 104 || e.id == 105) return fail(badRequest(e.what()));
          return fail(invalid(e.what()));
        } catch (const json::exception& e) {
          // The real server answers a failed `test` or a missing path with 422.
          return fail(invalid(e.what()));
        }
        break;
      case PatchType::kMerge:
      case PatchType::kStrategicMerge:
        // Strategic merge is approximated: lists are replaced, not merged by key.
        if (!patch.is_object()) return fail(badRequest("a merge patch must be a JSON object"));
        patched = old;
        patched.merge_patch(patch);
        break;
      case PatchType::kApply:
        patched = old;
        applyMerge(patched, patch);
        break;
    }
    if (!patched.is_object()) return fail(invalid("the patched object is not a JSON object"));
    if (metaStr(patched, "name") != name) return fail(badRequest("the patch may not change metadata.name"));
    std::string patched_rv = metaStr(patched, "resourceVersion");
    if (!patched_rv.empty() && patched_rv != metaStr(old, "resourceVersion")) {
      return fail(conflictModified(gvr, name));  // a resourceVersion in a patch is a precondition
    }
    return st.doUpdate(gvr, key, old, patched, opts.subresource, opts.dry_run, rec.changed);
  });
}

kube::Status FakeKubeClient::remove(const Gvr& gvr, const std::string& ns, const std::string& name,
                                    const kube::DeleteOptions& opts) {
  WriteRecord rec{Verb::kDelete, gvr, ns, name, "", std::nullopt, false};
  if (auto e = state_->fault(Call{Verb::kDelete, gvr, ns, name, ""})) {
    rec.error = e->code;
    state_->record(rec);
    return fail(*e);
  }
  // Propagation policies are accepted; without a garbage collector dependents stay.
  State& st = *state_;
  std::lock_guard lock(st.mu);
  auto run = [&]() -> kube::Status {
    std::string key = storeKey(gvr.namespaced ? ns : "", name);
    auto& objs = st.objects[gvrId(gvr)];
    auto it = objs.find(key);
    if (it == objs.end()) return fail(notFound(gvr, name));
    const json old = it->second;
    if (opts.precondition_uid && *opts.precondition_uid != metaStr(old, "uid")) {
      return fail(Error::make(ErrorCode::kConflict,
                              "Precondition failed: UID in precondition: " + *opts.precondition_uid +
                                  ", UID in object meta: " + metaStr(old, "uid"), 409));
    }
    if (opts.precondition_resource_version &&
        *opts.precondition_resource_version != metaStr(old, "resourceVersion")) {
      return fail(Error::make(ErrorCode::kConflict,
                              "Precondition failed: ResourceVersion in precondition: " +
                                  *opts.precondition_resource_version + ", ResourceVersion in object meta: " +
                                  metaStr(old, "resourceVersion"), 409));
    }
    st.doDelete(gvr, key, old, rec.changed);
    return {};
  };
  auto r = run();
  if (!r) rec.error = r.error().code;
  rec.resource_version = std::to_string(st.rv);
  st.writes.push_back(rec);
  return r;
}

kube::Result<std::unique_ptr<kube::WatchStream>> FakeKubeClient::watch(const Gvr& gvr, const std::string& ns,
                                                                       const kube::WatchOptions& opts) {
  if (auto e = state_->fault(Call{Verb::kWatch, gvr, ns, "", ""})) return fail(*e);
  auto labels = LabelSelector::parse(opts.label_selector);
  if (!labels) return fail(labels.error());
  auto fields = FieldSelector::parse(opts.field_selector);
  if (!fields) return fail(fields.error());

  State& st = *state_;
  std::lock_guard lock(st.mu);
  auto w = std::make_shared<Watcher>();
  w->gvr_id = gvrId(gvr);
  w->ns = gvr.namespaced ? ns : "";
  w->labels = std::move(*labels);
  w->fields = std::move(*fields);
  w->bookmarks = opts.allow_bookmarks;
  if (opts.timeout_seconds > 0) {
    w->has_deadline = true;
    w->deadline = st.clock->now() + std::chrono::seconds(opts.timeout_seconds);
  }
  auto gone = [&](const std::string& msg) {
    // The watch cache accepts the request and answers with an ERROR event, then closes.
    Error e = expired(msg);
    w->queue.push_back(WatchEvent{WatchEvent::Type::kError, statusObject(e, "Expired")});
    w->ended = true;
  };

  if (st.force_gone > 0) {
    --st.force_gone;
    gone("too old resource version: " + opts.resource_version + " (" + std::to_string(st.compacted_rv + 1) + ")");
  } else if (opts.resource_version.empty() || opts.resource_version == "0") {
    // No resume point: the current state as ADDED events, then changes.
    for (const auto& [k, o] : st.objects[w->gvr_id]) {
      if (w->inScope(w->gvr_id, o) && w->matches(o)) w->queue.push_back(WatchEvent{WatchEvent::Type::kAdded, o});
    }
  } else {
    auto from = parseRv(opts.resource_version);
    if (!from) return fail(badRequest("invalid resource version: " + opts.resource_version));
    if (*from < st.compacted_rv) {
      gone("too old resource version: " + opts.resource_version + " (" + std::to_string(st.compacted_rv + 1) + ")");
    } else {
      for (const auto& ev : st.history) {
        if (ev.rv <= *from) continue;
        if (auto we = st.convert(*w, ev)) w->queue.push_back(std::move(*we));
      }
    }
  }
  if (!w->ended) st.watchers.push_back(w);
  return std::unique_ptr<kube::WatchStream>(std::make_unique<FakeWatchStream>(state_, w));
}

json FakeKubeClient::seed(const Gvr& gvr, json object) {
  State& st = *state_;
  std::lock_guard lock(st.mu);
  std::string ns = gvr.namespaced ? metaStr(object, "namespace") : "";
  std::string key = storeKey(ns, metaStr(object, "name"));
  auto& objs = st.objects[gvrId(gvr)];
  if (auto it = objs.find(key); it != objs.end()) {
    bool changed = false;
    auto r = st.doUpdate(gvr, key, it->second, object, "", false, changed);
    if (r && object.contains("status") && st.hasStatus(gvr)) {
      json with_status = *r;
      with_status["status"] = object["status"];
      r = st.doUpdate(gvr, key, *r, with_status, "status", false, changed);
    }
    return r ? *r : json();
  }
  meta(object).erase("resourceVersion");
  json status = object.value("status", json());
  auto r = st.doCreate(gvr, ns, object, false);
  if (!r) return json();
  if (!status.is_null() && st.hasStatus(gvr)) {
    json with_status = *r;
    with_status["status"] = status;
    bool changed = false;
    auto u = st.doUpdate(gvr, key, *r, with_status, "status", false, changed);
    return u ? *u : *r;
  }
  return *r;
}

std::string FakeKubeClient::resourceVersion() const {
  std::lock_guard lock(state_->mu);
  return std::to_string(state_->rv);
}

size_t FakeKubeClient::objectCount(const Gvr& gvr, const std::string& ns) const {
  std::lock_guard lock(state_->mu);
  auto it = state_->objects.find(gvrId(gvr));
  if (it == state_->objects.end()) return 0;
  if (ns.empty()) return it->second.size();
  return static_cast<size_t>(std::count_if(it->second.begin(), it->second.end(),
                                           [&](const auto& kv) { return metaStr(kv.second, "namespace") == ns; }));
}

void FakeKubeClient::setStatusSubresource(const Gvr& gvr, bool has_status) {
  std::lock_guard lock(state_->mu);
  state_->status_override[gvrId(gvr)] = has_status;
}

std::vector<WriteRecord> FakeKubeClient::writes() const {
  std::lock_guard lock(state_->mu);
  return state_->writes;
}

size_t FakeKubeClient::writeCount(std::optional<Verb> verb) const {
  std::lock_guard lock(state_->mu);
  if (!verb) return state_->writes.size();
  return static_cast<size_t>(std::count_if(state_->writes.begin(), state_->writes.end(),
                                           [&](const WriteRecord& r) { return r.verb == *verb; }));
}

void FakeKubeClient::clearWrites() {
  std::lock_guard lock(state_->mu);
  state_->writes.clear();
}

size_t FakeKubeClient::callCount(Verb verb) const {
  std::lock_guard lock(state_->mu);
  auto it = state_->calls.find(verb);
  return it == state_->calls.end() ? 0 : it->second;
}

void FakeKubeClient::failNext(Verb verb, std::optional<Gvr> gvr, Error error, int count) {
  if (count <= 0) return;
  std::lock_guard lock(state_->mu);
  state_->faults.push_back(State::Fault{verb, std::move(gvr), std::move(error), count});
}

void FakeKubeClient::setFaultHook(FaultHook hook) {
  std::lock_guard lock(state_->mu);
  state_->hook = std::move(hook);
}

void FakeKubeClient::clearFaults() {
  std::lock_guard lock(state_->mu);
  state_->faults.clear();
  state_->hook = nullptr;
  state_->force_gone = 0;
}

void FakeKubeClient::forceGoneOnNextWatch(int count) {
  std::lock_guard lock(state_->mu);
  state_->force_gone += count;
}

void FakeKubeClient::compactHistory() {
  std::lock_guard lock(state_->mu);
  state_->history.clear();
  state_->compacted_rv = state_->rv;
}

void FakeKubeClient::closeWatches() {
  std::lock_guard lock(state_->mu);
  for (auto& w : state_->watchers) {
    w->ended = true;
    w->cv.notify_all();
  }
  state_->watchers.clear();
}

void FakeKubeClient::breakWatches(Error error) {
  std::lock_guard lock(state_->mu);
  for (auto& w : state_->watchers) {
    w->queue.clear();  // what was in flight on the dropped connection is lost
    w->failure = error;
    w->cv.notify_all();
  }
  state_->watchers.clear();
}

void FakeKubeClient::sendBookmarks() {
  std::lock_guard lock(state_->mu);
  for (auto& w : state_->watchers) {
    if (!w->bookmarks) continue;
    json obj = {{"metadata", {{"resourceVersion", std::to_string(state_->rv)}}}};
    if (auto it = state_->gvrs.find(w->gvr_id); it != state_->gvrs.end()) {
      obj["apiVersion"] = it->second.apiVersion();
      obj["kind"] = state_->kindOf(it->second);
    }
    w->queue.push_back(WatchEvent{WatchEvent::Type::kBookmark, std::move(obj)});
    w->cv.notify_all();
  }
}

size_t FakeKubeClient::openWatches() const {
  std::lock_guard lock(state_->mu);
  return state_->watchers.size();
}

}  // namespace bgo::testing
