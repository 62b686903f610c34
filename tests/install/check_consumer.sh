#!/usr/bin/env bash
# Installs the torch-free core from BUILD_DIR into a temporary prefix, builds tests/install/consumer
# against it with find_package(ishannot), runs it, and checks that it loads no libtorch.
# Usage: check_consumer.sh BUILD_DIR. Run by ctest (install_consumer).
set -euo pipefail
build="$(cd "$1" && pwd)"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d /tmp/ishannot-consumer.XXXXXX)"
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >"$work/install.log"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S "$here/consumer" -B "$work/build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/configure.log" ||
  { cat "$work/configure.log"; echo "FAIL: consumer configure"; exit 1; }
cmake --build "$work/build" >"$work/build.log" || { cat "$work/build.log"; echo "FAIL: consumer build"; exit 1; }
if ldd "$work/build/consumer" | grep -q 'libtorch'; then
  echo "FAIL: the consumer of the core loads libtorch"; ldd "$work/build/consumer"; exit 1
fi
if ls "$work/prefix/include/ishannot/nets" >/dev/null 2>&1; then
  echo "FAIL: the torch headers (include/ishannot/nets) were installed with the core"; exit 1
fi
LD_LIBRARY_PATH="$work/prefix/lib:$work/prefix/lib64:$work/prefix/lib/x86_64-linux-gnu" \
  "$work/build/consumer"
