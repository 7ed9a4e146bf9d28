#include <gtest/gtest.h>

#include "operator/api/v1alpha1/codec.h"
#include "operator/api/v1alpha1/revision.h"
#include "unit/bluegreen/world.h"

namespace bgo::api {
namespace {

using bluegreen::testworld::podTemplate;
using bluegreen::testworld::releaseObject;

TEST(RevisionTest, IsStableAndIgnoresKeyOrder) {
  json a = json::parse(R"j({"spec":{"containers":[{"name":"a","image":"x:1"}]},"metadata":{}})j");
  json b = json::parse(R"j({"metadata":{},"spec":{"containers":[{"image":"x:1","name":"a"}]}})j");
  EXPECT_EQ(revisionOf(a), revisionOf(b));
  EXPECT_EQ(revisionOf(a).size(), 10u);
  EXPECT_NE(revisionOf(podTemplate("x:1")), revisionOf(podTemplate("x:2")));
  EXPECT_EQ(revisionOf(podTemplate("x:1")), revisionOf(podTemplate("x:1")));
}

TEST(CodecTest, FillsDefaultsForAMinimalRelease) {
  json obj = {{"metadata", {{"name", "shop"}, {"namespace", "prod"}}},
              {"spec", {{"template", podTemplate("shop:1")}, {"routing", {{"host", "shop.example.com"}}}}}};
  auto parsed = parseRelease(obj);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->errors.empty()) << parsed->errorSummary();
  const Spec& s = parsed->release.spec;
  EXPECT_EQ(s.replicas, 1);
  EXPECT_EQ(s.preview_host_blue, "blue.shop.example.com");
  EXPECT_EQ(s.preview_host_green, "green.shop.example.com");
  EXPECT_EQ(s.service_port, 80);
  EXPECT_EQ(s.service_target_port, 80);
  EXPECT_EQ(s.entry_points, std::vector<std::string>{"web"});
  EXPECT_TRUE(s.auto_promote);
  EXPECT_EQ(s.ready_for_seconds, 10);
  EXPECT_EQ(s.progress_deadline_seconds, 600);
  EXPECT_EQ(s.scale_down_delay_seconds, 30);
}

struct BadCase {
  const char* name;
  const char* patch;   // merge patch onto a valid spec
  const char* field;   // must appear in the error
};

class CodecBadSpecTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(CodecBadSpecTest, NamesTheField) {
  json obj = releaseObject("shop:1");
  obj["spec"].merge_patch(json::parse(GetParam().patch));
  auto parsed = parseRelease(obj);
  ASSERT_TRUE(parsed.ok());
  ASSERT_FALSE(parsed->errors.empty()) << GetParam().name;
  EXPECT_NE(parsed->errorSummary().find(GetParam().field), std::string::npos)
      << parsed->errorSummary();
}

INSTANTIATE_TEST_SUITE_P(
    Table, CodecBadSpecTest,
    ::testing::Values(
        BadCase{"negative_replicas", R"j({"replicas":-1})j", "spec.replicas"},
        BadCase{"replicas_string", R"j({"replicas":"3"})j", "spec.replicas"},
        BadCase{"no_containers", R"j({"template":{"spec":{"containers":[]}}})j",
                "spec.template.spec.containers"},
        BadCase{"no_image", R"j({"template":{"spec":{"containers":[{"name":"a"}]}}})j",
                "spec.template.spec.containers[0].image"},
        BadCase{"bad_host", R"j({"routing":{"host":"Shop_Example"}})j", "spec.routing.host"},
        BadCase{"both_routes",
                R"j({"routing":{"existingIngressRoute":{"name":"web","match":"Host(`a`)"}}})j",
                "spec.routing"},
        BadCase{"preview_equals_host",
                R"j({"routing":{"previewHosts":{"blue":"shop.example.com"}}})j",
                "spec.routing.previewHosts.blue"},
        BadCase{"preview_same", R"j({"routing":{"previewHosts":{"blue":"p.example.com","green":"p.example.com"}}})j",
                "spec.routing.previewHosts"},
        BadCase{"deadline_le_ready", R"j({"promotion":{"readyForSeconds":60,"progressDeadlineSeconds":60}})j",
                "spec.promotion.progressDeadlineSeconds"},
        BadCase{"standby_gt_replicas", R"j({"scaleDown":{"standbyReplicas":4}})j",
                "spec.scaleDown.standbyReplicas"},
        BadCase{"port_range", R"j({"service":{"port":70000}})j", "spec.service.port"},
        BadCase{"target_port_type", R"j({"service":{"targetPort":true}})j", "spec.service.targetPort"},
        BadCase{"promotion_not_object", R"j({"promotion":"yes"})j", "spec.promotion"},
        BadCase{"no_entrypoints", R"j({"routing":{"entryPoints":[]}})j", "spec.routing.entryPoints"},
        BadCase{"quantity_word",
                R"j({"template":{"spec":{"containers":[{"name":"a","image":"a:1","resources":{"limits":{"cpu":"two"}}}]}}})j",
                "spec.template.spec.containers[0].resources.limits.cpu"},
        BadCase{"quantity_init_bool",
                R"j({"template":{"spec":{"containers":[{"name":"a","image":"a:1"}],"initContainers":[{"name":"i","image":"i:1","resources":{"requests":{"memory":true}}}]}}})j",
                "spec.template.spec.initContainers[0].resources.requests.memory"},
        BadCase{"budget_both", R"j({"podDisruptionBudget":{"minAvailable":1,"maxUnavailable":1}})j",
                "spec.podDisruptionBudget: set exactly one of minAvailable and maxUnavailable"},
        BadCase{"budget_neither", R"j({"podDisruptionBudget":{}})j",
                "spec.podDisruptionBudget: set exactly one"},
        BadCase{"budget_not_object", R"j({"podDisruptionBudget":1})j", "spec.podDisruptionBudget"},
        BadCase{"budget_negative", R"j({"podDisruptionBudget":{"minAvailable":-1}})j",
                "spec.podDisruptionBudget.minAvailable: must be >= 0"},
        BadCase{"budget_percent_over", R"j({"podDisruptionBudget":{"maxUnavailable":"101%"}})j",
                "spec.podDisruptionBudget.maxUnavailable"},
        BadCase{"budget_word", R"j({"podDisruptionBudget":{"minAvailable":"half"}})j",
                "spec.podDisruptionBudget.minAvailable"},
        BadCase{"budget_bool", R"j({"podDisruptionBudget":{"maxUnavailable":true}})j",
                "spec.podDisruptionBudget.maxUnavailable"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(CodecTest, QuantitiesInAnySpellingAreValid) {
  json obj = releaseObject("shop:1");
  obj["spec"]["template"]["spec"]["containers"][0]["resources"] = {
      {"limits", {{"cpu", 1}, {"memory", "1Gi"}, {"ephemeral-storage", "1e9"}}},
      {"requests", {{"cpu", 0.25}, {"memory", "128974848"}}}};
  auto parsed = parseRelease(obj);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->errors.empty()) << parsed->errorSummary();
}

TEST(CodecTest, PodDisruptionBudgetTakesANumberOrAPercentage) {
  for (const char* budget : {R"j({"minAvailable":0})j", R"j({"minAvailable":"100%"})j",
                             R"j({"maxUnavailable":"0%"})j", R"j({"maxUnavailable":2})j",
                             R"j({"maxUnavailable":"50%"})j"}) {
    json obj = releaseObject("shop:1");
    obj["spec"]["podDisruptionBudget"] = json::parse(budget);
    auto parsed = parseRelease(obj);
    ASSERT_TRUE(parsed.ok());
    EXPECT_TRUE(parsed->errors.empty()) << budget << ": " << parsed->errorSummary();
    ASSERT_TRUE(parsed->release.spec.pod_disruption_budget.has_value()) << budget;
  }
  auto none = parseRelease(releaseObject("shop:1"));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->release.spec.pod_disruption_budget.has_value());
}

TEST(CodecTest, StatusRoundTrips) {
  Status s;
  s.observed_generation = 7;
  s.active_color = "blue";
  s.active_revision = "5d9c7f0000";
  s.stage = "Verifying";
  s.replicas = 3;
  s.selector = "bluegreen.io/release=shop,bluegreen.io/color=blue";
  s.blue = ColorStatus{"5d9c7f0000", 3, 3, 3, 3, "shop:1.4"};
  s.history.push_back({"green", "blue", "5d9c7f0000", "2026-11-29T16:00:00Z", "Promoted"});
  s.conditions.push_back({"Ready", "True", 7, "2026-11-29T16:00:00Z", "Stable", "ok"});
  EXPECT_EQ(parseStatus(statusToJson(s)), s);
}

TEST(CodecTest, RejectsObjectsWithoutName) {
  EXPECT_FALSE(parseRelease(json{{"metadata", json::object()}}).ok());
  EXPECT_FALSE(parseRelease(json::array()).ok());
}

}  // namespace
}  // namespace bgo::api
