// Peer benchmark (prints figures; not a test): this operator and Argo Rollouts
// on the same control plane, in the same run, on the same work. For each N,
// each operator gets a fresh namespace and runs out of cluster with leader
// election on and a 10 s resync:
//  - start-up: process start -> its informer caches synced (its own log line);
//  - N new blue-green apps -> all settled (ours: BlueGreenRelease Stable; Argo:
//    a blueGreen Rollout with an active and a preview Service, auto-promotion,
//    phase Healthy);
//  - writes over two settled resyncs (Lease renewals counted apart);
//  - N image changes -> all switched, and per app promotable -> live route
//    changed, p50/p99 (ours: the new color's Deployment caught up and its
//    EndpointSlices ready -> the main IngressRoute names it; Argo: the new
//    ReplicaSet fully available -> the active Service selects its hash), both
//    as seen by this process's watches;
//  - API requests per app by verb class, from the API server's audit log (the
//    plane started with BGO_PLANE_AUDIT=1), split by user agent;
//  - RSS and CPU seconds of the operator, idle and after the churn.
// The plane's floor: the same N Deployments created by a plain client -> all available.
//
// With --rss-csv PATH each N adds a row (N, RSS idle and after the churn, both operators) to PATH,
// and PATH's .svg twin is drawn again from every row in it: RSS over N across runs (--draw PATH only
// draws).
//
//   bgo_peer_bench --argo PATH --audit-log PATH [--sizes 1,100] [--operator PATH] [--workers N (ours; default 2)]
//                  [--rss-csv PATH]

#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "bench/bench_common.h"
#include "integration/support/namespace.h"
#include "integration/support/plane.h"
#include "integration/support/poll.h"
#include "integration/support/subprocess.h"
#include "operator/core/clock.h"
#include "operator/informer/informer.h"

using namespace std::chrono_literals;
using bgo::core::Gvr;
using bgo::core::gvrs::kBlueGreenReleases;
using bgo::core::gvrs::kDeployments;
using bgo::core::gvrs::kEndpointSlices;
using bgo::core::gvrs::kIngressRoutes;
using bgo::core::gvrs::kServices;
using json = nlohmann::json;
using bgo::bench::ms;
using bgo::bench::podTemplate;
using bgo::bench::Usage;
using bgo::bench::usageOf;
using bgo::bench::fileSize;
using Clock = std::chrono::steady_clock;

namespace {

const Gvr kRollouts{"argoproj.io", "v1alpha1", "rollouts", true};
const Gvr kReplicaSets{"apps", "v1", "replicasets", true};
constexpr const char* kHashLabel = "rollouts-pod-template-hash";

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// Requests of one client (user agent prefix) in the audit log from a byte offset on.
struct Requests {
  long reads = 0;    // get, list
  long writes = 0;   // create, update, patch, delete
  long watches = 0;  // watch streams opened
  long lease_writes = 0;  // leader election, not in the others
};


std::map<std::string, Requests> countRequests(const std::string& path, std::uintmax_t from, std::uintmax_t to,
                                              const std::vector<std::string>& agents) {
  std::map<std::string, Requests> out;
  std::ifstream f(path, std::ios::binary);
  f.seekg(static_cast<std::streamoff>(from));
  std::uintmax_t pos = from;
  for (std::string line; pos < to && std::getline(f, line);) {
    pos += line.size() + 1;
    auto ev = json::parse(line, nullptr, false);
    if (!ev.is_object()) continue;
    const std::string ua = ev.value("userAgent", "");
    auto agent = std::find_if(agents.begin(), agents.end(), [&](const auto& a) { return ua.rfind(a, 0) == 0; });
    if (agent == agents.end()) continue;
    // Lease renewals (leader election) are counted apart: they are no work on the apps.
    const bool lease = ev.value("objectRef", json::object()).value("resource", "") == "leases";
    const std::string verb = ev.value("verb", "");
    const std::string stage = ev.value("stage", "");
    Requests& r = out[*agent];
    if (lease) {
      if (stage == "ResponseComplete" && verb != "get" && verb != "list" && verb != "watch") ++r.lease_writes;
      continue;
    }
    if (verb == "watch") {
      if (stage == "ResponseStarted") ++r.watches;
    } else if (stage == "ResponseComplete" || stage == "Panic") {
      if (verb == "get" || verb == "list") ++r.reads;
      else ++r.writes;
    }
  }
  return out;
}

std::string appName(int i) { return fmt::format("a{:04d}", i); }

// What differs between the two operators: their objects and what "settled", "promotable" and "switched" mean.
struct Flavor {
  std::string name;        // ours | argo
  std::string user_agent;  // prefix in the audit log
  std::string synced_line;
  virtual ~Flavor() = default;
  virtual std::vector<std::string> argv(const std::string& ns) const = 0;
  virtual std::vector<std::string> env(const std::string& /*ns*/) const { return {}; }
  virtual bgo::core::Status create(bgo::kube::KubeClient& c, const std::string& ns, int i) const = 0;
  virtual bool settled(bgo::kube::KubeClient& c, const std::string& ns, int n) const = 0;
  virtual json imagePatch(const std::string& app, const std::string& image) const = 0;
  virtual const Gvr& appGvr() const = 0;
};

struct Ours : Flavor {
  std::string bin;
  std::string kubeconfig;
  std::string workers = "2";
  Ours(std::string b, std::string k) : bin(std::move(b)), kubeconfig(std::move(k)) {
    name = "ours";
    user_agent = "bluegreen-operator";
    synced_line = "caches synced";
  }
  std::vector<std::string> argv(const std::string& ns) const override {
    return {bin, "--kubeconfig", kubeconfig, "--namespace", ns, "--leader-elect=true", "--leader-election-namespace", ns,
            "--health-port", "0", "--metrics-port", "0", "--resync-period", "10", "--workers", workers};
  }
  bgo::core::Status create(bgo::kube::KubeClient& c, const std::string& ns, int i) const override {
    const std::string n = appName(i);
    json r{{"apiVersion", "bluegreen.io/v1alpha1"},
           {"kind", "BlueGreenRelease"},
           {"metadata", {{"name", n}, {"namespace", ns}}},
           {"spec",
            {{"replicas", 1},
             {"template", podTemplate("bench:1", n)},
             {"routing", {{"host", n + ".bench.example"}}},
             {"promotion", {{"readyForSeconds", 0}, {"progressDeadlineSeconds", 600}}},
             {"scaleDown", {{"delaySeconds", 0}}}}}};
    auto res = c.create(kBlueGreenReleases, ns, r);
    if (!res) return bgo::core::fail(res.error());
    return {};
  }
  bool settled(bgo::kube::KubeClient& c, const std::string& ns, int n) const override {
    auto all = bgo::kube::listAll(c, kBlueGreenReleases, ns);
    if (!all) return false;
    int k = 0;
    for (const auto& r : all->items) {
      const json& st = r.value("status", json::object());
      if (st.value("stage", "") == "Stable" && st.value("observedGeneration", 0) == r["metadata"].value("generation", 0)) ++k;
    }
    return k == n;
  }
  json imagePatch(const std::string& app, const std::string& image) const override {
    return {{"spec", {{"template", podTemplate(image, app)}}}};
  }
  const Gvr& appGvr() const override { return kBlueGreenReleases; }
};

struct Argo : Flavor {
  std::string bin;
  std::string kubeconfig;
  Argo(std::string b, std::string k) : bin(std::move(b)), kubeconfig(std::move(k)) {
    name = "argo";
    user_agent = "rollouts-controller";
    synced_line = "Started controller";
  }
  std::vector<std::string> argv(const std::string& ns) const override {
    return {bin, "--kubeconfig", kubeconfig, "--namespace", ns, "--namespaced", "--leader-elect",
            "--rollout-resync", "10", "--metricsPort", "0", "--healthzPort", "0", "--loglevel", "info"};
  }
  // The Lease and the notification ConfigMap live in the app namespace.
  std::vector<std::string> env(const std::string& ns) const override { return {"POD_NAMESPACE=" + ns}; }
  bgo::core::Status create(bgo::kube::KubeClient& c, const std::string& ns, int i) const override {
    const std::string n = appName(i);
    for (const char* role : {"active", "preview"}) {
      json svc{{"apiVersion", "v1"},
               {"kind", "Service"},
               {"metadata", {{"name", n + "-" + role}, {"namespace", ns}}},
               {"spec", {{"selector", {{"app", n}}}, {"ports", json::array({{{"name", "http"}, {"port", 80}}})}}}};
      auto s = c.create(kServices, ns, svc);
      if (!s) return bgo::core::fail(s.error());
    }
    json r{{"apiVersion", "argoproj.io/v1alpha1"},
           {"kind", "Rollout"},
           {"metadata", {{"name", n}, {"namespace", ns}}},
           {"spec",
            {{"replicas", 1},
             {"selector", {{"matchLabels", {{"app", n}}}}},
             {"template", podTemplate("bench:1", n)},
             {"progressDeadlineSeconds", 600},
             {"strategy",
              {{"blueGreen",
                {{"activeService", n + "-active"},
                 {"previewService", n + "-preview"},
                 {"autoPromotionEnabled", true},
                 {"scaleDownDelaySeconds", 0}}}}}}}};
    auto res = c.create(kRollouts, ns, r);
    if (!res) return bgo::core::fail(res.error());
    return {};
  }
  bool settled(bgo::kube::KubeClient& c, const std::string& ns, int n) const override {
    auto all = bgo::kube::listAll(c, kRollouts, ns);
    if (!all) return false;
    int k = 0;
    for (const auto& r : all->items) {
      const json& st = r.value("status", json::object());
      // observedGeneration is a string in a Rollout's status
      const std::string gen = std::to_string(r["metadata"].value("generation", 0));
      const std::string hash = st.value("currentPodHash", "x");
      if (st.value("phase", "") == "Healthy" && st.value("observedGeneration", "") == gen && st.value("stableRS", "") == hash &&
          st.value("blueGreen", json::object()).value("activeSelector", "") == hash) {
        ++k;
      }
    }
    return k == n;
  }
  json imagePatch(const std::string& app, const std::string& image) const override {
    return {{"spec", {{"template", podTemplate(image, app)}}}};
  }
  const Gvr& appGvr() const override { return kRollouts; }
};

// Promotable and switched times per app, from this process's own watches.
class Watcher {
 public:
  Watcher(bgo::kube::KubeClient& c, const std::string& ns, bool argo) : ns_(ns), argo_(argo) {
    if (argo) {
      sets_ = std::make_unique<bgo::informer::Informer>(c, kReplicaSets, ns, kHashLabel, clock_);
      services_ = std::make_unique<bgo::informer::Informer>(c, kServices, ns, "", clock_);
      sets_->addEventHandlers(handlers([this](const json& o) { argoPromotable(label(o, "app")); }));
      services_->addEventHandlers(handlers([this](const json& o) { argoSwitched(o); }));
    } else {
      deps_ = std::make_unique<bgo::informer::Informer>(c, kDeployments, ns, "bluegreen.io/color", clock_);
      slices_ = std::make_unique<bgo::informer::Informer>(c, kEndpointSlices, ns, "bluegreen.io/color", clock_);
      routes_ = std::make_unique<bgo::informer::Informer>(c, kIngressRoutes, ns, "", clock_);
      auto p = handlers([this](const json& o) { oursPromotable(label(o, "bluegreen.io/release")); });
      deps_->addEventHandlers(p);
      slices_->addEventHandlers(p);
      routes_->addEventHandlers(handlers([this](const json& o) { oursSwitched(o); }));
    }
    for (auto* i : all()) i->start();
    for (auto* i : all()) i->waitForSync(60s);
  }
  ~Watcher() {
    for (auto* i : all()) i->stop();
  }
  // Before an app's image change: what serves it now (a color, or a pod hash).
  void arm(const std::string& app) {
    std::string live;
    if (argo_) {
      auto s = services_->get(ns_, app + "-active");
      live = s ? (*s)["spec"].value("selector", json::object()).value(kHashLabel, "") : "";
    } else {
      auto r = routes_->get(ns_, app);
      live = r ? mainService(*r) == app + "-green" ? "green" : "blue" : "";
    }
    std::lock_guard l(mu_);
    live_before_[app] = live;
  }
  int switched() const {
    std::lock_guard l(mu_);
    return static_cast<int>(switched_at_.size());
  }
  std::vector<double> reactionsMs() const {
    std::lock_guard l(mu_);
    std::vector<double> out;
    for (const auto& [app, t] : switched_at_) {
      if (auto p = promotable_at_.find(app); p != promotable_at_.end()) out.push_back(ms(t - p->second));
    }
    return out;
  }

 private:
  static std::string label(const json& o, const char* key) {
    return o["metadata"].value("labels", json::object()).value(key, "");
  }
  static std::string mainService(const json& route) {
    const json& rs = route["spec"].value("routes", json::array());
    if (rs.empty() || rs[0].value("services", json::array()).empty()) return "";
    return rs[0]["services"][0].value("name", "");
  }
  static bgo::informer::EventHandlers handlers(std::function<void(const json&)> f) {
    return {[f](const auto& o) { f(*o); }, [f](const auto&, const auto& o) { f(*o); }, nullptr};
  }
  bool armed(const std::string& app, std::string* before) const {
    std::lock_guard l(mu_);
    auto it = live_before_.find(app);
    if (it == live_before_.end()) return false;
    *before = it->second;
    return true;
  }
  void oursPromotable(const std::string& rel) {
    std::string before;
    if (rel.empty() || !armed(rel, &before)) return;
    const std::string color = before == "green" ? "blue" : "green";
    auto d = deps_->get(ns_, rel + "-" + color);
    if (!d) return;
    const json& st = d->value("status", json::object());
    int want = (*d)["spec"].value("replicas", 0);
    bool caught = want > 0 && st.value("observedGeneration", 0) >= (*d)["metadata"].value("generation", 0) &&
                  st.value("updatedReplicas", 0) == want && st.value("readyReplicas", 0) == want &&
                  st.value("availableReplicas", 0) == want && st.value("replicas", 0) == want;
    int ready = 0;
    for (const auto& s : slices_->listNamespace(ns_)) {
      if (label(*s, "kubernetes.io/service-name") != rel + "-" + color) continue;
      for (const auto& e : s->value("endpoints", json::array())) {
        if (e.value("conditions", json::object()).value("ready", true)) ++ready;
      }
    }
    if (caught && ready >= want) {
      std::lock_guard l(mu_);
      promotable_at_.emplace(rel, Clock::now());
    }
  }
  void oursSwitched(const json& route) {
    const std::string app = route["metadata"].value("name", "");
    std::string before;
    if (!armed(app, &before)) return;
    if (mainService(route) == app + "-" + (before == "green" ? "blue" : "green")) {
      std::lock_guard l(mu_);
      switched_at_.emplace(app, Clock::now());
    }
  }
  void argoPromotable(const std::string& app) {
    std::string before;
    if (app.empty() || !armed(app, &before)) return;
    for (const auto& rs : sets_->listNamespace(ns_)) {
      if (label(*rs, "app") != app || label(*rs, kHashLabel) == before) continue;
      const json& st = rs->value("status", json::object());
      int want = (*rs)["spec"].value("replicas", 0);
      // Argo's own test (IsReplicaSetAvailable): every replica of the new ReplicaSet available.
      if (want > 0 && st.value("availableReplicas", 0) >= want) {
        std::lock_guard l(mu_);
        promotable_at_.emplace(app, Clock::now());
      }
    }
  }
  void argoSwitched(const json& svc) {
    const std::string name = svc["metadata"].value("name", "");
    if (name.size() < 8 || name.compare(name.size() - 7, 7, "-active") != 0) return;
    const std::string app = name.substr(0, name.size() - 7);
    std::string before;
    if (!armed(app, &before)) return;
    const std::string now = svc["spec"].value("selector", json::object()).value(kHashLabel, "");
    if (!now.empty() && now != before) {
      std::lock_guard l(mu_);
      switched_at_.emplace(app, Clock::now());
    }
  }
  std::vector<bgo::informer::Informer*> all() const {
    std::vector<bgo::informer::Informer*> out;
    for (const auto* p : {&sets_, &services_, &deps_, &slices_, &routes_}) {
      if (*p) out.push_back(p->get());
    }
    return out;
  }

  bgo::core::SystemClock clock_;
  std::string ns_;
  bool argo_;
  std::unique_ptr<bgo::informer::Informer> sets_, services_, deps_, slices_, routes_;
  mutable std::mutex mu_;
  std::map<std::string, std::string> live_before_;
  std::map<std::string, Clock::time_point> promotable_at_, switched_at_;
};

struct Figures {
  double startup_ms = 0;
  double settle_s = 0;
  double switch_all_s = 0;
  double p50_ms = 0, p99_ms = 0;
  int reactions = 0;
  bool settled = false;
  int switched = 0;
  Requests total;          // from start to the end of the churn
  long settled_writes = 0;  // over two resync periods
  Usage idle, churned;
  double cpu_churn_s = 0;
};

Figures runOne(bgo::kube::KubeClient& c, const Flavor& f, int n, const std::string& audit) {
  Figures out;
  bgo::itest::ScopedNamespace ns(c, "peer-" + f.name, "peer-bench");
  if (ns.error()) {
    fmt::print(stderr, "namespace: {}\n", ns.error()->describe());
    std::exit(1);
  }
  const std::string log = "/tmp/bgo-peer-bench-" + ns.name() + ".log";
  const auto audit_start = fileSize(audit);
  auto t0 = Clock::now();
  auto p = bgo::itest::Subprocess::start({f.argv(ns.name()), log, false, f.env(ns.name())});
  if (!p) {
    fmt::print(stderr, "cannot start {}: {}\n", f.name, p.error().describe());
    std::exit(1);
  }
  auto& proc = **p;
  if (!bgo::itest::eventually([&] { return bgo::itest::tailFile(log, 400).find(f.synced_line) != std::string::npos; }, 120s, 5ms)) {
    fmt::print(stderr, "{} did not sync: {}\n", f.name, bgo::itest::tailFile(log, 20));
    std::exit(1);
  }
  out.startup_ms = ms(Clock::now() - t0);
  std::this_thread::sleep_for(5s);
  out.idle = usageOf(proc.pid());

  auto t_settle = Clock::now();
  for (int i = 0; i < n; ++i) {
    if (auto s = f.create(c, ns.name(), i); !s) {
      fmt::print(stderr, "create: {}\n", s.error().describe());
      std::exit(1);
    }
  }
  out.settled = bgo::itest::eventually([&] { return f.settled(c, ns.name(), n); }, 1200s, 250ms);
  out.settle_s = ms(Clock::now() - t_settle) / 1000;

  // Writes when settled: two resync periods (10 s each).
  std::this_thread::sleep_for(3s);
  const auto quiet_from = fileSize(audit);
  std::this_thread::sleep_for(21s);
  out.settled_writes = countRequests(audit, quiet_from, fileSize(audit), {f.user_agent})[f.user_agent].writes;

  // N image changes, watched.
  {
    Watcher w(c, ns.name(), f.name == "argo");
    const double cpu0 = usageOf(proc.pid()).cpu_s;
    auto t_switch = Clock::now();
    for (int i = 0; i < n; ++i) {
      w.arm(appName(i));
      (void)c.patch(f.appGvr(), ns.name(), appName(i), bgo::kube::PatchType::kMerge, f.imagePatch(appName(i), "bench:2"));
    }
    bgo::itest::eventually([&] { return w.switched() == n; }, 1200s, 20ms);
    out.switch_all_s = ms(Clock::now() - t_switch) / 1000;
    out.switched = w.switched();
    auto r = w.reactionsMs();
    out.reactions = static_cast<int>(r.size());
    out.p50_ms = percentile(r, 0.5);
    out.p99_ms = percentile(r, 0.99);
    std::this_thread::sleep_for(2s);
    out.churned = usageOf(proc.pid());
    out.cpu_churn_s = out.churned.cpu_s - cpu0;
  }
  out.total = countRequests(audit, audit_start, fileSize(audit), {f.user_agent})[f.user_agent];
  proc.stop(10s);
  return out;
}

// The plane's floor: N Deployments (the same pod template) from a plain client -> all available.
double floorSeconds(bgo::kube::KubeClient& c, int n) {
  bgo::itest::ScopedNamespace ns(c, "peer-floor", "peer-bench");
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    const std::string name = appName(i);
    json d{{"apiVersion", "apps/v1"},
           {"kind", "Deployment"},
           {"metadata", {{"name", name}, {"namespace", ns.name()}}},
           {"spec", {{"replicas", 1}, {"selector", {{"matchLabels", {{"app", name}}}}}, {"template", podTemplate("bench:1", name)}}}};
    (void)c.create(kDeployments, ns.name(), d);
  }
  bgo::itest::eventually([&] {
    auto all = bgo::kube::listAll(c, kDeployments, ns.name());
    if (!all) return false;
    int k = 0;
    for (const auto& d : all->items) k += d.value("status", json::object()).value("availableReplicas", 0) == 1;
    return k == n;
  }, 1200s, 250ms);
  return ms(Clock::now() - t0) / 1000;
}

std::string ratio(double ours, double argo) {
  if (ours <= 0 || argo <= 0) return "-";
  return fmt::format("{:.2f}", ours / argo);
}

struct RssRow {
  int n = 0;
  double ours_idle = 0, ours_churned = 0, argo_idle = 0, argo_churned = 0;
};

// RSS after the churn over N (log scale) for both operators, one SVG, no dependencies.
void drawRss(const std::vector<RssRow>& rows, const std::string& path) {
  if (rows.empty()) return;
  std::map<int, RssRow> by_n;  // the newest row per N
  for (const auto& r : rows) by_n[r.n] = r;
  double ymax = 0;
  for (const auto& [n, r] : by_n) ymax = std::max({ymax, r.ours_churned, r.argo_churned});
  ymax = std::ceil(ymax / 20) * 20 + 20;
  const double w = 640, h = 360, l = 60, rgt = 130, top = 30, bot = 50;
  const double xmax = std::max(1.0, std::log10(static_cast<double>(by_n.rbegin()->first)));
  auto X = [&](int n) { return l + (w - l - rgt) * std::log10(static_cast<double>(std::max(n, 1))) / xmax; };
  auto Y = [&](double v) { return h - bot - (h - top - bot) * v / ymax; };
  std::string svg = fmt::format(R"(<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-family="sans-serif" font-size="12">)""\n", w, h);
  svg += fmt::format(R"(<text x="{}" y="18" font-size="14">RSS after N image changes (MiB), bluegreen-operator and Argo Rollouts</text>)""\n", l);
  for (double v = 0; v <= ymax; v += 20) {
    svg += fmt::format(R"(<line x1="{}" x2="{}" y1="{:.1f}" y2="{:.1f}" stroke="#ddd"/><text x="{}" y="{:.1f}" text-anchor="end">{:.0f}</text>)""\n",
                       l, w - rgt, Y(v), Y(v), l - 6, Y(v) + 4, v);
  }
  for (const auto& [n, r] : by_n) {
    svg += fmt::format(R"(<text x="{:.1f}" y="{}" text-anchor="middle">{}</text>)""\n", X(n), h - bot + 18, n);
  }
  svg += fmt::format(R"(<text x="{}" y="{}" text-anchor="middle">N apps (log scale)</text>)""\n", (l + w - rgt) / 2, h - 12);
  auto line = [&](auto get, const char* color, const char* label, double dy) {
    std::string pts;
    for (const auto& [n, r] : by_n) pts += fmt::format("{:.1f},{:.1f} ", X(n), Y(get(r)));
    svg += fmt::format(R"(<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>)""\n", color, pts);
    for (const auto& [n, r] : by_n) {
      svg += fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="3" fill="{}"/><text x="{:.1f}" y="{:.1f}" fill="{}">{:.0f}</text>)""\n",
                         X(n), Y(get(r)), color, X(n) + 5, Y(get(r)) - 5, color, get(r));
    }
    svg += fmt::format(R"(<text x="{}" y="{}" fill="{}">{}</text>)""\n", w - rgt + 10, top + 70 + dy, color, label);
  };
  line([](const RssRow& r) { return r.argo_churned; }, "#c0392b", "Argo Rollouts", 0);
  line([](const RssRow& r) { return r.ours_churned; }, "#2471a3", "bluegreen-operator", 18);
  svg += "</svg>\n";
  std::ofstream(path) << svg;
}

std::string svgPath(const std::string& csv) {
  const bool dot_csv = csv.size() > 4 && csv.compare(csv.size() - 4, 4, ".csv") == 0;
  return (dot_csv ? csv.substr(0, csv.size() - 4) : csv) + ".svg";
}

// Adds this run's rows to the CSV and draws every row in it.
void recordRss(const std::string& csv, const std::vector<RssRow>& now) {
  std::vector<RssRow> rows;
  {
    std::ifstream in(csv);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      RssRow r;
      if (std::sscanf(line.c_str(), "%d,%lf,%lf,%lf,%lf", &r.n, &r.ours_idle, &r.ours_churned, &r.argo_idle,
                      &r.argo_churned) == 5) {
        rows.push_back(r);
      }
    }
  }
  rows.insert(rows.end(), now.begin(), now.end());
  std::ofstream out(csv);
  out << "n,ours_idle_mib,ours_after_churn_mib,argo_idle_mib,argo_after_churn_mib\n";
  for (const auto& r : rows) {
    out << fmt::format("{},{:.1f},{:.1f},{:.1f},{:.1f}\n", r.n, r.ours_idle, r.ours_churned, r.argo_idle, r.argo_churned);
  }
  drawRss(rows, svgPath(csv));
}

}  // namespace

int main(int argc, char** argv) {
  std::string ours_bin = BGO_OPERATOR_BIN;
  std::string argo_bin;
  std::string audit, workers;
  std::vector<int> sizes{1, 100};
  std::string rss_csv;
  std::vector<RssRow> rss_rows;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--operator") ours_bin = argv[i + 1];
    else if (a == "--argo") argo_bin = argv[i + 1];
    else if (a == "--audit-log") audit = argv[i + 1];
    else if (a == "--workers") workers = argv[i + 1];
    else if (a == "--rss-csv") rss_csv = argv[i + 1];
    else if (a == "--draw") {  // only redraw the SVG of a CSV
      recordRss(argv[i + 1], {});
      return 0;
    }
    else if (a == "--sizes") {
      sizes.clear();
      std::stringstream in(argv[i + 1]);
      for (std::string s; std::getline(in, s, ',');) sizes.push_back(std::stoi(s));
    }
  }
  if (argo_bin.empty() || audit.empty()) {
    fmt::print(stderr, "usage: bgo_peer_bench --argo PATH --audit-log PATH [--sizes 1,100] [--operator PATH] [--workers N]\n");
    return 2;
  }
  auto client = bgo::itest::planeClient();
  if (!client) {
    fmt::print(stderr, "{}\n", client.error().message);
    return 2;
  }
  bgo::kube::KubeClient& c = **client;
  const std::string kubeconfig = bgo::itest::planeKubeconfig();
  Ours ours(ours_bin, kubeconfig);
  if (!workers.empty()) ours.workers = workers;
  Argo argo(argo_bin, kubeconfig);

  for (int n : sizes) {
    fmt::print("== N = {} apps (1 replica each), both operators in this run\n", n);
    std::fflush(stdout);
    const double floor_s = floorSeconds(c, n);
    // Argo first on odd sizes, ours first on even ones: drift in the machine's load hits both.
    std::map<std::string, Figures> fig;
    const Flavor* order[2] = {&ours, &argo};
    if (n % 2) std::swap(order[0], order[1]);
    for (const Flavor* f : order) fig[f->name] = runOne(c, *f, n, audit);
    const Figures& o = fig["ours"];
    const Figures& a = fig["argo"];
    auto row = [](const std::string& what, double ov, double av, const char* unit) {
      fmt::print("{:<52} {:>10.1f} {:>10.1f} {:>6} {:>7}\n", what, ov, av, unit, ratio(ov, av));
    };
    fmt::print("{:<52} {:>10} {:>10} {:>6} {:>7}\n", "measure", "ours", "argo", "unit", "ours/argo");
    row("start-up to caches synced", o.startup_ms, a.startup_ms, "ms");
    row(fmt::format("{} new -> all settled", n), o.settle_s, a.settle_s, "s");
    row(fmt::format("  plane floor: {} Deployments -> available", n), floor_s, floor_s, "s");
    row(fmt::format("{} image changes -> all switched", n), o.switch_all_s, a.switch_all_s, "s");
    row("promotable -> live route changed, p50", o.p50_ms, a.p50_ms, "ms");
    row("promotable -> live route changed, p99", o.p99_ms, a.p99_ms, "ms");
    row("API reads per app (get, list)", double(o.total.reads) / n, double(a.total.reads) / n, "");
    row("API writes per app", double(o.total.writes) / n, double(a.total.writes) / n, "");
    row("watches opened (total)", double(o.total.watches), double(a.total.watches), "");
    row("writes per settled resync (total, Lease renewals apart)", o.settled_writes / 2.0, a.settled_writes / 2.0, "");
    row("Lease writes (total, whole run)", double(o.total.lease_writes), double(a.total.lease_writes), "");
    row("RSS idle", o.idle.rss_mib, a.idle.rss_mib, "MiB");
    row("RSS after the churn", o.churned.rss_mib, a.churned.rss_mib, "MiB");
    row("CPU seconds idle (start-up + 5 s)", o.idle.cpu_s, a.idle.cpu_s, "s");
    row("CPU seconds for the image changes", o.cpu_churn_s, a.cpu_churn_s, "s");
    for (const auto& [name, f] : fig) {
      if (!f.settled || f.switched < n || f.reactions < n) {
        fmt::print("  note: {}: settled {}, switched {}/{}, reactions timed {}/{}\n", name, f.settled, f.switched, n,
                   f.reactions, n);
      }
    }
    fmt::print("\n");
    std::fflush(stdout);
    rss_rows.push_back({n, o.idle.rss_mib, o.churned.rss_mib, a.idle.rss_mib, a.churned.rss_mib});
    if (!rss_csv.empty()) recordRss(rss_csv, rss_rows);  // after every N: a later failure keeps it
    if (!rss_csv.empty()) rss_rows.clear();
  }
  if (!rss_csv.empty()) fmt::print("RSS over N: {} and {}\n", rss_csv, svgPath(rss_csv));
  return 0;
}
