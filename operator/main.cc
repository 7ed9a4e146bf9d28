// bluegreen-operator: flags -> config -> wiring -> run until SIGTERM/SIGINT.
#include <cstdio>
#include <iostream>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "operator/app/app.h"
#include "operator/app/options.h"
#include "operator/kube/rest/config.h"
#include "operator/kube/rest/rest_kube_client.h"

int main(int argc, char** argv) {
  auto options = bgo::app::parseOptions(argc, argv);
  if (!options) {
    const bool help = options.error().code == bgo::core::ErrorCode::kCancelled;
    (help ? std::cout : std::cerr) << (help ? "" : "bluegreen-operator: ") << options.error().message << "\n";
    return help ? 0 : 2;
  }
  // First: OpenSSL without atexit handlers and a sized HTTP thread pool (see docs/toolchain.md).
  bgo::kube::rest::initRestRuntime(static_cast<size_t>(options->rest_threads));

  auto log = std::make_shared<spdlog::logger>("bluegreen", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  log->set_level(spdlog::level::from_str(options->log_level));

  auto config = bgo::kube::rest::resolveConfig(options->kubeconfig, options->context);
  if (!config) {
    log->critical("cannot load cluster configuration: {}", config.error().message);
    return 2;
  }
  bgo::kube::rest::RestKubeClient client(*config);
  bgo::core::SystemClock clock;
  bgo::app::App app(*options, client, clock, log);

  boost::asio::io_context io;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  int exit_code = 0;
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (!ec) log->info("received signal {}; shutting down", sig);
  });

  log->info("starting: namespaces={} workers={} leader-elect={}",
            options->namespaces.empty() ? std::string("all") : fmt::format("{}", fmt::join(options->namespaces, ",")),
            options->workers, options->leader_elect);
  if (!app.startCaches()) {
    app.stop();
    return 1;
  }
  app.startWorkers();
  io.run();  // until a signal
  if (!app.stop()) exit_code = 1;
  log->info("stopped");
  return exit_code;
}
