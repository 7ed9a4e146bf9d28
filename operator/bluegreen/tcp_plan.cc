#include "operator/bluegreen/tcp_plan.h"

#include "operator/bluegreen/covers.h"
#include "operator/traffic/traefik/ingress_route_tcp.h"

namespace bgo::bluegreen::tcp {
namespace {

std::optional<Color> wanted(const api::TcpRoute& t, Color http_color) {
  return t.pinned ? *t.pinned : http_color;
}

json tcpMeta(const api::Release& r) { return ownedMeta(r, std::nullopt); }

}  // namespace

std::optional<Blocker> blocker(const Observed& o) {
  const api::Release& r = o.release();
  if (!r.spec.tcp) return std::nullopt;
  const api::TcpRoute& t = *r.spec.tcp;
  if (t.existing.empty() && o.tcp_route.exists() && !o.tcp_route.owned) {
    return Blocker{"NameConflict", "IngressRouteTCP " + traefik::tcpRouteName(r) +
                                       " exists but is not owned by BlueGreenRelease " + r.name +
                                       "; the operator never takes over objects it did not create: name it in "
                                       "spec.routing.tcp.existingIngressRouteTCP or remove it; nothing was changed"};
  }
  for (Color c : {Color::kBlue, Color::kGreen}) {
    // A pinned route never names the other color's database: it need not exist.
    if (t.pinned && *t.pinned != c) continue;
    if (!o.database(c).exists()) {
      return Blocker{"BackendNotFound", std::string("spec.routing.tcp.") + api::toString(c) + ".service: Service " +
                                            t.backend(c).service + " not found in namespace " + r.ns +
                                            "; nothing is deployed or switched until it exists"};
    }
  }
  if (!t.existing.empty()) {
    if (!o.tcp_route.exists()) {
      return Blocker{"RouteNotFound", "spec.routing.tcp.existingIngressRouteTCP: IngressRouteTCP " + t.existing +
                                          " not found in namespace " + r.ns +
                                          "; nothing is deployed or switched until it exists"};
    }
    if (!traefik::readTcpTarget(*o.tcp_route.object, r, std::nullopt).route_found) {
      return Blocker{"RouteNotFound", "spec.routing.tcp.existingIngressRouteTCP: IngressRouteTCP " + t.existing +
                                          " has no route with match " + traefik::kTcpMatchAll +
                                          "; nothing is deployed or switched until it has one"};
    }
  }
  return std::nullopt;
}

std::string switchHold(const Observed& o, Color c) {
  const api::Release& r = o.release();
  if (!r.spec.tcp || r.spec.tcp->pinned) return "";
  const DatabaseView& db = o.database(c);
  if (db.ready()) return "";
  return "database Service " + r.spec.tcp->backend(c).service + " (spec.routing.tcp." + api::toString(c) +
         ".service) is not ready: " + (db.problem.empty() ? "not found" : db.problem);
}

int32_t drainSeconds(const api::Spec& spec) {
  return spec.tcp && !spec.tcp->pinned ? spec.tcp->drain_seconds : 0;
}

std::optional<api::TcpRouteStatus> observedStatus(const Observed& o,
                                                  const std::optional<api::TcpRouteStatus>& previous) {
  const api::Release& r = o.release();
  if (!r.spec.tcp) return std::nullopt;
  api::TcpRouteStatus s;
  s.name = traefik::tcpRouteName(r);
  if (previous) s.last_move_time = previous->last_move_time;
  if (o.tcp_route.exists()) {
    auto t = traefik::readTcpTarget(*o.tcp_route.object, r, r.spec.tcp->pinned);
    s.color = t.color ? api::toString(*t.color) : "";
    s.backend = t.description;
  }
  return s;
}

Step plan(const Observed& o, Color http_color, const std::string& now,
          const std::optional<api::TcpRouteStatus>& previous) {
  Step out;
  const api::Release& r = o.release();
  const api::TcpRoute& t = *r.spec.tcp;
  const Color want = *wanted(t, http_color);
  out.status = *observedStatus(o, previous);
  traefik::TcpTarget current;
  if (o.tcp_route.exists()) current = traefik::readTcpTarget(*o.tcp_route.object, r, want);
  const bool on_want = current.color == want;
  const std::string name = traefik::tcpRouteName(r);

  std::optional<Action> write;
  if (t.existing.empty()) {
    json desired = withAppliedHash(traefik::managedTcpRoute(r, want, tcpMeta(r)));
    Freshness f;
    if (o.tcp_route.exists()) f = freshness(*o.tcp_route.object, desired, true);
    else f.state = Freshness::State::kChanged;
    if (f.state != Freshness::State::kUpToDate) {
      write = Action{Action::Kind::kApply, core::gvrs::kIngressRouteTcps, r.ns, name, desired,
                     "database route " + name + " to " + api::toString(want) + " (" +
                         traefik::tcpBackend(r, want) + ")"};
      if (f.state == Freshness::State::kDrifted && on_want) {
        out.events.push_back({"Warning", "DriftCorrected",
                              "IngressRouteTCP " + name + " was changed outside the operator (" + f.field +
                                  "); restored what BlueGreenRelease " + r.name + " declares"});
      }
    }
  } else if (!on_want) {
    auto patch = traefik::tcpSwitchPatch(*o.tcp_route.object, r, want);
    if (patch) {
      write = Action{Action::Kind::kJsonPatch, core::gvrs::kIngressRouteTcps, r.ns, name, *patch,
                     "switch database route " + name + " to " + api::toString(want) + " (" +
                         traefik::tcpBackend(r, want) + ")"};
    }
  }
  if (!write) return out;
  // Never name a database that cannot take connections: the route stays where it is.
  if (!on_want && !o.database(want).ready()) {
    const DatabaseView& db = o.database(want);
    out.waiting = "database route " + name + " waits for Service " + t.backend(want).service +
                  " (spec.routing.tcp." + api::toString(want) + ".service): " +
                  (db.problem.empty() ? "not found" : db.problem);
    return out;
  }
  out.actions.push_back(*write);
  if (on_want) return out;  // same backend, only the object is restored
  const std::string to = traefik::tcpBackend(r, want);
  const bool recorded = previous && previous->color == api::toString(want) && previous->backend == to;
  out.status.color = api::toString(want);
  out.status.backend = to;
  if (recorded) return out;  // the cache does not show our own write yet
  out.status.last_move_time = now;
  if (current.description.empty()) {
    out.events.push_back({"Normal", "DatabaseRouteMoved",
                          "IngressRouteTCP " + name + " now sends new connections to " + to + " (" +
                              api::toString(want) + ")"});
    return out;
  }
  const std::string& from = current.description;
  out.events.push_back(
      {"Normal", "DatabaseRouteMoved",
       "IngressRouteTCP " + name + " moved from " + from + " to " + to + " (" + api::toString(want) +
           "): new connections go to " + to + "; established connections stay on " + from +
           " until a peer closes them (Traefik applies a route change to new connections only)"});
  return out;
}

}  // namespace bgo::bluegreen::tcp
