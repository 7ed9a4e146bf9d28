#pragma once
// Request paths and query strings for the Kubernetes REST API. Pure functions,
// kept apart from the transport so they are unit-tested without a server.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "operator/kube/kube_client.h"

namespace bgo::kube::rest {

// "/api/v1" for the core group, "/apis/<group>/<version>" otherwise.
std::string groupVersionPath(const Gvr& gvr);

// Path of a collection or object. `ns` is ignored for cluster-scoped resources;
// an empty `ns` on a namespaced resource addresses all namespaces (list/watch).
std::string resourcePath(const Gvr& gvr, std::string_view ns, std::string_view name = "",
                         std::string_view subresource = "");

// RFC 3986 percent-encoding of everything but unreserved characters.
std::string percentEncode(std::string_view s);

// An ordered list of query parameters; empty values are dropped.
class Query {
 public:
  Query& add(std::string key, std::string value);
  Query& addFlag(std::string key, bool value);    // false is dropped
  Query& addInt(std::string key, int64_t value);  // 0 is dropped
  // "" or "?k=v&k2=v2", encoded.
  std::string str() const;
  bool empty() const { return params_.empty(); }

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

Query listQuery(const ListOptions& opts);
Query watchQuery(const WatchOptions& opts);
// fieldManager, force (apply only), dryRun.
Query writeQuery(const WriteOptions& opts, bool is_apply);

const char* patchContentType(PatchType type);

// The DeleteOptions body sent with DELETE.
json deleteOptionsBody(const DeleteOptions& opts);

}  // namespace bgo::kube::rest
