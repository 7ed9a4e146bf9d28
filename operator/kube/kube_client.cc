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

namespace {

std::optional<WatchEvent::Type> eventType(const std::string& s) {
  if (s == "ADDED") return WatchEvent::Type::kAdded;
  if (s == "MODIFIED") return WatchEvent::Type::kModified;
  if (s == "DELETED") return WatchEvent::Type::kDeleted;
  if (s == "BOOKMARK") return WatchEvent::Type::kBookmark;
  if (s == "ERROR") return WatchEvent::Type::kError;
  return std::nullopt;
}

// A bad line is quoted, but never at length: it may be a whole object.
std::string snippet(std::string_view s) {
  constexpr size_t kMax = 300;
  return s.size() <= kMax ? std::string(s) : std::string(s.substr(0, kMax)) + "...";
}

}  // namespace

Result<std::optional<WatchEvent>> decodeWatchLine(std::string_view line, const std::string& what_request) {
  if (line.empty() || line == "\r") return std::optional<WatchEvent>();
  json doc = json::parse(line, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("type") || !doc["type"].is_string()) {
    return core::fail(Error::make(ErrorCode::kInternal, what_request + ": not a watch event: " + snippet(line)));
  }
  auto type = eventType(doc["type"].get<std::string>());
  if (!type) {
    return core::fail(
        Error::make(ErrorCode::kInternal, what_request + ": unknown watch event type " + snippet(doc["type"].dump())));
  }
  WatchEvent ev;
  ev.type = *type;
  if (auto it = doc.find("object"); it != doc.end()) ev.object = std::move(*it);
  return std::optional<WatchEvent>(std::move(ev));
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
