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

Store::Entry Store::makeEntry(const ObjectPtr& obj) const {
  Entry e;
  e.resource_version = resourceVersionOf(*obj);
  e.ns = metaField(*obj, "namespace");
  if (packed_) {
    auto bytes = json::to_msgpack(*obj);
    bytes.shrink_to_fit();
    e.packed = std::make_shared<const std::vector<std::uint8_t>>(std::move(bytes));
  } else {
    e.tree = obj;
  }
  return e;
}

ObjectPtr Store::objectOf(const Entry& e) {
  if (e.tree) return e.tree;
  return e.packed ? std::make_shared<const json>(json::from_msgpack(*e.packed)) : nullptr;
}

std::vector<ObjectPtr> Store::objectsOf(const std::vector<Entry>& entries) {
  std::vector<ObjectPtr> out;
  out.reserve(entries.size());
  for (const auto& e : entries) out.push_back(objectOf(e));
  return out;
}

void Store::addIndex(const std::string& name, IndexFunc fn) {
  std::unique_lock lock(mu_);
  Index idx;
  idx.fn = std::move(fn);
  for (const auto& [key, e] : items_) {
    auto values = idx.fn(*objectOf(e));
    for (const auto& v : values) idx.keys_by_value[v].insert(key);
    idx.values_by_key[key] = std::move(values);
  }
  indexes_[name] = std::move(idx);
}

void Store::indexLocked(const std::string& key, const Entry& e, const json& obj) {
  by_namespace_[e.ns].insert(key);
  for (auto& [name, idx] : indexes_) {
    auto values = idx.fn(obj);
    for (const auto& v : values) idx.keys_by_value[v].insert(key);
    idx.values_by_key[key] = std::move(values);
  }
}

void Store::unindexLocked(const std::string& key, const Entry& e) {
  if (auto it = by_namespace_.find(e.ns); it != by_namespace_.end()) {
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
    Entry e = makeEntry(obj);
    indexLocked(key, e, *obj);
    items_.emplace(key, std::move(e));
    return Change{Change::Kind::kAdd, nullptr, std::move(obj)};
  }
  const std::string rv = resourceVersionOf(*obj);
  if (it->second.resource_version == rv && !rv.empty()) {
    return std::nullopt;  // already seen (e.g. replayed by a resumed watch)
  }
  ObjectPtr old = objectOf(it->second);
  unindexLocked(key, it->second);
  it->second = makeEntry(obj);
  indexLocked(key, it->second, *obj);
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
  ObjectPtr old = objectOf(it->second);
  unindexLocked(key, it->second);
  items_.erase(it);
  if (!final_state) final_state = old;
  return Change{Change::Kind::kDelete, std::move(old), std::move(final_state)};
}

std::vector<Change> Store::replace(std::vector<ObjectPtr> objects) {
  std::set<std::string> listed;
  auto changes = upsertListed(std::move(objects), listed);
  auto deletes = removeUnlisted(listed);
  changes.insert(changes.end(), std::make_move_iterator(deletes.begin()), std::make_move_iterator(deletes.end()));
  return changes;
}

std::vector<Change> Store::upsertListed(std::vector<ObjectPtr> objects, std::set<std::string>& listed) {
  std::unique_lock lock(mu_);
  std::vector<Change> changes;
  for (auto& obj : objects) {
    std::string key = objectKey(*obj);
    listed.insert(key);
    if (auto c = upsertLocked(key, std::move(obj))) changes.push_back(std::move(*c));
  }
  return changes;
}

std::vector<Change> Store::removeUnlisted(const std::set<std::string>& listed) {
  std::unique_lock lock(mu_);
  std::vector<Change> changes;
  for (auto it = items_.begin(); it != items_.end();) {
    if (listed.count(it->first)) {
      ++it;
      continue;
    }
    ObjectPtr old = objectOf(it->second);
    unindexLocked(it->first, it->second);
    it = items_.erase(it);
    changes.push_back(Change{Change::Kind::kDelete, old, old});
  }
  return changes;
}

// Readers copy entries under the lock and decode after releasing it.
ObjectPtr Store::get(const std::string& key) const {
  Entry e;
  {
    std::shared_lock lock(mu_);
    auto it = items_.find(key);
    if (it == items_.end()) return nullptr;
    e.tree = it->second.tree;
    e.packed = it->second.packed;
  }
  return objectOf(e);
}

std::vector<ObjectPtr> Store::list() const {
  std::vector<Entry> entries;
  {
    std::shared_lock lock(mu_);
    entries.reserve(items_.size());
    for (const auto& [k, e] : items_) entries.push_back(Entry{"", "", e.tree, e.packed});
  }
  return objectsOf(entries);
}

std::vector<Store::Entry> Store::collectLocked(const std::set<std::string>& keys) const {
  std::vector<Entry> out;
  out.reserve(keys.size());
  for (const auto& k : keys) {
    if (auto it = items_.find(k); it != items_.end()) out.push_back(Entry{"", "", it->second.tree, it->second.packed});
  }
  return out;
}

std::vector<ObjectPtr> Store::byNamespace(const std::string& ns) const {
  std::vector<Entry> entries;
  {
    std::shared_lock lock(mu_);
    auto it = by_namespace_.find(ns);
    if (it != by_namespace_.end()) entries = collectLocked(it->second);
  }
  return objectsOf(entries);
}

std::vector<ObjectPtr> Store::byIndex(const std::string& index, const std::string& value) const {
  std::vector<Entry> entries;
  {
    std::shared_lock lock(mu_);
    auto idx = indexes_.find(index);
    if (idx == indexes_.end()) return {};
    auto it = idx->second.keys_by_value.find(value);
    if (it != idx->second.keys_by_value.end()) entries = collectLocked(it->second);
  }
  return objectsOf(entries);
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
