#include "operator/cli/args.h"

#include <gtest/gtest.h>

namespace bgo::cli {
namespace {

Args parse(std::vector<std::string> argv) {
  auto a = parseArgs(argv);
  EXPECT_TRUE(a) << (a ? "" : a.error().message);
  return a ? *a : Args{};
}

std::string parseError(std::vector<std::string> argv) {
  auto a = parseArgs(argv);
  EXPECT_FALSE(a) << "parsed";
  return a ? "" : a.error().message;
}

TEST(ArgsTest, GlobalFlagsGoAnywhereInEverySpelling) {
  Args a = parse({"-n", "prod", "get", "shop", "--kubeconfig=/k", "--context", "c1"});
  EXPECT_EQ(a.command, "get");
  EXPECT_EQ(a.positional, std::vector<std::string>{"shop"});
  EXPECT_EQ(a.ns, "prod");
  EXPECT_EQ(a.kubeconfig, "/k");
  EXPECT_EQ(a.context, "c1");
  EXPECT_EQ(parse({"get", "shop", "-nstage"}).ns, "stage");
  EXPECT_EQ(parse({"get", "shop", "--namespace=qa"}).ns, "qa");
  EXPECT_TRUE(parse({"list", "-A"}).all_namespaces);
  EXPECT_TRUE(parse({"--all-namespaces", "list"}).all_namespaces);
}

TEST(ArgsTest, CommandFlags) {
  Args g = parse({"get", "shop", "-o", "json"});
  EXPECT_EQ(g.output, "json");
  EXPECT_EQ(parse({"get", "shop", "-oyaml"}).output, "yaml");
  EXPECT_TRUE(parse({"get", "shop", "-w"}).watch);
  EXPECT_TRUE(parse({"get", "shop", "--watch"}).watch);
  EXPECT_EQ(parse({"status", "shop", "--timeout", "90s"}).timeout, std::chrono::seconds(90));
  EXPECT_EQ(parse({"status", "shop"}).timeout, std::chrono::seconds(300));
  EXPECT_EQ(parse({"promote", "shop", "--revision", "abc"}).revision, "abc");
  EXPECT_EQ(parse({"lint", "-f", "x.yaml"}).file, "x.yaml");
  EXPECT_EQ(parse({"plan", "shop", "--traffic-confirm-margin", "2"}).confirm_margin_seconds, 2);
}

TEST(ArgsTest, SetImageTakesNameAndAssignments) {
  Args a = parse({"set", "image", "shop", "shop=r/shop:2", "side=r/side:1"});
  EXPECT_EQ(a.command, "set-image");
  EXPECT_EQ(a.positional, (std::vector<std::string>{"shop", "shop=r/shop:2", "side=r/side:1"}));
  EXPECT_NE(parseError({"set", "image", "shop"}).find("missing CONTAINER=IMAGE"), std::string::npos);
  EXPECT_NE(parseError({"set", "replicas", "shop"}).find("only `set image`"), std::string::npos);
}

TEST(ArgsTest, MistakesNameWhatIsWrongAndWhereHelpIs) {
  EXPECT_NE(parseError({"frobnicate"}).find("unknown command \"frobnicate\""), std::string::npos);
  EXPECT_NE(parseError({"get"}).find("get: missing NAME"), std::string::npos);
  EXPECT_NE(parseError({"get", "a", "b"}).find("unexpected argument \"b\""), std::string::npos);
  EXPECT_NE(parseError({"get", "a", "--timeout", "3s"}).find("get: unknown flag --timeout"), std::string::npos);
  EXPECT_NE(parseError({"get", "a", "-o", "wide"}).find("json or yaml"), std::string::npos);
  EXPECT_NE(parseError({"status", "a", "--timeout", "soon"}).find("not a duration"), std::string::npos);
  EXPECT_NE(parseError({"lint"}).find("-f FILE is required"), std::string::npos);
  EXPECT_NE(parseError({"get", "a", "-x"}).find("unknown flag -x"), std::string::npos);
  EXPECT_NE(parseError({"get", "a", "--namespace"}).find("needs a value"), std::string::npos);
}

TEST(ArgsTest, HelpForEveryCommand) {
  EXPECT_TRUE(parse({}).help);
  EXPECT_TRUE(parse({"--help"}).help);
  for (const char* c : {"get", "list", "status", "promote", "abort", "rollback", "retry", "pause", "resume",
                        "plan", "lint"}) {
    Args a = parse({c, "--help"});
    EXPECT_TRUE(a.help) << c;
    EXPECT_EQ(a.command, c);
    EXPECT_NE(usage(c).find(std::string("Usage: kubectl bluegreen ") + c), std::string::npos) << usage(c);
    EXPECT_NE(usage("").find(std::string("  ") + c), std::string::npos) << c << " missing from the overview";
  }
  EXPECT_EQ(parse({"set", "image", "-h"}).command, "set-image");
  EXPECT_EQ(parse({"help", "status"}).command, "status");
  EXPECT_NE(usage("set-image").find("Usage: kubectl bluegreen set image NAME CONTAINER=IMAGE"), std::string::npos);
}

TEST(ParseDurationTest, AcceptsKubectlStyleDurations) {
  EXPECT_EQ(parseDuration("90"), std::chrono::seconds(90));
  EXPECT_EQ(parseDuration("30s"), std::chrono::seconds(30));
  EXPECT_EQ(parseDuration("5m"), std::chrono::seconds(300));
  EXPECT_EQ(parseDuration("1h30m"), std::chrono::seconds(5400));
  EXPECT_EQ(parseDuration("1m30s"), std::chrono::seconds(90));
  for (const char* bad : {"", "s", "5x", "5m3", "-1s", "1.5m"}) EXPECT_FALSE(parseDuration(bad)) << bad;
}

}  // namespace
}  // namespace bgo::cli
