// /metrics of the real binary, parsed strictly, while a release goes blue ->
// green -> blue: the values move with it.
#include <atomic>
#include <iostream>
#include <mutex>
#include <set>

#include "integration/runtime/runtime_fixture.h"
#include "unit/observability/operator_metric_families.h"

namespace bgo::itest {
namespace {

using Labels = std::map<std::string, std::string>;

class RuntimeMetricsTest : public RuntimeTest {
 protected:
  Labels info(const std::string& color, const std::string& stage) const {
    return {{"namespace", ns_}, {"name", name_}, {"active_color", color}, {"stage", stage}};
  }
  Labels switchLabels(const std::string& reason) const {
    return {{"namespace", ns_}, {"name", name_}, {"reason", reason}};
  }
  // release_info series of this release.
  std::vector<test::Sample> infoSeries(const test::Exposition& ex) const {
    std::vector<test::Sample> out;
    for (const auto& s : ex.samples("bluegreen_release_info")) {
      if (s.labels.at("namespace") == ns_ && s.labels.at("name") == name_) out.push_back(s);
    }
    return out;
  }
};

TEST_F(RuntimeMetricsTest, ValuesFollowAReleaseThroughItsStages) {
  OperatorProcess* op = startOperator();
  ASSERT_TRUE(op);
  ASSERT_TRUE(waitFor("leadership in /metrics", [&] {
    auto r = probe(*op, "/metrics");
    return r && r->status == 200 && leaderStatus(test::parseExposition(r->body)) == 1.0;
  }, 30s));

  auto ex0 = scrape(*op);
  ASSERT_TRUE(ex0);
  for (const auto& [name, type] : test::kOperatorMetricFamilies) {
    const test::Family* f = ex0->family(name);
    ASSERT_NE(f, nullptr) << name << " is not exposed";
    EXPECT_EQ(f->type, type) << name;
    EXPECT_FALSE(f->help.empty()) << name << " has no HELP";
  }
  EXPECT_TRUE(infoSeries(*ex0).empty());
  const double reconciles0 = sumWhere(*ex0, "bluegreen_reconcile_total");
  const double adds0 = sumWhere(*ex0, "workqueue_adds_total");

  // Follow release_info on its own thread: the stages it shows, and never two series at once.
  std::mutex mu;
  std::vector<std::string> stages;  // "color/stage", consecutive duplicates folded
  std::vector<std::string> problems;
  std::atomic<long> scrapes{0}, failed_scrapes{0};
  // Records one scrape; the sampler's, and the test's own at the points it knows the stage.
  auto record = [&](const test::Exposition& ex) {
    std::lock_guard lock(mu);
    if (!ex.ok()) {
      problems.push_back("invalid exposition: " + ex.error);
      return;
    }
    const auto series = infoSeries(ex);
    if (series.size() > 1) problems.push_back(std::to_string(series.size()) + " release_info series at once");
    if (series.size() == 1) {
      if (series[0].value != 1) problems.push_back("release_info value " + std::to_string(series[0].value));
      const std::string s = series[0].labels.at("active_color") + "/" + series[0].labels.at("stage");
      if (stages.empty() || stages.back() != s) stages.push_back(s);
    }
  };
  Sampler sampler([&] {
    auto r = probe(*op, "/metrics");
    if (!r || r->status != 200) {
      ++failed_scrapes;
      return;
    }
    ++scrapes;
    record(test::parseExposition(r->body));
  }, 50ms);

  const json slow{{"promotion", {{"readyForSeconds", 2}}}, {"scaleDown", {{"delaySeconds", 3}}}};
  createRelease(kImage1, slow);
  ASSERT_TRUE(waitStable(60s, "blue"));
  auto ex1 = scrape(*op);
  ASSERT_TRUE(ex1);
  record(*ex1);  // a Stable between two changes may be shorter than a sampling interval
  EXPECT_EQ(ex1->value("bluegreen_release_info", info("blue", "Stable")), 1.0);
  EXPECT_EQ(infoSeries(*ex1).size(), 1u);
  EXPECT_EQ(ex1->value("bluegreen_switches_total", switchLabels("Initial")), 1.0);
  const double reconciles1 = sumWhere(*ex1, "bluegreen_reconcile_total");
  EXPECT_GT(reconciles1, reconciles0);
  EXPECT_GT(ex1->value("bluegreen_reconcile_total", {{"result", "success"}}).value_or(0), 0);
  const double promotable1 = ex1->value("bluegreen_promotable_to_switched_seconds_count").value_or(-1);

  setImage(kImage2);
  ASSERT_TRUE(waitStable(60s, "green"));
  auto ex2 = scrape(*op);
  ASSERT_TRUE(ex2);
  record(*ex2);  // a Stable between two changes may be shorter than a sampling interval
  EXPECT_EQ(ex2->value("bluegreen_release_info", info("green", "Stable")), 1.0);
  EXPECT_EQ(infoSeries(*ex2).size(), 1u) << "the old color/stage series went away";
  EXPECT_EQ(ex2->value("bluegreen_switches_total", switchLabels("Promoted")), 1.0);
  EXPECT_EQ(ex2->value("bluegreen_switches_total", switchLabels("Initial")), 1.0);
  EXPECT_EQ(ex2->value("bluegreen_promotable_to_switched_seconds_count"), promotable1 + 1)
      << "one promotion, one observation";
  const double reconciles2 = sumWhere(*ex2, "bluegreen_reconcile_total");
  EXPECT_GT(reconciles2, reconciles1);
  // Every finished reconcile is timed (the two may be a reconcile or two apart in one scrape).
  EXPECT_NEAR(ex2->value("bluegreen_reconcile_duration_seconds_count").value_or(-10), reconciles2, 2);

  setImage(kImage3);
  ASSERT_TRUE(waitStable(60s, "blue"));
  sampler.stop();
  auto ex3 = scrape(*op);
  ASSERT_TRUE(ex3);
  record(*ex3);
  EXPECT_EQ(ex3->value("bluegreen_release_info", info("blue", "Stable")), 1.0);
  EXPECT_EQ(ex3->value("bluegreen_switches_total", switchLabels("Promoted")), 2.0) << "+1 for the second switch";
  EXPECT_EQ(ex3->value("bluegreen_switches_total", switchLabels("Initial")), 1.0);
  EXPECT_EQ(ex3->value("bluegreen_promotable_to_switched_seconds_count"), promotable1 + 2);
  EXPECT_EQ(ex3->value("bluegreen_rollbacks_total"), 0.0);
  EXPECT_EQ(ex3->value("bluegreen_failed_releases_total"), 0.0);
  EXPECT_GT(sumWhere(*ex3, "bluegreen_reconcile_total"), reconciles2);

  // The work queue and the API client.
  const Labels queue{{"name", "bluegreenrelease"}};
  EXPECT_GT(ex3->value("workqueue_adds_total", queue).value_or(0), adds0);
  EXPECT_TRUE(ex3->value("workqueue_depth", queue).has_value());
  EXPECT_GT(ex3->value("workqueue_queue_duration_seconds_count", queue).value_or(0), 0);
  EXPECT_GT(ex3->value("workqueue_work_duration_seconds_count", queue).value_or(0), 0);
  EXPECT_TRUE(ex3->value("workqueue_retries_total", queue).has_value());
  std::set<std::string> verbs, codes;
  for (const auto& s : ex3->samples("rest_client_requests_total")) {
    ASSERT_TRUE(s.labels.count("verb") && s.labels.count("code")) << "labels verb and code";
    verbs.insert(s.labels.at("verb"));
    codes.insert(s.labels.at("code"));
    const std::string& c = s.labels.at("code");
    EXPECT_TRUE(c == "<error>" || (c.size() == 3 && std::isdigit(static_cast<unsigned char>(c[0]))))
        << "code label " << c;
  }
  for (const char* v : {"get", "list", "watch", "create"}) EXPECT_TRUE(verbs.count(v)) << "no " << v << " requests";
  EXPECT_TRUE(verbs.count("patch") || verbs.count("apply") || verbs.count("update")) << "no update requests";
  EXPECT_TRUE(codes.count("200")) << "no 200 responses";
  EXPECT_TRUE(codes.count("201")) << "no 201 responses";
  EXPECT_GT(ex3->value("rest_client_request_duration_seconds_count", {{"verb", "list"}}).value_or(0), 0);

  {
    std::lock_guard lock(mu);
    EXPECT_TRUE(problems.empty()) << problems.size() << " problems, first: " << problems.front();
    std::string seq;
    for (const auto& s : stages) seq += (seq.empty() ? "" : " -> ") + s;
    // Each change went through the gates, the switch and the drain, in that order.
    std::vector<std::string> want{"blue/Stable", "blue/Verifying", "green/Draining", "green/Stable",
                                  "green/Verifying", "blue/Draining", "blue/Stable"};
    auto it = stages.begin();
    for (const auto& w : want) {
      it = std::find(it, stages.end(), w);
      EXPECT_NE(it, stages.end()) << "release_info never showed " << w << " in order; seen: " << seq << " ("
                                  << failed_scrapes << " of " << scrapes + failed_scrapes << " scrapes failed)";
      if (it == stages.end()) break;
    }
    std::cout << "[ figures  ] " << scrapes << " scrapes (" << failed_scrapes
              << " failed); release_info stages: " << seq << "\n";
  }

  // A deleted release's series are dropped.
  ASSERT_TRUE(client_->remove(core::gvrs::kBlueGreenReleases, ns_, name_));
  EXPECT_TRUE(waitFor("release_info and switches_total gone", [&] {
    auto r = probe(*op, "/metrics");
    if (!r) return false;
    const auto ex = test::parseExposition(r->body);
    return ex.ok() && infoSeries(ex).empty() &&
           !ex.value("bluegreen_switches_total", switchLabels("Promoted")).has_value();
  }, 20s));
}

}  // namespace
}  // namespace bgo::itest
