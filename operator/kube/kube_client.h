#pragma once
// KubeClient: the operator's only way to talk to the API server, at the JSON
// level, for any resource (core or custom) by group/version/resource.
// Synchronous and thread-safe; production is RestKubeClient (kube/rest), tests
// use FakeKubeClient (testing/). Both pass the same contract suite.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "operator/core/gvr.h"
#include "operator/core/result.h"

namespace bgo::kube {

using json = nlohmann::json;
using core::Gvr;
using core::Result;
using core::Status;

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int64_t limit = 0;              // 0: no paging
  std::string continue_token;
  std::string resource_version;   // "" = most recent (quorum read)
};

struct WatchOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;   // resume point
  bool allow_bookmarks = true;
  int timeout_seconds = 300;      // server-side; the client idle timeout must exceed it
};

enum class PatchType { kJson, kMerge, kStrategicMerge, kApply };

struct WriteOptions {
  std::string subresource;        // "" or "status"
  std::string field_manager;      // required for kApply
  bool force = false;             // kApply: take ownership of conflicting fields
  bool dry_run = false;
};

struct DeleteOptions {
  std::string propagation_policy;  // "", "Foreground", "Background", "Orphan"
  std::optional<std::string> precondition_uid;
  std::optional<std::string> precondition_resource_version;
};

struct WatchEvent {
  enum class Type { kAdded, kModified, kDeleted, kBookmark, kError };
  Type type = Type::kAdded;
  json object;                    // for kError: the Status object
};

const char* toString(WatchEvent::Type t);

// One line of a watch response body (JSON lines): an event, nullopt for a blank
// line (keep-alive), or an error naming `what_request` and quoting the line.
Result<std::optional<WatchEvent>> decodeWatchLine(std::string_view line, const std::string& what_request);

// One open watch. next() blocks until an event, the end of the stream
// (nullopt: the server closed it normally, e.g. timeoutSeconds), or an error.
// cancel() may be called from any thread; a blocked next() then returns
// Cancelled promptly.
class WatchStream {
 public:
  virtual ~WatchStream() = default;
  virtual Result<std::optional<WatchEvent>> next() = 0;
  virtual void cancel() = 0;
};

class KubeClient {
 public:
  virtual ~KubeClient() = default;

  virtual Result<json> get(const Gvr& gvr, const std::string& ns, const std::string& name,
                           const std::string& subresource = "") = 0;
  // One page; the List object as the server returns it (items, metadata.continue,
  // metadata.resourceVersion).
  virtual Result<json> list(const Gvr& gvr, const std::string& ns, const ListOptions& opts = {}) = 0;
  // With opts.subresource (e.g. serviceaccounts/<name>/token), the request goes to
  // the object named by body.metadata.name.
  virtual Result<json> create(const Gvr& gvr, const std::string& ns, const json& body,
                              const WriteOptions& opts = {}) = 0;
  // PUT; body.metadata.resourceVersion (when set) is the optimistic-concurrency precondition.
  virtual Result<json> replace(const Gvr& gvr, const std::string& ns, const std::string& name,
                               const json& body, const WriteOptions& opts = {}) = 0;
  virtual Result<json> patch(const Gvr& gvr, const std::string& ns, const std::string& name,
                             PatchType type, const json& patch, const WriteOptions& opts = {}) = 0;
  virtual Status remove(const Gvr& gvr, const std::string& ns, const std::string& name,
                        const DeleteOptions& opts = {}) = 0;
  virtual Result<std::unique_ptr<WatchStream>> watch(const Gvr& gvr, const std::string& ns,
                                                     const WatchOptions& opts = {}) = 0;
};

// Lists every page (follows metadata.continue); returns items and the list's resourceVersion.
struct ListAll {
  json items = json::array();
  std::string resource_version;
};
Result<ListAll> listAll(KubeClient& client, const Gvr& gvr, const std::string& ns,
                        ListOptions opts = {});

// Maps an API "Status" object (and HTTP status) to a typed Error.
core::Error errorFromStatus(int http_status, const json& status_body);

}  // namespace bgo::kube
