#include "operator/core/error.h"

namespace bgo::core {

const char* toString(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound: return "NotFound";
    case ErrorCode::kAlreadyExists: return "AlreadyExists";
    case ErrorCode::kConflict: return "Conflict";
    case ErrorCode::kGone: return "Gone";
    case ErrorCode::kInvalid: return "Invalid";
    case ErrorCode::kBadRequest: return "BadRequest";
    case ErrorCode::kForbidden: return "Forbidden";
    case ErrorCode::kUnauthorized: return "Unauthorized";
    case ErrorCode::kTooManyRequests: return "TooManyRequests";
    case ErrorCode::kUnavailable: return "Unavailable";
    case ErrorCode::kTimeout: return "Timeout";
    case ErrorCode::kInternal: return "Internal";
    case ErrorCode::kCancelled: return "Cancelled";
    case ErrorCode::kConfig: return "Config";
    case ErrorCode::kUnknown: return "Unknown";
  }
  return "Unknown";
}

const char* toString(RetryClass rc) {
  switch (rc) {
    case RetryClass::kNone: return "none";
    case RetryClass::kReplan: return "replan";
    case RetryClass::kBackoff: return "backoff";
  }
  return "none";
}

RetryClass defaultRetryClass(ErrorCode code) {
  switch (code) {
    case ErrorCode::kConflict:
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kNotFound:
    case ErrorCode::kGone:
      return RetryClass::kReplan;
    case ErrorCode::kTooManyRequests:
    case ErrorCode::kUnavailable:
    case ErrorCode::kTimeout:
    case ErrorCode::kInternal:
    case ErrorCode::kUnknown:
    // RBAC can be fixed while we run; retry slowly instead of giving up.
    case ErrorCode::kForbidden:
    case ErrorCode::kUnauthorized:
      return RetryClass::kBackoff;
    case ErrorCode::kInvalid:
    case ErrorCode::kBadRequest:
    case ErrorCode::kCancelled:
    case ErrorCode::kConfig:
      return RetryClass::kNone;
  }
  return RetryClass::kNone;
}

Error Error::make(ErrorCode code, std::string message, int http_status) {
  Error e;
  e.code = code;
  e.message = std::move(message);
  e.http_status = http_status;
  e.retry = defaultRetryClass(code);
  return e;
}

std::string Error::describe() const {
  std::string out = toString(code);
  if (http_status != 0) out += " (" + std::to_string(http_status) + ")";
  if (!message.empty()) out += ": " + message;
  return out;
}

}  // namespace bgo::core
