# Versions of every program of the test control plane, in one place. Sourced by the other scripts.
# Changing one means regenerating its wrapper go.mod (gen-kube-gomod.sh / gen-traefik-gomod.sh, or
# `go get <module>@<version> && go mod tidy` in the wrapper folder) and committing go.mod/go.sum.
KUBE_VERSION=v1.37.2          # k8s.io/kubernetes; staging modules at v0.<minor>.<patch>
ETCD_VERSION=v3.6.16          # go.etcd.io/etcd/server/v3
TRAEFIK_VERSION=v3.6.12       # github.com/traefik/traefik/v3 (v3.7 needs a module the proxy does not serve)
HELM_VERSION=v3.22.0          # helm.sh/helm/v3
MIGRATE_VERSION=v4.20.1       # github.com/golang-migrate/migrate/v4 (the CLI; postgres driver, file source)
ARGO_ROLLOUTS_VERSION=v1.10.2 # github.com/argoproj/argo-rollouts: the peer of `make bench-peer`, never built by `make test`
NODESIM_VERSION=1             # our own program; bump to force a rebuild (build.sh also hashes its sources)

BGO_BIN_CACHE=${BGO_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bluegreen-operator/bin}
