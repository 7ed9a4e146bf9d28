#include "operator/observability/http_server.h"

#include <atomic>
#include <exception>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace bgo::observability {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
class Session;
}  // namespace

// Sessions and handlers point at the Impl with plain pointers: the Impl owns
// the io_context, whose destruction destroys every pending handler (and so
// every session) before the Impl's other members go.
struct HttpServer::Impl {
  HttpServerOptions options;
  std::map<std::string, HttpHandler> routes;
  std::set<Session*> sessions;  // io thread only (and the destructor, after the join)
  std::atomic<uint16_t> port{0};
  std::mutex mu;  // start/stop
  bool started = false;
  bool stopped = false;
  std::thread thread;
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};

  ~Impl() {
    // Close the listener before the io_context goes, then let its destructor
    // drop the sessions (which deregister from `sessions`, still alive here).
    beast::error_code ignored;
    acceptor.close(ignored);
  }

  void accept();
  void closeAll();
  HttpResponse dispatch(const std::string& method, const std::string& target) const;
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl* server)
      : stream_(std::move(socket)), server_(server) {
    server_->sessions.insert(this);
  }
  ~Session() { server_->sessions.erase(this); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void start() { read(); }
  void close() {
    beast::error_code ignored;
    stream_.socket().close(ignored);
  }

 private:
  void read() {
    req_ = {};
    parser_.emplace();
    parser_->body_limit(64 * 1024);
    stream_.expires_after(server_->options.read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       self->onRead(ec);
                     });
  }

  void onRead(beast::error_code ec) {
    if (ec) {  // closed, timed out, or garbage: drop the connection
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      return;
    }
    req_ = parser_->release();
    const std::string method(req_.method_string());
    const std::string target(req_.target());
    HttpResponse r = server_->dispatch(method, target);

    res_ = {};
    res_.version(req_.version());
    res_.result(static_cast<http::status>(r.status));
    res_.set(http::field::server, "bluegreen-operator");
    res_.set(http::field::content_type, r.content_type);
    res_.set(http::field::cache_control, "no-store");
    res_.keep_alive(req_.keep_alive());
    if (req_.method() == http::verb::head) {
      res_.content_length(r.body.size());
    } else {
      res_.body() = std::move(r.body);
      res_.prepare_payload();
    }
    stream_.expires_after(server_->options.read_timeout);
    http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code wec, std::size_t) {
      self->onWrite(wec);
    });
  }

  void onWrite(beast::error_code ec) {
    if (ec || !res_.keep_alive()) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      return;
    }
    read();
  }

  beast::tcp_stream stream_;
  HttpServer::Impl* server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
};

}  // namespace

void HttpServer::Impl::accept() {
  // One thread runs the io_context: no strands needed.
  acceptor.async_accept(ioc, [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec) std::make_shared<Session>(std::move(socket), this)->start();
    accept();
  });
}

void HttpServer::Impl::closeAll() {
  beast::error_code ignored;
  acceptor.close(ignored);
  for (Session* s : sessions) s->close();
}

HttpResponse HttpServer::Impl::dispatch(const std::string& method, const std::string& target) const {
  if (method != "GET" && method != "HEAD") return {405, "text/plain; charset=utf-8", "method not allowed\n"};
  const std::string path = target.substr(0, target.find('?'));
  auto it = routes.find(path);
  if (it == routes.end()) return {404, "text/plain; charset=utf-8", "not found\n"};
  try {
    return it->second(path);
  } catch (const std::exception& e) {
    return {500, "text/plain; charset=utf-8", std::string("internal error: ") + e.what() + "\n"};
  } catch (...) {
    return {500, "text/plain; charset=utf-8", "internal error\n"};
  }
}

HttpServer::HttpServer(HttpServerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::handle(const std::string& path, HttpHandler handler) {
  impl_->routes[path] = std::move(handler);
}

core::Result<uint16_t> HttpServer::start() {
  std::lock_guard lock(impl_->mu);
  if (impl_->started) return impl_->port.load();
  const auto& o = impl_->options;
  beast::error_code ec;
  const auto address = asio::ip::make_address(o.address, ec);
  if (ec) return core::fail(core::ErrorCode::kConfig, "http: bad address '" + o.address + "': " + ec.message());
  const tcp::endpoint endpoint(address, o.port);
  auto& acc = impl_->acceptor;
  const std::string where = o.address + ":" + std::to_string(o.port);
  if (acc.open(endpoint.protocol(), ec); ec) {
    return core::fail(core::ErrorCode::kConfig, "http: open " + where + ": " + ec.message());
  }
  acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (acc.bind(endpoint, ec); ec) {
    acc.close();
    return core::fail(core::ErrorCode::kConfig, "http: bind " + where + ": " + ec.message());
  }
  if (acc.listen(asio::socket_base::max_listen_connections, ec); ec) {
    acc.close();
    return core::fail(core::ErrorCode::kConfig, "http: listen " + where + ": " + ec.message());
  }
  impl_->port = acc.local_endpoint().port();
  impl_->started = true;
  impl_->accept();
  impl_->thread = std::thread([impl = impl_.get()] {
    for (;;) {
      try {
        impl->ioc.run();
        return;
      } catch (...) {
        // A handler escaped; keep serving (the session that threw is gone).
      }
    }
  });
  return impl_->port.load();
}

void HttpServer::stop() {
  std::lock_guard lock(impl_->mu);
  if (!impl_->started || impl_->stopped) return;
  impl_->stopped = true;
  // Close on the io thread (sockets are not thread-safe), then stop it; the
  // aborted handlers are destroyed with the io_context.
  asio::post(impl_->ioc, [impl = impl_.get()] {
    impl->closeAll();
    impl->ioc.stop();
  });
  if (impl_->thread.joinable()) impl_->thread.join();
}

uint16_t HttpServer::port() const { return impl_->port.load(); }

void addProbeEndpoints(HttpServer& server, const CheckSet& health, const CheckSet& ready) {
  server.handle("/healthz", [&health](const std::string&) {
    auto v = health.evaluate();
    return HttpResponse{v.ok ? 200 : 500, "text/plain; charset=utf-8",
                        v.text + (v.ok ? "healthz check passed\n" : "healthz check failed\n")};
  });
  server.handle("/readyz", [&ready](const std::string&) {
    auto v = ready.evaluate();
    return HttpResponse{v.ok ? 200 : 503, "text/plain; charset=utf-8",
                        v.text + (v.ok ? "readyz check passed\n" : "readyz check failed\n")};
  });
}

void addMetricsEndpoint(HttpServer& server, const Registry& registry) {
  server.handle("/metrics", [&registry](const std::string&) {
    return HttpResponse{200, kTextContentType, registry.render()};
  });
}

void addStandardEndpoints(HttpServer& server, const CheckSet& health, const CheckSet& ready,
                          const Registry& registry) {
  addProbeEndpoints(server, health, ready);
  addMetricsEndpoint(server, registry);
}

}  // namespace bgo::observability
