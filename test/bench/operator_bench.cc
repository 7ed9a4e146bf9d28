// Operator benchmark (prints figures; not a test). On the control plane named by
// BGO_KUBECONFIG, with the real operator binary as a child process:
//  - start-up: process start -> caches synced, with 0 and with N releases;
//  - memory: the operator's VmRSS with 0 and with N settled releases (-> per 1000);
//  - settle: N new releases -> all Stable;
//  - writes when settled: objects whose resourceVersion changed (and new Events)
//    over two resync periods of N settled releases (target: 0);
//  - reaction: a release's green color becomes promotable (its Deployment has
//    caught up and its EndpointSlice lists every replica ready, as seen by this
//    process's own watches) -> the main route names green (same watches); in a
//    kept namespace the change may start blue instead.
//
//   bgo_operator_bench [--releases N] [--reactions K] [--operator PATH] [--keep] [--namespace NS]
// --keep leaves the namespace (and its settled releases) in place; --namespace NS
// runs in such a kept namespace, creating only the releases it lacks (the
// settle figure then covers those alone).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <mutex>
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
using bgo::core::gvrs::kBlueGreenReleases;
using bgo::core::gvrs::kDeployments;
using bgo::core::gvrs::kEndpointSlices;
using bgo::core::gvrs::kIngressRoutes;
using json = nlohmann::json;
using bgo::bench::ms;
using bgo::bench::podTemplate;
using Clock = std::chrono::steady_clock;

namespace {

// A field of /proc/<pid>/status in MiB: VmRSS (now) or VmHWM (the peak so far).
double statusMiB(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field + ":", 0) == 0) return std::strtod(line.c_str() + field.size() + 1, nullptr) / 1024.0;
  }
  return 0;
}
double rssMiB(pid_t pid) { return statusMiB(pid, "VmRSS"); }

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

json release(const std::string& ns, const std::string& name, const std::string& image) {
  return {{"apiVersion", "bluegreen.io/v1alpha1"},
          {"kind", "BlueGreenRelease"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec",
           {{"replicas", 1},
            {"template", podTemplate(image)},
            {"routing", {{"host", name + ".bench.example"}}},
            {"promotion", {{"readyForSeconds", 0}, {"progressDeadlineSeconds", 300}}},
            {"scaleDown", {{"delaySeconds", 0}}}}}};
}

struct Operator {
  std::unique_ptr<bgo::itest::Subprocess> proc;
  double startup_ms = 0;
};

Operator startOperator(const std::string& bin, const std::string& ns, const std::string& log) {
  Operator op;
  auto t0 = Clock::now();
  auto p = bgo::itest::Subprocess::start(
      {{bin, "--kubeconfig", bgo::itest::planeKubeconfig(), "--namespace", ns, "--leader-elect=false",
        "--health-port", "0", "--metrics-port", "0", "--resync-period", "10", "--workers", "2"},
       log,
       false,
       {}});
  if (!p) {
    fmt::print(stderr, "cannot start {}: {}\n", bin, p.error().describe());
    std::exit(1);
  }
  op.proc = std::move(*p);
  bool synced = bgo::itest::eventually(
      [&] { return bgo::itest::tailFile(log, 50).find("caches synced") != std::string::npos; }, 60s, 5ms);
  if (!synced) {
    fmt::print(stderr, "operator did not sync: {}\n", bgo::itest::tailFile(log, 20));
    std::exit(1);
  }
  op.startup_ms = ms(Clock::now() - t0);
  return op;
}

// resourceVersion of every object the operator writes, plus the Event count.
std::map<std::string, std::string> snapshot(bgo::kube::KubeClient& c, const std::string& ns) {
  std::map<std::string, std::string> out;
  for (const auto& gvr : {kBlueGreenReleases, kDeployments, bgo::core::gvrs::kServices, kIngressRoutes}) {
    auto all = bgo::kube::listAll(c, gvr, ns);
    if (!all) continue;
    for (const auto& o : all->items) {
      out[gvr.resource + "/" + o["metadata"].value("name", "")] = o["metadata"].value("resourceVersion", "");
    }
  }
  auto ev = bgo::kube::listAll(c, bgo::core::gvrs::kEvents, ns);
  out["#events"] = std::to_string(ev ? ev->items.size() : 0);
  return out;
}

int stableCount(bgo::kube::KubeClient& c, const std::string& ns) {
  auto all = bgo::kube::listAll(c, kBlueGreenReleases, ns);
  if (!all) return 0;
  int n = 0;
  for (const auto& r : all->items) {
    const json& st = r.value("status", json::object());
    if (st.value("stage", "") == "Stable" && st.value("observedGeneration", 0) == r["metadata"].value("generation", 0)) ++n;
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  int releases = 100;
  int reactions = 7;
  std::string bin = BGO_OPERATOR_BIN;
  bool keep = false;
  std::string reuse;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--keep") {
      keep = true;
      continue;
    }
    if (i + 1 >= argc) break;
    if (a == "--namespace") reuse = argv[i + 1];
    else if (a == "--releases") releases = std::atoi(argv[i + 1]);
    else if (a == "--reactions") reactions = std::atoi(argv[i + 1]);
    else if (a == "--operator") bin = argv[i + 1];
    ++i;
  }
  auto client = bgo::itest::planeClient();
  if (!client) {
    fmt::print(stderr, "{}\n", client.error().message);
    return 2;
  }
  bgo::kube::KubeClient& c = **client;
  // Start-up and memory with nothing to do, in a namespace of its own.
  double rss0;
  double startup0;
  {
    bgo::itest::ScopedNamespace idle(c, "bench-idle", "operator-bench");
    if (idle.error()) {
      fmt::print(stderr, "namespace: {}\n", idle.error()->describe());
      return 1;
    }
    Operator op = startOperator(bin, idle.name(), "/tmp/bgo-operator-bench-" + idle.name() + ".log");
    startup0 = op.startup_ms;
    std::this_thread::sleep_for(2s);
    rss0 = rssMiB(op.proc->pid());
    op.proc->stop(5s);
  }
  std::optional<bgo::itest::ScopedNamespace> scoped;
  if (reuse.empty()) {
    scoped.emplace(c, "bench-op", "operator-bench");
    if (scoped->error()) {
      fmt::print(stderr, "namespace: {}\n", scoped->error()->describe());
      return 1;
    }
    if (keep) scoped->keep();
  }
  struct Ns {
    std::string n;
    const std::string& name() const { return n; }
  } ns{reuse.empty() ? scoped->name() : reuse};
  const std::string log = "/tmp/bgo-operator-bench-" + ns.name() + ".log";
  fmt::print("operator benchmark: namespace {}{}, {} releases (1 replica each), log {}\n", ns.name(),
             keep || !reuse.empty() ? " (kept)" : "", releases, log);

  // N releases, then the operator: settle time, start-up with N, memory with N.
  for (int i = 0; i < releases; ++i) {
    auto r = c.create(kBlueGreenReleases, ns.name(), release(ns.name(), fmt::format("r{:04d}", i), "bench:1"));
    if (!r && r.error().code == bgo::core::ErrorCode::kAlreadyExists) continue;  // a kept namespace
    if (!r) {
      fmt::print(stderr, "create: {}\n", r.error().describe());
      return 1;
    }
  }
  auto t_settle = Clock::now();
  Operator op = startOperator(bin, ns.name(), log);
  const double startupN = op.startup_ms;
  bool settled = bgo::itest::eventually([&] { return stableCount(c, ns.name()) == releases; }, 600s, 250ms);
  const double settle_ms = ms(Clock::now() - t_settle);
  if (!settled) fmt::print(stderr, "only {}/{} releases Stable after 600 s\n", stableCount(c, ns.name()), releases);
  const double peakN = statusMiB(op.proc->pid(), "VmHWM");
  std::this_thread::sleep_for(3s);
  const double rssN = rssMiB(op.proc->pid());

  // Zero writes when settled: two resync periods (10 s each) must change nothing.
  auto before = snapshot(c, ns.name());
  std::this_thread::sleep_for(25s);
  auto after = snapshot(c, ns.name());
  int changed = 0;
  for (const auto& [k, v] : after) {
    if (before[k] != v) {
      ++changed;
      if (changed <= 5) fmt::print("  changed while settled: {} {} -> {}\n", k, before[k], v);
    }
  }

  // Reaction: promotable (as seen by our watches) -> route names green (same watches).
  std::mutex mu;
  std::map<std::string, Clock::time_point> promotable_at, switched_at;
  std::map<std::string, std::string> target;  // release -> the color the image change starts
  std::map<std::string, std::string> target_image;  // and the image it asks for
  auto rel_of = [](const json& o) {
    const json& l = o["metadata"].value("labels", json::object());
    return l.value("bluegreen.io/release", "");
  };
  auto target_of = [&](const std::string& rel) {
    std::lock_guard l(mu);
    auto it = target.find(rel);
    return it == target.end() ? std::string() : it->second;
  };
  bgo::core::SystemClock sys;
  bgo::informer::Informer deps(c, kDeployments, ns.name(), "bluegreen.io/color", sys);
  bgo::informer::Informer slices(c, kEndpointSlices, ns.name(), "bluegreen.io/color", sys);
  bgo::informer::Informer routes(c, kIngressRoutes, ns.name(), "", sys);
  auto check_promotable = [&](const std::string& rel) {
    const std::string color = rel.empty() ? "" : target_of(rel);
    if (color.empty()) return;
    auto d = deps.get(ns.name(), rel + "-" + color);
    if (!d) return;
    {
      // A kept namespace's standby color may be caught up on an older image.
      std::lock_guard l(mu);
      const json& cs = (*d)["spec"]["template"]["spec"]["containers"];
      if (!cs.is_array() || cs.empty() || cs[0].value("image", "") != target_image[rel]) return;
    }
    const json& st = d->value("status", json::object());
    int want = (*d)["spec"].value("replicas", 0);
    bool caught = want > 0 && st.value("observedGeneration", 0) >= (*d)["metadata"].value("generation", 0) &&
                  st.value("updatedReplicas", 0) == want && st.value("readyReplicas", 0) == want &&
                  st.value("availableReplicas", 0) == want && st.value("replicas", 0) == want;
    int ready = 0;
    for (const auto& s : slices.listNamespace(ns.name())) {
      if (s->value("metadata", json::object()).value("labels", json::object()).value("kubernetes.io/service-name", "") != rel + "-" + color) continue;
      for (const auto& e : s->value("endpoints", json::array())) {
        if (e.value("conditions", json::object()).value("ready", true)) ++ready;
      }
    }
    if (caught && ready >= want) {
      std::lock_guard l(mu);
      promotable_at.emplace(rel, Clock::now());
    }
  };
  bgo::informer::EventHandlers on_dep{[&](auto& o) { check_promotable(rel_of(*o)); },
                                      [&](auto&, auto& o) { check_promotable(rel_of(*o)); }, nullptr};
  deps.addEventHandlers(on_dep);
  slices.addEventHandlers(on_dep);
  auto main_service = [](const json& route) {
    const json& routes_j = route["spec"].value("routes", json::array());
    if (routes_j.empty() || routes_j[0].value("services", json::array()).empty()) return std::string();
    return routes_j[0]["services"][0].value("name", "");
  };
  auto on_route = [&](const bgo::informer::ObjectPtr& o) {
    std::string name = (*o)["metadata"].value("name", "");
    const std::string color = target_of(name);
    if (!color.empty() && main_service(*o) == name + "-" + color) {
      std::lock_guard l(mu);
      switched_at.emplace(name, Clock::now());
    }
  };
  routes.addEventHandlers({on_route, [&](auto&, auto& o) { on_route(o); }, nullptr});
  deps.start();
  slices.start();
  routes.start();
  deps.waitForSync(30s);
  slices.waitForSync(30s);
  routes.waitForSync(30s);
  std::vector<double> reaction_ms;
  for (int i = 0; i < reactions && i < releases; ++i) {
    const std::string name = fmt::format("r{:04d}", i);
    auto route = routes.get(ns.name(), name);
    {
      std::lock_guard l(mu);
      target[name] = route && main_service(*route) == name + "-green" ? "blue" : "green";
    }
    // Another image than the current one (a kept namespace may hold bench:2 already).
    auto cur = c.get(kBlueGreenReleases, ns.name(), name);
    const std::string image =
        cur && (*cur)["spec"]["template"]["spec"]["containers"][0].value("image", "") == "bench:2" ? "bench:3" : "bench:2";
    {
      std::lock_guard l(mu);
      target_image[name] = image;
    }
    json patch{{"spec", {{"template", podTemplate(image)}}}};
    (void)c.patch(kBlueGreenReleases, ns.name(), name, bgo::kube::PatchType::kMerge, patch);
    bool done = bgo::itest::eventually([&] {
      std::lock_guard l(mu);
      return switched_at.count(name) > 0 && promotable_at.count(name) > 0;
    }, 120s, 5ms);
    std::lock_guard l(mu);
    if (done) reaction_ms.push_back(ms(switched_at[name] - promotable_at[name]));
  }
  deps.stop();
  slices.stop();
  routes.stop();
  op.proc->stop(10s);

  fmt::print("\n{:<48} {:>12}\n", "measure", "value");
  fmt::print("{:<48} {:>9.0f} ms\n", "start-up to caches synced, 0 releases", startup0);
  fmt::print("{:<48} {:>9.0f} ms\n", fmt::format("start-up to caches synced, {} releases", releases), startupN);
  fmt::print("{:<48} {:>9.1f} s\n", fmt::format("{} new releases -> all Stable", releases), settle_ms / 1000);
  fmt::print("{:<48} {:>9.1f} MiB\n", "operator RSS, 0 releases", rss0);
  fmt::print("{:<48} {:>9.1f} MiB\n", fmt::format("operator RSS, {} settled releases", releases), rssN);
  fmt::print("{:<48} {:>9.1f} MiB\n", fmt::format("operator peak RSS while {} releases settle", releases), peakN);
  fmt::print("{:<48} {:>9.1f} MiB\n", "RSS per 1000 releases (extrapolated)", (rssN - rss0) / releases * 1000);
  fmt::print("{:<48} {:>12}\n", "objects changed over 2 resyncs when settled", changed);
  if (!reaction_ms.empty()) {
    fmt::print("{:<48} {:>9.1f} ms\n", fmt::format("promotable -> switched, median of {}", reaction_ms.size()), median(reaction_ms));
    fmt::print("{:<48} {:>9.1f} ms\n", "promotable -> switched, worst", *std::max_element(reaction_ms.begin(), reaction_ms.end()));
  }
  return settled && changed == 0 ? 0 : 1;
}
