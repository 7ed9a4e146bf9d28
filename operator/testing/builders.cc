#include "operator/testing/builders.h"

namespace bgo::testing {

using nlohmann::json;

namespace {
json metadata(const std::string& ns, const std::string& name, const Labels& labels) {
  json m = {{"name", name}};
  if (!ns.empty()) m["namespace"] = ns;
  if (!labels.empty()) m["labels"] = labels;
  return m;
}
}  // namespace

json makeNamespace(const std::string& name, const Labels& labels) {
  return {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", metadata("", name, labels)}};
}

json makeConfigMap(const std::string& ns, const std::string& name, const std::map<std::string, std::string>& data,
                   const Labels& labels) {
  json cm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", metadata(ns, name, labels)}};
  if (!data.empty()) cm["data"] = data;
  return cm;
}

json makeDeployment(const std::string& ns, const std::string& name, const Labels& selector, const std::string& image,
                    int replicas, const Labels& labels) {
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", metadata(ns, name, labels)},
          {"spec",
           {{"replicas", replicas},
            {"selector", {{"matchLabels", selector}}},
            {"template",
             {{"metadata", {{"labels", selector}}},
              {"spec", {{"containers", json::array({{{"name", "app"}, {"image", image}}})}}}}}}}};
}

json makeService(const std::string& ns, const std::string& name, const Labels& selector, int port, int target_port,
                 const Labels& labels) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", metadata(ns, name, labels)},
          {"spec",
           {{"selector", selector},
            {"ports", json::array({{{"name", "http"}, {"port", port}, {"targetPort", target_port},
                                    {"protocol", "TCP"}}})}}}};
}

json makeEndpointSlice(const std::string& ns, const std::string& name, const std::string& service,
                       const std::vector<std::string>& addresses, int port) {
  json endpoints = json::array();
  for (const auto& a : addresses) {
    endpoints.push_back({{"addresses", json::array({a})}, {"conditions", {{"ready", true}}}});
  }
  return {{"apiVersion", "discovery.k8s.io/v1"},
          {"kind", "EndpointSlice"},
          {"metadata", metadata(ns, name, {{"kubernetes.io/service-name", service}})},
          {"addressType", "IPv4"},
          {"endpoints", endpoints},
          {"ports", json::array({{{"name", "http"}, {"port", port}, {"protocol", "TCP"}}})}};
}

}  // namespace bgo::testing
