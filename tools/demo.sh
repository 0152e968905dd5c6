#!/usr/bin/env bash
# The demo: installs what is missing, builds spandb (release), generates a day of realistic
# LLM spans, imports them, and shows what the store holds. DEMO_ROWS (default 500000) sets
# the size; the data directory is ./demo-data (removed first).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh demo

if [ -f build-release/build.ninja ]; then
  meson setup --reconfigure build-release -Dbuildtype=release -Dtests=disabled >/dev/null
else
  meson setup build-release -Dbuildtype=release -Dtests=disabled >/dev/null
fi
ninja -C build-release tools/spandb >/dev/null
spandb=build-release/tools/spandb
rows=${DEMO_ROWS:-500000}
data=demo-data
rm -rf "$data"

echo "== generating $rows LLM spans (one day, seed 1) and importing them"
$spandb gen --rows "$rows" --seed 1 --start 2026-01-01T00:00:00Z --days 1 | zstd -q -3 -T2 > "$data.ilp.zst"
ls -l "$data.ilp.zst" | awk '{printf "line protocol, zstd -3: %.1f MB (%.1f bytes/span)\n", $5/1e6, $5/'"$rows"'}'
$spandb import --data "$data" "$data.ilp.zst"
rm -f "$data.ilp.zst"

echo
echo "== the largest segment, column by column"
seg=$(ls -S "$data"/tables/spans/*.seg | head -1)
$spandb inspect "$seg"

echo
echo "== every checksum and block"
$spandb verify "$data"/tables/spans/*.seg
