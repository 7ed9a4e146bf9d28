#pragma once
// A BlueGreenRelease as the API server returns it, for the plugin's tests.

#include <string>

#include <nlohmann/json.hpp>

#include "operator/api/v1alpha1/revision.h"

namespace bgo::cli::testing {

using json = nlohmann::json;

inline json podTemplate(const std::string& image) {
  return {{"metadata", {{"labels", {{"app", "shop"}}}}},
          {"spec", {{"containers", json::array({{{"name", "shop"}, {"image", image}}})}}}};
}

inline std::string revisionFor(const std::string& image) { return api::revisionOf(podTemplate(image)); }

// `image` in spec.template; status as given (merged over an observed one).
inline json releaseJson(const std::string& image, const json& status = json::object(), int64_t generation = 2) {
  json st = {{"observedGeneration", generation}};
  st.update(status);
  return {{"apiVersion", "bluegreen.io/v1alpha1"},
          {"kind", "BlueGreenRelease"},
          {"metadata",
           {{"name", "shop"}, {"namespace", "prod"}, {"uid", "u-1"}, {"generation", generation},
            {"resourceVersion", "10"}, {"creationTimestamp", "2026-12-07T01:00:00Z"}}},
          {"spec",
           {{"replicas", 3},
            {"template", podTemplate(image)},
            {"service", {{"port", 80}}},
            {"routing", {{"host", "shop.example.com"}}}}},
          {"status", st}};
}

// Stable on blue at image1 after a switch from green (so green ran image0).
inline json stableAfterSwitch(const std::string& old_image, const std::string& image, const std::string& stage) {
  return releaseJson(image, {{"activeColor", "blue"},
                             {"activeRevision", revisionFor(image)},
                             {"stage", stage},
                             {"history", json::array({{{"from", "green"}, {"to", "blue"}, {"revision", revisionFor(image)},
                                                       {"time", "2026-12-07T01:10:00Z"}, {"reason", "Promoted"}},
                                                      {{"from", "blue"}, {"to", "green"}, {"revision", revisionFor(old_image)},
                                                       {"time", "2026-12-07T01:05:00Z"}, {"reason", "Promoted"}}})}});
}

// The Deployment of `color` running `image` (with the operator's labels and server defaults).
inline json deploymentJson(const std::string& color, const std::string& image, int replicas, int ready) {
  json tmpl = podTemplate(image);
  tmpl["metadata"]["labels"]["bluegreen.io/color"] = color;
  tmpl["metadata"]["labels"]["bluegreen.io/revision"] = revisionFor(image);
  tmpl["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent";
  tmpl["spec"]["restartPolicy"] = "Always";
  return {{"metadata", {{"name", "shop-" + color}, {"namespace", "prod"}, {"labels", {{"bluegreen.io/revision", revisionFor(image)}}}}},
          {"spec", {{"replicas", replicas}, {"template", tmpl}}},
          {"status", {{"replicas", replicas}, {"readyReplicas", ready}}}};
}

}  // namespace bgo::cli::testing
