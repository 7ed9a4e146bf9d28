#pragma once
// A child process for tests: the operator binary, kubectl. Output goes to a log
// file (print its tail when a test fails); the child dies with the test process
// (PR_SET_PDEATHSIG), so a crashed test leaves no operator behind.

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "operator/core/result.h"

namespace bgo::itest {

class Subprocess {
 public:
  struct Options {
    std::vector<std::string> argv;     // argv[0] is the program path (no PATH lookup)
    std::string log_path;              // stdout and stderr; created if missing
    bool append = true;                // false: truncate the log first
    std::vector<std::string> env;      // extra "NAME=value" entries
  };

  static core::Result<std::unique_ptr<Subprocess>> start(const Options& options);
  // Stops the child if it still runs: SIGTERM, then SIGKILL after 5 s.
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& logPath() const { return log_path_; }
  bool running();
  bool signal(int sig);
  // The exit code (128 + signal when killed), or nullopt if still running at the timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // SIGTERM, wait up to `grace`, then SIGKILL; returns the exit code.
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

 private:
  Subprocess(pid_t pid, std::string log_path) : pid_(pid), log_path_(std::move(log_path)) {}
  bool reap(int options);

  pid_t pid_;
  std::string log_path_;
  std::optional<int> exit_code_;
};

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr interleaved
};

// Runs a command to completion (killed at the timeout, which is an error).
// The program is looked up in PATH when argv[0] has no slash.
core::Result<CommandResult> runCommand(const std::vector<std::string>& argv,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(60));

// The last `lines` lines of a text file ("" if unreadable).
std::string tailFile(const std::string& path, std::size_t lines);

// Directory of `path` created with parents (like mkdir -p); false on failure.
bool makeDirs(const std::string& path);

}  // namespace bgo::itest
