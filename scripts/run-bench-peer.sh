#!/usr/bin/env bash
# `make bench-peer`: this operator and Argo Rollouts on the same work, side by side (test/bench/peer_bench.cc).
# Builds Argo Rollouts (cached by version; never part of `make test`), starts a private control plane with an
# audit log (requests per client are counted from it), installs both operators' CRDs and runs the benchmark.
# Prints figures; asserts none. Usage: run-bench-peer.sh <build-dir>
# Env: BGO_PEER_SIZES (default 1,100,1000), BGO_PEER_PLANE_DIR (default <repo>/build/plane-peer),
#      BGO_PEER_WORKERS (this operator's --workers, default 2),
#      BGO_PEER_RSS_CSV (rows of RSS over N, added to across runs and drawn beside it as .svg; default
#      <build-dir>/peer-rss.csv; docs/perf/peer-rss.csv holds the runs quoted in docs/performance.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/ci}
plane=$root/test/controlplane
. "$plane/versions.sh"
"$plane/build.sh" argo-rollouts
argo_bin=$("$plane/build.sh" --bin-dir argo-rollouts)/rollouts-controller

export BGO_PLANE_DIR=${BGO_PEER_PLANE_DIR:-$root/build/plane-peer}
# shellcheck source=scripts/bench-plane.sh
. "$root/scripts/bench-plane.sh"

# Argo's CRDs come from the module the controller was built from.
argo_src=$(cd "$plane/argo-rollouts" &&
  GOTOOLCHAIN=go$(sed -n 's/^go \([0-9.]*\)$/\1/p' go.mod) GOFLAGS=-buildvcs=false \
    go mod download -json github.com/argoproj/argo-rollouts | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
# (go list -m names no Dir for a module the cache lacks, e.g. once the binary is cached and the sources are not)
[[ -d $argo_src/manifests/crds ]] || { echo "run-bench-peer.sh: Argo Rollouts' CRDs not found (module dir: '$argo_src')" >&2; exit 1; }
kubectl apply --server-side --force-conflicts -k "$argo_src/manifests/crds/" >/dev/null

echo "== peer: bluegreen-operator (${BGO_PEER_WORKERS:-2} workers) and Argo Rollouts $ARGO_ROLLOUTS_VERSION (10 rollout threads, 40 QPS), each at its defaults, on one plane"
"$build/test/bench/bgo_peer_bench" --argo "$argo_bin" --audit-log "$BGO_PLANE_DIR/logs/audit.log" \
  --sizes "${BGO_PEER_SIZES:-1,100,1000}" --workers "${BGO_PEER_WORKERS:-2}" \
  --rss-csv "${BGO_PEER_RSS_CSV:-$build/peer-rss.csv}"
