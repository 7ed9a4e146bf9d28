#include "integration/support/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace bgo::itest {

namespace {

using core::ErrorCode;

std::string findInPath(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(ss, dir, ':');) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return program;
}

}  // namespace

bool makeDirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  return !ec && std::filesystem::is_directory(path);
}

core::Result<std::unique_ptr<Subprocess>> Subprocess::start(const Options& o) {
  if (o.argv.empty()) return core::fail(ErrorCode::kConfig, "Subprocess: empty argv");
  const std::string program = findInPath(o.argv[0]);
  if (::access(program.c_str(), X_OK) != 0) {
    return core::fail(ErrorCode::kConfig, "Subprocess: " + program + " is not executable");
  }
  if (auto dir = std::filesystem::path(o.log_path).parent_path(); !dir.empty()) makeDirs(dir);
  const int log_fd = ::open(o.log_path.c_str(),
                            O_WRONLY | O_CREAT | O_CLOEXEC | (o.append ? O_APPEND : O_TRUNC), 0644);
  if (log_fd < 0) {
    return core::fail(ErrorCode::kConfig,
                      "Subprocess: cannot open " + o.log_path + ": " + std::strerror(errno));
  }
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);

  // Everything the child needs is built before fork: after it, only
  // async-signal-safe calls (the test process has many threads).
  std::vector<std::string> env_strings;
  for (char** e = environ; e && *e; ++e) env_strings.emplace_back(*e);
  for (const auto& e : o.env) env_strings.push_back(e);
  std::vector<char*> argv;
  for (const auto& a : o.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    return core::fail(ErrorCode::kInternal, std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
    ::setpgid(0, 0);  // its own group: a terminal's Ctrl-C goes to the test, which stops it
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::execve(program.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(log_fd);
  if (null_fd >= 0) ::close(null_fd);
  return std::unique_ptr<Subprocess>(new Subprocess(pid, o.log_path));
}

Subprocess::~Subprocess() {
  if (!exit_code_) stop();
}

bool Subprocess::reap(int options) {
  if (exit_code_) return true;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, options);
  if (r == pid_) {
    if (WIFEXITED(status)) exit_code_ = WEXITSTATUS(status);
    else if (WIFSIGNALED(status)) exit_code_ = 128 + WTERMSIG(status);
    else return false;  // stopped/continued: still alive
    return true;
  }
  if (r < 0 && errno == ECHILD) {
    exit_code_ = -1;  // not ours any more
    return true;
  }
  return false;
}

bool Subprocess::running() { return !reap(WNOHANG); }

bool Subprocess::signal(int sig) {
  if (!running()) return false;
  return ::kill(pid_, sig) == 0;
}

std::optional<int> Subprocess::wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return exit_code_;
}

int Subprocess::stop(std::chrono::milliseconds grace) {
  if (signal(SIGTERM)) {
    if (auto code = wait(grace)) return *code;
    signal(SIGKILL);
  }
  reap(0);
  return exit_code_.value_or(-1);
}

core::Result<CommandResult> runCommand(const std::vector<std::string>& argv,
                                       std::chrono::milliseconds timeout) {
  char tmpl[] = "/tmp/bgo-itest-cmd-XXXXXX";
  const int fd = ::mkstemp(tmpl);
  if (fd < 0) return core::fail(ErrorCode::kInternal, "mkstemp failed");
  ::close(fd);
  const std::string out_path = tmpl;
  CommandResult result;
  {
    auto p = Subprocess::start({argv, out_path, false, {}});
    if (!p) {
      ::unlink(out_path.c_str());
      return core::fail(p.error());
    }
    auto code = (*p)->wait(timeout);
    if (!code) {
      (*p)->stop(std::chrono::seconds(1));
      std::string out = tailFile(out_path, 20);
      ::unlink(out_path.c_str());
      return core::fail(ErrorCode::kTimeout, argv[0] + " did not finish within " +
                                                 std::to_string(timeout.count()) + " ms: " + out);
    }
    result.exit_code = *code;
  }
  std::ifstream in(out_path);
  std::stringstream ss;
  ss << in.rdbuf();
  result.output = ss.str();
  ::unlink(out_path.c_str());
  return result;
}

std::string tailFile(const std::string& path, std::size_t lines) {
  std::ifstream in(path);
  if (!in) return "";
  std::deque<std::string> last;
  for (std::string line; std::getline(in, line);) {
    last.push_back(std::move(line));
    if (last.size() > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) out += l + "\n";
  return out;
}

}  // namespace bgo::itest
