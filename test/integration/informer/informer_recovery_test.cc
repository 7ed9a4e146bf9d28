// Informer recovery on a real kube-apiserver of the suite's own (a private
// plane it may kill): the API server killed and restarted mid-watch, a relist
// forced by 410 on a compacted resourceVersion while objects change, and a
// watch ended by the server's timeoutSeconds. Each ends with the informer's
// cache equal to a fresh LIST and the handlers' log consistent with it.

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <future>
#include <cstdio>
#include <thread>

#include "integration/informer/event_log.h"
#include "integration/informer/observed_client.h"
#include "integration/informer/private_plane.h"
#include "integration/support/namespace.h"
#include "integration/support/poll.h"
#include "operator/core/clock.h"
#include "operator/core/gvr.h"
#include "operator/informer/informer.h"
#include "operator/kube/rest/rest_kube_client.h"

namespace bgo::inftest {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;
namespace gvrs = core::gvrs;

double secondsBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

State serverState(kube::KubeClient& client, const core::Gvr& gvr, const std::string& ns) {
  State s;
  auto all = kube::listAll(client, gvr, ns);
  if (!all) {
    ADD_FAILURE() << "LIST " << gvr.resource << " in " << ns << ": " << all.error().describe();
    return s;
  }
  for (const auto& item : all->items) s[informer::objectKey(item)] = informer::resourceVersionOf(item);
  return s;
}

State cacheState(const informer::Informer& inf) {
  State s;
  for (const auto& o : inf.list()) s[informer::objectKey(*o)] = informer::resourceVersionOf(*o);
  return s;
}

// Polls until the cache equals a fresh LIST; the last difference on timeout.
std::string waitCaughtUp(kube::KubeClient& client, const informer::Informer& inf, const core::Gvr& gvr,
                         const std::string& ns, milliseconds timeout = seconds(45)) {
  std::string last;
  bool ok = itest::eventually(
      [&] {
        State want = serverState(client, gvr, ns);
        last = diff(want, cacheState(inf));
        return last.empty();
      },
      timeout, milliseconds(50));
  return ok ? "" : "the cache never matched the server within " + std::to_string(timeout.count()) + " ms:" + last;
}

std::string statsText(const informer::InformerStats& s) {
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "lists=%llu relists=%llu watch_starts=%llu watch_restarts=%llu events=%llu bookmarks=%llu "
                "errors=%llu gone=%llu backoff_waits=%llu",
                static_cast<unsigned long long>(s.lists), static_cast<unsigned long long>(s.relists),
                static_cast<unsigned long long>(s.watch_starts), static_cast<unsigned long long>(s.watch_restarts),
                static_cast<unsigned long long>(s.events), static_cast<unsigned long long>(s.bookmarks),
                static_cast<unsigned long long>(s.errors), static_cast<unsigned long long>(s.gone),
                static_cast<unsigned long long>(s.backoff_waits));
  return std::string(buf) + (s.last_error.empty() ? "" : " last_error=\"" + s.last_error + "\"");
}

std::string listsText(const std::vector<ListCall>& calls, Clock::time_point t0) {
  std::string s;
  for (const auto& c : calls) {
    char at[32];
    std::snprintf(at, sizeof at, "%+.2fs", secondsBetween(t0, c.at));
    s += std::string("\n    ") + at + (c.continue_token.empty() ? " first page" : " next page") + " -> " + c.answer;
  }
  return s;
}

std::string callsText(const std::vector<WatchCall>& calls, std::size_t from, Clock::time_point t0) {
  std::string s;
  for (std::size_t i = from; i < calls.size(); ++i) {
    char at[32];
    std::snprintf(at, sizeof at, "%+.2fs", secondsBetween(t0, calls[i].at));
    s += std::string("\n    ") + at + " rv=" + calls[i].resource_version + " -> " + calls[i].answer;
  }
  return s;
}

json configMap(const std::string& ns, const std::string& name, const std::string& value) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"data", {{"v", value}}}};
}

json event(const std::string& ns, const std::string& name, const std::string& message) {
  return {{"apiVersion", "v1"},
          {"kind", "Event"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"involvedObject", {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"namespace", ns}, {"name", "subject"}}},
          {"reason", "Probe"},
          {"message", message},
          {"type", "Normal"},
          {"count", 1},
          {"source", {{"component", "informer-integration-test"}}}};
}

// Writes that fail the test when the server refuses them; each returns the new
// resourceVersion ("" on failure). Right after an API server restart a pooled
// connection may be dead ("Broken pipe" before the request was sent): such
// Unavailable errors are retried and counted, a retried create that finds the
// object (or a retried delete that misses it) counts as done.
class Writer {
 public:
  Writer(kube::KubeClient& c, core::Gvr gvr, std::string ns) : c_(c), gvr_(std::move(gvr)), ns_(std::move(ns)) {}

  std::string create(const std::string& name, const std::string& value) {
    auto body = gvr_.resource == "events" ? event(ns_, name, value) : configMap(ns_, name, value);
    for (int attempt = 0;; ++attempt) {
      auto r = c_.create(gvr_, ns_, body);
      if (r) return informer::resourceVersionOf(*r);
      if (attempt > 0 && r.error().is(core::ErrorCode::kAlreadyExists)) {
        auto g = c_.get(gvr_, ns_, name);
        if (g) return informer::resourceVersionOf(*g);
      }
      if (!retry(r.error(), attempt)) return ADD_FAILURE() << "create " << name << ": " << r.error().describe(), "";
    }
  }
  std::string update(const std::string& name, const std::string& value) {
    json p = gvr_.resource == "events" ? json{{"message", value}} : json{{"data", {{"v", value}}}};
    for (int attempt = 0;; ++attempt) {
      auto r = c_.patch(gvr_, ns_, name, kube::PatchType::kMerge, p);
      if (r) return informer::resourceVersionOf(*r);
      if (!retry(r.error(), attempt)) return ADD_FAILURE() << "update " << name << ": " << r.error().describe(), "";
    }
  }
  void remove(const std::string& name) {
    for (int attempt = 0;; ++attempt) {
      auto r = c_.remove(gvr_, ns_, name);
      if (r || (attempt > 0 && r.error().is(core::ErrorCode::kNotFound))) return;
      if (!retry(r.error(), attempt)) return (void)(ADD_FAILURE() << "delete " << name << ": " << r.error().describe());
    }
  }
  std::string key(const std::string& name) const { return ns_ + "/" + name; }
  const std::vector<std::string>& retried() const { return retried_; }

 private:
  bool retry(const core::Error& e, int attempt) {
    if (!e.is(core::ErrorCode::kUnavailable) || attempt >= 3) return false;
    retried_.push_back(e.describe());
    std::this_thread::sleep_for(milliseconds(100));
    return true;
  }

  kube::KubeClient& c_;
  core::Gvr gvr_;
  std::string ns_;
  std::vector<std::string> retried_;
};

// True once a watch from `rv` is answered with 410 (the revision is compacted).
bool compacted(kube::KubeClient& client, const core::Gvr& gvr, const std::string& ns, const std::string& rv) {
  kube::WatchOptions w;
  w.resource_version = rv;
  w.timeout_seconds = 1;
  w.allow_bookmarks = false;
  auto stream = client.watch(gvr, ns, w);
  if (!stream) return stream.error().is(core::ErrorCode::kGone);
  auto ev = (*stream)->next();
  (*stream)->cancel();
  if (!ev) return ev.error().is(core::ErrorCode::kGone);
  return ev->has_value() && (**ev).type == kube::WatchEvent::Type::kError && (**ev).object.value("code", 0) == 410;
}

class InformerRecoveryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto t0 = Clock::now();
    auto p = PrivatePlane::start(BGO_CONTROLPLANE_DIR);
    if (!p) {
      plane_error_ = new std::string("the private control plane did not start: " + p.error().describe());
      return;
    }
    plane_ = p->release();
    std::printf("[inftest] private plane %s up in %.1f s\n", plane_->dir().c_str(),
                secondsBetween(t0, Clock::now()));
  }
  static void TearDownTestSuite() {
    delete plane_;  // stop.sh --purge
    plane_ = nullptr;
    delete plane_error_;
    plane_error_ = nullptr;
  }

  void SetUp() override {
    if (plane_error_) FAIL() << *plane_error_;
    ASSERT_NE(plane_, nullptr);
    auto c = plane_->client();
    ASSERT_TRUE(c) << c.error().describe();
    client_ = std::move(*c);
  }

  // Figures go to stdout and to the test's XML properties.
  void figure(const std::string& name, double value, const std::string& unit) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f", value);
    RecordProperty(name, buf);
    std::printf("[inftest] %s: %s = %s %s\n",
                ::testing::UnitTest::GetInstance()->current_test_info()->name(), name.c_str(), buf, unit.c_str());
  }
  void note(const std::string& text) {
    std::printf("[inftest] %s: %s\n", ::testing::UnitTest::GetInstance()->current_test_info()->name(),
                text.c_str());
  }

  static PrivatePlane* plane_;
  static std::string* plane_error_;
  std::unique_ptr<kube::rest::RestKubeClient> client_;
  core::SystemClock clock_;
};

PrivatePlane* InformerRecoveryTest::plane_ = nullptr;
std::string* InformerRecoveryTest::plane_error_ = nullptr;

// Opens the gate however the test ends, so the informer's thread can be joined.
struct GateGuard {
  ObservedClient& c;
  ~GateGuard() { c.openGate(); }
};

TEST_F(InformerRecoveryTest, EndsAtTheServersStateAfterTheApiServerIsKilledAndRestarted) {
  itest::ScopedNamespace ns(*client_, "inf-restart", "informer");
  ASSERT_FALSE(ns.error()) << ns.error()->describe();
  Writer w(*client_, gvrs::kConfigMaps, ns.name());
  for (int i = 0; i < 12; ++i) ASSERT_NE(w.create("cm-" + std::to_string(i), "0"), "");

  ObservedClient observed(*client_);
  informer::Informer inf(observed, gvrs::kConfigMaps, ns.name(), "", clock_);
  EventLog log;
  inf.addEventHandlers(log.handlers());
  inf.start();
  ASSERT_TRUE(inf.waitForSync(seconds(30))) << statsText(inf.stats());
  ASSERT_EQ(waitCaughtUp(*client_, inf, gvrs::kConfigMaps, ns.name()), "");

  // Seen before the cut.
  w.update("cm-0", "1");
  w.update("cm-1", "1");
  w.update("cm-2", "1");
  w.remove("cm-3");
  w.create("extra-a", "0");
  ASSERT_EQ(waitCaughtUp(*client_, inf, gvrs::kConfigMaps, ns.name()), "");
  // In flight when the server dies: the informer may or may not see them.
  w.update("cm-4", "1");
  w.remove("cm-5");
  w.create("extra-b", "0");

  const auto before = inf.stats();
  const std::size_t calls_before = observed.watchCalls().size();
  const std::size_t lists_before = observed.listCalls().size();
  const int gones_before = observed.gones();
  const auto t_kill = Clock::now();
  auto killed = plane_->killApiserver(SIGKILL);
  ASSERT_TRUE(killed) << killed.error().describe();
  const auto t_dead = Clock::now();
  // start.sh restarts it (and waits for nodes and the controller manager after
  // /readyz); "back" is when a fresh client's LIST is answered again.
  Clock::time_point t_started;
  auto restart = std::async(std::launch::async, [&t_started] {
    auto st = plane_->restart();
    t_started = Clock::now();
    return st;
  });
  auto probe = plane_->client();
  ASSERT_TRUE(probe) << probe.error().describe();
  if (!itest::eventually([&] { return bool((*probe)->list(gvrs::kConfigMaps, ns.name())); }, seconds(90),
                          milliseconds(50))) {
    auto st = restart.get();
    FAIL() << "the API server did not answer within 90 s of its restart; start.sh: "
           << (st ? plane_->lastStartOutput() : st.error().describe()) << "\nkube-apiserver log:\n"
           << plane_->logTail("kube-apiserver");
  }
  const auto t_back = Clock::now();

  // Right after it is back, while the informer is most likely still backing off.
  w.update("cm-6", "1");
  w.update("cm-6", "2");
  w.update("cm-0", "2");
  w.remove("cm-7");
  w.remove("cm-1");
  w.create("extra-c", "0");
  w.create("extra-d", "0");
  w.remove("extra-a");
  std::string lag = waitCaughtUp(*client_, inf, gvrs::kConfigMaps, ns.name(), seconds(60));
  const auto t_resynced = Clock::now();
  EXPECT_EQ(lag, "") << "after the restart; watches since the kill:"
                     << callsText(observed.watchCalls(), calls_before, t_kill) << "\n"
                     << statsText(inf.stats());
  auto restarted = restart.get();
  ASSERT_TRUE(restarted) << restarted.error().describe();

  // These must come through the watch opened after the restart.
  ASSERT_TRUE(itest::eventually([&] { return observed.lastWatchOpened() > t_dead; }, seconds(30)))
      << callsText(observed.watchCalls(), calls_before, t_kill);
  const auto t_rewatch = observed.lastWatchOpened();
  const auto t_burst2 = Clock::now();
  w.update("cm-6", "3");
  w.update("extra-c", "1");
  w.remove("extra-d");
  w.create("cm-7", "recreated");
  w.create("extra-e", "0");
  w.remove("cm-2");
  EXPECT_EQ(waitCaughtUp(*client_, inf, gvrs::kConfigMaps, ns.name()), "");
  const auto t_caught = Clock::now();

  const State final_state = serverState(*client_, gvrs::kConfigMaps, ns.name());
  EXPECT_EQ(diff(final_state, cacheState(inf)), "");
  for (const auto& p : log.check(final_state)) ADD_FAILURE() << p;
  for (const std::string name : {"cm-1", "cm-3", "cm-5", "extra-a", "extra-d", "cm-2"}) {
    EXPECT_FALSE(final_state.count(w.key(name))) << name;
  }

  const auto after = inf.stats();
  const auto calls = observed.watchCalls();
  const int gones = observed.gones() - gones_before;
  EXPECT_GT(after.watch_restarts, before.watch_restarts) << statsText(after);
  EXPECT_GT(after.errors, before.errors) << "the cut went unnoticed: " << statsText(after);
  EXPECT_EQ(after.gone - before.gone, static_cast<uint64_t>(gones)) << statsText(after);
  EXPECT_EQ(after.relists - before.relists, after.gone - before.gone)
      << "each 410 must lead to exactly one relist: " << statsText(after);
  EXPECT_EQ(after.handler_errors, 0u);

  figure("apiserver_down_s", secondsBetween(t_kill, t_dead), "s (SIGKILL until the process was gone)");
  figure("back_after_kill_s", secondsBetween(t_kill, t_back), "s (until a LIST was answered again)");
  figure("start_sh_s", secondsBetween(t_dead, t_started), "s (start.sh restarting the dead component)");
  figure("resynced_after_back_s", secondsBetween(t_back, t_resynced),
         "s (cache = LIST, incl. 8 writes made once the server was back)");
  figure("rewatch_after_back_s", secondsBetween(t_back, t_rewatch), "s (the informer's watch open again)");
  figure("caught_up_after_writes_s", secondsBetween(t_burst2, t_caught), "s (6 writes on the resumed watch)");
  figure("relists", static_cast<double>(after.relists - before.relists), "");
  figure("gone_410", static_cast<double>(gones), "");
  figure("watch_restarts", static_cast<double>(after.watch_restarts - before.watch_restarts), "");
  figure("writes_retried", static_cast<double>(w.retried().size()), "(pooled connections dead after the restart)");
  for (const auto& r : w.retried()) note("retried a write: " + r);
  auto lists = observed.listCalls();
  note("lists since the kill:" + listsText({lists.begin() + static_cast<long>(lists_before), lists.end()}, t_kill));
  note("watches since the kill:" + callsText(calls, calls_before, t_kill));
  note("stats " + statsText(after));
  inf.stop();
}

// The informer is held away (at the gate) while the API server dies, restarts
// and objects change; it then resumes from its old resourceVersion on the
// restarted server, whose watch cache is new. (SIGKILL: on this plane a
// SIGTERM'd kube-apiserver waits 60 s for its clients' watches to go.)
TEST_F(InformerRecoveryTest, CatchesUpWithChangesMadeWhileItWasAwayOverARestart) {
  itest::ScopedNamespace ns(*client_, "inf-away", "informer");
  ASSERT_FALSE(ns.error()) << ns.error()->describe();
  Writer w(*client_, gvrs::kConfigMaps, ns.name());
  for (int i = 0; i < 10; ++i) ASSERT_NE(w.create("cm-" + std::to_string(i), "0"), "");

  ObservedClient observed(*client_);
  GateGuard guard{observed};
  informer::Informer inf(observed, gvrs::kConfigMaps, ns.name(), "", clock_);
  EventLog log;
  inf.addEventHandlers(log.handlers());
  inf.start();
  ASSERT_TRUE(inf.waitForSync(seconds(30))) << statsText(inf.stats());
  ASSERT_TRUE(itest::eventually([&] { return observed.watchesOpened() == 1; }, seconds(10)));
  ASSERT_EQ(waitCaughtUp(*client_, inf, gvrs::kConfigMaps, ns.name()), "");

  observed.closeGate();
  const auto before = inf.stats();
  const std::size_t calls_before = observed.watchCalls().size();
  const std::size_t lists_before = observed.listCalls().size();
  const auto t_term = Clock::now();
  auto killed = plane_->killApiserver(SIGKILL);
  ASSERT_TRUE(killed) << killed.error().describe();
  const auto t_dead = Clock::now();
  ASSERT_TRUE(itest::eventually([&] { return observed.waitingAtGate() == 1; }, seconds(10)))
      << "the informer did not notice the dead server: " << statsText(inf.stats());
  const State at_cut = cacheState(inf);
  const std::string rv_away = inf.stats().resource_version;
  const std::size_t mark = log.mark();
  auto restarted = plane_->restart();
  ASSERT_TRUE(restarted) << restarted.error().describe();
  const auto t_back = Clock::now();

  const std::string cm0_a = w.update("cm-0", "1");
  const std::string cm0_b = w.update("cm-0", "2");
  w.update("cm-1", "1");
  w.remove("cm-2");
  w.remove("cm-3");
  const std::string cm3 = w.create("cm-3", "recreated");  // same key, new object
  const std::string new0 = w.create("new-0", "0");
  const std::string new1 = w.create("new-1", "0");
  w.remove("new-1");

  const auto t_open = Clock::now();
  observed.openGate();
  EXPECT_EQ(waitCaughtUp(*client_, inf, gvrs::kConfigMaps, ns.name()), "")
      << callsText(observed.watchCalls(), calls_before, t_term);
  const auto t_caught = Clock::now();
  // And the watch it now has works.
  w.update("cm-4", "1");
  w.remove("cm-5");
  EXPECT_EQ(waitCaughtUp(*client_, inf, gvrs::kConfigMaps, ns.name()), "");

  const State final_state = serverState(*client_, gvrs::kConfigMaps, ns.name());
  for (const auto& p : log.check(final_state)) ADD_FAILURE() << p;
  const auto after = inf.stats();
  auto kinds = [&](const std::string& name) {
    std::string k;
    for (const auto& d : log.ofSince(w.key(name), mark)) k += d.kind;
    return k;
  };
  if (after.relists == before.relists) {
    // Resumed: every change made while away arrives, in order, once.
    EXPECT_EQ(describe(log.ofSince(w.key("cm-0"), mark)), "U" + cm0_a + " U" + cm0_b);
    EXPECT_EQ(kinds("cm-2"), "D");
    EXPECT_EQ(kinds("cm-3"), "DA");
    EXPECT_EQ(log.ofSince(w.key("cm-3"), mark).back().rv, cm3);
    EXPECT_EQ(describe(log.ofSince(w.key("new-1"), mark)).substr(0, new1.size() + 2), "A" + new1 + " ");
    EXPECT_EQ(kinds("new-1"), "AD");
  } else {
    // Relisted: only the difference arrives; a recreated key is an update.
    EXPECT_EQ(describe(log.ofSince(w.key("cm-0"), mark)), "U" + cm0_b);
    EXPECT_EQ(kinds("cm-2"), "D");
    EXPECT_EQ(describe(log.ofSince(w.key("cm-3"), mark)), "U" + cm3);
    EXPECT_EQ(kinds("new-1"), "");
  }
  EXPECT_EQ(describe(log.ofSince(w.key("new-0"), mark)), "A" + new0);

  const auto calls = observed.watchCalls();
  EXPECT_GT(after.watch_restarts, before.watch_restarts) << statsText(after);
  EXPECT_EQ(after.relists - before.relists, after.gone - before.gone) << statsText(after);
  EXPECT_EQ(after.handler_errors, 0u);
  std::string first_after_open = "none";
  for (std::size_t i = calls_before; i < calls.size(); ++i) {
    if (calls[i].at >= t_open) {
      first_after_open = "rv=" + calls[i].resource_version + " -> " + calls[i].answer;
      EXPECT_EQ(calls[i].resource_version, rv_away) << "the informer did not resume from where it was";
      break;
    }
  }
  note("cm-3 deleted and recreated while away was delivered as: " + describe(log.ofSince(w.key("cm-3"), mark)) +
       " (held " +
       at_cut.at(w.key("cm-3")) + ")");
  figure("apiserver_down_s", secondsBetween(t_term, t_dead), "s (SIGKILL until the process was gone)");
  figure("start_sh_s", secondsBetween(t_dead, t_back), "s");
  figure("caught_up_after_gate_s", secondsBetween(t_open, t_caught), "s (9 changes made while it was away)");
  figure("relists", static_cast<double>(after.relists - before.relists), "");
  figure("gone_410", static_cast<double>(after.gone - before.gone), "");
  figure("writes_retried", static_cast<double>(w.retried().size()), "");
  note("first watch after the restart: " + first_after_open + "; watches since the kill:" +
       callsText(calls, calls_before, t_term));
  auto lists = observed.listCalls();
  note("lists since the kill:" + listsText({lists.begin() + static_cast<long>(lists_before), lists.end()}, t_term));
  note("stats " + statsText(after));
  observed.openGate();
  inf.stop();
}

TEST_F(InformerRecoveryTest, RelistAfterGoneDeliversDeletesForObjectsDeletedMeanwhile) {
  itest::ScopedNamespace ns(*client_, "inf-gone", "informer");
  ASSERT_FALSE(ns.error()) << ns.error()->describe();
  Writer w(*client_, gvrs::kEvents, ns.name());
  for (int i = 0; i < 12; ++i) ASSERT_NE(w.create("ev-" + std::to_string(i), "m0"), "");

  ObservedClient observed(*client_);
  GateGuard guard{observed};
  informer::InformerOptions opts;
  opts.page_size = 4;  // the relist spans pages while a writer changes objects
  informer::Informer inf(observed, gvrs::kEvents, ns.name(), "", clock_, opts);
  EventLog log;
  inf.addEventHandlers(log.handlers());
  inf.start();
  ASSERT_TRUE(inf.waitForSync(seconds(30))) << statsText(inf.stats());
  ASSERT_EQ(waitCaughtUp(*client_, inf, gvrs::kEvents, ns.name()), "");

  ASSERT_TRUE(itest::eventually([&] { return observed.watchesOpened() == 1; }, seconds(10)));
  // Cut the watch and hold the informer at the gate until its resourceVersion is compacted.
  observed.closeGate();
  observed.cutWatches();
  const auto t_cut = Clock::now();
  ASSERT_TRUE(itest::eventually([&] { return observed.waitingAtGate() == 1; }, seconds(10)))
      << statsText(inf.stats());
  const State at_cut = cacheState(inf);
  const std::string rv_cut = inf.stats().resource_version;
  ASSERT_FALSE(rv_cut.empty());
  const auto before = inf.stats();
  const std::size_t mark = log.mark();

  const std::vector<std::string> deleted = {"ev-0", "ev-1", "ev-2", "ev-3"};
  for (const auto& n : deleted) w.remove(n);
  for (const std::string n : {"ev-4", "ev-5", "ev-6"}) {
    w.update(n, "m1");
    w.update(n, "m2");
  }
  w.create("ev-new-0", "m0");
  w.create("ev-new-1", "m0");
  w.remove("ev-new-0");  // born and gone while the informer was away: never delivered

  ASSERT_TRUE(itest::eventually([&] { return compacted(*client_, gvrs::kEvents, ns.name(), rv_cut); },
                                seconds(60), milliseconds(1000)))
      << "resourceVersion " << rv_cut << " was not compacted within 60 s";
  const auto t_compacted = Clock::now();

  // Objects keep changing while the informer gets its 410 and relists.
  std::atomic<bool> stop_writer{false};
  std::atomic<int> writes{0};
  std::thread writer([&] {
    Writer ww(*client_, gvrs::kEvents, ns.name());
    for (int i = 0; !stop_writer.load(); ++i) {
      ww.update(i % 2 ? "ev-8" : "ev-9", "w" + std::to_string(i));
      if (i == 3) ww.remove("ev-10");
      if (i == 5) ww.create("ev-late", "m0");
      if (i == 7) ww.remove("ev-11");
      ++writes;
      std::this_thread::sleep_for(milliseconds(50));
    }
  });
  std::this_thread::sleep_for(milliseconds(200));
  const auto t_open = Clock::now();
  observed.openGate();
  bool relisted = itest::eventually([&] { return inf.stats().relists > before.relists; }, seconds(30));
  std::this_thread::sleep_for(milliseconds(1500));
  stop_writer = true;
  writer.join();
  EXPECT_TRUE(relisted) << statsText(inf.stats());
  EXPECT_EQ(waitCaughtUp(*client_, inf, gvrs::kEvents, ns.name()), "");
  const auto t_caught = Clock::now();

  const State final_state = serverState(*client_, gvrs::kEvents, ns.name());
  for (const auto& p : log.check(final_state)) ADD_FAILURE() << p;
  for (const auto& n : deleted) {
    auto evs = log.ofSince(w.key(n), mark);
    ASSERT_EQ(evs.size(), 1u) << n << ": " << describe(evs);
    EXPECT_EQ(evs[0].kind, 'D') << n << ": " << describe(evs);
    // The relist's delete carries the last state the informer knew, not the
    // deletion's resourceVersion a watch would have sent.
    EXPECT_EQ(evs[0].rv, at_cut.at(w.key(n))) << n;
  }
  for (const std::string n : {"ev-4", "ev-5", "ev-6"}) {
    auto evs = log.ofSince(w.key(n), mark);
    ASSERT_EQ(evs.size(), 1u) << n << ": one update with the final state, not each change: " << describe(evs);
    EXPECT_EQ(evs[0].kind, 'U');
    EXPECT_EQ(evs[0].rv, final_state.at(w.key(n)));
  }
  EXPECT_EQ(log.ofSince(w.key("ev-new-0"), mark).size(), 0u) << describe(log.ofSince(w.key("ev-new-0"), mark));
  EXPECT_EQ(describe(log.ofSince(w.key("ev-new-1"), mark)), "A" + final_state.at(w.key("ev-new-1")));
  for (const std::string n : {"ev-10", "ev-11"}) {
    auto evs = log.ofSince(w.key(n), mark);
    ASSERT_FALSE(evs.empty()) << n;
    EXPECT_EQ(evs.back().kind, 'D') << n << ": " << describe(evs);
  }

  const auto after = inf.stats();
  const auto calls = observed.watchCalls();
  EXPECT_GE(after.gone - before.gone, 1u) << statsText(after);
  EXPECT_EQ(after.relists - before.relists, after.gone - before.gone) << statsText(after);
  EXPECT_EQ(after.handler_errors, 0u);
  // The first watch after the gate resumed from the cut's resourceVersion.
  bool resumed_from_cut = false;
  for (const auto& c : calls) {
    if (c.at >= t_open) {
      resumed_from_cut = c.resource_version == rv_cut;
      break;
    }
  }
  EXPECT_TRUE(resumed_from_cut) << callsText(calls, 0, t_cut);

  figure("compacted_after_cut_s", secondsBetween(t_cut, t_compacted), "s (rv " + rv_cut + " answered 410)");
  figure("caught_up_after_gate_s", secondsBetween(t_open, t_caught), "s (incl. 1.5 s of writes after the relist)");
  figure("relists", static_cast<double>(after.relists - before.relists), "");
  figure("gone_410", static_cast<double>(after.gone - before.gone), "");
  figure("concurrent_writes", writes.load(), "");
  note("watches since the cut:" + callsText(calls, 0, t_cut));
  note("lists:" + listsText(observed.listCalls(), t_cut));
  note("stats " + statsText(after));
  observed.openGate();
  inf.stop();
}

TEST_F(InformerRecoveryTest, WatchEndedByServerTimeoutResumesWithoutRelistOrMissedEvents) {
  itest::ScopedNamespace ns(*client_, "inf-timeout", "informer");
  ASSERT_FALSE(ns.error()) << ns.error()->describe();
  Writer w(*client_, gvrs::kConfigMaps, ns.name());
  const std::vector<std::string> names = {"cm-0", "cm-1", "cm-2"};
  for (const auto& n : names) ASSERT_NE(w.create(n, "0"), "");

  ObservedClient observed(*client_);
  informer::InformerOptions opts;
  opts.watch_timeout_seconds = 3;
  informer::Informer inf(observed, gvrs::kConfigMaps, ns.name(), "", clock_, opts);
  EventLog log;
  inf.addEventHandlers(log.handlers());
  inf.start();
  ASSERT_TRUE(inf.waitForSync(seconds(30))) << statsText(inf.stats());
  const std::size_t mark = log.mark();
  const auto before = inf.stats();
  const auto t0 = Clock::now();

  // What the writes produced, per key, in order: what the handlers must see.
  std::map<std::string, std::vector<std::string>> want;
  int n_writes = 0;
  for (int i = 0; Clock::now() - t0 < seconds(10); ++i) {
    const std::string& name = names[i % names.size()];
    want[w.key(name)].push_back("U" + w.update(name, "w" + std::to_string(i)));  // never the created value: a no-op patch makes no event
    if (i == 20) want[w.key("late")].push_back("A" + w.create("late", "0"));
    if (i == 40) {  // deleted and recreated between two updates
      w.remove("cm-2");
      want[w.key("cm-2")].push_back("D");
      want[w.key("cm-2")].push_back("A" + w.create("cm-2", "again"));
    }
    ++n_writes;
    std::this_thread::sleep_for(milliseconds(150));
  }
  ASSERT_EQ(waitCaughtUp(*client_, inf, gvrs::kConfigMaps, ns.name()), "");
  const auto after = inf.stats();

  for (const auto& [key, seq] : want) {
    std::vector<std::string> got;
    for (const auto& d : log.ofSince(key, mark)) got.push_back(d.kind == 'D' ? "D" : std::string(1, d.kind) + d.rv);
    EXPECT_EQ(got, seq) << key;
  }
  const State final_state = serverState(*client_, gvrs::kConfigMaps, ns.name());
  for (const auto& p : log.check(final_state)) ADD_FAILURE() << p;

  const auto calls = observed.watchCalls();
  EXPECT_EQ(after.relists, 0u) << statsText(after);
  EXPECT_EQ(after.gone, 0u) << statsText(after);
  EXPECT_EQ(after.lists, 1u) << statsText(after);
  EXPECT_EQ(after.errors, 0u) << statsText(after);
  EXPECT_GE(after.watch_restarts - before.watch_restarts, 2u) << statsText(after);
  for (std::size_t i = 1; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i].answer, "open");
    EXPECT_FALSE(calls[i].resource_version.empty());
    EXPECT_GE(std::stoll(calls[i].resource_version), std::stoll(calls[i - 1].resource_version))
        << "a resumed watch went back in time:" << callsText(calls, 0, t0);
  }

  figure("watch_restarts", static_cast<double>(after.watch_restarts - before.watch_restarts), "");
  figure("relists", static_cast<double>(after.relists), "");
  figure("writes", n_writes, "");
  figure("seconds_writing", secondsBetween(t0, Clock::now()), "s");
  note("watches:" + callsText(calls, 0, t0));
  note("lists:" + listsText(observed.listCalls(), t0));
  note("stats " + statsText(after));
  inf.stop();
}

}  // namespace
}  // namespace bgo::inftest

int main(int argc, char** argv) {
  bgo::kube::rest::initRestRuntime(4);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
