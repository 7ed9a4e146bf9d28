#pragma once
// Identity of API resources and objects.

#include <string>

namespace bgo::core {

// A resource by group/version/resource. Empty group is the core API ("/api/v1").
struct Gvr {
  std::string group;
  std::string version;
  std::string resource;
  bool namespaced = true;

  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
  bool operator==(const Gvr&) const = default;
};

namespace gvrs {
inline const Gvr kDeployments{"apps", "v1", "deployments", true};
inline const Gvr kServices{"", "v1", "services", true};
inline const Gvr kConfigMaps{"", "v1", "configmaps", true};
inline const Gvr kSecrets{"", "v1", "secrets", true};
inline const Gvr kPods{"", "v1", "pods", true};
inline const Gvr kServiceAccounts{"", "v1", "serviceaccounts", true};
inline const Gvr kNamespaces{"", "v1", "namespaces", false};
inline const Gvr kEvents{"", "v1", "events", true};
inline const Gvr kEndpointSlices{"discovery.k8s.io", "v1", "endpointslices", true};
inline const Gvr kPodDisruptionBudgets{"policy", "v1", "poddisruptionbudgets", true};
inline const Gvr kJobs{"batch", "v1", "jobs", true};
inline const Gvr kLeases{"coordination.k8s.io", "v1", "leases", true};
inline const Gvr kIngressRoutes{"traefik.io", "v1alpha1", "ingressroutes", true};
inline const Gvr kIngressRouteTcps{"traefik.io", "v1alpha1", "ingressroutetcps", true};
inline const Gvr kBlueGreenReleases{"bluegreen.io", "v1alpha1", "bluegreenreleases", true};
inline const Gvr kCrds{"apiextensions.k8s.io", "v1", "customresourcedefinitions", false};
}  // namespace gvrs

// namespace/name; namespace empty for cluster-scoped objects.
struct ObjectKey {
  std::string ns;
  std::string name;

  std::string str() const { return ns.empty() ? name : ns + "/" + name; }
  static ObjectKey parse(const std::string& key);  // "ns/name" or "name"
  auto operator<=>(const ObjectKey&) const = default;
};

inline ObjectKey ObjectKey::parse(const std::string& key) {
  auto slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

}  // namespace bgo::core
