#!/bin/bash
# One mkosi build of ./mkosi.conf (bench/cold-build.ts --mkosi times it). Usage (as root): ./build.sh cold|warm
#   cold: empties the package cache too (every .deb and index is downloaded)
#   warm: keeps the package cache (.debs from the last build; indexes are still fetched)
# Output, workspace and cache live under $BENCH (default /var/tmp/mkosi-bench).
set -eu
mode=${1:?usage: $0 cold|warm}
here=$(cd "$(dirname "$0")" && pwd)
B=${BENCH:-/var/tmp/mkosi-bench}
mkdir -p "$B/cache" "$B/output" "$B/workspace" "$B/esp-shim"
[ "$mode" = cold ] && rm -rf "${B:?}/cache/"*
rm -rf "${B:?}/output/"* "${B:?}/workspace/"* "${B:?}/esp-shim/"*
cd "$here"
export MKOSI_SHIM_STATE="$B/esp-shim"
PATH="$here/host-shims:$PATH" mkosi --force --cache="$B/cache" --output-dir="$B/output" \
  --workspace-dir="$B/workspace" build
