# Shared by start.sh, stop.sh and status.sh: where the state lives and how components are tracked.
# State dir layout ($BGO_PLANE_DIR, default <repo>/build/plane):
#   ports            chosen once, kept across restarts so the kubeconfigs stay valid
#   pki/             throwaway CA, serving cert, service-account keys, static token file
#   etcd/            etcd data (kept by stop.sh, removed by stop.sh --purge)
#   logs/<c>.log     one log per component;  pids/<c>.pid  one pid file per running component
#   *.kubeconfig     admin (system:masters), nobody (no rights), one per component
#   env              `. env` exports BGO_KUBECONFIG, KUBECONFIG, BGO_PLANE_DIR and PATH (kubectl, helm)
# shellcheck shell=bash
plane_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$plane_here/versions.sh"
plane_repo=$(git -C "$plane_here" rev-parse --show-toplevel 2>/dev/null || (cd "$plane_here/../.." && pwd))
PLANE_DIR=${BGO_PLANE_DIR:-$plane_repo/build/plane}
COMPONENTS=(etcd kube-apiserver kube-controller-manager nodesim)
# BGO_PLANE_COMPONENTS="etcd kube-apiserver": start only those (a plane whose objects stay as written, for
# the restart benchmark's settled copies; status.sh then reports the others stopped).
if [[ -n ${BGO_PLANE_COMPONENTS:-} ]]; then read -r -a COMPONENTS <<< "$BGO_PLANE_COMPONENTS"; fi

bin_of() { # component -> absolute path of its binary
  case $1 in
    etcd) echo "$("$plane_here/build.sh" --bin-dir etcd)/etcd" ;;
    nodesim) echo "$("$plane_here/build.sh" --bin-dir nodesim)/nodesim" ;;
    *) echo "$("$plane_here/build.sh" --bin-dir kube)/$1" ;;
  esac
}

pid_of() { cat "$PLANE_DIR/pids/$1.pid" 2>/dev/null || true; }

# alive <component>: its recorded pid runs and is really that program (pids get reused).
alive() {
  local pid
  pid=$(pid_of "$1")
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "/$1 "
}

# wait_exec <component> <pid>: a pid from `cmd &` is a fork of this shell until setsid and nohup have
# exec'd the program, and alive() reads the fork's cmdline as "not that program": on a loaded machine
# the first alive() check after a launch then reported a healthy component as exited. Waits (30 s at
# most: a fork that has not exec'd by then is stuck, not slow) until the pid runs the program or is gone.
wait_exec() {
  local i
  for (( i = 0; i < 600; i++ )); do
    alive "$1" && return 0
    kill -0 "$2" 2>/dev/null || return 0
    sleep 0.05
  done
}

port_of() { # component -> the port it listens on
  [[ -f $PLANE_DIR/ports ]] || return 0
  # shellcheck disable=SC1091
  (. "$PLANE_DIR/ports"
   case $1 in
     etcd) echo "$ETCD_PORT" ;;
     kube-apiserver) echo "$APISERVER_PORT" ;;
     kube-controller-manager) echo "$KCM_PORT" ;;
     nodesim) echo "-" ;;
   esac)
}

log_tail() { # component [lines]
  local f=$PLANE_DIR/logs/$1.log
  [[ -f $f ]] && tail -n "${2:-15}" "$f" | sed "s/^/    $1| /"
}

lock_plane() { # serialises start/stop of one state dir
  mkdir -p "$PLANE_DIR"
  exec 8>"$PLANE_DIR/.lock"
  flock -w 120 8 || { echo "$(basename "$0"): another start/stop has held $PLANE_DIR/.lock for 120 s" >&2; exit 1; }
}
