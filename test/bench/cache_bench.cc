// Cache memory benchmark (prints figures; not a test). Reads every object the
// operator caches from a namespace of settled releases on the control plane
// (e.g. one kept by `bgo_operator_bench --keep`), copies them into K namespaces
// of a FakeKubeClient (K x the releases) and syncs the operator's InformerCache
// over them, once with JSON trees and once packed, with the operator's own
// trims. Prints the heap the caches hold (glibc's in-use bytes after a trim,
// the fake's own copies excluded) per release.
//
//   bgo_cache_bench --namespace NS [--copies K]

#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "integration/support/plane.h"
#include "operator/app/app.h"
#include "operator/app/informer_cache.h"
#include "operator/core/clock.h"
#include "operator/testing/fake_kube_client.h"

using namespace std::chrono_literals;
using json = nlohmann::json;
namespace gvrs = bgo::core::gvrs;

namespace {

std::size_t heapInUse() {
  malloc_trim(0);
  return mallinfo2().uordblks;
}

}  // namespace

int main(int argc, char** argv) {
  std::string source;
  int copies = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--namespace") source = argv[i + 1];
    else if (a == "--copies") copies = std::atoi(argv[i + 1]);
  }
  if (source.empty()) {
    fmt::print(stderr, "usage: bgo_cache_bench --namespace NS [--copies K]\n");
    return 2;
  }
  auto client = bgo::itest::planeClient();
  if (!client) {
    fmt::print(stderr, "{}\n", client.error().message);
    return 2;
  }
  const std::vector<bgo::core::Gvr> kinds{gvrs::kBlueGreenReleases, gvrs::kDeployments, gvrs::kServices,
                                          gvrs::kEndpointSlices, gvrs::kIngressRoutes, gvrs::kPodDisruptionBudgets};
  bgo::testing::FakeKubeClient fake;
  std::size_t releases = 0;
  std::size_t objects = 0;
  for (const auto& gvr : kinds) {
    auto all = bgo::kube::listAll(**client, gvr, source);
    if (!all) {
      fmt::print(stderr, "list {}: {}\n", gvr.resource, all.error().describe());
      return 1;
    }
    if (gvr == gvrs::kBlueGreenReleases) releases = all->items.size() * static_cast<std::size_t>(copies);
    for (int k = 0; k < copies; ++k) {
      for (json o : all->items) {
        o["metadata"]["namespace"] = fmt::format("copy-{}", k);
        fake.seed(gvr, o);
        ++objects;
      }
    }
  }
  if (releases == 0) {
    fmt::print(stderr, "no releases in namespace {}\n", source);
    return 1;
  }
  fmt::print("cache benchmark: {} releases ({} objects) from namespace {} x {}\n", releases, objects, source, copies);
  bgo::core::SystemClock clock;
  for (bool packed : {false, true}) {
    const std::size_t before = heapInUse();
    {
      bgo::informer::InformerOptions o = bgo::app::cacheOptions(nullptr);
      o.packed = packed;
      bgo::app::InformerCache cache(fake, clock, {}, o);
      auto t0 = std::chrono::steady_clock::now();
      cache.start();
      if (!cache.waitForSync(600s)) {
        fmt::print(stderr, "caches did not sync\n");
        return 1;
      }
      const double sync_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      const std::size_t held = heapInUse() - before;
      fmt::print("{:<8} heap held by the caches {:>8.1f} MiB = {:>6.1f} KiB per release (sync {:.0f} ms)\n",
                 packed ? "packed" : "trees", static_cast<double>(held) / (1 << 20),
                 static_cast<double>(held) / 1024.0 / static_cast<double>(releases), sync_ms);
      cache.stop();
    }
  }
  return 0;
}
