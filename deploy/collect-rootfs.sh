#!/usr/bin/env bash
# Collects what the container image holds: the operator binary and the shared libraries it links (its
# ldd closure, kept at their paths). deploy/Dockerfile runs it on top of distroless/cc, which already has
# glibc, libstdc++ and OpenSSL 3; --standalone also copies those (and the dynamic loader, /etc/passwd with uid 65532,
# /tmp, /dev, /proc mount points) so the result runs by itself under chroot, as the install test does.
# Usage: collect-rootfs.sh <binary> <out-dir> [--standalone]
set -euo pipefail
bin=$1 out=$2 standalone=${3:-}
[[ -x "$bin" ]] || { echo "collect-rootfs: $bin is not an executable" >&2; exit 1; }
mkdir -p "$out/usr/local/bin"
cp "$bin" "$out/usr/local/bin/bluegreen-operator"
base_lib() {
  case "$(basename "$1")" in
    libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*|libstdc++.so.*|libgcc_s.so.*) return 0 ;;
    libssl.so.3|libcrypto.so.3) return 0 ;; # distroless/base ships OpenSSL 3
  esac
  return 1
}
ldd "$bin" | awk '/=> \// {print $3} /^\t\/[^ ]+ \(/ {print $1}' | sort -u | while read -r lib; do
  if [[ "$standalone" == --standalone ]] || ! base_lib "$lib"; then
    cp --parents -L "$lib" "$out"
  fi
done
if [[ "$standalone" == --standalone ]]; then
  mkdir -p "$out/etc" "$out/tmp" "$out/dev" "$out/proc"
  chmod 1777 "$out/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$out/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$out/etc/group"
fi
du -sk "$out" | awk '{printf "collect-rootfs: %s holds %.1f MB\n", $2, $1 / 1024}'
