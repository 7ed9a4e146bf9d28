#!/usr/bin/env bash
# Builds the programs of the test control plane from their Go modules into
# $BGO_BIN_CACHE/<program>-<version>/ (default ~/.cache/bluegreen-operator/bin) and skips what is cached.
# Usage: build.sh [program...]   programs: kube etcd nodesim traefik helm migrate backend loadgen chaos (default: all, in that order), argo-rollouts
#   backend (traffic/backend) and loadgen (../e2e/loadgen) are ours, for the e2e traffic tests; chaos
#   (../chaos) is the chaos runner (`make chaos`). argo-rollouts (the peer of `make bench-peer`) is built only
#   when named: it is no part of the plane `make test` needs.
#   BGO_BUILD_FORCE=1 rebuilds even when cached.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.sh"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local
command -v go >/dev/null || { echo "build.sh: go (>= 1.26) is not on PATH" >&2; exit 1; }

# Cache folder of a program (also used by start.sh through bin_dir).
bin_dir() {
  case $1 in
    kube) echo "$BGO_BIN_CACHE/kube-$KUBE_VERSION" ;;
    etcd) echo "$BGO_BIN_CACHE/etcd-$ETCD_VERSION" ;;
    traefik) echo "$BGO_BIN_CACHE/traefik-$TRAEFIK_VERSION" ;;
    helm) echo "$BGO_BIN_CACHE/helm-$HELM_VERSION" ;;
    migrate) echo "$BGO_BIN_CACHE/migrate-$MIGRATE_VERSION" ;;
    argo-rollouts) echo "$BGO_BIN_CACHE/argo-rollouts-$ARGO_ROLLOUTS_VERSION" ;;
    # our own program: keyed by a hash of its sources so an edit rebuilds it
    nodesim|backend|loadgen|chaos) local src
      src=$(src_dir "$1")
      # (and of the local modules its replace lines name, e.g. loadgen's ../svgplot)
      local dirs=("$src") d
      for d in $(sed -n 's,^replace .* => \(\.\.\?/[^ ]*\)$,\1,p' "$src/go.mod"); do dirs+=("$src/$d"); done
      echo "$BGO_BIN_CACHE/$1-$(for d in "${dirs[@]}"; do cat "$d"/go.mod "$d"/*.go; done | cat - "$src"/go.sum | sha256sum | cut -c1-12)" ;;
    *) echo "build.sh: unknown program '$1' (kube etcd nodesim traefik helm migrate backend loadgen chaos argo-rollouts)" >&2; return 1 ;;
  esac
}
src_dir() { # the wrapper (or own) module of a program
  case $1 in
    backend) echo "$here/traffic/backend" ;;
    loadgen) echo "$here/../e2e/loadgen" ;;
    chaos) echo "$here/../chaos" ;;
    *) echo "$here/$1" ;;
  esac
}
binaries() {
  case $1 in
    kube) echo kube-apiserver kube-controller-manager kubectl ;;
    argo-rollouts) echo rollouts-controller ;;
    *) echo "$1" ;;
  esac
}
if [[ ${1:-} == --bin-dir ]]; then bin_dir "$2"; exit; fi

kube_ldflags() {
  # /version must report the real release (Helm's kubeVersion checks and clients read it). The build date is
  # the module's publication time from the proxy, so the flags (and the build) are reproducible.
  local info date minor=${KUBE_VERSION#v1.}
  info=$(cd "$here/kube" && go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^[[:space:]]*"Info": "\(.*\)",$/\1/p')
  date=$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$info")
  local f="-s -w" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    f+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=${minor%%.*}"
    f+=" -X $pkg.gitTreeState=clean -X $pkg.gitCommit=0000000000000000000000000000000000000000 -X $pkg.buildDate=$date"
  done
  echo "$f"
}

build_one() {
  local prog=$1 dest tmp start pkgs ldflags="-s -w" tags="" b missing=0
  dest=$(bin_dir "$prog")
  for b in $(binaries "$prog"); do [[ -x $dest/$b ]] || missing=1; done
  if (( ! missing )) && [[ -z ${BGO_BUILD_FORCE:-} ]]; then
    echo "build.sh: $prog cached in $dest"
    return
  fi
  if (( ! locked )); then # one build at a time: a concurrent caller waits here, then finds it cached
    exec 9>"$BGO_BIN_CACHE/.build.lock"
    flock 9
    locked=1
    missing=0
    for b in $(binaries "$prog"); do [[ -x $dest/$b ]] || missing=1; done
    if (( ! missing )) && [[ -z ${BGO_BUILD_FORCE:-} ]]; then
      echo "build.sh: $prog cached in $dest (built by a concurrent build.sh)"
      return
    fi
  fi
  case $prog in
    kube) pkgs="k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl"
          ldflags=$(kube_ldflags) ;;
    etcd) pkgs=go.etcd.io/etcd/server/v3 ;;
    nodesim|backend|loadgen|chaos) pkgs=. ;;
    traefik) pkgs=github.com/traefik/traefik/v3/cmd/traefik
             ldflags+=" -X github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK_VERSION" ;;
    helm) pkgs=helm.sh/helm/v3/cmd/helm
          ldflags+=" -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" ;;
    migrate) pkgs=github.com/golang-migrate/migrate/v4/cmd/migrate
             tags="postgres file"  # its drivers are build tags; only these two are needed
             ldflags+=" -X main.Version=$MIGRATE_VERSION" ;;
    argo-rollouts) pkgs=github.com/argoproj/argo-rollouts/cmd/rollouts-controller
          ldflags+=" -X github.com/argoproj/argo-rollouts/utils/version.version=${ARGO_ROLLOUTS_VERSION#v}" ;;
  esac
  # Upstream may need a newer Go than the local one: the toolchain its go directive names comes from the proxy.
  local toolchain=local
  [[ $prog == argo-rollouts ]] && toolchain=go$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$(src_dir "$prog")/go.mod")
  echo "build.sh: building $prog into $dest ..."
  start=$(date +%s)
  tmp=$(mktemp -d "$BGO_BIN_CACHE/.$prog.XXXXXX")
  # Build into a temporary folder and move it into place, so an interrupted build never looks cached.
  # shellcheck disable=SC2086
  # (the "go: downloading" lines of a cold build, hundreds of them, are left out)
  if ! (cd "$(src_dir "$prog")" && GOTOOLCHAIN=$toolchain go build -trimpath -tags "$tags" -ldflags "$ldflags" -o "$tmp/" $pkgs 2>&1 |
        { grep -v '^go: downloading ' || true; }); then
    rm -rf "$tmp"
    echo "build.sh: building $prog FAILED" >&2
    return 1
  fi
  if [[ $prog == etcd ]]; then # go names the binary after the module path (server); call it etcd
    for b in "$tmp"/*; do [[ $b == "$tmp/etcd" ]] || mv "$b" "$tmp/etcd"; done
  fi
  chmod 755 "$tmp"
  rm -rf "$dest"
  mv "$tmp" "$dest"
  if [[ $prog == nodesim || $prog == backend || $prog == loadgen || $prog == chaos ]]; then # older builds of our own programs are never used again
    for b in "$BGO_BIN_CACHE/$prog"-*; do [[ $b == "$dest" ]] || rm -rf "$b"; done
  fi
  local secs=$(( $(date +%s) - start ))
  echo "build.sh: built $prog in ${secs}s"
  echo "$(date -u +%FT%TZ) $prog $(basename "$dest") ${secs}s" >> "$BGO_BIN_CACHE/build-times.log"
}

progs=("$@")
(( ${#progs[@]} )) || progs=(kube etcd nodesim traefik helm migrate backend loadgen chaos)
total_start=$(date +%s)
mkdir -p "$BGO_BIN_CACHE"
locked=0
for p in "${progs[@]}"; do build_one "$p"; done
echo "build.sh: done in $(( $(date +%s) - total_start ))s"
