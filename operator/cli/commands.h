#pragma once
// The commands of kubectl-bluegreen over an injected KubeClient: what they
// read, what they write (only the requests of requests.h) and their exit codes.

#include <iosfwd>
#include <string>

#include "operator/cli/args.h"
#include "operator/core/clock.h"
#include "operator/kube/kube_client.h"

namespace bgo::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;    // bad input, failed or aborted release, API error
inline constexpr int kExitTimeout = 2;  // status: not live within --timeout

struct Io {
  std::ostream& out;
  std::ostream& err;
  bool color = false;  // stdout is a terminal
  // Sleeps between polls (status, get --watch); tests pass a fast one.
  std::chrono::milliseconds poll{500};
};

// `ns`: the namespace to use (already resolved from -n and the kubeconfig).
int runCommand(const Args& args, const std::string& ns, kube::KubeClient& client, core::Clock& clock, Io& io);

// Commands that need no cluster (lint, help).
bool needsCluster(const Args& args);
int runOffline(const Args& args, Io& io);

// YAML/JSON text with one or more documents -> JSON values ("" error on success).
std::string parseDocuments(const std::string& text, std::vector<nlohmann::json>& out);

}  // namespace bgo::cli
