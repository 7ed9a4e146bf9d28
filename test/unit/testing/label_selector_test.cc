#include "operator/testing/label_selector.h"

#include <gtest/gtest.h>

namespace bgo::testing {
namespace {

bool sel(const std::string& s, const std::map<std::string, std::string>& labels) {
  auto p = LabelSelector::parse(s);
  EXPECT_TRUE(p.ok()) << s;
  return p.ok() && p->matches(labels);
}

TEST(LabelSelectorTest, EmptySelectsEverything) {
  EXPECT_TRUE(sel("", {}));
  EXPECT_TRUE(sel("  ", {{"a", "b"}}));
}

TEST(LabelSelectorTest, EqualityAndInequality) {
  EXPECT_TRUE(sel("app=web", {{"app", "web"}}));
  EXPECT_TRUE(sel("app==web", {{"app", "web"}}));
  EXPECT_FALSE(sel("app=web", {{"app", "db"}}));
  EXPECT_FALSE(sel("app=web", {}));
  EXPECT_TRUE(sel("app!=web", {{"app", "db"}}));
  EXPECT_TRUE(sel("app!=web", {}));  // absent label matches !=
  EXPECT_FALSE(sel("app!=web", {{"app", "web"}}));
}

TEST(LabelSelectorTest, SetBasedRequirements) {
  EXPECT_TRUE(sel("env in (prod, staging)", {{"env", "staging"}}));
  EXPECT_FALSE(sel("env in (prod,staging)", {{"env", "dev"}}));
  EXPECT_FALSE(sel("env in (prod)", {}));
  EXPECT_TRUE(sel("env notin (prod)", {{"env", "dev"}}));
  EXPECT_TRUE(sel("env notin (prod)", {}));
  EXPECT_FALSE(sel("env notin (prod,dev)", {{"env", "dev"}}));
}

TEST(LabelSelectorTest, ExistsAndDoesNotExist) {
  EXPECT_TRUE(sel("tier", {{"tier", "x"}}));
  EXPECT_FALSE(sel("tier", {}));
  EXPECT_TRUE(sel("!tier", {}));
  EXPECT_FALSE(sel("!tier", {{"tier", ""}}));
}

TEST(LabelSelectorTest, AllRequirementsMustHold) {
  std::map<std::string, std::string> l = {{"app", "web"}, {"env", "prod"}, {"tier", "fe"}};
  EXPECT_TRUE(sel("app=web,env in (prod,qa),tier,!canary", l));
  EXPECT_FALSE(sel("app=web,env in (qa),tier", l));
}

TEST(LabelSelectorTest, RejectsMalformedSelectors) {
  for (const char* bad : {"env in (a", "=x", "a=b,,c", "env foo (a)", "a=b c"}) {
    auto p = LabelSelector::parse(bad);
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.error().code, core::ErrorCode::kBadRequest) << bad;
  }
}

TEST(LabelSelectorTest, MatchesObjectLabels) {
  auto p = LabelSelector::parse("app=web");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->matchesObject({{"metadata", {{"labels", {{"app", "web"}}}}}}));
  EXPECT_FALSE(p->matchesObject({{"metadata", {{"name", "x"}}}}));
}

}  // namespace
}  // namespace bgo::testing
