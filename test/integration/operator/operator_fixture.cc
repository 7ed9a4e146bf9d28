#include "integration/operator/operator_fixture.h"

#include "integration/support/test_id.h"

#include <algorithm>
#include <csignal>
#include <iostream>
#include <mutex>
#include <regex>

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

void OperatorTest::SetUpTestSuite() {}

void OperatorTest::SetUp() {
  ASSERT_FALSE(planeKubeconfig().empty()) << kNoPlane;
  auto client = planeClient();
  ASSERT_TRUE(client) << client.error().describe();
  client_ = std::move(*client);
  const std::string crd_error = applyCrdsOnce(BGO_SOURCE_DIR);
  ASSERT_TRUE(crd_error.empty()) << crd_error;
  namespace_ = std::make_unique<ScopedNamespace>(*client_, "bgo-op", "operator");
  ASSERT_FALSE(namespace_->error()) << namespace_->error()->describe();
  ns_ = namespace_->name();
  host_ = "app." + ns_ + ".example.test";
}

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
  namespace_.reset();
}

void OperatorTest::startOperator(const std::vector<std::string>& extra_args) {
  ASSERT_FALSE(operator_ && operator_->running()) << "the operator already runs";
  const std::string log = std::string(BGO_ITEST_LOG_DIR) + "/" + currentTestId() + "-" +
                          std::to_string(operator_logs_.size() + 1) + ".log";
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

double OperatorTest::operatorReconciles() {
  return metricSum(operatorMetrics(), "bluegreen_reconcile_total").value_or(0);
}

json OperatorTest::releaseManifest(const std::string& image, const json& spec_patch,
                                   const json& pod_annotations) const {
  json tmpl{{"metadata", {{"labels", {{"app", name_}}}}},
            {"spec",
             {{"containers",
               json::array({{{"name", "app"},
                             {"image", image},
                             {"ports", json::array({{{"name", "http"}, {"containerPort", 8080}}})}}})}}}};
  if (!pod_annotations.empty()) tmpl["metadata"]["annotations"] = pod_annotations;
  json spec{{"replicas", 3},
            {"template", tmpl},
            {"service", {{"port", 80}, {"targetPort", 8080}}},
            {"routing", {{"entryPoints", json::array({"web"})}, {"host", host_}}},
            {"promotion", {{"auto", true}, {"readyForSeconds", 1}, {"progressDeadlineSeconds", 20}}},
            {"scaleDown", {{"delaySeconds", 3}, {"standbyReplicas", 0}}}};
  spec.merge_patch(spec_patch);
  return json{{"apiVersion", "bluegreen.io/v1alpha1"},
              {"kind", "BlueGreenRelease"},
              {"metadata", {{"name", name_}, {"namespace", ns_}}},
              {"spec", spec}};
}

void OperatorTest::createRelease(const std::string& image, const json& spec_patch,
                                 const json& pod_annotations) {
  auto r = client_->create(kBlueGreenReleases, ns_, releaseManifest(image, spec_patch, pod_annotations));
  ASSERT_TRUE(r) << r.error().describe();
}

void OperatorTest::setImage(const std::string& image, const json& pod_annotations) {
  json container{{"name", "app"},
                 {"image", image},
                 {"ports", json::array({{{"name", "http"}, {"containerPort", 8080}}})}};
  json patch{{"spec", {{"template", {{"spec", {{"containers", json::array({container})}}}}}}}};
  if (!pod_annotations.empty()) patch["spec"]["template"]["metadata"]["annotations"] = pod_annotations;
  mergePatch(kBlueGreenReleases, name_, patch);
}

void OperatorTest::annotateRelease(const std::string& key, const std::string& value) {
  mergePatch(kBlueGreenReleases, name_, json{{"metadata", {{"annotations", {{key, value}}}}}});
}

void OperatorTest::mergePatch(const core::Gvr& gvr, const std::string& name, const json& patch) {
  auto r = client_->patch(gvr, ns_, name, kube::PatchType::kMerge, patch,
                          {.field_manager = "itest-user"});
  ASSERT_TRUE(r) << gvr.resource << "/" << name << ": " << r.error().describe();
}

json OperatorTest::get(const core::Gvr& gvr, const std::string& name) {
  auto r = client_->get(gvr, ns_, name);
  if (r) return *r;
  if (!r.error().is(core::ErrorCode::kNotFound)) {
    ADD_FAILURE() << "get " << gvr.resource << "/" << name << ": " << r.error().describe();
  }
  return nullptr;
}

json OperatorTest::status() {
  json r = release();
  return r.is_object() ? r.value("status", json::object()) : json::object();
}

std::string OperatorTest::stage() { return status().value("stage", ""); }
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

::testing::AssertionResult OperatorTest::waitFor(const std::string& what,
                                                 const std::function<bool()>& pred, Millis timeout,
                                                 Millis interval) {
  const auto start = std::chrono::steady_clock::now();
  if (eventually(pred, timeout, interval)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "timed out after " << secondsSince(start) << " s waiting for " << what
         << "\nrelease status: " << status().dump(2);
}

::testing::AssertionResult OperatorTest::waitForStage(const std::string& want, Millis timeout) {
  return waitFor("stage " + want, [&] { return stage() == want; }, timeout);
}

::testing::AssertionResult OperatorTest::waitStable(Millis timeout) {
  return waitFor(
      "stage Stable with Ready=True",
      [&] {
        json r = release();
        if (!r.is_object()) return false;
        const json st = r.value("status", json::object());
        if (st.value("stage", "") != "Stable") return false;
        if (st.value("observedGeneration", int64_t{-1}) !=
            r.value("/metadata/generation"_json_pointer, int64_t{0})) {
          return false;
        }
        for (const auto& c : st.value("conditions", json::array())) {
          if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
        }
        return false;
      },
      timeout);
}

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

int OperatorTest::intAt(const json& obj, const char* pointer, int fallback) {
  if (!obj.is_object()) return fallback;
  return obj.value(json::json_pointer(pointer), fallback);
}

std::string OperatorTest::strAt(const json& obj, const char* pointer) {
  if (!obj.is_object()) return "";
  return obj.value(json::json_pointer(pointer), std::string());
}

}  // namespace bgo::itest
