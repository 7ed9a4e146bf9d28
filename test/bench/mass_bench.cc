// Mass-switch benchmark (issue 14, item 5; prints figures, asserts no time). On the control
// plane named by BGO_KUBECONFIG, with the real operator binary as a child process:
//  1. N releases (1 replica, promotion.auto=false, readyForSeconds 0) settle (Stable);
//  2. every release gets a new image: its preview color deploys it and becomes promotable,
//     and with manual promotion the release waits in AwaitingPromotion;
//  3. the benchmark writes the promote request (annotation bluegreen.io/promote=<previewRevision>)
//     to all N, from --writers threads, as fast as the API server takes them;
//  4. per release: promote request accepted (the patch answered) -> main IngressRoute names the
//     preview color (this process's own watch): p50/p90/p99/max, last accepted -> last switched,
//     and the writes the API server took in that window (from its audit log, when the plane
//     runs with BGO_PLANE_AUDIT=1);
//     With --cold the operator is stopped before the promote requests are written and started
//     after: all N are promotable at the one moment its caches have synced, and the figures
//     count from that moment (the operator's own throughput, without the writes racing it);
//  5. the plane's floor (--floor, the operator stopped): a plain client creates N IngressRoutes,
//     then patches each once from --writers threads; writes/s and patch -> seen in a watch.
//
//   bgo_mass_bench [--releases N] [--workers W] [--writers K] [--operator PATH]
//                  [--namespace NS] [--keep] [--no-floor] [--cold] [--operator-arg ARG]...
// --keep leaves the namespace (and its settled releases) for a later run with --namespace NS,
// which skips most of step 1.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
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
#include "operator/kube/rest/config.h"
#include "operator/kube/rest/rest_kube_client.h"

using namespace std::chrono_literals;
using bgo::core::gvrs::kBlueGreenReleases;
using bgo::core::gvrs::kIngressRoutes;
using json = nlohmann::json;
using bgo::bench::ms;
using bgo::bench::podTemplate;
using bgo::bench::parallelFor;
using bgo::bench::AuditCount;
using bgo::bench::auditWrites;
using Clock = std::chrono::system_clock;  // wall time: compared with the audit log's timestamps

namespace {

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, i == 0 ? 0 : i - 1)];
}

json release(const std::string& ns, const std::string& name, const std::string& image) {
  return {{"apiVersion", "bluegreen.io/v1alpha1"},
          {"kind", "BlueGreenRelease"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec",
           {{"replicas", 1},
            {"template", podTemplate(image)},
            {"routing", {{"host", name + ".mass.example"}}},
            {"promotion", {{"auto", false}, {"readyForSeconds", 0}, {"progressDeadlineSeconds", 1800}}},
            {"scaleDown", {{"delaySeconds", 0}}}}}};
}

json plainRoute(const std::string& ns, const std::string& name, const std::string& service) {
  return {{"apiVersion", "traefik.io/v1alpha1"},
          {"kind", "IngressRoute"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"labels", {{"bench", "floor"}}}}},
          {"spec",
           {{"entryPoints", json::array({"web"})},
            {"routes", json::array({{{"match", "Host(`" + name + ".floor.example`)"},
                                     {"kind", "Rule"},
                                     {"services", json::array({{{"name", service}, {"port", 80}}})}}})}}}};
}

std::string mainService(const json& route) {
  const json& rs = route["spec"].value("routes", json::array());
  if (rs.empty() || rs[0].value("services", json::array()).empty()) return "";
  return rs[0]["services"][0].value("name", "");
}

struct Counts {
  int stable = 0, awaiting = 0, total = 0;
};

// Releases at the current generation: Stable, or AwaitingPromotion with the wanted image.
Counts count(bgo::kube::KubeClient& c, const std::string& ns, const std::string& image,
             std::map<std::string, json>* statuses = nullptr) {
  Counts n;
  auto all = bgo::kube::listAll(c, kBlueGreenReleases, ns);
  if (!all) return n;
  for (const auto& r : all->items) {
    ++n.total;
    const json& st = r.value("status", json::object());
    if (st.value("observedGeneration", 0) != r["metadata"].value("generation", 0)) continue;
    const std::string stage = st.value("stage", "");
    if (stage == "Stable") ++n.stable;
    if (stage == "AwaitingPromotion" && !st.value("previewRevision", "").empty() &&
        r["spec"]["template"]["spec"]["containers"][0].value("image", "") == image) {
      ++n.awaiting;
    }
    if (statuses) (*statuses)[r["metadata"].value("name", "")] = st;
  }
  return n;
}

std::unique_ptr<bgo::itest::Subprocess> startOperator(const std::vector<std::string>& argv, const std::string& log) {
  auto p = bgo::itest::Subprocess::start({argv, log, false, {}});
  if (!p) {
    fmt::print(stderr, "cannot start {}: {}\n", argv[0], p.error().describe());
    std::exit(1);
  }
  bool synced = bgo::itest::eventually(
      [&] { return bgo::itest::tailFile(log, 50).find("caches synced") != std::string::npos; }, 120s, 5ms);
  if (!synced) {
    fmt::print(stderr, "operator did not sync: {}\n", bgo::itest::tailFile(log, 20));
    std::exit(1);
  }
  return std::move(*p);
}

}  // namespace

int main(int argc, char** argv) {
  int releases = 1000;
  int workers = 2;
  int writers = 8;
  bool keep = false;
  bool floor = true;
  bool cold = false;
  std::string bin = BGO_OPERATOR_BIN;
  std::string reuse;
  std::vector<std::string> extra;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--keep") {
      keep = true;
      continue;
    }
    if (a == "--no-floor") {
      floor = false;
      continue;
    }
    if (a == "--cold") {
      cold = true;
      continue;
    }
    if (i + 1 >= argc) break;
    if (a == "--namespace") reuse = argv[i + 1];
    else if (a == "--releases") releases = std::atoi(argv[i + 1]);
    else if (a == "--workers") workers = std::atoi(argv[i + 1]);
    else if (a == "--writers") writers = std::atoi(argv[i + 1]);
    else if (a == "--operator") bin = argv[i + 1];
    else if (a == "--operator-arg") extra.push_back(argv[i + 1]);
    ++i;
  }
  auto plane = bgo::itest::planeClient();  // also starts the REST runtime
  if (!plane) {
    fmt::print(stderr, "{}\n", plane.error().message);
    return 2;
  }
  const std::string kubeconfig = bgo::itest::planeKubeconfig();
  // A user agent of its own, so the audit log tells the benchmark's writes from the operator's.
  auto cfg = bgo::kube::rest::resolveConfig(kubeconfig);
  bgo::kube::rest::RestOptions rest_options;
  rest_options.user_agent = "bgo-mass-bench";
  if (!cfg) {
    fmt::print(stderr, "{}\n", cfg.error().message);
    return 2;
  }
  auto client = bgo::kube::rest::RestKubeClient::make(*cfg, rest_options);
  if (!client) {
    fmt::print(stderr, "{}\n", client.error().message);
    return 2;
  }
  bgo::kube::KubeClient& c = **client;
  const std::string audit_log = kubeconfig.substr(0, kubeconfig.rfind('/')) + "/logs/audit.log";

  std::optional<bgo::itest::ScopedNamespace> scoped;
  if (reuse.empty()) {
    scoped.emplace(c, "bench-mass", "mass-bench");
    if (scoped->error()) {
      fmt::print(stderr, "namespace: {}\n", scoped->error()->describe());
      return 1;
    }
    if (keep) scoped->keep();
  }
  const std::string ns = reuse.empty() ? scoped->name() : reuse;
  const std::string log = "/tmp/bgo-mass-bench-" + ns + ".log";
  fmt::print("mass-switch benchmark: namespace {}{}, {} releases, operator --workers {}, {} writer threads, log {}\n",
             ns, keep || !reuse.empty() ? " (kept)" : "", releases, workers, writers, log);
  std::fflush(stdout);

  // 1. N releases, settled.
  parallelFor(releases, writers, [&](int i) {
    auto r = c.create(kBlueGreenReleases, ns, release(ns, fmt::format("m{:04d}", i), "mass:1"));
    if (!r && r.error().code != bgo::core::ErrorCode::kAlreadyExists) {
      fmt::print(stderr, "create: {}\n", r.error().describe());
    }
  });
  std::vector<std::string> op_argv{bin, "--kubeconfig", kubeconfig, "--namespace", ns, "--leader-elect=false",
                                   "--health-port", "0", "--metrics-port", "0", "--workers",
                                   std::to_string(workers)};
  op_argv.insert(op_argv.end(), extra.begin(), extra.end());
  auto op = startOperator(op_argv, log);
  auto t0 = Clock::now();
  bool settled = bgo::itest::eventually([&] { return count(c, ns, "").stable == releases; }, 1800s, 1s);
  if (!settled) {
    fmt::print(stderr, "only {}/{} releases Stable after 1800 s\n", count(c, ns, "").stable, releases);
    return 1;
  }
  fmt::print("  {} releases Stable after {:.1f} s\n", releases, ms(Clock::now() - t0) / 1000);
  std::fflush(stdout);

  // 2. A new image for every release (another than the current one), until all are promotable.
  std::string image;
  {
    auto cur = c.get(kBlueGreenReleases, ns, "m0000");
    const std::string old = cur ? (*cur)["spec"]["template"]["spec"]["containers"][0].value("image", "") : "";
    image = old == "mass:2" ? "mass:3" : "mass:2";
  }
  t0 = Clock::now();
  parallelFor(releases, writers, [&](int i) {
    json patch{{"spec", {{"template", podTemplate(image)}}}};
    auto r = c.patch(kBlueGreenReleases, ns, fmt::format("m{:04d}", i), bgo::kube::PatchType::kMerge, patch);
    if (!r) fmt::print(stderr, "image: {}\n", r.error().describe());
  });
  bool ready = bgo::itest::eventually([&] { return count(c, ns, image).awaiting == releases; }, 1800s, 1s);
  std::map<std::string, json> statuses;
  Counts n = count(c, ns, image, &statuses);
  fmt::print("  {} image changes ({}) -> {} AwaitingPromotion after {:.1f} s\n", releases, image, n.awaiting,
             ms(Clock::now() - t0) / 1000);
  std::fflush(stdout);
  if (!ready) return 1;

  // 3. Watch the main routes, then promote all.
  std::mutex mu;
  std::map<std::string, std::string> target;  // release -> its main route's service once promoted
  std::map<std::string, Clock::time_point> accepted_at, switched_at;
  for (const auto& [name, st] : statuses) target[name] = name + "-" + st.value("previewColor", "");
  bgo::core::SystemClock sys;
  bgo::informer::Informer routes(c, kIngressRoutes, ns, "", sys);
  auto on_route = [&](const bgo::informer::ObjectPtr& o) {
    const auto now = Clock::now();
    std::string name = (*o)["metadata"].value("name", "");
    std::lock_guard l(mu);
    auto it = target.find(name);
    if (it != target.end() && mainService(*o) == it->second) switched_at.emplace(name, now);
  };
  routes.addEventHandlers({on_route, [&](auto&, auto& o) { on_route(o); }, nullptr});
  routes.start();
  if (!routes.waitForSync(60s)) {
    fmt::print(stderr, "route informer did not sync\n");
    return 1;
  }
  {
    std::lock_guard l(mu);
    if (!switched_at.empty()) fmt::print(stderr, "{} routes already on the preview color\n", switched_at.size());
  }
  std::atomic<int> promote_errors{0};
  if (cold) op->stop(20s);
  const auto p0 = Clock::now();
  parallelFor(releases, writers, [&](int i) {
    const std::string name = fmt::format("m{:04d}", i);
    json patch{{"metadata", {{"annotations", {{"bluegreen.io/promote", statuses[name].value("previewRevision", "")}}}}}};
    auto r = c.patch(kBlueGreenReleases, ns, name, bgo::kube::PatchType::kMerge, patch);
    const auto now = Clock::now();
    if (!r) {
      ++promote_errors;
      fmt::print(stderr, "promote {}: {}\n", name, r.error().describe());
      return;
    }
    std::lock_guard l(mu);
    accepted_at[name] = now;
  });
  const auto p1 = Clock::now();
  // --cold: every release is promotable from the moment the restarted operator's caches synced.
  std::optional<Clock::time_point> gate;
  double restart_ms = 0;
  if (cold) {
    const auto s0 = Clock::now();
    op = startOperator(op_argv, log + ".cold");
    gate = Clock::now();
    restart_ms = ms(*gate - s0);
  }
  bool all = bgo::itest::eventually([&] {
    std::lock_guard l(mu);
    return switched_at.size() >= static_cast<size_t>(releases);
  }, 600s, 2ms);
  routes.stop();
  std::vector<double> lat;
  Clock::time_point last_accepted{}, last_switched{}, first_accepted = p1;
  {
    std::lock_guard l(mu);
    for (const auto& [name, a] : accepted_at) {
      const auto from = gate ? *gate : a;
      last_accepted = std::max(last_accepted, from);
      first_accepted = std::min(first_accepted, from);
      auto s = switched_at.find(name);
      if (s == switched_at.end()) continue;
      last_switched = std::max(last_switched, s->second);
      lat.push_back(ms(s->second - from));
    }
  }
  std::this_thread::sleep_for(2s);  // the audit log is written a little after the response
  AuditCount audit = auditWrites(audit_log, gate ? *gate : p0, last_switched);
  op->stop(20s);

  const double window_s = ms(last_switched - (gate ? *gate : p0)) / 1000;
  const std::string from = cold ? "promotable (caches synced)" : "accepted";
  fmt::print("\n{:<58} {:>14}\n", "measure (mass switch)", "value");
  fmt::print("{:<58} {:>14}\n", "releases promoted / switched", fmt::format("{} / {}", accepted_at.size(), lat.size()));
  fmt::print("{:<58} {:>11.0f} ms\n", fmt::format("{} promote requests written (first sent -> last accepted)", releases), ms(p1 - p0));
  fmt::print("{:<58} {:>11.0f} /s\n", "promote requests accepted per second", accepted_at.size() / (ms(p1 - p0) / 1000));
  if (cold) fmt::print("{:<58} {:>11.0f} ms\n", "--cold: operator started -> caches synced (all promotable)", restart_ms);
  fmt::print("{:<58} {:>11.0f} ms\n", from + " -> main route switched, p50", pct(lat, 50));
  fmt::print("{:<58} {:>11.0f} ms\n", from + " -> main route switched, p90", pct(lat, 90));
  fmt::print("{:<58} {:>11.0f} ms\n", from + " -> main route switched, p99", pct(lat, 99));
  fmt::print("{:<58} {:>11.0f} ms\n", from + " -> main route switched, max", pct(lat, 100));
  fmt::print("{:<58} {:>11.0f} ms\n", cold ? "caches synced -> last route switched" : "last promote accepted -> last route switched", ms(last_switched - last_accepted));
  fmt::print("{:<58} {:>11.0f} ms\n", "first promote sent -> last route switched", ms(last_switched - p0));
  if (audit.available) {
    fmt::print("{:<58} {:>11.0f} /s\n", cold ? "API server writes/s, synced -> last switched (audit log)" : "API server writes/s, first sent -> last switched (audit)", audit.total / window_s);
    for (const auto& [agent, k] : audit.by_agent) fmt::print("  writes by {:<46} {:>14}\n", agent, k);
    for (const auto& [what, k] : audit.by_resource) {
      if (k >= releases / 20) fmt::print("    {:<54} {:>14}\n", what, k);
    }
  } else {
    fmt::print("(no audit log at {}: start the plane with BGO_PLANE_AUDIT=1 for the write counts)\n", audit_log);
  }
  std::fflush(stdout);

  // 5. The plane's floor: a plain client writes N IngressRoutes and patches each once.
  if (floor) {
    std::atomic<int> errors{0};
    std::map<std::string, Clock::time_point> patched_at, seen_at;
    bgo::informer::Informer plain(c, kIngressRoutes, ns, "bench", sys);
    auto on_plain = [&](const bgo::informer::ObjectPtr& o) {
      const auto now = Clock::now();
      if (mainService(*o) != "after") return;
      std::lock_guard l(mu);
      seen_at.emplace((*o)["metadata"].value("name", ""), now);
    };
    plain.addEventHandlers({on_plain, [&](auto&, auto& o) { on_plain(o); }, nullptr});
    plain.start();
    plain.waitForSync(60s);
    auto f0 = Clock::now();
    parallelFor(releases, writers, [&](int i) {
      auto r = c.create(kIngressRoutes, ns, plainRoute(ns, fmt::format("floor-{:04d}", i), "before"));
      if (!r) ++errors;
    });
    auto f1 = Clock::now();
    parallelFor(releases, writers, [&](int i) {
      const std::string name = fmt::format("floor-{:04d}", i);
      json patch = plainRoute(ns, name, "after");
      patch = {{"spec", patch["spec"]}};
      auto r = c.patch(kIngressRoutes, ns, name, bgo::kube::PatchType::kMerge, patch);
      const auto now = Clock::now();
      if (!r) {
        ++errors;
        return;
      }
      std::lock_guard l(mu);
      patched_at[name] = now;
    });
    auto f2 = Clock::now();
    bgo::itest::eventually([&] {
      std::lock_guard l(mu);
      return seen_at.size() >= patched_at.size();
    }, 120s, 2ms);
    plain.stop();
    std::vector<double> seen;
    Clock::time_point last_seen{};
    {
      std::lock_guard l(mu);
      for (const auto& [name, t] : patched_at) {
        if (auto s = seen_at.find(name); s != seen_at.end()) {
          seen.push_back(ms(s->second - t));
          last_seen = std::max(last_seen, s->second);
        }
      }
    }
    parallelFor(releases, writers, [&](int i) { (void)c.remove(kIngressRoutes, ns, fmt::format("floor-{:04d}", i)); });
    fmt::print("\n{:<58} {:>14}\n", fmt::format("plane floor (operator stopped, {} writer threads)", writers), "value");
    fmt::print("{:<58} {:>11.0f} ms\n", fmt::format("{} IngressRoutes created", releases), ms(f1 - f0));
    fmt::print("{:<58} {:>11.0f} /s\n", "creates per second", releases / (ms(f1 - f0) / 1000));
    fmt::print("{:<58} {:>11.0f} ms\n", fmt::format("{} IngressRoutes patched (first sent -> last answered)", releases), ms(f2 - f1));
    fmt::print("{:<58} {:>11.0f} /s\n", "patches per second", releases / (ms(f2 - f1) / 1000));
    fmt::print("{:<58} {:>11.0f} ms\n", "patch answered -> seen in a watch, p99", pct(seen, 99));
    fmt::print("{:<58} {:>11.0f} ms\n", "first patch sent -> last patch seen", ms(last_seen - f1));
    fmt::print("{:<58} {:>14}\n", "errors", errors.load());
  }
  return all && promote_errors == 0 ? 0 : 1;
}
