#pragma once
// What the benchmarks share: durations as milliseconds, the one-container pod template their
// releases (and Argo's Rollouts) run, a parallel loop and a process's usage from /proc.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <map>

#include <nlohmann/json.hpp>

#include "operator/core/clock.h"

namespace bgo::bench {

template <class Rep, class Period>
double ms(std::chrono::duration<Rep, Period> d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

inline nlohmann::json podTemplate(const std::string& image, const std::string& app = "bench") {
  return {{"metadata", {{"labels", {{"app", app}}}}},
          {"spec", {{"containers", nlohmann::json::array({{{"name", "app"}, {"image", image}}})}}}};
}

// Runs fn(i) for i in [0, n) from k threads.
template <class F>
void parallelFor(int n, int k, F fn) {
  std::atomic<int> next{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < k; ++t) {
    ts.emplace_back([&] {
      for (int i = next++; i < n; i = next++) fn(i);
    });
  }
  for (auto& t : ts) t.join();
}

struct Usage {
  double rss_mib = 0;
  double cpu_s = 0;  // user + system
  int threads = 0;
  int fds = 0;      // open file descriptors
  int sockets = 0;  // of which sockets
};

inline Usage usageOf(pid_t pid) {
  Usage u;
  const std::string dir = "/proc/" + std::to_string(pid);
  std::ifstream st(dir + "/status");
  for (std::string line; std::getline(st, line);) {
    if (line.rfind("VmRSS:", 0) == 0) u.rss_mib = std::strtod(line.c_str() + 6, nullptr) / 1024.0;
    if (line.rfind("Threads:", 0) == 0) u.threads = std::atoi(line.c_str() + 8);
  }
  std::ifstream sf(dir + "/stat");
  std::string all((std::istreambuf_iterator<char>(sf)), {});
  auto close = all.rfind(')');
  if (close != std::string::npos) {
    std::istringstream in(all.substr(close + 2));
    std::vector<std::string> f;
    for (std::string x; in >> x;) f.push_back(x);
    // fields after the name start at 3 (state): utime is 14, stime 15
    if (f.size() > 12) u.cpu_s = (std::stod(f[11]) + std::stod(f[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir + "/fd", ec)) {
    ++u.fds;
    if (std::filesystem::read_symlink(e.path(), ec).string().rfind("socket:", 0) == 0) ++u.sockets;
  }
  return u;
}

inline std::uintmax_t fileSize(const std::string& path) {
  std::ifstream f(path, std::ios::ate | std::ios::binary);
  return f ? static_cast<std::uintmax_t>(f.tellg()) : 0;
}

// Writes (create, update, patch, delete) the API server received in [from, to], by user agent
// (first word) and resource, from its audit log (ResponseComplete stage only).
struct AuditCount {
  bool available = false;
  std::map<std::string, int> by_agent;     // agent -> writes
  std::map<std::string, int> by_resource;  // agent/verb resource -> writes
  int total = 0;
};
inline AuditCount auditWrites(const std::string& path, std::chrono::system_clock::time_point from,
                              std::chrono::system_clock::time_point to) {
  AuditCount out;
  std::ifstream in(path);
  if (!in) return out;
  out.available = true;
  for (std::string line; std::getline(in, line);) {
    if (line.find("\"stage\":\"ResponseComplete\"") == std::string::npos) continue;
    bool write = false;
    for (const char* v : {"\"verb\":\"create\"", "\"verb\":\"update\"", "\"verb\":\"patch\"", "\"verb\":\"delete\""}) {
      if (line.find(v) != std::string::npos) write = true;
    }
    if (!write) continue;
    nlohmann::json e = nlohmann::json::parse(line, nullptr, false);
    if (e.is_discarded()) continue;
    auto t = core::parseRfc3339(e.value("requestReceivedTimestamp", ""));
    if (!t || *t < from || *t > to) continue;
    std::string agent = e.value("userAgent", "");
    agent = agent.substr(0, agent.find_first_of("/ "));
    const nlohmann::json& ref = e.value("objectRef", nlohmann::json::object());
    std::string res = ref.value("resource", "") + (ref.contains("subresource") ? "/" + ref.value("subresource", "") : "");
    ++out.total;
    ++out.by_agent[agent];
    ++out.by_resource[agent + " " + e.value("verb", "") + " " + res];
  }
  return out;
}

}  // namespace bgo::bench
