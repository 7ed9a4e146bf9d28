// Restart benchmark (issue 14, item 4 at 10,000; prints figures, asserts nothing). The memory goal is
// stated for 10,000 releases, which take ~1.5 h to settle one by one on this 2-core plane; so:
//  1. --source releases settle on the plane named by BGO_KUBECONFIG (the operator scoped to their
//     namespace), then the operator stops;
//  2. the kube-controller-manager is stopped (its pid file under BGO_PLANE_DIR): nothing but this
//     benchmark writes from here on, so the copies stay as settled as their source;
//  3. the source namespace's objects (releases with their status, Deployments with their status,
//     Services, EndpointSlices, IngressRoutes, PDBs) are copied into more namespaces, owner UIDs
//     rewritten, until each --sizes step is reached; at each step the operator starts watching all
//     namespaces and runs --seconds: start -> caches synced, RSS steady (median of the last third),
//     peak (VmHWM), threads, RSS per release added since the last step, and its writes from the
//     audit log (0 when the copies are settled).
//
// --reuse NS takes NS as the settled source (a plane kept from an earlier run, started without its
// controller manager: BGO_PLANE_COMPONENTS="etcd kube-apiserver") and adds copies to those there.
//
//   bgo_restart_bench [--source N] [--sizes 1000,5000,10000] [--seconds S] [--operator PATH] [--reuse NS]

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "bench/bench_common.h"
#include "integration/support/http.h"
#include "integration/support/namespace.h"
#include "integration/support/plane.h"
#include "integration/support/poll.h"
#include "integration/support/subprocess.h"

using namespace std::chrono_literals;
using bgo::bench::AuditCount;
using bgo::bench::auditWrites;
using bgo::bench::ms;
using bgo::bench::parallelFor;
using bgo::bench::podTemplate;
using bgo::bench::usageOf;
using json = nlohmann::json;
namespace gvrs = bgo::core::gvrs;
using Wall = std::chrono::system_clock;

namespace {

json release(const std::string& ns, const std::string& name) {
  return {{"apiVersion", "bluegreen.io/v1alpha1"},
          {"kind", "BlueGreenRelease"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec",
           {{"replicas", 1},
            {"template", podTemplate("restart:1", name)},
            {"routing", {{"host", name + ".restart.example"}}},
            {"promotion", {{"readyForSeconds", 0}}},
            {"scaleDown", {{"delaySeconds", 0}}}}}};
}

bool allStable(bgo::kube::KubeClient& c, const std::string& ns, int n) {
  auto all = bgo::kube::listAll(c, gvrs::kBlueGreenReleases, ns);
  if (!all) return false;
  int k = 0;
  for (const auto& r : all->items) {
    const json& st = r.value("status", json::object());
    if (st.value("stage", "") == "Stable" && st.value("observedGeneration", 0) == r["metadata"].value("generation", 0)) ++k;
  }
  return k == n;
}

// An object as a new one for namespace ns: server-set metadata dropped, owner UIDs mapped.
json fresh(json o, const std::string& ns, const std::map<std::string, std::string>& uids) {
  json& m = o["metadata"];
  for (const char* k : {"uid", "resourceVersion", "creationTimestamp", "managedFields", "generation", "selfLink"}) {
    m.erase(k);
  }
  m["namespace"] = ns;
  if (m.contains("ownerReferences")) {
    for (auto& ref : m["ownerReferences"]) {
      auto it = uids.find(ref.value("kind", "") + "/" + ref.value("name", ""));
      ref["uid"] = it == uids.end() ? "" : it->second;  // an owner not copied: the create fails and says so
    }
  }
  o.erase("status");
  if (o["spec"].contains("clusterIP")) {
    // The plane's service range (/20) holds 4,096 addresses, not 20,000: the copies are headless
    // (the operator applies selector and ports only, which stay as they were).
    o["spec"]["clusterIP"] = "None";
    o["spec"]["clusterIPs"] = json::array({"None"});
  }
  return o;
}

struct Source {
  std::map<std::string, std::vector<json>> by_kind;  // resource -> items
};

// Copies the source into namespace ns; returns the writes it made or -1 on an error (printed).
int copyInto(bgo::kube::KubeClient& c, const Source& src, const std::string& ns) {
  std::atomic<int> writes{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::map<std::string, std::string> uids;  // kind/name -> new uid
  auto create = [&](const bgo::core::Gvr& gvr, const std::string& kind, const json& o, bool with_status) {
    json body;
    {
      std::lock_guard l(mu);
      body = fresh(o, ns, uids);
    }
    auto made = c.create(gvr, ns, body);
    if (!made) {
      fmt::print(stderr, "copy {} {}/{}: {}\n", gvr.resource, ns, o["metadata"].value("name", ""), made.error().describe());
      failed = true;
      return;
    }
    ++writes;
    {
      std::lock_guard l(mu);
      uids[kind + "/" + (*made)["metadata"].value("name", "")] = (*made)["metadata"].value("uid", "");
    }
    if (!with_status || !o.contains("status")) return;
    json st = o["status"];
    if (st.contains("observedGeneration")) st["observedGeneration"] = (*made)["metadata"].value("generation", 1);
    (*made)["status"] = st;
    auto put = c.replace(gvr, ns, (*made)["metadata"].value("name", ""), *made, {.subresource = "status"});
    if (!put) {
      fmt::print(stderr, "copy status {} {}: {}\n", gvr.resource, ns, put.error().describe());
      failed = true;
      return;
    }
    ++writes;
  };
  auto copyKind = [&](const bgo::core::Gvr& gvr, const std::string& kind, bool with_status) {
    if (failed) return;
    const auto it = src.by_kind.find(gvr.resource);
    if (it == src.by_kind.end()) return;
    const auto& items = it->second;
    parallelFor(static_cast<int>(items.size()), 8, [&](int i) { create(gvr, kind, items[i], with_status); });
  };
  // Owners before what they own: releases, then Services (EndpointSlices name them), then the rest.
  copyKind(gvrs::kBlueGreenReleases, "BlueGreenRelease", true);
  copyKind(gvrs::kServices, "Service", false);
  copyKind(gvrs::kDeployments, "Deployment", true);
  copyKind(gvrs::kEndpointSlices, "EndpointSlice", false);
  copyKind(gvrs::kIngressRoutes, "IngressRoute", false);
  copyKind(gvrs::kPodDisruptionBudgets, "PodDisruptionBudget", true);
  return failed ? -1 : writes.load();
}

// Creates `n` releases in ns, lets the operator settle them, stops it, then stops the controller
// manager so nothing but this benchmark writes from here on.
bool settleSource(bgo::kube::KubeClient& c, const std::string& bin, const std::string& kubeconfig, const std::string& ns,
                  int n, const std::string& log, const char* plane_dir) {
  parallelFor(n, 8, [&](int i) {
    auto r = c.create(gvrs::kBlueGreenReleases, ns, release(ns, fmt::format("r{:04d}", i)));
    if (!r) fmt::print(stderr, "create: {}\n", r.error().describe());
  });
  {
    auto op = bgo::itest::Subprocess::start({{bin, "--kubeconfig", kubeconfig, "--namespace", ns,
                                              "--leader-elect=false", "--health-port", "0", "--metrics-port", "0"},
                                             log, false, {}});
    if (!op) {
      fmt::print(stderr, "cannot start {}: {}\n", bin, op.error().describe());
      return false;
    }
    if (!bgo::itest::eventually([&] { return allStable(c, ns, n); }, 900s, 1s)) {
      fmt::print(stderr, "the source did not settle in 900 s\n");
      return false;
    }
    std::this_thread::sleep_for(3s);  // the last scale-downs' status
    (*op)->stop(20s);
  }
  std::ifstream pf(std::string(plane_dir) + "/pids/kube-controller-manager.pid");
  pid_t kcm = 0;
  pf >> kcm;
  if (kcm <= 0 || ::kill(kcm, SIGTERM) != 0) {
    fmt::print(stderr, "cannot stop the controller manager (pid file under {})\n", plane_dir);
    return false;
  }
  std::this_thread::sleep_for(3s);
  return true;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int source_n = 100;
  std::vector<int> sizes{1000, 5000, 10000};
  int seconds = 60;
  std::string bin = BGO_OPERATOR_BIN;
  std::string reuse;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--source") source_n = std::atoi(argv[i + 1]);
    else if (a == "--seconds") seconds = std::atoi(argv[i + 1]);
    else if (a == "--operator") bin = argv[i + 1];
    else if (a == "--reuse") reuse = argv[i + 1];
    else if (a == "--sizes") {
      sizes.clear();
      std::stringstream in(argv[i + 1]);
      for (std::string s; std::getline(in, s, ',');) sizes.push_back(std::atoi(s.c_str()));
    } else {
      fmt::print(stderr, "unknown flag {}\n", a);
      return 2;
    }
  }
  const char* plane_dir = std::getenv("BGO_PLANE_DIR");
  if (plane_dir == nullptr || source_n < 1 || sizes.empty()) {
    fmt::print(stderr, "needs BGO_PLANE_DIR (a private plane: its controller manager is stopped), --source >= 1 and --sizes\n");
    return 2;
  }
  auto plane = bgo::itest::planeClient();
  if (!plane) {
    fmt::print(stderr, "{}\n", plane.error().message);
    return 2;
  }
  bgo::kube::KubeClient& c = **plane;
  const std::string kubeconfig = bgo::itest::planeKubeconfig();
  const std::string audit_log = std::string(plane_dir) + "/logs/audit.log";

  // 1. The source, settled by the operator itself (or kept from an earlier run).
  std::optional<bgo::itest::ScopedNamespace> scoped;
  if (reuse.empty()) {
    scoped.emplace(c, "bench-restart", "restart-bench");
    if (scoped->error()) {
      fmt::print(stderr, "namespace: {}\n", scoped->error()->describe());
      return 1;
    }
    scoped->keep();  // the plane is private; it goes with the plane
  }
  const std::string source_ns = reuse.empty() ? scoped->name() : reuse;
  const std::string log = "/tmp/bgo-restart-bench-" + source_ns + ".log";
  fmt::print("restart benchmark: {} source releases in {}{}, sizes {}, {} s each; log {}\n", source_n, source_ns,
             reuse.empty() ? "" : " (kept)", fmt::join(sizes, ","), seconds, log);
  std::fflush(stdout);
  if (reuse.empty() && !settleSource(c, bin, kubeconfig, source_ns, source_n, log, plane_dir)) return 1;
  Source src;
  for (const auto& gvr : {gvrs::kBlueGreenReleases, gvrs::kServices, gvrs::kDeployments, gvrs::kEndpointSlices,
                          gvrs::kIngressRoutes, gvrs::kPodDisruptionBudgets}) {
    auto all = bgo::kube::listAll(c, gvr, source_ns);
    if (!all) {
      fmt::print(stderr, "list {}: {}\n", gvr.resource, all.error().describe());
      return 1;
    }
    src.by_kind[gvr.resource] = all->items;
  }
  source_n = static_cast<int>(src.by_kind[gvrs::kBlueGreenReleases.resource].size());
  if (source_n == 0 || !allStable(c, source_ns, source_n)) {
    fmt::print(stderr, "the source is no longer settled\n");
    return 1;
  }

  // 3. Copies up to each size, then the operator over all namespaces.
  fmt::print("\n{:>8} {:>10} {:>12} {:>12} {:>12} {:>8} {:>10} {:>9}\n", "releases", "copy s", "synced ms",
             "RSS MiB", "peak MiB", "threads", "+KiB/rel", "op writes");
  std::fflush(stdout);
  int have = 0;  // every release on the plane: the operator watches all namespaces
  if (auto all = bgo::kube::listAll(c, gvrs::kBlueGreenReleases, ""); all) have = static_cast<int>(all->items.size());
  int copies = 0;
  double prev_rss = 0;
  int prev_have = 0;
  for (int size : sizes) {
    const auto c0 = std::chrono::steady_clock::now();
    while (have + source_n <= size) {
      const std::string ns = fmt::format("{}-c{}", source_ns, copies++);
      auto made = c.create(gvrs::kNamespaces, "", json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});
      if (!made && made.error().is(bgo::core::ErrorCode::kAlreadyExists)) continue;  // a copy of an earlier run
      if (!made) {
        fmt::print(stderr, "namespace {}: {}\n", ns, made.error().describe());
        return 1;
      }
      if (copyInto(c, src, ns) < 0) return 1;
      have += source_n;
    }
    const double copy_s = ms(std::chrono::steady_clock::now() - c0) / 1000;
    // The copies' owner UIDs changed, so what the operator applied (its hash annotation covers the
    // owner references) is outdated once: a first run writes each copy once and settles it.
    {
      const std::string plog = log + fmt::format(".{}.prime", have);
      auto op = bgo::itest::Subprocess::start({{bin, "--kubeconfig", kubeconfig, "--leader-elect=false",
                                                "--health-port", "0", "--metrics-port", "0"},
                                               plog, false, {}});
      if (!op) {
        fmt::print(stderr, "cannot start {}: {}\n", bin, op.error().describe());
        return 1;
      }
      if (!bgo::itest::eventually([&] { return bgo::itest::tailFile(plog, 400).find("caches synced") != std::string::npos; },
                                  900s, 100ms)) {
        fmt::print(stderr, "operator did not sync: {}\n", bgo::itest::tailFile(plog, 20));
        return 1;
      }
      // Settled when its write counter held for 20 s (status writes are not logged, so the log cannot tell).
      static const std::regex kPort("metrics=:([0-9]+)");
      std::smatch m;
      const std::string head = bgo::itest::tailFile(plog, 100000);
      if (!std::regex_search(head, m, kPort)) {
        fmt::print(stderr, "the priming run's log names no metrics port\n");
        return 1;
      }
      const int port = std::stoi(m[1]);
      auto writes = [&] {
        auto r = bgo::itest::httpGet("127.0.0.1", port, "/metrics");
        double sum = 0;
        if (!r || r->status != 200) return -1.0;
        for (const char* verb : {"create", "update", "apply", "patch", "delete"}) {
          sum += bgo::itest::metricSum(r->body, "rest_client_requests_total", {{"verb", verb}}).value_or(0);
        }
        return sum;
      };
      double last = -1;
      int same = 0;
      const auto p0 = std::chrono::steady_clock::now();
      while (same < 10 && std::chrono::steady_clock::now() - p0 < 1800s) {
        std::this_thread::sleep_for(2s);
        const double now = writes();
        same = now == last ? same + 1 : 0;
        last = now;
      }
      fmt::print("  (priming: {:.0f} writes, {:.0f} s)\n", last, ms(std::chrono::steady_clock::now() - p0) / 1000);
      (*op)->stop(20s);
    }
    const auto w0 = Wall::now();
    const auto s0 = std::chrono::steady_clock::now();
    auto op = bgo::itest::Subprocess::start({{bin, "--kubeconfig", kubeconfig, "--leader-elect=false",
                                              "--health-port", "0", "--metrics-port", "0"},
                                             log + fmt::format(".{}", have), false, {}});
    if (!op) {
      fmt::print(stderr, "cannot start {}: {}\n", bin, op.error().describe());
      return 1;
    }
    const std::string oplog = log + fmt::format(".{}", have);
    if (!bgo::itest::eventually([&] { return bgo::itest::tailFile(oplog, 200).find("caches synced") != std::string::npos; },
                                600s, 5ms)) {
      fmt::print(stderr, "operator did not sync: {}\n", bgo::itest::tailFile(oplog, 20));
      return 1;
    }
    const double synced_ms = ms(std::chrono::steady_clock::now() - s0);
    std::vector<double> rss;
    int threads = 0;
    for (int s = 0; s < seconds; ++s) {
      std::this_thread::sleep_for(1s);
      auto u = usageOf((*op)->pid());
      rss.push_back(u.rss_mib);
      threads = std::max(threads, u.threads);
    }
    double peak = 0;
    {
      std::ifstream st("/proc/" + std::to_string((*op)->pid()) + "/status");
      for (std::string line; std::getline(st, line);) {
        if (line.rfind("VmHWM:", 0) == 0) peak = std::strtod(line.c_str() + 6, nullptr) / 1024.0;
      }
    }
    const auto w1 = Wall::now();
    (*op)->stop(20s);
    std::this_thread::sleep_for(2s);  // the audit log is written a little after the response
    AuditCount audit = auditWrites(audit_log, w0, w1);
    const std::vector<double> tail(rss.end() - static_cast<long>(rss.size() / 3), rss.end());
    const double steady = median(tail.empty() ? rss : tail);
    fmt::print("{:>8} {:>10.1f} {:>12.0f} {:>12.1f} {:>12.1f} {:>8} {:>10.1f} {:>9}\n", have, copy_s, synced_ms,
               steady, peak, threads, prev_have ? (steady - prev_rss) * 1024 / (have - prev_have) : 0.0, audit.available ? std::to_string(audit.by_agent["bluegreen-operator"]) : "n/a");
    prev_rss = steady;
    prev_have = have;
    for (const auto& [what, k] : audit.by_resource) {
      if (what.rfind("bluegreen-operator", 0) == 0) fmt::print("    {:<54} {:>8}\n", what, k);
    }
    std::fflush(stdout);
  }
  return 0;
}
