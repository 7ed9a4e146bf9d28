#pragma once
// A small HTTP/1.1 server (Boost.Beast over Asio) on its own io_context thread,
// for /healthz, /readyz and /metrics. GET and HEAD only; keep-alive honoured;
// a connection idle for read_timeout is closed. Handlers run on the server's
// thread, one at a time.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "operator/core/result.h"
#include "operator/observability/metrics.h"
#include "operator/observability/probes.h"

namespace bgo::observability {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Gets the request path without its query string.
using HttpHandler = std::function<HttpResponse(const std::string& path)>;

struct HttpServerOptions {
  std::string address = "0.0.0.0";
  uint16_t port = 8081;  // 0: any free port (tests); see port()
  std::chrono::milliseconds read_timeout{10000};
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Before start(). Exact path match.
  void handle(const std::string& path, HttpHandler handler);
  // Binds, listens and starts the thread. Returns the bound port.
  core::Result<uint16_t> start();
  // Closes the listener and every connection, joins the thread. Idempotent.
  void stop();
  uint16_t port() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// /healthz (200, or 500 listing the failed checks) and /readyz (200, or 503).
// The check sets must outlive the server.
void addProbeEndpoints(HttpServer& server, const CheckSet& health, const CheckSet& ready);
// /metrics: registry.render() as text format 0.0.4. The registry must outlive the server.
void addMetricsEndpoint(HttpServer& server, const Registry& registry);
// Both on one server.
void addStandardEndpoints(HttpServer& server, const CheckSet& health, const CheckSet& ready,
                          const Registry& registry);

}  // namespace bgo::observability
