// Soak benchmark (issue 14, item 6; prints figures, asserts nothing). On the control plane named by
// BGO_KUBECONFIG, with the real operator binary as a child process (leader election on, 30 s resync):
// N releases settle, then every round gives all N a new image and waits until all are Stable again at
// their new generation, until --target releases were processed or --minutes passed. After every round
// it samples the operator's RSS, threads, open file descriptors and sockets and CPU seconds from /proc;
// at the end it prints the RSS slope (least squares over the rounds after the first, MiB per 1,000
// releases processed), the ranges of threads, descriptors and sockets, and the failures seen.
//
//   bgo_soak_bench [--releases N] [--target T] [--minutes M] [--workers W] [--csv PATH] [--operator PATH]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "bench/bench_common.h"
#include "integration/support/namespace.h"
#include "integration/support/plane.h"
#include "integration/support/poll.h"
#include "integration/support/subprocess.h"

using namespace std::chrono_literals;
using bgo::bench::ms;
using bgo::bench::parallelFor;
using bgo::bench::podTemplate;
using bgo::bench::Usage;
using bgo::bench::usageOf;
using bgo::core::gvrs::kBlueGreenReleases;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

std::string appName(int i) { return fmt::format("s{:04d}", i); }

json release(const std::string& ns, const std::string& name) {
  return {{"apiVersion", "bluegreen.io/v1alpha1"},
          {"kind", "BlueGreenRelease"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec",
           {{"replicas", 1},
            {"template", podTemplate("soak:0", name)},
            {"routing", {{"host", name + ".soak.example"}}},
            {"promotion", {{"readyForSeconds", 0}, {"progressDeadlineSeconds", 600}}},
            {"scaleDown", {{"delaySeconds", 0}}}}}};
}

struct Tally {
  int stable = 0;  // Stable at the current generation
  int failed = 0;  // stage Failed
};

Tally tally(bgo::kube::KubeClient& c, const std::string& ns) {
  Tally t;
  auto all = bgo::kube::listAll(c, kBlueGreenReleases, ns);
  if (!all) return t;
  for (const auto& r : all->items) {
    const json& st = r.value("status", json::object());
    const std::string stage = st.value("stage", "");
    if (stage == "Failed") ++t.failed;
    if (stage == "Stable" && st.value("observedGeneration", 0) == r["metadata"].value("generation", 0)) ++t.stable;
  }
  return t;
}

struct Sample {
  int round = 0;
  long processed = 0;
  double elapsed_s = 0;
  double round_s = 0;
  Usage u;
};

// Least-squares slope of y over x.
double slope(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  if (n < 2) return 0;
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sx += x[i];
    sy += y[i];
    sxx += x[i] * x[i];
    sxy += x[i] * y[i];
  }
  const double d = n * sxx - sx * sx;
  return d == 0 ? 0 : (n * sxy - sx * sy) / d;
}

}  // namespace

int main(int argc, char** argv) {
  int releases = 100;
  long target = 10000;
  double minutes = 120;
  std::string workers = "2";
  std::string csv_path = "/tmp/bgo-soak.csv";
  std::string bin = BGO_OPERATOR_BIN;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--releases") releases = std::atoi(argv[i + 1]);
    else if (a == "--target") target = std::atol(argv[i + 1]);
    else if (a == "--minutes") minutes = std::atof(argv[i + 1]);
    else if (a == "--workers") workers = argv[i + 1];
    else if (a == "--csv") csv_path = argv[i + 1];
    else if (a == "--operator") bin = argv[i + 1];
    else {
      fmt::print(stderr, "unknown flag {}\n", a);
      return 2;
    }
  }
  if (releases < 1 || target < releases) {
    fmt::print(stderr, "--releases must be >= 1 and --target >= --releases\n");
    return 2;
  }
  auto plane = bgo::itest::planeClient();
  if (!plane) {
    fmt::print(stderr, "{}\n", plane.error().message);
    return 2;
  }
  bgo::kube::KubeClient& c = **plane;
  const std::string kubeconfig = bgo::itest::planeKubeconfig();
  bgo::itest::ScopedNamespace ns(c, "bench-soak", "soak-bench");
  if (ns.error()) {
    fmt::print(stderr, "namespace: {}\n", ns.error()->describe());
    return 1;
  }
  const std::string log = "/tmp/bgo-soak-bench-" + ns.name() + ".log";
  fmt::print("soak: namespace {}, {} releases a round, until {} processed or {:.0f} min; operator --workers {}, "
             "leader election on, resync 30 s; log {}, csv {}\n",
             ns.name(), releases, target, minutes, workers, log, csv_path);
  std::fflush(stdout);

  parallelFor(releases, 8, [&](int i) {
    auto r = c.create(kBlueGreenReleases, ns.name(), release(ns.name(), appName(i)));
    if (!r) fmt::print(stderr, "create {}: {}\n", appName(i), r.error().describe());
  });
  const std::vector<std::string> op_argv{
      bin, "--kubeconfig", kubeconfig, "--namespace", ns.name(), "--leader-elect=true", "--leader-election-namespace",
      ns.name(), "--health-port", "0", "--metrics-port", "0", "--resync-period", "30", "--workers", workers};
  auto op = bgo::itest::Subprocess::start({op_argv, log, false, {}});
  if (!op) {
    fmt::print(stderr, "cannot start {}: {}\n", bin, op.error().describe());
    return 1;
  }
  const auto t0 = Clock::now();
  const pid_t pid = (*op)->pid();
  if (!bgo::itest::eventually([&] { return tally(c, ns.name()).stable == releases; }, 900s, 1s)) {
    fmt::print(stderr, "only {}/{} Stable after 900 s; log: {}\n", tally(c, ns.name()).stable, releases,
               bgo::itest::tailFile(log, 20));
    return 1;
  }
  std::vector<Sample> samples;
  samples.push_back({0, 0, ms(Clock::now() - t0) / 1000, ms(Clock::now() - t0) / 1000, usageOf(pid)});
  std::ofstream csv(csv_path);
  csv << "round,processed,elapsed_s,round_s,rss_mib,cpu_s,threads,fds,sockets\n";
  auto emit = [&](const Sample& s) {
    csv << fmt::format("{},{},{:.1f},{:.1f},{:.2f},{:.2f},{},{},{}\n", s.round, s.processed, s.elapsed_s, s.round_s,
                       s.u.rss_mib, s.u.cpu_s, s.u.threads, s.u.fds, s.u.sockets)
        << std::flush;
    fmt::print("  round {:>3}: {:>6} processed, {:>7.1f} s ({:>5.1f} s this round)  RSS {:>6.1f} MiB  CPU {:>7.1f} s  "
               "threads {:>3}  fds {:>3}  sockets {:>3}\n",
               s.round, s.processed, s.elapsed_s, s.round_s, s.u.rss_mib, s.u.cpu_s, s.u.threads, s.u.fds, s.u.sockets);
    std::fflush(stdout);
  };
  emit(samples.back());

  int failed_max = 0;
  std::string stopped_by = "target";
  for (int round = 1;; ++round) {
    if (samples.back().processed >= target) break;
    if (samples.back().elapsed_s > minutes * 60) {
      stopped_by = "time limit";
      break;
    }
    const std::string image = fmt::format("soak:{}", round);
    const auto r0 = Clock::now();
    parallelFor(releases, 8, [&](int i) {
      json patch{{"spec", {{"template", podTemplate(image, appName(i))}}}};
      auto r = c.patch(kBlueGreenReleases, ns.name(), appName(i), bgo::kube::PatchType::kMerge, patch);
      if (!r) fmt::print(stderr, "image {}: {}\n", appName(i), r.error().describe());
    });
    Tally t;
    const bool done = bgo::itest::eventually([&] {
      t = tally(c, ns.name());
      failed_max = std::max(failed_max, t.failed);
      return t.stable == releases;
    }, 600s, 500ms);
    const auto now = Clock::now();
    samples.push_back({round, static_cast<long>(round) * releases, ms(now - t0) / 1000, ms(now - r0) / 1000, usageOf(pid)});
    emit(samples.back());
    if (!done) {
      fmt::print(stderr, "round {}: only {}/{} Stable after 600 s ({} Failed)\n", round, t.stable, releases, t.failed);
      stopped_by = "a round that did not settle";
      break;
    }
    if (!(*op)->running()) {
      stopped_by = "the operator exited";
      break;
    }
  }
  const Sample& last = samples.back();
  const Usage end = usageOf(pid);
  (*op)->stop(20s);

  // The slope leaves out round 0 and the first round (caches and arenas warming up).
  std::vector<double> x, rss;
  int tmin = 1 << 30, tmax = 0, fmin = 1 << 30, fmax = 0, smin = 1 << 30, smax = 0;
  double rmin = 1e9, rmax = 0;
  std::vector<double> round_s;
  for (const auto& s : samples) {
    if (s.round >= 2) {
      x.push_back(static_cast<double>(s.processed) / 1000.0);
      rss.push_back(s.u.rss_mib);
    }
    if (s.round >= 1) {
      round_s.push_back(s.round_s);
      tmin = std::min(tmin, s.u.threads), tmax = std::max(tmax, s.u.threads);
      fmin = std::min(fmin, s.u.fds), fmax = std::max(fmax, s.u.fds);
      smin = std::min(smin, s.u.sockets), smax = std::max(smax, s.u.sockets);
      rmin = std::min(rmin, s.u.rss_mib), rmax = std::max(rmax, s.u.rss_mib);
    }
  }
  std::sort(round_s.begin(), round_s.end());
  const double cpu_per_k = last.processed > 0 ? (last.u.cpu_s - samples.front().u.cpu_s) / (last.processed / 1000.0) : 0;
  fmt::print("\n{:<56} {:>18}\n", "measure (soak)", "value");
  fmt::print("{:<56} {:>18}\n", "stopped by", stopped_by);
  fmt::print("{:<56} {:>18}\n", "rounds / releases processed", fmt::format("{} / {}", last.round, last.processed));
  fmt::print("{:<56} {:>16.1f} m\n", "wall time", last.elapsed_s / 60);
  if (!round_s.empty()) fmt::print("{:<56} {:>16.1f} s\n", "round time, median", round_s[round_s.size() / 2]);
  fmt::print("{:<56} {:>14.1f} MiB\n", "RSS after the first settle (round 0)", samples.front().u.rss_mib);
  fmt::print("{:<56} {:>18}\n", "RSS over the rounds, min / max (MiB)", fmt::format("{:.1f} / {:.1f}", rmin, rmax));
  fmt::print("{:<56} {:>14.1f} MiB\n", "RSS at the end", end.rss_mib);
  fmt::print("{:<56} {:>18}\n", "RSS slope, rounds >= 2 (MiB per 1,000 processed)", fmt::format("{:+.3f}", slope(x, rss)));
  fmt::print("{:<56} {:>18}\n", "threads min / max", fmt::format("{} / {}", tmin, tmax));
  fmt::print("{:<56} {:>18}\n", "open descriptors min / max", fmt::format("{} / {}", fmin, fmax));
  fmt::print("{:<56} {:>18}\n", "sockets min / max", fmt::format("{} / {}", smin, smax));
  fmt::print("{:<56} {:>16.1f} s\n", "CPU seconds per 1,000 processed", cpu_per_k);
  fmt::print("{:<56} {:>18}\n", "releases Failed at any sample (max)", failed_max);
  return stopped_by == "target" || stopped_by == "time limit" ? 0 : 1;
}
