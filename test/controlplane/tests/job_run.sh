#!/usr/bin/env bash
# The job controller runs, and nodesim runs a Job's container command for real: the exit code decides
# Complete or Failed, a failure carries the tail of the output as the termination message, and a Job past
# activeDeadlineSeconds is stopped (its process killed) and fails with DeadlineExceeded.
. "$(dirname "$0")/lib.sh"
use_namespace
work=$(mktemp -d)
chmod 777 "$work"
trap 'k delete namespace "$NS" --wait=false >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

job() { # job <name> <deadline-seconds> <shell script>
  k apply -n "$NS" -f - >/dev/null <<JOB
apiVersion: batch/v1
kind: Job
metadata: {name: $1}
spec:
  backoffLimit: 0
  activeDeadlineSeconds: $2
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: registry.invalid/hook:1
        command: ["sh", "-c", $(printf '%s' "$3" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')]
        env: [{name: MARK, value: "$1"}]
JOB
}
cond() { [[ $(k get job "$1" -n "$NS" -o jsonpath="{.status.conditions[?(@.type==\"$2\")].status}") == True ]]; }

job ok 60 "echo \"\$MARK\" > $work/ok.out"
job boom 60 "echo starting; echo 'schema version 7 is dirty' >&2; exit 3"
job hang 3 "echo \$\$ > $work/hang.pid; exec sleep 300"

eventually 60 "Job ok Complete" cond ok Complete
[[ $(cat "$work/ok.out") == ok ]] || fail "Job ok's process did not run with its env (MARK): $(cat "$work/ok.out" 2>&1)"

eventually 60 "Job boom Failed" cond boom Failed
msg=$(k get pods -n "$NS" -l job-name=boom -o jsonpath='{.items[0].status.containerStatuses[0].state.terminated.message}')
code=$(k get pods -n "$NS" -l job-name=boom -o jsonpath='{.items[0].status.containerStatuses[0].state.terminated.exitCode}')
[[ $code == 3 ]] || fail "Job boom's pod exit code is '$code', want 3"
[[ $msg == *"schema version 7 is dirty"* ]] || fail "Job boom's termination message lacks the output tail: '$msg'"

eventually 60 "Job hang Failed" cond hang Failed
reason=$(k get job hang -n "$NS" -o jsonpath='{.status.conditions[?(@.type=="Failed")].reason}')
[[ $reason == DeadlineExceeded ]] || fail "Job hang failed with reason '$reason', want DeadlineExceeded"
pid=$(cat "$work/hang.pid")
gone() { ! kill -0 "$pid" 2>/dev/null; }
eventually 30 "the hanging process $pid killed after the deadline" gone

# Exactly one pod per Job with backoffLimit 0: nothing ran twice.
n=$(k get pods -n "$NS" -l job-name=boom -o name | wc -l)
(( n <= 1 )) || fail "Job boom has $n pods with backoffLimit 0"
pass "ok Complete with its env, boom Failed (exit 3, message '$msg'), hang DeadlineExceeded and killed"
