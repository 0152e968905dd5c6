/* Differential test of the SQL engine against SQLite: 200k generated spans in a spandb
 * database (three daily partitions: 150k rows flushed to segments, 50k in the memtable) and
 * the same rows in SQLite; every query is written twice, in spandb SQL and in the equivalent
 * SQLite SQL, and the results must be identical (floats within 1e-9 relative). Then the
 * sketch quantiles and approx_count_distinct against exact answers, on the generated data
 * and on small adversarial tables. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/gen.h"
#include "tests/engine/difftest.h"
#include "tests/support/tmpdir.h"

TestSuite(diff, .init = tmpdir_setup, .fini = tmpdir_teardown, .timeout = 900);

#define ROWS 200000u
#define FLUSH_AT 150000u

/* Instants used below, as SQLite sees them (ns since the epoch). */
#define NS_0101_1200 "1767268800000000000"
#define NS_0102 "1767312000000000000"
#define NS_0102_0630 "1767335400000000000"
#define NS_0102_1200_5 "1767355200500000000"
#define NS_0103 "1767398400000000000"
#define NS_0101_0010 "1767226200000000000"
#define HOUR "3600000000000"
#define MIN15 "900000000000"
#define DAY "86400000000000"
#define MINUTE "60000000000"

typedef struct dq {
    const char *sdb;   /* spandb SQL */
    const char *lite;  /* the same question in SQLite SQL */
    bool ordered;      /* the query orders its rows completely: compare in order */
} dq;

static const dq queries[] = {
    /* ---- counts, metadata path, every type of filter ---- */
    {"SELECT count(*), count(duration_ms), count(model), min(duration_ms), max(time) FROM spans",
     "SELECT count(*), count(duration_ms), count(model), min(duration_ms), max(time) FROM spans",
     true},
    {"SELECT count(*), min(time), max(time), sum(input_tokens) FROM spans "
     "WHERE time >= '2026-01-02T00:00:00Z' AND time < '2026-01-02T06:30:00Z'",
     "SELECT count(*), min(time), max(time), sum(input_tokens) FROM spans "
     "WHERE time >= " NS_0102 " AND time < " NS_0102_0630, true},
    {"SELECT count(*), sum(duration_ms) FROM spans "
     "WHERE time BETWEEN '2026-01-01T12:00:00Z' AND '2026-01-02T12:00:00.5Z'",
     "SELECT count(*), sum(duration_ms) FROM spans "
     "WHERE time BETWEEN " NS_0101_1200 " AND " NS_0102_1200_5, true},
    {"SELECT count(*), min(time) FROM spans WHERE '2026-01-03' < time",
     "SELECT count(*), min(time) FROM spans WHERE " NS_0103 " < time", true},
    {"SELECT count(*), sum(input_tokens), sum(output_tokens) FROM spans "
     "WHERE input_tokens > 1000 AND output_tokens <= 200",
     "SELECT count(*), sum(input_tokens), sum(output_tokens) FROM spans "
     "WHERE input_tokens > 1000 AND output_tokens <= 200", true},
    {"SELECT count(*), sum(cost_usd), avg(duration_ms) FROM spans "
     "WHERE duration_ms >= 1500.5 AND cost_usd < 0.01 AND ttft_ms <> 200.0",
     "SELECT count(*), sum(cost_usd), avg(duration_ms) FROM spans "
     "WHERE duration_ms >= 1500.5 AND cost_usd < 0.01 AND ttft_ms <> 200.0", true},
    {"SELECT count(*), count(relevance), sum(relevance) FROM spans "
     "WHERE relevance BETWEEN 0.2 AND 0.4 OR faithfulness > 0.95",
     "SELECT count(*), count(relevance), sum(relevance) FROM spans "
     "WHERE relevance BETWEEN 0.2 AND 0.4 OR faithfulness > 0.95", true},
    {"SELECT count_if(hallucination), count_if(NOT hallucination), count(*) - count(hallucination), "
     "count_if(hallucination = true), count_if(hallucination IS NULL) FROM spans",
     "SELECT count(CASE WHEN hallucination THEN 1 END), count(CASE WHEN NOT hallucination THEN 1 END), "
     "count(*) - count(hallucination), count(CASE WHEN hallucination = 1 THEN 1 END), "
     "count(CASE WHEN hallucination IS NULL THEN 1 END) FROM spans", true},
    {"SELECT count(*) FROM spans WHERE hallucination AND model = 'gpt-4o'",
     "SELECT count(*) FROM spans WHERE hallucination AND model = 'gpt-4o'", true},
    {"SELECT count(*), sum(cost_usd) FROM spans WHERE model IN ('gpt-4o', 'gpt-4o-mini', 'nope')",
     "SELECT count(*), sum(cost_usd) FROM spans WHERE model IN ('gpt-4o', 'gpt-4o-mini', 'nope')",
     true},
    {"SELECT count(*) FROM spans WHERE model NOT IN ('gpt-4o', 'text-embedding-3-small')",
     "SELECT count(*) FROM spans WHERE model NOT IN ('gpt-4o', 'text-embedding-3-small')", true},
    /* NULL semantics: <> and NOT skip NULLs; NOT IN with a NULL in the list is never true */
    {"SELECT count(*) FROM spans WHERE model <> 'gpt-4o'",
     "SELECT count(*) FROM spans WHERE model <> 'gpt-4o'", true},
    {"SELECT count(*) FROM spans WHERE NOT (ttft_ms > 100 AND hallucination)",
     "SELECT count(*) FROM spans WHERE NOT (ttft_ms > 100 AND hallucination)", true},
    {"SELECT count(*) FROM spans WHERE ttft_ms > 1000 OR hallucination",
     "SELECT count(*) FROM spans WHERE ttft_ms > 1000 OR hallucination", true},
    {"SELECT count(*) FROM spans WHERE retries NOT IN (1, NULL)",
     "SELECT count(*) FROM spans WHERE retries NOT IN (1, NULL)", true},
    {"SELECT count(*) FROM spans WHERE retries IN (1, 2, NULL)",
     "SELECT count(*) FROM spans WHERE retries IN (1, 2, NULL)", true},
    {"SELECT count(*) FROM spans WHERE model IS NULL OR error_type IS NOT NULL",
     "SELECT count(*) FROM spans WHERE model IS NULL OR error_type IS NOT NULL", true},
    {"SELECT count(*), sum(input_tokens) FROM spans WHERE input_tokens NOT BETWEEN 100 AND 2000",
     "SELECT count(*), sum(input_tokens) FROM spans WHERE input_tokens NOT BETWEEN 100 AND 2000",
     true},
    /* strings and LIKE */
    {"SELECT count(*), min(trace_id), max(span_id) FROM spans WHERE trace_id LIKE 'c0%'",
     "SELECT count(*), min(trace_id), max(span_id) FROM spans WHERE trace_id LIKE 'c0%'", true},
    {"SELECT count(*) FROM spans WHERE span_id LIKE '%f_0%' AND session_id NOT LIKE 'sess_1%'",
     "SELECT count(*) FROM spans WHERE span_id LIKE '%f_0%' AND session_id NOT LIKE 'sess_1%'",
     true},
    {"SELECT name, count(*) FROM spans WHERE name ILIKE '%GPT-4O%' GROUP BY name",
     "SELECT name, count(*) FROM spans WHERE lower(name) LIKE '%gpt-4o%' GROUP BY name", false},
    {"SELECT count(*) FROM spans WHERE name LIKE 'Chat%' OR name LIKE 'chat_gpt%'",
     "SELECT count(*) FROM spans WHERE name LIKE 'Chat%' OR name LIKE 'chat_gpt%'", true},
    {"SELECT count(*), sum(cost_usd) FROM spans WHERE user_id IN ('user_007749', 'user_000042') "
     "OR user_id = 'user_000100'",
     "SELECT count(*), sum(cost_usd) FROM spans WHERE user_id IN ('user_007749', 'user_000042') "
     "OR user_id = 'user_000100'", true},
    {"SELECT count(*) FROM spans WHERE endpoint >= '/v1/chat' AND endpoint < '/v1/d'",
     "SELECT count(*) FROM spans WHERE endpoint >= '/v1/chat' AND endpoint < '/v1/d'", true},
    /* strings made from NULL rows (casts, coalesce, CASE) compared with string columns */
    {"SELECT count_if(model = span_id), count_if(model < user_id), "
     "count_if(coalesce(model, error_type) < user_id), count_if(CAST(ttft_ms AS string) = span_id), "
     "count_if(CASE WHEN retries > 0 THEN model END < session_id) FROM spans",
     "SELECT count(CASE WHEN model = span_id THEN 1 END), count(CASE WHEN model < user_id THEN 1 END), "
     "count(CASE WHEN coalesce(model, error_type) < user_id THEN 1 END), "
     "count(CASE WHEN CAST(ttft_ms AS TEXT) = span_id THEN 1 END), "
     "count(CASE WHEN CASE WHEN retries > 0 THEN model END < session_id THEN 1 END) FROM spans", true},
    /* ---- CASE, CAST, functions, arithmetic ---- */
    {"SELECT CASE WHEN duration_ms < 100 THEN 'fast' WHEN duration_ms < 1000 THEN 'mid' "
     "ELSE 'slow' END AS speed, count(*), sum(duration_ms) FROM spans GROUP BY 1",
     "SELECT CASE WHEN duration_ms < 100 THEN 'fast' WHEN duration_ms < 1000 THEN 'mid' "
     "ELSE 'slow' END AS speed, count(*), sum(duration_ms) FROM spans GROUP BY 1", false},
    {"SELECT sum(CASE status WHEN 'ok' THEN 1 WHEN 'error' THEN 0 END), "
     "count(CASE span_kind WHEN 'llm' THEN input_tokens END), "
     "sum(CASE WHEN retries > 0 THEN cost_usd ELSE 0.0 END) FROM spans",
     "SELECT sum(CASE status WHEN 'ok' THEN 1 WHEN 'error' THEN 0 END), "
     "count(CASE span_kind WHEN 'llm' THEN input_tokens END), "
     "sum(CASE WHEN retries > 0 THEN cost_usd ELSE 0.0 END) FROM spans", true},
    {"SELECT sum(CAST(duration_ms AS int64)), sum(CAST(hallucination AS int64)), "
     "count(CAST(input_tokens AS string)), sum(CAST(input_tokens AS float64)), "
     "max(CAST(retries AS string)), sum(CAST(-duration_ms AS bigint)) FROM spans",
     "SELECT sum(CAST(duration_ms AS INTEGER)), sum(CAST(hallucination AS INTEGER)), "
     "count(CAST(input_tokens AS TEXT)), sum(CAST(input_tokens AS REAL)), "
     "max(CAST(retries AS TEXT)), sum(CAST(-duration_ms AS INTEGER)) FROM spans", true},
    {"SELECT coalesce(model, 'none') AS m, count(*), "
     "sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)), "
     "sum(coalesce(ttft_ms, duration_ms, 0.0)) FROM spans GROUP BY m",
     "SELECT coalesce(model, 'none') AS m, count(*), "
     "sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)), "
     "sum(coalesce(ttft_ms, duration_ms, 0.0)) FROM spans GROUP BY m", false},
    {"SELECT sum(abs(feedback)), sum(abs(-duration_ms)), sum(round(duration_ms)), "
     "sum(round(duration_ms, 2)), sum(round(-ttft_ms, 1)), sum(round(relevance, 1)), sum(round(input_tokens)) FROM spans",
     "SELECT sum(abs(feedback)), sum(abs(-duration_ms)), sum(round(duration_ms)), "
     "sum(round(duration_ms, 2)), sum(round(-ttft_ms, 1)), sum(round(relevance, 1)), sum(round(input_tokens)) FROM spans",
     true},
    {"SELECT sum(input_tokens / 7), sum(input_tokens % 7), sum(-output_tokens * 3 + 1), "
     "sum(input_tokens / 7.0), sum((output_tokens - 300) / 7), sum((output_tokens - 300) % 7), "
     "count(input_tokens / retries), sum(input_tokens % -5), sum(duration_ms * 2 - ttft_ms / 3) "
     "FROM spans",
     "SELECT sum(input_tokens / 7), sum(input_tokens % 7), sum(-output_tokens * 3 + 1), "
     "sum(input_tokens / 7.0), sum((output_tokens - 300) / 7), sum((output_tokens - 300) % 7), "
     "count(input_tokens / retries), sum(input_tokens % -5), sum(duration_ms * 2 - ttft_ms / 3) "
     "FROM spans", true},
    /* ---- GROUP BY one and several keys ---- */
    {"SELECT model, count(*), sum(cost_usd), avg(duration_ms), min(duration_ms), max(duration_ms), "
     "sum(input_tokens), avg(output_tokens) FROM spans GROUP BY model",
     "SELECT model, count(*), sum(cost_usd), avg(duration_ms), min(duration_ms), max(duration_ms), "
     "sum(input_tokens), avg(output_tokens) FROM spans GROUP BY model", false},
    {"SELECT model, endpoint, count(*), sum(cost_usd) FROM spans GROUP BY model, endpoint",
     "SELECT model, endpoint, count(*), sum(cost_usd) FROM spans GROUP BY model, endpoint", false},
    {"SELECT service, span_kind, status, count(*), avg(duration_ms) FROM spans "
     "GROUP BY service, span_kind, status",
     "SELECT service, span_kind, status, count(*), avg(duration_ms) FROM spans "
     "GROUP BY service, span_kind, status", false},
    {"SELECT retries, feedback, count(*), sum(cost_usd) FROM spans GROUP BY retries, feedback",
     "SELECT retries, feedback, count(*), sum(cost_usd) FROM spans GROUP BY retries, feedback",
     false},
    {"SELECT hallucination, prompt_version, count(*), avg(relevance) FROM spans "
     "GROUP BY hallucination, prompt_version",
     "SELECT hallucination, prompt_version, count(*), avg(relevance) FROM spans "
     "GROUP BY hallucination, prompt_version", false},
    {"SELECT input_tokens / 1000 AS k, count(*), max(input_tokens) FROM spans GROUP BY k",
     "SELECT input_tokens / 1000 AS k, count(*), max(input_tokens) FROM spans GROUP BY k", false},
    {"SELECT user_id, count(*), sum(cost_usd) AS c FROM spans GROUP BY user_id "
     "ORDER BY c DESC, user_id LIMIT 10",
     "SELECT user_id, count(*), sum(cost_usd) AS c FROM spans GROUP BY user_id "
     "ORDER BY c DESC NULLS LAST, user_id LIMIT 10", true},
    {"SELECT session_id, count(*) AS n FROM spans GROUP BY session_id HAVING count(*) >= 20 "
     "ORDER BY n DESC, session_id LIMIT 25 OFFSET 3",
     "SELECT session_id, count(*) AS n FROM spans GROUP BY session_id HAVING count(*) >= 20 "
     "ORDER BY n DESC, session_id LIMIT 25 OFFSET 3", true},
    /* one string group key over dictionary-encoded blocks (block codes), memtable rows, NULL
       keys, and where clauses that keep only some rows of a block */
    {"SELECT user_id, count(*), sum(cost_usd), min(time), max(duration_ms) FROM spans "
     "GROUP BY user_id",
     "SELECT user_id, count(*), sum(cost_usd), min(time), max(duration_ms) FROM spans "
     "GROUP BY user_id", false},
    {"SELECT user_id, count(*), sum(cost_usd) FROM spans "
     "WHERE time >= '2026-01-02T06:30:00Z' AND time < '2026-01-03T00:00:00Z' GROUP BY user_id",
     "SELECT user_id, count(*), sum(cost_usd) FROM spans "
     "WHERE time >= " NS_0102_0630 " AND time < " NS_0103 " GROUP BY user_id", false},
    {"SELECT user_id, count(*), sum(input_tokens), count(DISTINCT model) FROM spans "
     "WHERE input_tokens > 1000 OR user_id IS NULL GROUP BY user_id",
     "SELECT user_id, count(*), sum(input_tokens), count(DISTINCT model) FROM spans "
     "WHERE input_tokens > 1000 OR user_id IS NULL GROUP BY user_id", false},
    {"SELECT session_id, count(*), avg(duration_ms) FROM spans WHERE status = 'error' "
     "GROUP BY session_id",
     "SELECT session_id, count(*), avg(duration_ms) FROM spans WHERE status = 'error' "
     "GROUP BY session_id", false},
    {"SELECT date_trunc('day', time) AS day, count(DISTINCT user_id), "
     "count(DISTINCT session_id), count(*) FROM spans GROUP BY 1",
     "SELECT (time / " DAY ") * " DAY " AS day, count(DISTINCT user_id), "
     "count(DISTINCT session_id), count(*) FROM spans GROUP BY 1", false},
    {"SELECT model, count(DISTINCT user_id) FROM spans WHERE input_tokens > 1000 GROUP BY model",
     "SELECT model, count(DISTINCT user_id) FROM spans WHERE input_tokens > 1000 GROUP BY model",
     false},
    {"SELECT user_id, count(*) FROM spans WHERE user_id IS NULL OR user_id < 'user_000100' "
     "GROUP BY user_id",
     "SELECT user_id, count(*) FROM spans WHERE user_id IS NULL OR user_id < 'user_000100' "
     "GROUP BY user_id", false},
    /* ---- time buckets ---- */
    {"SELECT time_bucket(INTERVAL '1 hour', time) AS h, count(*), count_if(status = 'error'), "
     "sum(cost_usd) FROM spans GROUP BY h ORDER BY h",
     "SELECT (time / " HOUR ") * " HOUR " AS h, count(*), count(CASE WHEN status = 'error' THEN 1 END), "
     "sum(cost_usd) FROM spans GROUP BY h ORDER BY h", true},
    {"SELECT time_bucket('15 minutes', time) AS b, model, count(*) FROM spans "
     "WHERE time < '2026-01-01T12:00:00Z' GROUP BY b, model",
     "SELECT (time / " MIN15 ") * " MIN15 " AS b, model, count(*) FROM spans "
     "WHERE time < " NS_0101_1200 " GROUP BY b, model", false},
    {"SELECT date_trunc('day', time) AS d, count(*), min(time), max(time) FROM spans GROUP BY d "
     "ORDER BY d DESC",
     "SELECT (time / " DAY ") * " DAY " AS d, count(*), min(time), max(time) FROM spans GROUP BY d "
     "ORDER BY d DESC", true},
    {"SELECT date_trunc('hour', time) AS h, provider, avg(duration_ms) FROM spans "
     "WHERE time >= '2026-01-02T18:00:00Z' GROUP BY h, provider",
     "SELECT (time / " HOUR ") * " HOUR " AS h, provider, avg(duration_ms) FROM spans "
     "WHERE time >= 1767376800000000000 GROUP BY h, provider", false},
    {"SELECT date_trunc('minute', time) AS m, count(*) FROM spans "
     "WHERE time < '2026-01-01T00:10:00Z' GROUP BY m ORDER BY m",
     "SELECT (time / " MINUTE ") * " MINUTE " AS m, count(*) FROM spans "
     "WHERE time < " NS_0101_0010 " GROUP BY m ORDER BY m", true},
    /* ---- HAVING ---- */
    {"SELECT model, count(*) AS n, avg(duration_ms) FROM spans GROUP BY model "
     "HAVING count(*) > 1000 AND avg(duration_ms) > 500",
     "SELECT model, count(*) AS n, avg(duration_ms) FROM spans GROUP BY model "
     "HAVING count(*) > 1000 AND avg(duration_ms) > 500", false},
    {"SELECT endpoint, sum(cost_usd) FROM spans GROUP BY endpoint HAVING sum(cost_usd) IS NULL "
     "OR max(duration_ms) > 60000",
     "SELECT endpoint, sum(cost_usd) FROM spans GROUP BY endpoint HAVING sum(cost_usd) IS NULL "
     "OR max(duration_ms) > 60000", false},
    /* ---- ORDER BY, LIMIT, OFFSET, NULL placement ---- */
    {"SELECT span_id, duration_ms FROM spans WHERE model = 'gpt-4o' "
     "ORDER BY duration_ms DESC, span_id LIMIT 20 OFFSET 5",
     "SELECT span_id, duration_ms FROM spans WHERE model = 'gpt-4o' "
     "ORDER BY duration_ms DESC, span_id LIMIT 20 OFFSET 5", true},
    {"SELECT span_id, ttft_ms FROM spans WHERE time < '2026-01-01T00:10:00Z' "
     "ORDER BY ttft_ms, span_id LIMIT 400",
     "SELECT span_id, ttft_ms FROM spans WHERE time < " NS_0101_0010 " "
     "ORDER BY ttft_ms NULLS LAST, span_id LIMIT 400", true},
    {"SELECT span_id, ttft_ms FROM spans WHERE time < '2026-01-01T00:10:00Z' "
     "ORDER BY ttft_ms DESC, span_id LIMIT 50 OFFSET 10",
     "SELECT span_id, ttft_ms FROM spans WHERE time < " NS_0101_0010 " "
     "ORDER BY ttft_ms DESC NULLS LAST, span_id LIMIT 50 OFFSET 10", true},
    {"SELECT span_id FROM spans WHERE span_kind = 'llm' "
     "ORDER BY input_tokens + output_tokens DESC, span_id LIMIT 10",
     "SELECT span_id FROM spans WHERE span_kind = 'llm' "
     "ORDER BY input_tokens + output_tokens DESC NULLS LAST, span_id LIMIT 10", true},
    {"SELECT provider, model, count(*) AS n FROM spans GROUP BY provider, model "
     "ORDER BY provider DESC, n, model",
     "SELECT provider, model, count(*) AS n FROM spans GROUP BY provider, model "
     "ORDER BY provider DESC NULLS LAST, n, model NULLS LAST", true},
    {"SELECT time, span_id, retries FROM spans WHERE time > '2026-01-03T23:59:00Z' "
     "ORDER BY time DESC, span_id",
     "SELECT time, span_id, retries FROM spans WHERE time > 1767484740000000000 "
     "ORDER BY time DESC, span_id", true},
    {"SELECT hallucination, count(*) FROM spans GROUP BY 1 ORDER BY 1 DESC",
     "SELECT hallucination, count(*) FROM spans GROUP BY 1 ORDER BY 1 DESC NULLS LAST", true},
    {"SELECT span_id FROM spans ORDER BY span_id LIMIT 0",
     "SELECT span_id FROM spans ORDER BY span_id LIMIT 0", true},
    {"SELECT model, count(*) FROM spans GROUP BY model ORDER BY model DESC LIMIT 5 OFFSET 100",
     "SELECT model, count(*) FROM spans GROUP BY model ORDER BY model DESC LIMIT 5 OFFSET 100", true},
    {"SELECT model, sum(cost_usd) / count(*) AS cpc, count(*) * 2 + 1, "
     "max(duration_ms) - min(duration_ms), max(time) - min(time) FROM spans GROUP BY model "
     "ORDER BY cpc DESC, model",
     "SELECT model, sum(cost_usd) / count(*) AS cpc, count(*) * 2 + 1, "
     "max(duration_ms) - min(duration_ms), max(time) - min(time) FROM spans GROUP BY model "
     "ORDER BY cpc DESC NULLS LAST, model NULLS LAST", true},
    {"SELECT count(*) FROM spans WHERE error_type NOT LIKE 'rate%' OR error_type ILIKE 'TIME%'",
     "SELECT count(*) FROM spans WHERE error_type NOT LIKE 'rate%' OR lower(error_type) LIKE 'time%'",
     true},
    /* ---- distinct counts, avg of bools, min/max of timestamps and strings ---- */
    {"SELECT count(model), count(DISTINCT model), count(DISTINCT user_id), "
     "count(DISTINCT input_tokens), count(DISTINCT hallucination), count(DISTINCT duration_ms) "
     "FROM spans",
     "SELECT count(model), count(DISTINCT model), count(DISTINCT user_id), "
     "count(DISTINCT input_tokens), count(DISTINCT hallucination), count(DISTINCT duration_ms) "
     "FROM spans", true},
    {"SELECT model, count(DISTINCT user_id), count(DISTINCT trace_id) FROM spans GROUP BY model",
     "SELECT model, count(DISTINCT user_id), count(DISTINCT trace_id) FROM spans GROUP BY model",
     false},
    {"SELECT model, prompt_version, avg(hallucination), count(hallucination) FROM spans "
     "WHERE span_kind = 'llm' GROUP BY model, prompt_version",
     "SELECT model, prompt_version, avg(hallucination), count(hallucination) FROM spans "
     "WHERE span_kind = 'llm' GROUP BY model, prompt_version", false},
    {"SELECT model, min(time), max(time), min(user_id), max(trace_id), min(endpoint), "
     "max(error_type) FROM spans GROUP BY model",
     "SELECT model, min(time), max(time), min(user_id), max(trace_id), min(endpoint), "
     "max(error_type) FROM spans GROUP BY model", false},
    /* ---- exact quantiles (reference: quantile_cont in C over SQLite's values) ---- */
    {"SELECT model, quantile_exact(duration_ms, 0), quantile_exact(duration_ms, 0.5), "
     "quantile_exact(duration_ms, 0.99), quantile_exact(duration_ms, 1) FROM spans GROUP BY model",
     "SELECT model, quantile_cont(duration_ms, 0), quantile_cont(duration_ms, 0.5), "
     "quantile_cont(duration_ms, 0.99), quantile_cont(duration_ms, 1) FROM spans GROUP BY model",
     false},
    {"SELECT quantile_exact(output_tokens, 0.5), quantile_exact(ttft_ms, 0.99), "
     "quantile_exact(time, 0.5), quantile_exact(cost_usd, 0.25) FROM spans",
     "SELECT quantile_cont(output_tokens, 0.5), quantile_cont(ttft_ms, 0.99), "
     "quantile_cont(time, 0.5), quantile_cont(cost_usd, 0.25) FROM spans", true},
    /* ---- empty inputs ---- */
    {"SELECT count(*), sum(cost_usd), avg(cost_usd), min(time), max(user_id), count_if(hallucination), "
     "quantile_exact(duration_ms, 0.5) FROM spans WHERE model = 'nope'",
     "SELECT count(*), sum(cost_usd), avg(cost_usd), min(time), max(user_id), "
     "count(CASE WHEN hallucination THEN 1 END), quantile_cont(duration_ms, 0.5) FROM spans "
     "WHERE model = 'nope'", true},
    {"SELECT model, count(*) FROM spans WHERE duration_ms < 0 GROUP BY model",
     "SELECT model, count(*) FROM spans WHERE duration_ms < 0 GROUP BY model", false},
    /* ---- SELECT without FROM ---- */
    {"SELECT 1 + 2 * 3, 7 / 2, -7 / 2, 7 % -3, -7 % 3, 7.0 / 2, 5 / 0, 5 % 0, abs(-4), round(2.5), "
     "round(-2.5), round(3.14159, 2), coalesce(NULL, 3), CASE WHEN 1 < 2 THEN 'y' ELSE 'n' END, "
     "CAST('42' AS int64), CAST(3.9 AS int64), CAST(-3.9 AS int64), NULL IS NULL, 1 IN (1, NULL), "
     "2 IN (1, NULL), 2 NOT IN (1, NULL), NOT (NULL AND false), NULL OR true, 2 BETWEEN 1 AND 3, "
     "round(1.005, 2), round(-2.675, 2), round(1234.5, -2)",
     "SELECT 1 + 2 * 3, 7 / 2, -7 / 2, 7 % -3, -7 % 3, 7.0 / 2, 5 / 0, 5 % 0, abs(-4), round(2.5), "
     "round(-2.5), round(3.14159, 2), coalesce(NULL, 3), CASE WHEN 1 < 2 THEN 'y' ELSE 'n' END, "
     "CAST('42' AS INTEGER), CAST(3.9 AS INTEGER), CAST(-3.9 AS INTEGER), NULL IS NULL, 1 IN (1, NULL), "
     "2 IN (1, NULL), 2 NOT IN (1, NULL), NOT (NULL AND 0), NULL OR 1, 2 BETWEEN 1 AND 3, "
     "round(1.005, 2), round(-2.675, 2), 1200.0", true},
    {"SELECT 'abc' LIKE 'a%', 'abc' LIKE 'A%', 'abc' ILIKE 'A_C', 'a%c' LIKE 'a\\%c', "
     "CASE 3 WHEN 1 THEN 'one' WHEN 3 THEN 'three' END, -(-9223372036854775807), 1e3 * 2",
     "SELECT 'abc' LIKE 'a%', 'abc' LIKE 'A%', lower('abc') LIKE lower('A_C'), "
     "'a%c' LIKE 'a\\%c' ESCAPE '\\', CASE 3 WHEN 1 THEN 'one' WHEN 3 THEN 'three' END, "
     "-(-9223372036854775807), 1e3 * 2", true},
    /* ---- dashboard questions (docs/sql.md) ---- */
    {"SELECT time_bucket(INTERVAL '1 hour', time) AS hour, count(*) AS requests, "
     "avg(status = 'error') AS error_rate FROM spans "
     "WHERE time > now() - INTERVAL '24 hours' AND span_kind = 'llm' GROUP BY hour ORDER BY hour",
     "SELECT (time / " HOUR ") * " HOUR " AS hour, count(*) AS requests, "
     "avg(status = 'error') AS error_rate FROM spans "
     "WHERE time > " NS_0103 " AND span_kind = 'llm' GROUP BY hour ORDER BY hour", true},
    {"SELECT model, count_if(error_type = 'rate_limit') AS limited, count(*) AS calls, "
     "avg(error_type = 'rate_limit') FROM spans WHERE span_kind = 'llm' "
     "AND time >= now() - INTERVAL '7 days' GROUP BY model ORDER BY limited DESC, model",
     "SELECT model, count(CASE WHEN error_type = 'rate_limit' THEN 1 END) AS limited, "
     "count(*) AS calls, avg(error_type = 'rate_limit') FROM spans WHERE span_kind = 'llm' "
     "GROUP BY model ORDER BY limited DESC, model NULLS LAST", true},
    {"SELECT model, quantile_exact(ttft_ms, 0.95), "
     "sum(output_tokens) / sum((duration_ms - ttft_ms) / 1000) AS tokens_per_s FROM spans "
     "WHERE span_kind = 'llm' GROUP BY model",
     "SELECT model, quantile_cont(ttft_ms, 0.95), "
     "sum(output_tokens) / sum((duration_ms - ttft_ms) / 1000) AS tokens_per_s FROM spans "
     "WHERE span_kind = 'llm' GROUP BY model", false},
};

#define NQUERIES (sizeof queries / sizeof queries[0])

/* Compare one query; on failure print it and the first differing row. */
static bool check_query(const dt_fixture *f, const dq *q, size_t qi)
{
    dt_rows a, b;
    sdb_err err;
    char msg[512];
    bool good = true;
    if (!dt_run_spandb(f->db, q->sdb, &a, &err)) {
        cr_log_error("query %zu failed in spandb: %s\n  %s", qi, err.msg, q->sdb);
        return false;
    }
    if (!dt_run_sqlite(f->lite, q->lite, &b, msg, sizeof msg)) {
        cr_log_error("query %zu failed in sqlite: %s\n  %s", qi, msg, q->lite);
        dt_rows_free(&a);
        return false;
    }
    if (a.ncols != b.ncols || a.nrows != b.nrows) {
        cr_log_error("query %zu: spandb gives %llu rows x %u columns, sqlite %llu x %u\n  %s", qi,
                     (unsigned long long)a.nrows, a.ncols, (unsigned long long)b.nrows, b.ncols,
                     q->sdb);
        good = false;
    }
    if (good && !q->ordered) {
        dt_rows_sort(&a);
        dt_rows_sort(&b);
    }
    for (uint64_t r = 0; good && r < a.nrows; r++)
        for (uint32_t c = 0; c < a.ncols; c++) {
            const dt_cell *x = &a.cells[r * a.ncols + c], *y = &b.cells[r * b.ncols + c];
            if (!dt_cell_eq(x, y, 1e-9)) {
                char row_a[1024] = "", row_b[1024] = "";
                size_t na = 0, nb = 0;
                for (uint32_t k = 0; k < a.ncols; k++) {
                    char s[256];
                    dt_cell_fmt(&a.cells[r * a.ncols + k], s, sizeof s);
                    na += (size_t)snprintf(row_a + na, sizeof row_a - (na < sizeof row_a ? na : sizeof row_a), "%s%s", k ? " | " : "", s);
                    dt_cell_fmt(&b.cells[r * b.ncols + k], s, sizeof s);
                    nb += (size_t)snprintf(row_b + nb, sizeof row_b - (nb < sizeof row_b ? nb : sizeof row_b), "%s%s", k ? " | " : "", s);
                    if (na >= sizeof row_a || nb >= sizeof row_b)
                        break;
                }
                cr_log_error("query %zu: row %llu column %u differs\n  %s\n  spandb: %s\n  sqlite: %s",
                             qi, (unsigned long long)r, c + 1, q->sdb, row_a, row_b);
                good = false;
                break;
            }
        }
    dt_rows_free(&a);
    dt_rows_free(&b);
    return good;
}

/* Blocks of 8,192 rows: many blocks, so min/max pruning has something to do. */
Test(diff, queries_match_sqlite)
{
    dt_fixture f;
    size_t failed = 0;
    sdb_db_stats st;
    dt_fixture_build(&f, ROWS, FLUSH_AT, 8192);
    sdb_db_get_stats(f.db, &st);
    cr_assert_gt(st.segments, 1, "the flush should leave segments in several partitions");
    cr_assert_eq(st.memtable_rows, ROWS - FLUSH_AT);
    cr_assert_geq(NQUERIES, 40);
    for (size_t i = 0; i < NQUERIES; i++)
        if (!check_query(&f, &queries[i], i))
            failed++;
    cr_expect_eq(failed, 0, "%zu of %zu queries differ from sqlite", failed, NQUERIES);
    dt_fixture_free(&f);
}

/* exec.h: results, float sums and the row order of unordered queries included, do not
 * depend on the thread count. */
Test(diff, results_independent_of_threads)
{
    dt_fixture f;
    dt_fixture_build(&f, ROWS, FLUSH_AT, 8192);
    for (size_t i = 0; i < NQUERIES; i++) {
        dt_rows a, b;
        sdb_err err;
        cr_assert(dt_run_spandb_threads(f.db, queries[i].sdb, 1, &a, &err), "%s", err.msg);
        cr_assert(dt_run_spandb_threads(f.db, queries[i].sdb, 3, &b, &err), "%s", err.msg);
        cr_assert_eq(a.nrows, b.nrows, "query %zu", i);
        for (uint64_t k = 0; k < a.nrows * a.ncols; k++)
            cr_assert(dt_cell_eq(&a.cells[k], &b.cells[k], 0), "query %zu: cell %llu differs "
                      "between 1 and 3 threads\n  %s", i, (unsigned long long)k, queries[i].sdb);
        dt_rows_free(&a);
        dt_rows_free(&b);
    }
    dt_fixture_free(&f);
}

/* Odd sizes everywhere: blocks of 1,000 rows and a flush after 123,457, so vectors end
 * inside validity words and blocks (a sanitizer build checks nothing is read past them). */
Test(diff, queries_match_sqlite_odd_blocks)
{
    dt_fixture f;
    size_t failed = 0;
    dt_fixture_build(&f, ROWS, 123457, 1000);
    for (size_t i = 0; i < NQUERIES; i++)
        if (!check_query(&f, &queries[i], i))
            failed++;
    cr_expect_eq(failed, 0, "%zu of %zu queries differ from sqlite", failed, NQUERIES);
    dt_fixture_free(&f);
}

/* Regression: a batch that only partly fits the growing memtable chunk was appended whole to
 * it and again to the next chunk (70,000 rows written in batches of 10,000 read as 80,000). */
Test(diff, memtable_batches_across_chunks_counted_once)
{
    dt_fixture f;
    dt_rows a;
    sdb_err err;
    dt_fixture_build(&f, 70000, 70000 + 1, 8192);
    cr_assert(dt_run_spandb(f.db, "SELECT count(*), count(DISTINCT span_id) FROM spans", &a, &err),
              "%s", err.msg);
    cr_assert_eq(a.cells[0].i, 70000);
    cr_assert_eq(a.cells[1].i, 70000);
    dt_rows_free(&a);
    dt_fixture_free(&f);
}

/* ---- sketch quantiles against exact ones ---- */

static const double levels[] = {0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1};
#define NLEVELS (sizeof levels / sizeof levels[0])

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The documented contract: quantile(x, q) is within 1% of x_r, r = floor(q (n - 1)), of the
 * sorted non-NULL values. Returns the worst relative error seen. */
static double check_sketch(const char *what, const double *sorted, size_t n, const dt_cell *est,
                           uint32_t nest, const double *qs)
{
    double worst = 0;
    for (uint32_t i = 0; i < nest; i++) {
        size_t r = (size_t)floor(qs[i] * (double)(n - 1));
        double want = sorted[r], got = est[i].k == DT_INT ? (double)est[i].i : est[i].d;
        double err = want == 0 ? fabs(got) : fabs(got - want) / fabs(want);
        cr_assert_neq(est[i].k, DT_NULL, "%s: quantile(%g) is NULL", what, qs[i]);
        cr_expect_leq(err, 0.01, "%s: quantile(%g) = %.17g, exact x[%zu] = %.17g (error %g)",
                      what, qs[i], got, r, want, err);
        if (err > worst)
            worst = err;
    }
    return worst;
}

/* Values of col for rows with model = m (NULL: model IS NULL), sorted, from SQLite. */
static double *lite_values(sqlite3 *lite, const char *col, const char *model, size_t *n)
{
    char sql[256];
    sqlite3_stmt *st;
    size_t cap = 1024;
    double *v = malloc(cap * sizeof *v);
    snprintf(sql, sizeof sql, "SELECT %s FROM spans WHERE model IS ? AND %s IS NOT NULL ORDER BY 1",
             col, col);
    cr_assert_eq(sqlite3_prepare_v2(lite, sql, -1, &st, NULL), SQLITE_OK);
    if (model != NULL)
        sqlite3_bind_text(st, 1, model, -1, SQLITE_TRANSIENT);
    *n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (*n == cap)
            v = realloc(v, (cap *= 2) * sizeof *v);
        cr_assert(v != NULL);
        v[(*n)++] = sqlite3_column_double(st, 0);
    }
    sqlite3_finalize(st);
    return v;
}

Test(diff, sketch_quantiles_within_1pct_by_model)
{
    static const char *cols[] = {"duration_ms", "ttft_ms", "cost_usd", "input_tokens", "output_tokens"};
    dt_fixture f;
    double worst = 0;
    dt_fixture_build(&f, ROWS, FLUSH_AT, 8192);
    for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++) {
        char sql[1024];
        size_t k = (size_t)snprintf(sql, sizeof sql, "SELECT model");
        dt_rows a;
        sdb_err err;
        double qs[NLEVELS + 5];
        uint32_t nq = 0;
        for (size_t i = 0; i < NLEVELS; i++) {
            k += (size_t)snprintf(sql + k, sizeof sql - k, ", quantile(%s, %g)", cols[c], levels[i]);
            qs[nq++] = levels[i];
        }
        k += (size_t)snprintf(sql + k, sizeof sql - k,
                              ", p50(%s), p90(%s), p95(%s), p99(%s), p999(%s) FROM spans GROUP BY model",
                              cols[c], cols[c], cols[c], cols[c], cols[c]);
        qs[nq++] = 0.5, qs[nq++] = 0.9, qs[nq++] = 0.95, qs[nq++] = 0.99, qs[nq++] = 0.999;
        cr_assert(dt_run_spandb(f.db, sql, &a, &err), "%s", err.msg);
        cr_assert_gt(a.nrows, 5);
        for (uint64_t r = 0; r < a.nrows; r++) {
            const dt_cell *row = &a.cells[r * a.ncols];
            size_t n;
            double *v = lite_values(f.lite, cols[c], row[0].k == DT_NULL ? NULL : row[0].s, &n);
            char what[160];
            double w;
            snprintf(what, sizeof what, "%s of model %s (%zu values)", cols[c],
                     row[0].k == DT_NULL ? "NULL" : row[0].s, n);
            if (n == 0) {
                for (uint32_t i = 0; i < nq; i++)
                    cr_expect_eq(row[1 + i].k, DT_NULL, "%s: quantile of no values", what);
            } else if ((w = check_sketch(what, v, n, row + 1, nq, qs)) > worst) {
                worst = w;
            }
            free(v);
        }
        dt_rows_free(&a);
    }
    cr_log_info("worst sketch relative error on generated data: %g", worst);
    dt_fixture_free(&f);
}

/* A table of one float64 column v (and time), for adversarial inputs. */
static void write_values(sdb_db *db, const char *table, const double *v, size_t n)
{
    sdb_batch b;
    sdb_err err;
    int it, iv;
    sdb_batch_init(&b);
    cr_assert_eq(sdb_batch_add(&b, "time", 4, SDB_TYPE_TIMESTAMP, &it, &err), SDB_OK);
    cr_assert_eq(sdb_batch_add(&b, "v", 1, SDB_TYPE_FLOAT64, &iv, &err), SDB_OK);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(sdb_column_push_i64(&b.cols[it], 1767225600000000000LL + (int64_t)i * 1000, &err), SDB_OK);
        cr_assert_eq(sdb_column_push_f64(&b.cols[iv], v[i], &err), SDB_OK);
        b.nrows++;
    }
    cr_assert_eq(sdb_db_write(db, table, &b, &err), SDB_OK, "%s", err.msg);
    sdb_batch_free(&b);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static double urand(void) /* (0, 1) */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return ((double)(rng_state >> 11) + 0.5) / 9007199254740992.0;
}

Test(diff, sketch_quantiles_within_1pct_adversarial)
{
    enum { N = 20000 };
    static const char *names[] = {"all_equal", "bimodal", "wide_range", "negatives", "mixed_signs",
                                  "zeros_and_positives", "all_zeros", "single_row", "heavy_tail",
                                  "tiny_and_huge", "shuffled_ints"};
    const size_t ncase = sizeof names / sizeof names[0];
    double *v = malloc(N * sizeof *v), *s = malloc(N * sizeof *s);
    char dir[4096];
    sdb_db_opts o;
    sdb_db *db;
    sdb_err err;
    sdb_db_opts_default(&o);
    o.sync = SDB_SYNC_NONE;
    o.seg.no_sync = true;
    cr_assert(v != NULL && s != NULL);
    tmpdir_path(dir, sizeof dir, "adv");
    cr_assert_eq(sdb_db_open(dir, &o, &db, NULL, &err), SDB_OK, "%s", err.msg);
    for (size_t c = 0; c < ncase; c++) {
        size_t n = N;
        char sql[2048];
        size_t k;
        dt_rows a;
        for (size_t i = 0; i < N; i++) {
            double u = urand();
            switch (c) {
            case 0: v[i] = 42.5; break;
            case 1: v[i] = i % 2 ? 1.0 + u * 1e-3 : 1e6 * (1.0 + u * 1e-3); break;
            case 2: v[i] = pow(10.0, -6.0 + 15.0 * u); break;         /* 1e-6 .. 1e9 */
            case 3: v[i] = -pow(10.0, -3.0 + 6.0 * u); break;         /* -1e3 .. -1e-3 */
            case 4: v[i] = (i % 3 ? 1 : -1) * pow(10.0, -2.0 + 6.0 * u); break;
            case 5: v[i] = i % 10 < 3 ? 0.0 : 1e-3 + u * 100; break;
            case 6: v[i] = 0.0; break;
            case 7: v[i] = 123.456; n = 1; break;
            case 8: v[i] = 1.0 / pow(u, 1.0 / 1.1); break;            /* Pareto, alpha 1.1 */
            case 9: v[i] = i % 2 ? 1e-6 * (1 + u) : 1e9 * (1 + u); break;
            case 10: v[i] = (double)((i * 7919u) % N); break;
            }
        }
        write_values(db, names[c], v, n);
        memcpy(s, v, n * sizeof *s);
        qsort(s, n, sizeof *s, cmp_d);
        k = (size_t)snprintf(sql, sizeof sql, "SELECT count(v)");
        for (size_t i = 0; i < NLEVELS; i++)
            k += (size_t)snprintf(sql + k, sizeof sql - k, ", quantile(v, %g)", levels[i]);
        snprintf(sql + k, sizeof sql - k, " FROM %s", names[c]);
        cr_assert(dt_run_spandb(db, sql, &a, &err), "%s: %s", names[c], err.msg);
        cr_assert_eq(a.cells[0].i, (int64_t)n, "%s", names[c]);
        check_sketch(names[c], s, n, a.cells + 1, NLEVELS, levels);
        dt_rows_free(&a);
    }
    /* the sketch is mergeable: after a flush, segment and memtable partials agree as well */
    cr_assert_eq(sdb_db_flush(db, "wide_range", &err), SDB_OK, "%s", err.msg);
    {
        dt_rows a;
        for (size_t i = 0; i < N; i++)
            v[i] = pow(10.0, -6.0 + 15.0 * urand());
        write_values(db, "wide_range", v, N);
        cr_assert(dt_run_spandb(db, "SELECT count(v), quantile(v, 0), quantile(v, 0.5), "
                                "quantile(v, 0.99), quantile(v, 1) FROM wide_range", &a, &err),
                  "%s", err.msg);
        cr_assert_eq(a.cells[0].i, 2 * N);
        dt_rows_free(&a);
    }
    sdb_db_close(db, &err);
    free(v);
    free(s);
}

/* approx_count_distinct: HyperLogLog with 1.6% standard error; allowed 3 standard errors
 * (4.9%), and exact-ish (within 1%) below a few hundred distinct values. */
Test(diff, approx_count_distinct_within_documented_error)
{
    dt_fixture f;
    dt_rows a, b;
    sdb_err err;
    char msg[256];
    dt_fixture_build(&f, ROWS, FLUSH_AT, 8192);
    cr_assert(dt_run_spandb(f.db,
                            "SELECT model, approx_count_distinct(user_id), approx_count_distinct(span_id), "
                            "approx_count_distinct(trace_id), approx_count_distinct(input_tokens), "
                            "approx_count_distinct(duration_ms), approx_count_distinct(endpoint) "
                            "FROM spans GROUP BY model", &a, &err), "%s", err.msg);
    cr_assert(dt_run_sqlite(f.lite,
                            "SELECT model, count(DISTINCT user_id), count(DISTINCT span_id), "
                            "count(DISTINCT trace_id), count(DISTINCT input_tokens), "
                            "count(DISTINCT duration_ms), count(DISTINCT endpoint) "
                            "FROM spans GROUP BY model", &b, msg, sizeof msg), "%s", msg);
    dt_rows_sort(&a);
    dt_rows_sort(&b);
    cr_assert_eq(a.nrows, b.nrows);
    for (uint64_t r = 0; r < a.nrows; r++)
        for (uint32_t c = 1; c < a.ncols; c++) {
            double est = (double)a.cells[r * a.ncols + c].i, exact = (double)b.cells[r * b.ncols + c].i;
            double tol = exact < 300 ? 0.01 : 3 * 0.016;
            cr_expect_leq(fabs(est - exact), tol * exact + (exact < 300 ? 1 : 0),
                          "model %s column %u: approx %g, exact %g",
                          a.cells[r * a.ncols].k == DT_NULL ? "NULL" : a.cells[r * a.ncols].s, c,
                          est, exact);
        }
    dt_rows_free(&a);
    dt_rows_free(&b);
    dt_fixture_free(&f);
}

/* ---- random predicates ---- */

typedef struct qbuf {
    char a[4096]; /* spandb */
    char b[4096]; /* sqlite */
    size_t na, nb;
} qbuf;

static void qcat(qbuf *q, const char *sa, const char *sb)
{
    q->na += (size_t)snprintf(q->a + q->na, q->na < sizeof q->a ? sizeof q->a - q->na : 0, "%s", sa);
    q->nb += (size_t)snprintf(q->b + q->nb, q->nb < sizeof q->b ? sizeof q->b - q->nb : 0, "%s", sb);
}

static uint32_t rnd(uint32_t n)
{
    return (uint32_t)(urand() * n) % n;
}

static void atom(qbuf *q)
{
    static const char *ops[] = {"=", "<>", "<", "<=", ">", ">="};
    static const char *num_cols[] = {"duration_ms", "ttft_ms", "cost_usd", "relevance",
                                     "input_tokens", "output_tokens", "retries", "feedback"};
    static const double num_scale[] = {5000, 1500, 0.01, 1, 3000, 600, 3, 2};
    static const char *sym_cols[] = {"model", "endpoint", "status", "error_type", "span_kind",
                                     "provider", "prompt_version"};
    static const char *sym_vals[] = {"'gpt-4o'", "'gpt-4o-mini'", "'ok'", "'error'", "'llm'",
                                     "'rate_limit'", "'openai'", "'v1'", "'v2'", "'/v1/chat'",
                                     "'nope'", "''"};
    static const char *likes[] = {"'gpt%'", "'%mini'", "'cl_ude%'", "'%o%'", "'_'", "'%'",
                                  "'v_'", "'%-4%'", "'GPT%'"};
    char sa[512], sb[512];
    const char *op = ops[rnd(6)];
    switch (rnd(12)) {
    case 0: case 1: { /* number <op> constant */
        uint32_t c = rnd(8);
        bool is_int = c >= 4;
        if (is_int)
            snprintf(sa, sizeof sa, "%s %s %d", num_cols[c], op, (int)(urand() * num_scale[c]) - (c == 7));
        else
            snprintf(sa, sizeof sa, "%s %s %.4f", num_cols[c], op, urand() * num_scale[c]);
        qcat(q, sa, sa);
        break;
    }
    case 2: { /* arithmetic */
        int k = 2 + (int)rnd(9);
        snprintf(sa, sizeof sa, "((input_tokens + output_tokens) %% %d %s %d", k, op, (int)rnd((uint32_t)k));
        qcat(q, sa, sa);
        snprintf(sa, sizeof sa, " OR input_tokens / %d %s %d)", k, op, (int)rnd(300));
        qcat(q, sa, sa);
        break;
    }
    case 3:
        snprintf(sa, sizeof sa, "duration_ms * %d %s ttft_ms + %d", 1 + (int)rnd(3), op, (int)rnd(2000));
        qcat(q, sa, sa);
        break;
    case 4: { /* symbol = const / IN */
        uint32_t c = rnd(7);
        if (rnd(2)) {
            snprintf(sa, sizeof sa, "%s %s %s", sym_cols[c], rnd(2) ? "=" : "<>", sym_vals[rnd(12)]);
        } else {
            snprintf(sa, sizeof sa, "%s %sIN (%s, %s%s)", sym_cols[c], rnd(2) ? "NOT " : "",
                     sym_vals[rnd(12)], sym_vals[rnd(12)], rnd(4) ? "" : ", NULL");
        }
        qcat(q, sa, sa);
        break;
    }
    case 5: { /* LIKE / ILIKE */
        uint32_t c = rnd(7), p = rnd(9);
        bool neg = rnd(2), ci = rnd(3) == 0;
        if (ci) {
            snprintf(sa, sizeof sa, "%s %sILIKE %s", sym_cols[c], neg ? "NOT " : "", likes[p]);
            snprintf(sb, sizeof sb, "lower(%s) %sLIKE lower(%s)", sym_cols[c], neg ? "NOT " : "", likes[p]);
        } else {
            snprintf(sa, sizeof sa, "%s %sLIKE %s", sym_cols[c], neg ? "NOT " : "", likes[p]);
            snprintf(sb, sizeof sb, "%s", sa);
        }
        qcat(q, sa, sb);
        break;
    }
    case 6: { /* time */
        int64_t t = 1767225600000000000LL + (int64_t)(urand() * 3.1 * 86400e9);
        char iso[32];
        sdb_gen_format_time(t, iso);
        snprintf(sa, sizeof sa, "time %s '%s'", op, iso);
        snprintf(sb, sizeof sb, "time %s %lld", op, (long long)t);
        qcat(q, sa, sb);
        break;
    }
    case 7: { /* bools */
        static const char *bs[] = {"hallucination", "NOT hallucination", "hallucination = true",
                                   "hallucination <> false", "hallucination IS NULL"};
        static const char *bl[] = {"hallucination", "NOT hallucination", "hallucination = 1",
                                   "hallucination <> 0", "hallucination IS NULL"};
        uint32_t k = rnd(5);
        qcat(q, bs[k], bl[k]);
        break;
    }
    case 8: { /* NULL tests */
        static const char *cs[] = {"model", "ttft_ms", "user_id", "retries", "error_type", "relevance"};
        snprintf(sa, sizeof sa, "%s IS %sNULL", cs[rnd(6)], rnd(2) ? "NOT " : "");
        qcat(q, sa, sa);
        break;
    }
    case 9: { /* strings */
        static const char *ss[] = {"user_id", "trace_id", "span_id", "session_id", "parent_span_id"};
        static const char *sv[] = {"'user_05'", "'8'", "'c'", "'sess_7'", "''", "'f0'"};
        if (rnd(2))
            snprintf(sa, sizeof sa, "%s %s %s", ss[rnd(5)], op, sv[rnd(6)]);
        else
            snprintf(sa, sizeof sa, "%s LIKE '%%%c%c%%'", ss[rnd(5)], "0123456789abcdef"[rnd(16)],
                     "0123456789abcdef"[rnd(16)]);
        qcat(q, sa, sa);
        break;
    }
    case 10: { /* BETWEEN */
        uint32_t c = rnd(8);
        double lo = urand() * num_scale[c], hi = lo + urand() * num_scale[c];
        if (c >= 4)
            snprintf(sa, sizeof sa, "%s %sBETWEEN %d AND %d", num_cols[c], rnd(2) ? "NOT " : "", (int)lo, (int)hi);
        else
            snprintf(sa, sizeof sa, "%s %sBETWEEN %.4f AND %.4f", num_cols[c], rnd(2) ? "NOT " : "", lo, hi);
        qcat(q, sa, sa);
        break;
    }
    default: { /* CASE and coalesce */
        snprintf(sa, sizeof sa, "CASE WHEN retries > %d THEN cost_usd ELSE coalesce(ttft_ms, -1.0) END %s %.3f",
                 (int)rnd(2), op, urand() * 500);
        qcat(q, sa, sa);
        break;
    }
    }
}

static void pred(qbuf *q, int depth)
{
    uint32_t k = depth > 0 ? rnd(5) : 0;
    if (k <= 1) {
        atom(q);
    } else if (k == 2) {
        qcat(q, "NOT (", "NOT (");
        pred(q, depth - 1);
        qcat(q, ")", ")");
    } else {
        qcat(q, "(", "(");
        pred(q, depth - 1);
        qcat(q, k == 3 ? " AND " : " OR ", k == 3 ? " AND " : " OR ");
        pred(q, depth - 1);
        qcat(q, ")", ")");
    }
}

/* 300 random WHERE clauses (depth 3 of AND / OR / NOT over comparisons of every type,
 * arithmetic, IN, BETWEEN, LIKE, ILIKE, IS NULL, CASE, coalesce), a third of them grouped.
 * DT_SHOW=1 logs the first ones; DT_RANDOM_SEED and DT_RANDOM_N pick other queries. */
Test(diff, random_predicates_match_sqlite)
{
    static const char *keys[] = {"model", "status", "span_kind, status", "retries", "hallucination"};
    dt_fixture f;
    size_t failed = 0;
    size_t nq = 300;
    dt_fixture_build(&f, ROWS, FLUSH_AT, 8192);
    rng_state = 0x243f6a8885a308d3ULL;
    if (getenv("DT_RANDOM_SEED") != NULL) /* for bug hunts: another seed, more queries */
        rng_state = strtoull(getenv("DT_RANDOM_SEED"), NULL, 0) | 1;
    if (getenv("DT_RANDOM_N") != NULL)
        nq = strtoull(getenv("DT_RANDOM_N"), NULL, 0);
    for (size_t i = 0; i < nq; i++) {
        qbuf w;
        dq q;
        char sa[8192], sb[8192];
        memset(&w, 0, sizeof w);
        pred(&w, 3);
        if (i % 3 == 0) {
            const char *k = keys[rnd(5)];
            snprintf(sa, sizeof sa, "SELECT %s, count(*), sum(input_tokens), count(model) FROM spans "
                     "WHERE %s GROUP BY %s", k, w.a, k);
            snprintf(sb, sizeof sb, "SELECT %s, count(*), sum(input_tokens), count(model) FROM spans "
                     "WHERE %s GROUP BY %s", k, w.b, k);
        } else {
            snprintf(sa, sizeof sa, "SELECT count(*), sum(input_tokens), min(span_id) FROM spans WHERE %s", w.a);
            snprintf(sb, sizeof sb, "SELECT count(*), sum(input_tokens), min(span_id) FROM spans WHERE %s", w.b);
        }
        q.sdb = sa;
        q.lite = sb;
        q.ordered = i % 3 != 0;
        if (getenv("DT_SHOW") != NULL && i < 12)
            cr_log_info("%s", sa);
        if (!check_query(&f, &q, 1000 + i))
            failed++;
    }
    cr_expect_eq(failed, 0, "%zu of %zu random queries differ from sqlite", failed, nq);
    dt_fixture_free(&f);
}

/* Random aggregate lists over random group keys (symbols, strings, ints, bools, time
 * buckets, expressions) under random predicates, optionally with HAVING and a full ORDER BY
 * with LIMIT / OFFSET. DT_RANDOM_SEED and DT_RANDOM_N as above. */
Test(diff, random_aggregates_match_sqlite)
{
    static const char *keys_s[] = {"model", "endpoint, status", "retries", "hallucination",
                                   "time_bucket(INTERVAL '6 hours', time)", "date_trunc('day', time)",
                                   "input_tokens / 500", "prompt_name, prompt_version",
                                   "CASE WHEN duration_ms > 1000 THEN 'slow' ELSE 'fast' END",
                                   "coalesce(error_type, status)", "feedback, span_kind"};
    static const char *keys_l[] = {"model", "endpoint, status", "retries", "hallucination",
                                   "(time / 21600000000000) * 21600000000000", "(time / 86400000000000) * 86400000000000",
                                   "input_tokens / 500", "prompt_name, prompt_version",
                                   "CASE WHEN duration_ms > 1000 THEN 'slow' ELSE 'fast' END",
                                   "coalesce(error_type, status)", "feedback, span_kind"};
    static const unsigned nkeycols[] = {1, 2, 1, 1, 1, 1, 1, 2, 1, 1, 2};
    static const char *aggs_s[] = {"count(*)", "count(ttft_ms)", "count(DISTINCT user_id)", "sum(cost_usd)",
                                   "sum(output_tokens)", "avg(duration_ms)", "avg(hallucination)",
                                   "min(time)", "max(span_id)", "min(model)", "max(relevance)",
                                   "count_if(status = 'error')", "quantile_exact(duration_ms, 0.9)",
                                   "sum(input_tokens % 10)", "max(duration_ms) - min(ttft_ms)",
                                   "count(DISTINCT endpoint)", "avg(retries * 1.5)"};
    static const char *aggs_l[] = {"count(*)", "count(ttft_ms)", "count(DISTINCT user_id)", "sum(cost_usd)",
                                   "sum(output_tokens)", "avg(duration_ms)", "avg(hallucination)",
                                   "min(time)", "max(span_id)", "min(model)", "max(relevance)",
                                   "count(CASE WHEN status = 'error' THEN 1 END)", "quantile_cont(duration_ms, 0.9)",
                                   "sum(input_tokens % 10)", "max(duration_ms) - min(ttft_ms)",
                                   "count(DISTINCT endpoint)", "avg(retries * 1.5)"};
    const size_t nkeys = sizeof keys_s / sizeof keys_s[0], naggs = sizeof aggs_s / sizeof aggs_s[0];
    dt_fixture f;
    size_t failed = 0, nq = 120;
    dt_fixture_build(&f, ROWS, FLUSH_AT, 8192);
    rng_state = 0x13198a2e03707344ULL;
    if (getenv("DT_RANDOM_SEED") != NULL)
        rng_state = strtoull(getenv("DT_RANDOM_SEED"), NULL, 0) | 1;
    if (getenv("DT_RANDOM_N") != NULL)
        nq = strtoull(getenv("DT_RANDOM_N"), NULL, 0);
    for (size_t i = 0; i < nq; i++) {
        qbuf w;
        dq q;
        char sa[8192], sb[8192];
        size_t ka, kb, ki = rnd((uint32_t)nkeys), na = 1 + rnd(4);
        bool order = rnd(2);
        memset(&w, 0, sizeof w);
        pred(&w, 2);
        ka = (size_t)snprintf(sa, sizeof sa, "SELECT %s", keys_s[ki]);
        kb = (size_t)snprintf(sb, sizeof sb, "SELECT %s", keys_l[ki]);
        for (size_t a = 0; a < na; a++) {
            uint32_t g = rnd((uint32_t)naggs);
            ka += (size_t)snprintf(sa + ka, sizeof sa - ka, ", %s", aggs_s[g]);
            kb += (size_t)snprintf(sb + kb, sizeof sb - kb, ", %s", aggs_l[g]);
        }
        ka += (size_t)snprintf(sa + ka, sizeof sa - ka, " FROM spans WHERE %s GROUP BY %s", w.a, keys_s[ki]);
        kb += (size_t)snprintf(sb + kb, sizeof sb - kb, " FROM spans WHERE %s GROUP BY %s", w.b, keys_l[ki]);
        if (rnd(3) == 0) {
            int n = (int)rnd(50);
            ka += (size_t)snprintf(sa + ka, sizeof sa - ka, " HAVING count(*) > %d", n);
            kb += (size_t)snprintf(sb + kb, sizeof sb - kb, " HAVING count(*) > %d", n);
        }
        if (order) {
            /* the group keys order the groups completely (NULLs last ascending) */
            bool desc = rnd(2);
            ka += (size_t)snprintf(sa + ka, sizeof sa - ka, " ORDER BY 1%s", desc ? " DESC" : "");
            kb += (size_t)snprintf(sb + kb, sizeof sb - kb, " ORDER BY 1%s", desc ? " DESC NULLS LAST" : " NULLS LAST");
            if (nkeycols[ki] == 2) {
                ka += (size_t)snprintf(sa + ka, sizeof sa - ka, ", 2");
                kb += (size_t)snprintf(sb + kb, sizeof sb - kb, ", 2 NULLS LAST");
            }
            if (rnd(2)) {
                int l = 1 + (int)rnd(10), o = (int)rnd(5);
                ka += (size_t)snprintf(sa + ka, sizeof sa - ka, " LIMIT %d OFFSET %d", l, o);
                kb += (size_t)snprintf(sb + kb, sizeof sb - kb, " LIMIT %d OFFSET %d", l, o);
            }
        }
        q.sdb = sa;
        q.lite = sb;
        q.ordered = order;
        if (getenv("DT_SHOW") != NULL && i < 12)
            cr_log_info("%s", sa);
        if (!check_query(&f, &q, 5000 + i))
            failed++;
    }
    cr_expect_eq(failed, 0, "%zu of %zu random aggregate queries differ from sqlite", failed, nq);
    dt_fixture_free(&f);
}
