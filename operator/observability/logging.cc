#include "operator/observability/logging.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace bgo::observability {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

struct Rule {
  std::regex re;
  const char* replacement;
};

const std::array<Rule, 6>& rules() {
  using std::regex_constants::ECMAScript;
  using std::regex_constants::icase;
  // Built once; std::regex is safe to use from several threads once built.
  static const std::array<Rule, 6> kRules{{
      // PEM blocks, complete or cut off at the end of the message.
      {std::regex(R"re(-----BEGIN [A-Z0-9 ]*-----[\s\S]*?(-----END [A-Z0-9 ]*-----|$))re", ECMAScript),
       "[REDACTED PEM]"},
      // Base64 of "-----BEGIN" (kubeconfig *-data, Secret data).
      {std::regex(R"re(LS0tLS1CRUdJTi[A-Za-z0-9+/=]*)re", ECMAScript), "[REDACTED PEM]"},
      // kubeconfig material and credential-like keys: YAML "k: v", JSON "k":"v", query k=v
      // (a value already masked, "[REDACTED...", is left alone).
      {std::regex(R"re(((?:client-key-data|client-certificate-data|certificate-authority-data|[a-z_-]*token|password|passwd|secret|authorization)"?\s*[:=]\s*"?)(?:(?:bearer|basic)\s+)?[^\s",}&\[][^\s",}&]*)re",
                  ECMAScript | icase),
       "$1[REDACTED]"},
      // Authorization header values wherever they appear.
      {std::regex(R"re((bearer)\s+[A-Za-z0-9._~+/=-]+)re", ECMAScript | icase), "$1 [REDACTED]"},
      // JWTs (service-account tokens) anywhere.
      {std::regex(R"re(eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*)re", ECMAScript),
       "[REDACTED JWT]"},
      // Private keys in other encodings ("PRIVATE KEY" followed by data on one line).
      {std::regex(R"re((private[ _-]?key"?\s*[:=]\s*"?)[^\s",}\[][^\s",}]*)re", ECMAScript | icase),
       "$1[REDACTED]"},
  }};
  return kRules;
}

// Cheap pre-check: most messages contain none of these and skip the regexes.
bool mayHoldSecret(std::string_view msg) {
  static constexpr std::array<std::string_view, 11> kHints{
      "-----begin", "ls0tls1crudjti", "-data",   "token",        "password", "passwd",
      "secret",     "bearer",         "private", "authorization", "eyj"};
  const std::string l = lower(msg);
  for (auto h : kHints) {
    if (l.find(h) != std::string::npos) return true;
  }
  return false;
}

bool dnsChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'; }

bool dnsName(std::string_view s) {
  return !s.empty() && s.size() <= 253 && std::all_of(s.begin(), s.end(), dnsChar);
}

void writeTimestamp(spdlog::log_clock::time_point t, std::string& out) {
  using namespace std::chrono;
  const auto secs = time_point_cast<seconds>(t);
  const auto ms = duration_cast<milliseconds>(t - secs).count();
  const std::time_t tt = system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

}  // namespace

core::Result<LogFormat> parseLogFormat(std::string_view s) {
  const std::string l = lower(s);
  if (l == "text") return LogFormat::kText;
  if (l == "json") return LogFormat::kJson;
  return core::fail(core::ErrorCode::kConfig,
                    "--log-format: want text or json, got '" + std::string(s) + "'");
}

core::Result<spdlog::level::level_enum> parseLogLevel(std::string_view s) {
  const std::string l = lower(s);
  if (l == "trace") return spdlog::level::trace;
  if (l == "debug") return spdlog::level::debug;
  if (l == "info") return spdlog::level::info;
  if (l == "warn" || l == "warning") return spdlog::level::warn;
  if (l == "error") return spdlog::level::err;
  if (l == "critical") return spdlog::level::critical;
  if (l == "off") return spdlog::level::off;
  return core::fail(core::ErrorCode::kConfig,
                    "--log-level: want trace, debug, info, warn, error, critical or off, got '" +
                        std::string(s) + "'");
}

std::string redactSecrets(std::string_view msg) {
  if (!mayHoldSecret(msg)) return std::string(msg);
  std::string out(msg);
  for (const auto& r : rules()) out = std::regex_replace(out, r.re, r.replacement);
  return out;
}

std::optional<ReleaseTag> splitReleaseTag(std::string_view msg) {
  if (msg.size() < 4 || msg.front() != '[') return std::nullopt;
  const auto close = msg.find(']');
  if (close == std::string_view::npos) return std::nullopt;
  const std::string_view key = msg.substr(1, close - 1);
  const auto slash = key.find('/');
  if (slash == std::string_view::npos || !dnsName(key.substr(0, slash)) ||
      !dnsName(key.substr(slash + 1))) {
    return std::nullopt;
  }
  std::string_view rest = msg.substr(close + 1);
  if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  return ReleaseTag{key, rest};
}

void JsonFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  const std::string_view payload(msg.payload.data(), msg.payload.size());
  std::string ts;
  writeTimestamp(msg.time, ts);
  nlohmann::ordered_json j;
  j["ts"] = ts;
  const auto level = spdlog::level::to_string_view(msg.level);
  j["level"] = std::string(level.data(), level.size());
  j["logger"] = std::string(msg.logger_name.data(), msg.logger_name.size());
  if (auto tag = splitReleaseTag(payload)) {
    j["msg"] = std::string(tag->rest);
    j["release"] = std::string(tag->release);
  } else {
    j["msg"] = std::string(payload);
  }
  // Invalid UTF-8 in a message is replaced, never a reason to drop the line.
  const std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  dest.append(line.data(), line.data() + line.size());
  dest.push_back('\n');
}

std::unique_ptr<spdlog::formatter> JsonFormatter::clone() const {
  return std::make_unique<JsonFormatter>();
}

RedactingSink::RedactingSink(spdlog::sink_ptr inner) : inner_(std::move(inner)) {}

void RedactingSink::log(const spdlog::details::log_msg& msg) {
  const std::string clean = redactSecrets(std::string_view(msg.payload.data(), msg.payload.size()));
  spdlog::details::log_msg copy = msg;
  copy.payload = spdlog::string_view_t(clean.data(), clean.size());
  inner_->log(copy);
}

void RedactingSink::flush() { inner_->flush(); }

void RedactingSink::set_pattern(const std::string& pattern) { inner_->set_pattern(pattern); }

void RedactingSink::set_formatter(std::unique_ptr<spdlog::formatter> formatter) {
  inner_->set_formatter(std::move(formatter));
}

Logging::Logging(LogOptions options, spdlog::sink_ptr out) : options_(options) {
  if (!out) out = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  if (options_.format == LogFormat::kJson) {
    out->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    out->set_formatter(
        std::make_unique<spdlog::pattern_formatter>(kTextPattern, spdlog::pattern_time_type::utc));
  }
  sink_ = std::make_shared<RedactingSink>(std::move(out));
}

std::shared_ptr<spdlog::logger> Logging::logger(const std::string& name) const {
  auto l = std::make_shared<spdlog::logger>(name, sink_);
  l->set_level(options_.level);
  l->flush_on(spdlog::level::warn);
  return l;
}

void Logging::installAsDefault(const std::string& name) const {
  spdlog::set_default_logger(logger(name));
}

}  // namespace bgo::observability
