#include "operator/informer/store.h"

#include <mutex>

namespace bgo::informer {

using nlohmann::json;

namespace {
std::string metaField(const json& obj, const char* field) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return "";
  auto f = m->find(field);
  return f != m->end() && f->is_string() ? f->get<std::string>() : "";
}
}  // namespace

std::string objectKey(const json& obj) {
  std::string ns = metaField(obj, "namespace");
  std::string name = metaField(obj, "name");
  return ns.empty() ? name : ns + "/" + name;
}

std::string resourceVersionOf(const json& obj) { return metaField(obj, "resourceVersion"); }

void Store::addIndex(const std::string& name, IndexFunc fn) {
  std::unique_lock lock(mu_);
  Index idx;
  idx.fn = std::move(fn);
  for (const auto& [key, obj] : items_) {
    auto values = idx.fn(*obj);
    for (const auto& v : values) idx.keys_by_value[v].insert(key);
    idx.values_by_key[key] = std::move(values);
  }
  indexes_[name] = std::move(idx);
}

void Store::indexLocked(const std::string& key, const ObjectPtr& obj) {
  by_namespace_[metaField(*obj, "namespace")].insert(key);
  for (auto& [name, idx] : indexes_) {
    auto values = idx.fn(*obj);
    for (const auto& v : values) idx.keys_by_value[v].insert(key);
    idx.values_by_key[key] = std::move(values);
  }
}

void Store::unindexLocked(const std::string& key, const ObjectPtr& obj) {
  std::string ns = metaField(*obj, "namespace");
  if (auto it = by_namespace_.find(ns); it != by_namespace_.end()) {
    it->second.erase(key);
    if (it->second.empty()) by_namespace_.erase(it);
  }
  for (auto& [name, idx] : indexes_) {
    auto vk = idx.values_by_key.find(key);
    if (vk == idx.values_by_key.end()) continue;
    for (const auto& v : vk->second) {
      auto kv = idx.keys_by_value.find(v);
      if (kv == idx.keys_by_value.end()) continue;
      kv->second.erase(key);
      if (kv->second.empty()) idx.keys_by_value.erase(kv);
    }
    idx.values_by_key.erase(vk);
  }
}

std::optional<Change> Store::upsertLocked(const std::string& key, ObjectPtr obj) {
  auto it = items_.find(key);
  if (it == items_.end()) {
    indexLocked(key, obj);
    items_.emplace(key, obj);
    return Change{Change::Kind::kAdd, nullptr, std::move(obj)};
  }
  if (resourceVersionOf(*it->second) == resourceVersionOf(*obj) && !resourceVersionOf(*obj).empty()) {
    return std::nullopt;  // already seen (e.g. replayed by a resumed watch)
  }
  ObjectPtr old = it->second;
  unindexLocked(key, old);
  indexLocked(key, obj);
  it->second = obj;
  return Change{Change::Kind::kUpdate, std::move(old), std::move(obj)};
}

std::optional<Change> Store::upsert(ObjectPtr obj) {
  std::unique_lock lock(mu_);
  std::string key = objectKey(*obj);
  return upsertLocked(key, std::move(obj));
}

std::optional<Change> Store::remove(const std::string& key, ObjectPtr final_state) {
  std::unique_lock lock(mu_);
  auto it = items_.find(key);
  if (it == items_.end()) return std::nullopt;
  ObjectPtr old = it->second;
  unindexLocked(key, old);
  items_.erase(it);
  if (!final_state) final_state = old;
  return Change{Change::Kind::kDelete, std::move(old), std::move(final_state)};
}

std::vector<Change> Store::replace(std::vector<ObjectPtr> objects) {
  std::unique_lock lock(mu_);
  std::vector<Change> changes;
  std::set<std::string> listed;
  for (auto& obj : objects) {
    std::string key = objectKey(*obj);
    listed.insert(key);
    if (auto c = upsertLocked(key, std::move(obj))) changes.push_back(std::move(*c));
  }
  for (auto it = items_.begin(); it != items_.end();) {
    if (listed.count(it->first)) {
      ++it;
      continue;
    }
    ObjectPtr old = it->second;
    unindexLocked(it->first, old);
    it = items_.erase(it);
    changes.push_back(Change{Change::Kind::kDelete, old, old});
  }
  return changes;
}

ObjectPtr Store::get(const std::string& key) const {
  std::shared_lock lock(mu_);
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> Store::list() const {
  std::shared_lock lock(mu_);
  std::vector<ObjectPtr> out;
  out.reserve(items_.size());
  for (const auto& [k, o] : items_) out.push_back(o);
  return out;
}

std::vector<ObjectPtr> Store::collectLocked(const std::set<std::string>& keys) const {
  std::vector<ObjectPtr> out;
  out.reserve(keys.size());
  for (const auto& k : keys) {
    if (auto it = items_.find(k); it != items_.end()) out.push_back(it->second);
  }
  return out;
}

std::vector<ObjectPtr> Store::byNamespace(const std::string& ns) const {
  std::shared_lock lock(mu_);
  auto it = by_namespace_.find(ns);
  return it == by_namespace_.end() ? std::vector<ObjectPtr>{} : collectLocked(it->second);
}

std::vector<ObjectPtr> Store::byIndex(const std::string& index, const std::string& value) const {
  std::shared_lock lock(mu_);
  auto idx = indexes_.find(index);
  if (idx == indexes_.end()) return {};
  auto it = idx->second.keys_by_value.find(value);
  return it == idx->second.keys_by_value.end() ? std::vector<ObjectPtr>{} : collectLocked(it->second);
}

std::vector<std::string> Store::keys() const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  out.reserve(items_.size());
  for (const auto& [k, o] : items_) out.push_back(k);
  return out;
}

std::size_t Store::size() const {
  std::shared_lock lock(mu_);
  return items_.size();
}

}  // namespace bgo::informer
