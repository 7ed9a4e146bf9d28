#!/usr/bin/env bash
# The HPA and disruption controllers run (no metrics server): an autoscaling/v2 HPA raises a Deployment to its
# minReplicas and lowers it to its maxReplicas through /scale; a PodDisruptionBudget gets status from the
# disruption controller, and the Eviction API refuses (429) an eviction that would break it.
. "$(dirname "$0")/lib.sh"
use_namespace
deployment web 2
k apply -n "$NS" -f - >/dev/null <<YAML
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 3
  maxReplicas: 5
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec:
  minAvailable: 3
  selector: {matchLabels: {app: web}}
YAML
t0=$(date +%s)
replicas_are() { [[ $(jp deployment/web '{.spec.replicas}') == "$1" ]]; }
eventually 60 "the HPA raises deployment web to minReplicas 3" replicas_are 3
info "HPA raised replicas 2 -> 3 after $(( $(date +%s) - t0 ))s"
budget_settled() {
  [[ $(jp pdb/web '{.status.currentHealthy}/{.status.desiredHealthy}/{.status.disruptionsAllowed}') == 3/3/0 &&
     $(jp pdb/web '{.status.observedGeneration}') == $(jp pdb/web '{.metadata.generation}') ]]
}
eventually 60 "PodDisruptionBudget web at currentHealthy 3, desiredHealthy 3, disruptionsAllowed 0" budget_settled

pod=$(k get pods -n "$NS" -l app=web -o jsonpath='{.items[0].metadata.name}')
eviction='{"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "'$pod'", "namespace": "'$NS'"}}'
out=$(k create --raw "/api/v1/namespaces/$NS/pods/$pod/eviction" -f - 2>&1 <<<"$eviction") &&
  fail "eviction of $pod was allowed: $out"
grep -q "Cannot evict pod as it would violate the pod's disruption budget" <<<"$out" || fail "unexpected refusal: $out"

k patch -n "$NS" hpa web --type merge -p '{"spec":{"minReplicas":1,"maxReplicas":2}}' >/dev/null
eventually 60 "the HPA lowers deployment web to maxReplicas 2" replicas_are 2
reasons=$(k get events -n "$NS" --field-selector involvedObject.kind=HorizontalPodAutoscaler -o jsonpath='{range .items[*]}{.message}{"\n"}{end}')
grep -q 'below Spec.MinReplicas' <<<"$reasons" && grep -q 'above Spec.MaxReplicas' <<<"$reasons" ||
  fail "HPA events lack the min/max rescales: $reasons"
pass "HPA 2 -> 3 -> 2 through /scale; eviction refused: $(grep -o 'Cannot evict[^"]*' <<<"$out" | head -1)"
