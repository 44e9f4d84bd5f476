#!/usr/bin/env bash
# The end-to-end suite: every test file that is not about caching shares one stage store and
# package cache (see sharedCache in kiln.ts), removed when the suite ends unless KILN_E2E_KEEP=1.
set -uo pipefail
cache=$(mktemp -d "${TMPDIR:-/tmp}/kiln-e2e-shared-cache-XXXXXX")
[[ -n "${KILN_E2E_KEEP:-}" ]] || trap 'rm -rf "$cache"' EXIT
echo "end-to-end tests: shared stage store and package cache in $cache"
KILN_E2E_CACHE="$cache" node --test --test-concurrency="${KILN_E2E_JOBS:-2}" "${@:-dist/test/e2e/}"
