#include "integration/support/http.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

namespace bgo::itest {

namespace {

using core::ErrorCode;

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

bool waitFd(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, static_cast<int>(left.count())) > 0;
}

}  // namespace

core::Result<HttpResponse> httpGet(const std::string& host, int port, const std::string& path,
                                   Millis timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res); rc != 0) {
    return core::fail(ErrorCode::kConfig, "resolve " + host + ": " + ::gai_strerror(rc));
  }
  Fd s;
  std::string last_error = "no address";
  for (addrinfo* a = res; a; a = a->ai_next) {
    s.fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (s.fd < 0) continue;
    if (::connect(s.fd, a->ai_addr, a->ai_addrlen) == 0 ||
        (errno == EINPROGRESS && waitFd(s.fd, POLLOUT, deadline))) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err == 0) break;
      last_error = std::strerror(err);
    } else {
      last_error = std::strerror(errno);
    }
    ::close(s.fd);
    s.fd = -1;
  }
  ::freeaddrinfo(res);
  const std::string where = host + ":" + std::to_string(port) + path;
  if (s.fd < 0) return core::fail(ErrorCode::kUnavailable, "connect " + where + ": " + last_error);

  const std::string req = "GET " + path + " HTTP/1.0\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
  for (std::size_t sent = 0; sent < req.size();) {
    if (!waitFd(s.fd, POLLOUT, deadline)) return core::fail(ErrorCode::kTimeout, "send " + where);
    ssize_t n = ::send(s.fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) return core::fail(ErrorCode::kUnavailable, "send " + where);
    if (n > 0) sent += static_cast<std::size_t>(n);
  }
  std::string raw;
  char buf[8192];
  for (;;) {
    if (!waitFd(s.fd, POLLIN, deadline)) return core::fail(ErrorCode::kTimeout, "read " + where);
    ssize_t n = ::recv(s.fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return core::fail(ErrorCode::kUnavailable, "read " + where + ": " + std::strerror(errno));
    }
    raw.append(buf, static_cast<std::size_t>(n));
  }
  HttpResponse out;
  const auto head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/", 0) != 0 || head_end == std::string::npos) {
    return core::fail(ErrorCode::kInternal, "not an HTTP response from " + where);
  }
  std::istringstream status_line(raw.substr(0, raw.find("\r\n")));
  std::string version;
  status_line >> version >> out.status;
  out.body = raw.substr(head_end + 4);
  return out;
}

std::optional<double> metricSum(const std::string& exposition, const std::string& name,
                                const std::map<std::string, std::string>& labels) {
  std::optional<double> sum;
  std::istringstream in(exposition);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#' || line.rfind(name, 0) != 0) continue;
    const char next = line.size() > name.size() ? line[name.size()] : '\0';
    if (next != '{' && next != ' ') continue;  // another metric sharing the prefix
    std::string label_text;
    std::size_t value_at = name.size();
    if (next == '{') {
      const auto close = line.find('}', name.size());
      if (close == std::string::npos) continue;
      label_text = line.substr(name.size() + 1, close - name.size() - 1);
      value_at = close + 1;
    }
    bool match = true;
    for (const auto& [k, v] : labels) {
      const std::string want = k + "=\"" + v + "\"";
      const auto at = label_text.find(want);
      // Whole label only: at the start or after a comma.
      if (at == std::string::npos || (at != 0 && label_text[at - 1] != ',')) match = false;
    }
    if (!match) continue;
    try {
      sum = sum.value_or(0) + std::stod(line.substr(value_at));
    } catch (const std::exception&) {
    }
  }
  return sum;
}

}  // namespace bgo::itest
