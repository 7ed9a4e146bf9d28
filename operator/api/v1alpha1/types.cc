#include "operator/api/v1alpha1/types.h"

namespace bgo::api {

std::optional<Color> parseColor(const std::string& s) {
  if (s == "blue") return Color::kBlue;
  if (s == "green") return Color::kGreen;
  return std::nullopt;
}

const char* toString(Stage s) {
  switch (s) {
    case Stage::kInitializing: return "Initializing";
    case Stage::kDeploying: return "Deploying";
    case Stage::kVerifying: return "Verifying";
    case Stage::kAwaitingPromotion: return "AwaitingPromotion";
    case Stage::kSwitching: return "Switching";
    case Stage::kDraining: return "Draining";
    case Stage::kStable: return "Stable";
    case Stage::kFailed: return "Failed";
    case Stage::kPaused: return "Paused";
    case Stage::kAborted: return "Aborted";
    case Stage::kRunningHook: return "RunningHook";
  }
  return "Unknown";
}

const Condition* Status::condition(const std::string& type) const {
  for (const auto& c : conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

const char* toString(HookKind k) {
  switch (k) {
    case HookKind::kPreSwitch: return "preSwitch";
    case HookKind::kPostSwitch: return "postSwitch";
    case HookKind::kOnRollback: return "onRollback";
  }
  return "";
}

}  // namespace bgo::api
