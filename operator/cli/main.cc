// kubectl-bluegreen: the kubectl plugin for BlueGreenReleases. Flags -> the
// cluster configuration and client, then one command; nothing else.
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "operator/cli/args.h"
#include "operator/cli/commands.h"
#include "operator/kube/rest/config.h"
#include "operator/kube/rest/rest_kube_client.h"

int main(int argc, char** argv) {
  using namespace bgo;
  auto args = cli::parseArgs(std::vector<std::string>(argv + 1, argv + argc));
  if (!args) {
    std::cerr << "error: " << args.error().message << "\n";
    return cli::kExitError;
  }
  const char* term = std::getenv("TERM");
  cli::Io io{std::cout, std::cerr,
             isatty(STDOUT_FILENO) == 1 && std::getenv("NO_COLOR") == nullptr &&
                 !(term && std::string(term) == "dumb")};
  if (!cli::needsCluster(*args)) return cli::runOffline(*args, io);

  kube::rest::initRestRuntime(4);
  auto config = kube::rest::resolveConfig(args->kubeconfig, args->context);
  if (!config) {
    std::cerr << "error: " << config.error().message << "\n";
    return cli::kExitError;
  }
  kube::rest::RestOptions options;
  options.user_agent = "kubectl-bluegreen";
  auto client = kube::rest::RestKubeClient::make(*config, options);
  if (!client) {
    std::cerr << "error: " << config->source << ": " << client.error().message << "\n";
    return cli::kExitError;
  }
  std::string ns = args->ns.empty() ? config->ns : args->ns;
  if (ns.empty()) ns = "default";
  core::SystemClock clock;
  return cli::runCommand(*args, ns, **client, clock, io);
}
