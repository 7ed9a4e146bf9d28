#include <gtest/gtest.h>

#include "operator/kube/rest/url.h"

namespace bgo::kube::rest {
namespace {

TEST(UrlTest, BuildsCoreAndGroupPaths) {
  EXPECT_EQ(resourcePath(core::gvrs::kConfigMaps, "default"), "/api/v1/namespaces/default/configmaps");
  EXPECT_EQ(resourcePath(core::gvrs::kConfigMaps, "default", "cm1"),
            "/api/v1/namespaces/default/configmaps/cm1");
  EXPECT_EQ(resourcePath(core::gvrs::kDeployments, "prod", "web", "status"),
            "/apis/apps/v1/namespaces/prod/deployments/web/status");
  EXPECT_EQ(resourcePath(core::gvrs::kIngressRoutes, "x", "r"),
            "/apis/traefik.io/v1alpha1/namespaces/x/ingressroutes/r");
}

TEST(UrlTest, AllNamespacesAndClusterScope) {
  EXPECT_EQ(resourcePath(core::gvrs::kConfigMaps, ""), "/api/v1/configmaps");
  EXPECT_EQ(resourcePath(core::gvrs::kNamespaces, "", "kube-system"), "/api/v1/namespaces/kube-system");
  // A namespace given for a cluster-scoped resource is ignored.
  EXPECT_EQ(resourcePath(core::gvrs::kCrds, "default", "a.b.io"),
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/a.b.io");
  EXPECT_EQ(resourcePath(core::gvrs::kNamespaces, "", "ns1", "finalize"), "/api/v1/namespaces/ns1/finalize");
}

TEST(UrlTest, SubresourceNeedsAName) {
  EXPECT_EQ(resourcePath(core::gvrs::kPods, "a", "", "status"), "/api/v1/namespaces/a/pods");
}

TEST(UrlTest, PercentEncodesEverythingButUnreserved) {
  EXPECT_EQ(percentEncode("a-b_c.d~e09AZ"), "a-b_c.d~e09AZ");
  EXPECT_EQ(percentEncode("app in (a,b),tier!=db"), "app%20in%20%28a%2Cb%29%2Ctier%21%3Ddb");
  EXPECT_EQ(percentEncode("k=v&x/y"), "k%3Dv%26x%2Fy");
  EXPECT_EQ(percentEncode("\xC3\xA9"), "%C3%A9");
}

TEST(UrlTest, ListQueryCarriesPagingAndSelectors) {
  EXPECT_EQ(listQuery({}).str(), "");
  ListOptions o;
  o.label_selector = "app=web,track!=canary";
  o.field_selector = "metadata.name=x";
  o.limit = 50;
  o.continue_token = "eyJ2Ijoi+/=";
  o.resource_version = "0";
  EXPECT_EQ(listQuery(o).str(),
            "?labelSelector=app%3Dweb%2Ctrack%21%3Dcanary&fieldSelector=metadata.name%3Dx&limit=50"
            "&continue=eyJ2Ijoi%2B%2F%3D&resourceVersion=0");
}

TEST(UrlTest, WatchQueryAsksForBookmarksAndTimeout) {
  WatchOptions w;
  w.resource_version = "12345";
  w.timeout_seconds = 290;
  EXPECT_EQ(watchQuery(w).str(), "?watch=true&resourceVersion=12345&allowWatchBookmarks=true&timeoutSeconds=290");
  w.allow_bookmarks = false;
  w.label_selector = "a=b";
  w.resource_version = "";
  w.timeout_seconds = 0;
  EXPECT_EQ(watchQuery(w).str(), "?watch=true&labelSelector=a%3Db");
}

TEST(UrlTest, WriteQueryForcesOnlyApply) {
  WriteOptions w;
  EXPECT_EQ(writeQuery(w, false).str(), "");
  w.field_manager = "bluegreen-operator";
  w.force = true;
  w.dry_run = true;
  EXPECT_EQ(writeQuery(w, true).str(), "?fieldManager=bluegreen-operator&force=true&dryRun=All");
  EXPECT_EQ(writeQuery(w, false).str(), "?fieldManager=bluegreen-operator&dryRun=All");
}

TEST(UrlTest, PatchContentTypes) {
  EXPECT_STREQ(patchContentType(PatchType::kJson), "application/json-patch+json");
  EXPECT_STREQ(patchContentType(PatchType::kMerge), "application/merge-patch+json");
  EXPECT_STREQ(patchContentType(PatchType::kStrategicMerge), "application/strategic-merge-patch+json");
  EXPECT_STREQ(patchContentType(PatchType::kApply), "application/apply-patch+yaml");
}

TEST(UrlTest, DeleteOptionsBody) {
  EXPECT_EQ(deleteOptionsBody({}), (json{{"kind", "DeleteOptions"}, {"apiVersion", "v1"}}));
  DeleteOptions d;
  d.propagation_policy = "Foreground";
  d.precondition_uid = "u-1";
  d.precondition_resource_version = "42";
  EXPECT_EQ(deleteOptionsBody(d),
            (json{{"kind", "DeleteOptions"},
                  {"apiVersion", "v1"},
                  {"propagationPolicy", "Foreground"},
                  {"preconditions", {{"uid", "u-1"}, {"resourceVersion", "42"}}}}));
}

}  // namespace
}  // namespace bgo::kube::rest
