#!/usr/bin/env bash
# The demo: installs what is missing, builds spandb (release), generates a week of realistic
# LLM spans, imports them, shows what the store holds, and answers the questions an LLM
# dashboard asks. DEMO_ROWS (default 500000) sets the size; the data directory is
# ./demo-data (removed first).
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

echo "== generating $rows LLM spans (one week, seed 1) and importing them"
$spandb gen --rows "$rows" --seed 1 --start 2026-01-01T00:00:00Z --days 7 | zstd -q -3 -T2 > "$data.ilp.zst"
ls -l "$data.ilp.zst" | awk '{printf "line protocol, zstd -3: %.1f MB (%.1f bytes/span)\n", $5/1e6, $5/'"$rows"'}'
$spandb import --data "$data" "$data.ilp.zst"
rm -f "$data.ilp.zst"

echo
echo "== the largest segment, column by column"
seg=$(ls -S "$data"/tables/spans/*.seg | head -1)
$spandb inspect "$seg"

echo
echo "== every checksum and block"
$spandb verify --data "$data" | tail -3

q() { echo; echo "-- $1"; $spandb query --data "$data" "$2"; }
echo
echo "== the dashboard"
q "latency percentiles by model (llm spans)" \
  "SELECT model, count(*) AS calls, round(p50(duration_ms), 1) AS p50_ms, round(p95(duration_ms), 1) AS p95_ms, round(p99(duration_ms), 1) AS p99_ms FROM spans WHERE span_kind = 'llm' GROUP BY model ORDER BY calls DESC"
q "cost by model and endpoint, top 10" \
  "SELECT model, endpoint, round(sum(cost_usd), 2) AS cost_usd, sum(input_tokens + output_tokens) AS tokens FROM spans WHERE cost_usd IS NOT NULL GROUP BY model, endpoint ORDER BY cost_usd DESC LIMIT 10"
q "errors and rate limits per day" \
  "SELECT date_trunc('day', time) AS day, count(*) AS spans, round(100.0 * count_if(status = 'error') / count(*), 2) AS error_pct, count_if(error_type = 'rate_limit') AS rate_limited FROM spans GROUP BY 1 ORDER BY 1"
q "hallucination and relevance by prompt version (A/B)" \
  "SELECT prompt_name, prompt_version, count(*) AS evaluated, round(avg(hallucination), 3) AS hallucination_rate, round(avg(relevance), 3) AS relevance FROM spans WHERE hallucination IS NOT NULL GROUP BY prompt_name, prompt_version ORDER BY prompt_name, prompt_version"
q "time to first token and output speed by model" \
  "SELECT model, round(p95(ttft_ms), 1) AS ttft_p95_ms, round(sum(output_tokens) / (sum(duration_ms - ttft_ms) / 1000), 1) AS tokens_per_s FROM spans WHERE span_kind = 'llm' AND ttft_ms IS NOT NULL GROUP BY model ORDER BY ttft_p95_ms"
q "top 5 users by cost on the busiest day" \
  "SELECT user_id, round(sum(cost_usd), 4) AS cost_usd, count(*) AS spans FROM spans WHERE time >= '2026-01-02' AND time < '2026-01-03' GROUP BY user_id ORDER BY cost_usd DESC LIMIT 5"
trace=$($spandb query --data "$data" --format csv "SELECT trace_id FROM spans WHERE span_kind = 'agent' LIMIT 1" | tail -1)
q "one trace, span by span" \
  "SELECT time, span_kind, name, model, round(duration_ms, 1) AS ms, status FROM spans WHERE trace_id = '$trace' ORDER BY time"
q "how that trace lookup ran" \
  "EXPLAIN SELECT * FROM spans WHERE trace_id = '$trace'"
