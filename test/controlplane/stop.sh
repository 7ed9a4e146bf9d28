#!/usr/bin/env bash
# Stops the test control plane; etcd's data is kept, so start.sh brings back the same cluster.
# Usage: stop.sh [--purge]   --purge also deletes the whole state dir (data, PKI, kubeconfigs, logs).
set -euo pipefail
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
purge=0
[[ ${1:-} == --purge ]] && purge=1
[[ -d $PLANE_DIR ]] || { echo "stop.sh: nothing at $PLANE_DIR"; exit 0; }
lock_plane
# stop_all <component...>: SIGTERM them together, wait up to 10s, then SIGKILL what is left.
stop_all() {
  local c pid stopping=()
  for c in "$@"; do
    pid=$(pid_of "$c")
    if alive "$c"; then
      kill -TERM "$pid" && stopping+=("$c:$pid")
    elif [[ -n $pid ]]; then
      echo "stop.sh: $c (pid $pid) was not running (it had died)"
    fi
  done
  for cp in "${stopping[@]}"; do
    c=${cp%%:*} pid=${cp#*:}
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "stop.sh: $c (pid $pid) ignored SIGTERM for 10s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    echo "stop.sh: stopped $c (pid $pid)"
  done
  for c in "$@"; do rm -f "$PLANE_DIR/pids/$c.pid"; done
}
# etcd last, so the API server can shut down cleanly.
stop_all nodesim kube-controller-manager kube-apiserver
stop_all etcd
if (( purge )); then
  [[ -f $PLANE_DIR/.bgo-plane ]] || { echo "stop.sh: $PLANE_DIR lacks .bgo-plane; not deleting it" >&2; exit 1; }
  rm -rf "$PLANE_DIR"
  echo "stop.sh: purged $PLANE_DIR"
fi
