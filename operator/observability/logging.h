#pragma once
// Logging setup from flags: text lines for people, JSON lines for machines, and
// a redaction guard in front of every output so no token, certificate or key
// material is ever written, whatever a caller formats into a message.
//
// A message about a release starts with "[ns/name] " (the reconciler's
// convention). The JSON formatter lifts that tag into a `release` field and
// drops it from `msg`; the text format keeps it as written.

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <spdlog/common.h>
#include <spdlog/formatter.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/sink.h>

#include "operator/core/result.h"

namespace bgo::observability {

enum class LogFormat { kText, kJson };

struct LogOptions {
  LogFormat format = LogFormat::kText;
  spdlog::level::level_enum level = spdlog::level::info;
};

// --log-format=text|json
core::Result<LogFormat> parseLogFormat(std::string_view s);
// --log-level=trace|debug|info|warn|warning|error|critical|off
core::Result<spdlog::level::level_enum> parseLogLevel(std::string_view s);

// Masks secrets in one message: "Bearer <token>", token/password/secret
// key-value pairs (YAML, JSON, query strings), kubeconfig *-data fields, PEM
// blocks (also base64-encoded ones) and JWTs.
std::string redactSecrets(std::string_view msg);

// "[ns/name] rest" -> {"ns/name", "rest"}; nullopt when the message does not
// start with a tag shaped like a namespaced object key.
struct ReleaseTag {
  std::string_view release;
  std::string_view rest;
};
std::optional<ReleaseTag> splitReleaseTag(std::string_view msg);

// One JSON object per line: {"ts","level","logger","msg"[,"release"]}; ts is
// RFC 3339 UTC with milliseconds.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

// The text pattern: "2026-01-01T00:00:00.000Z info    reconciler [ns/name] message".
inline constexpr const char* kTextPattern = "%Y-%m-%dT%H:%M:%S.%eZ %-7l %n %v";

// A sink that redacts the message, then hands it to `inner` (which formats it).
class RedactingSink final : public spdlog::sinks::sink {
 public:
  explicit RedactingSink(spdlog::sink_ptr inner);
  void log(const spdlog::details::log_msg& msg) override;
  void flush() override;
  void set_pattern(const std::string& pattern) override;
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override;

 private:
  spdlog::sink_ptr inner_;
};

// The operator's log output: options applied to one sink chain
// (redaction -> formatter -> `out`, stderr when null). Loggers made here share it.
class Logging {
 public:
  explicit Logging(LogOptions options, spdlog::sink_ptr out = nullptr);

  std::shared_ptr<spdlog::logger> logger(const std::string& name) const;
  // Makes logger(name) spdlog's default logger, for code that logs through
  // spdlog's free functions or takes no logger (informers).
  void installAsDefault(const std::string& name = "bluegreen-operator") const;
  const LogOptions& options() const { return options_; }
  spdlog::sink_ptr sink() const { return sink_; }

 private:
  LogOptions options_;
  spdlog::sink_ptr sink_;
};

}  // namespace bgo::observability
