#pragma once
// Records what an informer's handlers delivered, per key and in order, and
// checks it against the server's final state: every key's events form a valid
// life (add, then updates whose old state is the last one delivered, then at
// most a delete, ...), no state is delivered twice, a key the server still has
// ends at its final resourceVersion and a key it lacks ends with a delete.

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "operator/informer/informer.h"

namespace bgo::inftest {

// key ("ns/name") -> resourceVersion
using State = std::map<std::string, std::string>;

struct Delivered {
  char kind = 'A';           // 'A' add, 'U' update, 'D' delete
  std::string rv;            // the new (or, for a delete, the final) object's
  std::string old_rv;        // update: the old object's
  std::chrono::steady_clock::time_point at;
};

class EventLog {
 public:
  informer::EventHandlers handlers();

  std::vector<Delivered> of(const std::string& key) const;
  // Events delivered after the call (for "what happened since").
  std::size_t mark() const;
  std::vector<Delivered> ofSince(const std::string& key, std::size_t mark) const;
  std::size_t total() const;
  // Problems found; empty when the log is consistent with `final_state`.
  std::vector<std::string> check(const State& final_state) const;

 private:
  void add(const std::string& key, Delivered d);

  mutable std::mutex mu_;
  std::size_t seq_ = 0;
  std::map<std::string, std::vector<std::pair<std::size_t, Delivered>>> by_key_;
};

std::string describe(const std::vector<Delivered>& events);
std::string describe(const State& s);
// Keys whose resourceVersion differs or that only one side has, as text ("" if equal).
std::string diff(const State& want, const State& got);

}  // namespace bgo::inftest
