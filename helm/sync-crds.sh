#!/usr/bin/env bash
# Copies the CRDs of crds/ into the chart (helm/bluegreen-operator/files/crds/). crds/ is the source;
# the unit test unit.gitops.chart_crds_in_sync fails until this has been run after a CRD change.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dst="$repo/helm/bluegreen-operator/files/crds"
mkdir -p "$dst"
rm -f "$dst"/*.yaml
cp "$repo"/crds/*_*.yaml "$dst"/
ls "$dst"
