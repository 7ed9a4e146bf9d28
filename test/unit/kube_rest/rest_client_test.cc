// RestKubeClient against a scripted loopback HTTP server: what goes on the
// wire, how answers become typed errors, and how a watch body is streamed.

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "operator/kube/rest/rest_kube_client.h"
#include "unit/kube_rest/scripted_server.h"

namespace bgo::kube::rest {
namespace {

using core::ErrorCode;
using testing::HttpConn;
using testing::HttpRequest;
using testing::ScriptedServer;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

ClusterConfig plainConfig(const ScriptedServer& server, const std::string& token = "t0k3n") {
  ClusterConfig c;
  c.server = server.url();
  c.token = token;
  c.source = "test";
  return c;
}

json statusBody(int code, const std::string& reason, const std::string& message) {
  return json{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
              {"code", code},     {"reason", reason},   {"message", message}};
}

TEST(RestClientTest, SendsPathsQueriesContentTypesAndBearerToken) {
  ScriptedServer server([](const HttpRequest& req, HttpConn& conn) {
    conn.respond(req.method == "POST" ? 201 : 200, R"({"kind":"ConfigMap","metadata":{"name":"a"}})");
  });
  RestKubeClient c(plainConfig(server));
  const auto& cm = core::gvrs::kConfigMaps;
  WriteOptions apply;
  apply.field_manager = "mgr";
  apply.force = true;
  ASSERT_TRUE(c.get(cm, "ns", "a").ok());
  ListOptions lo;
  lo.limit = 5;
  lo.label_selector = "x in (a,b)";
  ASSERT_TRUE(c.list(cm, "ns", lo).ok());
  ASSERT_TRUE(c.create(cm, "ns", json{{"metadata", {{"name", "a"}}}}).ok());
  ASSERT_TRUE(c.replace(cm, "ns", "a", json{{"metadata", {{"name", "a"}}}}).ok());
  ASSERT_TRUE(c.patch(cm, "ns", "a", PatchType::kJson, json::array()).ok());
  ASSERT_TRUE(c.patch(cm, "ns", "a", PatchType::kMerge, json::object()).ok());
  ASSERT_TRUE(c.patch(cm, "ns", "a", PatchType::kStrategicMerge, json::object()).ok());
  ASSERT_TRUE(c.patch(cm, "ns", "a", PatchType::kApply, json{{"data", {{"k", "v"}}}}, apply).ok());
  DeleteOptions d;
  d.propagation_policy = "Foreground";
  ASSERT_TRUE(c.remove(core::gvrs::kDeployments, "ns", "web", d).ok());
  WriteOptions token_request;
  token_request.subresource = "token";
  ASSERT_TRUE(c.create({"", "v1", "serviceaccounts", true}, "ns", json{{"metadata", {{"name", "sa"}}}}, token_request)
                  .ok());

  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 10u);
  std::vector<std::string> lines;
  for (const auto& r : reqs) lines.push_back(r.method + " " + r.target);
  EXPECT_EQ(lines, (std::vector<std::string>{
                       "GET /api/v1/namespaces/ns/configmaps/a",
                       "GET /api/v1/namespaces/ns/configmaps?labelSelector=x%20in%20%28a%2Cb%29&limit=5",
                       "POST /api/v1/namespaces/ns/configmaps",
                       "PUT /api/v1/namespaces/ns/configmaps/a",
                       "PATCH /api/v1/namespaces/ns/configmaps/a",
                       "PATCH /api/v1/namespaces/ns/configmaps/a",
                       "PATCH /api/v1/namespaces/ns/configmaps/a",
                       "PATCH /api/v1/namespaces/ns/configmaps/a?fieldManager=mgr&force=true",
                       "DELETE /apis/apps/v1/namespaces/ns/deployments/web",
                       "POST /api/v1/namespaces/ns/serviceaccounts/sa/token",
                   }));
  for (const auto& r : reqs) {
    EXPECT_EQ(r.headers.at("authorization"), "Bearer t0k3n") << r.target;
    EXPECT_EQ(r.headers.at("accept"), "application/json");
    EXPECT_EQ(r.headers.at("user-agent"), "bluegreen-operator");
  }
  EXPECT_EQ(reqs[2].headers.at("content-type"), "application/json");
  EXPECT_EQ(reqs[4].headers.at("content-type"), "application/json-patch+json");
  EXPECT_EQ(reqs[5].headers.at("content-type"), "application/merge-patch+json");
  EXPECT_EQ(reqs[6].headers.at("content-type"), "application/strategic-merge-patch+json");
  EXPECT_EQ(reqs[7].headers.at("content-type"), "application/apply-patch+yaml");
  EXPECT_EQ(json::parse(reqs[7].body), (json{{"data", {{"k", "v"}}}}));
  EXPECT_EQ(json::parse(reqs[8].body),
            (json{{"kind", "DeleteOptions"}, {"apiVersion", "v1"}, {"propagationPolicy", "Foreground"}}));
  EXPECT_EQ(reqs[0].headers.count("content-type"), 0u);
}

TEST(RestClientTest, ApiStatusBecomesTypedErrorWithRetryAfter) {
  ScriptedServer server([](const HttpRequest& req, HttpConn& conn) {
    if (req.target.find("busy") != std::string::npos) {
      conn.respond(429, statusBody(429, "TooManyRequests", "slow down").dump(), {{"Retry-After", "7"}});
    } else if (req.target.find("gone") != std::string::npos) {
      conn.respond(404, statusBody(404, "NotFound", "configmaps \"gone\" not found").dump());
    } else {
      conn.respond(502, "<html>bad gateway</html>", {}, "text/html");
    }
  });
  RestKubeClient c(plainConfig(server));
  auto busy = c.get(core::gvrs::kConfigMaps, "ns", "busy");
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.error().code, ErrorCode::kTooManyRequests);
  EXPECT_EQ(busy.error().retry, core::RetryClass::kBackoff);
  ASSERT_TRUE(busy.error().retry_after.has_value());
  EXPECT_EQ(*busy.error().retry_after, std::chrono::seconds(7));

  auto gone = c.get(core::gvrs::kConfigMaps, "ns", "gone");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().describe(), "NotFound (404): configmaps \"gone\" not found");

  auto html = c.get(core::gvrs::kConfigMaps, "ns", "x");
  ASSERT_FALSE(html.ok());
  EXPECT_EQ(html.error().code, ErrorCode::kInternal);
  EXPECT_EQ(html.error().http_status, 502);
  EXPECT_THAT(html.error().message, HasSubstr("HTTP 502: <html>bad gateway</html>"));
  EXPECT_THAT(html.error().message, HasSubstr("GET " + server.url() + "/api/v1/namespaces/ns/configmaps/x"));
}

// The server answers keep-alive, then closes the connection (as an API server
// does when it restarts). The next request finds the pooled connection dead:
// it is sent again on a fresh one, once, and the server sees it once.
TEST(RestClientTest, RequestOnAConnectionTheServerClosedIsSentAgainOnce) {
  ScriptedServer server([](const HttpRequest& req, HttpConn& conn) {
    const std::string body = json{{"name", req.target}}.dump();
    conn.write("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body);
  });  // the server closes every connection after the handler
  RestKubeClient c(plainConfig(server));
  const json cm{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "a"}}}};
  for (int i = 0; i < 3; ++i) {
    auto r = c.create(core::gvrs::kConfigMaps, "ns", cm);
    ASSERT_TRUE(r.ok()) << "request " << i << ": " << r.error().describe();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the close reaches the client
  }
  EXPECT_EQ(server.requests().size(), 3u) << "each create reached the server exactly once";
}

TEST(RestClientTest, NonJsonSuccessIsAnError) {
  ScriptedServer server([](const HttpRequest&, HttpConn& conn) { conn.respond(200, "not json", {}, "text/plain"); });
  RestKubeClient c(plainConfig(server));
  auto r = c.get(core::gvrs::kConfigMaps, "ns", "a");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInternal);
  EXPECT_THAT(r.error().message, HasSubstr("response is not JSON: not json"));
}

TEST(RestClientTest, BodyThatCannotBeEncodedIsBadRequest) {
  ScriptedServer server([](const HttpRequest&, HttpConn& conn) { conn.respond(201, "{}"); });
  RestKubeClient c(plainConfig(server));
  auto r = c.create(core::gvrs::kConfigMaps, "ns", json{{"data", {{"k", "\xff\xfe"}}}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kBadRequest);
  EXPECT_TRUE(server.requests().empty());
}

TEST(RestClientTest, SilentServerTimesOut) {
  std::promise<void> release;
  auto released = release.get_future().share();
  ScriptedServer server([released](const HttpRequest&, HttpConn&) {
    released.wait_for(std::chrono::seconds(10));
  });
  RestOptions opts;
  opts.request_timeout = std::chrono::seconds(1);
  RestKubeClient c(plainConfig(server), opts);
  auto r = c.get(core::gvrs::kConfigMaps, "ns", "a");
  release.set_value();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kTimeout) << r.error().describe();
}

TEST(RestClientTest, RereadsARotatedTokenFile) {
  ScriptedServer server([](const HttpRequest&, HttpConn& conn) { conn.respond(200, "{}"); });
  auto file = std::filesystem::temp_directory_path() / ("bgo-token-" + std::to_string(getpid()));
  std::ofstream(file) << "first\n";
  ClusterConfig cfg = plainConfig(server, "");
  cfg.token_file = file.string();
  RestKubeClient c(cfg);
  ASSERT_TRUE(c.get(core::gvrs::kConfigMaps, "ns", "a").ok());
  std::ofstream(file) << "second-token\n";
  std::filesystem::last_write_time(file, std::filesystem::last_write_time(file) + std::chrono::seconds(2));
  ASSERT_TRUE(c.get(core::gvrs::kConfigMaps, "ns", "a").ok());
  std::filesystem::remove(file);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].headers.at("authorization"), "Bearer first");
  EXPECT_EQ(reqs[1].headers.at("authorization"), "Bearer second-token");
}

TEST(RestClientTest, BadTlsMaterialFailsAtMakeAndOnEveryCall) {
  ClusterConfig cfg;
  cfg.server = "https://127.0.0.1:6443";
  cfg.ca_pem = "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n";
  cfg.source = "kubeconfig /x";
  auto made = RestKubeClient::make(cfg);
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.error().code, ErrorCode::kConfig);
  EXPECT_THAT(made.error().message, HasSubstr("kubeconfig /x: CA: not a valid PEM certificate"));
  RestKubeClient c(cfg);
  auto r = c.list(core::gvrs::kConfigMaps, "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kConfig);
  auto w = c.watch(core::gvrs::kConfigMaps, "");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code, ErrorCode::kConfig);
}

std::string eventLine(const std::string& type, const std::string& name, int rv) {
  return json{{"type", type},
              {"object", {{"kind", "ConfigMap"}, {"metadata", {{"name", name}, {"resourceVersion", std::to_string(rv)}}}}}}
             .dump() +
         "\n";
}

TEST(RestClientTest, WatchHandsOverEachEventAsItArrives) {
  std::promise<void> second;
  auto send_second = second.get_future().share();
  ScriptedServer server([send_second](const HttpRequest&, HttpConn& conn) {
    conn.startChunked();
    conn.chunk(eventLine("ADDED", "a", 10));
    // The next event waits for the client to have read the first one.
    if (send_second.wait_for(std::chrono::seconds(10)) != std::future_status::ready) return;
    // One event split over two chunks, then a bookmark and a deletion in one chunk.
    std::string modified = eventLine("MODIFIED", "a", 11);
    conn.chunk(modified.substr(0, 20));
    conn.chunk(modified.substr(20));
    conn.chunk(json{{"type", "BOOKMARK"}, {"object", {{"metadata", {{"resourceVersion", "12"}}}}}}.dump() + "\n" +
               eventLine("DELETED", "a", 13));
    conn.endChunked();
  });
  RestKubeClient c(plainConfig(server));
  WatchOptions w;
  w.resource_version = "9";
  w.timeout_seconds = 30;
  auto stream = c.watch(core::gvrs::kConfigMaps, "ns", w);
  ASSERT_TRUE(stream.ok()) << stream.error().describe();
  auto first = (*stream)->next();
  ASSERT_TRUE(first.ok()) << first.error().describe();
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ((**first).type, WatchEvent::Type::kAdded);
  EXPECT_EQ((**first).object["metadata"]["resourceVersion"], "10");
  second.set_value();

  std::vector<std::string> rest;
  for (;;) {
    auto ev = (*stream)->next();
    ASSERT_TRUE(ev.ok()) << ev.error().describe();
    if (!ev->has_value()) break;
    rest.push_back(std::string(toString((**ev).type)) + "@" +
                   (**ev).object["metadata"]["resourceVersion"].get<std::string>());
  }
  EXPECT_EQ(rest, (std::vector<std::string>{"MODIFIED@11", "BOOKMARK@12", "DELETED@13"}));
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target,
            "/api/v1/namespaces/ns/configmaps?watch=true&resourceVersion=9&allowWatchBookmarks=true&timeoutSeconds=30");
}

TEST(RestClientTest, CancelEndsABlockedNextPromptly) {
  std::promise<void> done;
  auto finished = done.get_future().share();
  ScriptedServer server([finished](const HttpRequest&, HttpConn& conn) {
    conn.startChunked();
    conn.chunk(eventLine("ADDED", "a", 1));
    finished.wait_for(std::chrono::seconds(10));  // then a quiet stream
  });
  RestKubeClient c(plainConfig(server));
  auto stream = c.watch(core::gvrs::kConfigMaps, "ns", {});
  ASSERT_TRUE(stream.ok());
  ASSERT_TRUE((*stream)->next().ok());
  auto canceller = std::async(std::launch::async, [&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    (*stream)->cancel();
    return Clock::now();
  });
  auto r = (*stream)->next();
  auto returned = Clock::now();
  auto cancelled = canceller.get();
  done.set_value();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kCancelled) << r.error().describe();
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(returned - cancelled).count(), 2000);
  // Stays cancelled.
  auto again = (*stream)->next();
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kCancelled);
}

TEST(RestClientTest, WatchCutByTheServerIsUnavailableNotTheEnd) {
  ScriptedServer server([](const HttpRequest&, HttpConn& conn) {
    conn.startChunked();
    conn.chunk(eventLine("ADDED", "a", 1));
    conn.write("400\r\n{\"type\":\"MODI");  // a chunk promised, then the connection drops
  });
  RestKubeClient c(plainConfig(server));
  auto stream = c.watch(core::gvrs::kConfigMaps, "ns", {});
  ASSERT_TRUE(stream.ok());
  // cpprestsdk fails the whole body once the connection breaks, so the first
  // event may be lost with it if it was not read in time (a watcher resumes
  // from the last event it handled, so it gets it again). What must never
  // happen is a clean end of stream.
  int events = 0;
  for (;;) {
    auto ev = (*stream)->next();
    if (!ev.ok()) {
      EXPECT_EQ(ev.error().code, ErrorCode::kUnavailable) << ev.error().describe();
      break;
    }
    ASSERT_TRUE(ev->has_value()) << "a dropped connection must not look like a normal end";
    ++events;
    ASSERT_LE(events, 1);
  }
}

TEST(RestClientTest, MalformedWatchLinesAreErrors) {
  ScriptedServer server([](const HttpRequest& req, HttpConn& conn) {
    conn.startChunked();
    conn.chunk(req.target.find("secrets") != std::string::npos ? "{\"type\":\"RENAMED\",\"object\":{}}\n"
                                                               : "this is not json\n");
    conn.endChunked();
  });
  RestKubeClient c(plainConfig(server));
  auto garbage = c.watch(core::gvrs::kConfigMaps, "ns", {});
  ASSERT_TRUE(garbage.ok());
  auto r1 = (*garbage)->next();
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().code, ErrorCode::kInternal);
  EXPECT_THAT(r1.error().message, HasSubstr("not a watch event: this is not json"));

  auto unknown = c.watch(core::gvrs::kSecrets, "ns", {});
  ASSERT_TRUE(unknown.ok());
  auto r2 = (*unknown)->next();
  ASSERT_FALSE(r2.ok());
  EXPECT_THAT(r2.error().message, HasSubstr("unknown watch event type \"RENAMED\""));
}

TEST(RestClientTest, WatchRefusedWithStatusIsTypedError) {
  ScriptedServer server([](const HttpRequest&, HttpConn& conn) {
    conn.respond(410, statusBody(410, "Expired", "too old resource version: 1 (99)").dump());
  });
  RestKubeClient c(plainConfig(server));
  auto w = c.watch(core::gvrs::kConfigMaps, "ns", {});
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code, ErrorCode::kGone);
  EXPECT_EQ(w.error().http_status, 410);
}

}  // namespace
}  // namespace bgo::kube::rest
