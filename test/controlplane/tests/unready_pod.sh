#!/usr/bin/env bash
# Pods held unready (sim.bluegreen.io/ready: "false") or crash-looping (sim.bluegreen.io/crash: "true")
# keep a Deployment from becoming available; ready-after-seconds delays readiness; changing the pod's
# annotation is re-evaluated.
. "$(dirname "$0")/lib.sh"
use_namespace
deployment held 2 '{"sim.bluegreen.io/ready": "false"}'
deployment crashing 2 '{"sim.bluegreen.io/crash": "true"}'
deployment slow 1 '{"sim.bluegreen.io/ready-after-seconds": "6"}'
created=$(date +%s)

running() { [[ $(k get pods -n "$NS" -l "app=$1" -o jsonpath='{.items[*].status.phase}') == "Running Running" ]]; }
eventually 60 "held pods Running" running held
crashlooping() {
  [[ $(k get pods -n "$NS" -l app=crashing -o jsonpath='{.items[*].status.containerStatuses[0].state.waiting.reason}') == "CrashLoopBackOff CrashLoopBackOff" ]]
}
eventually 60 "crashing pods in CrashLoopBackOff" crashlooping
replicas() { [[ $(jp "deployment/$1" '{.status.replicas}') == "$2" ]]; }
eventually 30 "deployment held reports 2 replicas" replicas held 2
eventually 30 "deployment crashing reports 2 replicas" replicas crashing 2
unavailable() { [[ $(jp "deployment/$1" '{.status.availableReplicas}') =~ ^0?$ ]]; }
consistently 6 "deployment held stays unavailable" unavailable held
consistently 2 "deployment crashing stays unavailable" unavailable crashing
ready=$(k get pods -n "$NS" -l app=held -o jsonpath='{.items[*].status.conditions[?(@.type=="Ready")].status}')
[[ $ready == "False False" ]] || fail "held pods report Ready=$ready"
not_ready_endpoints() {
  [[ $(k get endpointslices -n "$NS" -o jsonpath='{range .items[*].endpoints[?(@.conditions.ready==false)]}{.addresses[0]}{"\n"}{end}' | grep -c .) -ge 2 ]]
}
k expose -n "$NS" deployment held --port 80 --target-port 8080 >/dev/null
eventually 30 "EndpointSlice of held lists its pods as not ready" not_ready_endpoints

restarts() { k get pods -n "$NS" -l app=crashing -o jsonpath='{.items[0].status.containerStatuses[0].restartCount}'; }
r1=$(restarts)
rising() { (( $(restarts) > r1 )); }
eventually 15 "restartCount of the crashing pod rises above $r1" rising
unavailable crashing || fail "deployment crashing became available"

slow_available() { [[ $(jp deployment/slow '{.status.availableReplicas}') == 1 ]]; }
eventually 40 "deployment slow becomes available" slow_available
waited=$(( $(date +%s) - created ))
(( waited >= 6 )) || fail "deployment slow was available after ${waited}s, before its 6s readiness delay"

# Annotation changes are re-evaluated: release one held pod.
pod=$(k get pods -n "$NS" -l app=held -o jsonpath='{.items[0].metadata.name}')
k annotate -n "$NS" pod "$pod" sim.bluegreen.io/ready=true --overwrite >/dev/null
one_available() { [[ $(jp deployment/held '{.status.availableReplicas}') == 1 ]]; }
eventually 30 "held becomes 1/2 available after re-annotating $pod" one_available
pass "held stays 0/2 available, crashing restarts ($r1 -> $(restarts)), slow ready after ${waited}s, re-annotation honoured"
