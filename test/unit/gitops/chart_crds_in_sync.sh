#!/usr/bin/env bash
# The chart's CRDs must be byte-for-byte the ones in crds/ (fix: helm/sync-crds.sh), and the
# committed Argo CD argocd-cm snippet must embed the current Lua files (fix: gitops/argocd/generate-argocd-cm.sh).
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
chart="$repo/helm/bluegreen-operator/files/crds"
rc=0
shopt -s nullglob
src=("$repo"/crds/*_*.yaml)
((${#src[@]} > 0)) || { echo "FAIL no CRD in crds/"; exit 1; }
for f in "${src[@]}"; do
  name=$(basename "$f")
  if [[ ! -f "$chart/$name" ]]; then
    echo "FAIL chart lacks files/crds/$name (run helm/sync-crds.sh)"; rc=1
  elif ! cmp -s "$f" "$chart/$name"; then
    echo "FAIL chart's files/crds/$name differs from crds/$name (run helm/sync-crds.sh):"
    diff -u "$f" "$chart/$name" | head -20; rc=1
  else
    echo "ok   files/crds/$name == crds/$name"
  fi
done
for f in "$chart"/*.yaml; do
  [[ -f "$repo/crds/$(basename "$f")" ]] || { echo "FAIL chart has files/crds/$(basename "$f"), crds/ does not"; rc=1; }
done
if diff -u "$repo/gitops/argocd/argocd-cm.yaml" <(bash "$repo/gitops/argocd/generate-argocd-cm.sh" -); then
  echo "ok   gitops/argocd/argocd-cm.yaml matches health.lua and actions/"
else
  echo "FAIL gitops/argocd/argocd-cm.yaml is stale (run gitops/argocd/generate-argocd-cm.sh)"; rc=1
fi
exit $rc
