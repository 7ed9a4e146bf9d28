#pragma once
// What /healthz and /readyz report: sets of named checks, and the heartbeat a
// loop ticks so a wedged loop shows up as unhealthy.

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "operator/core/clock.h"

namespace bgo::observability {

// Stale when not ticked for longer than max_age (e.g. a worker stuck in a call
// that never returns). Thread-safe; tick() is a single atomic store.
class Heartbeat {
 public:
  Heartbeat(std::string name, const core::Clock& clock, std::chrono::nanoseconds max_age);

  void tick();
  // Reads the last beat from elsewhere (e.g. Controller::lastProgress) instead
  // of tick(). Set before serving.
  void setSource(std::function<core::SteadyTime()> source);
  // Judges staleness only while `busy()` is true (e.g. a reconcile is in
  // flight): an idle loop that waits for work is not wedged. Set before serving.
  void onlyWhile(std::function<bool()> busy);
  // nullopt when fresh, else why not.
  std::optional<std::string> problem() const;
  const std::string& name() const { return name_; }

 private:
  const std::string name_;
  const core::Clock& clock_;
  const std::chrono::nanoseconds max_age_;
  std::atomic<int64_t> last_ns_;
  std::function<core::SteadyTime()> source_;
  std::function<bool()> busy_;
};

// Named checks behind one endpoint. A check passes when it returns nullopt;
// otherwise it returns the reason. Checks are either polled (add) or pushed
// (set). Thread-safe. Checks run on the HTTP server's thread: keep them cheap.
class CheckSet {
 public:
  using Check = std::function<std::optional<std::string>()>;

  void add(const std::string& name, Check check);
  void add(Heartbeat& heartbeat);  // must outlive the set
  // A pushed condition; `reason` is shown while !ok. Declare it with ok=false
  // at startup so the endpoint fails until someone says otherwise.
  void set(const std::string& name, bool ok, std::string reason = "");

  struct Verdict {
    bool ok = true;
    std::string text;  // "[+]name ok" / "[-]name failed: reason", one per line
  };
  Verdict evaluate() const;

 private:
  struct Entry {
    std::string name;
    Check check;            // polled
    bool ok = false;        // pushed
    std::string reason;
  };
  mutable std::mutex mu_;
  std::vector<Entry> entries_;
};

// /readyz in this operator: "informers" (caches synced) and "leader-election"
// (the elector has seen the lease, or election is off). Names for set().
inline constexpr const char* kReadyCachesSynced = "informers-synced";
inline constexpr const char* kReadyLeaderKnown = "leader-state-known";

}  // namespace bgo::observability
