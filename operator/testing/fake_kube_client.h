#pragma once
// FakeKubeClient: an in-memory API server behind the KubeClient interface, with
// the semantics controllers depend on:
//  - one global, monotonic resourceVersion (a decimal string) bumped by every
//    write that changes something; a write that changes nothing keeps it and
//    emits no watch event (as the real server does);
//  - uid, creationTimestamp and generation set on create (.status dropped for
//    resources with the status subresource; built-ins on a real server keep
//    their zero status, e.g. {}); generation bumped
//    only when something outside metadata and status changes (for resources
//    that track it: custom resources and workload/spec kinds);
//  - 409 Conflict on a stale resourceVersion (replace, patch, delete
//    preconditions), AlreadyExists, NotFound;
//  - the status subresource: a /status write touches only .status, a main
//    write ignores .status (for resources with the subresource);
//  - JSON Patch (a failed `test` or a missing path -> 422 Invalid, like the
//    real server), merge patch, strategic merge approximated as merge patch;
//  - server-side apply approximated as "merge the applied object into the live
//    one": no field ownership, so no apply conflicts and no removal of fields a
//    manager stopped applying; `force` is accepted and changes nothing;
//  - dryRun (nothing stored, no new resourceVersion);
//  - list with label and field (metadata.name/namespace) selectors, paging
//    with limit/continue served from a consistent snapshot, list resourceVersion;
//  - finalizers: delete sets deletionTimestamp until the finalizers are gone;
//  - watch fed from the same store: events in order from a resourceVersion,
//    a bounded event history (older -> an ERROR event with 410 Expired, as the
//    watch cache answers), selector transitions as ADDED/DELETED.
// Not simulated: ownerReference garbage collection (deleting an owner leaves
// its dependents), admission, validation of object schemas, field ownership.
// Deleting a namespace deletes the namespaced objects in it (the namespace
// controller's job, done synchronously).
//
// Test controls: an ordered write log, per-call fault injection, forced 410 on
// the next watch, history compaction, ending or breaking open watches,
// bookmarks. Thread-safe. Watch streams may outlive the client.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "operator/core/clock.h"
#include "operator/kube/kube_client.h"

namespace bgo::testing {

using json = nlohmann::json;

enum class Verb { kGet, kList, kCreate, kReplace, kPatch, kDelete, kWatch };
const char* toString(Verb v);
inline bool isWrite(Verb v) {
  return v == Verb::kCreate || v == Verb::kReplace || v == Verb::kPatch || v == Verb::kDelete;
}

// One write request as the server saw it.
struct WriteRecord {
  Verb verb = Verb::kCreate;
  core::Gvr gvr;
  std::string ns;
  std::string name;
  std::string subresource;
  std::optional<kube::PatchType> patch_type;
  bool dry_run = false;
  bool changed = false;                  // the store changed (a new resourceVersion)
  std::optional<core::ErrorCode> error;  // set when the request failed
  std::string resource_version;          // the object's resourceVersion after the request
};

// What a fault hook sees.
struct Call {
  Verb verb;
  const core::Gvr& gvr;
  const std::string& ns;
  const std::string& name;
  const std::string& subresource;
};

struct FakeOptions {
  // Watch events kept for resuming watches and continue tokens; older -> 410.
  size_t event_history = 10000;
  // Creating a namespaced object needs its Namespace (as on a real server).
  bool require_namespaces = false;
};

class FakeKubeClient final : public kube::KubeClient {
 public:
  using FaultHook = std::function<std::optional<core::Error>(const Call&)>;

  FakeKubeClient();  // system clock, default options
  explicit FakeKubeClient(FakeOptions options);
  // The clock stamps creation/deletion timestamps and ends watches at timeoutSeconds.
  explicit FakeKubeClient(core::Clock& clock, FakeOptions options = {});
  ~FakeKubeClient() override;
  FakeKubeClient(const FakeKubeClient&) = delete;
  FakeKubeClient& operator=(const FakeKubeClient&) = delete;

  // --- KubeClient ---
  kube::Result<json> get(const core::Gvr& gvr, const std::string& ns, const std::string& name,
                         const std::string& subresource = "") override;
  kube::Result<json> list(const core::Gvr& gvr, const std::string& ns,
                          const kube::ListOptions& opts = {}) override;
  kube::Result<json> create(const core::Gvr& gvr, const std::string& ns, const json& body,
                            const kube::WriteOptions& opts = {}) override;
  kube::Result<json> replace(const core::Gvr& gvr, const std::string& ns, const std::string& name,
                             const json& body, const kube::WriteOptions& opts = {}) override;
  kube::Result<json> patch(const core::Gvr& gvr, const std::string& ns, const std::string& name,
                           kube::PatchType type, const json& patch,
                           const kube::WriteOptions& opts = {}) override;
  kube::Status remove(const core::Gvr& gvr, const std::string& ns, const std::string& name,
                      const kube::DeleteOptions& opts = {}) override;
  kube::Result<std::unique_ptr<kube::WatchStream>> watch(const core::Gvr& gvr, const std::string& ns,
                                                         const kube::WatchOptions& opts = {}) override;

  // --- state ---
  // Creates (or replaces) an object without consulting faults or logging a write.
  // Returns the stored object. Watchers see it like any other write.
  json seed(const core::Gvr& gvr, json object);
  // The newest resourceVersion handed out.
  std::string resourceVersion() const;
  size_t objectCount(const core::Gvr& gvr, const std::string& ns = "") const;
  // Overrides whether a resource has a status subresource (default: see the .cc).
  void setStatusSubresource(const core::Gvr& gvr, bool has_status);

  // --- write log ---
  std::vector<WriteRecord> writes() const;
  // Write requests (failed ones too), optionally only those of one verb.
  size_t writeCount(std::optional<Verb> verb = std::nullopt) const;
  void clearWrites();
  // Every request, reads included, by verb.
  size_t callCount(Verb verb) const;

  // --- fault injection (checked before anything else in a call) ---
  // The next `count` calls of `verb` (on `gvr`, if given) fail with `error`.
  void failNext(Verb verb, std::optional<core::Gvr> gvr, core::Error error, int count = 1);
  // Called for every request; a returned error fails it.
  void setFaultHook(FaultHook hook);
  void clearFaults();

  // --- watch controls ---
  // The next `count` watches start with a 410 Expired ERROR event, as the real
  // server answers a resourceVersion that is too old.
  void forceGoneOnNextWatch(int count = 1);
  // Forgets the event history: any watch or continue token from an earlier
  // resourceVersion now gets 410.
  void compactHistory();
  // Ends open watch streams normally (next() -> nullopt), as at timeoutSeconds.
  void closeWatches();
  // Open watch streams fail with `error` (a dropped connection).
  void breakWatches(core::Error error);
  // Sends a BOOKMARK with the current resourceVersion to streams that allow them.
  void sendBookmarks();
  size_t openWatches() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace bgo::testing
