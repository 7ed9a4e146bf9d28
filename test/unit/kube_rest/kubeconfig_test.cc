#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "operator/kube/rest/config.h"
#include "operator/kube/rest/token_source.h"
#include "unit/kube_rest/test_pki.h"

namespace bgo::kube::rest {
namespace {

namespace fs = std::filesystem;
using core::ErrorCode;
using ::testing::HasSubstr;

std::string base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// Certificates are slow-ish to make: once for the whole suite.
struct Pki {
  testing::TestCert ca = testing::makeCa("test-ca");
  testing::TestCert client = testing::makeSigned(ca, "admin");
  testing::TestCert other = testing::makeSigned(ca, "other");
};
const Pki& pki() {
  static const Pki p;
  return p;
}

class KubeconfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("bgo-kubeconfig-" + std::to_string(getpid()) + "-" +
                                        std::to_string(rd()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& rel, const std::string& content) {
    fs::path p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }

  // A kubeconfig with one cluster/user/context; `cluster_extra` and `user_extra`
  // are YAML lines (already indented) added to the cluster and user maps.
  std::string kubeconfig(const std::string& cluster_extra, const std::string& user_extra,
                         const std::string& current = "dev") {
    return "apiVersion: v1\nkind: Config\ncurrent-context: " + current +
           "\n"
           "clusters:\n"
           "- name: local\n"
           "  cluster:\n"
           "    server: https://127.0.0.1:6443/\n" +
           cluster_extra +
           "users:\n"
           "- name: admin\n"
           "  user:\n" +
           user_extra +
           "contexts:\n"
           "- name: dev\n"
           "  context:\n"
           "    cluster: local\n"
           "    user: admin\n"
           "    namespace: team-a\n";
  }

  std::string caData() const { return "    certificate-authority-data: " + base64(pki().ca.cert_pem) + "\n"; }

  fs::path dir_;
};

TEST_F(KubeconfigTest, ReadsCurrentContextWithInlineData) {
  auto path = write("config",
                    kubeconfig(caData(), "    client-certificate-data: " + base64(pki().client.cert_pem) +
                                             "\n    client-key-data: " + base64(pki().client.key_pem) +
                                             "\n    token: abc123\n"));
  auto cfg = loadKubeconfig(path);
  ASSERT_TRUE(cfg.ok()) << cfg.error().describe();
  EXPECT_EQ(cfg->server, "https://127.0.0.1:6443");
  EXPECT_EQ(cfg->ca_pem, pki().ca.cert_pem);
  EXPECT_EQ(cfg->client_cert_pem, pki().client.cert_pem);
  EXPECT_EQ(cfg->client_key_pem, pki().client.key_pem);
  EXPECT_EQ(cfg->token, "abc123");
  EXPECT_EQ(cfg->ns, "team-a");
  EXPECT_FALSE(cfg->insecure_skip_tls_verify);
  EXPECT_THAT(cfg->source, HasSubstr("context \"dev\""));
}

TEST_F(KubeconfigTest, ReadsNamedContextInsteadOfCurrent) {
  // current-context names a context that does not exist; "prod" uses a second user.
  std::string text = kubeconfig(caData(), "    token: t1\n", "missing-one");
  text += "- name: prod\n  context:\n    cluster: local\n    user: robot\n";
  text.insert(text.find("contexts:"), "- name: robot\n  user:\n    token: t2\n");
  auto path = write("config", text);
  auto cfg = loadKubeconfig(path, "prod");
  ASSERT_TRUE(cfg.ok()) << cfg.error().describe();
  EXPECT_EQ(cfg->token, "t2");
  EXPECT_EQ(cfg->ns, "");
  // The current context does not exist: using it fails with its name.
  auto current = loadKubeconfig(path);
  ASSERT_FALSE(current.ok());
  EXPECT_EQ(current.error().message, "kubeconfig " + path + ": context \"missing-one\" not found");
}

TEST_F(KubeconfigTest, ResolvesRelativeFilesAgainstItsFolder) {
  write("conf/pki/ca.crt", pki().ca.cert_pem);
  write("conf/pki/client.crt", pki().client.cert_pem);
  write("conf/pki/client.key", pki().client.key_pem);
  write("conf/token", "file-token\n");
  auto path = write("conf/config", kubeconfig("    certificate-authority: pki/ca.crt\n",
                                              "    client-certificate: pki/client.crt\n"
                                              "    client-key: ./pki/client.key\n"
                                              "    tokenFile: token\n"));
  // The working directory must not matter.
  auto old = fs::current_path();
  fs::current_path(fs::temp_directory_path());
  auto cfg = loadKubeconfig(path);
  fs::current_path(old);
  ASSERT_TRUE(cfg.ok()) << cfg.error().describe();
  EXPECT_EQ(cfg->ca_pem, pki().ca.cert_pem);
  EXPECT_EQ(cfg->client_cert_pem, pki().client.cert_pem);
  EXPECT_EQ(cfg->client_key_pem, pki().client.key_pem);
  EXPECT_EQ(cfg->token, "");
  EXPECT_EQ(cfg->token_file, (dir_ / "conf/token").string());
}

TEST_F(KubeconfigTest, FailsOnMissingFile) {
  std::string path = (dir_ / "nope").string();
  auto cfg = loadKubeconfig(path);
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().code, ErrorCode::kConfig);
  EXPECT_EQ(cfg.error().message,
            "kubeconfig " + path + ": cannot read " + path + ": No such file or directory");
}

// A path naming a device or a huge file must not be read to the end of memory.
TEST_F(KubeconfigTest, RefusesNamedFilesLargerThanFourMiB) {
  auto path = write("config", kubeconfig("    certificate-authority: /dev/zero\n", "    token: t\n"));
  auto cfg = loadKubeconfig(path);
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(cfg.error().message, HasSubstr("cannot read /dev/zero: larger than 4 MiB"));
  EXPECT_THAT(cfg.error().message, HasSubstr("kubeconfig " + path));

  write("big.crt", std::string((4u << 20) + 1, 'x'));
  auto big = loadKubeconfig(write("config2", kubeconfig("    certificate-authority: big.crt\n", "    token: t\n")));
  ASSERT_FALSE(big.ok());
  EXPECT_THAT(big.error().message, HasSubstr("big.crt: larger than 4 MiB"));
}

// The text form reads the same as the file and names the path it was given.
TEST_F(KubeconfigTest, ParsesTextUnderTheGivenPath) {
  auto cfg = parseKubeconfig(kubeconfig(caData(), "    token: t\n"), "/somewhere/config");
  ASSERT_TRUE(cfg.ok()) << cfg.error().describe();
  EXPECT_EQ(cfg->server, "https://127.0.0.1:6443");
  EXPECT_EQ(cfg->source, "kubeconfig /somewhere/config (context \"dev\")");
  auto bad = parseKubeconfig("- a\n", "/somewhere/config");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message, HasSubstr("kubeconfig /somewhere/config"));
}

TEST_F(KubeconfigTest, FailsOnBadYaml) {
  auto path = write("config", "clusters: [\n  - name: x\n  cluster: {server: }\n");
  auto cfg = loadKubeconfig(path);
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(cfg.error().message, HasSubstr("kubeconfig " + path + ": not valid YAML"));
  EXPECT_THAT(cfg.error().message, HasSubstr("line"));
}

TEST_F(KubeconfigTest, FailsWhenTopLevelIsNotAMap) {
  auto path = write("config", "- just\n- a list\n");
  auto cfg = loadKubeconfig(path);
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().message, "kubeconfig " + path + ": not a kubeconfig (the top level is not a map)");
}

TEST_F(KubeconfigTest, FailsWithoutCurrentContext) {
  std::string text = kubeconfig(caData(), "    token: t\n");
  text.replace(text.find("current-context: dev\n"), 21, "");
  auto path = write("config", text);
  auto cfg = loadKubeconfig(path);
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().message, "kubeconfig " + path + ": no current-context set and no context given");
}

TEST_F(KubeconfigTest, NamesTheMissingContextClusterOrUser) {
  auto path = write("config", kubeconfig(caData(), "    token: t\n"));
  auto ctx = loadKubeconfig(path, "foo");
  ASSERT_FALSE(ctx.ok());
  EXPECT_EQ(ctx.error().message, "kubeconfig " + path + ": context \"foo\" not found");

  std::string text = kubeconfig(caData(), "    token: t\n");
  text.replace(text.find("cluster: local\n"), 15, "cluster: gone\n");
  path = write("config2", text);
  auto cluster = loadKubeconfig(path);
  ASSERT_FALSE(cluster.ok());
  EXPECT_EQ(cluster.error().message,
            "kubeconfig " + path + ": cluster \"gone\" (from contexts[0].context.cluster) not found");

  text = kubeconfig(caData(), "    token: t\n");
  text.replace(text.find("user: admin\n"), 12, "user: ghost\n");
  path = write("config3", text);
  auto user = loadKubeconfig(path);
  ASSERT_FALSE(user.ok());
  EXPECT_EQ(user.error().message,
            "kubeconfig " + path + ": user \"ghost\" (from contexts[0].context.user) not found");
}

TEST_F(KubeconfigTest, NamesTheFieldWithBadBase64) {
  auto path = write("config", kubeconfig(caData(), "    client-certificate-data: " +
                                                       base64(pki().client.cert_pem) +
                                                       "\n    client-key-data: not*base64!\n"));
  auto cfg = loadKubeconfig(path);
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().code, ErrorCode::kConfig);
  EXPECT_EQ(cfg.error().message, "kubeconfig " + path + ": users[0].user.client-key-data: not valid base64");
}

TEST_F(KubeconfigTest, NamesTheFieldWhenCaIsNotACertificate) {
  auto path = write("config", kubeconfig("    certificate-authority-data: " + base64("hello") + "\n",
                                         "    token: t\n"));
  auto cfg = loadKubeconfig(path);
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().message, "kubeconfig " + path +
                                     ": clusters[0].cluster.certificate-authority-data: no PEM certificate found");
}

TEST_F(KubeconfigTest, RejectsKeyThatDoesNotMatchCertificate) {
  auto path = write("config", kubeconfig(caData(), "    client-certificate-data: " +
                                                       base64(pki().client.cert_pem) +
                                                       "\n    client-key-data: " + base64(pki().other.key_pem) +
                                                       "\n"));
  auto cfg = loadKubeconfig(path);
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().message,
            "kubeconfig " + path + ": users[0].user: the client key does not belong to the client certificate");
}

TEST_F(KubeconfigTest, RejectsCertificateWithoutKey) {
  auto path = write("config", kubeconfig(caData(), "    client-certificate-data: " +
                                                       base64(pki().client.cert_pem) + "\n"));
  auto cfg = loadKubeconfig(path);
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().message,
            "kubeconfig " + path + ": users[0].user: client-certificate given without client-key");
}

TEST_F(KubeconfigTest, ReportsTlsServerNameAsUnsupported) {
  auto path = write("config", kubeconfig(caData() + "    tls-server-name: api.internal\n", "    token: t\n"));
  auto cfg = loadKubeconfig(path);
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(cfg.error().message,
              HasSubstr("kubeconfig " + path + ": clusters[0].cluster.tls-server-name: not supported"));
}

TEST_F(KubeconfigTest, ReportsExecPluginsAsUnsupported) {
  auto path = write("config", kubeconfig(caData(), "    exec:\n      command: aws\n"));
  auto cfg = loadKubeconfig(path);
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(cfg.error().message, HasSubstr("kubeconfig " + path + ": users[0].user.exec: not supported"));
}

TEST_F(KubeconfigTest, NamesAMissingFileReferencedByAField) {
  auto path = write("config", kubeconfig(caData(), "    tokenFile: secrets/token\n"));
  auto cfg = loadKubeconfig(path);
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().message, "kubeconfig " + path + ": users[0].user.tokenFile: cannot read " +
                                     (dir_ / "secrets/token").string() + ": No such file or directory");

  path = write("config2", kubeconfig("    certificate-authority: ca.pem\n", "    token: t\n"));
  cfg = loadKubeconfig(path);
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().message, "kubeconfig " + path + ": clusters[0].cluster.certificate-authority: cannot read " +
                                     (dir_ / "ca.pem").string() + ": No such file or directory");
}

TEST_F(KubeconfigTest, SkipsVerificationOnlyWhenAsked) {
  auto path = write("config", kubeconfig("", "    token: t\n"));
  auto no_ca = loadKubeconfig(path);
  ASSERT_FALSE(no_ca.ok());
  EXPECT_THAT(no_ca.error().message, HasSubstr("clusters[0].cluster: no certificate-authority(-data)"));

  path = write("config2", kubeconfig("    insecure-skip-tls-verify: true\n", "    token: t\n"));
  auto insecure = loadKubeconfig(path);
  ASSERT_TRUE(insecure.ok()) << insecure.error().describe();
  EXPECT_TRUE(insecure->insecure_skip_tls_verify);

  path = write("config3", kubeconfig("    insecure-skip-tls-verify: maybe\n", "    token: t\n"));
  auto bad = loadKubeconfig(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message,
            "kubeconfig " + path + ": clusters[0].cluster.insecure-skip-tls-verify: expected true or false");

  path = write("config4", kubeconfig(caData() + "    insecure-skip-tls-verify: true\n", "    token: t\n"));
  auto both = loadKubeconfig(path);
  ASSERT_FALSE(both.ok());
  EXPECT_THAT(both.error().message, HasSubstr("mutually exclusive"));
}

TEST_F(KubeconfigTest, RejectsServerThatIsNotAUrl) {
  std::string text = kubeconfig(caData(), "    token: t\n");
  text.replace(text.find("https://127.0.0.1:6443/"), 23, "127.0.0.1:6443");
  auto path = write("config", text);
  auto cfg = loadKubeconfig(path);
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().message,
            "kubeconfig " + path + ": clusters[0].cluster.server: \"127.0.0.1:6443\" is not an http(s) URL");
}

TEST_F(KubeconfigTest, ReadsInClusterConfiguration) {
  write("sa/token", "sa-token");
  write("sa/ca.crt", pki().ca.cert_pem);
  write("sa/namespace", "operators\n");
  auto cfg = inClusterConfigFrom((dir_ / "sa").string(), "10.96.0.1", "443");
  ASSERT_TRUE(cfg.ok()) << cfg.error().describe();
  EXPECT_EQ(cfg->server, "https://10.96.0.1:443");
  EXPECT_EQ(cfg->token_file, (dir_ / "sa/token").string());
  EXPECT_EQ(cfg->ca_pem, pki().ca.cert_pem);
  EXPECT_EQ(cfg->ns, "operators");

  auto v6 = inClusterConfigFrom((dir_ / "sa").string(), "fd00::1", "443");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->server, "https://[fd00::1]:443");

  auto no_env = inClusterConfigFrom((dir_ / "sa").string(), "", "");
  ASSERT_FALSE(no_env.ok());
  EXPECT_THAT(no_env.error().message, HasSubstr("KUBERNETES_SERVICE_HOST"));

  auto no_token = inClusterConfigFrom((dir_ / "elsewhere").string(), "10.96.0.1", "443");
  ASSERT_FALSE(no_token.ok());
  EXPECT_THAT(no_token.error().message, HasSubstr((dir_ / "elsewhere/token").string()));
}

TEST_F(KubeconfigTest, ResolvesFlagBeforeEnvironment) {
  auto flag = write("flag-config", kubeconfig(caData(), "    token: from-flag\n"));
  auto env = write("env-config", kubeconfig(caData(), "    token: from-env\n"));
  const char* saved = std::getenv("KUBECONFIG");
  std::string saved_value = saved ? saved : "";
  setenv("KUBECONFIG", env.c_str(), 1);
  auto by_flag = resolveConfig(flag);
  auto by_env = resolveConfig("");
  setenv("KUBECONFIG", (env + ":" + flag).c_str(), 1);
  auto listed = resolveConfig("");
  if (saved) setenv("KUBECONFIG", saved_value.c_str(), 1); else unsetenv("KUBECONFIG");
  ASSERT_TRUE(by_flag.ok()) << by_flag.error().describe();
  EXPECT_EQ(by_flag->token, "from-flag");
  ASSERT_TRUE(by_env.ok()) << by_env.error().describe();
  EXPECT_EQ(by_env->token, "from-env");
  ASSERT_FALSE(listed.ok());
  EXPECT_THAT(listed.error().message, HasSubstr("several files are not supported"));
}

TEST(Base64Test, DecodesStrictStandardBase64) {
  EXPECT_EQ(decodeBase64(""), "");
  EXPECT_EQ(decodeBase64("Zg=="), "f");
  EXPECT_EQ(decodeBase64("Zm8="), "fo");
  EXPECT_EQ(decodeBase64("Zm9v"), "foo");
  EXPECT_EQ(decodeBase64("Zm9v\nYmFy\n"), "foobar");
  EXPECT_EQ(decodeBase64("Zm9vYg=="), "foob");
  EXPECT_EQ(decodeBase64("Zm9"), std::nullopt);       // not a multiple of 4
  EXPECT_EQ(decodeBase64("Zm9v!A=="), std::nullopt);  // bad character
  EXPECT_EQ(decodeBase64("Z==="), std::nullopt);      // too much padding
  EXPECT_EQ(decodeBase64("Zg==Zm9v"), std::nullopt);  // padding in the middle
  EXPECT_EQ(decodeBase64("Zm-v"), std::nullopt);      // URL alphabet is not standard
}

class StepClock final : public core::Clock {
 public:
  core::SteadyTime now() const override { return t; }
  core::WallTime wallNow() const override { return {}; }
  core::SteadyTime t{};
};

TEST_F(KubeconfigTest, TokenSourceRereadsRotatedFile) {
  auto path = write("token", "first\n");
  StepClock clock;
  TokenSource source("", path, clock);
  auto t1 = source.token();
  ASSERT_TRUE(t1.ok());
  EXPECT_EQ(*t1, "first");

  // Rotation changes the file and its mtime: picked up on the next request.
  write("token", "second-token");
  fs::last_write_time(path, fs::last_write_time(path) + std::chrono::seconds(5));
  EXPECT_EQ(*source.token(), "second-token");

  // Same size and mtime: the cache is served until a minute has passed.
  auto mtime = fs::last_write_time(path);
  write("token", "second-tokeX");
  fs::last_write_time(path, mtime);
  EXPECT_EQ(*source.token(), "second-token");
  clock.t += TokenSource::kMaxAge;
  EXPECT_EQ(*source.token(), "second-tokeX");

  // The file vanishing mid-rotation keeps the last good token.
  fs::remove(path);
  clock.t += TokenSource::kMaxAge;
  EXPECT_EQ(*source.token(), "second-tokeX");
}

TEST(TokenSourceTest, StaticTokenWinsAndMissingFileFails) {
  StepClock clock;
  EXPECT_EQ(*TokenSource("static", "/nonexistent", clock).token(), "static");
  EXPECT_EQ(*TokenSource("", "", clock).token(), "");
  auto missing = TokenSource("", "/nonexistent/token", clock).token();
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kConfig);
}

}  // namespace
}  // namespace bgo::kube::rest
