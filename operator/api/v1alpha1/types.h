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
  Spec spec;
  Status status;
};

}  // namespace bgo::api
