#pragma once
// The informer's read-only cache: objects as shared_ptr<const json> keyed by
// "namespace/name" (or "name" for cluster-scoped objects), indexed by namespace
// and by optional custom index functions. Writers (the informer) get back the
// change each write made so handlers see exactly what the cache saw.
// Thread-safe: many readers, one writer.

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
  // Before the first write.
  void addIndex(const std::string& name, IndexFunc fn);

  // Adds or replaces; nullopt when the cache already holds this resourceVersion.
  std::optional<Change> upsert(ObjectPtr obj);
  // Removes `key`; `final_state` (may be null) is reported as the deleted object.
  std::optional<Change> remove(const std::string& key, ObjectPtr final_state);
  // Makes the cache equal to `objects` (a full list) and returns the difference:
  // adds and updates in list order, then deletes for what the list lacks.
  std::vector<Change> replace(std::vector<ObjectPtr> objects);

  ObjectPtr get(const std::string& key) const;
  std::vector<ObjectPtr> list() const;
  std::vector<ObjectPtr> byNamespace(const std::string& ns) const;
  std::vector<ObjectPtr> byIndex(const std::string& index, const std::string& value) const;
  std::vector<std::string> keys() const;
  std::size_t size() const;

 private:
  struct Index {
    IndexFunc fn;
    std::unordered_map<std::string, std::set<std::string>> keys_by_value;
    std::unordered_map<std::string, std::vector<std::string>> values_by_key;
  };
  void indexLocked(const std::string& key, const ObjectPtr& obj);
  void unindexLocked(const std::string& key, const ObjectPtr& obj);
  std::optional<Change> upsertLocked(const std::string& key, ObjectPtr obj);
  std::vector<ObjectPtr> collectLocked(const std::set<std::string>& keys) const;

  mutable std::shared_mutex mu_;
  std::map<std::string, ObjectPtr> items_;
  std::unordered_map<std::string, std::set<std::string>> by_namespace_;
  std::map<std::string, Index> indexes_;
};

}  // namespace bgo::informer
