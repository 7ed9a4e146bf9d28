#pragma once
// A loopback HTTP/1.1 server for REST client tests: it records each request
// and answers with whatever the test's handler writes (plain responses, or a
// chunked body sent piece by piece, or nothing at all). One connection at a
// time; every response closes its connection.

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bgo::testing {

struct HttpRequest {
  std::string method;
  std::string target;                          // path and query, as sent
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

class HttpConn {
 public:
  explicit HttpConn(int fd) : fd_(fd) {}
  void respond(int code, const std::string& body, const std::map<std::string, std::string>& headers = {},
               const std::string& content_type = "application/json");
  void startChunked(int code = 200);
  // false once the peer has gone.
  bool chunk(const std::string& data);
  void endChunked();
  void write(const std::string& raw);  // anything, e.g. a broken stream
 private:
  int fd_;
  bool ok_ = true;
};

class ScriptedServer {
 public:
  using Handler = std::function<void(const HttpRequest&, HttpConn&)>;
  explicit ScriptedServer(Handler handler);
  ~ScriptedServer();
  ScriptedServer(const ScriptedServer&) = delete;
  ScriptedServer& operator=(const ScriptedServer&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<HttpRequest> requests() const;

 private:
  void serve();
  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  mutable std::mutex mu_;
  std::vector<HttpRequest> requests_;
  std::thread thread_;
};

}  // namespace bgo::testing
