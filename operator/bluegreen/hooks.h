#pragma once
// Hook Jobs (docs/database.md): their names and their manifests. Pure.

#include <string>

#include <nlohmann/json.hpp>

#include "operator/api/v1alpha1/types.h"

namespace bgo::bluegreen {

// What a hook runs for: the revision it belongs to and where that revision runs.
struct HookContext {
  api::Color color = api::Color::kBlue;  // the color running `revision`
  std::string revision;
  std::string previous_revision;  // preSwitch/postSwitch: the one traffic leaves; onRollback: the one it returns to
  std::string image;              // for containers that name none
};

// Stable per release, revision, kind, hook and attempt; at most 63 characters
// (the Job controller copies it into the pods' job-name label). The short hash
// keeps releases whose names share a prefix ("a" + hook "b-c", "a-b" + hook
// "c") apart, and truncated names distinct.
std::string hookJobName(const std::string& release, const std::string& revision, api::HookKind kind,
                        const std::string& hook, int attempt = 0);

// The preview (or live) Service of a color, in-cluster: http://<name>-<color>.<ns>.svc:<port>.
std::string colorServiceUrl(const api::Release& r, api::Color c);

// The Job for one hook: fixed name, ownerReference and labels, env injected
// into every container, activeDeadlineSeconds = timeoutSeconds.
nlohmann::json desiredJob(const api::Release& r, api::HookKind kind, const api::Hook& hook,
                          const HookContext& ctx, const std::string& name);

}  // namespace bgo::bluegreen
