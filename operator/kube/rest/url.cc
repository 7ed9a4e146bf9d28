#include "operator/kube/rest/url.h"

namespace bgo::kube::rest {

std::string groupVersionPath(const Gvr& gvr) {
  if (gvr.group.empty()) return "/api/" + gvr.version;
  return "/apis/" + gvr.group + "/" + gvr.version;
}

std::string resourcePath(const Gvr& gvr, std::string_view ns, std::string_view name,
                         std::string_view subresource) {
  std::string out = groupVersionPath(gvr);
  if (gvr.namespaced && !ns.empty()) out += "/namespaces/" + percentEncode(ns);
  out += "/" + gvr.resource;
  if (!name.empty()) {
    out += "/" + percentEncode(name);
    if (!subresource.empty()) out += "/" + percentEncode(subresource);
  }
  return out;
}

std::string percentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

Query& Query::add(std::string key, std::string value) {
  if (!value.empty()) params_.emplace_back(std::move(key), std::move(value));
  return *this;
}

Query& Query::addFlag(std::string key, bool value) {
  if (value) params_.emplace_back(std::move(key), "true");
  return *this;
}

Query& Query::addInt(std::string key, int64_t value) {
  if (value != 0) params_.emplace_back(std::move(key), std::to_string(value));
  return *this;
}

std::string Query::str() const {
  std::string out;
  for (const auto& [k, v] : params_) {
    out += out.empty() ? '?' : '&';
    out += percentEncode(k) + "=" + percentEncode(v);
  }
  return out;
}

Query listQuery(const ListOptions& opts) {
  Query q;
  q.add("labelSelector", opts.label_selector)
      .add("fieldSelector", opts.field_selector)
      .addInt("limit", opts.limit)
      .add("continue", opts.continue_token)
      .add("resourceVersion", opts.resource_version);
  return q;
}

Query watchQuery(const WatchOptions& opts) {
  Query q;
  q.addFlag("watch", true)
      .add("labelSelector", opts.label_selector)
      .add("fieldSelector", opts.field_selector)
      .add("resourceVersion", opts.resource_version)
      .addFlag("allowWatchBookmarks", opts.allow_bookmarks)
      .addInt("timeoutSeconds", opts.timeout_seconds);
  return q;
}

Query writeQuery(const WriteOptions& opts, bool is_apply) {
  Query q;
  q.add("fieldManager", opts.field_manager);
  if (is_apply) q.addFlag("force", opts.force);
  if (opts.dry_run) q.add("dryRun", "All");
  return q;
}

const char* patchContentType(PatchType type) {
  switch (type) {
    case PatchType::kJson: return "application/json-patch+json";
    case PatchType::kMerge: return "application/merge-patch+json";
    case PatchType::kStrategicMerge: return "application/strategic-merge-patch+json";
    case PatchType::kApply: return "application/apply-patch+yaml";
  }
  return "application/merge-patch+json";
}

json deleteOptionsBody(const DeleteOptions& opts) {
  json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (!opts.propagation_policy.empty()) body["propagationPolicy"] = opts.propagation_policy;
  if (opts.precondition_uid) body["preconditions"]["uid"] = *opts.precondition_uid;
  if (opts.precondition_resource_version) {
    body["preconditions"]["resourceVersion"] = *opts.precondition_resource_version;
  }
  return body;
}

}  // namespace bgo::kube::rest
