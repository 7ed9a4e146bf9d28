#!/usr/bin/env bash
# Installs the Debian packages the build, the tests and the demo need, only if missing.
# Idempotent; needs root (or sudo) only when something is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libcpprest-dev nlohmann-json3-dev libyaml-cpp-dev libboost-dev libboost-system-dev libboost-program-options-dev
  libspdlog-dev libfmt-dev libssl-dev libgtest-dev libgmock-dev
  openssl iproute2 curl util-linux lua5.4 python3 python3-yaml
  clang libclang-rt-14-dev  # libFuzzer, ASan and UBSan runtimes for test/fuzz
  postgresql-15 postgresql-client-15  # real databases for the hook and TCP-route tests (test/postgres/pg.sh)
)


# Go builds the test control plane from its modules (test/controlplane/build.sh).
check_go() {
  local v
  if ! v=$(go env GOVERSION 2>/dev/null); then
    echo "install-deps: Go >= 1.26 is needed to build the test control plane and was not found on PATH" >&2
    return 1
  fi
  v=${v#go}
  if [[ $(printf '%s\n' 1.26 "$v" | sort -V | head -1) != 1.26 ]]; then
    echo "install-deps: Go >= 1.26 is needed (found $v); the kube wrapper module declares go 1.26" >&2
    return 1
  fi
}

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#PACKAGES[@]} packages present, $(go env GOVERSION 2>/dev/null || echo 'no Go')"
  check_go
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
check_go
