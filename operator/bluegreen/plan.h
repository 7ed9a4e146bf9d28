#pragma once
// plan(): the pure heart of the operator. No I/O, no clock: everything comes in
// through Observed (time included) and everything to do comes out as a Plan.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "operator/bluegreen/observed.h"
#include "operator/core/gvr.h"

namespace bgo::bluegreen {

struct Action {
  // kCreate: a fixed-name object created once and never updated (hook Jobs);
  // AlreadyExists means it was created before and is read instead.
  enum class Kind { kApply, kMergePatch, kJsonPatch, kDelete, kCreate };
  Kind kind = Kind::kApply;
  core::Gvr gvr;
  std::string ns;
  std::string name;
  json body;            // kDelete: {"uid": ..., "propagationPolicy"?: ...}, the object that may be deleted
  std::string why;  // for logs: "deploy revision 8a01e2 to green at 3 replicas"
};

struct PlannedEvent {
  std::string type;    // Normal | Warning
  std::string reason;  // Deploying, Promotable, Switched, ScaledDown, RolledBack, Failed, Aborted, ...
  std::string message;
};

struct Plan {
  std::vector<Action> actions;
  api::Status status;                       // the status to write (if it differs)
  std::vector<PlannedEvent> events;
  std::optional<std::chrono::milliseconds> requeue_after;  // time-based gate to look again at
  bool switched = false;                    // this plan moves the main route
};

Plan plan(const Observed& observed);

// Exposed for tests and the executor.
json desiredDeployment(const api::Release& r, Color c, int32_t replicas);
json desiredService(const api::Release& r, Color c);
json desiredBudget(const api::Release& r, Color c);  // needs spec.podDisruptionBudget
// The label selector of a color's pods, as the scale subresource serves it.
std::string colorSelector(const api::Release& r, Color c);
json ownedMeta(const api::Release& r, std::optional<Color> c);
// Finished hook Jobs are kept for the revisions of the colors, the release's
// own and the last kKeepHookRevisions switched to; older ones are deleted.
inline constexpr std::size_t kKeepHookRevisions = 3;

}  // namespace bgo::bluegreen
