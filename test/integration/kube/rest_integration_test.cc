// RestKubeClient against the real control plane. The contract suite
// (contract_test.cc) covers CRUD semantics shared with the fake (409 on a
// stale replace, no-op apply, status subresource, watch ordering); this file
// covers what only a real server and a real transport show.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/kube/plane.h"
#include "unit/kube_rest/test_pki.h"

namespace bgo::testing {
namespace {

using core::ErrorCode;
using kube::PatchType;
using kube::WatchEvent;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

const core::Gvr kServiceAccounts{"", "v1", "serviceaccounts", true};

json configMap(const std::string& ns, const std::string& name, const json& labels = json::object()) {
  return json{{"apiVersion", "v1"},
              {"kind", "ConfigMap"},
              {"metadata", {{"name", name}, {"namespace", ns}, {"labels", labels}}},
              {"data", {{"v", "0"}}}};
}

long long millisSince(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

class RestIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfg = planeConfig();
    if (!cfg) FAIL() << cfg.error().message;
    config_ = *cfg;
    auto c = kube::rest::RestKubeClient::make(config_);
    ASSERT_TRUE(c.ok()) << c.error().describe();
    client_ = std::move(*c);
    ns_ = std::make_unique<TestNamespace>(*client_, "rest");
    ASSERT_FALSE(ns_->error().has_value()) << ns_->error()->describe();
  }
  void TearDown() override { ns_.reset(); }

  const std::string& ns() const { return ns_->name(); }

  std::unique_ptr<kube::rest::RestKubeClient> clientWith(const kube::rest::ClusterConfig& cfg,
                                                         kube::rest::RestOptions opts = {}) {
    auto c = kube::rest::RestKubeClient::make(cfg, opts);
    EXPECT_TRUE(c.ok()) << c.error().describe();
    return c ? std::move(*c) : nullptr;
  }

  std::string listRv() {
    auto l = client_->list(core::gvrs::kConfigMaps, ns());
    EXPECT_TRUE(l.ok()) << l.error().describe();
    return l ? (*l)["metadata"]["resourceVersion"].get<std::string>() : "";
  }

  // The next event about one of our objects (skips bookmarks and kube-root-ca.crt).
  core::Result<std::optional<WatchEvent>> nextOurs(kube::WatchStream& s) {
    for (;;) {
      auto ev = nextNonBookmark(s);
      if (!ev || !*ev) return ev;
      if ((**ev).object["metadata"].value("name", "") != "kube-root-ca.crt") return ev;
    }
  }

  kube::rest::ClusterConfig config_;
  std::unique_ptr<kube::rest::RestKubeClient> client_;
  std::unique_ptr<TestNamespace> ns_;
};

TEST_F(RestIntegrationTest, PagesThroughMoreObjectsThanOnePage) {
  for (int i = 0; i < 120; ++i) {
    auto r = client_->create(core::gvrs::kConfigMaps, ns(), configMap(ns(), "page-" + std::to_string(i), {{"set", "p"}}));
    ASSERT_TRUE(r.ok()) << r.error().describe();
  }
  kube::ListOptions opts;
  opts.limit = 50;
  opts.label_selector = "set=p";
  std::vector<size_t> sizes;
  std::set<std::string> names;
  std::string first_rv;
  for (;;) {
    auto page = client_->list(core::gvrs::kConfigMaps, ns(), opts);
    ASSERT_TRUE(page.ok()) << page.error().describe();
    sizes.push_back((*page)["items"].size());
    for (const auto& it : (*page)["items"]) names.insert(it["metadata"]["name"].get<std::string>());
    // Every page is served from the snapshot of the first one.
    std::string rv = (*page)["metadata"]["resourceVersion"];
    if (first_rv.empty()) first_rv = rv;
    EXPECT_EQ(rv, first_rv);
    opts.continue_token = (*page)["metadata"].value("continue", "");
    if (opts.continue_token.empty()) break;
    ASSERT_LT(sizes.size(), 10u) << "paging does not end";
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{50, 50, 20}));
  EXPECT_EQ(names.size(), 120u);

  kube::ListOptions all;
  all.limit = 50;
  all.label_selector = "set=p";
  auto everything = kube::listAll(*client_, core::gvrs::kConfigMaps, ns(), all);
  ASSERT_TRUE(everything.ok()) << everything.error().describe();
  EXPECT_EQ(everything->items.size(), 120u);
}

TEST_F(RestIntegrationTest, WatchSeesEachWriteAsItHappens) {
  kube::WatchOptions w;
  w.resource_version = listRv();
  w.timeout_seconds = 60;
  auto stream = client_->watch(core::gvrs::kConfigMaps, ns(), w);
  ASSERT_TRUE(stream.ok()) << stream.error().describe();

  // One write at a time, each event read before the next write: this only
  // passes if events are handed over while the response is still open.
  std::vector<std::function<core::Status()>> writes = {
      [&]() -> core::Status {
        auto r = client_->create(core::gvrs::kConfigMaps, ns(), configMap(ns(), "live"));
        return r ? core::Status() : core::fail(r.error());
      },
      [&]() -> core::Status {
        auto r = client_->patch(core::gvrs::kConfigMaps, ns(), "live", PatchType::kMerge, json{{"data", {{"v", "1"}}}});
        return r ? core::Status() : core::fail(r.error());
      },
      [&]() { return client_->remove(core::gvrs::kConfigMaps, ns(), "live"); },
  };
  std::vector<std::string> types;
  long long worst_ms = 0;
  for (auto& write : writes) {
    auto t0 = Clock::now();
    auto st = write();
    ASSERT_TRUE(st.ok()) << st.error().describe();
    auto ev = nextOurs(**stream);
    ASSERT_TRUE(ev.ok()) << ev.error().describe();
    ASSERT_TRUE(ev->has_value()) << "stream ended early";
    worst_ms = std::max(worst_ms, millisSince(t0));
    types.push_back(kube::toString((**ev).type));
  }
  EXPECT_EQ(types, (std::vector<std::string>{"ADDED", "MODIFIED", "DELETED"}));
  RecordProperty("worst_write_to_event_ms", std::to_string(worst_ms));
}

TEST_F(RestIntegrationTest, WatchCancelledFromAnotherThreadResumesWithoutGapsOrDuplicates) {
  kube::WatchOptions w;
  w.resource_version = listRv();
  w.timeout_seconds = 120;
  auto stream = client_->watch(core::gvrs::kConfigMaps, ns(), w);
  ASSERT_TRUE(stream.ok()) << stream.error().describe();
  ASSERT_TRUE(client_->create(core::gvrs::kConfigMaps, ns(), configMap(ns(), "a")).ok());
  auto first = nextOurs(**stream);
  ASSERT_TRUE(first.ok() && first->has_value());
  std::string last_rv = rvOf((**first).object);

  // next() is blocked on a quiet stream when the other thread cancels.
  auto canceller = std::async(std::launch::async, [&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto t = Clock::now();
    (*stream)->cancel();
    return t;
  });
  // Only our own writes make events here: the namespace's kube-root-ca.crt (published
  // by the controller-manager at any moment) and bookmarks are skipped.
  auto blocked = nextOurs(**stream);
  auto returned_at = Clock::now();
  auto cancelled_at = canceller.get();
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.error().code, ErrorCode::kCancelled) << blocked.error().describe();
  auto cancel_ms = std::chrono::duration_cast<std::chrono::milliseconds>(returned_at - cancelled_at).count();
  EXPECT_LT(cancel_ms, 2000) << "cancel() must end a blocked next() promptly";
  RecordProperty("cancel_to_return_ms", std::to_string(cancel_ms));
  stream->reset();

  // Writes while nobody watches.
  ASSERT_TRUE(client_->patch(core::gvrs::kConfigMaps, ns(), "a", PatchType::kMerge, json{{"data", {{"v", "1"}}}}).ok());
  ASSERT_TRUE(client_->create(core::gvrs::kConfigMaps, ns(), configMap(ns(), "b")).ok());
  ASSERT_TRUE(client_->remove(core::gvrs::kConfigMaps, ns(), "a").ok());

  w.resource_version = last_rv;
  auto resumed = client_->watch(core::gvrs::kConfigMaps, ns(), w);
  ASSERT_TRUE(resumed.ok()) << resumed.error().describe();
  std::vector<std::string> seen;
  while (seen.size() < 3) {
    auto ev = nextOurs(**resumed);
    ASSERT_TRUE(ev.ok()) << ev.error().describe();
    ASSERT_TRUE(ev->has_value());
    seen.push_back(std::string(kube::toString((**ev).type)) + " " +
                   (**ev).object["metadata"]["name"].get<std::string>());
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"MODIFIED a", "ADDED b", "DELETED a"}));
}

TEST_F(RestIntegrationTest, WatchEndsAtServerTimeoutAndOutlivesTheRequestTimeout) {
  // Ordinary requests time out after 2 s of silence; the watch has its own
  // client, so a 5 s quiet watch ends by the server's timeoutSeconds instead.
  kube::rest::RestOptions opts;
  opts.request_timeout = std::chrono::seconds(2);
  auto c = clientWith(config_, opts);
  ASSERT_NE(c, nullptr);
  kube::WatchOptions w;
  w.resource_version = listRv();
  w.timeout_seconds = 5;
  auto t0 = Clock::now();
  auto stream = c->watch(core::gvrs::kConfigMaps, ns(), w);
  ASSERT_TRUE(stream.ok()) << stream.error().describe();
  auto ev = nextOurs(**stream);
  ASSERT_TRUE(ev.ok()) << ev.error().describe();
  EXPECT_FALSE(ev->has_value()) << "a quiet watch ends normally";
  EXPECT_GE(millisSince(t0), 4000);
  // Ended streams stay ended.
  auto again = (*stream)->next();
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());

  // Resume from where the list left off: a write made after the end is seen.
  ASSERT_TRUE(c->create(core::gvrs::kConfigMaps, ns(), configMap(ns(), "after")).ok());
  auto resumed = c->watch(core::gvrs::kConfigMaps, ns(), w);
  ASSERT_TRUE(resumed.ok());
  auto next = nextOurs(**resumed);
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ((**next).object["metadata"]["name"], "after");
}

TEST_F(RestIntegrationTest, WatchFromATooOldResourceVersionIsGone) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(client_->create(core::gvrs::kConfigMaps, ns(), configMap(ns(), "old-" + std::to_string(i))).ok());
  }
  ASSERT_TRUE(waitUntilCompacted(*client_).ok());
  kube::WatchOptions w;
  w.resource_version = "1";
  w.timeout_seconds = 30;
  // Events are watched from etcd (no watch cache), which the plane compacts every 10 s.
  auto stream = client_->watch(core::gvrs::kEvents, ns(), w);
  core::Error error;
  if (!stream.ok()) {
    error = stream.error();  // some servers answer 410 on the request itself
  } else {
    auto ev = (*stream)->next();
    ASSERT_TRUE(ev.ok()) << ev.error().describe();
    ASSERT_TRUE(ev->has_value());
    ASSERT_EQ((**ev).type, WatchEvent::Type::kError) << (**ev).object.dump();
    error = kube::errorFromStatus(0, (**ev).object);
  }
  EXPECT_EQ(error.code, ErrorCode::kGone) << error.describe();
  EXPECT_EQ(error.http_status, 410);
  EXPECT_EQ(error.retry, core::RetryClass::kReplan);
}

TEST_F(RestIntegrationTest, TlsRejectsAServerWhoseCaIsNotTrusted) {
  auto other_ca = makeCa("not-the-plane-ca");
  kube::rest::ClusterConfig wrong = config_;
  wrong.ca_pem = other_ca.cert_pem;
  auto c = clientWith(wrong);
  ASSERT_NE(c, nullptr);
  auto r = c->list(core::gvrs::kNamespaces, "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(r.error().message, HasSubstr("certificate verify failed"));

  // The system store is replaced, not extended: even with the plane's CA as
  // OpenSSL's default CA file, only the configured CA counts.
  auto dir = std::filesystem::temp_directory_path() / uniqueName("bgo-ca");
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "ca.pem") << config_.ca_pem;
  const char* saved = std::getenv("SSL_CERT_FILE");
  std::string saved_value = saved ? saved : "";
  setenv("SSL_CERT_FILE", (dir / "ca.pem").c_str(), 1);
  auto c2 = clientWith(wrong);
  auto r2 = c2->list(core::gvrs::kNamespaces, "");
  if (saved) setenv("SSL_CERT_FILE", saved_value.c_str(), 1); else unsetenv("SSL_CERT_FILE");
  std::filesystem::remove_all(dir);
  ASSERT_FALSE(r2.ok()) << "the default CA file was trusted";
  EXPECT_THAT(r2.error().message, HasSubstr("certificate verify failed"));

  // Control: the right CA works with the same client code.
  EXPECT_TRUE(clientWith(config_)->list(core::gvrs::kNamespaces, "").ok());
}

TEST_F(RestIntegrationTest, TokenWithoutRightsIsForbiddenAndABadTokenUnauthorized) {
  auto sa = client_->create(kServiceAccounts, ns(),
                            json{{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", {{"name", "nobody"}}}});
  ASSERT_TRUE(sa.ok()) << sa.error().describe();
  kube::WriteOptions sub;
  sub.subresource = "token";
  auto tr = client_->create(kServiceAccounts, ns(),
                            json{{"apiVersion", "authentication.k8s.io/v1"},
                                 {"kind", "TokenRequest"},
                                 {"metadata", {{"name", "nobody"}}},
                                 {"spec", {{"expirationSeconds", 600}}}},
                            sub);
  ASSERT_TRUE(tr.ok()) << tr.error().describe();
  std::string token = (*tr)["status"]["token"];
  ASSERT_FALSE(token.empty());

  kube::rest::ClusterConfig nobody = config_;
  nobody.client_cert_pem.clear();
  nobody.client_key_pem.clear();
  nobody.token_file.clear();
  nobody.token = token;
  auto c = clientWith(nobody);
  auto r = c->list(core::gvrs::kConfigMaps, ns());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kForbidden) << r.error().describe();
  EXPECT_EQ(r.error().http_status, 403);
  EXPECT_THAT(r.error().message, HasSubstr("system:serviceaccount:" + ns() + ":nobody"));
  auto w = c->watch(core::gvrs::kConfigMaps, ns(), {});
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code, ErrorCode::kForbidden);

  nobody.token = "not-a-real-token";
  auto bad = clientWith(nobody)->list(core::gvrs::kConfigMaps, ns());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kUnauthorized) << bad.error().describe();
}

std::string readAll(const std::filesystem::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The plane's CA signs client certificates too (--client-ca-file); its key is
// in the plane's state dir (test/controlplane/lib.sh: pki/ca.{crt,key}).
TEST_F(RestIntegrationTest, ClientCertificateAuthenticates) {
  const char* dir = std::getenv("BGO_PLANE_DIR");
  std::filesystem::path pki = dir ? std::filesystem::path(dir) / "pki"
                                  : std::filesystem::path(planeKubeconfigPath()).parent_path() / "pki";
  TestCert plane_ca{readAll(pki / "ca.crt"), readAll(pki / "ca.key")};
  ASSERT_FALSE(plane_ca.key_pem.empty()) << "no CA key in " << pki << " (set BGO_PLANE_DIR)";

  kube::rest::ClusterConfig by_cert = config_;
  by_cert.token.clear();
  by_cert.token_file.clear();
  auto admin = makeSigned(plane_ca, "bgo-cert-admin", {}, {}, "system:masters");
  by_cert.client_cert_pem = admin.cert_pem;
  by_cert.client_key_pem = admin.key_pem;
  auto listed = clientWith(by_cert)->list(core::gvrs::kConfigMaps, ns());
  EXPECT_TRUE(listed.ok()) << listed.error().describe();

  // A certificate identity without rights: the server knows who it is and refuses.
  auto plain = makeSigned(plane_ca, "bgo-cert-nobody");
  by_cert.client_cert_pem = plain.cert_pem;
  by_cert.client_key_pem = plain.key_pem;
  auto refused = clientWith(by_cert)->list(core::gvrs::kConfigMaps, ns());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kForbidden) << refused.error().describe();
  EXPECT_THAT(refused.error().message, HasSubstr("\"bgo-cert-nobody\""));
}

TEST_F(RestIntegrationTest, RotatedTokenFileIsUsedOnTheNextRequest) {
  ASSERT_FALSE(config_.token.empty()) << "the plane's admin kubeconfig is expected to carry a token";
  auto file = std::filesystem::temp_directory_path() / uniqueName("bgo-token");
  std::ofstream(file) << "expired-or-wrong";
  kube::rest::ClusterConfig by_file = config_;
  by_file.client_cert_pem.clear();
  by_file.client_key_pem.clear();
  by_file.token.clear();
  by_file.token_file = file.string();
  auto c = clientWith(by_file);
  auto before = c->list(core::gvrs::kConfigMaps, ns());
  ASSERT_FALSE(before.ok());
  EXPECT_EQ(before.error().code, ErrorCode::kUnauthorized);

  std::ofstream(file) << config_.token;  // the kubelet rewrites projected tokens like this
  std::filesystem::last_write_time(file, std::filesystem::last_write_time(file) + std::chrono::seconds(1));
  auto after = c->list(core::gvrs::kConfigMaps, ns());
  std::filesystem::remove(file);
  EXPECT_TRUE(after.ok()) << after.error().describe();
}

TEST_F(RestIntegrationTest, ConnectionRefusedIsUnavailable) {
  kube::rest::ClusterConfig closed = config_;
  closed.server = "https://127.0.0.1:1";
  auto r = clientWith(closed)->get(core::gvrs::kNamespaces, "", "default");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable) << r.error().describe();
  EXPECT_EQ(r.error().retry, core::RetryClass::kBackoff);
  EXPECT_THAT(r.error().message, HasSubstr("127.0.0.1:1"));
}

struct Seen {
  std::string verb;
  std::string resource;
  int code;
};

class RecordingObserver final : public kube::rest::RequestObserver {
 public:
  void onRequest(std::string_view verb, const core::Gvr& gvr, int code, std::chrono::nanoseconds latency) override {
    std::lock_guard lock(mu);
    seen.push_back({std::string(verb), gvr.resource, code});
    EXPECT_GT(latency.count(), 0);
  }
  std::mutex mu;
  std::vector<Seen> seen;
};

TEST_F(RestIntegrationTest, ObserverSeesEveryRequestWithVerbAndCode) {
  RecordingObserver observer;
  kube::rest::RestOptions opts;
  opts.observer = &observer;
  auto c = clientWith(config_, opts);
  ASSERT_TRUE(c->create(core::gvrs::kConfigMaps, ns(), configMap(ns(), "obs")).ok());
  ASSERT_FALSE(c->get(core::gvrs::kConfigMaps, ns(), "missing").ok());
  ASSERT_TRUE(c->list(core::gvrs::kConfigMaps, ns()).ok());
  ASSERT_TRUE(c->patch(core::gvrs::kConfigMaps, ns(), "obs", PatchType::kMerge, json{{"data", {{"v", "2"}}}}).ok());
  ASSERT_TRUE(c->remove(core::gvrs::kConfigMaps, ns(), "obs").ok());
  kube::WatchOptions w;
  w.timeout_seconds = 1;
  ASSERT_TRUE(c->watch(core::gvrs::kConfigMaps, ns(), w).ok());
  std::vector<std::string> got;
  for (const auto& s : observer.seen) got.push_back(s.verb + " " + s.resource + " " + std::to_string(s.code));
  EXPECT_EQ(got, (std::vector<std::string>{"create configmaps 201", "get configmaps 404", "list configmaps 200",
                                           "patch configmaps 200", "delete configmaps 200", "watch configmaps 200"}));
}

TEST_F(RestIntegrationTest, OneClientServesManyThreadsAtOnce) {
  ASSERT_TRUE(client_->create(core::gvrs::kConfigMaps, ns(), configMap(ns(), "shared")).ok());
  std::vector<std::future<int>> workers;
  for (int t = 0; t < 8; ++t) {
    workers.push_back(std::async(std::launch::async, [&, t] {
      int ok = 0;
      for (int i = 0; i < 25; ++i) {
        if (i % 5 == 0) {
          auto p = client_->patch(core::gvrs::kConfigMaps, ns(), "shared", PatchType::kMerge,
                                  json{{"data", {{"t" + std::to_string(t), std::to_string(i)}}}});
          ok += p.ok();
        } else {
          ok += client_->get(core::gvrs::kConfigMaps, ns(), "shared").ok();
        }
      }
      return ok;
    }));
  }
  int total = 0;
  for (auto& w : workers) total += w.get();
  EXPECT_EQ(total, 200);
  auto final_state = client_->get(core::gvrs::kConfigMaps, ns(), "shared");
  ASSERT_TRUE(final_state.ok());
  for (int t = 0; t < 8; ++t) EXPECT_EQ((*final_state)["data"]["t" + std::to_string(t)], "20");
}

TEST_F(RestIntegrationTest, StrategicMergeAndDryRunReachTheServer) {
  ASSERT_TRUE(client_->create(core::gvrs::kConfigMaps, ns(), configMap(ns(), "smp")).ok());
  auto smp = client_->patch(core::gvrs::kConfigMaps, ns(), "smp", PatchType::kStrategicMerge,
                            json{{"metadata", {{"labels", {{"x", "y"}}}}}});
  ASSERT_TRUE(smp.ok()) << smp.error().describe();
  EXPECT_EQ((*smp)["metadata"]["labels"]["x"], "y");

  kube::WriteOptions dry;
  dry.dry_run = true;
  auto would = client_->patch(core::gvrs::kConfigMaps, ns(), "smp", PatchType::kMerge, json{{"data", {{"v", "9"}}}}, dry);
  ASSERT_TRUE(would.ok()) << would.error().describe();
  EXPECT_EQ((*would)["data"]["v"], "9");
  auto stored = client_->get(core::gvrs::kConfigMaps, ns(), "smp");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ((*stored)["data"]["v"], "0");
}

TEST_F(RestIntegrationTest, NonResourcePathsAreReadable) {
  auto version = client_->getPath("/version");
  ASSERT_TRUE(version.ok()) << version.error().describe();
  EXPECT_FALSE(version->value("gitVersion", "").empty());
}

}  // namespace
}  // namespace bgo::testing
