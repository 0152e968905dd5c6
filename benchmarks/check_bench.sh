#!/usr/bin/env bash
# Smoke test of `spandb bench` and of the dashboard benchmark's SQL: on a small generated
# data set every statement of benchmarks/sql/dashboard.sql must run, and bad input must give
# the documented errors. Registered as a meson test (benchmarks/meson.build); it times
# nothing. usage: check_bench.sh SPANDB DASHBOARD.sql
set -uo pipefail
spandb=$1 sql=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
# stderr of a command expected to fail (its exit status is not a pipeline's)
errout() { "$@" 2>&1 >/dev/null; true; }
check() { # description, condition result (0 ok)
  if [ "$2" -eq 0 ]; then echo "ok - $1"; else echo "FAIL - $1"; fail=1; fi
}

"$spandb" gen --rows 20000 --days 7 --seed 1 | "$spandb" import --data "$tmp/db" - > /dev/null 2>&1
check "import of generated spans" $?

n=$(grep -c '^-- name:' "$sql")
out=$("$spandb" bench --data "$tmp/db" --runs 1 --warmup 0 --format jsonl "$sql")
check "bench runs every dashboard statement" $?
[ "$(grep -c '"median_ms"' <<<"$out")" -eq "$n" ] && ! grep -q '"error"' <<<"$out"
check "one result per statement ($n), none failed" $?
grep -q '"name":"q02_latency_by_model".*"columns":\["model","calls","p50_ms","p95_ms","p99_ms"\]' <<<"$out"
check "names and columns of a statement" $?

table=$("$spandb" bench --data "$tmp/db" --runs 2 --query q01_count --query q11_one_trace "$sql")
check "table format with --query" $?
grep -q '^q01_count ' <<<"$table" && grep -q '^q11_one_trace ' <<<"$table" &&
  grep -q '(2 statements, 0 failed)' <<<"$table"
check "table lists the selected statements" $?

printf -- "-- name: ok\nSELECT 'a;b' AS s, count(*) FROM spans -- c;\n;\n\n-- name: bad\nSELECT nope FROM spans;\n" > "$tmp/t.sql"
err=$("$spandb" bench --data "$tmp/db" --runs 1 "$tmp/t.sql" 2>&1 >/dev/null)
rc=$?
[ $rc -eq 1 ] && grep -q "bad ($tmp/t.sql:6): unknown column 'nope'" <<<"$err"
check "a failing statement names file and line, exit 1" $?
ok=$("$spandb" bench --data "$tmp/db" --runs 1 --query ok --format jsonl "$tmp/t.sql")
grep -q '"name":"ok".*"result_rows":1,.*"rows":\[\["a;b",' <<<"$ok"
check "';' inside strings and comments does not split" $?

grep -q "no statement named 'zz'" <<<"$(errout "$spandb" bench --data "$tmp/db" --query zz "$tmp/t.sql")"
check "unknown --query is an error" $?
printf "SELECT 'abc" > "$tmp/u.sql"
grep -q "u.sql:1: unterminated string" <<<"$(errout "$spandb" bench --data "$tmp/db" "$tmp/u.sql")"
check "unterminated string is an error" $?
: > "$tmp/e.sql"
grep -q "no statements" <<<"$(errout "$spandb" bench --data "$tmp/db" "$tmp/e.sql")"
check "a file without statements is an error" $?
grep -q -- "--runs takes 1..1000" <<<"$(errout "$spandb" bench --data "$tmp/db" --runs 0 "$sql")"
check "--runs 0 is refused" $?
exit $fail
