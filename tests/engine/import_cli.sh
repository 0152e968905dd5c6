#!/usr/bin/env bash
# `spandb import` from the command line on real exported traces (the library is tested in
# test_import.c): formats detected by content, spans and scores written, a re-import adds
# nothing, a broken record is reported as file:line and makes the exit status 1.
# usage: import_cli.sh SPANDB CORPUS_DIR
set -uo pipefail
spandb=$1 corpus=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if [ "$2" -eq 0 ]; then echo "ok - $1"; else echo "FAIL - $1"; fail=1; fi; }
count() { "$spandb" query --data "$tmp/db" --format csv "SELECT count(*) FROM $1" | tail -1; }

files=("$corpus/otlp/otel-proto_examples_trace.json"
       "$corpus/otlp/derived_vercel-ai-sdk-v6.otlp.jsonl"
       "$corpus/langfuse/framework-traces/claude-agent-2025-12-22.trace.json"
       "$corpus/langsmith/langsmith_py_wrap_openai_.json")
"$spandb" import --data "$tmp/db" "${files[@]}" > "$tmp/out" 2>&1
check "four formats import with no rejected record" $?
spans=$(count spans)
[ "$spans" -ge 18 ]
check "spans of every file are there ($spans)" $?
[ "$(count scores)" -eq 3 ]
check "the Langfuse trace's 3 scores are in table scores" $?

"$spandb" import --data "$tmp/db" "${files[@]}" > "$tmp/again" 2>&1
check "a re-import succeeds" $?
[ "$(count spans)" -eq "$spans" ] && grep -q "duplicate spans skipped" "$tmp/again"
check "a re-import adds no span" $?

printf '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"ok","startTimeUnixNano":"1767225600000000000","endTimeUnixNano":"1767225601000000000"}]}]}]}\n{"resourceSpans": [ broken\n' > "$tmp/bad.jsonl"
"$spandb" import --data "$tmp/db" "$tmp/bad.jsonl" > "$tmp/bad.out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "bad.jsonl:2:" "$tmp/bad.out"
check "a broken record is reported as file:line, exit status 1" $?
[ "$(count spans)" -eq $((spans + 1)) ]
check "the good record of that file is kept" $?
# Phoenix: the evaluations file is read first whatever the order on the command line
printf '%s\n' '{"context.span_id":"ph01","context.trace_id":"pt1","name":"chat","span_kind":"LLM","start_time":"2026-07-09T00:00:05+00:00","end_time":"2026-07-09T00:00:06+00:00","status_code":"OK"}' \
    '{"context.span_id":"ph02","context.trace_id":"pt1","name":"chat","span_kind":"LLM","start_time":"2026-07-09T00:00:07+00:00","end_time":"2026-07-09T00:00:08+00:00","status_code":"OK"}' > "$tmp/spans.jsonl"
printf '%s\n' '{"span_id":"ph01","annotation_name":"hallucination","result.label":"hallucinated","result.score":1.0,"created_at":"2026-07-09T01:00:00+00:00"}' \
    '{"span_id":"ph02","annotation_name":"hallucination","result.label":"factual","result.score":0.0,"created_at":"2026-07-09T01:00:00+00:00"}' > "$tmp/evals.jsonl"
"$spandb" import --data "$tmp/ph" "$tmp/spans.jsonl" "$tmp/evals.jsonl" > "$tmp/ph.out" 2>&1
check "Phoenix spans then evaluations on the command line import" $?
q() { "$spandb" query --data "$tmp/ph" --format csv "$1" | tail -1; }
[ "$(q "SELECT hallucination FROM spans WHERE span_id = 'ph01'")" = true ] &&
    [ "$(q "SELECT hallucination FROM spans WHERE span_id = 'ph02'")" = false ]
check "the evaluations reach the spans' hallucination column" $?
[ "$(q "SELECT count(*) FROM scores WHERE name = 'hallucination'")" -eq 2 ]
check "the evaluations are in table scores too" $?
# files that are not regular (a pipe) are read once, from their start
"$spandb" import --data "$tmp/pipe" "$tmp/spans.jsonl" <(cat "${files[1]}") > "$tmp/pipe.out" 2>&1
check "a pipe among several files imports with no rejected record" $?
[ "$("$spandb" query --data "$tmp/pipe" --format csv "SELECT count(*) FROM spans" | tail -1)" -eq 12 ]
check "every span of the piped file is there" $?
exit $fail
