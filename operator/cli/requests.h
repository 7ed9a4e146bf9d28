#pragma once
// The writes a person asks for (promote, abort, rollback, retry, pause, resume,
// set image), decided from what was read: pure functions from objects to a
// guarded JSON Patch of the release and a description of what will happen.
// Each request names the revision it is for; a refusal says why and what to do.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/core/result.h"

namespace bgo::cli {

using json = nlohmann::json;

struct Request {
  json patch = json::array();  // JSON Patch for the release; empty: nothing to write
  std::string revision;        // the revision the request is for
  std::string what;            // what will happen, one or more lines for a person
};

// `wanted`: --revision, "" when not given. Errors are kInvalid with one line.
core::Result<Request> promoteRequest(const json& release, const std::string& wanted);
core::Result<Request> abortRequest(const json& release, const std::string& wanted);
core::Result<Request> retryRequest(const json& release, const std::string& wanted);
core::Result<Request> pauseRequest(const json& release, bool paused, const std::string& wanted);
// `assignments`: CONTAINER=IMAGE.
core::Result<Request> setImageRequest(const json& release, const std::vector<std::string>& assignments,
                                      const std::string& wanted);
// `standby`: the Deployment of the color the main route does not name (null when absent).
core::Result<Request> rollbackRequest(const json& release, const json& standby, const std::string& wanted);

// "" when `image` is a valid reference ([registry/]repository[:tag][@digest]),
// otherwise what is wrong with it.
std::string checkImageReference(const std::string& image);

// JSON Pointer escaping of one key ("bluegreen.io/promote" -> "bluegreen.io~1promote").
std::string pointerKey(const std::string& key);

}  // namespace bgo::cli
