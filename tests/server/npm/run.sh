#!/usr/bin/env bash
# Real clients, not ours: installs the npm packages of package.json into WORKDIR (a build
# folder, ignored by git) and runs clients.test.mjs with node's test runner against a
# `spandb serve` it starts itself. Exits 77 (meson: skipped) only when node or npm is absent.
# Usage: run.sh SPANDB_BIN WORKDIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "skipped: node or npm is not installed"
  exit 77
fi
bin=$1
work=$2
mkdir -p "$work"
cp "$here/package.json" "$work/package.json"
if [ ! -d "$work/node_modules/@questdb/nodejs-client" ] ||
   [ ! -d "$work/node_modules/@influxdata/influxdb-client" ]; then
  (cd "$work" && npm install --no-audit --no-fund --loglevel=error)
fi
SPANDB_BIN=$bin NODE_CLIENTS=$work node --test "$here/clients.test.mjs"
