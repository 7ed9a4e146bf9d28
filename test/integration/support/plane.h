#pragma once
// The real control plane as tests see it: BGO_KUBECONFIG (required; a test
// fails, never skips, without it) and an admin RestKubeClient.

#include <memory>
#include <string>

#include "operator/core/result.h"
#include "operator/kube/rest/rest_kube_client.h"

namespace bgo::itest {

inline constexpr const char* kNoPlane =
    "BGO_KUBECONFIG is not set: start the control plane (test/controlplane/start.sh) and "
    "`source build/plane/env`, or run through `make test`";

// The path in BGO_KUBECONFIG, or "".
std::string planeKubeconfig();

// Sizes the REST runtime once per process (the first call wins), then builds an
// admin client from BGO_KUBECONFIG. The error says what is missing.
core::Result<std::unique_ptr<kube::rest::RestKubeClient>> planeClient();

// Applies the CRDs of the checkout at `source_dir` (server-side, once per
// process), so a suite never runs against an old schema. "" or the error.
std::string applyCrdsOnce(const std::string& source_dir);

}  // namespace bgo::itest
