#include "operator/observability/http_server.h"

#include <atomic>
#include <optional>
#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include "operator/testing/manual_clock.h"
#include "unit/observability/exposition_parser.h"

namespace bgo::observability {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

struct Reply {
  int status = 0;
  std::string content_type;
  std::string body;
  bool keep_alive = false;
};

// A blocking HTTP/1.1 client over one connection.
class Client {
 public:
  explicit Client(uint16_t port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
  Reply request(const std::string& target, http::verb verb = http::verb::get, bool keep_alive = true) {
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.keep_alive(keep_alive);
    http::write(socket_, req);
    beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    parser.skip(verb == http::verb::head);
    http::read(socket_, buf, parser);
    auto res = parser.release();
    return {static_cast<int>(res.result_int()), std::string(res[http::field::content_type]), res.body(),
            res.keep_alive()};
  }

 private:
  asio::io_context ioc_;
  tcp::socket socket_;
};

Reply get(uint16_t port, const std::string& target) { return Client(port).request(target); }

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    heartbeat_.emplace("reconcile-loop", clock_, 30s);
    health_.add(*heartbeat_);
    ready_.set(kReadyCachesSynced, false, "waiting for informers");
    ready_.set(kReadyLeaderKnown, false, "lease not read yet");
    registry_.counter("demo_total", "Demo.", {"k"}).with({"v"}).inc(3);
    addStandardEndpoints(server_, health_, ready_, registry_);
    auto port = server_.start();
    ASSERT_TRUE(port.ok()) << port.error().describe();
    port_ = *port;
  }

  testing::ManualClock clock_;
  std::optional<Heartbeat> heartbeat_;
  CheckSet health_;
  CheckSet ready_;
  Registry registry_;
  HttpServer server_{HttpServerOptions{"127.0.0.1", 0}};
  uint16_t port_ = 0;
};

TEST_F(HttpServerTest, BindsAnEphemeralPortAndReportsIt) {
  EXPECT_NE(port_, 0);
  EXPECT_EQ(server_.port(), port_);
}

TEST_F(HttpServerTest, HealthzFailsWhenTheHeartbeatGoesStale) {
  auto r = get(port_, "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("[+]reconcile-loop ok"), std::string::npos) << r.body;

  clock_.advance(31s);
  r = get(port_, "/healthz");
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("[-]reconcile-loop failed: no heartbeat for 31000 ms (limit 30000 ms)"),
            std::string::npos)
      << r.body;

  heartbeat_->tick();
  EXPECT_EQ(get(port_, "/healthz").status, 200);
}

TEST(HeartbeatTest, ReadsAnExternalSourceAndIgnoresIdleTime) {
  testing::ManualClock clock;
  Heartbeat hb("workers", clock, 60s);
  core::SteadyTime last = clock.now();
  bool busy = false;
  hb.setSource([&] { return last; });
  hb.onlyWhile([&] { return busy; });
  clock.advance(10min);
  EXPECT_FALSE(hb.problem().has_value()) << "idle, waiting for work: not wedged";
  busy = true;
  ASSERT_TRUE(hb.problem().has_value());
  EXPECT_EQ(*hb.problem(), "no heartbeat for 600000 ms (limit 60000 ms)");
  last = clock.now() - 59s;
  EXPECT_FALSE(hb.problem().has_value());
}

TEST_F(HttpServerTest, ReadyzWaitsForCachesAndLeaderState) {
  auto r = get(port_, "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("[-]informers-synced failed: waiting for informers"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("[-]leader-state-known failed"), std::string::npos) << r.body;

  ready_.set(kReadyCachesSynced, true);
  r = get(port_, "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("[+]informers-synced ok"), std::string::npos) << r.body;

  ready_.set(kReadyLeaderKnown, true);
  EXPECT_EQ(get(port_, "/readyz").status, 200);

  // A polled check counts too.
  std::atomic<bool> synced{false};
  ready_.add("polled", [&]() -> std::optional<std::string> {
    if (synced) return std::nullopt;
    return "not synced";
  });
  EXPECT_EQ(get(port_, "/readyz").status, 503);
  synced = true;
  EXPECT_EQ(get(port_, "/readyz").status, 200);
}

TEST_F(HttpServerTest, MetricsServeTheTextFormatWithItsContentType) {
  auto r = get(port_, "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  auto ex = bgo::test::parseExposition(r.body);
  ASSERT_TRUE(ex.ok()) << ex.error;
  EXPECT_EQ(ex.value("demo_total", {{"k", "v"}}), 3.0);
}

TEST_F(HttpServerTest, KeepsConnectionsAliveAndAnswersHead) {
  Client c(port_);
  for (int i = 0; i < 3; ++i) {
    auto r = c.request("/metrics?x=1");
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.keep_alive);
  }
  auto head = c.request("/healthz", http::verb::head);
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
}

TEST_F(HttpServerTest, AnswersUnknownPathsAndMethods) {
  EXPECT_EQ(get(port_, "/nope").status, 404);
  EXPECT_EQ(Client(port_).request("/metrics", http::verb::post).status, 405);
}

TEST_F(HttpServerTest, StopClosesTheListenerAndOpenConnections) {
  Client idle(port_);  // an open keep-alive connection must not block stop()
  EXPECT_EQ(idle.request("/healthz").status, 200);
  server_.stop();
  server_.stop();  // idempotent
  EXPECT_THROW(Client{port_}, boost::system::system_error);
  EXPECT_THROW(idle.request("/healthz"), boost::system::system_error);
}

TEST(HttpServerStartTest, ReportsABadAddressOrABusyPort) {
  HttpServer bad(HttpServerOptions{"not-an-ip", 0});
  auto r = bad.start();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, core::ErrorCode::kConfig);

  HttpServer first(HttpServerOptions{"127.0.0.1", 0});
  auto port = first.start();
  ASSERT_TRUE(port.ok());
  HttpServer second(HttpServerOptions{"127.0.0.1", *port});
  auto busy = second.start();
  ASSERT_FALSE(busy.ok());
  EXPECT_NE(busy.error().message.find("bind"), std::string::npos) << busy.error().message;
}

}  // namespace
}  // namespace bgo::observability
