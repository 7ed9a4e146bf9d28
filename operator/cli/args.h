#pragma once
// Command line of kubectl-bluegreen: global flags (anywhere on the line), one
// command, its arguments and flags. Parsing is pure; every error names the
// argument at fault and how to get help.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "operator/core/result.h"

namespace bgo::cli {

struct Args {
  // Global
  std::string kubeconfig;
  std::string context;
  std::string ns;               // -n; "" means the context's namespace, then "default"
  bool all_namespaces = false;  // -A
  // The command: get, list, status, promote, abort, rollback, retry, pause,
  // resume, set-image, plan, lint; "" with help=true for the overview.
  std::string command;
  std::vector<std::string> positional;
  bool help = false;
  bool watch = false;
  std::string output;           // "", "json", "yaml"
  std::chrono::seconds timeout{300};
  std::string file;             // lint -f
  std::string revision;         // --revision: the request is for this revision only
  int confirm_margin_seconds = 5;  // plan: the operator's --traffic-confirm-margin
};

// argv without the program name.
core::Result<Args> parseArgs(const std::vector<std::string>& argv);

// "30s", "5m", "1h", "1m30s", "90" (seconds); nullopt when not a duration.
std::optional<std::chrono::seconds> parseDuration(const std::string& s);

// The overview ("" command) or one command's help text.
std::string usage(const std::string& command);

}  // namespace bgo::cli
