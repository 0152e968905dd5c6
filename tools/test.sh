#!/usr/bin/env bash
# Installs what is missing, builds spandb with AddressSanitizer and UBSan, runs every test,
# then runs each libFuzzer harness briefly (FUZZ_SECONDS each, default 20) with clang.
# Ends with one line: "spandb tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh test || exit 1

fuzz_seconds=${FUZZ_SECONDS:-20}
passed=0
failed=0

setup() { # dir, meson args...
  local dir=$1
  shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@" >/dev/null
  fi
}

# 1. The release build must compile too (-O3 finds warnings -O2 does not).
setup build-release -Dbuildtype=release -Dtests=disabled || exit 1
ninja -C build-release tools/spandb >/dev/null || { ninja -C build-release tools/spandb; exit 1; }

# 2. Unit, integration and replay tests under ASan + UBSan.
setup build-san -Dbuildtype=debugoptimized -Db_sanitize=address,undefined || exit 1
ninja -C build-san || exit 1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
log=$(mktemp)
meson test -C build-san --print-errorlogs --num-processes 2 2>&1 | tee "$log"
ok=$(grep -E '^Ok:' "$log" | awk '{print $2}')
bad=$(grep -E '^(Fail|Timeout|Unexpected Pass):' "$log" | awk '{s+=$NF} END {print s+0}')
passed=$((passed + ${ok:-0}))
failed=$((failed + ${bad:-0}))
[ -n "$ok" ] || failed=$((failed + 1))
rm -f "$log"

# 3. A short libFuzzer run of every harness (clang only).
if command -v clang >/dev/null && [ "$fuzz_seconds" -gt 0 ]; then
  CC=clang setup build-fuzz -Dfuzz=true -Dtests=disabled -Dbuildtype=debugoptimized \
    -Db_sanitize=address,undefined -Db_lundef=false || exit 1
  ninja -C build-fuzz || exit 1
  for f in build-fuzz/tests/fuzz/fuzz_*; do
    [ -f "$f" ] && [ -x "$f" ] || continue
    name=$(basename "$f")
    name=${name#fuzz_}
    work=$(mktemp -d)
    [ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$work/"
    echo "fuzz $name: ${fuzz_seconds}s"
    if "$f" -max_total_time="$fuzz_seconds" -rss_limit_mb=2048 -timeout=10 \
        -artifact_prefix="$work/" -print_final_stats=0 "$work" >"$work.log" 2>&1; then
      passed=$((passed + 1))
      echo "fuzz $name: ok ($(grep -c . "$work.log" || true) log lines)"
    else
      failed=$((failed + 1))
      echo "fuzz $name: FAILED"
      tail -40 "$work.log"
      ls "$work" | grep -E '^(crash|leak|timeout|oom)-' | head -3
    fi
    rm -rf "$work" "$work.log"
  done
fi

echo "spandb tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
