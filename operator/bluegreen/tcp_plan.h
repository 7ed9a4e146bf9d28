#pragma once
// The database route (spec.routing.tcp) part of plan(): pure functions of the
// observed state, called by the planner at fixed points. Kept apart so the
// main switch logic reads on its own.
//
// Order (decided): the TCP route moves in the same plan as the main route and
// is written *after* it. The active color is read from the main route, so the
// main route is the one source of truth: if the TCP write fails after the HTTP
// switch, the next reconcile completes the move forward; written first, a
// failed HTTP switch would leave the database route ahead and the next plan
// would have to move it back (two moves for every client of the database).

#include <optional>
#include <string>
#include <vector>

#include "operator/bluegreen/observed.h"
#include "operator/bluegreen/plan.h"

namespace bgo::bluegreen::tcp {

// A reason the release must not change anything while spec.routing.tcp is as
// it is (a backend Service or the user's IngressRouteTCP does not exist, or an
// object named <name>-tcp is not ours): {reason, message naming the field}.
struct Blocker {
  std::string reason;   // BackendNotFound | RouteNotFound | NameConflict
  std::string message;
};
std::optional<Blocker> blocker(const Observed& o);

// Why a switch of the main route to `c` must wait for the database ("" when it
// need not): only when the TCP route follows the active color.
std::string switchHold(const Observed& o, Color c);

// Extra seconds the old color stays warm after a switch: drainSeconds when the
// TCP route follows the active color (a pinned route does not move).
int32_t drainSeconds(const api::Spec& spec);

struct Step {
  std::vector<Action> actions;       // at most one write of the TCP route
  std::vector<PlannedEvent> events;
  api::TcpRouteStatus status;
  std::string waiting;               // the route should move but its database is not ready
};
// The TCP route for a main route that names `http_color` after this plan.
// `previous` is status.tcpRoute as read (suppresses a second event while the
// cache still shows the route before our own write).
Step plan(const Observed& o, Color http_color, const std::string& now,
          const std::optional<api::TcpRouteStatus>& previous);

// status.tcpRoute from what is observed, without planning a move.
std::optional<api::TcpRouteStatus> observedStatus(const Observed& o,
                                                  const std::optional<api::TcpRouteStatus>& previous);

}  // namespace bgo::bluegreen::tcp
