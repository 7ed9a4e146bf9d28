#pragma once
// BlueGreenRelease v1alpha1 as the operator sees it. The wire schema lives in
// crds/; these are the parsed, defaulted values the planner works on.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/core/clock.h"

namespace bgo::api {

using json = nlohmann::json;

inline constexpr const char* kGroup = "bluegreen.io";
inline constexpr const char* kVersion = "v1alpha1";
inline constexpr const char* kApiVersion = "bluegreen.io/v1alpha1";
inline constexpr const char* kKind = "BlueGreenRelease";
inline constexpr const char* kFieldManager = "bluegreen-operator";

// Labels and annotations (api.md "Names").
inline constexpr const char* kLabelName = "app.kubernetes.io/name";
inline constexpr const char* kLabelManagedBy = "app.kubernetes.io/managed-by";
inline constexpr const char* kManagedByValue = "bluegreen-operator";
inline constexpr const char* kLabelRelease = "bluegreen.io/release";
inline constexpr const char* kLabelColor = "bluegreen.io/color";
inline constexpr const char* kLabelRevision = "bluegreen.io/revision";
inline constexpr const char* kAnnotationPromote = "bluegreen.io/promote";
inline constexpr const char* kAnnotationAbort = "bluegreen.io/abort";
// Hooks (docs/database.md): the hooks a revision was deployed with ride on its
// Deployment, so a rollback runs the down step of the revision being left.
inline constexpr const char* kAnnotationHooks = "bluegreen.io/hooks";
inline constexpr const char* kAnnotationAcknowledge = "bluegreen.io/acknowledge-hook-failure";
inline constexpr const char* kAnnotationAllowRollback = "bluegreen.io/allow-irreversible-rollback";
inline constexpr const char* kLabelHook = "bluegreen.io/hook";
inline constexpr const char* kLabelHookKind = "bluegreen.io/hook-kind";

enum class Color { kBlue, kGreen };
inline const char* toString(Color c) { return c == Color::kBlue ? "blue" : "green"; }
inline Color other(Color c) { return c == Color::kBlue ? Color::kGreen : Color::kBlue; }
std::optional<Color> parseColor(const std::string& s);

enum class Stage {
  kInitializing,
  kDeploying,
  kVerifying,
  kAwaitingPromotion,
  kSwitching,
  kDraining,
  kStable,
  kFailed,
  kPaused,
  kAborted,
  kRunningHook,
};
const char* toString(Stage s);

struct MiddlewareRef {
  std::string name;
  std::string ns;  // empty: the release's namespace
  bool operator==(const MiddlewareRef&) const = default;
};

struct ExistingRoute {
  std::string name;   // IngressRoute in the release's namespace
  std::string match;  // exact `match` of the route to patch
  bool operator==(const ExistingRoute&) const = default;
};

// spec.routing.tcp: the database route, an IngressRouteTCP with exactly one
// service (a weighted pair would split writes across two databases).
struct TcpBackend {
  std::string service;  // a Service in the release's namespace (ExternalName allowed)
  int32_t port = 0;
  bool operator==(const TcpBackend&) const = default;
};

struct TcpRoute {
  std::vector<std::string> entry_points;
  TcpBackend blue;
  TcpBackend green;
  std::optional<Color> pinned;  // nullopt: follow the active color
  std::string existing;         // existingIngressRouteTCP: a user's route to patch
  int32_t drain_seconds = 0;
  const TcpBackend& backend(Color c) const { return c == Color::kBlue ? blue : green; }
  bool operator==(const TcpRoute&) const = default;
};

// spec.podDisruptionBudget: exactly one of the two, each an int or a "NN%".
struct DisruptionBudget {
  json min_available;    // null when unset
  json max_unavailable;  // null when unset
  bool operator==(const DisruptionBudget&) const = default;
};

enum class HookKind { kPreSwitch, kPostSwitch, kOnRollback };
const char* toString(HookKind k);

// One hook: a Job run at one point of a release (spec.hooks.<kind>[i]).
struct Hook {
  std::string name;
  json template_;               // PodTemplateSpec of the Job, verbatim
  int32_t timeout_seconds = 600;
  int32_t backoff_limit = 0;
  bool irreversible = false;
  bool operator==(const Hook&) const = default;
};

struct Hooks {
  std::vector<Hook> pre_switch;
  std::vector<Hook> post_switch;
  std::vector<Hook> on_rollback;
  bool empty() const { return pre_switch.empty() && post_switch.empty() && on_rollback.empty(); }
  const std::vector<Hook>& of(HookKind k) const {
    return k == HookKind::kPreSwitch ? pre_switch : k == HookKind::kPostSwitch ? post_switch : on_rollback;
  }
  bool operator==(const Hooks&) const = default;
};

struct Spec {
  int32_t replicas = 1;
  json template_;                      // PodTemplateSpec, verbatim
  int32_t service_port = 80;
  json service_target_port;            // int or string; null -> service_port
  std::vector<std::string> entry_points{"web"};
  std::string host;                    // empty when existing_route is set
  std::string preview_host_blue;       // defaulted to blue.<host>
  std::string preview_host_green;      // defaulted to green.<host>
  std::vector<MiddlewareRef> middlewares;
  json tls;                            // null or an object, passed through
  std::optional<ExistingRoute> existing_route;
  bool auto_promote = true;
  int32_t ready_for_seconds = 10;
  int32_t progress_deadline_seconds = 600;
  int32_t scale_down_delay_seconds = 30;
  int32_t standby_replicas = 0;
  bool paused = false;
  std::optional<DisruptionBudget> pod_disruption_budget;  // one PDB per color when set
  std::optional<TcpRoute> tcp;                            // spec.routing.tcp
  Hooks hooks;

  const std::string& previewHost(Color c) const {
    return c == Color::kBlue ? preview_host_blue : preview_host_green;
  }
};

struct ColorStatus {
  std::string revision;
  int32_t replicas = 0;
  int32_t ready_replicas = 0;
  int32_t available_replicas = 0;
  int32_t ready_endpoints = 0;
  std::string image;
  bool operator==(const ColorStatus&) const = default;
};

// status.tcpRoute: the database route as last seen.
struct TcpRouteStatus {
  std::string name;            // the IngressRouteTCP
  std::string color;           // "" when it names neither color's database
  std::string backend;         // service:port
  std::string last_move_time;  // RFC 3339
  bool operator==(const TcpRouteStatus&) const = default;
};

struct HistoryEntry {
  std::string from;  // "blue", "green", or "" for the first switch
  std::string to;
  std::string revision;
  std::string time;  // RFC 3339
  std::string reason;
  bool operator==(const HistoryEntry&) const = default;
};

// status.hooks[]: one run of one hook for one revision.
struct HookStatus {
  std::string name;
  std::string kind;      // preSwitch | postSwitch | onRollback
  std::string revision;  // the revision the hook belongs to
  std::string job;
  std::string phase;     // Running | Succeeded | Failed
  std::string start_time;
  std::string finish_time;
  std::string message;
  bool irreversible = false;
  bool operator==(const HookStatus&) const = default;
};
inline constexpr std::size_t kMaxHookStatus = 30;

struct Condition {
  std::string type;
  std::string status;  // "True" | "False" | "Unknown"
  int64_t observed_generation = 0;
  std::string last_transition_time;
  std::string reason;
  std::string message;
  bool operator==(const Condition&) const = default;
};

inline constexpr const char* kCondReady = "Ready";
inline constexpr const char* kCondReconciling = "Reconciling";
inline constexpr const char* kCondStalled = "Stalled";
inline constexpr const char* kCondPreviewReady = "PreviewReady";
inline constexpr const char* kCondTrafficSwitched = "TrafficSwitched";
inline constexpr const char* kCondHooksSucceeded = "HooksSucceeded";
inline constexpr std::size_t kMaxHistory = 10;

struct Status {
  int64_t observed_generation = 0;
  std::string active_color;
  std::string active_revision;
  std::string preview_color;
  std::string preview_revision;
  std::string stage;
  std::string message;
  // The scale subresource reads these: the live color's pods and its selector.
  int32_t replicas = 0;
  std::string selector;
  std::optional<ColorStatus> blue;
  std::optional<ColorStatus> green;
  std::string release_start_time;  // when the current preview revision was first deployed
  std::string promotable_since;
  std::string last_switch_time;
  std::string traffic_confirmed_time;  // Traefik serves the last switch (or the safety margin passed)
  std::string scale_down_at;
  std::optional<TcpRouteStatus> tcp_route;
  std::vector<HistoryEntry> history;  // newest first
  std::vector<HookStatus> hooks;      // newest first
  std::vector<Condition> conditions;
  bool operator==(const Status&) const = default;

  const Condition* condition(const std::string& type) const;
};

// The release as read from the API server.
struct Release {
  std::string ns;
  std::string name;
  std::string uid;
  int64_t generation = 0;
  std::string resource_version;
  bool deleting = false;
  std::string promote_request;  // annotation value, "" when absent
  std::string abort_request;
  std::string acknowledge_request;     // a failed onRollback Job the user accepts
  std::string allow_rollback_request;  // a revision whose irreversible hook may be rolled back past
  Spec spec;
  Status status;
};

}  // namespace bgo::api
