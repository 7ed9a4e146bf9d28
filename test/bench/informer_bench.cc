// Informer benchmark (prints figures; not a test). Creates N ConfigMaps in a
// fresh namespace on the control plane named by BGO_KUBECONFIG (or, with
// --fake, in FakeKubeClient), then for each run measures:
//  - sync: time from start() until the informer has listed everything;
//  - memory: VmRSS before the informer, after sync, after it is destroyed;
//  - live throughput: all N objects are updated (parallel writers) while the
//    informer watches; time until it has seen every update;
//  - replay throughput: a watch from the resourceVersion before the updates
//    streams the N update events back; events per second of that stream.
// Prints per-run rows and medians, then deletes the namespace.
//
//   bgo_informer_bench [--objects N] [--runs R] [--page-size P] [--writers W]
//                      [--kubeconfig PATH] [--fake] [--keep]

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <malloc.h>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "operator/core/clock.h"
#include "operator/informer/informer.h"
#include "operator/kube/rest/config.h"
#include "operator/kube/rest/rest_kube_client.h"
#include "operator/testing/builders.h"
#include "operator/testing/fake_kube_client.h"

namespace {

using namespace std::chrono_literals;
using bgo::kube::json;
using Clock = std::chrono::steady_clock;
namespace gvrs = bgo::core::gvrs;

struct Flags {
  int objects = 5000;
  int runs = 5;
  int64_t page_size = 500;
  int writers = 8;
  std::string kubeconfig;
  bool fake = false;
  bool keep = false;
};

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double rssMb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
  }
  return -1;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Runs fn(i) for i in [0, n) on `threads` threads; returns the first error.
std::optional<std::string> parallel(int n, int threads, const std::function<std::optional<std::string>(int)>& fn) {
  std::atomic<int> next{0};
  std::mutex mu;
  std::optional<std::string> first_error;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = next++; i < n; i = next++) {
        if (auto e = fn(i)) {
          std::lock_guard lock(mu);
          if (!first_error) first_error = e;
        }
      }
    });
  }
  for (auto& t : pool) t.join();
  return first_error;
}

std::string cmName(int i) { return fmt::format("cm-{:05d}", i); }

struct Row {
  double sync_ms = 0;
  double rss_before = 0;
  double rss_synced = 0;
  double rss_after = 0;
  double write_ms = 0;
  double live_ms = 0;
  double live_eps = 0;
  double replay_ms = -1;
  double replay_eps = -1;
};

int usage() {
  std::cerr << "usage: bgo_informer_bench [--objects N] [--runs R] [--page-size P] [--writers W]\n"
               "                          [--kubeconfig PATH] [--fake] [--keep]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  bgo::kube::rest::initRestRuntime(16);
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--objects") f.objects = std::atoi(value().c_str());
    else if (a == "--runs") f.runs = std::atoi(value().c_str());
    else if (a == "--page-size") f.page_size = std::atoll(value().c_str());
    else if (a == "--writers") f.writers = std::atoi(value().c_str());
    else if (a == "--kubeconfig") f.kubeconfig = value();
    else if (a == "--fake") f.fake = true;
    else if (a == "--keep") f.keep = true;
    else return usage();
  }
  if (f.objects <= 0 || f.runs <= 0 || f.writers <= 0) return usage();
  spdlog::set_level(spdlog::level::warn);

  std::unique_ptr<bgo::kube::KubeClient> client;
  std::string target;
  if (f.fake) {
    client = std::make_unique<bgo::testing::FakeKubeClient>(
        bgo::testing::FakeOptions{.event_history = static_cast<size_t>(f.objects) * 2 + 100});
    target = "FakeKubeClient (in memory)";
  } else {
    if (f.kubeconfig.empty()) {
      const char* env = std::getenv("BGO_KUBECONFIG");
      if (!env || !*env) {
        std::cerr << "bgo_informer_bench: BGO_KUBECONFIG is not set (source build/plane/env after "
                     "test/controlplane/up), or pass --kubeconfig PATH, or --fake\n";
        return 2;
      }
      f.kubeconfig = env;
    }
    auto cfg = bgo::kube::rest::loadKubeconfig(f.kubeconfig);
    if (!cfg) {
      std::cerr << "bgo_informer_bench: " << cfg.error().describe() << "\n";
      return 2;
    }
    target = cfg->server;
    auto rc = bgo::kube::rest::RestKubeClient::make(std::move(*cfg));
    if (!rc) {
      std::cerr << "bgo_informer_bench: " << rc.error().describe() << "\n";
      return 2;
    }
    client = std::move(*rc);
  }

  const std::string ns = fmt::format("bgo-bench-{}-{}", getpid(), std::time(nullptr) % 100000);
  bgo::core::SystemClock clock;
  if (auto r = client->create(gvrs::kNamespaces, "", bgo::testing::makeNamespace(ns)); !r) {
    std::cerr << "create namespace: " << r.error().describe() << "\n";
    return 1;
  }
  auto cleanup = [&] {
    if (f.keep) return;
    if (auto r = client->remove(gvrs::kNamespaces, "", ns); !r) {
      std::cerr << "delete namespace " << ns << ": " << r.error().describe() << "\n";
    }
  };

  const std::string payload(64, 'x');
  auto t_create = Clock::now();
  auto err = parallel(f.objects, f.writers, [&](int i) -> std::optional<std::string> {
    auto r = client->create(gvrs::kConfigMaps, ns,
                            bgo::testing::makeConfigMap(ns, cmName(i), {{"v", "0"}, {"payload", payload}},
                                                        {{"bench", "informer"}}));
    if (!r) return r.error().describe();
    return std::nullopt;
  });
  double create_ms = ms(Clock::now() - t_create);
  if (err) {
    std::cerr << "create ConfigMaps: " << *err << "\n";
    cleanup();
    return 1;
  }

  std::printf("informer benchmark: %d ConfigMaps (~%zu B data each) in namespace %s on %s\n", f.objects,
              payload.size() + 1, ns.c_str(), target.c_str());
  std::printf("page size %lld, %d writers, %d runs; created in %.0f ms (%.0f creates/s)\n\n",
              static_cast<long long>(f.page_size), f.writers, f.runs, create_ms, f.objects / (create_ms / 1000));
  std::printf("%-6s %9s %10s %10s %10s %10s %10s %11s %10s %12s\n", "run", "sync_ms", "rss0_MB", "rss_sync",
              "rss_after", "write_ms", "live_ms", "live_ev/s", "replay_ms", "replay_ev/s");

  std::vector<Row> rows;
  int exit_code = 0;
  for (int run = 1; run <= f.runs && exit_code == 0; ++run) {
    Row row;
    std::mutex mu;
    std::condition_variable cv;
    std::atomic<int> updates{0};
    row.rss_before = rssMb();
    {
      bgo::informer::InformerOptions opts;
      opts.page_size = f.page_size;
      // The selector leaves out what the server adds to every namespace (kube-root-ca.crt).
      bgo::informer::Informer inf(*client, gvrs::kConfigMaps, ns, "bench=informer", clock, opts);
      const std::string want_v = std::to_string(run);
      inf.addEventHandlers({nullptr,
                            [&](const bgo::informer::ObjectPtr&, const bgo::informer::ObjectPtr& o) {
                              if ((*o)["data"].value("v", "") == want_v && ++updates == f.objects) {
                                std::lock_guard lock(mu);
                                cv.notify_all();
                              }
                            },
                            nullptr});
      auto t0 = Clock::now();
      inf.start();
      if (!inf.waitForSync(600s) || inf.size() != static_cast<size_t>(f.objects)) {
        std::cerr << "informer did not sync all objects (" << inf.size() << "): " << inf.stats().last_error << "\n";
        exit_code = 1;
        break;
      }
      row.sync_ms = ms(Clock::now() - t0);
      row.rss_synced = rssMb();
      std::string rv_before = inf.stats().resource_version;

      auto t_write = Clock::now();
      err = parallel(f.objects, f.writers, [&](int i) -> std::optional<std::string> {
        auto r = client->patch(gvrs::kConfigMaps, ns, cmName(i), bgo::kube::PatchType::kMerge,
                               {{"data", {{"v", want_v}}}});
        if (!r) return r.error().describe();
        return std::nullopt;
      });
      row.write_ms = ms(Clock::now() - t_write);
      if (err) {
        std::cerr << "update ConfigMaps: " << *err << "\n";
        exit_code = 1;
        break;
      }
      {
        std::unique_lock lock(mu);
        if (!cv.wait_for(lock, 600s, [&] { return updates.load() >= f.objects; })) {
          std::cerr << "informer saw only " << updates.load() << " of " << f.objects << " updates\n";
          exit_code = 1;
          break;
        }
      }
      row.live_ms = ms(Clock::now() - t_write);
      row.live_eps = f.objects / (row.live_ms / 1000);
      inf.stop();

      // Replay: the same N events streamed from the watch cache as fast as it sends them.
      bgo::kube::WatchOptions wo;
      wo.resource_version = rv_before;
      wo.label_selector = "bench=informer";
      wo.allow_bookmarks = false;
      wo.timeout_seconds = 120;
      auto t_replay = Clock::now();
      auto w = client->watch(gvrs::kConfigMaps, ns, wo);
      if (w) {
        int seen = 0;
        while (seen < f.objects) {
          auto ev = (*w)->next();
          if (!ev || !ev->has_value() || (*ev)->type == bgo::kube::WatchEvent::Type::kError) break;
          ++seen;
        }
        (*w)->cancel();
        if (seen == f.objects) {
          row.replay_ms = ms(Clock::now() - t_replay);
          row.replay_eps = f.objects / (row.replay_ms / 1000);
        }
      }
    }
    malloc_trim(0);  // hand freed pages back so the next run starts from a comparable RSS
    row.rss_after = rssMb();
    rows.push_back(row);
    auto cell = [](double v, const char* fmt_str) { return v < 0 ? std::string("n/a") : fmt::format(fmt::runtime(fmt_str), v); };
    std::printf("%-6d %9.0f %10.1f %10.1f %10.1f %10.0f %10.0f %11.0f %10s %12s\n", run, row.sync_ms, row.rss_before,
                row.rss_synced, row.rss_after, row.write_ms, row.live_ms, row.live_eps,
                cell(row.replay_ms, "{:.0f}").c_str(), cell(row.replay_eps, "{:.0f}").c_str());
    std::fflush(stdout);
  }

  if (!rows.empty()) {
    auto col = [&](double Row::*m) {
      std::vector<double> v;
      for (const auto& r : rows) {
        if (r.*m >= 0) v.push_back(r.*m);
      }
      return v.empty() ? -1.0 : median(v);
    };
    std::printf("%-6s %9.0f %10.1f %10.1f %10.1f %10.0f %10.0f %11.0f %10.0f %12.0f\n", "median", col(&Row::sync_ms),
                col(&Row::rss_before), col(&Row::rss_synced), col(&Row::rss_after), col(&Row::write_ms),
                col(&Row::live_ms), col(&Row::live_eps), col(&Row::replay_ms), col(&Row::replay_eps));
    double first_delta = rows[0].rss_synced - rows[0].rss_before;
    std::printf("\nrun 1 (fresh heap): rss_sync - rss0 = %.1f MB for %d objects (%.1f KB/object: cache plus "
                "list buffers)\n",
                first_delta, f.objects, first_delta * 1024 / f.objects);
    if (f.fake) std::printf("(--fake: the fake server's own store lives in this process too)\n");
  }
  cleanup();
  return exit_code;
}
