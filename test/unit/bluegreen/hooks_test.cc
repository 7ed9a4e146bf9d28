// Hooks: Job names and manifests, and the planner's decisions around them
// (docs/database.md): preSwitch gates the switch, postSwitch failure switches
// back, onRollback runs the down step of the revision being left.
#include <gtest/gtest.h>

#include <set>

#include "operator/api/v1alpha1/revision.h"
#include "operator/bluegreen/hooks.h"
#include "unit/bluegreen/world.h"

namespace bgo::bluegreen {
namespace {

using api::HookKind;
using testworld::podTemplate;
using testworld::releaseObject;
using testworld::World;
using namespace std::chrono_literals;

const std::string kR1 = api::revisionOf(podTemplate("shop:1.0"));
const std::string kR2 = api::revisionOf(podTemplate("shop:2.0"));
const std::string kR3 = api::revisionOf(podTemplate("shop:3.0"));

json hook(const std::string& name, json extra = json::object()) {
  json h{{"name", name},
         {"template", {{"spec", {{"containers", json::array({{{"name", name}, {"command", {"sh", "-c", "exit 0"}}}})}}}}},
         {"timeoutSeconds", 60}};
  h.merge_patch(extra);
  return h;
}

bool hasAction(const Plan& p, Action::Kind kind, const std::string& name) {
  for (const auto& a : p.actions) {
    if (a.kind == kind && a.name == name) return true;
  }
  return false;
}
int creates(const Plan& p) {
  int n = 0;
  for (const auto& a : p.actions) n += a.kind == Action::Kind::kCreate;
  return n;
}
int countEvents(const Plan& p, const std::string& reason) {
  int n = 0;
  for (const auto& e : p.events) n += e.reason == reason;
  return n;
}
std::string conditionReason(World& w, const std::string& type) {
  for (const auto& c : w.release()["status"].value("conditions", json::array())) {
    if (c["type"] == type) return c["reason"];
  }
  return "";
}
std::string message(World& w) { return w.release()["status"].value("message", ""); }
std::string envOf(const json& job, const std::string& name) {
  for (const auto& e : job["spec"]["template"]["spec"]["containers"][0]["env"]) {
    if (e["name"] == name) return e["value"];
  }
  return "<unset>";
}
std::string job(HookKind kind, const std::string& hook_name, const std::string& revision, int attempt = 0) {
  return hookJobName("shop", revision, kind, hook_name, attempt);
}

// Stable on blue (shop:1.0, no hooks), then the spec gets `hooks`: the next
// revision is released with them.
World stableThenHooks(json hooks, json spec_extra = json::object()) {
  World w(releaseObject("shop:1.0", spec_extra));
  w.settle();
  EXPECT_EQ(w.stage(), "Stable");
  w.release()["spec"]["hooks"] = std::move(hooks);
  return w;
}
// shop:2.0 into green, ready and past readyForSeconds: the next step may switch.
void greenPromotable(World& w) {
  w.setImage("shop:2.0");
  w.step();
  w.converge();
  w.step();
  w.advance(10s);
}

TEST(HookJobNameTest, IsStableShortAndApartForReleasesSharingAPrefix) {
  const std::string a = hookJobName("a", kR1, HookKind::kPreSwitch, "b-c");
  EXPECT_EQ(a, hookJobName("a", kR1, HookKind::kPreSwitch, "b-c"));
  EXPECT_NE(a, hookJobName("a-b", kR1, HookKind::kPreSwitch, "c")) << "same <release>-<hook> text";
  EXPECT_NE(a, hookJobName("a", kR2, HookKind::kPreSwitch, "b-c"));
  EXPECT_NE(a, hookJobName("a", kR1, HookKind::kOnRollback, "b-c"));
  EXPECT_NE(a, hookJobName("a", kR1, HookKind::kPreSwitch, "b-c", 1));
  const std::string release(57, 'r'), hook_name(40, 'h');
  const std::string l1 = hookJobName(release, kR1, HookKind::kPreSwitch, hook_name);
  const std::string l2 = hookJobName(release, kR1, HookKind::kPreSwitch, hook_name.substr(0, 39) + "x");
  EXPECT_LE(l1.size(), 63u);
  EXPECT_NE(l1, l2) << "names that differ only past the truncation stay apart";
  EXPECT_NE(l1.find(kR1), std::string::npos) << "the revision is readable in the name";
  EXPECT_NE(l1.back(), '-');
}

TEST(HookJobTest, InjectsEnvDefaultsImageAndBoundsTheRun) {
  auto parsed = api::parseRelease(releaseObject("shop:2.0")).value();
  api::Hook h;
  h.name = "migrate";
  h.template_ = {{"spec", {{"containers", json::array({{{"name", "m"}, {"env", json::array({{{"name", "BGO_REVISION"}, {"value", "forged"}}, {{"name", "DSN"}, {"value", "pg"}}})}},
                                                        {{"name", "side"}, {"image", "tools:1"}}})}}}};
  h.timeout_seconds = 42;
  h.backoff_limit = 2;
  const json j = desiredJob(parsed.release, HookKind::kPreSwitch, h,
                            HookContext{api::Color::kGreen, kR2, kR1, "shop:2.0"}, "shop-migrate-x");
  EXPECT_EQ(j["spec"]["activeDeadlineSeconds"], 42);
  EXPECT_EQ(j["spec"]["backoffLimit"], 2);
  EXPECT_EQ(j["spec"]["template"]["spec"]["restartPolicy"], "Never");
  const json& c = j["spec"]["template"]["spec"]["containers"];
  EXPECT_EQ(c[0]["image"], "shop:2.0") << "no image: the revision's";
  EXPECT_EQ(c[1]["image"], "tools:1") << "an image given is kept";
  EXPECT_EQ(envOf(j, "BGO_RELEASE"), "shop");
  EXPECT_EQ(envOf(j, "BGO_NAMESPACE"), "prod");
  EXPECT_EQ(envOf(j, "BGO_HOOK"), "migrate");
  EXPECT_EQ(envOf(j, "BGO_HOOK_KIND"), "preSwitch");
  EXPECT_EQ(envOf(j, "BGO_REVISION"), kR2) << "the operator's value wins over a user's of that name";
  EXPECT_EQ(envOf(j, "BGO_PREVIOUS_REVISION"), kR1);
  EXPECT_EQ(envOf(j, "BGO_COLOR"), "green");
  EXPECT_EQ(envOf(j, "BGO_PREVIEW_URL"), "http://shop-green.prod.svc:80");
  EXPECT_EQ(envOf(j, "DSN"), "pg");
  EXPECT_EQ(c[1]["env"].size(), 8u) << "every container gets the variables";
  EXPECT_EQ(j["metadata"]["ownerReferences"][0]["uid"], "uid-1");
  EXPECT_EQ(j["metadata"]["labels"]["bluegreen.io/release"], "shop");
  EXPECT_EQ(j["metadata"]["labels"]["bluegreen.io/revision"], kR2);
  EXPECT_EQ(j["metadata"]["labels"]["bluegreen.io/hook"], "migrate");
  EXPECT_EQ(j["metadata"]["labels"]["app.kubernetes.io/managed-by"], "bluegreen-operator");
}

TEST(HookValidationTest, NamesTheFieldOfEachMistake) {
  json bad{{"preSwitch", json::array({hook("m", {{"timeoutSeconds", 0}}), hook("m")})},
           {"postSwitch", json::array({hook("p", {{"irreversible", true}}),
                                       {{"name", "empty"}, {"template", {{"spec", {{"containers", json::array()}}}}}}})}};
  json obj = releaseObject("shop:1.0", json{{"hooks", bad}});
  auto parsed = api::parseRelease(obj).value();
  const std::string all = parsed.errorSummary();
  EXPECT_NE(all.find("spec.hooks.preSwitch[0].timeoutSeconds: must be > 0"), std::string::npos) << all;
  EXPECT_NE(all.find("spec.hooks.preSwitch[1].name: \"m\" is used by another hook"), std::string::npos) << all;
  EXPECT_NE(all.find("spec.hooks.postSwitch[0].irreversible"), std::string::npos) << all;
  EXPECT_NE(all.find("spec.hooks.postSwitch[1].template.spec.containers: must list at least one container"),
            std::string::npos) << all;
  World w(obj);
  w.step();
  EXPECT_EQ(conditionReason(w, "Stalled"), "InvalidSpec");
  EXPECT_TRUE(w.objects().empty()) << "nothing deployed for an invalid spec";
}

TEST(HookPlanTest, PreSwitchHooksRunInOrderAndGateTheSwitch) {
  World w = stableThenHooks({{"preSwitch", json::array({hook("migrate"), hook("smoke")})}});
  greenPromotable(w);
  const std::string jm = job(HookKind::kPreSwitch, "migrate", kR2), js = job(HookKind::kPreSwitch, "smoke", kR2);
  Plan p = w.step();
  EXPECT_FALSE(p.switched);
  EXPECT_TRUE(hasAction(p, Action::Kind::kCreate, jm));
  EXPECT_FALSE(hasAction(p, Action::Kind::kCreate, js)) << "in order: smoke waits for migrate";
  EXPECT_EQ(countEvents(p, "HookStarted"), 1);
  EXPECT_EQ(w.stage(), "RunningHook");
  EXPECT_EQ(w.condition("HooksSucceeded"), "False");
  EXPECT_EQ(w.mainRouteService(), "shop-blue");
  const json& created = w.objects().at("Job/" + jm);
  EXPECT_EQ(created["spec"]["template"]["spec"]["containers"][0]["image"], "shop:2.0");
  EXPECT_EQ(envOf(created, "BGO_COLOR"), "green");
  EXPECT_EQ(envOf(created, "BGO_PREVIOUS_REVISION"), kR1);
  EXPECT_EQ(w.release()["status"]["hooks"][0]["phase"], "Running");
  EXPECT_EQ(w.release()["status"]["hooks"][0]["job"], jm);

  w.advance(5s);
  p = w.step();
  EXPECT_EQ(creates(p), 0) << "a running Job is waited for, never created again";
  EXPECT_EQ(w.mainRouteService(), "shop-blue");

  w.finishJob(jm, true);
  p = w.step();
  EXPECT_EQ(countEvents(p, "HookSucceeded"), 1);
  EXPECT_TRUE(hasAction(p, Action::Kind::kCreate, js));
  EXPECT_FALSE(p.switched);
  w.finishJob(js, true);
  p = w.step();
  EXPECT_TRUE(p.switched);
  EXPECT_EQ(w.mainRouteService(), "shop-green");
  EXPECT_EQ(w.creates["Job/" + jm], 1);
  EXPECT_EQ(w.creates["Job/" + js], 1);
  w.settle();
  EXPECT_EQ(w.stage(), "Stable");
  EXPECT_EQ(w.condition("HooksSucceeded"), "True");
  int before = w.writes;
  p = w.step();
  EXPECT_EQ(w.writes, before) << "settled with hooks: zero writes";
}

TEST(HookPlanTest, PreSwitchFailureFailsTheReleaseAndLeavesTrafficAndPreview) {
  World w = stableThenHooks({{"preSwitch", json::array({hook("migrate"), hook("smoke")})}});
  greenPromotable(w);
  const std::string jm = job(HookKind::kPreSwitch, "migrate", kR2);
  w.step();
  w.finishJob(jm, false, "BackoffLimitExceeded", "container migrate exited 1 (Error): boom");
  Plan p = w.step();
  EXPECT_FALSE(p.switched);
  EXPECT_EQ(w.stage(), "Failed");
  EXPECT_EQ(w.condition("Stalled"), "True");
  EXPECT_EQ(conditionReason(w, "Stalled"), "HookFailed");
  EXPECT_EQ(w.condition("HooksSucceeded"), "False");
  EXPECT_NE(message(w).find("preSwitch hook migrate"), std::string::npos) << message(w);
  EXPECT_NE(message(w).find(jm), std::string::npos) << message(w);
  EXPECT_NE(message(w).find("boom"), std::string::npos) << message(w);
  EXPECT_EQ(countEvents(p, "HookFailed"), 1);
  EXPECT_EQ(w.mainRouteService(), "shop-blue");
  EXPECT_EQ(w.replicasOf("shop-green"), 3) << "the preview is kept for inspection";
  EXPECT_FALSE(hasAction(p, Action::Kind::kCreate, job(HookKind::kPreSwitch, "smoke", kR2)));

  w.advance(700s);  // past the progress deadline: still the hook's failure
  p = w.step();
  EXPECT_EQ(creates(p), 0);
  EXPECT_EQ(countEvents(p, "HookFailed"), 0) << "one Event per failure";
  EXPECT_NE(message(w).find("boom"), std::string::npos) << message(w);
  EXPECT_EQ(w.mainRouteService(), "shop-blue");
}

TEST(HookPlanTest, TimedOutHookFailsTheSameWay) {
  World w = stableThenHooks({{"preSwitch", json::array({hook("migrate")})}});
  greenPromotable(w);
  const std::string jm = job(HookKind::kPreSwitch, "migrate", kR2);
  w.step();
  EXPECT_EQ(w.objects().at("Job/" + jm)["spec"]["activeDeadlineSeconds"], 60);
  w.finishJob(jm, false, "DeadlineExceeded");
  w.step();
  EXPECT_EQ(conditionReason(w, "Stalled"), "HookFailed");
  EXPECT_NE(message(w).find("DeadlineExceeded"), std::string::npos) << message(w);
  EXPECT_EQ(w.mainRouteService(), "shop-blue");
}

TEST(HookPlanTest, PromoteRequestRetriesAFailedHookOnceUnderANewJob) {
  World w = stableThenHooks({{"preSwitch", json::array({hook("migrate")})}});
  greenPromotable(w);
  const std::string j0 = job(HookKind::kPreSwitch, "migrate", kR2), j1 = job(HookKind::kPreSwitch, "migrate", kR2, 1);
  w.step();
  w.finishJob(j0, false);
  w.step();
  ASSERT_EQ(w.stage(), "Failed");
  w.annotate("bluegreen.io/promote", kR2);
  Plan p = w.step();
  EXPECT_TRUE(hasAction(p, Action::Kind::kCreate, j1));
  EXPECT_EQ(w.stage(), "RunningHook");
  w.finishJob(j1, true);
  p = w.step();
  EXPECT_TRUE(p.switched);
  EXPECT_EQ(w.creates["Job/" + j0], 1);
}

TEST(HookPlanTest, AJobThatExistsIsReadNeverCreatedAgainEvenWhenStatusWasLost) {
  World w = stableThenHooks({{"preSwitch", json::array({hook("migrate")})}});
  greenPromotable(w);
  const std::string jm = job(HookKind::kPreSwitch, "migrate", kR2);
  w.step();
  w.release()["status"].erase("hooks");  // the status write after the create was lost
  Plan p = w.step();
  EXPECT_EQ(creates(p), 0);
  EXPECT_EQ(w.release()["status"]["hooks"][0]["job"], jm);
  w.finishJob(jm, true);
  p = w.step();
  EXPECT_TRUE(p.switched);
  EXPECT_EQ(creates(p), 0);
  EXPECT_EQ(w.creates["Job/" + jm], 1);
}

TEST(HookPlanTest, AFinishedJobDeletedBySomeoneIsNotRunAgain) {
  World w = stableThenHooks({{"preSwitch", json::array({hook("migrate"), hook("smoke")})}});
  greenPromotable(w);
  const std::string jm = job(HookKind::kPreSwitch, "migrate", kR2), js = job(HookKind::kPreSwitch, "smoke", kR2);
  w.step();
  w.finishJob(jm, true);
  w.step();  // records migrate Succeeded, starts smoke
  w.objects().erase("Job/" + jm);
  Plan p = w.step();
  EXPECT_FALSE(hasAction(p, Action::Kind::kCreate, jm)) << "status recorded it finished: never run again";
  w.finishJob(js, true);
  p = w.step();
  EXPECT_TRUE(p.switched);
  EXPECT_EQ(w.creates["Job/" + jm], 1);
}

TEST(HookPlanTest, InitialReleaseRunsPreSwitchBeforeTheFirstRoute) {
  World w(releaseObject("shop:1.0", json{{"hooks", {{"preSwitch", json::array({hook("migrate")})}}}}));
  w.step();
  w.converge();
  w.step();
  w.advance(10s);
  Plan p = w.step();
  const std::string jm = job(HookKind::kPreSwitch, "migrate", kR1);
  EXPECT_TRUE(hasAction(p, Action::Kind::kCreate, jm));
  EXPECT_EQ(w.mainRouteService(), "");
  EXPECT_EQ(envOf(w.objects().at("Job/" + jm), "BGO_PREVIOUS_REVISION"), "");
  w.finishJob(jm, true);
  p = w.step();
  EXPECT_EQ(w.mainRouteService(), "shop-blue");
}

TEST(HookPlanTest, PostSwitchHoldsTheOldColorAtFullSizeUntilItSucceeded) {
  World w = stableThenHooks({{"postSwitch", json::array({hook("check")})}},
                            json{{"scaleDown", {{"delaySeconds", 5}}}});
  greenPromotable(w);
  ASSERT_TRUE(w.step().switched);
  const std::string jc = job(HookKind::kPostSwitch, "check", kR2);
  Plan p = w.step();  // Traefik confirmed (margin 0): postSwitch starts
  EXPECT_TRUE(hasAction(p, Action::Kind::kCreate, jc));
  EXPECT_EQ(w.stage(), "RunningHook");
  EXPECT_EQ(envOf(w.objects().at("Job/" + jc), "BGO_COLOR"), "green");
  w.advance(60s);
  w.step();
  EXPECT_EQ(w.replicasOf("shop-blue"), 3) << "scaled down while postSwitch runs";
  w.finishJob(jc, true);
  w.step();
  EXPECT_EQ(w.replicasOf("shop-blue"), 0);
  EXPECT_EQ(w.mainRouteService(), "shop-green");
}

TEST(HookPlanTest, PostSwitchFailureSwitchesBackAtOnceThenRunsOnRollback) {
  World w = stableThenHooks({{"postSwitch", json::array({hook("check")})}, {"onRollback", json::array({hook("down")})}});
  greenPromotable(w);
  ASSERT_TRUE(w.step().switched);
  const std::string jc = job(HookKind::kPostSwitch, "check", kR2), jd = job(HookKind::kOnRollback, "down", kR2);
  w.step();
  w.finishJob(jc, false, "BackoffLimitExceeded", "container check exited 1 (Error): 502 from preview");
  Plan p = w.step();
  EXPECT_TRUE(p.switched) << "the switch back is in the reconcile that sees the failure";
  EXPECT_EQ(w.mainRouteService(), "shop-blue");
  EXPECT_EQ(w.release()["status"]["history"][0]["reason"], "HookRollback");
  EXPECT_EQ(w.release()["status"]["history"][0]["revision"], kR1);
  EXPECT_EQ(conditionReason(w, "Stalled"), "HookFailed");
  EXPECT_NE(message(w).find("502 from preview"), std::string::npos) << message(w);
  EXPECT_FALSE(hasAction(p, Action::Kind::kCreate, jd)) << "traffic moves first";

  p = w.step();
  ASSERT_TRUE(hasAction(p, Action::Kind::kCreate, jd));
  const json& down = w.objects().at("Job/" + jd);
  EXPECT_EQ(down["spec"]["template"]["spec"]["containers"][0]["image"], "shop:2.0") << "the image of the revision left";
  EXPECT_EQ(envOf(down, "BGO_REVISION"), kR2);
  EXPECT_EQ(envOf(down, "BGO_PREVIOUS_REVISION"), kR1);
  EXPECT_EQ(envOf(down, "BGO_HOOK_KIND"), "onRollback");
  w.finishJob(jd, true);
  for (int i = 0; i < 5; ++i) {
    w.advance(60s);
    p = w.step();
    EXPECT_FALSE(p.switched) << "a revision whose postSwitch failed is not switched to again";
  }
  EXPECT_EQ(w.stage(), "Failed");
  EXPECT_EQ(conditionReason(w, "Stalled"), "HookFailed");
  EXPECT_EQ(w.creates["Job/" + jd], 1);
}

TEST(HookPlanTest, RevertRunsOnRollbackOfTheRevisionLeftWithItsHooksAndImage) {
  World w = stableThenHooks({{"onRollback", json::array({hook("down")})}});
  greenPromotable(w);
  ASSERT_TRUE(w.step().switched);
  w.step();
  // The spec's hooks change with the revert; the revision left keeps its own.
  w.release()["spec"].erase("hooks");
  w.setImage("shop:1.0");
  Plan p = w.step();
  EXPECT_TRUE(p.switched);
  EXPECT_EQ(w.mainRouteService(), "shop-blue");
  EXPECT_EQ(creates(p), 0) << "traffic moves first";
  const std::string jd = job(HookKind::kOnRollback, "down", kR2);
  p = w.step();
  ASSERT_TRUE(hasAction(p, Action::Kind::kCreate, jd));
  EXPECT_EQ(w.stage(), "RunningHook");
  EXPECT_EQ(w.objects().at("Job/" + jd)["spec"]["template"]["spec"]["containers"][0]["image"], "shop:2.0");
  EXPECT_EQ(envOf(w.objects().at("Job/" + jd), "BGO_COLOR"), "green");
  w.finishJob(jd, true);
  w.settle();
  EXPECT_EQ(w.stage(), "Stable");
  EXPECT_EQ(w.creates["Job/" + jd], 1);
}

TEST(HookPlanTest, GoingForwardAgainAfterARollbackIsNoRollback) {
  World w = stableThenHooks({{"onRollback", json::array({hook("down")})}});
  greenPromotable(w);
  ASSERT_TRUE(w.step().switched);
  w.step();
  w.setImage("shop:1.0");  // back to 1.0: 2.0's down step runs
  ASSERT_TRUE(w.step().switched);
  w.step();
  w.finishJob(job(HookKind::kOnRollback, "down", kR2), true);
  w.step();
  w.converge();
  w.setImage("shop:2.0");  // forward again, green still warm
  w.converge();
  Plan p = w.step();
  for (int i = 0; i < 20 && !p.switched; ++i) {
    w.advance(1s);
    w.converge();
    p = w.step();
  }
  ASSERT_TRUE(p.switched);
  EXPECT_EQ(w.release()["status"]["history"][0]["reason"], "Promoted");
  w.step();
  EXPECT_EQ(w.creates.count("Job/" + job(HookKind::kOnRollback, "down", kR1)), 0u)
      << "1.0's down step must not run when traffic moves forward to 2.0";
}

TEST(HookPlanTest, FailedOnRollbackBlocksNewReleasesUntilAcknowledged) {
  World w = stableThenHooks({{"onRollback", json::array({hook("down")})}});
  greenPromotable(w);
  ASSERT_TRUE(w.step().switched);
  w.step();
  w.setImage("shop:1.0");
  w.step();
  w.step();
  const std::string jd = job(HookKind::kOnRollback, "down", kR2);
  w.finishJob(jd, false, "BackoffLimitExceeded", "container down exited 1 (Error): dirty database");
  Plan p = w.step();
  EXPECT_EQ(w.mainRouteService(), "shop-blue") << "traffic stays on the restored color";
  EXPECT_EQ(w.stage(), "Failed");
  EXPECT_EQ(conditionReason(w, "Stalled"), "HookFailed");
  EXPECT_NE(message(w).find(jd), std::string::npos) << message(w);
  EXPECT_NE(message(w).find("bluegreen.io/acknowledge-hook-failure=" + jd), std::string::npos) << message(w);

  w.setImage("shop:3.0");
  w.step();
  EXPECT_EQ(w.revisionOf("shop-green"), kR2) << "no new release while the database state is unknown";
  EXPECT_EQ(w.stage(), "Failed");
  w.annotate("bluegreen.io/acknowledge-hook-failure", jd);
  w.step();
  EXPECT_EQ(w.revisionOf("shop-green"), kR3);
}

TEST(HookPlanTest, IrreversibleHookRefusesRollbackUntilOverridden) {
  World w = stableThenHooks({{"preSwitch", json::array({hook("contract", {{"irreversible", true}})})}});
  greenPromotable(w);
  const std::string jc = job(HookKind::kPreSwitch, "contract", kR2);
  w.step();
  w.finishJob(jc, true);
  ASSERT_TRUE(w.step().switched);
  w.step();
  EXPECT_TRUE(w.release()["status"]["hooks"][0].value("irreversible", false));
  w.setImage("shop:1.0");
  Plan p = w.step();
  EXPECT_FALSE(p.switched);
  EXPECT_EQ(w.mainRouteService(), "shop-green");
  EXPECT_EQ(conditionReason(w, "Stalled"), "RollbackRefused");
  EXPECT_EQ(countEvents(p, "RollbackRefused"), 1);
  EXPECT_NE(message(w).find("bluegreen.io/allow-irreversible-rollback=" + kR2), std::string::npos) << message(w);
  p = w.step();
  EXPECT_EQ(countEvents(p, "RollbackRefused"), 0);
  w.converge();  // blue's Deployment took the spec's hooks annotation meanwhile
  w.annotate("bluegreen.io/allow-irreversible-rollback", kR2);
  p = w.step();
  EXPECT_TRUE(p.switched) << message(w);
  EXPECT_EQ(w.mainRouteService(), "shop-blue");
}

TEST(HookPlanTest, FinishedJobsOfOldRevisionsAreDeletedInTheBackground) {
  World w = stableThenHooks({{"preSwitch", json::array({hook("migrate")})}});
  auto oldJob = [&](const std::string& name, const std::string& revision, bool finished) {
    json j{{"apiVersion", "batch/v1"},
           {"kind", "Job"},
           {"metadata",
            {{"name", name},
             {"uid", "job-" + name},
             {"labels", {{"bluegreen.io/release", "shop"}, {"bluegreen.io/revision", revision}}},
             {"ownerReferences", json::array({{{"uid", "uid-1"}, {"controller", true}}})}}}};
    w.objects()["Job/" + name] = j;
    if (finished) w.finishJob(name, true);
  };
  oldJob("shop-migrate-old-done", "0000000001", true);
  oldJob("shop-migrate-old-running", "0000000002", false);
  oldJob("shop-migrate-live", kR1, true);
  Plan p = w.step();
  EXPECT_TRUE(hasAction(p, Action::Kind::kDelete, "shop-migrate-old-done"));
  EXPECT_FALSE(hasAction(p, Action::Kind::kDelete, "shop-migrate-old-running")) << "never a running hook";
  EXPECT_FALSE(hasAction(p, Action::Kind::kDelete, "shop-migrate-live")) << "the live revision's";
  ASSERT_EQ(w.deleted.size(), 1u);
  EXPECT_EQ(w.deleted[0], "Job/shop-migrate-old-done Background");
}

}  // namespace
}  // namespace bgo::bluegreen
