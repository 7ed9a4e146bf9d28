#include "integration/runtime/runtime_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <iostream>
#include <mutex>
#include <regex>
#include <sstream>

namespace bgo::itest {

namespace {

bool hasFlag(const std::vector<std::string>& args, const std::string& flag) {
  return std::any_of(args.begin(), args.end(),
                     [&](const std::string& a) { return a == flag || a.rfind(flag + "=", 0) == 0; });
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A manifest file as JSON, through kubectl's own YAML reader (no server write);
// a file of several documents becomes {kind: List, items}.
core::Result<json> manifestJson(const std::string& path) {
  auto r = runCommand({"kubectl", "--kubeconfig", planeKubeconfig(), "create", "--dry-run=client", "-o",
                       "json", "-f", path},
                      30s);
  if (!r) return core::fail(r.error());
  if (r->exit_code != 0) return core::fail(core::ErrorCode::kConfig, "kubectl create --dry-run " + path + ": " + r->output);
  // Several documents come out as consecutive JSON values: return them as a List.
  json items = json::array();
  std::istringstream in(r->output);
  try {
    while ((in >> std::ws).peek() != std::char_traits<char>::eof()) {
      json doc;
      in >> doc;
      items.push_back(std::move(doc));
    }
  } catch (const std::exception& e) {
    return core::fail(core::ErrorCode::kConfig, path + " as JSON: " + e.what());
  }
  if (items.size() == 1) return items[0];
  return json{{"kind", "List"}, {"items", items}};
}

}  // namespace

RuntimeTest::RuntimeTest()
    : ReleaseTest({.source_dir = BGO_SOURCE_DIR, .log_dir = BGO_ITEST_LOG_DIR,
                   .namespace_prefix = "bgo-rt", .suite_label = "runtime",
                   .replicas = 2, .progress_deadline_seconds = 60, .scale_down_delay_seconds = 2,
                   .release_poll = 50ms}) {}

void RuntimeTest::TearDown() {
  if (HasFailure() && client_ && !ns_.empty()) {
    std::cerr << "---- namespace " << ns_ << ": release status ----\n" << status().dump(2) << "\n"
              << "---- lease ----\n" << lease().dump(2) << "\n";
    for (const auto& op : operators_) {
      std::cerr << "---- tail of " << op->log_path << " ----\n" << tailFile(op->log_path, 60);
    }
  }
  // SIGTERM all at once, then reap: a shutdown costs one grace period, not one per process.
  for (auto& op : operators_) {
    if (op->proc && op->proc->running()) op->proc->signal(SIGTERM);
  }
  for (auto& op : operators_) {
    if (op->proc) op->proc->stop(5s);
  }
  operators_.clear();
  ReleaseTest::TearDown();
}

OperatorProcess* RuntimeTest::startOperator(const LaunchOptions& o) {
  auto op = std::make_unique<OperatorProcess>();
  op->log_path = uniqueLogPath("operator" + std::to_string(operators_.size() + 1));
  std::vector<std::string> argv{BGO_OPERATOR_BIN,
                                "--kubeconfig", o.kubeconfig.empty() ? planeKubeconfig() : o.kubeconfig,
                                "--namespace", ns_,
                                "--leader-election-namespace", ns_,
                                std::string("--leader-elect=") + (o.leader_elect ? "true" : "false"),
                                "--bind-address", "127.0.0.1",
                                "--health-port", "0",
                                "--metrics-port", "0"};
  if (!hasFlag(o.args, "--log-level")) argv.insert(argv.end(), {"--log-level", "debug"});
  // Without Traefik's API a switch counts as live after this margin; keep releases short.
  if (!hasFlag(o.args, "--traffic-confirm-margin")) argv.insert(argv.end(), {"--traffic-confirm-margin", "1"});
  argv.insert(argv.end(), o.args.begin(), o.args.end());
  auto p = Subprocess::start({argv, op->log_path, false, {}});
  if (!p) {
    ADD_FAILURE() << p.error().describe();
    return nullptr;
  }
  op->proc = std::move(*p);
  OperatorProcess* raw = op.get();
  operators_.push_back(std::move(op));

  static const std::regex kPorts("starting: .* health=:([0-9]+) metrics=:([0-9]+)");
  const bool started = eventually([&] {
    std::smatch m;
    const std::string text = logText(*raw);
    if (!std::regex_search(text, m, kPorts)) return !raw->proc->running();
    raw->health_port = std::stoi(m[1]);
    raw->metrics_port = std::stoi(m[2]);
    return true;
  }, 20s, 20ms);
  if (!started || raw->health_port == 0) {
    ADD_FAILURE() << "the operator did not log its ports (running: " << raw->proc->running() << ")\n"
                  << tailFile(raw->log_path, 40);
    return nullptr;
  }
  return raw;
}

::testing::AssertionResult RuntimeTest::waitIdentity(OperatorProcess& op, Millis timeout) {
  static const std::regex kCandidate("leader election: (\\S+) is a candidate for lease");
  if (eventually([&] {
        std::smatch m;
        const std::string text = logText(op);
        if (!std::regex_search(text, m, kCandidate)) return false;
        op.identity = m[1];
        return true;
      }, timeout, 20ms)) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "no 'is a candidate' line in " << op.log_path << "\n"
                                       << tailFile(op.log_path, 30);
}

std::string RuntimeTest::logText(const OperatorProcess& op) const { return readFile(op.log_path); }

bool RuntimeTest::logContains(const OperatorProcess& op, const std::string& needle) const {
  return logText(op).find(needle) != std::string::npos;
}

std::optional<HttpResponse> RuntimeTest::probe(const OperatorProcess& op, const std::string& path) {
  const int port = path == "/metrics" ? op.metrics_port : op.health_port;
  auto r = httpGet("127.0.0.1", port, path, 3s);
  if (!r) return std::nullopt;
  return *r;
}

std::optional<test::Exposition> RuntimeTest::scrape(const OperatorProcess& op) {
  auto r = probe(op, "/metrics");
  if (!r || r->status != 200) {
    ADD_FAILURE() << "GET /metrics on :" << op.metrics_port << " failed"
                  << (r ? " with HTTP " + std::to_string(r->status) : std::string());
    return std::nullopt;
  }
  test::Exposition ex = test::parseExposition(r->body);
  if (!ex.ok()) {
    ADD_FAILURE() << "/metrics is not valid exposition text: " << ex.error;
    return std::nullopt;
  }
  return ex;
}

double RuntimeTest::sumWhere(const test::Exposition& ex, const std::string& name,
                             const std::function<bool(const std::map<std::string, std::string>&)>& match) {
  double sum = 0;
  for (const auto& s : ex.samples(name)) {
    if (!match || match(s.labels)) sum += s.value;
  }
  return sum;
}

double RuntimeTest::writeRequests(const test::Exposition& ex) {
  return sumWhere(ex, "rest_client_requests_total", [](const auto& labels) {
    auto it = labels.find("verb");
    const std::string verb = it == labels.end() ? "" : it->second;
    return verb != "get" && verb != "list" && verb != "watch";
  });
}

std::optional<double> RuntimeTest::leaderStatus(const test::Exposition& ex) {
  return ex.value("leader_election_master_status", {{"name", kLeaseName}});
}

json RuntimeTest::lease() {
  auto r = client_->get(core::gvrs::kLeases, ns_, kLeaseName);
  if (r) return *r;
  if (!r.error().is(core::ErrorCode::kNotFound)) ADD_FAILURE() << "get lease: " << r.error().describe();
  return nullptr;
}

std::string RuntimeTest::leaseHolder() {
  json l = lease();
  if (!l.is_object()) return "";
  return l.value("/spec/holderIdentity"_json_pointer, std::string());
}

int RuntimeTest::switchesTo(const std::string& revision) {
  int n = 0;
  for (const auto& h : status().value("history", json::array())) {
    if (h.value("revision", "") == revision) ++n;
  }
  return n;
}

ServiceAccountKubeconfig makeServiceAccountKubeconfig(kube::KubeClient& client, const std::string& ns,
                                                      const std::string& path, bool leases) {
  ServiceAccountKubeconfig out;
  const std::string sa = "bgo-operator";
  const std::string rbac = std::string(BGO_SOURCE_DIR) + "/manifests/rbac/";
  auto cluster_role = manifestJson(rbac + "cluster_role.yaml");
  if (!cluster_role) return {.error = cluster_role.error().describe()};
  auto election = manifestJson(rbac + "leader_election_role.yaml");
  if (!election) return {.error = election.error().describe()};

  json rules = cluster_role->value("rules", json::array());
  if (leases) {
    for (const auto& item : election->value("items", json::array())) {
      if (item.value("kind", "") != "Role") continue;
      for (const auto& rule : item.value("rules", json::array())) rules.push_back(rule);
    }
  }
  const json objects[] = {
      {{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", {{"name", sa}, {"namespace", ns}}}},
      {{"apiVersion", "rbac.authorization.k8s.io/v1"},
       {"kind", "Role"},
       {"metadata", {{"name", sa}, {"namespace", ns}}},
       {"rules", rules}},
      {{"apiVersion", "rbac.authorization.k8s.io/v1"},
       {"kind", "RoleBinding"},
       {"metadata", {{"name", sa}, {"namespace", ns}}},
       {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", sa}}},
       {"subjects", json::array({{{"kind", "ServiceAccount"}, {"name", sa}, {"namespace", ns}}})}},
  };
  const core::Gvr role_gvr{"rbac.authorization.k8s.io", "v1", "roles", true};
  const core::Gvr binding_gvr{"rbac.authorization.k8s.io", "v1", "rolebindings", true};
  const core::Gvr* gvrs[] = {&core::gvrs::kServiceAccounts, &role_gvr, &binding_gvr};
  for (int i = 0; i < 3; ++i) {
    auto r = client.create(*gvrs[i], ns, objects[i]);
    if (!r) return {.error = "create " + gvrs[i]->resource + ": " + r.error().describe()};
  }

  auto token = runCommand({"kubectl", "--kubeconfig", planeKubeconfig(), "-n", ns, "create", "token", sa,
                           "--duration", "1h"},
                          30s);
  if (!token || token->exit_code != 0) {
    return {.error = "kubectl create token: " + (token ? token->output : token.error().describe())};
  }
  out.token = token->output;
  out.token.erase(out.token.find_last_not_of(" \r\n") + 1);

  auto view = runCommand({"kubectl", "--kubeconfig", planeKubeconfig(), "config", "view", "--raw", "--minify",
                          "-o", "json"},
                         30s);
  if (!view || view->exit_code != 0) {
    return {.error = "kubectl config view: " + (view ? view->output : view.error().describe())};
  }
  json admin = json::parse(view->output, nullptr, false);
  const json cluster = admin.value("/clusters/0/cluster"_json_pointer, json::object());
  out.ca_data = cluster.value("certificate-authority-data", "");
  if (out.ca_data.empty()) return {.error = "the admin kubeconfig has no certificate-authority-data"};

  // JSON is YAML: the operator reads this like any kubeconfig.
  const json kubeconfig{
      {"apiVersion", "v1"},
      {"kind", "Config"},
      {"clusters", json::array({{{"name", "plane"}, {"cluster", cluster}}})},
      {"users", json::array({{{"name", sa}, {"user", {{"token", out.token}}}}})},
      {"contexts", json::array({{{"name", sa}, {"context", {{"cluster", "plane"}, {"user", sa}, {"namespace", ns}}}}})},
      {"current-context", sa}};
  makeDirs(std::string(BGO_ITEST_LOG_DIR));
  std::ofstream f(path, std::ios::trunc);
  f << kubeconfig.dump(2) << "\n";
  if (!f) return {.error = "cannot write " + path};
  out.path = path;
  return out;
}

int closedLocalPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

}  // namespace bgo::itest
