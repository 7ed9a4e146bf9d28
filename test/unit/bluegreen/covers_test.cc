// covers(): the live object as the API server returns it is "up to date" with
// what the operator would apply, despite the server's normalisations.
#include "operator/bluegreen/covers.h"

#include "operator/api/v1alpha1/quantity.h"

#include <gtest/gtest.h>

namespace bgo::bluegreen {
namespace {

using nlohmann::json;

TEST(QuantityValue, ParsesEverySpelling) {
  struct Case {
    json in;
    long double want;
  };
  for (const auto& [in, want] : std::vector<Case>{{"500m", 0.5L},
                                                  {"0.5", 0.5L},
                                                  {".5", 0.5L},
                                                  {"1", 1},
                                                  {2, 2},
                                                  {0.25, 0.25L},
                                                  {"1Ki", 1024},
                                                  {"1.5Gi", 1.5L * 1024 * 1024 * 1024},
                                                  {"128974848", 128974848},
                                                  {"129e6", 129e6L},
                                                  {"1E3", 1000},
                                                  {"1e-3", 0.001L},
                                                  {"100n", 1e-7L},
                                                  {"10u", 1e-5L},
                                                  {"2k", 2000},
                                                  {"3M", 3e6L},
                                                  {"1T", 1e12L},
                                                  {"2E", 2e18L},
                                                  {"+4", 4},
                                                  {"-1", -1}}) {
    const auto got = api::quantityValue(in);
    ASSERT_TRUE(got.has_value()) << in;
    EXPECT_NEAR(static_cast<double>(*got), static_cast<double>(want), 1e-9 * std::max(1.0L, want)) << in;
  }
}

TEST(QuantityValue, ANumberTooLargeIsNotAQuantityNotAnException) {
  EXPECT_FALSE(api::quantityValue(std::string(5000, '9')).has_value());
  EXPECT_FALSE(api::quantityValue("1e" + std::string(5000, '9')).has_value());
}

TEST(QuantityValue, RejectsWhatIsNotAQuantity) {
  for (const json& in : {json("abc"), json(""), json("m"), json("1Xi"), json("1mm"), json("1e"), json("1e+"),
                         json("1 Gi"), json(true), json::object(), json(nullptr)}) {
    EXPECT_FALSE(api::quantityValue(in).has_value()) << in;
  }
}

TEST(Covers, SubsetOfKeysAndElementWiseArrays) {
  const json live{{"a", 1}, {"b", {{"c", "x"}, {"d", 2}}}, {"l", {1, 2}}};
  EXPECT_TRUE(covers(live, {{"a", 1}}));
  EXPECT_TRUE(covers(live, {{"b", {{"c", "x"}}}}));
  EXPECT_FALSE(covers(live, {{"b", {{"c", "y"}}}}));
  EXPECT_FALSE(covers(live, {{"l", {1}}})) << "arrays must match in length";
  EXPECT_FALSE(covers(live, {{"e", 1}}));
  EXPECT_TRUE(covers(live, {{"a", 1.0}})) << "1 and 1.0 are the same JSON number";
}

TEST(Covers, FieldsTheServerDropsAsZeroValues) {
  const json live{{"name", "c"}};
  for (const json& zero : {json::array(), json::object(), json(false), json(0), json(""), json(nullptr)}) {
    EXPECT_TRUE(covers(live, {{"name", "c"}, {"field", zero}})) << zero;
  }
  EXPECT_FALSE(covers(live, {{"field", json::array({1})}}));
  EXPECT_FALSE(covers(live, {{"field", true}}));
  EXPECT_FALSE(covers({{"args", {"x"}}}, {{"args", json::array()}})) << "a present, non-empty field still counts";
  EXPECT_FALSE(covers({{"hostNetwork", true}}, {{"hostNetwork", false}}));
}

TEST(Covers, ResourceQuantitiesInAnySpelling) {
  const json live{{"resources",
                   {{"limits", {{"cpu", "1"}, {"memory", "1Gi"}}}, {"requests", {{"cpu", "500m"}, {"memory", "128974848"}}}}},
                  {"overhead", {{"cpu", "250m"}}},
                  {"emptyDir", {{"sizeLimit", "1Gi"}}}};
  const json desired{{"resources",
                      {{"limits", {{"cpu", "1000m"}, {"memory", "1024Mi"}}}, {"requests", {{"cpu", 0.5}, {"memory", "129e6"}}}}},
                     {"overhead", {{"cpu", "0.25"}}},
                     {"emptyDir", {{"sizeLimit", "1073741824"}}}};
  EXPECT_FALSE(covers(live, desired)) << "129e6 is not 128974848";
  json same = desired;
  same["resources"]["requests"]["memory"] = 128974848;
  EXPECT_TRUE(covers(live, same));
  json more = same;
  more["resources"]["limits"]["cpu"] = "1500m";
  EXPECT_FALSE(covers(live, more)) << "a changed quantity is a change";
}

TEST(Covers, QuantityEqualityOnlyWhereQuantitiesLive) {
  // An env value "1000m" is a string the user chose: "1" is not the same.
  EXPECT_FALSE(covers({{"env", {{{"name", "X"}, {"value", "1"}}}}}, {{"env", {{{"name", "X"}, {"value", "1000m"}}}}}));
  EXPECT_FALSE(covers({{"replicas", "1"}}, {{"replicas", 1}}));
}

}  // namespace
}  // namespace bgo::bluegreen
