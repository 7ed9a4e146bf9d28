// Hook Jobs on the real control plane: a preSwitch hook gates the switch, runs
// once, and its failure keeps traffic and names the container's message.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include "integration/operator/operator_fixture.h"
#include "operator/bluegreen/hooks.h"

namespace bgo::itest {
namespace {

using core::gvrs::kJobs;

json hookSpec(const std::string& script) {
  return json{{"preSwitch",
               json::array({{{"name", "migrate"},
                             {"timeoutSeconds", 60},
                             {"template", {{"spec", {{"containers", json::array({{{"name", "migrate"},
                                                                                   {"command", {"sh", "-c", script}}}})}}}}}}})}};
}

bool hasCondition(const json& job, const char* type) {
  for (const auto& c : job.value("status", json::object()).value("conditions", json::array())) {
    if (c.value("type", "") == type && c.value("status", "") == "True") return true;
  }
  return false;
}

class HookTest : public OperatorTest {
 protected:
  std::vector<json> jobs() { return listItems(kJobs); }

  // The plane's Job controller runs the Job's pod and nodesim its command
  // (docs/control-plane.md): the exit code decides Complete or Failed.
  void waitJobFinished(const std::string& name, bool ok) {
    ASSERT_TRUE(waitFor("Job " + name + (ok ? " Complete" : " Failed") +
                            " (the plane must run the Job controller: test/controlplane/start.sh)",
                        [&] { return hasCondition(get(kJobs, name), ok ? "Complete" : "Failed"); }, 60s));
  }

  json waitOneJob() {
    json out;
    EXPECT_TRUE(waitFor("a hook Job", [&] {
      auto js = jobs();
      if (js.size() == 1) out = js[0];
      return js.size() == 1;
    }, 30s));
    return out;
  }
};

TEST_F(HookTest, PreSwitchHookRunsOnceAndGatesTheSwitch) {
  startOperator();
  createRelease(kImage1);
  ASSERT_TRUE(waitStable(60s));
  setImage(kImage2, {{"hooks", hookSpec("sleep 2; exit 0")}});
  json job = waitOneJob();
  ASSERT_TRUE(job.is_object());
  const std::string rev = previewRevision();
  const std::string name = job["metadata"]["name"];
  EXPECT_EQ(name, bluegreen::hookJobName(name_, rev, api::HookKind::kPreSwitch, "migrate"));
  EXPECT_EQ(job["metadata"]["labels"].value("bluegreen.io/revision", ""), rev);
  EXPECT_EQ(job["metadata"]["ownerReferences"][0].value("kind", ""), "BlueGreenRelease");
  EXPECT_EQ(job["spec"].value("activeDeadlineSeconds", 0), 60);
  EXPECT_EQ(job["spec"].value("backoffLimit", -1), 0);
  const json& c = job["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c.value("image", ""), kImage2) << "no image: the revision's";
  bool has_url = false;
  for (const auto& e : c["env"]) {
    has_url = has_url || (e.value("name", "") == "BGO_PREVIEW_URL" &&
                          e.value("value", "") == "http://" + name_ + "-green." + ns_ + ".svc:80");
  }
  EXPECT_TRUE(has_url) << c["env"].dump();
  // While the hook runs (2 s) the route stays: read the route, then the Job.
  int checks = 0;
  for (;;) {
    const std::string route = routeService();
    const std::string st = stage();
    if (hasCondition(get(kJobs, name), "Complete")) break;
    EXPECT_EQ(route, name_ + "-blue") << "switched before the preSwitch hook finished";
    EXPECT_TRUE(st == "RunningHook" || st == "Verifying" || st == "Deploying") << "stage while the hook runs: " << st;
    ++checks;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_GT(checks, 0) << "the hook sleeps 2 s: the test must have seen it running";
  waitJobFinished(name, true);
  ASSERT_TRUE(waitFor("main route on green after the hook", [&] { return routeService() == name_ + "-green"; }, 20s));
  ASSERT_TRUE(waitStable(60s, "green"));
  EXPECT_EQ(jobs().size(), 1u) << "one Job per hook and revision";
  EXPECT_EQ(status()["hooks"][0].value("phase", ""), "Succeeded");
  EXPECT_EQ(conditionStatus("HooksSucceeded"), "True");
  EXPECT_EQ(releaseEvents("HookStarted").size(), 1u);
  EXPECT_EQ(releaseEvents("HookSucceeded").size(), 1u);
}

TEST_F(HookTest, ASigkilledOperatorRestartedWhileAHookRunsNeverRunsItTwice) {
  startOperator();
  createRelease(kImage1);
  ASSERT_TRUE(waitStable(60s));
  // The hook's process runs on this host (nodesim): it counts its own runs.
  const std::string runs = uniqueLogPath("hook-runs", ".txt");
  std::remove(runs.c_str());
  setImage(kImage2, {{"hooks", hookSpec("echo ran >> '" + runs + "'; sleep 3; exit 0")}});
  json job = waitOneJob();
  ASSERT_TRUE(job.is_object());
  const std::string name = job["metadata"]["name"];
  const std::string uid = job["metadata"]["uid"];
  EXPECT_EQ(stopOperator(SIGKILL), 128 + SIGKILL);
  startOperator();
  waitJobFinished(name, true);
  ASSERT_TRUE(waitStable(60s, "green"));
  const auto all = jobs();
  ASSERT_EQ(all.size(), 1u) << "one Job per hook and revision across the kill";
  EXPECT_EQ(all[0]["metadata"].value("uid", ""), uid) << "the Job was read after the restart, not created again";
  EXPECT_EQ(all[0]["status"].value("succeeded", 0), 1);
  EXPECT_EQ(all[0]["status"].value("failed", 0), 0);
  EXPECT_EQ(status()["hooks"][0].value("phase", ""), "Succeeded");
  std::ifstream in(runs);
  int lines = 0;
  for (std::string line; std::getline(in, line);) lines += line == "ran";
  EXPECT_EQ(lines, 1) << "the hook's process ran " << lines << " times (" << runs << ")";
}

TEST_F(HookTest, FailingPreSwitchHookFailsTheReleaseWithTheContainersMessage) {
  startOperator();
  createRelease(kImage1);
  ASSERT_TRUE(waitStable(60s));
  setImage(kImage2, {{"hooks", hookSpec("echo boom >&2; exit 1")}});
  json job = waitOneJob();
  ASSERT_TRUE(job.is_object());
  const std::string name = job["metadata"]["name"];
  waitJobFinished(name, false);
  ASSERT_TRUE(waitForStage("Failed", 30s));
  EXPECT_EQ(condition("Stalled").value("reason", ""), "HookFailed");
  const std::string msg = status().value("message", "");
  EXPECT_NE(msg.find("preSwitch hook migrate"), std::string::npos) << msg;
  EXPECT_NE(msg.find(name), std::string::npos) << msg;
  EXPECT_NE(msg.find("boom"), std::string::npos) << msg;
  EXPECT_EQ(routeService(), name_ + "-blue");
  EXPECT_TRUE(holdsFor([&] { return routeService() == name_ + "-blue" && stage() == "Failed"; }, 3s));
  EXPECT_EQ(deploymentState(deployment("green")).spec_replicas, intAt(release(), "/spec/replicas"))
      << "the preview is kept for inspection";
  EXPECT_EQ(jobs().size(), 1u);
  EXPECT_EQ(releaseEvents("HookFailed").size(), 1u);
}

TEST_F(HookTest, AHookPastItsTimeoutIsStoppedAndFailsTheRelease) {
  startOperator();
  createRelease(kImage1);
  ASSERT_TRUE(waitStable(60s));
  json hooks = hookSpec("exec sleep 300");
  hooks["preSwitch"][0]["timeoutSeconds"] = 3;
  setImage(kImage2, {{"hooks", hooks}});
  json job = waitOneJob();
  ASSERT_TRUE(job.is_object());
  const std::string name = job["metadata"]["name"];
  EXPECT_EQ(job["spec"].value("activeDeadlineSeconds", 0), 3);
  waitJobFinished(name, false);
  ASSERT_TRUE(waitForStage("Failed", 30s));
  EXPECT_EQ(condition("Stalled").value("reason", ""), "HookFailed");
  const std::string msg = status().value("message", "");
  EXPECT_NE(msg.find("DeadlineExceeded"), std::string::npos) << msg;
  EXPECT_NE(msg.find(name), std::string::npos) << msg;
  EXPECT_EQ(routeService(), name_ + "-blue");
}

TEST_F(HookTest, PostSwitchFailureSwitchesBackAtOnceThenRunsTheDownStepOfTheRevisionLeft) {
  startOperator();
  createRelease(kImage1);
  ASSERT_TRUE(waitStable(60s));
  auto hook = [](const char* name, const char* script) {
    return json{{"name", name},
                {"timeoutSeconds", 60},
                {"template", {{"spec", {{"containers", json::array({{{"name", name}, {"command", {"sh", "-c", script}}}})}}}}}};
  };
  setImage(kImage2, {{"hooks", {{"postSwitch", json::array({hook("check", "echo no >&2; exit 1")})},
                                {"onRollback", json::array({hook("down", "exit 0")})}}}});
  ASSERT_TRUE(waitFor("main route on green", [&] { return routeService() == name_ + "-green"; }, 60s));
  // Green's revision, not history[0]'s: the check may have failed and the switch back already happened.
  const std::string rev2 = status()["colors"]["green"].value("revision", "");
  ASSERT_FALSE(rev2.empty());
  const std::string check = bluegreen::hookJobName(name_, rev2, api::HookKind::kPostSwitch, "check");
  const std::string down = bluegreen::hookJobName(name_, rev2, api::HookKind::kOnRollback, "down");
  ASSERT_TRUE(waitFor("the postSwitch Job", [&] { return get(kJobs, check).is_object(); }, 30s));
  EXPECT_EQ(deploymentState(deployment("blue")).spec_replicas, intAt(release(), "/spec/replicas"))
      << "the old color stays at full size";

  waitJobFinished(check, false);
  const auto failed_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(waitFor("main route back on blue", [&] { return routeService() == name_ + "-blue"; }, 10s, 20ms));
  const auto back_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - failed_at).count();
  std::cout << "[ figure ] postSwitch failure seen -> main route back on blue: " << back_ms << " ms\n";
  // Status follows the route write in the same reconcile.
  EXPECT_TRUE(waitFor("the switch back recorded",
                      [&] { return status()["history"][0].value("reason", "") == "HookRollback"; }, 5s));

  ASSERT_TRUE(waitFor("the onRollback Job", [&] { return get(kJobs, down).is_object(); }, 30s));
  const json d = get(kJobs, down);
  EXPECT_EQ(d["spec"]["template"]["spec"]["containers"][0].value("image", ""), kImage2)
      << "the down step runs the image of the revision left";
  waitJobFinished(down, true);
  ASSERT_TRUE(waitFor("the onRollback run recorded", [&] {
    for (const auto& h : status().value("hooks", json::array())) {
      if (h.value("job", "") == down && h.value("phase", "") == "Succeeded") return true;
    }
    return false;
  }, 30s));
  EXPECT_EQ(stage(), "Failed");
  EXPECT_EQ(condition("Stalled").value("reason", ""), "HookFailed");
  EXPECT_TRUE(holdsFor([&] { return routeService() == name_ + "-blue"; }, 3s))
      << "a revision whose postSwitch failed is not switched to again";
  EXPECT_EQ(jobs().size(), 2u);
}

}  // namespace
}  // namespace bgo::itest
