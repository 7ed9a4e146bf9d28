#!/usr/bin/env bash
# kstatus (sigs.k8s.io/cli-utils/pkg/kstatus, what Flux's health checks use) on BlueGreenReleases as the
# API server returns them: for each recorded stage (test/unit/gitops/fixtures), the fixture's status is
# written to a real release with a server-side dry-run status patch, and kstatus is computed on the
# object the server answers with. InProgress during a release, Current when done, Failed when stalled.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
require_plane
repo=$install_repo
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
[[ -x "$GO" ]] || die "go not found"
tmp=$(mktemp -d)
ns=bgo-kstatus-test
obj=kstatus-probe
trap 'k delete namespace "$ns" --ignore-not-found --wait=false >/dev/null 2>&1; rm -rf "$tmp"' EXIT

(cd "$here/kstatuscheck" && "$GO" build -o "$tmp/kstatuscheck" .) || die "building kstatuscheck failed"
pass "built kstatuscheck (sigs.k8s.io/cli-utils kstatus)"

k create namespace "$ns" >/dev/null 2>&1
# Paused: an operator watching this namespace writes nothing but status, and the probes below are dry runs.
k apply -n "$ns" --server-side --field-manager=bgo-tests -f - >/dev/null <<YAML || die "cannot create the probe release"
apiVersion: bluegreen.io/v1alpha1
kind: BlueGreenRelease
metadata: {name: $obj}
spec:
  paused: true
  template: {spec: {containers: [{name: app, image: "app:1"}]}}
  routing: {host: kstatus.example.com}
YAML
gen=$(k get bgr -n "$ns" "$obj" -o jsonpath='{.metadata.generation}')

for f in "$repo"/test/unit/gitops/fixtures/*.json; do
  name=$(basename "$f" .json)
  want=$(jq -r .expect.kstatus "$f")
  # Keep the fixture's distance between generation and observedGeneration, on the server's generation.
  patch=$(jq -c --argjson gen "$gen" '
    if .object.status == null then {status: null}
    else {status: (.object.status
      | .observedGeneration = ($gen - ($root.object.metadata.generation - .observedGeneration))
      | .conditions = [(.conditions // [])[] | .observedGeneration = $gen])}
    end' --argjson root "$(jq -c . "$f")" "$f")
  if ! live=$(k patch bgr -n "$ns" "$obj" --subresource=status --type=merge --dry-run=server -o json -p "$patch" 2>&1); then
    fail "$name: the server refused the status: $live"; continue
  fi
  got=$("$tmp/kstatuscheck" <<<"$live" 2>&1)
  status=$(awk '{print $2}' <<<"$got")
  if [[ "$status" == "$want" ]]; then pass "$name: kstatus $got"; else fail "$name: kstatus '$got', want $want"; fi
done
install_summary kstatus
