#include "integration/informer/event_log.h"

#include <set>

namespace bgo::inftest {

using informer::ObjectPtr;

informer::EventHandlers EventLog::handlers() {
  informer::EventHandlers h;
  h.on_add = [this](const ObjectPtr& o) {
    add(informer::objectKey(*o), {'A', informer::resourceVersionOf(*o), "", std::chrono::steady_clock::now()});
  };
  h.on_update = [this](const ObjectPtr& old_obj, const ObjectPtr& new_obj) {
    add(informer::objectKey(*new_obj), {'U', informer::resourceVersionOf(*new_obj),
                                        informer::resourceVersionOf(*old_obj), std::chrono::steady_clock::now()});
  };
  h.on_delete = [this](const ObjectPtr& o) {
    add(informer::objectKey(*o), {'D', informer::resourceVersionOf(*o), "", std::chrono::steady_clock::now()});
  };
  return h;
}

void EventLog::add(const std::string& key, Delivered d) {
  std::lock_guard lock(mu_);
  by_key_[key].emplace_back(seq_++, std::move(d));
}

std::vector<Delivered> EventLog::of(const std::string& key) const { return ofSince(key, 0); }

std::size_t EventLog::mark() const {
  std::lock_guard lock(mu_);
  return seq_;
}

std::size_t EventLog::total() const { return mark(); }

std::vector<Delivered> EventLog::ofSince(const std::string& key, std::size_t mark) const {
  std::lock_guard lock(mu_);
  std::vector<Delivered> out;
  if (auto it = by_key_.find(key); it != by_key_.end()) {
    for (const auto& [seq, d] : it->second) {
      if (seq >= mark) out.push_back(d);
    }
  }
  return out;
}

std::vector<std::string> EventLog::check(const State& final_state) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> problems;
  auto problem = [&](const std::string& key, const std::string& what,
                     const std::vector<std::pair<std::size_t, Delivered>>& evs) {
    std::vector<Delivered> plain;
    for (const auto& e : evs) plain.push_back(e.second);
    problems.push_back(key + ": " + what + " (delivered: " + describe(plain) + ")");
  };
  for (const auto& [key, evs] : by_key_) {
    bool present = false;
    std::string last_rv;
    std::set<std::string> states;  // add/update resourceVersions delivered
    for (const auto& [seq, d] : evs) {
      switch (d.kind) {
        case 'A':
          if (present) problem(key, "add of a key already present", evs);
          present = true;
          break;
        case 'U':
          if (!present) problem(key, "update of an absent key", evs);
          if (d.old_rv != last_rv) problem(key, "update whose old state " + d.old_rv + " is not the last delivered " + last_rv, evs);
          break;
        case 'D':
          if (!present) problem(key, "delete of an absent key", evs);
          present = false;
          break;
      }
      if (d.kind != 'D') {
        if (!states.insert(d.rv).second) problem(key, "state " + d.rv + " delivered twice", evs);
        last_rv = d.rv;
      }
    }
    auto fin = final_state.find(key);
    if (fin == final_state.end()) {
      if (present) problem(key, "gone from the server but its last event is not a delete", evs);
    } else if (!present) {
      problem(key, "on the server (rv " + fin->second + ") but its last event is a delete", evs);
    } else if (last_rv != fin->second) {
      problem(key, "last delivered rv " + last_rv + " but the server has " + fin->second, evs);
    }
  }
  for (const auto& [key, rv] : final_state) {
    if (!by_key_.count(key)) problems.push_back(key + ": on the server (rv " + rv + ") but never delivered");
  }
  return problems;
}

std::string describe(const std::vector<Delivered>& events) {
  std::string s;
  for (const auto& e : events) {
    if (!s.empty()) s += " ";
    s += std::string(1, e.kind) + e.rv;
  }
  return s.empty() ? "none" : s;
}

std::string describe(const State& st) {
  std::string s;
  for (const auto& [k, rv] : st) s += (s.empty() ? "" : ", ") + k + "@" + rv;
  return "{" + s + "}";
}

std::string diff(const State& want, const State& got) {
  std::string s;
  for (const auto& [k, rv] : want) {
    auto it = got.find(k);
    if (it == got.end()) s += "\n  missing " + k + "@" + rv;
    else if (it->second != rv) s += "\n  " + k + ": have " + it->second + ", server " + rv;
  }
  for (const auto& [k, rv] : got) {
    if (!want.count(k)) s += "\n  extra " + k + "@" + rv;
  }
  return s;
}

}  // namespace bgo::inftest
