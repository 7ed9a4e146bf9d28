#include "integration/informer/private_plane.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "integration/support/subprocess.h"
#include "operator/kube/rest/config.h"

namespace bgo::inftest {

using core::ErrorCode;

namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Alive and not a zombie (a dead daemon waits for init to reap it).
bool processRuns(pid_t pid) {
  std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
  if (stat.empty()) return false;
  auto paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] != 'Z';
}

}  // namespace

core::Result<std::unique_ptr<PrivatePlane>> PrivatePlane::start(const std::string& controlplane_dir) {
  const char* shared = std::getenv("BGO_KUBECONFIG");
  if (!shared || !*shared) {
    return core::fail(ErrorCode::kConfig,
                      "BGO_KUBECONFIG is not set: start the control plane (test/controlplane/start.sh) and "
                      "`source build/plane/env`, or run through `make test` (this suite starts a private "
                      "plane of its own from the same programs)");
  }
  // start.sh picks free ports from 20000-50000, which overlaps the ephemeral
  // range: a port can be taken between its pick and the bind. Such a start is
  // purged and tried again in a new state dir.
  core::Error last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto plane = startOnce(controlplane_dir);
    if (plane) return plane;
    last = plane.error();
    if (last.message.find("address already in use") == std::string::npos &&
        last.message.find("is taken by another process") == std::string::npos) {
      break;
    }
  }
  return core::fail(last);
}

core::Result<std::unique_ptr<PrivatePlane>> PrivatePlane::startOnce(const std::string& controlplane_dir) {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/bgo-plane-inftest.XXXXXX";
  if (!::mkdtemp(tmpl.data())) return core::fail(ErrorCode::kInternal, "mkdtemp " + tmpl + " failed");
  std::unique_ptr<PrivatePlane> plane(new PrivatePlane(controlplane_dir, tmpl));

  // The watchdog outlives a killed test (setsid -f: re-parented, its own
  // session, so neither ctest's tree kill nor our exit reaches it).
  const std::string watchdog = "while kill -0 " + std::to_string(::getpid()) +
                               " 2>/dev/null; do sleep 2; done; BGO_PLANE_DIR='" + plane->dir_ + "' exec bash '" +
                               controlplane_dir + "/stop.sh' --purge";
  auto w = itest::runCommand({"bash", "-c", "setsid -f bash -c \"" + watchdog + "\" </dev/null >/dev/null 2>&1"},
                             std::chrono::seconds(10));
  if (!w || w->exit_code != 0) {
    return core::fail(ErrorCode::kInternal, "could not start the private plane's watchdog: " +
                                                (w ? w->output : w.error().describe()));
  }
  if (auto st = plane->runScript("start.sh", ""); !st) return core::fail(st.error());
  return plane;
}

PrivatePlane::~PrivatePlane() { (void)runScript("stop.sh", "--purge"); }

core::Status PrivatePlane::runScript(const std::string& script, const std::string& arg) {
  std::vector<std::string> argv = {"env", "BGO_PLANE_DIR=" + dir_, "bash", cp_dir_ + "/" + script};
  if (!arg.empty()) argv.push_back(arg);
  // A first start may build the plane's programs; a warm one takes ~10 s.
  auto r = itest::runCommand(argv, std::chrono::minutes(5));
  if (!r) return core::fail(r.error());
  last_output_ = r->output;
  if (r->exit_code != 0) {
    return core::fail(ErrorCode::kInternal, script + " (BGO_PLANE_DIR=" + dir_ + ") exited " +
                                                std::to_string(r->exit_code) + ":\n" + r->output);
  }
  return {};
}

core::Result<std::unique_ptr<kube::rest::RestKubeClient>> PrivatePlane::client(kube::rest::RestOptions options) const {
  auto cfg = kube::rest::loadKubeconfig(kubeconfig());
  if (!cfg) return core::fail(cfg.error());
  return kube::rest::RestKubeClient::make(*cfg, options);
}

core::Status PrivatePlane::killApiserver(int sig, std::chrono::seconds timeout) {
  const std::string pid_file = dir_ + "/pids/kube-apiserver.pid";
  const std::string text = readFile(pid_file);
  const pid_t pid = static_cast<pid_t>(std::atol(text.c_str()));
  if (pid <= 1) return core::fail(ErrorCode::kInternal, "no kube-apiserver pid in " + pid_file);
  const std::string cmdline = readFile("/proc/" + std::to_string(pid) + "/cmdline");
  if (cmdline.find("/kube-apiserver") == std::string::npos || cmdline.find(dir_) == std::string::npos) {
    return core::fail(ErrorCode::kInternal, "pid " + std::to_string(pid) + " from " + pid_file +
                                                " is not this plane's kube-apiserver");
  }
  if (::kill(pid, sig) != 0) return core::fail(ErrorCode::kInternal, "kill " + std::to_string(pid) + " failed");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (processRuns(pid)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return core::fail(ErrorCode::kTimeout, "kube-apiserver (pid " + std::to_string(pid) + ") still runs " +
                                                 std::to_string(timeout.count()) + " s after signal " +
                                                 std::to_string(sig));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return {};
}

std::string PrivatePlane::logTail(const std::string& component, std::size_t lines) const {
  return itest::tailFile(dir_ + "/logs/" + component + ".log", lines);
}

core::Status PrivatePlane::restart() { return runScript("start.sh", ""); }

}  // namespace bgo::inftest
