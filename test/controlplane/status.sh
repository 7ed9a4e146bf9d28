#!/usr/bin/env bash
# Shows each component of the test control plane: up/down, pid, port, and the last log lines of those down.
# Exit status: 0 if everything is up (and the API server answers /readyz), 1 otherwise.
set -uo pipefail
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
down=0
printf '%-24s %-5s %-8s %-6s %s\n' COMPONENT STATE PID PORT LOG
for c in "${COMPONENTS[@]}"; do
  pid=$(pid_of "$c")
  if alive "$c"; then state=up; else state=down; down=1; fi
  printf '%-24s %-5s %-8s %-6s %s\n' "$c" "$state" "${pid:--}" "$(port_of "$c")" "$PLANE_DIR/logs/$c.log"
  if [[ $state == down ]]; then
    if [[ -n $pid ]]; then echo "  $c (pid $pid) has died; last log lines:"; log_tail "$c" 10; else echo "  $c is stopped"; fi
  fi
done
if alive kube-apiserver; then
  if kubectl_out=$("$("$plane_here/build.sh" --bin-dir kube)/kubectl" --kubeconfig "$PLANE_DIR/admin.kubeconfig" \
      --request-timeout 5s get --raw /readyz 2>&1); then
    echo "kube-apiserver /readyz: $kubectl_out"
  else
    echo "kube-apiserver /readyz FAILED: $kubectl_out"; down=1
  fi
fi
(( down )) && echo "status.sh: control plane at $PLANE_DIR is NOT fully up" || echo "status.sh: all up; kubeconfig $PLANE_DIR/admin.kubeconfig"
exit $down
