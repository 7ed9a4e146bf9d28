#include <gtest/gtest.h>

#include "operator/core/clock.h"
#include "operator/core/gvr.h"
#include "operator/core/result.h"
#include "operator/kube/kube_client.h"

namespace bgo::core {
namespace {

Result<int> half(int x) {
  if (x % 2 != 0) return fail(ErrorCode::kInvalid, "odd: " + std::to_string(x));
  return x / 2;
}

TEST(ResultTest, CarriesValueOrError) {
  auto ok = half(4);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 2);
  auto bad = half(3);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(bad.error().retry, RetryClass::kNone);
  EXPECT_EQ(bad.error().describe(), "Invalid: odd: 3");
}

TEST(ErrorTest, RetryClassFollowsCode) {
  EXPECT_EQ(defaultRetryClass(ErrorCode::kConflict), RetryClass::kReplan);
  EXPECT_EQ(defaultRetryClass(ErrorCode::kTooManyRequests), RetryClass::kBackoff);
  EXPECT_EQ(defaultRetryClass(ErrorCode::kUnavailable), RetryClass::kBackoff);
  EXPECT_EQ(defaultRetryClass(ErrorCode::kInvalid), RetryClass::kNone);
}

TEST(ErrorTest, MapsKubernetesStatusObjects) {
  auto e = kube::errorFromStatus(
      429, nlohmann::json{{"kind", "Status"}, {"reason", "TooManyRequests"},
                          {"message", "slow down"}, {"details", {{"retryAfterSeconds", 3}}}});
  EXPECT_EQ(e.code, ErrorCode::kTooManyRequests);
  EXPECT_EQ(e.retry, RetryClass::kBackoff);
  ASSERT_TRUE(e.retry_after.has_value());
  EXPECT_EQ(e.retry_after->count(), 3);
  EXPECT_EQ(kube::errorFromStatus(409, {{"reason", "Conflict"}}).code, ErrorCode::kConflict);
  EXPECT_EQ(kube::errorFromStatus(410, {{"reason", "Expired"}}).code, ErrorCode::kGone);
  EXPECT_EQ(kube::errorFromStatus(404, nullptr).code, ErrorCode::kNotFound);
  EXPECT_EQ(kube::errorFromStatus(502, nullptr).code, ErrorCode::kInternal);
}

TEST(ClockTest, Rfc3339RoundTrips) {
  auto t = parseRfc3339("2026-11-29T16:06:49Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(formatRfc3339(*t), "2026-11-29T16:06:49Z");
  EXPECT_TRUE(parseRfc3339("2026-11-29T16:06:49.123456Z").has_value());
  EXPECT_FALSE(parseRfc3339("yesterday").has_value());
  auto ms = parseRfc3339("2026-11-29T16:06:49.250Z");
  ASSERT_TRUE(ms.has_value());
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(*ms - *t).count(), 250);
  EXPECT_EQ(formatRfc3339Millis(*ms), "2026-11-29T16:06:49.250Z");
  EXPECT_EQ(formatRfc3339Millis(*t), "2026-11-29T16:06:49.000Z");
  EXPECT_FALSE(parseRfc3339("2026-13-29T16:06:49Z").has_value());
}

TEST(ObjectKeyTest, ParsesNamespacedAndClusterKeys) {
  EXPECT_EQ(ObjectKey::parse("shop/web").ns, "shop");
  EXPECT_EQ(ObjectKey::parse("shop/web").name, "web");
  EXPECT_EQ(ObjectKey::parse("node-1").ns, "");
  EXPECT_EQ((ObjectKey{"a", "b"}).str(), "a/b");
}

}  // namespace
}  // namespace bgo::core
