// chaos: blue-green releases under faults (operator kills, API server and etcd restarts, cut watches,
// 429/500/slow answers) with invariant checks; see main.go. Standard library only.
module bluegreen-operator/test/chaos

go 1.26.0
