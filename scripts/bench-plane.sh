# Sourced by the run-bench-*.sh scripts: a private control plane with an audit log in $BGO_PLANE_DIR
# (started unless one runs there already; stopped on exit if started here), its env and our CRDs.
plane=$root/test/controlplane
started=0
if [[ ! -f $BGO_PLANE_DIR/logs/audit.log ]] || ! "$plane/status.sh" >/dev/null 2>&1; then
  BGO_PLANE_AUDIT=1 "$plane/start.sh"
  started=1
fi
trap '(( started )) && "$plane/stop.sh"' EXIT
# shellcheck disable=SC1091
source "$BGO_PLANE_DIR/env"
kubectl apply --server-side --force-conflicts -k "$root/crds/" >/dev/null
