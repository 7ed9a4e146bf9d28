#pragma once
// What the reconciler saw, gathered from the caches: the input of plan().

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/api/v1alpha1/codec.h"
#include "operator/api/v1alpha1/types.h"
#include "operator/core/clock.h"

namespace bgo::bluegreen {

using json = nlohmann::json;
using api::Color;
using ObjectPtr = std::shared_ptr<const json>;

// The name of the one port of each color's Service.
inline constexpr const char* kServicePortName = "http";

struct DeploymentView {
  ObjectPtr object;            // null: does not exist
  bool owned = false;          // controller ownerReference to this release
  std::string revision;        // label bluegreen.io/revision
  std::string image;           // first container's image
  int32_t spec_replicas = 0;
  int64_t generation = 0;
  int64_t observed_generation = 0;
  int32_t replicas = 0;
  int32_t updated_replicas = 0;
  int32_t ready_replicas = 0;
  int32_t available_replicas = 0;
  api::Hooks hooks;            // annotation bluegreen.io/hooks: the hooks of the revision it runs

  bool exists() const { return object != nullptr; }
  // The rollout finished at `want` replicas: every replica updated, ready and available.
  bool caughtUp(int32_t want) const;
};

struct ServiceView {
  ObjectPtr object;
  bool owned = false;
  int32_t ready_endpoints = 0;  // distinct ready addresses in its EndpointSlices that carry its port
  bool exists() const { return object != nullptr; }
};

// A color's PodDisruptionBudget (spec.podDisruptionBudget).
struct BudgetView {
  ObjectPtr object;
  bool owned = false;
  bool exists() const { return object != nullptr; }
};

// A hook Job of the release (label bluegreen.io/release).
struct JobView {
  enum class Phase { kRunning, kSucceeded, kFailed };
  ObjectPtr object;
  bool owned = false;
  Phase phase = Phase::kRunning;
  std::string revision;     // label bluegreen.io/revision
  std::string start_time;   // creationTimestamp
  std::string finish_time;  // completionTime, or when the Failed condition turned True
  // Failed: the condition's reason and message, then the failing container's
  // termination message (read from the Job's pods by the reconciler).
  std::string failure;
  bool exists() const { return object != nullptr; }
  bool finished() const { return phase != Phase::kRunning; }
};

struct RouteView {
  ObjectPtr object;
  bool owned = false;
  bool exists() const { return object != nullptr; }
};

// A color's database Service (spec.routing.tcp.<color>.service). Read from the
// API server, not a cache: it is the user's, not labelled as ours.
struct DatabaseView {
  ObjectPtr object;             // null: not found
  bool external = false;        // type ExternalName: no endpoints to count, trusted
  int32_t ready_endpoints = 0;  // ready addresses in slices carrying the backend port
  std::string problem;          // why it cannot take connections ("" when it can)
  bool exists() const { return object != nullptr; }
  bool ready() const { return exists() && problem.empty() && (external || ready_endpoints > 0); }
};

// Fills ready_endpoints/external/problem from the Service and its slices.
DatabaseView viewDatabase(ObjectPtr service, int32_t port, const std::vector<ObjectPtr>& slices);

struct Observed {
  json release_object;          // as read (for the status write)
  api::Parsed parsed;           // spec + status + validation errors
  std::array<DeploymentView, 2> deployments;  // index by Color
  std::array<ServiceView, 2> services;
  std::array<BudgetView, 2> budgets;
  RouteView main_route;         // managed `<name>` or the user's existingIngressRoute
  RouteView preview_route;      // managed `<name>-preview`
  RouteView tcp_route;          // spec.routing.tcp: managed `<name>-tcp` or the user's IngressRouteTCP
  // `<name>-tcp` when the spec no longer asks for it (spec.routing.tcp removed, or
  // an existingIngressRouteTCP named instead): deleted if this release owns it.
  RouteView unwanted_tcp_route;
  std::array<DatabaseView, 2> databases;  // spec.routing.tcp: each color's database Service
  core::WallTime now;
  // Traefik's view of the last switch: nullopt when no Traefik API is
  // configured (then `confirm_margin_seconds` after the switch counts as live).
  std::optional<bool> route_live;
  std::string route_live_problem;  // why not (API unreachable, router missing, ...)
  int confirm_margin_seconds = 5;
  // The API server refused a write of this spec generation as invalid (e.g. a
  // template that is no valid Deployment): its message, naming the field.
  std::optional<std::string> rejected;
  // An older release adopts the same existing route and match: its name.
  std::string route_claimed_by;
  // Traefik's view of the preview color before a switch: whether its preview
  // router lists servers (nullopt: no Traefik API, or no preview host).
  std::optional<bool> preview_servable;
  std::string preview_servable_problem;
  // The release's hook Jobs by name.
  std::map<std::string, JobView> jobs;

  const api::Release& release() const { return parsed.release; }
  const DeploymentView& deployment(Color c) const { return deployments[static_cast<int>(c)]; }
  const ServiceView& service(Color c) const { return services[static_cast<int>(c)]; }
  const BudgetView& budget(Color c) const { return budgets[static_cast<int>(c)]; }
  const DatabaseView& database(Color c) const { return databases[static_cast<int>(c)]; }
};

// The size a release in flight runs both colors at: spec.replicas, or the live
// color's current size when that is larger (an autoscaler raised it, or the
// spec that starts the release lowered spec.replicas), so a switch never
// lowers capacity. Used by the planner and by the reconciler's Traefik check.
int32_t releaseSize(const api::Spec& spec, const DeploymentView& live);

// Builders from raw objects (used by the reconciler and tests).
DeploymentView viewDeployment(ObjectPtr deployment, const std::string& release_uid);
// `termination`: the failing container's termination message ("" when unknown).
JobView viewJob(ObjectPtr job, const std::string& release_uid, const std::string& termination = "");
bool ownedBy(const json& object, const std::string& uid);
// Counts distinct ready endpoint addresses over the slices of one Service,
// only in slices that carry the Service's port `port_name` (a named targetPort
// no container declares gives slices without ports: nothing could serve them).
int32_t countReadyEndpoints(const std::vector<ObjectPtr>& slices, const std::string& port_name = kServicePortName);
std::set<std::string> readyEndpointAddresses(const std::vector<ObjectPtr>& slices,
                                             const std::string& port_name = kServicePortName);

}  // namespace bgo::bluegreen
