// bluegreen-operator: flags -> config -> wiring -> run until SIGTERM/SIGINT.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <iostream>

#include <malloc.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "operator/app/app.h"
#include "operator/app/options.h"
#include "operator/controller/leader_election.h"
#include "operator/kube/rest/config.h"
#include "operator/kube/rest/rest_kube_client.h"
#include "operator/observability/controller_metrics.h"
#include "operator/observability/http_server.h"
#include "operator/observability/informer_metrics.h"
#include "operator/observability/logging.h"
#include "operator/observability/operator_metrics.h"
#include "operator/observability/probes.h"

namespace obs = bgo::observability;
namespace ctl = bgo::controller;

int main(int argc, char** argv) {
  // Two malloc arenas, set before any thread starts: with glibc's default (up to
  // 8 per core, one per thread) memory a thread frees is not reused by the
  // others and RSS follows the thread count (docs/performance.md).
  mallopt(M_ARENA_MAX, 2);
  auto options = bgo::app::parseOptions(argc, argv);
  if (!options) {
    const bool help = options.error().code == bgo::core::ErrorCode::kCancelled;
    (help ? std::cout : std::cerr) << (help ? "" : "bluegreen-operator: ") << options.error().message << "\n";
    return help ? 0 : 2;
  }
  // First: OpenSSL without atexit handlers and a sized HTTP thread pool (docs/toolchain.md).
  bgo::kube::rest::initRestRuntime(static_cast<size_t>(options->rest_threads));

  auto format = obs::parseLogFormat(options->log_format);
  auto level = obs::parseLogLevel(options->log_level);
  if (!format || !level) {
    std::cerr << "bluegreen-operator: " << (!format ? format.error().message : level.error().message) << "\n";
    return 2;
  }
  obs::Logging logging({*format, *level});
  logging.installAsDefault();
  auto log = logging.logger("operator");

  auto config = bgo::kube::rest::resolveConfig(options->kubeconfig, options->context);
  if (!config) {
    log->critical("cannot load the cluster configuration: {}", config.error().message);
    return 2;
  }
  bgo::core::SystemClock clock;
  obs::Registry registry;
  obs::OperatorMetrics metrics(registry);
  obs::RestMetrics rest_metrics(metrics);
  bgo::kube::rest::RestOptions rest_options;
  rest_options.observer = &rest_metrics;
  bgo::kube::rest::RestKubeClient raw_client(*config, rest_options);

  // Leadership gates every write the operator makes (the elector uses the raw client).
  std::unique_ptr<ctl::LeaderElector> elector;
  ctl::LeaderOnlyWrites client(raw_client, [&] { return !options->leader_elect || (elector && elector->isLeader()); });

  obs::QueueMetrics queue_metrics(metrics, "bluegreenrelease");
  obs::ControllerMetrics controller_metrics(metrics);
  obs::ReleaseMetrics release_metrics(metrics);
  bgo::app::App app(*options, client, clock, logging.logger("reconciler"), &release_metrics, &queue_metrics,
                    &controller_metrics);
  for (auto* inf : app.cache().all()) obs::trackInformer(metrics, *inf);
  if (auto st = app.configureTraffic(); !st) {
    log->critical("{}", st.error().message);
    return 2;
  }

  // /healthz: the reconcile loop is not wedged. /readyz: caches synced, leader state known.
  obs::CheckSet health, ready;
  obs::Heartbeat heartbeat("reconcile-loop", clock, std::chrono::minutes(5));
  heartbeat.setSource([&] { return app.controller().lastProgress(); });
  heartbeat.onlyWhile([&] { return app.controller().inFlight() > 0; });
  health.add(heartbeat);
  ready.add(obs::kReadyCachesSynced, [&]() -> std::optional<std::string> {
    if (app.cachesSynced()) return std::nullopt;
    std::vector<std::string> waiting;  // one informer per namespace: name each resource once
    for (auto* inf : app.cache().all()) {
      const std::string& r = inf->gvr().resource;
      if (!inf->hasSynced() && std::find(waiting.begin(), waiting.end(), r) == waiting.end()) waiting.push_back(r);
    }
    return fmt::format("waiting for {}", fmt::join(waiting, ", "));
  });
  ready.add(obs::kReadyLeaderKnown, [&]() -> std::optional<std::string> {
    if (!options->leader_elect || (elector && elector->leaderKnown())) return std::nullopt;
    return std::string("lease not read yet");
  });
  obs::HttpServer probe_server({options->bind_address, static_cast<uint16_t>(options->health_port)});
  obs::addProbeEndpoints(probe_server, health, ready);
  std::unique_ptr<obs::HttpServer> metrics_server;
  if (options->metrics_port == options->health_port && options->health_port != 0) {
    obs::addMetricsEndpoint(probe_server, registry);
  } else {
    metrics_server = std::make_unique<obs::HttpServer>(
        obs::HttpServerOptions{options->bind_address, static_cast<uint16_t>(options->metrics_port)});
    obs::addMetricsEndpoint(*metrics_server, registry);
  }
  auto probe_port = probe_server.start();
  if (!probe_port) {
    log->critical("cannot serve /healthz and /readyz on {}:{}: {}", options->bind_address, options->health_port,
                  probe_port.error().message);
    return 2;
  }
  uint16_t bound_metrics_port = *probe_port;
  if (metrics_server) {
    auto p = metrics_server->start();
    if (!p) {
      log->critical("cannot serve /metrics on {}:{}: {}", options->bind_address, options->metrics_port,
                    p.error().message);
      return 2;
    }
    bound_metrics_port = *p;
  }
  log->info("starting: namespaces={} workers={} leader-elect={} health=:{} metrics=:{}",
            options->namespaces.empty() ? std::string("all") : fmt::format("{}", fmt::join(options->namespaces, ",")),
            options->workers, options->leader_elect, *probe_port, bound_metrics_port);

  boost::asio::io_context io;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  std::atomic<bool> shutting_down{false};
  int exit_code = 0;
  std::atomic<bool> signalled{false};
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    signalled = true;
    log->info("received signal {}; finishing in-flight work (up to {}s)", sig, options->shutdown_grace.count());
    io.stop();  // io.run() must return although timers (the malloc trim) are still pending
  });

  // The caches sync on their own thread while signals are served here: a signal
  // during a long wait (an API server out of reach) stops the process now, not
  // after --cache-sync-timeout.
  auto synced = std::async(std::launch::async, [&] { return app.startCaches(); });
  while (synced.wait_for(std::chrono::seconds(0)) != std::future_status::ready && !signalled.load()) {
    io.run_one_for(std::chrono::milliseconds(100));
  }
  if (signalled.load()) {
    app.stop();  // wakes the wait for the caches
    synced.wait();
    log->info("stopped before the caches synced (exit 0)");
    return 0;
  }
  if (!synced.get()) {
    app.stop();
    return 1;
  }
  // Outlive the elector (its callbacks use them).
  ctl::LeaderElectionConfig lc;
  ctl::ClockWaiter waiter(clock);
  if (options->leader_elect) {
    lc.lease_namespace = options->leader_election_namespace;
    lc.lease_name = options->leader_election_id;
    lc.lease_duration = options->lease_duration;
    lc.renew_deadline = options->renew_deadline;
    lc.retry_period = options->retry_period;
    if (auto st = ctl::validate(lc); !st) {
      log->critical("leader election: {}", st.error().message);
      return 2;
    }
    metrics.setLeader(lc.lease_name, false);  // a standby exports 0, not nothing
    elector = std::make_unique<ctl::LeaderElector>(
        raw_client, clock, waiter, lc,
        ctl::LeaderCallbacks{
            [&] {
              log->info("became the leader ({}); reconciling", lc.lease_name);
              metrics.setLeader(lc.lease_name, true);
              app.startWorkers();
              app.controller().setActive(true);
              app.enqueueAll();
            },
            [&] {
              metrics.setLeader(lc.lease_name, false);
              app.controller().setActive(false);
              if (shutting_down.load()) return;
              // Stop writing at once and exit: a fresh process re-reads everything.
              log->error("lost the lease {}; stopping", lc.lease_name);
              exit_code = 1;
              io.stop();
            },
            [&](const std::string& who) { log->info("leader is {}", who); }},
        logging.logger("leader-election"));
    elector->start();
  } else {
    app.startWorkers();
  }

  // glibc keeps freed pages inside its arenas: hand them back after start-up's
  // lists and then now and then, so RSS follows what is in use (a trim takes ~1 ms).
  malloc_trim(0);
  boost::asio::steady_timer trim_timer(io);
  std::function<void()> trim_later = [&] {
    trim_timer.expires_after(std::chrono::seconds(10));
    trim_timer.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      malloc_trim(0);
      trim_later();
    });
  };
  trim_later();

  io.run();  // until a signal or a lost lease
  shutting_down = true;
  const bool drained = app.stop();
  if (elector) elector->stop();  // releases the lease: the standby takes over at its next retry
  probe_server.stop();
  if (metrics_server) metrics_server->stop();
  if (!drained && exit_code == 0) exit_code = 1;
  log->info("stopped (exit {})", exit_code);
  return exit_code;
}
