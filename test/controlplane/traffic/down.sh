#!/usr/bin/env bash
# Undoes up.sh: stops Traefik and the backend of the plane, deletes the network namespace, its veth pair
# and the route. Only touches the namespace when this plane owns it, unless --force (a stale one).
set -euo pipefail
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
say() { echo "traffic/down.sh: $*"; }
force=0
[[ ${1:-} == --force ]] && force=1
(( EUID == 0 )) || { echo "traffic/down.sh: needs root" >&2; exit 1; }

stop_one() { # name
  local pid
  pid=$(tpid_of "$1")
  if talive "$1"; then
    kill -TERM "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      say "$1 (pid $pid) ignored SIGTERM for 10s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    say "stopped $1 (pid $pid)"
  fi
  rm -f "$TRAFFIC_DIR/pids/$1.pid"
}
[[ -d $TRAFFIC_DIR ]] && { stop_one traefik; stop_one backend; rm -f "$BACKEND_SOCK" "$PLANE_DIR/traffic.env"; }

if [[ -z ${BGO_TRAFFIC_LOCKED:-} ]]; then # set by up.sh, which holds the lock already
  exec 7>/run/bgo-traffic.lock
  flock -w 60 7 || { echo "traffic/down.sh: another traffic up/down holds /run/bgo-traffic.lock" >&2; exit 1; }
fi
owner=$(cat "$OWNER_FILE" 2>/dev/null || true)
if (( force )) || [[ $owner == "$PLANE_DIR" ]]; then
  # Only our own route and link: the route is named by its device, the link by its name.
  ip route del "$POD_RANGE" dev "$VETH_HOST" 2>/dev/null || true
  ip link del "$VETH_HOST" 2>/dev/null || true
  if netns_exists; then
    ip netns del "$NETNS"
    say "deleted network namespace $NETNS"
  fi
  rm -f "$OWNER_FILE"
elif [[ -n $owner ]]; then
  say "the network namespace belongs to the plane at $owner; left alone"
fi
