// Informer over FakeKubeClient and ManualClock: sync, ordered handlers, resume
// after dropped watches, relist after 410, backoff, prompt stop.

#include "operator/informer/informer.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>

#include <gtest/gtest.h>

#include "operator/testing/builders.h"
#include "operator/testing/fake_kube_client.h"
#include "operator/testing/manual_clock.h"

namespace bgo::informer {
namespace {

using namespace std::chrono_literals;
using core::ErrorCode;
using nlohmann::json;
using testing::FakeKubeClient;
using testing::makeConfigMap;
using testing::Verb;
namespace gvrs = core::gvrs;

struct Seen {
  std::string type;  // add, update, delete
  std::string key;
  std::string rv;      // of the new (or deleted) object
  std::string old_rv;  // updates
  json object;
};

// Records handler calls and lets the test wait for conditions without sleeping.
class Recorder {
 public:
  EventHandlers handlers() {
    return EventHandlers{
        [this](const ObjectPtr& o) { push({"add", objectKey(*o), resourceVersionOf(*o), "", *o}); },
        [this](const ObjectPtr& old, const ObjectPtr& o) {
          push({"update", objectKey(*o), resourceVersionOf(*o), resourceVersionOf(*old), *o});
        },
        [this](const ObjectPtr& o) { push({"delete", objectKey(*o), resourceVersionOf(*o), "", *o}); }};
  }
  void push(Seen s) {
    std::lock_guard lock(mu_);
    seen_.push_back(std::move(s));
    cv_.notify_all();
  }
  void poke() { cv_.notify_all(); }
  std::vector<Seen> seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }
  size_t count() const {
    std::lock_guard lock(mu_);
    return seen_.size();
  }
  // Waits (bounded, real time) until pred() holds; re-checks on every event and every few ms.
  bool waitUntil(const std::function<bool()>& pred, std::chrono::milliseconds limit = 5000ms) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    std::unique_lock lock(mu_);
    while (true) {
      lock.unlock();
      bool ok = pred();
      lock.lock();
      if (ok) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      cv_.wait_for(lock, 2ms);
    }
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Seen> seen_;
};

std::vector<std::string> summary(const std::vector<Seen>& s, size_t from = 0) {
  std::vector<std::string> out;
  for (size_t i = from; i < s.size(); ++i) out.push_back(s[i].type + " " + s[i].key);
  return out;
}

class InformerTest : public ::testing::Test {
 protected:
  InformerTest() {
    options_.backoff_initial = 800ms;
    options_.backoff_max = 30s;
    options_.wait_slice = 1ms;
    options_.seed = 42;
    // Backoff waits are on the manual clock: move it as soon as a wait starts.
    options_.on_backoff = [this](std::chrono::milliseconds d) {
      {
        std::lock_guard lock(waits_mu_);
        waits_.push_back(d);
      }
      if (auto_advance_) clock_.advance(d);
      rec_.poke();
    };
  }

  std::unique_ptr<Informer> make(const std::string& ns = "ns", const std::string& selector = "") {
    auto inf = std::make_unique<Informer>(fake_, gvrs::kConfigMaps, ns, selector, clock_, options_);
    inf->addEventHandlers(rec_.handlers());
    return inf;
  }
  json create(const std::string& ns, const std::string& name, std::map<std::string, std::string> data = {},
              testing::Labels labels = {}) {
    auto r = fake_.create(gvrs::kConfigMaps, ns, makeConfigMap(ns, name, data, labels));
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : json();
  }
  json update(const std::string& ns, const std::string& name, const std::string& v) {
    auto r = fake_.patch(gvrs::kConfigMaps, ns, name, kube::PatchType::kMerge, {{"data", {{"v", v}}}});
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : json();
  }
  std::vector<std::chrono::milliseconds> waits() {
    std::lock_guard lock(waits_mu_);
    return waits_;
  }

  testing::ManualClock clock_;
  FakeKubeClient fake_{clock_};
  Recorder rec_;
  InformerOptions options_;
  std::atomic<bool> auto_advance_{true};
  std::mutex waits_mu_;
  std::vector<std::chrono::milliseconds> waits_;
};

TEST_F(InformerTest, SyncsTheSelectedObjectsAndDeliversThemAsAdds) {
  create("ns", "a", {}, {{"app", "web"}});
  create("ns", "b", {}, {{"app", "web"}});
  create("ns", "c", {}, {{"app", "db"}});
  create("other", "d", {}, {{"app", "web"}});
  auto inf = make("ns", "app=web");
  EXPECT_FALSE(inf->hasSynced());
  inf->start();
  ASSERT_TRUE(inf->waitForSync(5s));
  EXPECT_EQ(inf->keys(), (std::vector<std::string>{"ns/a", "ns/b"}));
  EXPECT_EQ(summary(rec_.seen()), (std::vector<std::string>{"add ns/a", "add ns/b"}));
  auto a = inf->get("ns", "a");
  ASSERT_TRUE(a);
  EXPECT_EQ((*a)["kind"], "ConfigMap");  // filled in for list items
  EXPECT_EQ((*a)["apiVersion"], "v1");
  EXPECT_EQ(inf->stats().lists, 1u);
  EXPECT_EQ(inf->stats().relists, 0u);
}

TEST_F(InformerTest, TransformsListedAndWatchedObjectsBeforeCaching) {
  create("ns", "listed", {{"big", "x"}});
  options_.transform = [](json& o) { o.erase("data"); };
  auto inf = make();
  inf->start();
  ASSERT_TRUE(inf->waitForSync(5s));
  create("ns", "watched", {{"big", "y"}});
  ASSERT_TRUE(rec_.waitUntil([&] { return rec_.count() >= 2; }));
  for (const char* name : {"listed", "watched"}) {
    auto o = inf->get("ns", name);
    ASSERT_TRUE(o) << name;
    EXPECT_FALSE(o->contains("data")) << name;
    EXPECT_EQ((*o)["metadata"]["name"], name);
  }
}

TEST_F(InformerTest, ListsInPages) {
  for (int i = 0; i < 25; ++i) create("ns", "cm" + std::to_string(100 + i));
  options_.page_size = 10;
  auto inf = make();
  inf->start();
  ASSERT_TRUE(inf->waitForSync(5s));
  EXPECT_EQ(inf->size(), 25u);
  EXPECT_EQ(fake_.callCount(Verb::kList), 3u);
}

// etcd compacts past the list's start between every two pages (a large list on a busy server, or the
// test plane's 10 s compaction): paging again would never finish; one full list does.
TEST_F(InformerTest, AnExpiredPageTokenFallsBackToOneFullList) {
  for (int i = 0; i < 25; ++i) create("ns", "cm" + std::to_string(100 + i));
  options_.page_size = 10;
  std::atomic<int> lists{0};
  fake_.setFaultHook([&](const testing::Call& call) -> std::optional<core::Error> {
    if (call.verb != Verb::kList || lists++ == 0) return std::nullopt;
    json other{{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", "s" + std::to_string(lists.load())}}}};
    (void)fake_.create(gvrs::kSecrets, "elsewhere", other);  // a newer resourceVersion, then compaction
    fake_.compactHistory();
    return std::nullopt;
  });
  auto inf = make();
  inf->start();
  ASSERT_TRUE(inf->waitForSync(5s)) << "paged again into the same expiry";
  EXPECT_EQ(inf->size(), 25u);
  EXPECT_EQ(fake_.callCount(Verb::kList), 3u) << "page 1, page 2 (410), one full list";
  fake_.setFaultHook(nullptr);
}

TEST_F(InformerTest, DeliversAddUpdateDeleteInOrder) {
  auto inf = make();
  inf->start();
  ASSERT_TRUE(inf->waitForSync(5s));
  json created = create("ns", "x", {{"v", "1"}});
  json updated = update("ns", "x", "2");
  ASSERT_TRUE(fake_.remove(gvrs::kConfigMaps, "ns", "x").ok());
  create("other", "ignored");
  ASSERT_TRUE(rec_.waitUntil([&] { return rec_.count() >= 3; }));
  auto s = rec_.seen();
  ASSERT_EQ(summary(s), (std::vector<std::string>{"add ns/x", "update ns/x", "delete ns/x"}));
  EXPECT_EQ(s[0].rv, created["metadata"]["resourceVersion"]);
  EXPECT_EQ(s[1].old_rv, created["metadata"]["resourceVersion"]);
  EXPECT_EQ(s[1].rv, updated["metadata"]["resourceVersion"]);
  EXPECT_EQ(s[1].object["data"]["v"], "2");
  EXPECT_EQ(s[2].object["data"]["v"], "2");  // the last known state
  EXPECT_EQ(inf->size(), 0u);
  EXPECT_EQ(inf->stats().events, 3u);
}

TEST_F(InformerTest, ResumesADroppedWatchFromTheLastResourceVersionWithoutDuplicates) {
  create("ns", "a", {{"v", "1"}});
  auto inf = make();
  inf->start();
  ASSERT_TRUE(inf->waitForSync(5s));
  create("ns", "b");
  ASSERT_TRUE(rec_.waitUntil([&] { return rec_.count() == 2; }));

  // The connection drops; what happens meanwhile arrives through the resumed watch.
  fake_.breakWatches(core::Error::make(ErrorCode::kUnavailable, "connection reset", 503));
  update("ns", "a", "2");
  ASSERT_TRUE(fake_.remove(gvrs::kConfigMaps, "ns", "b").ok());
  create("ns", "c");
  ASSERT_TRUE(rec_.waitUntil([&] { return rec_.count() >= 5; }));
  // A normal end (timeoutSeconds) resumes too.
  fake_.closeWatches();
  update("ns", "c", "3");
  ASSERT_TRUE(rec_.waitUntil([&] { return rec_.count() >= 6; }));

  EXPECT_EQ(summary(rec_.seen()), (std::vector<std::string>{"add ns/a", "add ns/b", "update ns/a", "delete ns/b",
                                                            "add ns/c", "update ns/c"}));
  auto st = inf->stats();
  EXPECT_EQ(st.lists, 1u);  // resumed, not relisted
  EXPECT_GE(st.watch_restarts, 2u);
  EXPECT_EQ(st.errors, 1u);
  EXPECT_EQ(inf->keys(), (std::vector<std::string>{"ns/a", "ns/c"}));
  EXPECT_EQ((*inf->get("ns/c"))["data"]["v"], "3");
  EXPECT_EQ(st.resource_version, fake_.resourceVersion());
}

TEST_F(InformerTest, RelistsAfterGoneAndDeliversTheDifferenceOnce) {
  create("ns", "a", {{"v", "1"}});
  create("ns", "b", {{"v", "1"}});
  create("ns", "c", {{"v", "1"}});
  auto inf = make();
  inf->start();
  ASSERT_TRUE(inf->waitForSync(5s));
  ASSERT_EQ(rec_.count(), 3u);

  // When the informer re-watches, the world has moved on and the history is gone.
  std::atomic<bool> armed{true};
  fake_.setFaultHook([&](const testing::Call& c) -> std::optional<core::Error> {
    if (c.verb == Verb::kWatch && armed.exchange(false)) {
      EXPECT_TRUE(fake_.remove(gvrs::kConfigMaps, "ns", "b").ok());
      update("ns", "c", "2");
      create("ns", "d");
      fake_.compactHistory();
    }
    return std::nullopt;
  });
  fake_.breakWatches(core::Error::make(ErrorCode::kUnavailable, "connection reset", 503));
  ASSERT_TRUE(rec_.waitUntil([&] { return rec_.count() >= 6; }));

  auto s = rec_.seen();
  EXPECT_EQ(summary(s, 3), (std::vector<std::string>{"update ns/c", "add ns/d", "delete ns/b"}));
  EXPECT_EQ(s[5].object["data"]["v"], "1");  // b as the cache last knew it
  auto st = inf->stats();
  EXPECT_EQ(st.gone, 1u);
  EXPECT_EQ(st.relists, 1u);
  EXPECT_EQ(inf->keys(), (std::vector<std::string>{"ns/a", "ns/c", "ns/d"}));

  // And the watch after the relist works.
  update("ns", "a", "9");
  ASSERT_TRUE(rec_.waitUntil([&] { return rec_.count() >= 7; }));
  EXPECT_EQ(summary(rec_.seen(), 6), (std::vector<std::string>{"update ns/a"}));
}

TEST_F(InformerTest, ForcedGoneRelistsWithoutDuplicateEvents) {
  create("ns", "a");
  auto inf = make();
  inf->start();
  ASSERT_TRUE(inf->waitForSync(5s));
  create("ns", "b");
  ASSERT_TRUE(rec_.waitUntil([&] { return rec_.count() == 2; }));
  fake_.forceGoneOnNextWatch();
  fake_.closeWatches();
  ASSERT_TRUE(rec_.waitUntil([&] { return inf->stats().relists == 1 && fake_.openWatches() == 1; }));
  create("ns", "c");
  ASSERT_TRUE(rec_.waitUntil([&] { return rec_.count() >= 3; }));
  EXPECT_EQ(summary(rec_.seen()), (std::vector<std::string>{"add ns/a", "add ns/b", "add ns/c"}));
  EXPECT_EQ(inf->stats().gone, 1u);
  EXPECT_TRUE(waits().empty());  // a single 410 relists at once
}

TEST_F(InformerTest, RepeatedGoneWithoutProgressBacksOff) {
  auto inf = make();
  inf->start();
  ASSERT_TRUE(inf->waitForSync(5s));
  create("ns", "a");
  ASSERT_TRUE(rec_.waitUntil([&] { return rec_.count() == 1; }));
  fake_.forceGoneOnNextWatch(3);
  fake_.closeWatches();
  ASSERT_TRUE(rec_.waitUntil([&] { return inf->stats().relists == 3 && fake_.openWatches() == 1; }));
  EXPECT_EQ(waits().size(), 2u);  // the first relist was immediate
}

TEST_F(InformerTest, ErrorBackoffGrowsWithJitterAndResetsAfterProgress) {
  options_.backoff_max = 5s;
  fake_.failNext(Verb::kList, std::nullopt, core::Error::make(ErrorCode::kInternal, "etcd down", 500), 5);
  auto inf = make();
  inf->start();
  ASSERT_TRUE(inf->waitForSync(5s));
  auto w = waits();
  ASSERT_EQ(w.size(), 5u);
  const std::vector<int64_t> base = {800, 1600, 3200, 5000, 5000};
  for (size_t i = 0; i < w.size(); ++i) {
    EXPECT_GE(w[i].count(), base[i]) << i;
    EXPECT_LE(w[i].count(), base[i] * 12 / 10) << i;
  }
  EXPECT_NE(w[3], w[4]);  // jittered
  EXPECT_EQ(inf->stats().errors, 5u);

  // A watch that delivered events resets the backoff.
  create("ns", "a");
  ASSERT_TRUE(rec_.waitUntil([&] { return rec_.count() == 1; }));
  fake_.failNext(Verb::kWatch, std::nullopt, core::Error::make(ErrorCode::kTooManyRequests, "slow down", 429), 1);
  fake_.breakWatches(core::Error::make(ErrorCode::kUnavailable, "reset", 503));
  ASSERT_TRUE(rec_.waitUntil([&] { return waits().size() == 7 && fake_.openWatches() == 1; }));
  w = waits();
  EXPECT_GE(w[5].count(), 800);
  EXPECT_LE(w[5].count(), 960);
  EXPECT_GE(w[6].count(), 1600);
  EXPECT_LE(w[6].count(), 1920);
}

// A quiet resource (the operator's Services change almost never) may go minutes
// without an event or a bookmark. Each time its long-open watch is cut (an API
// server restart), the informer must back off from the start again, not from
// where the previous cut, minutes earlier, left the backoff: that grew by one
// step per disruption until every cut cost backoff_max (30 s) before the
// informer watched or relisted again.
TEST_F(InformerTest, AQuietWatchThatStayedOpenEndsTheRunOfFailures) {
  auto inf = make();
  inf->start();
  ASSERT_TRUE(inf->waitForSync(5s));
  for (size_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(rec_.waitUntil([&] { return fake_.openWatches() == 1; })) << i;
    clock_.advance(options_.watch_healthy_after);  // open, but nothing to tell
    fake_.breakWatches(core::Error::make(ErrorCode::kUnavailable, "connection reset", 0));
    ASSERT_TRUE(rec_.waitUntil([&] { return waits().size() == i + 1; })) << i;
  }
  ASSERT_TRUE(rec_.waitUntil([&] { return fake_.openWatches() == 1; }));
  for (auto w : waits()) {
    EXPECT_GE(w.count(), 800);
    EXPECT_LE(w.count(), 960);
  }
  EXPECT_EQ(rec_.count(), 0u);
  EXPECT_EQ(inf->stats().events + inf->stats().bookmarks, 0u);

  // Watches cut sooner than that continue the run the last cut began.
  fake_.breakWatches(core::Error::make(ErrorCode::kUnavailable, "connection reset", 0));
  ASSERT_TRUE(rec_.waitUntil([&] { return waits().size() == 6 && fake_.openWatches() == 1; }));
  fake_.breakWatches(core::Error::make(ErrorCode::kUnavailable, "connection reset", 0));
  ASSERT_TRUE(rec_.waitUntil([&] { return waits().size() == 7 && fake_.openWatches() == 1; }));
  auto w = waits();
  EXPECT_GE(w[5].count(), 1600);
  EXPECT_LE(w[5].count(), 1920);
  EXPECT_GE(w[6].count(), 3200);
  EXPECT_LE(w[6].count(), 3840);
}

// A restarted kube-apiserver answers 429 "storage is (re)initializing" with
// Retry-After: 1 until its watch cache is ready. That answer says when to come
// back; it is not one more step of the backoff (before: the fifth failure of
// an outage waited 13-15 s although the server had asked for 1 s).
TEST_F(InformerTest, WaitsWhatRetryAfterSaysWithoutCountingItAsAFailure) {
  options_.backoff_max = 30s;
  auto down = core::Error::make(ErrorCode::kUnavailable, "connection refused", 0);
  auto init = core::Error::make(ErrorCode::kTooManyRequests, "storage is (re)initializing", 429);
  init.retry_after = 1s;
  fake_.failNext(Verb::kList, std::nullopt, down, 3);  // faults come in the order they were queued
  fake_.failNext(Verb::kList, std::nullopt, init, 2);
  fake_.failNext(Verb::kList, std::nullopt, down, 1);
  auto inf = make();
  inf->start();
  ASSERT_TRUE(inf->waitForSync(5s));
  auto w = waits();
  ASSERT_EQ(w.size(), 6u);
  const std::vector<int64_t> base = {800, 1600, 3200, 1000, 1000, 6400};
  for (size_t i = 0; i < w.size(); ++i) {
    EXPECT_GE(w[i].count(), base[i]) << i;
    EXPECT_LE(w[i].count(), base[i] * 12 / 10) << i;
  }
}

TEST_F(InformerTest, WaitsOnTheClockBeforeRetrying) {
  auto_advance_ = false;
  fake_.failNext(Verb::kList, std::nullopt, core::Error::make(ErrorCode::kUnavailable, "down", 503), 1);
  auto inf = make();
  inf->start();
  ASSERT_TRUE(rec_.waitUntil([&] { return waits().size() == 1; }));
  // Until the clock moves past the wait, no second list happens.
  EXPECT_FALSE(inf->waitForSync(50ms));
  EXPECT_EQ(fake_.callCount(Verb::kList), 1u);
  clock_.advance(waits()[0]);
  EXPECT_TRUE(inf->waitForSync(5s));
}

TEST_F(InformerTest, StopIsPromptWhileWatching) {
  auto inf = make();
  inf->start();
  ASSERT_TRUE(inf->waitForSync(5s));
  ASSERT_TRUE(rec_.waitUntil([&] { return fake_.openWatches() == 1; }));
  auto t0 = std::chrono::steady_clock::now();
  inf->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_EQ(fake_.openWatches(), 0u);
}

TEST_F(InformerTest, StopIsPromptDuringABackoffWait) {
  auto_advance_ = false;  // the clock never moves: the wait would last forever
  fake_.failNext(Verb::kList, std::nullopt, core::Error::make(ErrorCode::kUnavailable, "down", 503), 1);
  options_.wait_slice = 1000ms;
  auto inf = make();
  inf->start();
  ASSERT_TRUE(rec_.waitUntil([&] { return waits().size() == 1; }));
  auto t0 = std::chrono::steady_clock::now();
  inf->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
  EXPECT_FALSE(inf->hasSynced());
}

TEST_F(InformerTest, BookmarksAdvanceTheResumePoint) {
  auto inf = make();
  inf->start();
  ASSERT_TRUE(inf->waitForSync(5s));
  ASSERT_TRUE(rec_.waitUntil([&] { return fake_.openWatches() == 1; }));
  create("elsewhere", "x");  // moves the global resourceVersion, invisible to this informer
  fake_.sendBookmarks();
  ASSERT_TRUE(rec_.waitUntil([&] { return inf->stats().bookmarks == 1; }));
  EXPECT_EQ(inf->stats().resource_version, fake_.resourceVersion());
  EXPECT_EQ(rec_.count(), 0u);
}

TEST_F(InformerTest, ThrowingHandlerIsCountedAndTheInformerGoesOn) {
  auto inf = std::make_unique<Informer>(fake_, gvrs::kConfigMaps, "ns", "", clock_, options_);
  inf->addEventHandlers({[](const ObjectPtr&) { throw std::runtime_error("boom"); }, nullptr, nullptr});
  inf->addEventHandlers(rec_.handlers());
  inf->start();
  ASSERT_TRUE(inf->waitForSync(5s));
  create("ns", "a");
  create("ns", "b");
  ASSERT_TRUE(rec_.waitUntil([&] { return rec_.count() == 2; }));
  EXPECT_EQ(inf->stats().handler_errors, 2u);
}

TEST_F(InformerTest, CustomIndexAnswersLookups) {
  create("ns", "a", {}, {{"release", "r1"}});
  create("ns", "b", {}, {{"release", "r2"}});
  auto inf = make();
  inf->addIndex("release", [](const json& o) {
    std::vector<std::string> v;
    const json& labels = o["metadata"].value("labels", json::object());
    if (labels.contains("release")) v.push_back(labels["release"]);
    return v;
  });
  inf->start();
  ASSERT_TRUE(inf->waitForSync(5s));
  ASSERT_EQ(inf->byIndex("release", "r1").size(), 1u);
  ASSERT_TRUE(fake_.patch(gvrs::kConfigMaps, "ns", "b", kube::PatchType::kMerge,
                          {{"metadata", {{"labels", {{"release", "r1"}}}}}}).ok());
  ASSERT_TRUE(rec_.waitUntil([&] { return inf->byIndex("release", "r1").size() == 2; }));
  EXPECT_TRUE(inf->byIndex("release", "r2").empty());
  EXPECT_EQ(inf->listNamespace("ns").size(), 2u);
}

}  // namespace
}  // namespace bgo::informer
