#!/usr/bin/env bash
# The ingest and storage benchmark: end-to-end `spandb import` of generated spans from a plain
# line-protocol file (then `spandb compact`) and from its .zst (`import --compact`), with rows/s,
# CPU time and peak RSS (/usr/bin/time -v), then bytes per span on disk after compaction, beside the size of the line
# protocol, its `zstd -3` size, the CSV, and DuckDB's database file after loading the same
# rows from the CSV (benchmarks/duckdb/load.mjs). Ends with bytes per span per column of the
# largest segment (`spandb inspect`). Prints one markdown report; --out FILE saves it.
#
# usage: benchmarks/ingest.sh [--rows N] [--days D] [--seed S] [--work DIR] [--spandb PATH]
#                             [--keep] [--out FILE.md]
# --keep leaves the compacted data directory (WORK/ingest-<rows>) and the DuckDB file.
# Needs: a release build (build-release/tools/spandb), zstd, GNU time (/usr/bin/time), node
# with `npm install` done in benchmarks/duckdb (the DuckDB row is skipped without it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rows=10000000 days=7 seed=1 work="$root/benchmarks/work" spandb="$root/build-release/tools/spandb"
out="" keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) rows=$2; shift 2 ;;
    --days) days=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --spandb) spandb=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "ingest.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
[ -x "$spandb" ] || { echo "ingest.sh: no $spandb (meson setup build-release -Dbuildtype=release && ninja -C build-release)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "ingest.sh: needs GNU time (/usr/bin/time, Debian package 'time')" >&2; exit 2; }
mkdir -p "$work"
tag=$rows; [ $((rows % 1000000)) -eq 0 ] && tag="$((rows / 1000000))m"
ilp="$work/spans-$tag.ilp" csv="$work/spans-$tag.csv"
gen=(gen --rows "$rows" --days "$days" --seed "$seed")
load0=$(cut -d' ' -f1 /proc/loadavg)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)

[ -s "$ilp" ] || "$spandb" "${gen[@]}" > "$ilp"
[ -s "$ilp.zst" ] || zstd -q -3 -T1 -f "$ilp" -o "$ilp.zst"
ilp_bytes=$(stat -L -c %s "$ilp") zst_bytes=$(stat -L -c %s "$ilp.zst")

# field VALUE of /usr/bin/time -v's report in file $1
tv() { sed -n "s/^[[:space:]]*$2: //p" "$1" | head -1; }
secs() { awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }' <<<"$1"; }

results=()
# timed DIR ID NAME CMD...: run CMD under GNU time, add a row for it, then the segment bytes
# of DIR per span
timed() {
  local dir=$1 id=$2 name=$3 tlog="$work/time-$2.log" wall user sys rss bytes
  shift 3
  /usr/bin/time -v -o "$tlog" "$@" > "$work/run-$id.out" 2>&1 ||
    { cat "$work/run-$id.out" >&2; exit 1; }
  wall=$(secs "$(tv "$tlog" 'Elapsed (wall clock) time (h:mm:ss or m:ss)')")
  user=$(tv "$tlog" 'User time (seconds)') sys=$(tv "$tlog" 'System time (seconds)')
  rss=$(tv "$tlog" 'Maximum resident set size (kbytes)')
  bytes=$(find "$dir/tables" -name '*.seg' -printf '%s\n' | awk '{ s += $1 } END { print s }')
  segs=$(find "$dir/tables" -name '*.seg' | wc -l)
  results+=("$(awk -v n="$name" -v r="$rows" -v w="$wall" -v u="$user" -v s="$sys" -v m="$rss" \
    -v b="$bytes" -v g="$segs" 'BEGIN {
      printf "| %s | %.1f | %.0f | %.1f | %.0f | %.1f | %d | %.1f |", n, w, r / (w > 0 ? w : 0.01), u + s, r / (u + s > 0 ? u + s : 0.01), m / 1024, g, b / r }')")
  echo "$name: $(tail -1 "$work/run-$id.out")" >&2
}

dir="$work/ingest-$tag" zdir="$work/ingest-zst-$tag"
rm -rf "$dir" "$zdir"
timed "$dir" plain "spandb import, line protocol ($((ilp_bytes / 1000000)) MB)" \
  "$spandb" import --data "$dir" "$ilp"
timed "$dir" compact "spandb compact of that directory" "$spandb" compact --data "$dir"
du_compact=$(du -sb "$dir" | cut -f1)
timed "$zdir" zst "spandb import --compact, line protocol .zst ($((zst_bytes / 1000000)) MB)" \
  "$spandb" import --compact --data "$zdir" "$ilp.zst"
rm -rf "$zdir"
largest=$(ls -S "$dir"/tables/spans/*.seg | head -1)

duck_row="| DuckDB read_csv into a database file | - | - | - | - | - | - | - |"
duck_bytes=""
if [ -d "$root/benchmarks/duckdb/node_modules/@duckdb/node-api" ]; then
  [ -s "$csv" ] || "$spandb" "${gen[@]}" --format csv > "$csv"
  csv_bytes=$(stat -L -c %s "$csv")
  db="$work/ingest-duckdb-$tag.db"
  rm -f "$db" "$db.wal"
  /usr/bin/time -v -o "$work/time-duckdb.log" node "$root/benchmarks/duckdb/load.mjs" "$csv" "$db" 2 \
    > "$work/duckdb-load.json"
  wall=$(secs "$(tv "$work/time-duckdb.log" 'Elapsed (wall clock) time (h:mm:ss or m:ss)')")
  user=$(tv "$work/time-duckdb.log" 'User time (seconds)') sys=$(tv "$work/time-duckdb.log" 'System time (seconds)')
  rss=$(tv "$work/time-duckdb.log" 'Maximum resident set size (kbytes)')
  duck_bytes=$(stat -c %s "$db")
  duck_row=$(awk -v r="$rows" -v w="$wall" -v u="$user" -v s="$sys" -v m="$rss" -v b="$duck_bytes" \
    -v cb="$csv_bytes" 'BEGIN {
      printf "| DuckDB read_csv (%d MB CSV) into a database file, 2 threads | %.1f | %.0f | %.1f | %.0f | %.1f | - | %.1f |", cb / 1e6, w, r / w, u + s, r / (u + s), m / 1024, b / r }')
  [ "$keep" = 1 ] || rm -f "$db" "$db.wal"
fi

report() {
  echo "# Ingest and storage: $rows generated spans"
  echo
  echo "- $started; spandb $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?') (release build); $(nproc) x $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); load average $load0 at start, $(cut -d' ' -f1 /proc/loadavg) at end (shared machine)"
  echo "- data: \`spandb ${gen[*]}\` (line protocol), imported with \`spandb import --data DIR FILE\` (bulk: no WAL; segments as memtables flush), then \`spandb compact --data DIR\` (one segment per day); the .zst with \`spandb import --compact\` (both in one run)"
  echo "- rows/s = rows / wall time, end to end (read, decompress, parse, encode, write[, compact]); CPU s = user + system of all threads; RSS = peak resident set (GNU time); segments and bytes/span: the .seg files after the run"
  echo
  echo "| run | wall s | rows/s | CPU s | rows per CPU s | peak RSS MiB | segments | bytes/span on disk |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${results[@]}"
  echo "$duck_row"
  echo
  echo "| bytes per span | bytes | per span |"
  echo "|---|---:|---:|"
  awk -v r="$rows" -v n="line protocol (plain)" -v b="$ilp_bytes" 'BEGIN { printf "| %s | %.0f | %.1f |\n", n, b, b / r }'
  awk -v r="$rows" -v n="line protocol, zstd -3" -v b="$zst_bytes" 'BEGIN { printf "| %s | %.0f | %.1f |\n", n, b, b / r }'
  [ -n "${csv_bytes:-}" ] && awk -v r="$rows" -v n="CSV (plain)" -v b="$csv_bytes" 'BEGIN { printf "| %s | %.0f | %.1f |\n", n, b, b / r }'
  awk -v r="$rows" -v n="spandb data directory after compaction (du -sb)" -v b="$du_compact" 'BEGIN { printf "| %s | %.0f | %.1f |\n", n, b, b / r }'
  [ -n "$duck_bytes" ] && awk -v r="$rows" -v n="DuckDB database file" -v b="$duck_bytes" 'BEGIN { printf "| %s | %.0f | %.1f |\n", n, b, b / r }'
  echo
  echo "Bytes per span per column, largest segment ($(basename "$largest"), \`spandb inspect\`):"
  echo
  echo "| column | type | encodings | codecs | nulls | stored bytes | bytes/span | ratio |"
  echo "|---|---|---|---|---:|---:|---:|---:|"
  "$spandb" inspect "$largest" | awk '
    NR == 1 { rows = $2 }
    NR > 2 && $1 == "total" { printf "| total | | | | | %.0f | %.2f | %s |\n", $4, $4 / rows, $5 }
    NR > 2 && $1 != "total" && $1 !~ /^bytes/ && NF >= 10 {
      # column type blocks rows nulls ENC:N... CODEC:N... plain stored ratio min max
      i = 6; enc = ""; codecs = ""
      for (; $i ~ /:[0-9]+$/; i++) {
        if ($i ~ /^(none|zstd|lz4):/) codecs = codecs (codecs == "" ? "" : " ") $i
        else enc = enc (enc == "" ? "" : " ") $i
      }
      printf "| %s | %s | %s | %s | %s | %.0f | %.2f | %s |\n", $1, $2, enc, codecs, $5, $(i + 1), $(i + 1) / rows, $(i + 2) }'
}
if [ -n "$out" ]; then report | tee "$out"; else report; fi
[ "$keep" = 1 ] || rm -rf "$dir"
