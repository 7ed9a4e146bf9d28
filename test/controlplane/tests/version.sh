#!/usr/bin/env bash
# The API server reports the real Kubernetes release, not v0.0.0.
. "$(dirname "$0")/lib.sh"
v=$(k get --raw /version)
got=$(sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p' <<<"$v")
[[ $got == "$KUBE_VERSION" ]] || fail "/version gitVersion is '$got', want $KUBE_VERSION: $v"
minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
grep -q "\"minor\": *\"$minor\"" <<<"$v" || fail "/version minor is not $minor: $v"
pass "/version reports $got"
