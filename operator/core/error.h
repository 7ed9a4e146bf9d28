#pragma once
// Errors are values. Each carries a retry class so callers decide what to do
// without parsing messages: conflicts re-plan soon, server trouble backs off,
// bad input is terminal (reported, never hot-looped).

#include <chrono>
#include <optional>
#include <string>

namespace bgo::core {

enum class ErrorCode {
  kNotFound,
  kAlreadyExists,
  kConflict,         // 409 on a stale resourceVersion or a failed JSON Patch test
  kGone,             // 410: watch/list resourceVersion too old
  kInvalid,          // 422 or a bad spec
  kBadRequest,       // 400
  kForbidden,        // 403
  kUnauthorized,     // 401
  kTooManyRequests,  // 429
  kUnavailable,      // 503, connection refused, reset
  kTimeout,          // 504, client-side timeout
  kInternal,         // 500 and anything unexpected from the server
  kCancelled,        // we asked to stop
  kConfig,           // bad kubeconfig, flags, files
  kUnknown,
};

enum class RetryClass {
  kNone,      // terminal: report and wait for the input to change
  kReplan,    // re-read the cache and plan again soon (conflicts)
  kBackoff,   // transient: exponential backoff
};

const char* toString(ErrorCode code);
const char* toString(RetryClass rc);
RetryClass defaultRetryClass(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kUnknown;
  std::string message;
  int http_status = 0;
  // Server hint (Retry-After); the caller's backoff still applies when absent.
  std::optional<std::chrono::seconds> retry_after;
  RetryClass retry = RetryClass::kNone;

  static Error make(ErrorCode code, std::string message, int http_status = 0);

  bool is(ErrorCode c) const { return code == c; }
  // "Conflict (409): <message>"
  std::string describe() const;
};

}  // namespace bgo::core
