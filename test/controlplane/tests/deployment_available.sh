#!/usr/bin/env bash
# A 3-replica Deployment and its Service: the Deployment reports availableReplicas 3 and the EndpointSlice
# lists 3 ready endpoints, each a distinct pod address in 198.18.0.0/16 (never loopback).
. "$(dirname "$0")/lib.sh"
use_namespace
deployment web 3
k expose -n "$NS" deployment web --port 80 --target-port 8080 >/dev/null

available() { [[ $(jp deployment/web '{.status.availableReplicas}') == 3 ]]; }
eventually 60 "deployment web availableReplicas == 3" available
ready_endpoints() {
  k get endpointslices -n "$NS" -l kubernetes.io/service-name=web \
    -o jsonpath='{range .items[*].endpoints[?(@.conditions.ready==true)]}{.addresses[0]}{"\n"}{end}'
}
three_ready() { [[ $(ready_endpoints | grep -c .) == 3 ]]; }
eventually 60 "EndpointSlice of service web with 3 ready endpoints" three_ready

addrs=$(ready_endpoints | sort)
[[ $(sort -u <<<"$addrs" | grep -c .) == 3 ]] || fail "endpoint addresses are not distinct: $addrs"
while read -r a; do
  [[ $a =~ ^198\.18\.[0-9]+\.[0-9]+$ ]] || fail "endpoint address $a is not in 198.18.0.0/16"
done <<<"$addrs"
pod_ips=$(k get pods -n "$NS" -l app=web -o jsonpath='{range .items[*]}{.status.podIP}{"\n"}{end}' | sort)
[[ $pod_ips == "$addrs" ]] || fail "EndpointSlice addresses ($addrs) differ from pod IPs ($pod_ips)"
phases=$(k get pods -n "$NS" -l app=web -o jsonpath='{.items[*].status.phase}')
[[ $phases == "Running Running Running" ]] || fail "pods are not all Running: $phases"
pass "availableReplicas=3, EndpointSlice ready endpoints: $(tr '\n' ' ' <<<"$addrs")"
