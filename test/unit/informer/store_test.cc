#include "operator/informer/store.h"

#include <gtest/gtest.h>

namespace bgo::informer {
namespace {

using nlohmann::json;

ObjectPtr obj(const std::string& ns, const std::string& name, const std::string& rv, const std::string& app = "") {
  json o = {{"metadata", {{"name", name}, {"resourceVersion", rv}}}};
  if (!ns.empty()) o["metadata"]["namespace"] = ns;
  if (!app.empty()) o["metadata"]["labels"] = {{"app", app}};
  return std::make_shared<const json>(std::move(o));
}

std::vector<std::string> names(const std::vector<ObjectPtr>& objs) {
  std::vector<std::string> out;
  for (const auto& o : objs) out.push_back(objectKey(*o));
  return out;
}

TEST(StoreTest, KeysAreNamespaceSlashName) {
  EXPECT_EQ(objectKey(*obj("ns", "a", "1")), "ns/a");
  EXPECT_EQ(objectKey(*obj("", "node1", "1")), "node1");
}

// Every behaviour holds for trees and for packed (MessagePack) entries.
class StoreModeTest : public ::testing::TestWithParam<bool> {};
INSTANTIATE_TEST_SUITE_P(TreeAndPacked, StoreModeTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Packed" : "Tree"; });

TEST_P(StoreModeTest, UpsertReportsAddThenUpdateAndSkipsTheSameVersion) {
  Store s(GetParam());
  auto c1 = s.upsert(obj("ns", "a", "1"));
  ASSERT_TRUE(c1);
  EXPECT_EQ(c1->kind, Change::Kind::kAdd);
  EXPECT_FALSE(s.upsert(obj("ns", "a", "1")));  // replayed
  auto c2 = s.upsert(obj("ns", "a", "2"));
  ASSERT_TRUE(c2);
  EXPECT_EQ(c2->kind, Change::Kind::kUpdate);
  EXPECT_EQ(resourceVersionOf(*c2->old_obj), "1");
  EXPECT_EQ(resourceVersionOf(*c2->new_obj), "2");
  EXPECT_EQ(resourceVersionOf(*s.get("ns/a")), "2");
}

TEST_P(StoreModeTest, RemoveReportsTheFinalStateOrTheCachedOne) {
  Store s(GetParam());
  (void)s.upsert(obj("ns", "a", "1"));
  (void)s.upsert(obj("ns", "b", "1"));
  auto c = s.remove("ns/a", obj("ns", "a", "7"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, Change::Kind::kDelete);
  EXPECT_EQ(resourceVersionOf(*c->new_obj), "7");
  auto c2 = s.remove("ns/b", nullptr);
  ASSERT_TRUE(c2);
  EXPECT_EQ(resourceVersionOf(*c2->new_obj), "1");
  EXPECT_FALSE(s.remove("ns/missing", nullptr));
  EXPECT_EQ(s.size(), 0u);
}

TEST_P(StoreModeTest, ReplaceDiffsAgainstTheCache) {
  Store s(GetParam());
  (void)s.upsert(obj("ns", "keep", "1"));
  (void)s.upsert(obj("ns", "change", "1"));
  (void)s.upsert(obj("ns", "gone", "1"));
  auto changes = s.replace({obj("ns", "keep", "1"), obj("ns", "change", "5"), obj("ns", "new", "6")});
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].kind, Change::Kind::kUpdate);
  EXPECT_EQ(objectKey(*changes[0].new_obj), "ns/change");
  EXPECT_EQ(changes[1].kind, Change::Kind::kAdd);
  EXPECT_EQ(objectKey(*changes[1].new_obj), "ns/new");
  EXPECT_EQ(changes[2].kind, Change::Kind::kDelete);
  EXPECT_EQ(objectKey(*changes[2].new_obj), "ns/gone");
  EXPECT_EQ(s.keys(), (std::vector<std::string>{"ns/change", "ns/keep", "ns/new"}));
}

TEST_P(StoreModeTest, IndexesFollowUpdatesAndDeletes) {
  Store s(GetParam());
  s.addIndex("app", [](const json& o) {
    std::vector<std::string> v;
    auto l = o["metadata"].value("labels", json::object());
    if (l.contains("app")) v.push_back(l["app"]);
    return v;
  });
  (void)s.upsert(obj("a", "x", "1", "web"));
  (void)s.upsert(obj("b", "y", "1", "web"));
  (void)s.upsert(obj("a", "z", "1", "db"));
  EXPECT_EQ(names(s.byIndex("app", "web")), (std::vector<std::string>{"a/x", "b/y"}));
  EXPECT_EQ(names(s.byNamespace("a")), (std::vector<std::string>{"a/x", "a/z"}));
  (void)s.upsert(obj("a", "x", "2", "db"));
  EXPECT_EQ(names(s.byIndex("app", "web")), (std::vector<std::string>{"b/y"}));
  EXPECT_EQ(names(s.byIndex("app", "db")), (std::vector<std::string>{"a/x", "a/z"}));
  (void)s.remove("a/z", nullptr);
  EXPECT_EQ(names(s.byIndex("app", "db")), (std::vector<std::string>{"a/x"}));
  (void)s.replace({});
  EXPECT_TRUE(s.byIndex("app", "db").empty());
  EXPECT_TRUE(s.byNamespace("a").empty());
  EXPECT_TRUE(s.byIndex("nope", "x").empty());
}

TEST(StoreTest, PackedReadsGiveTheWholeObjectAsAFreshTree) {
  Store s(true);
  json o = {{"metadata", {{"name", "d"}, {"namespace", "ns"}, {"resourceVersion", "3"}}},
            {"spec", {{"replicas", 2}, {"ratio", 0.5}, {"paused", false}, {"tags", json::array({"a", nullptr})}}},
            {"status", {{"big", int64_t{1} << 40}, {"neg", -7}}}};
  auto in = std::make_shared<const json>(o);
  auto c = s.upsert(in);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->new_obj, in);  // handlers see what was written
  auto a = s.get("ns/d");
  auto b = s.get("ns/d");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, o);
  EXPECT_NE(a, in);  // decoded, not the caller's tree
  EXPECT_NE(a, b);
  EXPECT_EQ(*s.list().at(0), o);
  EXPECT_EQ(*s.byNamespace("ns").at(0), o);
  json o2 = o;
  o2["metadata"]["resourceVersion"] = "4";
  auto u = s.upsert(std::make_shared<const json>(o2));
  ASSERT_TRUE(u && u->old_obj);
  EXPECT_EQ(*u->old_obj, o);
  EXPECT_EQ(*s.get("ns/d"), o2);
}

}  // namespace
}  // namespace bgo::informer
