#!/usr/bin/env bash
# Starts the test control plane (etcd, kube-apiserver, kube-controller-manager, nodesim) on 127.0.0.1 and
# installs Traefik's CRDs. Reuses what is already running; restarts (loudly) a component that died.
# Prints the kubeconfig path; `. $BGO_PLANE_DIR/env` sets BGO_KUBECONFIG/KUBECONFIG/PATH.
# Env: BGO_PLANE_DIR (state dir, default <repo>/build/plane), BGO_SIM_NODES (simulated nodes, default 2),
#      BGO_SIM_POD_HOOK (executable nodesim runs as `<hook> up|down <namespace> <pod> <ip>`; no spaces in path),
#      BGO_SIM_RUN_WRAPPER (executable that runs a Job pod's command: `<wrapper> <cmd> <args...>`, e.g. into a netns),
#      BGO_PLANE_AUDIT=1 (the API server writes an audit log of every request, metadata only, to
#      $BGO_PLANE_DIR/logs/audit.log: requests per client by user agent, as `make bench-peer` counts them;
#      takes effect when kube-apiserver starts).
set -euo pipefail
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
t0=$(date +%s.%N)
say() { echo "start.sh: $*"; }
die() { echo "start.sh: ERROR: $*" >&2; exit 1; }
for tool in openssl ss curl flock; do command -v $tool >/dev/null || die "$tool is required"; done

"$plane_here/build.sh" kube etcd nodesim | grep -v ' cached in ' || true
KUBE_BIN=$("$plane_here/build.sh" --bin-dir kube)
lock_plane
mkdir -p "$PLANE_DIR"/{pki,logs,pids,etcd}
touch "$PLANE_DIR/.bgo-plane" # marks the folder as ours for stop.sh --purge
chmod 700 "$PLANE_DIR/etcd"

# --- ports: picked free once, then kept --------------------------------------------------------------
port_free() { ! ss -Htln "sport = :$1" | grep -q .; }
pick_port() {
  local p
  for _ in $(seq 200); do
    p=$(( 20000 + RANDOM % 12000 ))  # below the kernel's ephemeral range (32768+): no race with outgoing connections
    port_free "$p" && ! grep -qx "[A-Z_]*=$p" "$PLANE_DIR/ports.tmp" 2>/dev/null && { echo "$p"; return; }
  done
  die "no free port found"
}
if [[ ! -f $PLANE_DIR/ports ]]; then
  : > "$PLANE_DIR/ports.tmp"
  for v in ETCD_PORT ETCD_PEER_PORT APISERVER_PORT KCM_PORT; do echo "$v=$(pick_port)" >> "$PLANE_DIR/ports.tmp"; done
  mv "$PLANE_DIR/ports.tmp" "$PLANE_DIR/ports"
fi
# shellcheck disable=SC1091
. "$PLANE_DIR/ports"
SERVER=https://127.0.0.1:$APISERVER_PORT

# --- PKI and tokens: made once with openssl, kept so kubeconfigs and SA tokens stay valid ----------------
pki=$PLANE_DIR/pki
if [[ ! -f $pki/tokens.csv ]]; then
  say "creating a throwaway CA, serving certificate, service-account keys and tokens in $pki"
  ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  openssl req -x509 "${ec[@]}" -keyout "$pki/ca.key" -out "$pki/ca.crt" -days 3650 -subj "/CN=bgo-plane-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req "${ec[@]}" -keyout "$pki/apiserver.key" -out "$pki/apiserver.csr" -subj "/CN=kube-apiserver" 2>/dev/null
  printf '%s\n' "subjectAltName=IP:127.0.0.1,IP:198.19.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local" \
    "extendedKeyUsage=serverAuth" "keyUsage=critical,digitalSignature,keyEncipherment" > "$pki/apiserver.ext"
  openssl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 3650 -extfile "$pki/apiserver.ext" -out "$pki/apiserver.crt" 2>/dev/null
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$pki/sa.key" 2>/dev/null
  openssl pkey -in "$pki/sa.key" -pubout -out "$pki/sa.pub"
  # token,user,uid,"groups". nobody has no rights at all (only what every authenticated user gets).
  {
    echo "$(openssl rand -hex 24),admin,admin,\"system:masters\""
    echo "$(openssl rand -hex 24),system:kube-controller-manager,kcm,\"system:masters\""
    echo "$(openssl rand -hex 24),system:nodesim,nodesim,\"system:masters\""
    echo "$(openssl rand -hex 24),nobody,nobody"
  } > "$pki/tokens.csv.tmp"
  chmod 600 "$pki"/*.key "$pki/tokens.csv.tmp"
  mv "$pki/tokens.csv.tmp" "$pki/tokens.csv"
  rm -f "$PLANE_DIR"/*.kubeconfig
fi
token_of() { awk -F, -v u="$1" '$2==u {print $1}' "$pki/tokens.csv"; }
write_kubeconfig() { # file user
  [[ -f $1 ]] && return
  local k=(kubectl --kubeconfig "$1.tmp")
  "${k[@]}" config set-cluster plane --server "$SERVER" --certificate-authority "$pki/ca.crt" --embed-certs >/dev/null
  "${k[@]}" config set-credentials "$2" --token "$(token_of "$2")" >/dev/null
  "${k[@]}" config set-context "$2@plane" --cluster plane --user "$2" >/dev/null
  "${k[@]}" config use-context "$2@plane" >/dev/null
  chmod 600 "$1.tmp" && mv "$1.tmp" "$1"
}
export PATH=$KUBE_BIN:$PATH
write_kubeconfig "$PLANE_DIR/admin.kubeconfig" admin
write_kubeconfig "$PLANE_DIR/nobody.kubeconfig" nobody
write_kubeconfig "$PLANE_DIR/kube-controller-manager.kubeconfig" system:kube-controller-manager
write_kubeconfig "$PLANE_DIR/nodesim.kubeconfig" system:nodesim
ADMIN=$PLANE_DIR/admin.kubeconfig
helm_dir=$("$plane_here/build.sh" --bin-dir helm)
cat > "$PLANE_DIR/env" <<EOF
export BGO_PLANE_DIR=$PLANE_DIR
export BGO_KUBECONFIG=$ADMIN
export KUBECONFIG=$ADMIN
export PATH=$KUBE_BIN:$helm_dir:\$PATH
EOF

if [[ -n ${BGO_PLANE_AUDIT:-} ]]; then
  printf '%s\n' 'apiVersion: audit.k8s.io/v1' 'kind: Policy' 'omitStages: [RequestReceived]' 'rules:' '- level: Metadata' \
    > "$PLANE_DIR/audit-policy.yaml"
fi

# --- components ----------------------------------------------------------------------------------------
args_of() {
  case $1 in
    etcd) echo --name plane --data-dir "$PLANE_DIR/etcd" --unsafe-no-fsync \
      --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
      --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
      --initial-cluster "plane=http://127.0.0.1:$ETCD_PEER_PORT" --log-level warn ;;
    kube-apiserver) echo --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
      --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$APISERVER_PORT" \
      --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" --client-ca-file "$pki/ca.crt" \
      --token-auth-file "$pki/tokens.csv" --authorization-mode RBAC --anonymous-auth=false \
      --service-account-issuer "https://kubernetes.default.svc.cluster.local" \
      --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
      --service-cluster-ip-range 198.19.0.0/20 --endpoint-reconciler-type none \
      --allow-privileged=true --cert-dir "$pki" --profiling=false \
      --etcd-compaction-interval "${BGO_PLANE_COMPACTION:-10s}" \
      ${BGO_PLANE_AUDIT:+--audit-policy-file "$PLANE_DIR/audit-policy.yaml" --audit-log-path "$PLANE_DIR/logs/audit.log" \
        --audit-log-maxsize 2000 --audit-log-maxbackup 1} ;;  # compaction 10s: old resourceVersions expire quickly, 410 paths are testable
      # (BGO_PLANE_COMPACTION=5m, Kubernetes' default, for benchmarks whose lists of 10,000s take longer)
    kube-controller-manager) echo --kubeconfig "$PLANE_DIR/kube-controller-manager.kubeconfig" \
      --authentication-kubeconfig "$PLANE_DIR/kube-controller-manager.kubeconfig" \
      --authorization-kubeconfig "$PLANE_DIR/kube-controller-manager.kubeconfig" \
      --bind-address 127.0.0.1 --secure-port "$KCM_PORT" --leader-elect=false \
      --controllers deployment-controller,replicaset-controller,endpointslice-controller,endpoints-controller,garbage-collector-controller,namespace-controller,serviceaccount-controller,serviceaccount-token-controller,root-ca-certificate-publisher-controller,clusterrole-aggregation-controller,job-controller,horizontal-pod-autoscaler-controller,disruption-controller \
      --horizontal-pod-autoscaler-sync-period 2s \
      --use-service-account-credentials=false --service-account-private-key-file "$pki/sa.key" \
      --root-ca-file "$pki/ca.crt" --profiling=false ;;
    nodesim) echo --kubeconfig "$PLANE_DIR/nodesim.kubeconfig" --nodes "${BGO_SIM_NODES:-2}" \
      ${BGO_SIM_POD_HOOK:+--pod-hook "$BGO_SIM_POD_HOOK"} ${BGO_SIM_RUN_WRAPPER:+--run-wrapper "$BGO_SIM_RUN_WRAPPER"} \
      --run-log-dir "$PLANE_DIR/logs/runs" ;;
  esac
}

launch() {
  local c=$1 bin
  bin=$(bin_of "$c")
  [[ -x $bin ]] || die "$bin is missing (run test/controlplane/build.sh)"
  # shellcheck disable=SC2046
  # fd 8 is the state-dir lock: the daemon must not inherit it, or stop.sh would wait for it forever.
  setsid nohup "$bin" $(args_of "$c") >>"$PLANE_DIR/logs/$c.log" 2>&1 < /dev/null 8>&- &
  local pid=$!
  echo $pid > "$PLANE_DIR/pids/$c.pid"
  wait_exec "$c" "$pid"
  say "started $c (pid $pid, log $PLANE_DIR/logs/$c.log)"
}

wait_for() { # what seconds command...
  local what=$1 secs=$2 i
  shift 2
  for (( i = 0; i < secs * 10; i++ )); do
    "$@" >/dev/null 2>&1 && return 0
    # Only what runs now: a component still to be started may have a stale pid file (a reboot).
    for c in "${up[@]}"; do
      if ! alive "$c"; then
        log_tail "$c" 30 >&2
        die "$c exited while waiting for $what (log above, $PLANE_DIR/logs/$c.log)"
      fi
    done
    sleep 0.1
  done
  die "timed out after ${secs}s waiting for $what"
}
kc() { kubectl --kubeconfig "$ADMIN" --request-timeout 10s "$@"; }

# same_flags <component>: the running process has exactly the arguments this script gives it now.
same_flags() {
  local have
  have=$(tr '\0' ' ' < "/proc/$(pid_of "$1")/cmdline" 2>/dev/null) || return 1
  [[ ${have#* } == "$(args_of "$1") " ]]
}
# A kube-controller-manager from an older start.sh (e.g. without the HPA and disruption controllers) is
# restarted rather than reused: it keeps no state, and tests rely on the controllers listed above.
stop_stale() { # component
  local pid i
  pid=$(pid_of "$1")
  say "restarting $1 (pid $pid): it runs with other flags than this script gives it"
  kill -TERM "$pid" 2>/dev/null || true
  for (( i = 0; i < 100; i++ )); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PLANE_DIR/pids/$1.pid"
}

running=0 restarted=() up=()
for c in "${COMPONENTS[@]}"; do
  if [[ $c == kube-controller-manager ]] && alive "$c" && ! same_flags "$c"; then
    stop_stale "$c"
  fi
  if alive "$c"; then
    running=$((running + 1))
    up+=("$c")
    say "$c already running (pid $(pid_of "$c"))"
    continue
  fi
  if [[ -f $PLANE_DIR/pids/$c.pid ]]; then # it was started and not stopped by stop.sh: it died
    echo "start.sh: WARNING: $c (pid $(pid_of "$c")) has died; its last log lines:" >&2
    log_tail "$c" 20 >&2
    restarted+=("$c")
  fi
  port=$(port_of "$c")
  [[ $port == - ]] || port_free "$port" || die "port $port of $c is taken by another process: $(ss -Htlnp "sport = :$port")"
  launch "$c"
  up+=("$c")
  case $c in
    etcd) wait_for "etcd health" 30 curl -sf "http://127.0.0.1:$ETCD_PORT/health" ;;
    kube-apiserver) wait_for "kube-apiserver /readyz" 60 \
      curl -sf --cacert "$pki/ca.crt" -H "Authorization: Bearer $(token_of admin)" "$SERVER/readyz" ;;
    kube-controller-manager) wait_for "kube-controller-manager /healthz" 30 curl -sfk "https://127.0.0.1:$KCM_PORT/healthz" ;;
  esac
done
if (( running == ${#COMPONENTS[@]} )); then
  say "already running; reusing it"
fi

# --- cluster content: Traefik's CRDs from its Go module, and a working cluster -------------------------
crd_file() {
  local dir
  dir=$(cd "$plane_here/traefik" && go mod download -json "github.com/traefik/traefik/v3@$TRAEFIK_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  echo "$dir/docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml"
}
if ! kc get crd ingressroutes.traefik.io >/dev/null 2>&1 || [[ ! -f $PLANE_DIR/.crds-$TRAEFIK_VERSION ]]; then
  crds=$(crd_file)
  [[ -f $crds ]] || die "Traefik CRD file not found: $crds"
  kc apply --server-side --force-conflicts -f "$crds" >/dev/null
  kc wait --for condition=Established --timeout 60s -f "$crds" >/dev/null
  touch "$PLANE_DIR/.crds-$TRAEFIK_VERSION"
  say "installed Traefik $TRAEFIK_VERSION CRDs from $crds"
fi
wait_for "simulated nodes Ready" 30 kc wait --for condition=Ready --timeout 1s node -l sim.bluegreen.io/node=true
wait_for "the default ServiceAccount (controller-manager working)" 30 kc get serviceaccount default -n default

(( ${#restarted[@]} == 0 )) || echo "start.sh: WARNING: restarted components that had died: ${restarted[*]}" >&2
say "plane ready in $(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')s: $SERVER ($KUBE_VERSION)"
say "kubeconfig: $ADMIN   (. $PLANE_DIR/env)"
