#!/usr/bin/env bash
# Regenerates traefik/go.mod for github.com/traefik/traefik/v3@$TRAEFIK_VERSION (versions.sh): the upstream
# go.mod has replace and exclude lines that a consuming module never sees, so they are copied here.
# Usage: gen-traefik-gomod.sh [output-dir]   (default: the traefik/ folder next to this script)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.sh"
out=${1:-$here/traefik}
mkdir -p "$out"
export GOFLAGS=-buildvcs=false GOTOOLCHAIN=local
mod=github.com/traefik/traefik/v3

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && go mod init tmp >/dev/null 2>&1 && go mod download -json "$mod@$TRAEFIK_VERSION") > "$tmp/dl.json"
upstream=$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p' "$tmp/dl.json")
[[ -f $upstream ]] || { echo "gen-traefik-gomod: cannot locate the go.mod of $mod@$TRAEFIK_VERSION" >&2; exit 1; }

{
  echo "// Wrapper module: builds traefik from $mod."
  echo "// The replace/exclude lines are copied from the upstream go.mod by ../gen-traefik-gomod.sh (a consumer never"
  echo "// sees them, yet the build needs them)."
  echo "module bluegreen-operator/test/controlplane/traefik"
  echo
  echo "go 1.26.0"
  echo
  echo "tool $mod/cmd/traefik"
  echo
  echo "require $mod $TRAEFIK_VERSION"
  echo
  # replace/exclude blocks and single lines, verbatim; local-path replaces would not resolve here.
  awk '/^(replace|exclude) \($/{p=1} p{print} /^\)$/{if(p){p=0; print ""}} /^(replace|exclude) [^(]/{print; print ""}' "$upstream" |
    grep -v '=> \.\.\?/' || true
} > "$out/go.mod"
rm -f "$out/go.sum"
(cd "$out" && go mod tidy)
echo "gen-traefik-gomod: $out/go.mod for $mod $TRAEFIK_VERSION"
