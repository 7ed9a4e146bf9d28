#!/usr/bin/env bash
# Builds the chaos runner (a Go program; test/controlplane/build.sh caches it by a hash of its sources)
# and runs it against a private control plane of its own. Arguments go to the runner (see main.go):
#   test/chaos/run.sh                                   the full run (`make chaos`)
#   test/chaos/run.sh --releases 6 --rounds 10 ...      a shorter one
# Needs the operator binary (build/{ci,dev,release}/operator/bluegreen-operator or --operator PATH).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cp_dir=$here/../controlplane
"$cp_dir/build.sh" kube etcd nodesim chaos | grep -v ' cached in ' || true
bin=$("$cp_dir/build.sh" --bin-dir chaos)/chaos
exec "$bin" --repo "$(cd "$here/../.." && pwd)" "$@"
