#pragma once
// Throwaway certificates made in-process with OpenSSL, for kubeconfig fixtures
// and TLS tests (a CA no server trusts, a client pair, a server certificate).

#include <string>
#include <vector>

namespace bgo::testing {

struct TestCert {
  std::string cert_pem;
  std::string key_pem;
};

// A self-signed CA.
TestCert makeCa(const std::string& common_name);
// A certificate signed by `ca`, valid for the given IP addresses and DNS names.
// `organization` becomes O= (Kubernetes reads it as the user's group).
TestCert makeSigned(const TestCert& ca, const std::string& common_name,
                    const std::vector<std::string>& ips = {}, const std::vector<std::string>& dns = {},
                    const std::string& organization = "");

}  // namespace bgo::testing
