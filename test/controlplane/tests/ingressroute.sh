#!/usr/bin/env bash
# Traefik's real CRDs are installed: an IngressRoute (traefik.io/v1alpha1) is created and read back, and
# the CRD's schema rejects an invalid one.
. "$(dirname "$0")/lib.sh"
use_namespace
for crd in ingressroutes middlewares traefikservices serverstransports tlsoptions; do
  st=$(k get crd "$crd.traefik.io" -o jsonpath='{.status.conditions[?(@.type=="Established")].status}')
  [[ $st == True ]] || fail "CRD $crd.traefik.io not Established ($st)"
done
k apply -n "$NS" -f - >/dev/null <<'YAML'
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: web}
spec:
  entryPoints: [web]
  routes:
  - match: Host(`shop.example`) && PathPrefix(`/`)
    kind: Rule
    services:
    - {name: web-blue, port: 80, weight: 90}
    - {name: web-green, port: 80, weight: 10}
YAML
match=$(jp ingressroute/web '{.spec.routes[0].match}')
[[ $match == 'Host(`shop.example`) && PathPrefix(`/`)' ]] || fail "read back match '$match'"
weights=$(jp ingressroute.traefik.io/web '{.spec.routes[0].services[*].weight}')
[[ $weights == "90 10" ]] || fail "read back weights '$weights'"
err=$(k apply -n "$NS" -f - 2>&1 <<'YAML' || true
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: bad}
spec:
  routes:
  - match: Host(`x`)
    kind: NotAKind
YAML
)
grep -qi 'unsupported value\|Invalid value' <<<"$err" || fail "an invalid IngressRoute was not rejected by the CRD schema: $err"
pass "IngressRoute created and read back (weights $weights); schema rejects kind NotAKind"
