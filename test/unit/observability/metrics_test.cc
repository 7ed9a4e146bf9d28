#include "operator/observability/metrics.h"

#include <cmath>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "unit/observability/exposition_parser.h"

namespace bgo::observability {
namespace {

using bgo::test::parseExposition;

TEST(MetricsRegistryTest, RendersCountersAndGaugesWithTheirLabels) {
  Registry r;
  auto& requests = r.counter("http_requests_total", "Requests served.", {"method", "code"});
  auto& temp = r.gauge("room_temperature_celsius", "Temperature.");
  requests.with({"get", "200"}).inc();
  requests.with({"get", "200"}).inc(2);
  requests.with({"post", "500"}).inc();
  temp.with({}).set(-3.5);

  auto ex = parseExposition(r.render());
  ASSERT_TRUE(ex.ok()) << ex.error;
  ASSERT_NE(ex.family("http_requests_total"), nullptr);
  EXPECT_EQ(ex.family("http_requests_total")->type, "counter");
  EXPECT_EQ(ex.family("http_requests_total")->help, "Requests served.");
  EXPECT_EQ(ex.value("http_requests_total", {{"method", "get"}, {"code", "200"}}), 3.0);
  EXPECT_EQ(ex.value("http_requests_total", {{"method", "post"}, {"code", "500"}}), 1.0);
  EXPECT_EQ(ex.family("room_temperature_celsius")->type, "gauge");
  EXPECT_EQ(ex.value("room_temperature_celsius"), -3.5);
  // Registration order is kept.
  ASSERT_EQ(ex.order.size(), 2u);
  EXPECT_EQ(ex.order[0], "http_requests_total");
}

TEST(MetricsRegistryTest, UnlabelledMetricsExistAtZeroBeforeFirstUse) {
  Registry r;
  r.counter("things_total", "Things.");
  r.histogram("latency_seconds", "Latency.", {}, {0.1, 1});
  auto ex = parseExposition(r.render());
  ASSERT_TRUE(ex.ok()) << ex.error;
  EXPECT_EQ(ex.value("things_total"), 0.0);
  EXPECT_EQ(ex.value("latency_seconds_count"), 0.0);
  EXPECT_EQ(ex.value("latency_seconds_bucket", {{"le", "+Inf"}}), 0.0);
}

TEST(MetricsRegistryTest, EscapesLabelValuesAndHelpSoTheyParseBack) {
  Registry r;
  const std::string nasty = "a \"quoted\" back\\slash and a\nnewline";
  r.gauge("odd_labels", "Help with a \\ backslash\nand a newline.", {"v"}).with({nasty}).set(1);
  const std::string text = r.render();
  auto ex = parseExposition(text);
  ASSERT_TRUE(ex.ok()) << ex.error << "\n" << text;
  EXPECT_EQ(ex.family("odd_labels")->help, "Help with a \\ backslash\nand a newline.");
  auto samples = ex.samples("odd_labels");
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].labels.at("v"), nasty);
}

TEST(MetricsRegistryTest, HistogramBucketsAreCumulativeAndEndInInfEqualToCount) {
  Registry r;
  auto& h = r.histogram("op_seconds", "Op time.", {"op"}, {0.1, 0.5, 1, 5});
  for (double v : {0.05, 0.1, 0.3, 0.7, 2.0, 9.0, 9.5}) h.with({"read"}).observe(v);
  h.with({"write"}).observe(std::chrono::milliseconds(250));

  auto ex = parseExposition(r.render());  // the parser itself checks cumulativeness
  ASSERT_TRUE(ex.ok()) << ex.error;
  auto b = [&](const char* le) { return ex.value("op_seconds_bucket", {{"op", "read"}, {"le", le}}); };
  EXPECT_EQ(b("0.1"), 2.0);  // 0.05 and 0.1 (upper bounds are inclusive)
  EXPECT_EQ(b("0.5"), 3.0);
  EXPECT_EQ(b("1"), 4.0);
  EXPECT_EQ(b("5"), 5.0);
  EXPECT_EQ(b("+Inf"), 7.0);
  EXPECT_EQ(ex.value("op_seconds_count", {{"op", "read"}}), 7.0);
  EXPECT_NEAR(*ex.value("op_seconds_sum", {{"op", "read"}}), 21.65, 1e-9);
  EXPECT_EQ(ex.value("op_seconds_bucket", {{"op", "write"}, {"le", "0.1"}}), 0.0);
  EXPECT_EQ(ex.value("op_seconds_bucket", {{"op", "write"}, {"le", "0.5"}}), 1.0);
  EXPECT_NEAR(*ex.value("op_seconds_sum", {{"op", "write"}}), 0.25, 1e-12);
}

TEST(MetricsRegistryTest, RemovedSeriesDisappearFromTheOutput) {
  Registry r;
  auto& info = r.gauge("release_info", "Info.", {"name", "stage"});
  info.with({"a", "Deploying"}).set(1);
  info.with({"b", "Stable"}).set(1);
  EXPECT_TRUE(info.remove({"a", "Deploying"}));
  EXPECT_FALSE(info.remove({"a", "Deploying"}));
  info.with({"a", "Stable"}).set(1);
  auto ex = parseExposition(r.render());
  ASSERT_TRUE(ex.ok()) << ex.error;
  EXPECT_EQ(ex.samples("release_info").size(), 2u);
  EXPECT_FALSE(ex.value("release_info", {{"name", "a"}, {"stage", "Deploying"}}).has_value());
  EXPECT_EQ(ex.value("release_info", {{"name", "a"}, {"stage", "Stable"}}), 1.0);
}

TEST(MetricsRegistryTest, CollectorsRunBeforeEveryRender) {
  Registry r;
  auto& relists = r.counter("relists_total", "Relists.", {"resource"});
  double source = 0;
  r.addCollector([&] { relists.with({"pods"}).advanceTo(source); });
  source = 4;
  EXPECT_EQ(parseExposition(r.render()).value("relists_total", {{"resource", "pods"}}), 4.0);
  source = 6;
  EXPECT_EQ(parseExposition(r.render()).value("relists_total", {{"resource", "pods"}}), 6.0);
  source = 2;  // a source going backwards never makes a counter go down
  EXPECT_EQ(parseExposition(r.render()).value("relists_total", {{"resource", "pods"}}), 6.0);
}

TEST(MetricsRegistryTest, CountersIgnoreNegativeAndNaNIncrements) {
  Counter c;
  c.inc(2);
  c.inc(-1);
  c.inc(NAN);
  EXPECT_EQ(c.value(), 2.0);
}

TEST(MetricsRegistryTest, RegisteringTheSameFamilyTwiceReturnsIt) {
  Registry r;
  auto& a = r.counter("x_total", "X.", {"l"});
  auto& b = r.counter("x_total", "X.", {"l"});
  EXPECT_EQ(&a, &b);
}

TEST(MetricsRegistryDeathTest, AbortsOnMisuse) {
  EXPECT_DEATH({ Registry r; r.counter("bad name", "x"); }, "invalid metric name");
  EXPECT_DEATH({ Registry r; r.counter("x_total", "x", {"l"}).with({"a", "b"}); }, "2 label values for 1");
  EXPECT_DEATH(
      {
        Registry r;
        r.counter("x_total", "x");
        r.gauge("x_total", "x");
      },
      "registered twice");
  EXPECT_DEATH({ Registry r; r.histogram("h", "x", {"le"}, {1}); }, "reserved");
}

TEST(MetricsRegistryTest, ConcurrentUpdatesAreNotLost) {
  Registry r;
  auto& c = r.counter("hits_total", "Hits.", {"t"});
  auto& h = r.histogram("obs", "Obs.", {}, {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        c.with({"shared"}).inc();
        c.with({std::to_string(t)}).inc();
        h.with({}).observe(0.5);
        if (i % 1000 == 0) (void)r.render();
      }
    });
  }
  for (auto& t : threads) t.join();
  auto ex = parseExposition(r.render());
  ASSERT_TRUE(ex.ok()) << ex.error;
  EXPECT_EQ(ex.value("hits_total", {{"t", "shared"}}), 40000.0);
  EXPECT_EQ(ex.value("hits_total", {{"t", "3"}}), 10000.0);
  EXPECT_EQ(ex.value("obs_count"), 40000.0);
  EXPECT_EQ(ex.value("obs_bucket", {{"le", "1"}}), 40000.0);
}

TEST(MetricsFormatTest, ValuesAreWrittenAsGoParsesThem) {
  EXPECT_EQ(formatValue(1), "1");
  EXPECT_EQ(formatValue(0.25), "0.25");
  EXPECT_EQ(formatValue(-2), "-2");
  EXPECT_EQ(formatValue(1e21), "1e+21");
  EXPECT_EQ(formatValue(INFINITY), "+Inf");
  EXPECT_EQ(formatValue(-INFINITY), "-Inf");
  EXPECT_EQ(formatValue(NAN), "NaN");
  EXPECT_TRUE(validMetricName("a:b_c1"));
  EXPECT_FALSE(validMetricName("1abc"));
  EXPECT_TRUE(validLabelName("active_color"));
  EXPECT_FALSE(validLabelName("__reserved"));
  EXPECT_FALSE(validLabelName("a:b"));
}

TEST(MetricsFormatTest, BucketHelpersMatchClientGolang) {
  EXPECT_EQ(exponentialBuckets(1, 2, 4), (std::vector<double>{1, 2, 4, 8}));
  EXPECT_EQ(linearBuckets(0.5, 0.5, 3), (std::vector<double>{0.5, 1, 1.5}));
}

TEST(ExpositionParserTest, RejectsMalformedText) {
  // The parser must be able to fail, or the tests above prove nothing.
  EXPECT_FALSE(parseExposition("x 1\n").ok());                                    // no TYPE
  EXPECT_FALSE(parseExposition("# TYPE x counter\nx{a=\"b} 1\n").ok());          // unterminated
  EXPECT_FALSE(parseExposition("# TYPE x counter\nx 1\nx 2\n").ok());            // duplicate
  EXPECT_FALSE(parseExposition("# TYPE x counter\nx one\n").ok());               // bad value
  EXPECT_FALSE(parseExposition("# TYPE h histogram\nh_bucket{le=\"1\"} 2\n"
                               "h_bucket{le=\"+Inf\"} 1\nh_count 1\n")
                   .ok());                                                        // not cumulative
  EXPECT_FALSE(parseExposition("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\n").ok());  // no +Inf
  EXPECT_TRUE(parseExposition("# TYPE x counter\nx{a=\"\\\"\"} 1\n").ok());
}

}  // namespace
}  // namespace bgo::observability
