// The operator killed mid-release, and a settled release that costs nothing.
#include <csignal>
#include <iostream>
#include <map>

#include "integration/operator/operator_fixture.h"

namespace bgo::itest {
namespace {

using core::gvrs::kBlueGreenReleases;
using core::gvrs::kDeployments;
using core::gvrs::kIngressRoutes;
using core::gvrs::kServices;

class OperatorResilienceTest : public OperatorTest {
 protected:
  void expectSettledQuiet();
  // kind/name -> resourceVersion of every object the operator may write.
  std::map<std::string, std::string> snapshot() {
    std::map<std::string, std::string> out;
    for (const auto* gvr : {&kBlueGreenReleases, &kDeployments, &kServices, &kIngressRoutes}) {
      for (const auto& o : listItems(*gvr)) {
        out[gvr->resource + "/" + strAt(o, "/metadata/name")] = strAt(o, "/metadata/resourceVersion");
      }
    }
    return out;
  }
  // Who last wrote what, for a failure message.
  std::string writers(const std::map<std::string, std::string>& a, const std::map<std::string, std::string>& b) {
    std::string out;
    for (const auto& [key, rv] : b) {
      auto it = a.find(key);
      if (it != a.end() && it->second == rv) continue;
      out += "\n  " + key + " " + (it == a.end() ? "(new)" : it->second) + " -> " + rv + " managers:";
      const auto slash = key.find('/');
      const std::string resource = key.substr(0, slash);
      for (const auto* gvr : {&kBlueGreenReleases, &kDeployments, &kServices, &kIngressRoutes}) {
        if (gvr->resource != resource) continue;
        json o = get(*gvr, key.substr(slash + 1));
        for (const auto& mf : o["metadata"].value("managedFields", json::array())) {
          out += " " + mf.value("manager", "") + "(" + mf.value("operation", "") + " " +
                 mf.value("subresource", "") + " " + mf.value("time", "") + ")";
        }
      }
    }
    return out;
  }
};

TEST_F(OperatorResilienceTest, KilledMidReleaseContinuesToTheSameEndState) {
  constexpr int kDelay = 5;
  startOperator();
  createRelease(kImage1, {{"promotion", {{"readyForSeconds", 4}, {"progressDeadlineSeconds", 60}}},
                          {"scaleDown", {{"delaySeconds", kDelay}}}});
  ASSERT_TRUE(waitStable(60s));

  setImage(kImage2);
  ASSERT_TRUE(waitForStage("Verifying", 30s));
  const std::string rev2 = previewRevision();
  EXPECT_EQ(stopOperator(SIGKILL), 128 + SIGKILL);
  EXPECT_EQ(routeService(), name_ + "-blue");

  // A new process picks the release up from what the cluster holds.
  startOperator();
  ASSERT_TRUE(waitFor("main route on green", [&] { return routeService() == name_ + "-green"; }, 30s, 50ms));
  const auto switched_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(waitForStage("Draining", 10s));
  // And once more while blue is kept warm: the scale-down must still wait for the delay.
  EXPECT_EQ(stopOperator(SIGKILL), 128 + SIGKILL);
  EXPECT_EQ(deploymentState(deployment("blue")).spec_replicas, 3);
  startOperator();
  ASSERT_TRUE(waitFor("blue at standby", [&] { return deploymentState(deployment("blue")).spec_replicas == 0; },
                      30s, 50ms));
  EXPECT_GE(secondsSince(switched_at), kDelay - 0.5) << "blue scaled down before the delay";
  ASSERT_TRUE(waitStable(30s));

  const json st = status();
  EXPECT_EQ(st.value("activeColor", ""), "green");
  EXPECT_EQ(st.value("activeRevision", ""), rev2);
  int switches_to_rev2 = 0;
  for (const auto& h : st.value("history", json::array())) {
    if (h.value("revision", "") == rev2) ++switches_to_rev2;
  }
  EXPECT_EQ(switches_to_rev2, 1) << "history: " << st["history"].dump();
  EXPECT_EQ(st["history"][0].value("reason", ""), "Promoted");
  int switched_events = 0;
  for (const auto& e : releaseEvents("Switched")) {
    if (e.value("message", "").find("to green") != std::string::npos) ++switched_events;
  }
  EXPECT_EQ(switched_events, 1) << "one switch, one event, across restarts";
  EXPECT_EQ(releaseEvents("ScaledDown").size(), 1u);
}

// Settles the release, then pokes it and waits past a resync: not one write.
void OperatorResilienceTest::expectSettledQuiet() {
  ASSERT_TRUE(waitStable(60s));
  // Let the other controllers finish (Deployment status, ReplicaSets, EndpointSlices).
  auto settled = snapshot();
  ASSERT_TRUE(waitFor("a quiet namespace", [&] {
    auto now = snapshot();
    const bool same = now == settled;
    settled = std::move(now);
    return same;
  }, 30s, 1000ms));

  // Events that reach the operator but change nothing it owns: an annotation on
  // the release, and a foreign annotation on one of its Services.
  const double writes_before = operatorWrites();
  const double reconciles_before = operatorReconciles();
  annotateRelease("example.test/poke", "1");
  mergePatch(kServices, name_ + "-blue", {{"metadata", {{"annotations", {{"example.test/note", "foreign"}}}}}});
  const auto before = snapshot();
  const std::size_t events_before = countNamespaceEvents();

  // Longer than the resync period: not one write, not one Event.
  std::map<std::string, std::string> last = before;
  const bool quiet = holdsFor([&] {
    last = snapshot();
    return last == before && countNamespaceEvents() == events_before;
  }, 12s, 500ms);
  EXPECT_TRUE(quiet) << "the settled release was written to:" << writers(before, last)
                     << "\nevents " << events_before << " -> " << countNamespaceEvents();
  EXPECT_EQ(strAt(service("blue"), "/metadata/annotations/example.test~1note"), "foreign")
      << "a foreign annotation on an owned object was removed";
  EXPECT_EQ(stage(), "Stable");
  // Counted at the source: the operator's own request and reconcile counters.
  const double writes = operatorWrites() - writes_before;
  const double reconciles = operatorReconciles() - reconciles_before;
  EXPECT_EQ(writes, 0) << "write requests sent by the operator while settled";
  EXPECT_GE(reconciles, 2) << "the pokes and the resync should each have reconciled the release";
  std::cout << "[ figures  ] settled window: " << reconciles << " reconciles, " << writes
            << " write requests, 0 resourceVersion changes, 0 Events\n";
}

TEST_F(OperatorResilienceTest, SettledReleaseMakesZeroWritesAcrossEventsAndResync) {
  startOperator({"--resync-period", "10"});
  createRelease(kImage1);
  expectSettledQuiet();
  if (HasFatalFailure()) return;
  const double writes_before = operatorWrites();

  // The operator was alive all along: drift on an owned object is put back.
  mergePatch(kDeployments, name_ + "-green", {{"spec", {{"replicas", 2}}}});
  EXPECT_TRUE(waitFor("green back at standby",
                      [&] { return deploymentState(deployment("green")).spec_replicas == 0; }, 15s));
  EXPECT_GE(operatorWrites() - writes_before, 1) << "the write counter did not count the correction";
}

// A template as people write it: quantities as numbers or in another unit, empty
// lists and maps. The API server stores the Deployment normalised ("500m", "1",
// no empty fields); the operator must still see it as up to date.
TEST_F(OperatorResilienceTest, TemplateTheServerNormalisesStaysSettled) {
  startOperator({"--resync-period", "10"});
  const json container{{"name", "app"},
                       {"image", kImage1},
                       {"args", json::array()},
                       {"env", json::array()},
                       {"ports", json::array({{{"name", "http"}, {"containerPort", 8080}}})},
                       {"resources",
                        {{"requests", {{"cpu", 0.5}, {"memory", 134217728}}},
                         {"limits", {{"cpu", "1000m"}, {"memory", "0.5Gi"}, {"ephemeral-storage", "1e3"}}}}}};
  createRelease(kImage1, {{"template",
                           {{"metadata", {{"labels", {{"app", name_}}}, {"annotations", json::object()}}},
                            {"spec", {{"containers", json::array({container})}, {"volumes", json::array()}}}}}});
  expectSettledQuiet();
  if (HasFatalFailure()) return;
  const json live = deployment("blue");
  EXPECT_EQ(strAt(live, "/spec/template/spec/containers/0/resources/requests/cpu"), "500m")
      << "the server did not normalise: the test no longer tests what it says";
  EXPECT_EQ(strAt(live, "/spec/template/spec/containers/0/resources/limits/cpu"), "1");

  // A real change to a quantity is still applied.
  json bigger = container;
  bigger["resources"]["limits"]["cpu"] = "1500m";
  mergePatch(kBlueGreenReleases, name_, {{"spec", {{"template", {{"spec", {{"containers", json::array({bigger})}}}}}}}});
  EXPECT_TRUE(waitFor("green runs the new limit", [&] {
    return strAt(deployment("green"), "/spec/template/spec/containers/0/resources/limits/cpu") == "1500m";
  }, 30s));
}

TEST_F(OperatorResilienceTest, ResyncNoticesWhatNoWatchReports) {
  // A foreign Service blocks the release. The operator watches only its own
  // (labelled) Services, so the removal of this one reaches it only through the
  // periodic resync.
  constexpr int kResync = 10;
  const json foreign{{"apiVersion", "v1"},
                     {"kind", "Service"},
                     {"metadata", {{"name", name_ + "-green"}, {"namespace", ns_}}},
                     {"spec", {{"selector", {{"app", "legacy"}}}, {"ports", json::array({{{"port", 8080}}})}}}};
  auto created = client_->create(kServices, ns_, foreign);
  ASSERT_TRUE(created) << created.error().describe();
  startOperator({"--resync-period", std::to_string(kResync)});
  createRelease(kImage1);
  ASSERT_TRUE(waitFor("NameConflict", [&] { return condition("Stalled").value("reason", "") == "NameConflict"; },
                      30s));

  ASSERT_TRUE(client_->remove(kServices, ns_, name_ + "-green"));
  const auto removed_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(waitStable(std::chrono::seconds(kResync + 20)));
  const double took = secondsSince(removed_at);
  EXPECT_LE(took, kResync + 8.0) << "the release moved on later than one resync period";
  std::cout << "[ figures  ] stable " << took << " s after the foreign Service was removed (resync "
            << kResync << " s)\n";
}

}  // namespace
}  // namespace bgo::itest
