#pragma once
// Small JSON builders for objects tests create often. They produce what a
// client would send (no server-owned fields).

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bgo::testing {

using Labels = std::map<std::string, std::string>;

nlohmann::json makeNamespace(const std::string& name, const Labels& labels = {});
nlohmann::json makeConfigMap(const std::string& ns, const std::string& name,
                             const std::map<std::string, std::string>& data = {}, const Labels& labels = {});
// A Deployment whose pod template carries `selector` as labels, with one container.
nlohmann::json makeDeployment(const std::string& ns, const std::string& name, const Labels& selector,
                              const std::string& image, int replicas = 1, const Labels& labels = {});
nlohmann::json makeService(const std::string& ns, const std::string& name, const Labels& selector,
                           int port = 80, int target_port = 8080, const Labels& labels = {});
// An EndpointSlice owned by `service` with one ready endpoint per address.
nlohmann::json makeEndpointSlice(const std::string& ns, const std::string& name, const std::string& service,
                                 const std::vector<std::string>& addresses, int port = 8080);

}  // namespace bgo::testing
