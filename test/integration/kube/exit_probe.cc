// A TLS handshake that fails, then a TLS watch on the plane cancelled from
// another thread while next() is blocked, then a normal exit. Run many times
// by exit_test.cc: process exit after such I/O must never crash or hang.
//   exit_probe [--no-init] [--abrupt]   (BGO_KUBECONFIG from the environment)
//   --no-init: skip initRestRuntime (to measure what it prevents)
//   --abrupt:  leave the watch open; its destructor cancels it during exit
#include <cstdio>
#include <cstring>
#include <thread>

#include "integration/kube/plane.h"
#include "unit/kube_rest/test_pki.h"

int main(int argc, char** argv) {
  bool init = true, abrupt = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--no-init") == 0) init = false;
    if (std::strcmp(argv[i], "--abrupt") == 0) abrupt = true;
  }
  if (init) bgo::kube::rest::initRestRuntime(4);

  // Start the HTTP task pool before OpenSSL is first used, as a program does
  // whose first request is plain HTTP: OpenSSL's exit handler then runs
  // before the pool is torn down.
  bgo::kube::rest::ClusterConfig plain;
  plain.server = "http://127.0.0.1:1";
  (void)bgo::kube::rest::RestKubeClient(plain).getPath("/version");

  auto cfg = bgo::testing::planeConfig();
  if (!cfg) {
    std::fprintf(stderr, "exit_probe: %s\n", cfg.error().message.c_str());
    return 3;
  }
  // A failed handshake: the other path seen to crash at exit.
  auto wrong = *cfg;
  wrong.ca_pem = bgo::testing::makeCa("exit-probe").cert_pem;
  auto bad = bgo::kube::rest::RestKubeClient::make(wrong);
  if (!bad) return 3;
  auto r = (*bad)->get(bgo::core::gvrs::kNamespaces, "", "default");
  if (r.ok()) return 6;

  auto client = bgo::kube::rest::RestKubeClient::make(*cfg);
  if (!client) return 3;
  bgo::kube::WatchOptions w;
  w.timeout_seconds = 60;
  auto stream = (*client)->watch(bgo::core::gvrs::kNamespaces, "", w);
  if (!stream) {
    std::fprintf(stderr, "exit_probe: watch: %s\n", stream.error().describe().c_str());
    return 4;
  }
  if (abrupt) {
    // Read one event and leave: the stream's destructor cancels during exit.
    auto ev = (*stream)->next();
    return ev.ok() ? 0 : 7;
  }
  // Drain the initial ADDED events, then block on the quiet stream and cancel it.
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    (*stream)->cancel();
  });
  bgo::core::ErrorCode code = bgo::core::ErrorCode::kUnknown;
  for (;;) {
    auto ev = (*stream)->next();
    if (!ev) {
      code = ev.error().code;
      break;
    }
    if (!*ev) break;
  }
  canceller.join();
  if (code != bgo::core::ErrorCode::kCancelled) {
    std::fprintf(stderr, "exit_probe: watch did not end as cancelled\n");
    return 5;
  }
  // Exit at once, while the cancelled connection is still being torn down.
  return 0;
}
