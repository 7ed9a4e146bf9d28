#!/usr/bin/env bash
# nodesim's pod hook for real traffic: `pod-hook.sh up|down <namespace> <pod> <ip>`.
#   up    adds the pod's address to the network namespace and registers the pod with the backend, which
#         then answers as that pod (color, revision, readiness). Fails while the traffic parts are not up
#         (nodesim retries; the pod stays Pending).
#   down  unregisters the pod and removes its address.
# Start the plane with it: BGO_SIM_POD_HOOK=<repo>/test/controlplane/traffic/pod-hook.sh start.sh
# (nodesim inherits BGO_PLANE_DIR from start.sh, so the hook finds the plane's backend socket).
set -euo pipefail
PATH=$PATH:/usr/sbin:/sbin # ip(8); nodesim's environment may lack them
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
die() { echo "pod-hook: $*" >&2; exit 1; }
(( $# == 4 )) || die "usage: pod-hook.sh up|down <namespace> <pod> <ip>"
op=$1 ns=$2 pod=$3 ip=$4
in_pod_range "$ip" || die "refusing address $ip: not in $POD_RANGE"
[[ $ns =~ ^[a-z0-9.-]+$ && $pod =~ ^[a-z0-9.-]+$ ]] || die "odd namespace/pod name: $ns/$pod"
case $op in
  up)
    [[ $(cat "$OWNER_FILE" 2>/dev/null) == "$PLANE_DIR" ]] ||
      die "the traffic namespace $NETNS is not up for $PLANE_DIR (test/controlplane/traffic/up.sh)"
    ip -n "$NETNS" addr replace "$ip/32" dev lo
    backend_call POST "/up?ns=$ns&pod=$pod&ip=$ip" >/dev/null
    ;;
  down)
    # Best effort: the namespace may be gone already (down.sh ran before the plane stopped).
    [[ -S $BACKEND_SOCK ]] && { backend_call POST "/down?ip=$ip" >/dev/null || true; }
    if [[ $(cat "$OWNER_FILE" 2>/dev/null) == "$PLANE_DIR" ]]; then
      ip -n "$NETNS" addr del "$ip/32" dev lo 2>/dev/null || true
    fi
    ;;
  *) die "unknown operation '$op' (up|down)" ;;
esac
