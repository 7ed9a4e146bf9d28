// The plugin binary against the real control plane and the real operator:
// every command, its exit codes and what it writes (or does not).
#include <fstream>

#include "integration/operator/operator_fixture.h"
#include "integration/support/test_id.h"

namespace bgo::itest {
namespace {

using core::gvrs::kBlueGreenReleases;

class CliTest : public OperatorTest {
 protected:
  std::vector<std::string> argv(const std::vector<std::string>& args) const {
    std::vector<std::string> a{BGO_CLI_BIN, "--kubeconfig", planeKubeconfig(), "-n", ns_};
    a.insert(a.end(), args.begin(), args.end());
    return a;
  }
  // Runs the plugin to completion; stdout and stderr interleaved.
  CommandResult cli(const std::vector<std::string>& args, Millis timeout = 60s) {
    auto r = runCommand(argv(args), timeout);
    if (!r) {
      ADD_FAILURE() << "kubectl-bluegreen " << args[0] << ": " << r.error().describe();
      return {};
    }
    return *r;
  }
  // Starts the plugin in the background; its output goes to a log file.
  std::unique_ptr<Subprocess> start(const std::vector<std::string>& args, const std::string& what) {
    auto p = Subprocess::start({argv(args), uniqueLogPath(what), false, {}});
    if (!p) {
      ADD_FAILURE() << p.error().describe();
      return nullptr;
    }
    return std::move(*p);
  }
  // What the plugin may write: the spec (its generation) and annotations. Not
  // the resourceVersion: the operator's status writes move it meanwhile.
  json rv() {
    const json r = release();
    return {r.value("/metadata/generation"_json_pointer, json()), r.value("/metadata/annotations"_json_pointer, json())};
  }
  static std::size_t lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }
  static bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
};

TEST_F(CliTest, GetListAndPlanShowAStableRelease) {
  startOperator();
  createRelease(kImage1);
  ASSERT_TRUE(waitStable(60s));
  const std::string rev1 = status().value("activeRevision", "");

  auto get = cli({"get", name_});
  EXPECT_EQ(get.exit_code, 0) << get.output;
  for (const std::string& want : std::vector<std::string>{"BlueGreenRelease app (namespace " + ns_ + ")", std::string("stage     Stable"),
                                 "main     Host(`" + host_ + "`) -> blue",
                                 "preview  Host(`green." + host_ + "`) -> green",
                                 std::string("3/3 ready"), std::string("-> blue  revision " + rev1 + "  Initial")}) {
    EXPECT_TRUE(has(get.output, want)) << "missing \"" << want << "\" in\n" << get.output;
  }
  EXPECT_FALSE(has(get.output, "\033[")) << "colours in piped output";

  auto js = cli({"get", name_, "-o", "json"});
  ASSERT_EQ(js.exit_code, 0) << js.output;
  const json s = json::parse(js.output);
  EXPECT_EQ(s["stage"], "Stable");
  EXPECT_EQ(s["revision"], rev1);
  EXPECT_EQ(s["active"]["revision"], rev1);
  EXPECT_EQ(s["routes"]["main"]["color"], "blue");
  EXPECT_EQ(s["colors"]["blue"]["readyEndpoints"], 3);
  EXPECT_EQ(s["history"][0]["reason"], "Initial");

  auto yaml = cli({"get", name_, "-o", "yaml"});
  EXPECT_EQ(yaml.exit_code, 0);
  EXPECT_TRUE(has(yaml.output, "stage: Stable\n")) << yaml.output;

  auto list = cli({"list"});
  EXPECT_EQ(list.exit_code, 0) << list.output;
  EXPECT_EQ(lines(list.output), 2u) << list.output;
  EXPECT_TRUE(has(list.output, "app   blue    " + rev1)) << list.output;
  auto all = cli({"list", "-A", "-o", "json"});
  ASSERT_EQ(all.exit_code, 0) << all.output;
  bool found = false;
  const json listed = json::parse(all.output);
  for (const auto& item : listed["items"]) found |= item["namespace"] == ns_ && item["name"] == name_;
  EXPECT_TRUE(found) << all.output;

  const json before = rv();
  auto plan = cli({"plan", name_});
  EXPECT_EQ(plan.exit_code, 0) << plan.output;
  EXPECT_TRUE(has(plan.output, "stage    Stable (unchanged)")) << plan.output;
  EXPECT_TRUE(has(plan.output, "writes   none")) << plan.output;
  EXPECT_EQ(rv(), before) << "plan wrote to the release";
}

TEST_F(CliTest, StalePromoteIsRefusedAndStatusReturnsOnceTheNewRevisionIsLive) {
  startOperator();
  createRelease(kImage1, {{"promotion", {{"auto", false}}}});
  ASSERT_TRUE(waitStable(60s));
  const std::string rev1 = status().value("activeRevision", "");

  auto set = cli({"set", "image", name_, std::string("app=") + kImage2});
  ASSERT_EQ(set.exit_code, 0) << set.output;
  ASSERT_TRUE(waitForStage("AwaitingPromotion", 30s));
  const std::string rev2 = previewRevision();
  EXPECT_TRUE(has(set.output, "revision " + rev1 + " -> " + rev2)) << set.output;
  EXPECT_TRUE(has(set.output, "promotion.auto is off")) << set.output;

  auto plan = cli({"plan", name_});
  EXPECT_TRUE(has(plan.output, "is promotable; to switch")) << plan.output;

  auto status_run = start({"status", name_, "--timeout", "60s"}, "status");
  ASSERT_TRUE(status_run);
  EXPECT_TRUE(holdsFor([&] { return status_run->running(); }, 2s)) << "status returned before the promote";

  // A promote for the revision that served before: refused, nothing written.
  const json before = rv();
  auto stale = cli({"promote", name_, "--revision", rev1});
  EXPECT_EQ(stale.exit_code, 1) << stale.output;
  EXPECT_EQ(lines(stale.output), 1u) << stale.output;
  EXPECT_TRUE(has(stale.output, "wrong revision " + rev1)) << stale.output;
  EXPECT_EQ(rv(), before);
  EXPECT_TRUE(holdsFor([&] { return routeService() == name_ + "-blue"; }, 1s));

  auto promote = cli({"promote", name_, "--revision", rev2});
  ASSERT_EQ(promote.exit_code, 0) << promote.output;
  EXPECT_TRUE(has(promote.output, "promote requested for revision " + rev2)) << promote.output;
  EXPECT_EQ(strAt(release(), "/metadata/annotations/bluegreen.io~1promote"), rev2);

  auto code = status_run->wait(60s);
  ASSERT_TRUE(code) << "status did not return";
  EXPECT_EQ(*code, 0) << tailFile(status_run->logPath(), 20);
  // When status returned, the new revision was live.
  const json st = status();
  EXPECT_EQ(st.value("activeRevision", ""), rev2);
  EXPECT_TRUE(st.value("stage", "") == "Draining" || st.value("stage", "") == "Stable") << st.dump();
  EXPECT_EQ(routeService(), name_ + "-green");
  EXPECT_TRUE(has(tailFile(status_run->logPath(), 5), "revision " + rev2 + " is live on green"));

  // The old request names a revision that is no longer in flight.
  auto again = cli({"promote", name_});
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_TRUE(has(again.output, "nothing to promote")) << again.output;
}

TEST_F(CliTest, StatusExits2OnTimeoutAnd1OnAFailedRelease) {
  startOperator();
  createRelease(kImage1);
  ASSERT_TRUE(waitStable(60s));
  setImage(kImage2, {}, {{"sim.bluegreen.io/ready", "false"}});

  auto timeout = cli({"status", name_, "--timeout", "3s"});
  EXPECT_EQ(timeout.exit_code, 2) << timeout.output;
  EXPECT_TRUE(has(timeout.output, "is not live after 3s")) << timeout.output;

  auto failed = cli({"status", name_, "--timeout", "60s"}, 90s);
  EXPECT_EQ(failed.exit_code, 1) << failed.output;
  EXPECT_TRUE(has(failed.output, "Failed: revision")) << failed.output;
  EXPECT_EQ(stage(), "Failed");

  auto retry = cli({"retry", name_});
  EXPECT_EQ(retry.exit_code, 1) << retry.output;
  EXPECT_TRUE(has(retry.output, "keeps a failed revision failed")) << retry.output;
}

TEST_F(CliTest, AbortThenRetryThenPromote) {
  startOperator();
  createRelease(kImage1, {{"promotion", {{"auto", false}, {"progressDeadlineSeconds", 300}}},
                          {"scaleDown", {{"standbyReplicas", 1}}}});
  ASSERT_TRUE(waitStable(60s));
  setImage(kImage2);
  ASSERT_TRUE(waitForStage("AwaitingPromotion", 30s));
  const std::string rev2 = previewRevision();

  auto abort = cli({"abort", name_});
  ASSERT_EQ(abort.exit_code, 0) << abort.output;
  EXPECT_TRUE(has(abort.output, "traffic stays on blue")) << abort.output;
  ASSERT_TRUE(waitForStage("Aborted", 15s));
  auto st = cli({"status", name_, "--timeout", "10s"});
  EXPECT_EQ(st.exit_code, 1) << st.output;
  EXPECT_TRUE(has(st.output, "Aborted")) << st.output;
  EXPECT_EQ(routeService(), name_ + "-blue");

  auto promote = cli({"promote", name_});
  EXPECT_EQ(promote.exit_code, 1) << "an aborted revision was promoted: " << promote.output;

  auto retry = cli({"retry", name_, "--revision", rev2});
  ASSERT_EQ(retry.exit_code, 0) << retry.output;
  EXPECT_EQ(strAt(release(), "/metadata/annotations/bluegreen.io~1abort"), "");
  ASSERT_TRUE(waitForStage("AwaitingPromotion", 30s));

  ASSERT_EQ(cli({"promote", name_}).exit_code, 0);
  auto live = cli({"status", name_, "--timeout", "60s"}, 90s);
  EXPECT_EQ(live.exit_code, 0) << live.output;
  EXPECT_EQ(status().value("activeRevision", ""), rev2);
}

TEST_F(CliTest, RollbackSwitchesToTheWarmColorAndIsRefusedOnceItIsCold) {
  startOperator();
  createRelease(kImage1, {{"scaleDown", {{"delaySeconds", 120}}}});
  ASSERT_TRUE(waitStable(60s));
  const std::string rev1 = status().value("activeRevision", "");

  auto refused = cli({"rollback", name_});
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_EQ(lines(refused.output), 1u) << refused.output;

  ASSERT_EQ(cli({"set", "image", name_, std::string("app=") + kImage2}).exit_code, 0);
  ASSERT_TRUE(waitForStage("Draining", 60s));
  ASSERT_TRUE(waitFor("blue warm", [&] { return deploymentState(deployment("blue")).fullyReady(); }, 30s));

  auto rollback = cli({"rollback", name_});
  ASSERT_EQ(rollback.exit_code, 0) << rollback.output;
  EXPECT_TRUE(has(rollback.output, "revision " + rev1)) << rollback.output;
  ASSERT_TRUE(waitFor("main route back on blue", [&] { return routeService() == name_ + "-blue"; }, 15s));
  // The status write with the history follows the route write.
  EXPECT_TRUE(waitFor("the rollback in the history",
                      [&] { return strAt(status(), "/history/0/reason") == "Rollback"; }, 10s));
  EXPECT_EQ(status()["history"][0].value("revision", ""), rev1);
  EXPECT_EQ(cli({"status", name_, "--timeout", "30s"}).exit_code, 0);

  // Green is warm now; once scaled to standby it is not.
  mergePatch(kBlueGreenReleases, name_, {{"spec", {{"scaleDown", {{"delaySeconds", 1}}}}}});
  ASSERT_TRUE(waitStable(60s, "blue"));
  const json before = rv();
  auto cold = cli({"rollback", name_});
  EXPECT_EQ(cold.exit_code, 1) << cold.output;
  EXPECT_TRUE(has(cold.output, "green (revision ") && has(cold.output, "is not warm")) << cold.output;
  EXPECT_EQ(rv(), before);
}

TEST_F(CliTest, RollbackWithManualPromotionSwitchesBackWithoutAnotherRequest) {
  startOperator();
  createRelease(kImage1, {{"promotion", {{"auto", false}}}, {"scaleDown", {{"delaySeconds", 120}}}});
  ASSERT_TRUE(waitStable(60s));
  const std::string rev1 = status().value("activeRevision", "");
  ASSERT_EQ(cli({"set", "image", name_, std::string("app=") + kImage2}).exit_code, 0);
  ASSERT_TRUE(waitForStage("AwaitingPromotion", 30s));
  ASSERT_EQ(cli({"promote", name_}).exit_code, 0);
  ASSERT_EQ(cli({"status", name_, "--timeout", "30s"}).exit_code, 0);

  auto rollback = cli({"rollback", name_});
  ASSERT_EQ(rollback.exit_code, 0) << rollback.output;
  EXPECT_TRUE(has(rollback.output, "promote=" + rev1 + " is requested with it")) << rollback.output;
  ASSERT_TRUE(waitFor("main route back on blue", [&] { return routeService() == name_ + "-blue"; }, 15s));
  auto live = cli({"status", name_, "--timeout", "30s"});
  EXPECT_EQ(live.exit_code, 0) << live.output;
  EXPECT_EQ(status()["history"][0].value("reason", ""), "Rollback");
}

TEST_F(CliTest, PauseHoldsTheOperatorAndResumeLetsItGo) {
  startOperator();
  createRelease(kImage1);
  ASSERT_TRUE(waitStable(60s));
  auto pause = cli({"pause", name_});
  ASSERT_EQ(pause.exit_code, 0) << pause.output;
  ASSERT_TRUE(waitForStage("Paused", 15s));
  ASSERT_EQ(cli({"set", "image", name_, std::string("app=") + kImage2}).exit_code, 0);
  EXPECT_TRUE(holdsFor([&] { return deploymentState(deployment("green")).spec_replicas == 0 && stage() == "Paused"; }, 3s))
      << "a paused release deployed";
  auto resume = cli({"resume", name_});
  ASSERT_EQ(resume.exit_code, 0) << resume.output;
  auto live = cli({"status", name_, "--timeout", "60s"}, 90s);
  EXPECT_EQ(live.exit_code, 0) << live.output;
  EXPECT_EQ(routeService(), name_ + "-green");
}

TEST_F(CliTest, BadInputIsOneLineExit1AndNothingWritten) {
  startOperator();
  createRelease(kImage1);
  ASSERT_TRUE(waitStable(60s));
  const json before = rv();
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::string dir = suite_.log_dir + "/" + currentTestId();
  ASSERT_TRUE(makeDirs(dir + "/x"));
  const std::string deployment_file = dir + "/deployment.yaml";
  std::ofstream(deployment_file) << "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n";
  const std::string invalid_file = dir + "/invalid.yaml";
  std::ofstream(invalid_file) << releaseManifest(kImage1, {{"scaleDown", {{"standbyReplicas", 9}}}}).dump();
  for (const Case& c : std::vector<Case>{
           {{"get", "missing"}, "BlueGreenRelease \"missing\" not found in namespace " + ns_},
           {{"promote", "missing"}, "\"missing\" not found"},
           {{"promote", name_, "--revision", "0000000000"}, "wrong revision 0000000000"},
           {{"abort", name_}, "nothing to abort"},
           {{"set", "image", name_, "app=Registry.Example/App::2"}, "is not an image reference"},
           {{"set", "image", name_, "web=registry.example/web:1"}, "has no container \"web\" (it has: app)"},
           {{"lint", "-f", deployment_file}, "not a BlueGreenRelease: kind \"Deployment\""},
           {{"lint", "-f", invalid_file}, "spec.scaleDown.standbyReplicas: must not exceed spec.replicas"},
           {{"lint", "-f", dir + "/absent.yaml"}, "cannot read"},
           {{"frobnicate"}, "unknown command \"frobnicate\""},
           {{"get", name_, "--context", "nope"}, "context \"nope\" not found"},
           {{"get", name_, "-A"}, "-A/--all-namespaces is for list"},
       }) {
    auto r = cli(c.args);
    EXPECT_EQ(r.exit_code, 1) << c.args[0] << ": " << r.output;
    EXPECT_EQ(lines(r.output), 1u) << c.args[0] << ": " << r.output;
    EXPECT_TRUE(has(r.output, c.says)) << "expected \"" << c.says << "\" in: " << r.output;
  }
  EXPECT_EQ(rv(), before) << "bad input wrote to the release";

  auto sample = cli({"lint", "-f", std::string(BGO_SOURCE_DIR) + "/manifests/samples/shop.yaml"});
  EXPECT_EQ(sample.exit_code, 0) << sample.output;
  for (const char* c : {"get", "list", "status", "promote", "abort", "rollback", "retry", "pause", "resume", "plan", "lint"}) {
    auto help = cli({c, "--help"});
    EXPECT_EQ(help.exit_code, 0) << c;
    EXPECT_TRUE(has(help.output, std::string("Usage: kubectl bluegreen ") + c)) << help.output;
  }
  EXPECT_EQ(cli({"set", "image", "--help"}).exit_code, 0);
}

TEST_F(CliTest, GetWatchPrintsEveryChange) {
  startOperator();
  createRelease(kImage1);
  ASSERT_TRUE(waitStable(60s));
  auto watch = start({"get", name_, "--watch"}, "watch");
  ASSERT_TRUE(watch);
  ASSERT_TRUE(waitFor("first tree", [&] { return has(tailFile(watch->logPath(), 100), "stage     Stable"); }, 10s));
  setImage(kImage2);
  ASSERT_TRUE(waitStable(60s, "green"));
  ASSERT_TRUE(waitFor("the tree of the switch", [&] {
    const std::string out = tailFile(watch->logPath(), 100000);
    return has(out, "main     Host(`" + host_ + "`) -> green") &&
           (has(out, "stage     Switching") || has(out, "stage     Draining"));
  }, 10s)) << tailFile(watch->logPath(), 60);
  const std::string out = tailFile(watch->logPath(), 100000);
  EXPECT_TRUE(has(out, "stage     Deploying") || has(out, "stage     Verifying")) << out;
  EXPECT_TRUE(watch->running()) << "--watch exited";
  watch->stop();
}

// A database Service outside the colors (no selector) with a ready EndpointSlice
// written here, as tcp_route_test.cc does.
void createDatabase(kube::KubeClient& client, const std::string& ns, const std::string& name) {
  const json port = json::array({{{"name", "pg"}, {"port", 5432}, {"protocol", "TCP"}}});
  auto svc = client.create(core::gvrs::kServices, ns,
                           {{"apiVersion", "v1"}, {"kind", "Service"}, {"metadata", {{"name", name}, {"namespace", ns}}},
                            {"spec", {{"ports", port}}}});
  ASSERT_TRUE(svc) << svc.error().describe();
  auto slice = client.create(
      core::gvrs::kEndpointSlices, ns,
      {{"apiVersion", "discovery.k8s.io/v1"},
       {"kind", "EndpointSlice"},
       {"metadata",
        {{"name", name + "-manual"},
         {"namespace", ns},
         {"labels", {{"kubernetes.io/service-name", name}, {"endpointslice.kubernetes.io/managed-by", "bgo-tests"}}}}},
       {"addressType", "IPv4"},
       {"ports", port},
       {"endpoints", json::array({{{"addresses", json::array({"198.18.9.1"})}, {"conditions", {{"ready", true}}}}})}});
  ASSERT_TRUE(slice) << slice.error().describe();
}

TEST_F(CliTest, GetShowsTheDatabaseRouteAndTheHooks) {
  createDatabase(*client_, ns_, "db-blue");
  createDatabase(*client_, ns_, "db-green");
  startOperator();
  // The plane's Job controller and nodesim run the hook's command on this host.
  const json hook = {{"name", "migrate"},
                     {"timeoutSeconds", 60},
                     {"template", {{"spec", {{"containers", json::array({{{"name", "migrate"},
                                                                          {"command", {"sh", "-c", "sleep 4; exit 0"}}}})}}}}}};
  createRelease(kImage1, {{"routing", {{"tcp", {{"entryPoints", {"postgres"}},
                                                {"blue", {{"service", "db-blue"}, {"port", 5432}}},
                                                {"green", {{"service", "db-green"}, {"port", 5432}}}}}}},
                          {"hooks", {{"preSwitch", json::array({hook})}}}});
  // The first route waits for the preSwitch hook: get names it while it runs.
  ASSERT_TRUE(waitFor("the hook running", [&] {
    const json h = status().value("hooks", json::array());
    return !h.empty() && h[0].value("phase", "") == "Running";
  }, 30s));
  auto running = cli({"get", name_, "-o", "json"});
  ASSERT_EQ(running.exit_code, 0) << running.output;
  const json r = json::parse(running.output);
  EXPECT_EQ(r["hooks"]["running"].value("name", ""), "migrate") << running.output;
  EXPECT_EQ(r["hooks"]["runs"][0]["phase"], "Running") << running.output;

  ASSERT_TRUE(waitStable(60s, "blue"));
  auto js = cli({"get", name_, "-o", "json"});
  ASSERT_EQ(js.exit_code, 0) << js.output;
  const json s = json::parse(js.output);
  const json& tcp = s["routes"]["tcp"];
  EXPECT_EQ(tcp["ingressRouteTCP"], name_ + "-tcp") << js.output;
  EXPECT_EQ(tcp["color"], "blue") << js.output;
  EXPECT_EQ(tcp["backend"], "db-blue:5432") << js.output;
  EXPECT_EQ(tcp["mode"], "follow") << js.output;
  ASSERT_EQ(s["hooks"]["runs"].size(), 1u) << js.output;
  const json& run = s["hooks"]["runs"][0];
  EXPECT_EQ(run["name"], "migrate");
  EXPECT_EQ(run["kind"], "preSwitch");
  EXPECT_EQ(run["phase"], "Succeeded") << js.output;
  EXPECT_EQ(run["revision"], s["revision"]);
  EXPECT_EQ(run["current"], true);
  EXPECT_TRUE(s["hooks"]["running"].is_null()) << js.output;

  auto get = cli({"get", name_});
  EXPECT_EQ(get.exit_code, 0) << get.output;
  const std::string job = run["job"];
  for (const std::string& want : {std::string("database HostSNI(`*`) -> blue  db-blue:5432  IngressRouteTCP ") + name_ + "-tcp",
                                  std::string("follows the color of the main route"),
                                  std::string("hooks (newest first)"),
                                  "preSwitch  migrate    revision " + s["revision"].get<std::string>() + "  Succeeded  Job " + job}) {
    EXPECT_TRUE(has(get.output, want)) << "missing \"" << want << "\" in\n" << get.output;
  }
  EXPECT_FALSE(has(get.output, "waiting   on")) << get.output;
  EXPECT_FALSE(has(get.output, "\033[")) << "colours in piped output";
}

}  // namespace
}  // namespace bgo::itest
