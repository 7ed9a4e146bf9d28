// Process exit after a failed handshake and a TLS watch that is cancelled
// (even runs) or left open for its destructor (odd runs): 100 runs of
// exit_probe, none may crash or hang. OpenSSL's exit handler racing the HTTP
// task pool crashed a few percent of such exits; initRestRuntime prevents it.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "integration/kube/plane.h"

extern char** environ;

namespace bgo::testing {
namespace {

enum class Outcome { kOk, kFailed, kCrashed, kHung };

Outcome runOnce(bool abrupt, std::string& detail) {
  char* argv[] = {const_cast<char*>(BGO_EXIT_PROBE), abrupt ? const_cast<char*>("--abrupt") : nullptr, nullptr};
  pid_t pid = 0;
  if (posix_spawn(&pid, BGO_EXIT_PROBE, nullptr, nullptr, argv, environ) != 0) {
    detail = "cannot start " + std::string(BGO_EXIT_PROBE);
    return Outcome::kFailed;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return Outcome::kHung;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (WIFSIGNALED(status)) {
    detail = "signal " + std::to_string(WTERMSIG(status));
    return Outcome::kCrashed;
  }
  if (WEXITSTATUS(status) != 0) {
    detail = "exit code " + std::to_string(WEXITSTATUS(status));
    return Outcome::kFailed;
  }
  return Outcome::kOk;
}

TEST(RestExitTest, HundredExitsAfterCancelledTlsWatchNeverCrashOrHang) {
  if (planeKubeconfigPath().empty()) FAIL() << kPlaneMissing;
  int crashed = 0, hung = 0, failed = 0;
  std::string last_detail;
  for (int i = 0; i < 100; ++i) {
    std::string detail;
    switch (runOnce(i % 2 == 1, detail)) {
      case Outcome::kOk: break;
      case Outcome::kCrashed: ++crashed; last_detail = detail; break;
      case Outcome::kHung: ++hung; break;
      case Outcome::kFailed: ++failed; last_detail = detail; break;
    }
  }
  RecordProperty("crashed", crashed);
  RecordProperty("hung", hung);
  EXPECT_EQ(crashed, 0) << last_detail;
  EXPECT_EQ(hung, 0);
  EXPECT_EQ(failed, 0) << last_detail;
}

}  // namespace
}  // namespace bgo::testing
