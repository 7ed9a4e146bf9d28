#include "operator/kube/kube_client.h"

namespace bgo::kube {

using core::Error;
using core::ErrorCode;

const char* toString(WatchEvent::Type t) {
  switch (t) {
    case WatchEvent::Type::kAdded: return "ADDED";
    case WatchEvent::Type::kModified: return "MODIFIED";
    case WatchEvent::Type::kDeleted: return "DELETED";
    case WatchEvent::Type::kBookmark: return "BOOKMARK";
    case WatchEvent::Type::kError: return "ERROR";
  }
  return "ERROR";
}

Result<ListAll> listAll(KubeClient& client, const Gvr& gvr, const std::string& ns, ListOptions opts) {
  ListAll out;
  for (;;) {
    auto page = client.list(gvr, ns, opts);
    if (!page) return core::fail(page.error());
    if (auto it = page->find("items"); it != page->end() && it->is_array()) {
      for (auto& item : *it) out.items.push_back(std::move(item));
    }
    const json& meta = page->value("metadata", json::object());
    out.resource_version = meta.value("resourceVersion", out.resource_version);
    std::string next = meta.value("continue", "");
    if (next.empty()) return out;
    opts.continue_token = next;
  }
}

Error errorFromStatus(int http_status, const json& body) {
  std::string reason = body.is_object() ? body.value("reason", "") : "";
  std::string message = body.is_object() ? body.value("message", "") : "";
  int code = http_status;
  if (code == 0 && body.is_object()) code = body.value("code", 0);
  if (message.empty()) message = "HTTP " + std::to_string(code);

  ErrorCode ec = ErrorCode::kUnknown;
  if (reason == "NotFound" || code == 404) ec = ErrorCode::kNotFound;
  else if (reason == "AlreadyExists") ec = ErrorCode::kAlreadyExists;
  else if (reason == "Conflict" || code == 409) ec = ErrorCode::kConflict;
  else if (reason == "Gone" || reason == "Expired" || code == 410) ec = ErrorCode::kGone;
  else if (reason == "Invalid" || code == 422) ec = ErrorCode::kInvalid;
  else if (reason == "BadRequest" || code == 400) ec = ErrorCode::kBadRequest;
  else if (reason == "Forbidden" || code == 403) ec = ErrorCode::kForbidden;
  else if (reason == "Unauthorized" || code == 401) ec = ErrorCode::kUnauthorized;
  else if (reason == "TooManyRequests" || code == 429) ec = ErrorCode::kTooManyRequests;
  else if (reason == "ServiceUnavailable" || code == 503) ec = ErrorCode::kUnavailable;
  else if (reason == "Timeout" || code == 504) ec = ErrorCode::kTimeout;
  else if (reason == "InternalError" || code >= 500) ec = ErrorCode::kInternal;

  Error e = Error::make(ec, message, code);
  if (body.is_object()) {
    const json& details = body.value("details", json::object());
    if (details.is_object() && details.contains("retryAfterSeconds")) {
      e.retry_after = std::chrono::seconds(details.value("retryAfterSeconds", 0));
    }
  }
  return e;
}

}  // namespace bgo::kube
