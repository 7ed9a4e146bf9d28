#pragma once
// Where the API server is and how to authenticate: from a kubeconfig file, from
// the in-cluster service account, or resolved from flag/env/defaults. Every
// error names the file and the field at fault, so a bad configuration ends
// startup with one clear message.

#include <optional>
#include <string>
#include <string_view>

#include "operator/core/result.h"

namespace bgo::kube::rest {

struct ClusterConfig {
  std::string server;              // "https://host:port[/prefix]", no trailing slash
  std::string ca_pem;              // the only CAs trusted for the server
  std::string client_cert_pem;     // client certificate (and chain), PEM
  std::string client_key_pem;      // its private key, PEM
  std::string token;               // static bearer token
  std::string token_file;          // bearer token file, re-read when it changes
  bool insecure_skip_tls_verify = false;
  std::string ns;                  // the context's (or pod's) namespace, "" if none
  std::string source;              // for messages: `kubeconfig /p (context "c")`, `in-cluster`
};

// Reads a kubeconfig; `context` empty means its current-context. File paths
// inside it are relative to the kubeconfig's folder. CA, certificate and key
// files are read (and checked) now; a token file is read on every use.
core::Result<ClusterConfig> loadKubeconfig(const std::string& path, const std::string& context = "");
// The same for a kubeconfig's text; `path` names it in messages and anchors relative file paths.
core::Result<ClusterConfig> parseKubeconfig(const std::string& text, const std::string& path,
                                            const std::string& context = "");

inline constexpr const char* kServiceAccountRoot = "/var/run/secrets/kubernetes.io/serviceaccount";

// Pod configuration: KUBERNETES_SERVICE_HOST/PORT plus `root`/{token,ca.crt,namespace}.
core::Result<ClusterConfig> inClusterConfig(const std::string& root = kServiceAccountRoot);
// Same, with the service address given (what inClusterConfig reads from the environment).
core::Result<ClusterConfig> inClusterConfigFrom(const std::string& root, const std::string& host,
                                                const std::string& port);

// flag > $KUBECONFIG > in-cluster (KUBERNETES_SERVICE_HOST set) > ~/.kube/config.
core::Result<ClusterConfig> resolveConfig(const std::string& flag_kubeconfig,
                                          const std::string& context = "");

// Strict standard base64 (line breaks allowed, as Go's decoder does); nullopt if invalid.
std::optional<std::string> decodeBase64(std::string_view in);

}  // namespace bgo::kube::rest
