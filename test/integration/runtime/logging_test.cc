// The operator's own log at debug level in JSON: one object per line, the
// release in its own field, and not a trace of the credentials it runs with.
#include <csignal>
#include <fstream>
#include <iostream>
#include <regex>
#include <set>
#include <sstream>

#include "integration/runtime/runtime_fixture.h"

namespace bgo::itest {
namespace {

std::string base64Decode(const std::string& in) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int bits = 0;
  unsigned value = 0;
  for (char c : in) {
    const auto pos = kAlphabet.find(c);
    if (pos == std::string::npos) continue;  // padding, newlines
    value = (value << 6) | static_cast<unsigned>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((value >> bits) & 0xff));
    }
  }
  return out;
}

class RuntimeLoggingTest : public RuntimeTest {};

TEST_F(RuntimeLoggingTest, JsonLinesParseCarryTheReleaseAndLeakNoSecret) {
  auto sa = makeServiceAccountKubeconfig(*client_, ns_, uniqueLogPath("sa", ".kubeconfig"));
  ASSERT_TRUE(sa.error.empty()) << sa.error;
  ASSERT_GT(sa.token.size(), 100u) << "not a service account token: " << sa.token;

  OperatorProcess* op = startOperator({.kubeconfig = sa.path, .args = {"--log-format=json", "--log-level=debug"}});
  ASSERT_TRUE(op);
  createRelease(kImage1);
  ASSERT_TRUE(waitStable(60s, "blue"));
  setImage(kImage2);
  ASSERT_TRUE(waitStable(60s, "green"));
  ASSERT_TRUE(op->proc->signal(SIGTERM));
  EXPECT_EQ(op->proc->wait(20s), 0);

  const std::string text = logText(*op);
  const std::string release = ns_ + "/" + name_;
  static const std::regex kTs(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
  static const std::set<std::string> kLevels{"trace", "debug", "info", "warning", "error", "critical"};
  std::istringstream in(text);
  int lines = 0, with_release = 0, debug_lines = 0, bad = 0;
  std::set<std::string> loggers;
  bool switched_with_release = false;
  for (std::string line; std::getline(in, line);) {
    ++lines;
    SCOPED_TRACE("line " + std::to_string(lines) + ": " + line);
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      ADD_FAILURE() << "not a JSON object";
      if (++bad > 5) break;
      continue;
    }
    for (const char* key : {"ts", "level", "logger", "msg"}) {
      EXPECT_TRUE(j.contains(key) && j[key].is_string()) << "no string " << key;
    }
    const std::string ts = j.value("ts", ""), level = j.value("level", ""), msg = j.value("msg", "");
    EXPECT_TRUE(std::regex_match(ts, kTs)) << "ts " << ts;
    EXPECT_TRUE(kLevels.count(level)) << "level " << level;
    loggers.insert(j.value("logger", ""));
    if (level == "debug") ++debug_lines;
    EXPECT_NE(msg.rfind("[" + release + "]", 0), 0u) << "the release prefix stayed in msg";
    if (j.contains("release")) {
      ++with_release;
      EXPECT_EQ(j["release"], release);
      if (msg.find("Switched") != std::string::npos) switched_with_release = true;
    } else {
      // A line about this release without the field would escape a query by release.
      EXPECT_EQ(msg.find(release), std::string::npos) << "names the release but has no release field";
    }
  }
  EXPECT_GT(lines, 20);
  EXPECT_GE(with_release, 5) << "reconcile lines carrying release=" << release;
  EXPECT_TRUE(switched_with_release) << "the Switched event line carries the release";
  EXPECT_TRUE(loggers.count("reconciler") && loggers.count("operator") && loggers.count("leader-election"))
      << "loggers seen: " << loggers.size();

  // Credentials: the token (whole and its JWT parts), the CA data (base64 and its PEM).
  std::vector<std::string> secrets{sa.token, sa.ca_data, sa.ca_data.substr(sa.ca_data.size() / 2, 40)};
  std::stringstream parts(sa.token);
  for (std::string part; std::getline(parts, part, '.');) {
    if (part.size() >= 16) secrets.push_back(part);
  }
  std::istringstream pem(base64Decode(sa.ca_data));
  for (std::string line; std::getline(pem, line);) {
    if (line.size() >= 32 && line.find("-----") == std::string::npos) secrets.push_back(line);
  }
  ASSERT_GT(secrets.size(), 5u);
  for (const auto& s : secrets) {
    EXPECT_EQ(text.find(s), std::string::npos) << "a credential appears in the log: " << s.substr(0, 12) << "...";
  }
  EXPECT_EQ(text.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_EQ(text.find("PRIVATE KEY"), std::string::npos);
  std::cout << "[ figures  ] " << lines << " JSON lines (" << debug_lines << " debug, " << with_release
            << " with release), " << secrets.size() << " credential strings absent\n";
}

TEST_F(RuntimeLoggingTest, RejectedTokenNeverAppearsInTheLog) {
  // A token the API server refuses (its signature altered): every list fails
  // with 401 and is logged, the error paths are where a credential would leak.
  auto sa = makeServiceAccountKubeconfig(*client_, ns_, uniqueLogPath("sa", ".kubeconfig"));
  ASSERT_TRUE(sa.error.empty()) << sa.error;
  std::string bad = sa.token;
  // Not the last character: its low bits are padding a lenient decoder ignores.
  char& c = bad[bad.size() - 10];
  c = c == 'A' ? 'B' : 'A';
  {
    std::ifstream in(sa.path);
    std::stringstream text;
    text << in.rdbuf();
    std::string content = text.str();
    content.replace(content.find(sa.token), sa.token.size(), bad);
    std::ofstream(sa.path, std::ios::trunc) << content;
  }
  OperatorProcess* op = startOperator({.kubeconfig = sa.path, .args = {"--log-format=json", "--log-level=trace"}});
  ASSERT_TRUE(op);
  ASSERT_TRUE(waitFor("401s in the log", [&] {
    std::istringstream in(logText(*op));
    int rejected = 0;
    for (std::string line; std::getline(in, line);) {
      if (line.find("401") != std::string::npos) ++rejected;
    }
    return rejected >= 5;
  }, 20s));
  ASSERT_TRUE(op->proc->signal(SIGTERM));
  EXPECT_EQ(op->proc->wait(10s), 0);
  const std::string text = logText(*op);
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    EXPECT_FALSE(json::parse(line, nullptr, false).is_discarded()) << line;
  }
  std::stringstream parts(bad);
  for (std::string part; std::getline(parts, part, '.');) {
    if (part.size() >= 16) {
      EXPECT_EQ(text.find(part), std::string::npos) << "a part of the token is in the log";
    }
  }
  EXPECT_EQ(text.find(bad), std::string::npos);
  EXPECT_EQ(text.find(sa.ca_data.substr(0, 40)), std::string::npos);
}

TEST_F(RuntimeLoggingTest, TextLinesOfAReconcileStartWithTheRelease) {
  OperatorProcess* op = startOperator({.leader_elect = false});
  ASSERT_TRUE(op);
  createRelease(kImage1);
  ASSERT_TRUE(waitStable(60s, "blue"));
  const std::string prefix = "[" + ns_ + "/" + name_ + "] ";
  std::istringstream in(logText(*op));
  int with_prefix = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find(prefix) != std::string::npos) ++with_prefix;
    if (line.find(" reconciler ") != std::string::npos && line.find("Switched") != std::string::npos) {
      EXPECT_NE(line.find(prefix), std::string::npos) << line;
    }
  }
  EXPECT_GE(with_prefix, 3) << tailFile(op->log_path, 30);
}

}  // namespace
}  // namespace bgo::itest
