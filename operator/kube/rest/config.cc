#include "operator/kube/rest/config.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <yaml-cpp/yaml.h>

#include "operator/kube/rest/tls.h"

namespace bgo::kube::rest {

namespace fs = std::filesystem;
using core::ErrorCode;
using core::Result;

namespace {

core::Unexpected configError(const std::string& where, const std::string& what) {
  return core::fail(ErrorCode::kConfig, where + ": " + what);
}

// Kubeconfigs, certificates and tokens are small; a path naming a device or a
// huge file (certificate-authority: /dev/zero) must not read forever.
constexpr std::streamsize kMaxFileBytes = 4 << 20;

Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::fail(ErrorCode::kConfig, "cannot read " + path + ": " + std::strerror(errno));
  std::string out(static_cast<size_t>(kMaxFileBytes) + 1, '\0');
  in.read(out.data(), kMaxFileBytes + 1);
  if (in.bad()) return core::fail(ErrorCode::kConfig, "cannot read " + path + ": " + std::strerror(errno));
  if (in.gcount() > kMaxFileBytes) {
    return core::fail(ErrorCode::kConfig, "cannot read " + path + ": larger than 4 MiB (is it the right file?)");
  }
  out.resize(static_cast<size_t>(in.gcount()));
  return out;
}

// Walks one kubeconfig. yaml-cpp nodes are only ever initialised, never
// assigned: assigning a Node rewrites the tree it refers to.
class KubeconfigReader {
 public:
  KubeconfigReader(std::string path, const YAML::Node& root)
      : path_(std::move(path)), dir_(fs::path(path_).parent_path()), root_(root) {}

  Result<ClusterConfig> read(const std::string& wanted_context) {
    if (!root_.IsMap()) return fail("", "not a kubeconfig (the top level is not a map)");
    std::string context = wanted_context;
    if (context.empty()) {
      auto current = scalar(root_, "current-context", "current-context");
      if (!current) return core::fail(current.error());
      context = *current;
      if (context.empty()) return fail("", "no current-context set and no context given");
    }
    auto ctx_index = findNamed("contexts", context);
    if (!ctx_index) return fail("", "context \"" + context + "\" not found");
    const std::string ctx_at = "contexts[" + std::to_string(*ctx_index) + "].context";
    const YAML::Node ctx = root_["contexts"][*ctx_index]["context"];
    if (!ctx.IsMap()) return fail(ctx_at, "missing or not a map");

    ClusterConfig out;
    out.source = "kubeconfig " + path_ + " (context \"" + context + "\")";
    auto ns = scalar(ctx, "namespace", ctx_at + ".namespace");
    if (!ns) return core::fail(ns.error());
    out.ns = *ns;

    auto cluster_name = scalar(ctx, "cluster", ctx_at + ".cluster");
    if (!cluster_name) return core::fail(cluster_name.error());
    if (cluster_name->empty()) return fail(ctx_at + ".cluster", "not set");
    auto cluster_index = findNamed("clusters", *cluster_name);
    if (!cluster_index) {
      return fail("", "cluster \"" + *cluster_name + "\" (from " + ctx_at + ".cluster) not found");
    }
    if (auto st = readCluster(*cluster_index, out); !st) return core::fail(st.error());

    auto user_name = scalar(ctx, "user", ctx_at + ".user");
    if (!user_name) return core::fail(user_name.error());
    if (!user_name->empty()) {
      auto user_index = findNamed("users", *user_name);
      if (!user_index) {
        return fail("", "user \"" + *user_name + "\" (from " + ctx_at + ".user) not found");
      }
      if (auto st = readUser(*user_index, out); !st) return core::fail(st.error());
    }
    return out;
  }

 private:
  core::Unexpected fail(const std::string& field, const std::string& what) const {
    std::string where = "kubeconfig " + path_;
    if (!field.empty()) where += ": " + field;
    return configError(where, what);
  }

  // A string field; "" when absent.
  Result<std::string> scalar(const YAML::Node& map, const char* key, const std::string& field) const {
    const YAML::Node n = map[key];
    if (!n.IsDefined() || n.IsNull()) return std::string();
    if (!n.IsScalar()) return fail(field, "expected a string");
    return n.Scalar();
  }

  Result<bool> boolean(const YAML::Node& map, const char* key, const std::string& field) const {
    const YAML::Node n = map[key];
    if (!n.IsDefined() || n.IsNull()) return false;
    bool value = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, value)) return fail(field, "expected true or false");
    return value;
  }

  std::optional<size_t> findNamed(const char* list_key, const std::string& name) const {
    const YAML::Node list = root_[list_key];
    if (!list.IsSequence()) return std::nullopt;
    for (size_t i = 0; i < list.size(); ++i) {
      const YAML::Node entry = list[i];
      if (!entry.IsMap()) continue;
      const YAML::Node n = entry["name"];
      if (n.IsScalar() && n.Scalar() == name) return i;
    }
    return std::nullopt;
  }

  std::string resolve(const std::string& file) const {
    fs::path p(file);
    if (p.is_relative()) p = dir_ / p;
    return p.lexically_normal().string();
  }

  // `<key>-data` (base64) wins over `<key>` (a file), as in client-go.
  Result<std::string> dataOrFile(const YAML::Node& map, const std::string& at, const std::string& key) const {
    auto data = scalar(map, (key + "-data").c_str(), at + "." + key + "-data");
    if (!data) return core::fail(data.error());
    if (!data->empty()) {
      auto decoded = decodeBase64(*data);
      if (!decoded) return fail(at + "." + key + "-data", "not valid base64");
      return *decoded;
    }
    auto file = scalar(map, key.c_str(), at + "." + key);
    if (!file) return core::fail(file.error());
    if (file->empty()) return std::string();
    auto content = readFile(resolve(*file));
    if (!content) return fail(at + "." + key, content.error().message);
    return *content;
  }

  core::Status readCluster(size_t index, ClusterConfig& out) const {
    const std::string at = "clusters[" + std::to_string(index) + "].cluster";
    const YAML::Node c = root_["clusters"][index]["cluster"];
    if (!c.IsMap()) return fail(at, "missing or not a map");

    auto server = scalar(c, "server", at + ".server");
    if (!server) return core::fail(server.error());
    if (server->empty()) return fail(at + ".server", "not set");
    if (server->rfind("https://", 0) != 0 && server->rfind("http://", 0) != 0) {
      return fail(at + ".server", "\"" + *server + "\" is not an http(s) URL");
    }
    out.server = *server;
    while (!out.server.empty() && out.server.back() == '/') out.server.pop_back();

    for (const char* unsupported : {"tls-server-name", "proxy-url"}) {
      auto v = scalar(c, unsupported, at + "." + unsupported);
      if (!v) return core::fail(v.error());
      if (!v->empty()) {
        return fail(at + "." + unsupported,
                    std::string("not supported by this client") +
                        (std::string(unsupported) == "tls-server-name"
                             ? " (the server certificate must be valid for the host of the server URL)"
                             : ""));
      }
    }

    auto insecure = boolean(c, "insecure-skip-tls-verify", at + ".insecure-skip-tls-verify");
    if (!insecure) return core::fail(insecure.error());
    out.insecure_skip_tls_verify = *insecure;

    auto ca = dataOrFile(c, at, "certificate-authority");
    if (!ca) return core::fail(ca.error());
    out.ca_pem = *ca;
    const std::string ca_field = at + "." + (c["certificate-authority-data"].IsDefined()
                                                 ? "certificate-authority-data"
                                                 : "certificate-authority");
    if (!out.ca_pem.empty()) {
      if (out.insecure_skip_tls_verify) {
        return fail(at, "certificate-authority and insecure-skip-tls-verify are mutually exclusive");
      }
      if (std::string e = checkCertificates(out.ca_pem); !e.empty()) return fail(ca_field, e);
    } else if (out.server.rfind("https://", 0) == 0 && !out.insecure_skip_tls_verify) {
      return fail(at, "no certificate-authority(-data): the server cannot be verified "
                      "(set insecure-skip-tls-verify: true to connect without verification)");
    }
    return {};
  }

  core::Status readUser(size_t index, ClusterConfig& out) const {
    const std::string at = "users[" + std::to_string(index) + "].user";
    const YAML::Node u = root_["users"][index]["user"];
    if (!u.IsDefined() || u.IsNull()) return {};  // anonymous
    if (!u.IsMap()) return fail(at, "not a map");

    for (const char* unsupported : {"exec", "auth-provider", "username", "password", "as", "as-groups"}) {
      if (u[unsupported].IsDefined() && !u[unsupported].IsNull()) {
        return fail(at + "." + unsupported, "not supported by this client (use a token or a client certificate)");
      }
    }

    auto cert = dataOrFile(u, at, "client-certificate");
    if (!cert) return core::fail(cert.error());
    auto key = dataOrFile(u, at, "client-key");
    if (!key) return core::fail(key.error());
    if (cert->empty() != key->empty()) {
      return fail(at, cert->empty() ? "client-key given without client-certificate"
                                    : "client-certificate given without client-key");
    }
    if (!cert->empty()) {
      if (std::string e = checkCertificates(*cert); !e.empty()) return fail(at + ".client-certificate", e);
      if (std::string e = checkPrivateKey(*key); !e.empty()) return fail(at + ".client-key", e);
      if (std::string e = checkKeyPair(*cert, *key); !e.empty()) return fail(at, e);
      out.client_cert_pem = *cert;
      out.client_key_pem = *key;
    }

    auto token = scalar(u, "token", at + ".token");
    if (!token) return core::fail(token.error());
    out.token = *token;
    auto token_file = scalar(u, "tokenFile", at + ".tokenFile");
    if (!token_file) return core::fail(token_file.error());
    if (out.token.empty() && !token_file->empty()) {
      out.token_file = resolve(*token_file);
      auto content = readFile(out.token_file);  // fail now rather than on the first request
      if (!content) return fail(at + ".tokenFile", content.error().message);
    }
    return {};
  }

  std::string path_;
  fs::path dir_;
  const YAML::Node& root_;
};

std::string envOr(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

std::optional<std::string> decodeBase64(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string clean;
  clean.reserve(in.size());
  for (char c : in) {
    if (c == '\n' || c == '\r') continue;
    clean += c;
  }
  if (clean.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(clean.size() / 4 * 3);
  for (size_t i = 0; i < clean.size(); i += 4) {
    bool last = i + 4 == clean.size();
    int pad = 0;
    int v[4];
    for (int j = 0; j < 4; ++j) {
      char c = clean[i + j];
      if (c == '=') {
        // Padding only at the end of the last quantum, at most two.
        if (!last || j < 2) return std::nullopt;
        ++pad;
        v[j] = 0;
        continue;
      }
      if (pad > 0) return std::nullopt;
      v[j] = value(c);
      if (v[j] < 0) return std::nullopt;
    }
    uint32_t n = (uint32_t(v[0]) << 18) | (uint32_t(v[1]) << 12) | (uint32_t(v[2]) << 6) | uint32_t(v[3]);
    out += static_cast<char>((n >> 16) & 0xFF);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xFF);
    if (pad < 1) out += static_cast<char>(n & 0xFF);
  }
  return out;
}

Result<ClusterConfig> loadKubeconfig(const std::string& path, const std::string& context) {
  auto text = readFile(path);
  if (!text) return configError("kubeconfig " + path, text.error().message);
  return parseKubeconfig(*text, path, context);
}

Result<ClusterConfig> parseKubeconfig(const std::string& text, const std::string& path, const std::string& context) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return configError("kubeconfig " + path, std::string("not valid YAML: ") + e.what());
  }
  try {
    return KubeconfigReader(path, root).read(context);
  } catch (const YAML::Exception& e) {  // shapes the reader did not expect
    return configError("kubeconfig " + path, std::string("unexpected structure: ") + e.what());
  }
}

Result<ClusterConfig> inClusterConfigFrom(const std::string& root, const std::string& host,
                                          const std::string& port) {
  if (host.empty() || port.empty()) {
    return configError("in-cluster", "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
  }
  ClusterConfig out;
  out.source = "in-cluster";
  bool ipv6 = host.find(':') != std::string::npos;
  out.server = "https://" + (ipv6 ? "[" + host + "]" : host) + ":" + port;
  out.token_file = (fs::path(root) / "token").string();
  if (auto token = readFile(out.token_file); !token) return configError("in-cluster token", token.error().message);
  const std::string ca_file = (fs::path(root) / "ca.crt").string();
  auto ca = readFile(ca_file);
  if (!ca) return configError("in-cluster CA", ca.error().message);
  if (std::string e = checkCertificates(*ca); !e.empty()) return configError("in-cluster CA " + ca_file, e);
  out.ca_pem = *ca;
  if (auto ns = readFile((fs::path(root) / "namespace").string())) {
    out.ns = *ns;
    while (!out.ns.empty() && std::isspace(static_cast<unsigned char>(out.ns.back()))) out.ns.pop_back();
  }
  return out;
}

Result<ClusterConfig> inClusterConfig(const std::string& root) {
  return inClusterConfigFrom(root, envOr("KUBERNETES_SERVICE_HOST"), envOr("KUBERNETES_SERVICE_PORT"));
}

Result<ClusterConfig> resolveConfig(const std::string& flag_kubeconfig, const std::string& context) {
  if (!flag_kubeconfig.empty()) return loadKubeconfig(flag_kubeconfig, context);
  if (std::string env = envOr("KUBECONFIG"); !env.empty()) {
    if (env.find(':') != std::string::npos) {
      return configError("KUBECONFIG=" + env,
                         "several files are not supported (no merging); pass one with --kubeconfig");
    }
    return loadKubeconfig(env, context);
  }
  if (!envOr("KUBERNETES_SERVICE_HOST").empty()) return inClusterConfig();
  if (std::string home = envOr("HOME"); !home.empty()) {
    std::string def = (fs::path(home) / ".kube" / "config").string();
    std::error_code ec;
    if (fs::exists(def, ec)) return loadKubeconfig(def, context);
  }
  return core::fail(ErrorCode::kConfig,
                    "no cluster configuration: pass --kubeconfig, set KUBECONFIG, run in a pod, "
                    "or create ~/.kube/config");
}

}  // namespace bgo::kube::rest
