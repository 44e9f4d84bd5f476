#!/usr/bin/env bash
# The end-to-end suite: every test file that is not about caching shares one stage store and
# package cache (see sharedCache in kiln.ts), removed when the suite ends unless KILN_E2E_KEEP=1.
set -uo pipefail
cache=$(mktemp -d "${TMPDIR:-/tmp}/kiln-e2e-shared-cache-XXXXXX")
# The shared store grows to about 25 GiB and the files' own folders add a few more at a time. A
# full disk fails builds with "No space left on device" and silently pauses QEMU guests (its
# default on a write error), which then look frozen: say so up front.
free_gib=$(( $(df -Pk "$cache" | awk 'NR == 2 { print $4 }') / 1024 / 1024 ))
if (( free_gib < 40 )); then
  echo "warning: only ${free_gib} GiB free in ${TMPDIR:-/tmp}; the end-to-end tests need about 35 GiB (old kiln-e2e-* folders and kiln caches can go)" >&2
fi
[[ -n "${KILN_E2E_KEEP:-}" ]] || trap 'rm -rf "$cache"' EXIT
echo "end-to-end tests: shared stage store and package cache in $cache"
KILN_E2E_CACHE="$cache" node --test --test-concurrency="${KILN_E2E_JOBS:-2}" "${@:-dist/test/e2e/}"
