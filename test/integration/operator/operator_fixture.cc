#include "integration/operator/operator_fixture.h"

#include <algorithm>
#include <iostream>
#include <regex>
#include <thread>

namespace bgo::itest {

namespace {

using core::gvrs::kBlueGreenReleases;
using core::gvrs::kEvents;

}  // namespace

DeploymentState deploymentState(const json& d) {
  DeploymentState s;
  if (!d.is_object()) return s;
  s.exists = true;
  s.spec_replicas = d.value("/spec/replicas"_json_pointer, 1);
  s.ready_replicas = d.value("/status/readyReplicas"_json_pointer, 0);
  s.updated_replicas = d.value("/status/updatedReplicas"_json_pointer, 0);
  s.generation = d.value("/metadata/generation"_json_pointer, int64_t{0});
  s.observed_generation = d.value("/status/observedGeneration"_json_pointer, int64_t{0});
  s.revision = d.value("/metadata/labels/bluegreen.io~1revision"_json_pointer, std::string());
  s.image = d.value("/spec/template/spec/containers/0/image"_json_pointer, std::string());
  return s;
}

OperatorTest::OperatorTest()
    : ReleaseTest({.source_dir = BGO_SOURCE_DIR, .log_dir = BGO_ITEST_LOG_DIR,
                   .namespace_prefix = "bgo-op", .suite_label = "operator", .replicas = 3,
                   .progress_deadline_seconds = 20, .scale_down_delay_seconds = 3}) {}

void OperatorTest::TearDown() {
  if (HasFailure() && client_ && !ns_.empty()) {
    std::cerr << "---- state of namespace " << ns_ << " ----\n" << describeState();
    for (const auto& log : operator_logs_) {
      std::cerr << "---- tail of " << log << " ----\n" << tailFile(log, 80);
    }
  }
  if (operator_) {
    operator_->stop(5s);
    operator_.reset();
  }
  ReleaseTest::TearDown();
}

void OperatorTest::startOperator(const std::vector<std::string>& extra_args) {
  ASSERT_FALSE(operator_ && operator_->running()) << "the operator already runs";
  const std::string log = uniqueLogPath(std::to_string(operator_logs_.size() + 1));
  std::vector<std::string> argv{BGO_OPERATOR_BIN,
                                "--kubeconfig", planeKubeconfig(),
                                "--namespace", ns_,
                                "--leader-elect=false",
                                "--health-port", "0",
                                "--metrics-port", "0",
                                "--log-level", "debug",
                                "--traffic-confirm-margin", std::to_string(kConfirmMargin)};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  auto p = Subprocess::start({argv, log, false, {}});
  ASSERT_TRUE(p) << p.error().describe();
  operator_ = std::move(*p);
  operator_logs_.push_back(log);
}

std::string OperatorTest::exitedUnexpectedly() {
  if (!operator_ || operator_->running()) return "";
  return "the operator exited; its log ends with:\n" + operatorLogTail(10);
}

int OperatorTest::stopOperator(int sig) {
  if (!operator_) return -1;
  operator_->signal(sig);
  auto code = operator_->wait(20s);
  if (!code) {
    ADD_FAILURE() << "operator did not exit within 20 s of signal " << sig;
    return operator_->stop(1s);
  }
  operator_.reset();
  return *code;
}

std::string OperatorTest::operatorLogTail(std::size_t lines) const {
  return operator_logs_.empty() ? "" : tailFile(operator_logs_.back(), lines);
}

std::string OperatorTest::operatorMetrics() {
  static const std::regex kPort("metrics=:([0-9]+)");
  int port = 0;
  eventually([&] {
    std::smatch m;
    const std::string head = operator_logs_.empty() ? "" : tailFile(operator_logs_.back(), 100000);
    if (!std::regex_search(head, m, kPort)) return false;
    port = std::stoi(m[1]);
    return true;
  }, 10s);
  if (port == 0) {
    ADD_FAILURE() << "the operator log names no metrics port";
    return "";
  }
  auto r = httpGet("127.0.0.1", port, "/metrics");
  if (!r || r->status != 200) {
    ADD_FAILURE() << "GET /metrics on port " << port << ": "
                  << (r ? "HTTP " + std::to_string(r->status) : r.error().describe());
    return "";
  }
  return r->body;
}

double OperatorTest::operatorWrites() {
  const std::string m = operatorMetrics();
  double sum = 0;
  for (const char* verb : {"create", "update", "apply", "patch", "delete"}) {
    sum += metricSum(m, "rest_client_requests_total", {{"verb", verb}}).value_or(0);
  }
  return sum;
}

double OperatorTest::settledWrites() {
  double last = operatorWrites();
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    const double now = operatorWrites();
    if (now == last) break;
    last = now;
  }
  return last;
}

double OperatorTest::operatorReconciles() {
  return metricSum(operatorMetrics(), "bluegreen_reconcile_total").value_or(0);
}

void OperatorTest::annotateRelease(const std::string& key, const std::string& value) {
  mergePatch(kBlueGreenReleases, name_, json{{"metadata", {{"annotations", {{key, value}}}}}});
}

std::string OperatorTest::previewRevision() { return status().value("previewRevision", ""); }

json OperatorTest::condition(const std::string& type) {
  for (const auto& c : status().value("conditions", json::array())) {
    if (c.value("type", "") == type) return c;
  }
  return json::object();
}

std::string OperatorTest::conditionStatus(const std::string& type) {
  return condition(type).value("status", "");
}

std::string OperatorTest::routeService(const std::string& route, const std::string& match) {
  json ir = ingressRoute(route.empty() ? name_ : route);
  if (!ir.is_object()) return "";
  const std::string want = match.empty() ? "Host(`" + host_ + "`)" : match;
  for (const auto& rt : ir.value("/spec/routes"_json_pointer, json::array())) {
    if (rt.value("match", "") != want) continue;
    const json services = rt.value("services", json::array());
    if (services.empty()) return "";
    std::string out;
    for (const auto& s : services) out += (out.empty() ? "" : "+") + s.value("name", "?");
    return out;
  }
  return "";
}

std::function<void()> OperatorTest::mainRouteSample(RouteSample on_route) {
  kube::KubeClient* client = samplerClient();
  if (!client) return nullptr;
  return [this, client, on_route = std::move(on_route)] {
    auto ir = client->get(core::gvrs::kIngressRoutes, ns_, name_);
    if (!ir) return;
    on_route(*ir, strAt(*ir, "/spec/routes/0/services/0/name"), *client);
  };
}

std::vector<json> OperatorTest::listItems(const core::Gvr& gvr) {
  auto l = kube::listAll(*client_, gvr, ns_);
  if (!l) {
    ADD_FAILURE() << "list " << gvr.resource << ": " << l.error().describe();
    return {};
  }
  return std::vector<json>(l->items.begin(), l->items.end());
}

std::vector<json> OperatorTest::releaseEvents(const std::string& reason) {
  std::vector<json> out;
  for (auto& e : listItems(kEvents)) {
    if (e.value("/involvedObject/kind"_json_pointer, std::string()) != "BlueGreenRelease" ||
        e.value("/involvedObject/name"_json_pointer, std::string()) != name_) {
      continue;
    }
    if (!reason.empty() && e.value("reason", "") != reason) continue;
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](const json& a, const json& b) {
    return a.value("/metadata/creationTimestamp"_json_pointer, std::string()) <
           b.value("/metadata/creationTimestamp"_json_pointer, std::string());
  });
  return out;
}

std::size_t OperatorTest::countNamespaceEvents() { return listItems(kEvents).size(); }

std::string OperatorTest::describeState() {
  std::string out;
  json r = release();
  out += "release: " + (r.is_object() ? json{{"metadata", {{"generation", r["metadata"].value("generation", 0)},
                                                          {"annotations", r["metadata"].value("annotations", json::object())}}},
                                             {"status", r.value("status", json::object())}}
                                            .dump(2)
                                      : std::string("(none)")) +
         "\n";
  for (const char* color : {"blue", "green"}) {
    DeploymentState d = deploymentState(deployment(color));
    out += std::string("deployment ") + color + ": " +
           (d.exists ? "replicas " + std::to_string(d.spec_replicas) + " ready " +
                           std::to_string(d.ready_replicas) + " updated " +
                           std::to_string(d.updated_replicas) + " gen " + std::to_string(d.generation) +
                           "/" + std::to_string(d.observed_generation) + " rev " + d.revision +
                           " image " + d.image
                     : std::string("(none)")) +
           "\n";
  }
  for (const auto& ir : listItems(core::gvrs::kIngressRoutes)) {
    out += "ingressroute " + ir.value("/metadata/name"_json_pointer, std::string()) + ": " +
           ir.value("spec", json::object()).dump() + "\n";
  }
  for (const auto& e : listItems(kEvents)) {
    if (e.value("/involvedObject/kind"_json_pointer, std::string()) != "BlueGreenRelease") continue;
    out += "event " + e.value("type", "") + " " + e.value("reason", "") + ": " +
           e.value("message", "") + "\n";
  }
  return out;
}

}  // namespace bgo::itest
