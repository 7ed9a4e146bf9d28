# Shared by the traffic scripts (up.sh, down.sh, pod-hook.sh): names and places of the traffic parts of a
# plane. There is one network namespace per machine (the route 198.18.0.0/15 exists once), so it records
# which plane owns it; a second plane cannot take it while the owner's backend runs.
#   netns bgo-e2e            pod addresses (each a /32 on its lo), the backend's listener on 0.0.0.0:8080
#   veth bgo-e2e-h/-n        host side 198.18.0.1; the root namespace routes 198.18.0.0/15 into the netns
#   $PLANE_DIR/traffic/      backend.sock, pids/, ports, traefik.yml, traefik.token
#   $PLANE_DIR/traffic.env   BGO_TRAEFIK_WEB, BGO_TRAEFIK_API, ... (`. traffic.env`)
# shellcheck shell=bash
traffic_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$traffic_here/../lib.sh"
TRAFFIC_DIR=$PLANE_DIR/traffic
NETNS=bgo-e2e
VETH_HOST=bgo-e2e-h
VETH_NS=bgo-e2e-n
HOST_IP=198.18.0.1
POD_RANGE=198.18.0.0/15
OWNER_FILE=/run/bgo-traffic.owner # the PLANE_DIR that owns the namespace
BACKEND_SOCK=$TRAFFIC_DIR/backend.sock
BACKEND_PORT=8080

netns_exists() { [[ -e /var/run/netns/$NETNS ]]; }
tpid_of() { cat "$TRAFFIC_DIR/pids/$1.pid" 2>/dev/null || true; }
# talive <backend|traefik>: its recorded pid runs and is really that program.
talive() {
  local pid
  pid=$(tpid_of "$1")
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "/$1 "
}
# backend_call <method> <path+query>: the backend's control API over its unix socket.
backend_call() {
  curl -sS --fail-with-body --max-time 15 --unix-socket "$BACKEND_SOCK" -X "$1" "http://backend$2"
}
# An address the scripts may touch: only inside 198.18.0.0/15.
in_pod_range() { [[ $1 =~ ^198\.1[89]\.([0-9]{1,3})\.([0-9]{1,3})$ ]] && (( BASH_REMATCH[1] < 256 && BASH_REMATCH[2] < 256 )); }
