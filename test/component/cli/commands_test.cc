// The plugin's commands over FakeKubeClient: what they write, print and exit with.
#include "operator/cli/commands.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "operator/testing/fake_kube_client.h"
#include "operator/testing/manual_clock.h"
#include "unit/cli/release_json.h"

namespace bgo::cli {
namespace {

using core::gvrs::kBlueGreenReleases;
using json = nlohmann::json;
using testing::releaseJson;
using testing::revisionFor;

const std::string kOld = "registry.example/shop:1";
const std::string kNew = "registry.example/shop:2";

class CommandsTest : public ::testing::Test {
 protected:
  int run(std::vector<std::string> argv) {
    out_.str("");
    err_.str("");
    auto args = parseArgs(argv);
    if (!args) {
      err_ << "error: " << args.error().message << "\n";
      return kExitError;
    }
    Io io{out_, err_, false, std::chrono::milliseconds(1)};
    return runCommand(*args, "prod", client_, clock_, io);
  }
  void seedInFlight(const std::string& stage) {
    client_.seed(kBlueGreenReleases,
                 releaseJson(kNew, {{"activeColor", "blue"}, {"activeRevision", revisionFor(kOld)},
                                    {"previewColor", "green"}, {"previewRevision", revisionFor(kNew)},
                                    {"stage", stage}}));
    client_.clearWrites();
  }
  json release() { return *client_.get(kBlueGreenReleases, "prod", "shop"); }
  static std::size_t lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

  bgo::testing::ManualClock clock_;
  bgo::testing::FakeKubeClient client_{clock_};
  std::ostringstream out_, err_;
};

TEST_F(CommandsTest, PromoteAnnotatesThePreviewRevision) {
  seedInFlight("AwaitingPromotion");
  ASSERT_EQ(run({"promote", "shop"}), kExitOk) << err_.str();
  EXPECT_EQ(release()["metadata"]["annotations"]["bluegreen.io/promote"], revisionFor(kNew));
  EXPECT_NE(out_.str().find("promote requested for revision " + revisionFor(kNew)), std::string::npos) << out_.str();
  EXPECT_EQ(client_.writeCount(), 1u);
}

TEST_F(CommandsTest, StalePromoteIsRefusedWithOneLineAndNothingWritten) {
  seedInFlight("AwaitingPromotion");
  EXPECT_EQ(run({"promote", "shop", "--revision", revisionFor(kOld)}), kExitError);
  EXPECT_EQ(lines(err_.str()), 1u) << err_.str();
  EXPECT_NE(err_.str().find("wrong revision"), std::string::npos);
  EXPECT_EQ(client_.writeCount(), 0u);
  EXPECT_FALSE(release()["metadata"].contains("annotations"));
}

TEST_F(CommandsTest, UnknownReleaseIsOneLineAndExit1) {
  for (std::vector<std::string> argv : {std::vector<std::string>{"get", "nope"}, {"promote", "nope"},
                                        {"status", "nope"}, {"plan", "nope"}, {"set", "image", "nope", "a=b:1"}}) {
    EXPECT_EQ(run(argv), kExitError) << argv[0];
    EXPECT_EQ(lines(err_.str()), 1u) << err_.str();
    EXPECT_NE(err_.str().find("\"nope\" not found in namespace prod"), std::string::npos) << err_.str();
  }
  EXPECT_EQ(client_.writeCount(), 0u);
}

TEST_F(CommandsTest, MalformedImageWritesNothing) {
  seedInFlight("Verifying");
  EXPECT_EQ(run({"set", "image", "shop", "shop=Not A/Reference"}), kExitError);
  EXPECT_EQ(lines(err_.str()), 1u) << err_.str();
  EXPECT_NE(err_.str().find("is not an image reference"), std::string::npos);
  EXPECT_EQ(client_.writeCount(), 0u);
}

TEST_F(CommandsTest, SetImageChangesTheTemplate) {
  seedInFlight("Verifying");
  ASSERT_EQ(run({"set", "image", "shop", "shop=registry.example/shop:3"}), kExitOk) << err_.str();
  EXPECT_EQ(release()["spec"]["template"]["spec"]["containers"][0]["image"], "registry.example/shop:3");
  EXPECT_NE(out_.str().find(revisionFor("registry.example/shop:3")), std::string::npos);
}

TEST_F(CommandsTest, GetJsonParsesBack) {
  seedInFlight("Verifying");
  ASSERT_EQ(run({"get", "shop", "-o", "json"}), kExitOk) << err_.str();
  const json s = json::parse(out_.str());
  EXPECT_EQ(s["name"], "shop");
  EXPECT_EQ(s["preview"]["revision"], revisionFor(kNew));
  ASSERT_EQ(run({"get", "shop"}), kExitOk);
  EXPECT_NE(out_.str().find("stage     Verifying"), std::string::npos) << out_.str();
}

TEST_F(CommandsTest, StatusExitCodes) {
  seedInFlight("Verifying");
  EXPECT_EQ(run({"status", "shop", "--timeout", "0s"}), kExitTimeout);
  client_.seed(kBlueGreenReleases, releaseJson(kNew, {{"stage", "Failed"}, {"message", "deadline"}}));
  EXPECT_EQ(run({"status", "shop", "--timeout", "0s"}), kExitError);
  EXPECT_NE(out_.str().find("Failed: deadline"), std::string::npos);
  client_.seed(kBlueGreenReleases, releaseJson(kNew, {{"stage", "Stable"}, {"activeColor", "green"},
                                                      {"activeRevision", revisionFor(kNew)}}));
  EXPECT_EQ(run({"status", "shop", "--timeout", "0s"}), kExitOk);
}

TEST_F(CommandsTest, PlanOfANewReleaseDeploysBlueAndWritesNothing) {
  client_.seed(kBlueGreenReleases, releaseJson(kNew, json::object(), 1));
  client_.clearWrites();
  ASSERT_EQ(run({"plan", "shop"}), kExitOk) << err_.str();
  EXPECT_NE(out_.str().find("deploy: revision " + revisionFor(kNew) + " on blue at 3 replicas"), std::string::npos)
      << out_.str();
  EXPECT_NE(out_.str().find("-> Initializing"), std::string::npos) << out_.str();
  EXPECT_EQ(client_.writeCount(), 0u);
}

TEST_F(CommandsTest, ListPrintsOneLinePerRelease) {
  seedInFlight("Verifying");
  ASSERT_EQ(run({"list"}), kExitOk) << err_.str();
  EXPECT_EQ(lines(out_.str()), 2u) << out_.str();
  EXPECT_NE(out_.str().find("shop  blue"), std::string::npos) << out_.str();
}

}  // namespace
}  // namespace bgo::cli
