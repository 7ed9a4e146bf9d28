#!/usr/bin/env bash
# Brings up real traffic for a running plane (as root): the network namespace with the pods' addresses, the
# backend that answers as every pod, and Traefik (kubernetesCRD provider) on 127.0.0.1. Reuses what runs.
# The plane's nodesim must run with the pod hook:
#   BGO_SIM_POD_HOOK=<repo>/test/controlplane/traffic/pod-hook.sh test/controlplane/start.sh
# Writes $BGO_PLANE_DIR/traffic.env (BGO_TRAEFIK_WEB=127.0.0.1:P, BGO_TRAEFIK_API=http://127.0.0.1:Q, ...).
# down.sh undoes all of it. Logs: $PLANE_DIR/logs/{backend,traefik,traefik-access}.log.
set -euo pipefail
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
say() { echo "traffic/up.sh: $*"; }
die() { echo "traffic/up.sh: ERROR: $*" >&2; exit 1; }
(( EUID == 0 )) || die "needs root (ip netns, veth, routes)"
for tool in ip curl ss setsid; do command -v $tool >/dev/null || die "$tool is required"; done

alive kube-apiserver || die "the plane at $PLANE_DIR is not running (test/controlplane/start.sh)"
hook=$traffic_here/pod-hook.sh
if ! tr '\0' ' ' < "/proc/$(pid_of nodesim)/cmdline" 2>/dev/null | grep -q -- "--pod-hook $hook"; then
  die "nodesim of $PLANE_DIR runs without the traffic pod hook; restart the plane with
  BGO_SIM_POD_HOOK=$hook test/controlplane/start.sh
(or use a private plane: BGO_PLANE_DIR=<empty dir> with the same variable)"
fi
"$plane_here/build.sh" backend traefik | grep -v ' cached in ' || true
backend_bin=$("$plane_here/build.sh" --bin-dir backend)/backend
traefik_bin=$("$plane_here/build.sh" --bin-dir traefik)/traefik
KUBECTL=$("$plane_here/build.sh" --bin-dir kube)/kubectl
ADMIN=$PLANE_DIR/admin.kubeconfig
kc() { "$KUBECTL" --kubeconfig "$ADMIN" --request-timeout 10s "$@"; }
mkdir -p "$TRAFFIC_DIR/pids" "$PLANE_DIR/logs"
exec 7>/run/bgo-traffic.lock # one up/down at a time on this machine
flock -w 60 7 || die "another traffic up/down holds /run/bgo-traffic.lock"

# --- network namespace ---------------------------------------------------------------------------------
owner=$(cat "$OWNER_FILE" 2>/dev/null || true)
if netns_exists && [[ $owner != "$PLANE_DIR" ]]; then
  if [[ -n $owner ]] && BGO_PLANE_DIR=$owner bash -c '. "$1/lib.sh"; talive backend' _ "$traffic_here"; then
    die "the traffic namespace $NETNS belongs to the plane at $owner (its backend runs); one per machine"
  fi
  say "removing a stale traffic namespace of ${owner:-an unknown plane}"
  BGO_TRAFFIC_LOCKED=1 "$traffic_here/down.sh" --force >/dev/null
fi
if ! netns_exists; then
  if ip route show "$POD_RANGE" | grep -q .; then
    die "a route for $POD_RANGE exists already: $(ip route show "$POD_RANGE")"
  fi
  ip netns add "$NETNS"
  echo "$PLANE_DIR" > "$OWNER_FILE"
  ip link add "$VETH_HOST" type veth peer name "$VETH_NS" netns "$NETNS"
  ip addr add "$HOST_IP/32" dev "$VETH_HOST"
  ip link set "$VETH_HOST" up
  ip -n "$NETNS" link set lo up
  ip -n "$NETNS" link set "$VETH_NS" up
  ip -n "$NETNS" route add "$HOST_IP/32" dev "$VETH_NS" # the only way out: back to the host side
  ip route add "$POD_RANGE" dev "$VETH_HOST" src "$HOST_IP"
  say "network namespace $NETNS: $VETH_HOST $HOST_IP <-> $VETH_NS, route $POD_RANGE into it"
else
  echo "$PLANE_DIR" > "$OWNER_FILE"
  say "network namespace $NETNS already up"
fi

# --- backend ---------------------------------------------------------------------------------------------
if talive backend; then
  say "backend already running (pid $(tpid_of backend))"
else
  rm -f "$BACKEND_SOCK"
  setsid nohup "$backend_bin" --kubeconfig "$ADMIN" --netns "$NETNS" --listen "0.0.0.0:$BACKEND_PORT" \
    --control "$BACKEND_SOCK" >>"$PLANE_DIR/logs/backend.log" 2>&1 </dev/null 7>&- &
  echo $! > "$TRAFFIC_DIR/pids/backend.pid"
  for _ in $(seq 300); do
    backend_call GET /pods >/dev/null 2>&1 && break
    talive backend || { tail -20 "$PLANE_DIR/logs/backend.log" >&2; die "the backend exited"; }
    sleep 0.1
  done
  backend_call GET /pods >/dev/null || die "the backend does not answer on $BACKEND_SOCK"
  say "started backend (pid $(tpid_of backend), log $PLANE_DIR/logs/backend.log)"
  # Pods that got their address before the backend ran (a restart): register them again.
  n=0
  while read -r ns name podip; do
    [[ -n $podip ]] && in_pod_range "$podip" || continue
    "$hook" up "$ns" "$name" "$podip" && n=$((n + 1))
  done < <(kc get pods -A -o jsonpath='{range .items[*]}{.metadata.namespace} {.metadata.name} {.status.podIP}{"\n"}{end}')
  (( n == 0 )) || say "registered $n existing pods"
fi

# --- Traefik ---------------------------------------------------------------------------------------------
port_free() { ! ss -Htln "sport = :$1" | grep -q .; }
pick_free() { # a free port not among the arguments
  local p
  for _ in $(seq 200); do
    p=$(( 20000 + RANDOM % 12000 )) # below the ephemeral range (32768+): no race with outgoing connections
    port_free "$p" && [[ " $* " != *" $p "* ]] && { echo "$p"; return 0; }
  done
  return 1
}
if [[ ! -f $TRAFFIC_DIR/ports ]]; then
  web=$(pick_free) && api=$(pick_free "$web") || die "no free ports found"
  printf 'TRAEFIK_WEB_PORT=%s\nTRAEFIK_API_PORT=%s\n' "$web" "$api" > "$TRAFFIC_DIR/ports"
fi
# The postgres entry point came later: added to a ports file that lacks it, the others kept.
if ! grep -q '^TRAEFIK_PG_PORT=' "$TRAFFIC_DIR/ports"; then
  # shellcheck disable=SC1091
  . "$TRAFFIC_DIR/ports"
  pg=$(pick_free "$TRAEFIK_WEB_PORT" "$TRAEFIK_API_PORT") || die "no free ports found"
  echo "TRAEFIK_PG_PORT=$pg" >> "$TRAFFIC_DIR/ports"
fi
# shellcheck disable=SC1091
. "$TRAFFIC_DIR/ports"
# shellcheck disable=SC1091
. "$PLANE_DIR/ports"
if talive traefik; then
  say "traefik already running (pid $(tpid_of traefik))"
else
  for p in "$TRAEFIK_WEB_PORT" "$TRAEFIK_API_PORT" "$TRAEFIK_PG_PORT"; do
    port_free "$p" || die "port $p of traefik is taken: $(ss -Htlnp "sport = :$p")"
  done
  # Traefik sends the file's content as is: no trailing newline.
  (umask 077; awk -F, '$2=="admin" {printf "%s", $1}' "$PLANE_DIR/pki/tokens.csv" > "$TRAFFIC_DIR/traefik.token")
  cat > "$TRAFFIC_DIR/traefik.yml" <<EOF
# Written by test/controlplane/traffic/up.sh. Everything on 127.0.0.1; nothing phones home.
global: {checkNewVersion: false, sendAnonymousUsage: false}
entryPoints:
  web: {address: "127.0.0.1:$TRAEFIK_WEB_PORT"}
  # The database route (spec.routing.tcp): its own entry point, only non-TLS TCP routers on it.
  postgres: {address: "127.0.0.1:$TRAEFIK_PG_PORT/tcp"}
  traefik: {address: "127.0.0.1:$TRAEFIK_API_PORT"}
api: {insecure: true, dashboard: true}
ping: {entryPoint: traefik}
log: {level: INFO}
accessLog: {filePath: "$PLANE_DIR/logs/traefik-access.log"}
providers:
  kubernetesCRD:
    endpoint: "https://127.0.0.1:$APISERVER_PORT"
    token: "$TRAFFIC_DIR/traefik.token"
    certAuthFilePath: "$PLANE_DIR/pki/ca.crt"
    allowEmptyServices: false
EOF
  # Traefik prefers $KUBECONFIG over providers.kubernetesCRD.endpoint: never let a caller's leak in.
  env -u KUBECONFIG setsid nohup "$traefik_bin" --configFile="$TRAFFIC_DIR/traefik.yml" \
    >>"$PLANE_DIR/logs/traefik.log" 2>&1 </dev/null 7>&- &
  echo $! > "$TRAFFIC_DIR/pids/traefik.pid"
  for _ in $(seq 300); do
    curl -sf --max-time 1 "http://127.0.0.1:$TRAEFIK_API_PORT/ping" >/dev/null 2>&1 && break
    talive traefik || { tail -20 "$PLANE_DIR/logs/traefik.log" >&2; die "traefik exited"; }
    sleep 0.1
  done
  curl -sf --max-time 2 "http://127.0.0.1:$TRAEFIK_API_PORT/ping" >/dev/null || die "traefik does not answer /ping"
  say "started traefik $TRAEFIK_VERSION (pid $(tpid_of traefik), log $PLANE_DIR/logs/traefik.log)"
fi

cat > "$PLANE_DIR/traffic.env" <<EOF
export BGO_TRAEFIK_WEB=127.0.0.1:$TRAEFIK_WEB_PORT
export BGO_TRAEFIK_API=http://127.0.0.1:$TRAEFIK_API_PORT
export BGO_TRAEFIK_POSTGRES=127.0.0.1:$TRAEFIK_PG_PORT
export BGO_TRAFFIC_NETNS=$NETNS
export BGO_BACKEND_SOCKET=$BACKEND_SOCK
EOF
say "web entry point 127.0.0.1:$TRAEFIK_WEB_PORT, API http://127.0.0.1:$TRAEFIK_API_PORT  (. $PLANE_DIR/traffic.env)"
