#pragma once
// Informer: list-then-watch for one resource (a namespace or all, an optional
// label selector) into a read-only Store, with add/update/delete handlers.
//  - lists in pages, then watches from the list's resourceVersion (bookmarks on);
//  - a watch that ends or drops resumes from the last resourceVersion seen;
//  - 410 Gone (an ERROR event or an error) -> full relist; the relist is diffed
//    against the cache, so objects deleted meanwhile are delivered as deletes,
//    changed ones as updates and new ones as adds, and nothing twice; a list
//    goes into the cache (and its changes to the handlers) page by page, the
//    deletes after the last page;
//  - errors back off exponentially with jitter (800 ms .. 30 s by default),
//    reset once a watch delivers events or stays open watch_healthy_after
//    (5 s) without any (a quiet resource); an error with Retry-After (a
//    restarted API server's 429 while its cache initializes) waits that long
//    (at least 800 ms) instead and does not count as a failure; waits are measured on the injected
//    Clock and can be cut short by stop().
// Handlers run on the informer's thread after the cache was updated; keep them
// fast (enqueue a key) and never block in them.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "operator/core/clock.h"
#include "operator/core/gvr.h"
#include "operator/informer/store.h"
#include "operator/kube/kube_client.h"

namespace spdlog {
class logger;
}

namespace bgo::informer {

struct EventHandlers {
  std::function<void(const ObjectPtr& obj)> on_add;
  std::function<void(const ObjectPtr& old_obj, const ObjectPtr& new_obj)> on_update;
  // The object's last known state.
  std::function<void(const ObjectPtr& obj)> on_delete;
};

struct InformerOptions {
  int64_t page_size = 500;
  int watch_timeout_seconds = 300;
  std::chrono::milliseconds backoff_initial{800};
  std::chrono::milliseconds backoff_max{30000};
  double backoff_factor = 2.0;
  double jitter = 0.2;  // a wait is stretched by up to this fraction, at random
  // A watch that stayed open this long counts as progress even without events,
  // so the next failure backs off from backoff_initial again.
  std::chrono::milliseconds watch_healthy_after{5000};
  // How often a backoff wait re-reads the clock (a ManualClock moves without notice).
  std::chrono::milliseconds wait_slice{1000};
  uint64_t seed = 0;  // jitter seed; 0 picks one at random
  // Told each backoff wait before it starts (metrics, tests).
  std::function<void(std::chrono::milliseconds)> on_backoff;
  std::shared_ptr<spdlog::logger> logger;  // null: spdlog's default logger
  // Applied to every object before it is cached (e.g. drop managedFields to
  // save memory); must keep metadata.name/namespace/resourceVersion.
  std::function<void(nlohmann::json&)> transform;
  // Keep objects packed (MessagePack) and decode them on read: ~7x less memory
  // per object, a fresh tree per read (see Store).
  bool packed = false;
};

struct InformerStats {
  uint64_t lists = 0;           // completed full lists, the first one included
  uint64_t relists = 0;         // lists after the first
  uint64_t watch_starts = 0;
  uint64_t watch_restarts = 0;  // watches resumed after an end or an error
  uint64_t events = 0;          // ADDED/MODIFIED/DELETED events applied
  uint64_t bookmarks = 0;
  uint64_t errors = 0;          // failed lists, watches, streams
  uint64_t gone = 0;            // 410s seen
  uint64_t handler_errors = 0;  // handlers that threw
  uint64_t backoff_waits = 0;
  std::chrono::milliseconds last_backoff{0};
  std::string resource_version;  // last seen
  std::string last_error;
};

class Informer {
 public:
  Informer(kube::KubeClient& client, core::Gvr gvr, std::string ns, std::string label_selector,
           core::Clock& clock, InformerOptions options = {});
  ~Informer();  // stops
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Both before start().
  void addEventHandlers(EventHandlers handlers);
  void addIndex(const std::string& name, IndexFunc fn);

  void start();
  // Cancels the watch or wait in progress and joins the thread. A list page in
  // flight is finished first (the client call is synchronous).
  void stop();

  // True once the first full list is in the cache and its adds were delivered.
  bool hasSynced() const;
  // Waits (real time) for hasSynced(); false on timeout or stop.
  bool waitForSync(std::chrono::milliseconds timeout) const;

  ObjectPtr get(const std::string& key) const { return store_.get(key); }
  ObjectPtr get(const std::string& ns, const std::string& name) const {
    return store_.get(ns.empty() ? name : ns + "/" + name);
  }
  std::vector<ObjectPtr> list() const { return store_.list(); }
  std::vector<ObjectPtr> listNamespace(const std::string& ns) const { return store_.byNamespace(ns); }
  std::vector<ObjectPtr> byIndex(const std::string& index, const std::string& value) const {
    return store_.byIndex(index, value);
  }
  std::vector<std::string> keys() const { return store_.keys(); }
  std::size_t size() const { return store_.size(); }

  InformerStats stats() const;
  const core::Gvr& gvr() const { return gvr_; }

 private:
  enum class WatchOutcome { kEnded, kGone, kError, kStopped };

  void run();
  core::Status listAndReplace();
  WatchOutcome watchOnce();
  WatchOutcome consume(kube::WatchStream& stream, bool& progressed);
  void deliver(const Change& c);
  // After a failed list or watch: the server's Retry-After if the error had
  // one (not counted as a failure), else the next step of the backoff.
  void backoffAfterError();
  void backoff(std::optional<std::chrono::milliseconds> base_wait = std::nullopt);
  bool stopping() const;
  void noteError(const core::Error& e, const char* what);
  void fillTypeMeta(nlohmann::json& obj) const;
  std::string where() const;  // " in <ns>" or ""
  int64_t millisSince(core::SteadyTime t) const;

  kube::KubeClient& client_;
  const core::Gvr gvr_;
  const std::string ns_;
  const std::string label_selector_;
  core::Clock& clock_;
  InformerOptions options_;
  std::shared_ptr<spdlog::logger> log_;
  Store store_;
  std::vector<EventHandlers> handlers_;

  // Informer thread only.
  std::string rv_;
  std::string kind_;
  int failures_ = 0;       // consecutive failures without progress
  int gone_in_a_row_ = 0;  // 410s without progress
  std::optional<std::chrono::seconds> retry_after_;  // of the last error noted
  std::mt19937_64 rng_;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool started_ = false;
  bool stopping_ = false;
  bool synced_ = false;
  kube::WatchStream* current_watch_ = nullptr;
  InformerStats stats_;
  std::thread thread_;
};

}  // namespace bgo::informer
