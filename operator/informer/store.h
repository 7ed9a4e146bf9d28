#pragma once
// The informer's read-only cache: objects as shared_ptr<const json> keyed by
// "namespace/name" (or "name" for cluster-scoped objects), indexed by namespace
// and by optional custom index functions. Writers (the informer) get back the
// change each write made so handlers see exactly what the cache saw.
// Thread-safe: many readers, one writer.
//
// A packed store keeps each object as MessagePack bytes and decodes it on every
// read: a JSON tree takes ~7x the bytes of its text (a map node, a key string
// and a value per field), so a cache of trees grows ~7 KB per small object.
// Reads then cost a decode (~10-25 us for a Deployment) and hand out a fresh
// tree each time: equal content, never the same pointer twice.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace bgo::informer {

using ObjectPtr = std::shared_ptr<const nlohmann::json>;
// Values an object is indexed under (e.g. an owner's name, a label's value).
using IndexFunc = std::function<std::vector<std::string>(const nlohmann::json&)>;

// "ns/name" or "name".
std::string objectKey(const nlohmann::json& obj);
std::string resourceVersionOf(const nlohmann::json& obj);

struct Change {
  enum class Kind { kAdd, kUpdate, kDelete };
  Kind kind = Kind::kAdd;
  ObjectPtr old_obj;  // update, delete: what the cache held
  ObjectPtr new_obj;  // add, update: what it holds now; delete: the object's final state
};

class Store {
 public:
  explicit Store(bool packed = false) : packed_(packed) {}

  // Before the first write.
  void addIndex(const std::string& name, IndexFunc fn);

  // Adds or replaces; nullopt when the cache already holds this resourceVersion.
  std::optional<Change> upsert(ObjectPtr obj);
  // Removes `key`; `final_state` (may be null) is reported as the deleted object.
  std::optional<Change> remove(const std::string& key, ObjectPtr final_state);
  // Makes the cache equal to `objects` (a full list) and returns the difference:
  // adds and updates in list order, then deletes for what the list lacks.
  std::vector<Change> replace(std::vector<ObjectPtr> objects);
  // replace() in pages, so a long list never holds every object as a tree at
  // once: upsertListed() per page (its keys added to `listed`), then
  // removeUnlisted() -> deletes for what the whole list lacked.
  std::vector<Change> upsertListed(std::vector<ObjectPtr> objects, std::set<std::string>& listed);
  std::vector<Change> removeUnlisted(const std::set<std::string>& listed);

  ObjectPtr get(const std::string& key) const;
  std::vector<ObjectPtr> list() const;
  std::vector<ObjectPtr> byNamespace(const std::string& ns) const;
  std::vector<ObjectPtr> byIndex(const std::string& index, const std::string& value) const;
  std::vector<std::string> keys() const;
  std::size_t size() const;

 private:
  // One cached object: its tree, or (packed) its MessagePack bytes.
  struct Entry {
    std::string resource_version;
    std::string ns;
    ObjectPtr tree;
    std::shared_ptr<const std::vector<std::uint8_t>> packed;
  };
  struct Index {
    IndexFunc fn;
    std::unordered_map<std::string, std::set<std::string>> keys_by_value;
    std::unordered_map<std::string, std::vector<std::string>> values_by_key;
  };
  Entry makeEntry(const ObjectPtr& obj) const;
  // The entry's object (decoded when packed); call without the lock held.
  static ObjectPtr objectOf(const Entry& e);
  void indexLocked(const std::string& key, const Entry& e, const nlohmann::json& obj);
  void unindexLocked(const std::string& key, const Entry& e);
  std::optional<Change> upsertLocked(const std::string& key, ObjectPtr obj);
  std::vector<Entry> collectLocked(const std::set<std::string>& keys) const;
  static std::vector<ObjectPtr> objectsOf(const std::vector<Entry>& entries);

  const bool packed_;
  mutable std::shared_mutex mu_;
  std::map<std::string, Entry> items_;
  std::unordered_map<std::string, std::set<std::string>> by_namespace_;
  std::map<std::string, Index> indexes_;
};

}  // namespace bgo::informer
