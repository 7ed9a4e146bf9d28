#include "operator/observability/logging.h"

#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>

namespace bgo::observability {
namespace {

using json = nlohmann::json;

// Secrets in the shapes they take in this operator's world.
const std::string kJwt =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEyMyJ9.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50In0."
    "c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU";
const std::string kOpaqueToken = "abcdef0123456789abcdef0123456789";
const std::string kPemBody = "MIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun";
const std::string kPem = "-----BEGIN RSA PRIVATE KEY-----\n" + kPemBody + "\n-----END RSA PRIVATE KEY-----";
const std::string kPemB64 = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM1ekNDQWMrZ0F3SUJBZ0lC";

std::vector<std::string> secretMessages() {
  return {
      "request headers: Authorization: Bearer " + kOpaqueToken,
      "GET /api with bearer " + kJwt,
      "token: " + kOpaqueToken,
      "kubeconfig user {\"token\":\"" + kOpaqueToken + "\"}",
      "url https://host/?access_token=" + kOpaqueToken + "&x=1",
      "client-key-data: " + kPemB64,
      "client-certificate-data: " + kPemB64,
      "read key " + kPem + " from file",
      "cut off key " + kPem.substr(0, 60),
      "service account says " + kJwt,
      "{\"password\": \"" + kOpaqueToken + "\"}",
  };
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

class LoggingTest : public ::testing::Test {
 protected:
  std::shared_ptr<spdlog::logger> make(LogFormat format, spdlog::level::level_enum level) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    logging_ = std::make_unique<Logging>(LogOptions{format, level}, sink);
    return logging_->logger("reconciler");
  }

  std::ostringstream out_;
  std::unique_ptr<Logging> logging_;
};

TEST_F(LoggingTest, JsonLinesParseOneByOneWithTheirFields) {
  auto log = make(LogFormat::kJson, spdlog::level::debug);
  log->info("[shop/web] apply apps/v1 deployments shop/web-green: {}", "deploy revision 8a01e2");
  log->warn("quotes \" and backslashes \\ and a\nnewline and tabs\t and unicode é");
  log->debug("[not a key] stays in msg");
  log->error("invalid utf-8: \xff\xfe end");
  log->flush();

  auto ls = lines(out_.str());
  ASSERT_EQ(ls.size(), 4u) << out_.str();
  std::vector<json> js;
  for (const auto& l : ls) {
    json j = json::parse(l, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << l;
    for (const char* k : {"ts", "level", "logger", "msg"}) EXPECT_TRUE(j.contains(k)) << k << " in " << l;
    js.push_back(j);
  }
  EXPECT_EQ(js[0]["level"], "info");
  EXPECT_EQ(js[0]["logger"], "reconciler");
  EXPECT_EQ(js[0]["release"], "shop/web");
  EXPECT_EQ(js[0]["msg"], "apply apps/v1 deployments shop/web-green: deploy revision 8a01e2");
  EXPECT_EQ(js[1]["level"], "warning");
  EXPECT_EQ(js[1]["msg"], "quotes \" and backslashes \\ and a\nnewline and tabs\t and unicode é");
  EXPECT_FALSE(js[1].contains("release"));
  EXPECT_EQ(js[2]["msg"], "[not a key] stays in msg");
  EXPECT_FALSE(js[2].contains("release"));
  EXPECT_EQ(js[3]["level"], "error");
  // ts: RFC 3339 UTC with milliseconds.
  const std::string ts = js[0]["ts"];
  EXPECT_EQ(ts.size(), 24u) << ts;
  EXPECT_EQ(ts.back(), 'Z');
  EXPECT_EQ(ts[10], 'T');
}

TEST_F(LoggingTest, TextLinesCarryLevelLoggerAndTheReleaseTag) {
  auto log = make(LogFormat::kText, spdlog::level::info);
  log->info("[shop/web] switched to green");
  log->debug("hidden at info");
  log->flush();
  auto ls = lines(out_.str());
  ASSERT_EQ(ls.size(), 1u) << out_.str();
  EXPECT_NE(ls[0].find(" info "), std::string::npos) << ls[0];
  EXPECT_NE(ls[0].find(" reconciler [shop/web] switched to green"), std::string::npos) << ls[0];
  EXPECT_EQ(ls[0][10], 'T');
}

TEST_F(LoggingTest, NoSecretReachesTheOutputAtDebugInEitherFormat) {
  for (LogFormat format : {LogFormat::kText, LogFormat::kJson}) {
    out_.str("");
    auto log = make(format, spdlog::level::trace);
    for (const auto& m : secretMessages()) {
      log->trace("{}", m);
      log->debug("[shop/web] {}", m);
    }
    log->flush();
    const std::string all = out_.str();
    ASSERT_EQ(lines(all).size(), 2 * secretMessages().size()) << all;
    for (const std::string& secret : {kJwt, kOpaqueToken, kPemBody, kPemB64, std::string("BEGIN RSA")}) {
      EXPECT_EQ(all.find(secret), std::string::npos) << "leaked " << secret << " in\n" << all;
    }
    // JWT parts alone must not survive either.
    EXPECT_EQ(all.find(kJwt.substr(0, 30)), std::string::npos);
    // What is not secret stays readable.
    EXPECT_NE(all.find("request headers: Authorization: [REDACTED]"), std::string::npos) << all;
    EXPECT_NE(all.find("from file"), std::string::npos);
    EXPECT_NE(all.find("&x=1"), std::string::npos);
  }
}

TEST(RedactTest, KeepsOrdinaryMessagesUnchanged) {
  for (const std::string m : {"switched shop/web from blue to green (revision 8a01e2)",
                              "apply core/v1 services shop/web-blue: token bucket limiter at 5/s",
                              "tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token",
                              "secretName: shop-tls", "keys: 3"}) {
    EXPECT_EQ(redactSecrets(m), m);
  }
}

TEST(RedactTest, MasksEachShape) {
  EXPECT_EQ(redactSecrets("Authorization: Bearer abc.def"), "Authorization: [REDACTED]");
  EXPECT_EQ(redactSecrets("sent bearer abc.def-ghi"), "sent bearer [REDACTED]");
  EXPECT_EQ(redactSecrets("token: s3cr3t"), "token: [REDACTED]");
  EXPECT_EQ(redactSecrets("{\"token\":\"s3cr3t\",\"x\":1}"), "{\"token\":\"[REDACTED]\",\"x\":1}");
  EXPECT_EQ(redactSecrets("client-key-data: " + kPemB64), "client-key-data: [REDACTED PEM]");
  EXPECT_EQ(redactSecrets("client-key-data: c2VjcmV0"), "client-key-data: [REDACTED]");
  EXPECT_EQ(redactSecrets("ca " + kPemB64 + " end"), "ca [REDACTED PEM] end");
  EXPECT_EQ(redactSecrets("a " + kPem + " b"), "a [REDACTED PEM] b");
  EXPECT_EQ(redactSecrets("jwt " + kJwt), "jwt [REDACTED JWT]");
}

TEST(LogFlagsTest, ParsesFormatsAndLevels) {
  EXPECT_EQ(*parseLogFormat("json"), LogFormat::kJson);
  EXPECT_EQ(*parseLogFormat("TEXT"), LogFormat::kText);
  auto bad = parseLogFormat("xml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, core::ErrorCode::kConfig);
  EXPECT_EQ(*parseLogLevel("debug"), spdlog::level::debug);
  EXPECT_EQ(*parseLogLevel("warn"), spdlog::level::warn);
  EXPECT_EQ(*parseLogLevel("warning"), spdlog::level::warn);
  EXPECT_EQ(*parseLogLevel("error"), spdlog::level::err);
  EXPECT_FALSE(parseLogLevel("loud").ok());
}

TEST(ReleaseTagTest, SplitsOnlyObjectKeys) {
  auto t = splitReleaseTag("[shop/web] hello");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->release, "shop/web");
  EXPECT_EQ(t->rest, "hello");
  EXPECT_FALSE(splitReleaseTag("[web] hello").has_value());
  EXPECT_FALSE(splitReleaseTag("[Shop/Web] hello").has_value());
  EXPECT_FALSE(splitReleaseTag("hello [shop/web]").has_value());
  EXPECT_FALSE(splitReleaseTag("[shop/web hello").has_value());
}

}  // namespace
}  // namespace bgo::observability
