#!/usr/bin/env bash
# Before the tests: build (and so type-check) unless dist/ is already the build of this tree, as
# after `npm ci`, whose prepare script has just built it. A source, a config or a folder (a file
# added or removed changes its folder) newer than the last build's stamp means building again.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=dist/.built
if [[ -f $stamp && -z $(find src test bench tsconfig.json tsconfig.build.json package.json package-lock.json -newer "$stamp" -print -quit) ]]; then
  echo "dist/ is the build of this tree (built $(date -r "$stamp" '+%F %T')); not building again"
  exit 0
fi
npm run build
