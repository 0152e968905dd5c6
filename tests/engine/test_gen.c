/* The span generator and its writers: determinism across chunkings, distributions, trace
 * structure, exact cost and exact text round trips (CSV, ILP), OTLP/JSON validity (python3)
 * and a CSV load into SQLite (sqlite3 CLI) when those tools are present. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/gen.h"
#include "storage/common/timefmt.h"
#include "engine/spans.h"
#include "tests/support/tmpdir.h"

TestSuite(gen, .init = tmpdir_setup, .fini = tmpdir_teardown, .timeout = 120);

static sdb_gen *make_gen(uint64_t rows, uint64_t seed, uint32_t days)
{
    sdb_gen_opts o;
    sdb_gen *g = NULL;
    sdb_err err;
    sdb_gen_opts_default(&o);
    o.rows = rows;
    o.seed = seed;
    o.days = days;
    cr_assert_eq(sdb_gen_create(&o, &g, &err), SDB_OK, "%s", err.msg);
    return g;
}

/* All rows of a generator in one batch, fetched in chunks of the given sizes (cycled). */
static void gen_all(sdb_batch *b, uint64_t rows, uint64_t seed, const uint64_t *chunks,
                    size_t nchunks)
{
    sdb_gen *g = make_gen(rows, seed, 1);
    sdb_err err;
    uint64_t added;
    size_t i = 0;
    sdb_batch_init(b);
    do {
        cr_assert_eq(sdb_gen_next(g, chunks[i++ % nchunks], b, &added, &err), SDB_OK, "%s",
                     err.msg);
    } while (added > 0);
    cr_assert_eq(b->nrows, rows);
    cr_assert_eq(sdb_gen_remaining(g), 0);
    sdb_gen_destroy(g);
}

static const sdb_column *col(const sdb_batch *b, int canon)
{
    int i = sdb_batch_find(b, sdb_spans_cols[canon].name, strlen(sdb_spans_cols[canon].name));
    cr_assert_geq(i, 0, "column %s missing", sdb_spans_cols[canon].name);
    return &b->cols[i];
}

static bool sym_eq(const sdb_column *c, uint64_t r, const char *s)
{
    uint32_t len;
    const char *v;
    if (!sdb_column_valid(c, r))
        return false;
    v = sdb_column_str(c, r, &len);
    return len == strlen(s) && memcmp(v, s, len) == 0;
}

static char *ilp_text(const sdb_batch *b, size_t *len)
{
    sdb_buf out = SDB_BUF_INIT;
    sdb_err err;
    cr_assert_eq(sdb_gen_write_ilp(b, &out, &err), SDB_OK, "%s", err.msg);
    *len = out.len;
    return (char *)out.data;
}

Test(gen, same_seed_any_chunking_gives_same_bytes)
{
    static const uint64_t one[] = {20000}, odd[] = {1, 3, 977, 4096, 2};
    sdb_batch a, b, c;
    size_t la, lb, lc;
    char *ta, *tb, *tc;
    gen_all(&a, 20000, 42, one, 1);
    gen_all(&b, 20000, 42, odd, 5);
    gen_all(&c, 20000, 43, one, 1);
    ta = ilp_text(&a, &la);
    tb = ilp_text(&b, &lb);
    tc = ilp_text(&c, &lc);
    cr_assert_eq(la, lb);
    cr_assert(memcmp(ta, tb, la) == 0, "chunked output differs");
    cr_assert(la != lc || memcmp(ta, tc, la) != 0, "another seed gave the same output");
    free(ta);
    free(tb);
    free(tc);
    sdb_batch_free(&a);
    sdb_batch_free(&b);
    sdb_batch_free(&c);
}

Test(gen, distributions_are_realistic)
{
    static const uint64_t chunk[] = {8192};
    sdb_batch b;
    size_t nmodels;
    const sdb_gen_model *models = sdb_gen_models(&nmodels);
    uint64_t per_model[32] = {0}, llm = 0, errors = 0, rate_limits = 0, hour[24] = {0};
    uint64_t retried = 0, evaluated = 0, feedback = 0;
    gen_all(&b, 200000, 7, chunk, 1);
    const sdb_column *kind = col(&b, SDB_SPANS_SPAN_KIND), *model = col(&b, SDB_SPANS_MODEL);
    const sdb_column *status = col(&b, SDB_SPANS_STATUS), *et = col(&b, SDB_SPANS_ERROR_TYPE);
    const sdb_column *time = col(&b, SDB_SPANS_TIME), *retries = col(&b, SDB_SPANS_RETRIES);
    const sdb_column *rel = col(&b, SDB_SPANS_RELEVANCE), *fb = col(&b, SDB_SPANS_FEEDBACK);
    for (uint64_t r = 0; r < b.nrows; r++) {
        int64_t t = time->v.i64[r] - SDB_GEN_DEFAULT_START_NS;
        cr_assert(t >= 0 && t < 86400LL * 1000000000LL, "row %llu outside the day",
                  (unsigned long long)r);
        hour[t / 3600000000000LL]++;
        if (r > 0)
            cr_assert_geq(time->v.i64[r], time->v.i64[r - 1], "row %llu out of order",
                          (unsigned long long)r);
        if (sym_eq(status, r, "error")) {
            errors++;
            rate_limits += sym_eq(et, r, "rate_limit");
        }
        if (sym_eq(kind, r, "llm")) {
            uint32_t len;
            const char *m = sdb_column_str(model, r, &len);
            llm++;
            for (size_t i = 0; i < nmodels; i++)
                if (strlen(models[i].name) == len && memcmp(models[i].name, m, len) == 0)
                    per_model[i]++;
            retried += retries->v.i64[r] > 0;
            evaluated += sdb_column_valid(rel, r);
        }
        feedback += sdb_column_valid(fb, r);
    }
    /* a Zipf-like mix: the first model leads, every chat model appears */
    for (size_t i = 0; i < nmodels; i++) {
        if (models[i].embedding)
            continue;
        cr_assert_gt(per_model[i], 100, "model %s is (almost) absent", models[i].name);
        cr_assert_geq(per_model[0], per_model[i]);
    }
    cr_assert_gt(per_model[0], llm / 5);
    cr_assert_gt(llm, b.nrows / 5);
    /* errors at a few percent, a good share of them rate limits */
    cr_assert(errors > b.nrows / 100 && errors < b.nrows / 15, "errors %llu",
              (unsigned long long)errors);
    cr_assert(rate_limits > errors / 10 && rate_limits < errors / 2, "rate limits %llu of %llu",
              (unsigned long long)rate_limits, (unsigned long long)errors);
    cr_assert(retried > llm / 100 && retried < llm / 5);
    cr_assert(evaluated > llm / 10 && evaluated < llm / 2);
    cr_assert(feedback > 0 && feedback < b.nrows / 20);
    /* diurnal: the afternoon is busier than the night */
    cr_assert_gt(hour[13] + hour[14], 2 * (hour[3] + hour[4]));
    sdb_batch_free(&b);
}

Test(gen, prompt_versions_differ_for_ab_queries)
{
    static const uint64_t chunk[] = {8192};
    sdb_batch b;
    /* per version of assistant-chat (v1 older, v2 newer): spans, evaluated, hallucinated,
     * relevance sum, duration sum of successful spans */
    double n[2] = {0}, ev[2] = {0}, hal[2] = {0}, rel[2] = {0}, dur[2] = {0}, ok[2] = {0};
    gen_all(&b, 200000, 17, chunk, 1);
    const sdb_column *pn = col(&b, SDB_SPANS_PROMPT_NAME), *pv = col(&b, SDB_SPANS_PROMPT_VERSION);
    const sdb_column *h = col(&b, SDB_SPANS_HALLUCINATION), *r = col(&b, SDB_SPANS_RELEVANCE);
    const sdb_column *d = col(&b, SDB_SPANS_DURATION_MS), *st = col(&b, SDB_SPANS_STATUS);
    for (uint64_t i = 0; i < b.nrows; i++) {
        int v;
        if (!sym_eq(pn, i, "assistant-chat"))
            continue;
        v = sym_eq(pv, i, "v2");
        cr_assert(v || sym_eq(pv, i, "v1"));
        n[v]++;
        if (sdb_column_valid(h, i)) {
            ev[v]++;
            hal[v] += h->v.b8[i];
            rel[v] += r->v.f64[i];
        }
        if (sym_eq(st, i, "ok")) {
            ok[v]++;
            dur[v] += d->v.f64[i];
        }
    }
    cr_assert(n[0] > 5000 && n[1] > 5000, "%g %g", n[0], n[1]);
    cr_assert_lt(hal[1] / ev[1] * 1.4, hal[0] / ev[0], "hallucination v1 %g v2 %g",
                 hal[0] / ev[0], hal[1] / ev[1]);
    cr_assert_gt(rel[1] / ev[1], rel[0] / ev[0] + 0.04);
    cr_assert_lt(dur[1] / ok[1], dur[0] / ok[0]);
    sdb_batch_free(&b);
}

static bool is_hex(const char *s, uint32_t len, uint32_t want)
{
    if (len != want)
        return false;
    for (uint32_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

typedef struct id_row {
    char id[17];
    uint64_t row;
} id_row;

static int id_cmp(const void *a, const void *b)
{
    return strcmp(((const id_row *)a)->id, ((const id_row *)b)->id);
}

Test(gen, nulls_follow_span_kind_and_traces_are_well_formed)
{
    static const uint64_t chunk[] = {5000};
    sdb_batch b;
    id_row *ids;
    uint64_t roots = 0;
    gen_all(&b, 60000, 3, chunk, 1);
    const sdb_column *kind = col(&b, SDB_SPANS_SPAN_KIND), *trace = col(&b, SDB_SPANS_TRACE_ID);
    const sdb_column *span = col(&b, SDB_SPANS_SPAN_ID), *parent = col(&b, SDB_SPANS_PARENT_SPAN_ID);
    const sdb_column *time = col(&b, SDB_SPANS_TIME), *dur = col(&b, SDB_SPANS_DURATION_MS);
    ids = calloc(b.nrows, sizeof *ids);
    cr_assert_not_null(ids);
    for (uint64_t r = 0; r < b.nrows; r++) {
        bool is_llm = sym_eq(kind, r, "llm"), is_emb = sym_eq(kind, r, "embedding");
        bool ok = sym_eq(col(&b, SDB_SPANS_STATUS), r, "ok");
        uint32_t len;
        const char *s;
        cr_assert(sdb_column_valid(kind, r) && sdb_column_valid(time, r) &&
                  sdb_column_valid(dur, r) && sdb_column_valid(col(&b, SDB_SPANS_SERVICE), r) &&
                  sdb_column_valid(col(&b, SDB_SPANS_PROJECT), r) &&
                  sdb_column_valid(col(&b, SDB_SPANS_ENDPOINT), r));
        cr_assert_eq(sdb_column_valid(col(&b, SDB_SPANS_TTFT_MS), r), is_llm && ok);
        cr_assert_eq(sdb_column_valid(col(&b, SDB_SPANS_MODEL), r), is_llm || is_emb);
        cr_assert_eq(sdb_column_valid(col(&b, SDB_SPANS_PROVIDER), r), is_llm || is_emb);
        cr_assert_eq(sdb_column_valid(col(&b, SDB_SPANS_INPUT_TOKENS), r), (is_llm || is_emb) && ok);
        cr_assert_eq(sdb_column_valid(col(&b, SDB_SPANS_COST_USD), r), (is_llm || is_emb) && ok);
        cr_assert_eq(sdb_column_valid(col(&b, SDB_SPANS_ERROR_TYPE), r), !ok);
        if (!is_llm) {
            cr_assert(!sdb_column_valid(col(&b, SDB_SPANS_PROMPT_NAME), r));
            cr_assert(!sdb_column_valid(col(&b, SDB_SPANS_HALLUCINATION), r));
            cr_assert(!sdb_column_valid(col(&b, SDB_SPANS_RELEVANCE), r));
            cr_assert(!sdb_column_valid(col(&b, SDB_SPANS_FEEDBACK), r));
        }
        if (sdb_column_valid(col(&b, SDB_SPANS_TTFT_MS), r))
            cr_assert_leq(col(&b, SDB_SPANS_TTFT_MS)->v.f64[r], dur->v.f64[r]);
        s = sdb_column_str(trace, r, &len);
        cr_assert(is_hex(s, len, 32), "trace id %.*s", (int)len, s);
        s = sdb_column_str(span, r, &len);
        cr_assert(is_hex(s, len, 16), "span id %.*s", (int)len, s);
        memcpy(ids[r].id, s, 16);
        ids[r].row = r;
        if (!sdb_column_valid(parent, r)) {
            roots++;
            cr_assert(sym_eq(kind, r, "chain") || sym_eq(kind, r, "agent"));
        }
    }
    cr_assert_gt(roots, b.nrows / 8);
    qsort(ids, b.nrows, sizeof *ids, id_cmp);
    for (uint64_t r = 0; r < b.nrows; r++) {
        id_row key, *hit;
        uint32_t len, tl1, tl2;
        const char *s, *t1, *t2;
        uint64_t p;
        if (!sdb_column_valid(parent, r))
            continue;
        s = sdb_column_str(parent, r, &len);
        cr_assert(is_hex(s, len, 16));
        memcpy(key.id, s, 16);
        key.id[16] = '\0';
        hit = bsearch(&key, ids, b.nrows, sizeof *ids, id_cmp);
        cr_assert_not_null(hit, "row %llu: parent %s not in the output", (unsigned long long)r,
                           key.id);
        p = hit->row;
        cr_assert_lt(p, r, "a parent comes before its child");
        t1 = sdb_column_str(trace, r, &tl1);
        t2 = sdb_column_str(trace, p, &tl2);
        cr_assert(tl1 == tl2 && memcmp(t1, t2, tl1) == 0, "parent in another trace");
        cr_assert_geq(time->v.i64[r], time->v.i64[p]);
        /* the child ends within its parent (durations are whole microseconds) */
        cr_assert_leq(llround(dur->v.f64[r] * 1000) * 1000 + time->v.i64[r],
                      llround(dur->v.f64[p] * 1000) * 1000 + time->v.i64[p]);
    }
    free(ids);
    sdb_batch_free(&b);
}

Test(gen, cost_is_tokens_times_price_exactly)
{
    static const uint64_t chunk[] = {10000};
    sdb_batch b;
    uint64_t checked = 0;
    gen_all(&b, 30000, 11, chunk, 1);
    const sdb_column *model = col(&b, SDB_SPANS_MODEL), *cost = col(&b, SDB_SPANS_COST_USD);
    const sdb_column *in = col(&b, SDB_SPANS_INPUT_TOKENS), *out = col(&b, SDB_SPANS_OUTPUT_TOKENS);
    for (uint64_t r = 0; r < b.nrows; r++) {
        uint32_t len;
        const char *m;
        const sdb_gen_model *gm;
        if (!sdb_column_valid(cost, r))
            continue;
        m = sdb_column_str(model, r, &len);
        gm = sdb_gen_model_find(m, len);
        cr_assert_not_null(gm);
        int64_t units = in->v.i64[r] * gm->price_in + out->v.i64[r] * gm->price_out;
        cr_assert(cost->v.f64[r] == (double)units / 1e10, "row %llu: %.12f", (unsigned long long)r,
                  cost->v.f64[r]);
        checked++;
    }
    cr_assert_gt(checked, 1000);
    /* prices come from the langfuse table: gpt-4o is $2.50 / $10 per million tokens */
    const sdb_gen_model *g4 = sdb_gen_model_find("gpt-4o", 6);
    cr_assert_not_null(g4);
    cr_assert_eq(g4->price_in, 25000);
    cr_assert_eq(g4->price_out, 100000);
    sdb_batch_free(&b);
}

/* Split a CSV line without quotes into cells. */
static size_t split(char *line, char **cells, size_t max)
{
    size_t n = 0;
    cells[n++] = line;
    for (char *p = line; *p; p++)
        if (*p == ',' && n < max) {
            *p = '\0';
            cells[n++] = p + 1;
        }
    return n;
}

Test(gen, csv_reads_back_to_the_same_values)
{
    static const uint64_t chunk[] = {3000};
    sdb_batch b;
    sdb_buf out = SDB_BUF_INIT;
    sdb_err err;
    char *save = NULL, *line;
    uint64_t r = 0;
    gen_all(&b, 3000, 5, chunk, 1);
    cr_assert_eq(sdb_gen_write_csv_header(&b, &out, &err), SDB_OK);
    cr_assert_eq(sdb_gen_write_csv(&b, &out, &err), SDB_OK);
    cr_assert_eq(sdb_buf_append(&out, "", 1, &err), SDB_OK);
    line = strtok_r((char *)out.data, "\n", &save);
    cr_assert_not_null(line);
    cr_assert_str_eq(line, "time,duration_ms,ttft_ms,trace_id,span_id,parent_span_id,name,"
                           "span_kind,service,project,model,provider,endpoint,status,error_type,"
                           "input_tokens,output_tokens,cost_usd,retries,prompt_name,"
                           "prompt_version,session_id,user_id,hallucination,relevance,"
                           "faithfulness,feedback");
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        char *cells[64];
        cr_assert(strchr(line, '"') == NULL, "generated values need no quoting");
        cr_assert_eq(split(line, cells, 64), b.ncols);
        for (uint32_t c = 0; c < b.ncols; c++) {
            const sdb_column *k = &b.cols[c];
            const char *cell = cells[c];
            if (!sdb_column_valid(k, r)) {
                cr_assert_str_empty(cell, "row %llu col %s", (unsigned long long)r, b.names[c]);
                continue;
            }
            switch (k->type) {
            case SDB_TYPE_TIMESTAMP: {
                int64_t ns;
                cr_assert_eq(strlen(cell), 30);
                cr_assert_eq(sdb_time_parse(cell, strlen(cell), &ns, &err), SDB_OK, "%s", err.msg);
                cr_assert_eq(ns, k->v.i64[r]);
                break;
            }
            case SDB_TYPE_INT64: cr_assert_eq(strtoll(cell, NULL, 10), k->v.i64[r]); break;
            case SDB_TYPE_FLOAT64:
                cr_assert(strtod(cell, NULL) == k->v.f64[r], "row %llu %s: '%s' vs %.17g",
                          (unsigned long long)r, b.names[c], cell, k->v.f64[r]);
                cr_assert_not_null(strchr(cell, '.'));
                break;
            case SDB_TYPE_BOOL: cr_assert_str_eq(cell, k->v.b8[r] ? "true" : "false"); break;
            default: {
                uint32_t len;
                const char *s = sdb_column_str(k, r, &len);
                cr_assert(strlen(cell) == len && memcmp(cell, s, len) == 0);
            }
            }
        }
        r++;
    }
    cr_assert_eq(r, b.nrows);
    sdb_buf_free(&out);
    sdb_batch_free(&b);
}

Test(gen, ilp_lines_are_well_formed_and_exact)
{
    static const uint64_t chunk[] = {2000};
    sdb_batch b;
    size_t len;
    char *text, *save = NULL, *line;
    uint64_t r = 0;
    gen_all(&b, 2000, 9, chunk, 1);
    const sdb_column *time = col(&b, SDB_SPANS_TIME), *dur = col(&b, SDB_SPANS_DURATION_MS);
    const sdb_column *cost = col(&b, SDB_SPANS_COST_USD);
    text = ilp_text(&b, &len);
    cr_assert_eq(text[len - 1], '\n');
    text[len - 1] = '\0';
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), r++) {
        char *sp[3] = {NULL, NULL, NULL}, *p;
        int nsp = 0;
        bool quoted = false;
        cr_assert(strncmp(line, "spans,", 6) == 0, "%s", line);
        /* exactly two unescaped spaces outside quotes split tags, fields and time */
        for (p = line; *p; p++) {
            if (*p == '\\' && !quoted) {
                p++;
                continue;
            }
            if (*p == '\\' && quoted) {
                p++;
                continue;
            }
            if (*p == '"')
                quoted = !quoted;
            else if (*p == ' ' && !quoted) {
                cr_assert_lt(nsp, 2, "%s", line);
                sp[nsp++] = p;
            }
        }
        cr_assert_eq(nsp, 2, "%s", line);
        cr_assert(!quoted);
        cr_assert_eq(strtoll(sp[1] + 1, NULL, 10), time->v.i64[r]);
        *sp[1] = '\0';
        p = strstr(sp[0], " duration_ms=");
        cr_assert_not_null(p);
        cr_assert(strtod(p + 13, NULL) == dur->v.f64[r]);
        p = strstr(sp[0], ",cost_usd=");
        cr_assert_eq(p != NULL, sdb_column_valid(cost, r));
        if (p != NULL)
            cr_assert(strtod(p + 10, NULL) == cost->v.f64[r]);
        if (strstr(sp[0], "ttft_ms=") != NULL)
            cr_assert_not_null(strstr(line, ",span_kind=llm,"));
        if ((p = strstr(sp[0], "input_tokens=")) != NULL)
            cr_assert_eq(*(p + 13 + strspn(p + 13, "0123456789")), 'i');
    }
    cr_assert_eq(r, b.nrows);
    free(text);
    sdb_batch_free(&b);
}

static bool have_tool(const char *name)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name);
    return system(cmd) == 0;
}

Test(gen, otlp_json_lines_parse_as_json)
{
    static const uint64_t chunk[] = {700};
    sdb_gen *g;
    sdb_batch b;
    sdb_buf out = SDB_BUF_INIT;
    sdb_err err;
    uint64_t added, lines = 0;
    char path[512], cmd[1200];
    if (!have_tool("python3"))
        cr_skip_test("python3 is not installed");
    g = make_gen(5000, 21, 1);
    sdb_batch_init(&b);
    for (;;) {
        sdb_batch_clear(&b);
        cr_assert_eq(sdb_gen_next(g, chunk[0], &b, &added, &err), SDB_OK);
        if (added == 0)
            break;
        cr_assert_eq(sdb_gen_write_otlp_json(&b, &out, &err), SDB_OK, "%s", err.msg);
        lines++;
    }
    for (size_t i = 0; i < out.len; i++)
        lines -= out.data[i] == '\n';
    cr_assert_eq(lines, 0, "one line per chunk");
    tmpdir_path(path, sizeof path, "spans.jsonl");
    cr_assert_eq(tmpdir_write_file(path, out.data, out.len), 0);
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import json,sys\n"
             "n=0\n"
             "for l in open(sys.argv[1]):\n"
             "  d=json.loads(l)\n"
             "  for rs in d[\"resourceSpans\"]:\n"
             "    for ss in rs[\"scopeSpans\"]:\n"
             "      for s in ss[\"spans\"]:\n"
             "        assert len(s[\"traceId\"])==32 and len(s[\"spanId\"])==16\n"
             "        assert int(s[\"endTimeUnixNano\"])>=int(s[\"startTimeUnixNano\"])\n"
             "        assert s[\"status\"][\"code\"] in (1,2)\n"
             "        a={x[\"key\"]:x[\"value\"] for x in s[\"attributes\"]}\n"
             "        assert \"openinference.span.kind\" in a\n"
             "        if \"gen_ai.usage.input_tokens\" in a: int(a[\"gen_ai.usage.input_tokens\"][\"intValue\"])\n"
             "        n+=1\n"
             "sys.exit(0 if n==5000 else 1)' %s",
             path);
    cr_assert_eq(system(cmd), 0, "python3 rejected the OTLP/JSON output");
    sdb_gen_destroy(g);
    sdb_buf_free(&out);
    sdb_batch_free(&b);
}

/* The SQLite load recipe of docs/gen.md, built from the canonical schema: .import into an
 * all-TEXT staging table, then convert into a typed table with '' -> NULL, true/false -> 1/0,
 * and decimals as k * 1.0 / 10^e (SQLite's own text-to-real conversion is not correctly
 * rounded, this division is). */
static size_t sqlite_script(char *out, size_t cap, const char *csv)
{
    size_t n = 0;
    n += (size_t)snprintf(out + n, cap - n, ".import --csv %s spans_csv\nCREATE TABLE spans(", csv);
    for (int c = 0; c < SDB_SPANS_NCOLS; c++) {
        sdb_type t = sdb_spans_cols[c].type;
        n += (size_t)snprintf(out + n, cap - n, "%s%s %s", c ? ", " : "", sdb_spans_cols[c].name,
                              t == SDB_TYPE_FLOAT64                             ? "REAL"
                              : t == SDB_TYPE_INT64 || t == SDB_TYPE_BOOL ? "INTEGER"
                                                                                : "TEXT");
    }
    n += (size_t)snprintf(out + n, cap - n, ");\nINSERT INTO spans SELECT ");
    for (int c = 0; c < SDB_SPANS_NCOLS; c++) {
        const char *x = sdb_spans_cols[c].name;
        const char *sep = c ? ",\n  " : "";
        switch (sdb_spans_cols[c].type) {
        case SDB_TYPE_BOOL:
            n += (size_t)snprintf(out + n, cap - n,
                                  "%sCASE %s WHEN 'true' THEN 1 WHEN 'false' THEN 0 END", sep, x);
            break;
        case SDB_TYPE_FLOAT64:
            n += (size_t)snprintf(out + n, cap - n,
                                  "%sCASE WHEN %s = '' THEN NULL WHEN instr(%s, '.') = 0 THEN "
                                  "CAST(%s AS REAL) ELSE CAST(replace(%s, '.', '') AS INTEGER) * "
                                  "1.0 / CAST(substr('1000000000000000000', 1, length(%s) - "
                                  "instr(%s, '.') + 1) AS INTEGER) END",
                                  sep, x, x, x, x, x, x);
            break;
        default: n += (size_t)snprintf(out + n, cap - n, "%sNULLIF(%s, '')", sep, x); break;
        }
    }
    n += (size_t)snprintf(out + n, cap - n, "\nFROM spans_csv;\nDROP TABLE spans_csv;\n");
    n += (size_t)snprintf(
        out + n, cap - n,
        "SELECT count(*), sum(status = 'error'), sum(input_tokens), count(ttft_ms), "
        "count(parent_span_id), sum(hallucination), count(hallucination), "
        "printf('%%.6f', sum(cost_usd)), printf('%%.3f', max(duration_ms)), "
        "count(DISTINCT trace_id), min(time), typeof(max(relevance)) FROM spans;\n");
    return n;
}

Test(gen, csv_loads_into_sqlite_with_the_same_aggregates)
{
    static const uint64_t chunk[] = {4000};
    sdb_batch b;
    sdb_buf out = SDB_BUF_INIT;
    sdb_err err;
    char csv[512], db[512], sql[512], res[512], cmd[2600], expect[512], script[8192], first[32];
    uint64_t errors = 0, ttft = 0, children = 0, halluc = 0, evaluated = 0, traces = 0;
    int64_t in_sum = 0;
    double cost = 0, max_dur = 0;
    unsigned char *got;
    size_t got_len, n;
    if (!have_tool("sqlite3"))
        cr_skip_test("sqlite3 is not installed");
    gen_all(&b, 4000, 13, chunk, 1);
    const sdb_column *status = col(&b, SDB_SPANS_STATUS), *in = col(&b, SDB_SPANS_INPUT_TOKENS);
    const sdb_column *c = col(&b, SDB_SPANS_COST_USD), *tt = col(&b, SDB_SPANS_TTFT_MS);
    const sdb_column *parent = col(&b, SDB_SPANS_PARENT_SPAN_ID), *d = col(&b, SDB_SPANS_DURATION_MS);
    const sdb_column *h = col(&b, SDB_SPANS_HALLUCINATION);
    for (uint64_t r = 0; r < b.nrows; r++) {
        errors += sym_eq(status, r, "error");
        if (sdb_column_valid(in, r))
            in_sum += in->v.i64[r];
        if (sdb_column_valid(c, r))
            cost += c->v.f64[r];
        ttft += sdb_column_valid(tt, r);
        children += sdb_column_valid(parent, r);
        traces += !sdb_column_valid(parent, r); /* no trace is cut at the start */
        if (d->v.f64[r] > max_dur)
            max_dur = d->v.f64[r];
        if (sdb_column_valid(h, r)) {
            evaluated++;
            halluc += h->v.b8[r];
        }
    }
    cr_assert_gt(evaluated, 0);
    cr_assert_eq(sdb_gen_format_time(col(&b, SDB_SPANS_TIME)->v.i64[0], first), 30);
    cr_assert_eq(sdb_gen_write_csv_header(&b, &out, &err), SDB_OK);
    cr_assert_eq(sdb_gen_write_csv(&b, &out, &err), SDB_OK);
    tmpdir_path(csv, sizeof csv, "spans.csv");
    tmpdir_path(db, sizeof db, "spans.db");
    tmpdir_path(sql, sizeof sql, "load.sql");
    tmpdir_path(res, sizeof res, "result.txt");
    cr_assert_eq(tmpdir_write_file(csv, out.data, out.len), 0);
    n = sqlite_script(script, sizeof script, csv);
    cr_assert_lt(n, sizeof script);
    cr_assert_eq(tmpdir_write_file(sql, script, n), 0);
    snprintf(cmd, sizeof cmd, "sqlite3 -batch %s < %s > %s", db, sql, res);
    cr_assert_eq(system(cmd), 0, "sqlite3 failed");
    got = tmpdir_read_file(res, &got_len);
    cr_assert_not_null(got);
    snprintf(expect, sizeof expect, "%llu|%llu|%lld|%llu|%llu|%llu|%llu|%.6f|%.3f|%llu|%s|real\n",
             (unsigned long long)b.nrows, (unsigned long long)errors, (long long)in_sum,
             (unsigned long long)ttft, (unsigned long long)children, (unsigned long long)halluc,
             (unsigned long long)evaluated, cost, max_dur, (unsigned long long)traces, first);
    cr_assert(got_len == strlen(expect) && memcmp(got, expect, got_len) == 0,
              "sqlite3 says '%.*s', expected '%s'", (int)got_len, got, expect);
    free(got);
    if (have_tool("python3")) {
        /* every value in SQLite equals the CSV text read by a correctly rounding parser */
        static const char check[] =
            "import sqlite3, csv, sys\n"
            "con = sqlite3.connect(sys.argv[1])\n"
            "rows = list(csv.DictReader(open(sys.argv[2])))\n"
            "cols = [c[1] for c in con.execute('pragma table_info(spans)')]\n"
            "kinds = {c[1]: c[2] for c in con.execute('pragma table_info(spans)')}\n"
            "bad = 0\n"
            "for db, row in zip(con.execute('select * from spans order by rowid'), rows):\n"
            "    for k, v in zip(cols, db):\n"
            "        t = row[k]\n"
            "        if t == '': e = None\n"
            "        elif t in ('true', 'false'): e = int(t == 'true')\n"
            "        elif kinds[k] == 'REAL': e = float(t)\n"
            "        elif kinds[k] == 'INTEGER': e = int(t)\n"
            "        else: e = t\n"
            "        bad += v != e or type(v) != type(e)\n"
            "sys.exit(1 if bad or len(rows) != 4000 else 0)\n";
        char py[512];
        tmpdir_path(py, sizeof py, "check.py");
        cr_assert_eq(tmpdir_write_file(py, check, strlen(check)), 0);
        snprintf(cmd, sizeof cmd, "python3 %s %s %s", py, db, csv);
        cr_assert_eq(system(cmd), 0, "values in SQLite differ from the CSV text");
    }
    sdb_buf_free(&out);
    sdb_batch_free(&b);
}

/* A hand-made batch: escaping and float formatting of the writers. */
Test(gen, writers_escape_and_format_exactly)
{
    sdb_batch b;
    sdb_buf out = SDB_BUF_INIT;
    sdb_err err;
    int t, s, f, x, k;
    sdb_batch_init(&b);
    cr_assert_eq(sdb_batch_add(&b, "time", 4, SDB_TYPE_TIMESTAMP, &t, &err), SDB_OK);
    cr_assert_eq(sdb_batch_add(&b, "model", 5, SDB_TYPE_SYMBOL, &s, &err), SDB_OK);
    cr_assert_eq(sdb_batch_add(&b, "x", 1, SDB_TYPE_FLOAT64, &f, &err), SDB_OK);
    cr_assert_eq(sdb_batch_add(&b, "note", 4, SDB_TYPE_STRING, &x, &err), SDB_OK);
    cr_assert_eq(sdb_batch_add(&b, "ok", 2, SDB_TYPE_BOOL, &k, &err), SDB_OK);
    static const double vals[] = {0.1, 2.0, -0.0, 1e-300, 123456789012.5, 0.30000000000000004};
    static const char *const texts[] = {"0.1", "2.0", "-0.0", "1e-300", "123456789012.5",
                                        "0.30000000000000004"};
    for (int i = 0; i < 6; i++) {
        cr_assert_eq(sdb_column_push_i64(&b.cols[t], 1000 + i, &err), SDB_OK);
        cr_assert_eq(sdb_column_push_str(&b.cols[s], "a b,c=d", 7, &err), SDB_OK);
        cr_assert_eq(sdb_column_push_f64(&b.cols[f], vals[i], &err), SDB_OK);
        cr_assert_eq(sdb_column_push_str(&b.cols[x], "say \"hi\",\n\\", 11, &err), SDB_OK);
        cr_assert_eq(sdb_column_push_bool(&b.cols[k], i % 2, &err), SDB_OK);
        b.nrows++;
    }
    cr_assert_eq(sdb_gen_write_ilp(&b, &out, &err), SDB_OK);
    cr_assert_eq(sdb_buf_append(&out, "", 1, &err), SDB_OK);
    {
        static const char first[] =
            "spans,model=a\\ b\\,c\\=d x=0.1,note=\"say \\\"hi\\\",\n\\\\\",ok=f 1000\n";
        cr_assert(strncmp((char *)out.data, first, strlen(first)) == 0, "%s",
                  (const char *)out.data);
    }
    {
        const char *p = (const char *)out.data;
        for (int i = 0; i < 6; i++) {
            char want[64];
            snprintf(want, sizeof want, " x=%s,", texts[i]);
            p = strstr(p, want);
            cr_assert_not_null(p, "no '%s' in %s", want, (const char *)out.data);
        }
    }
    sdb_buf_reset(&out);
    cr_assert_eq(sdb_gen_write_csv(&b, &out, &err), SDB_OK);
    cr_assert_eq(sdb_buf_append(&out, "", 1, &err), SDB_OK);
    cr_assert(strncmp((char *)out.data,
                      "1970-01-01T00:00:00.000001000Z,\"a b,c=d\",0.1,\"say \"\"hi\"\",\n\\\",false\n",
                      strlen("1970-01-01T00:00:00.000001000Z,\"a b,c=d\",0.1,\"say \"\"hi\"\",\n\\\","
                             "false\n")) == 0,
              "%s", (const char *)out.data);
    /* in tags only `,` `=` and space are escaped; a backslash stays literal, a trailing one
     * cannot be written */
    {
        sdb_batch tb;
        int tc, fc;
        sdb_batch_init(&tb);
        cr_assert_eq(sdb_batch_add(&tb, "endpoint", 8, SDB_TYPE_SYMBOL, &tc, &err), SDB_OK);
        cr_assert_eq(sdb_batch_add(&tb, "retries", 7, SDB_TYPE_INT64, &fc, &err), SDB_OK);
        cr_assert_eq(sdb_column_push_str(&tb.cols[tc], "a\\b c", 5, &err), SDB_OK);
        cr_assert_eq(sdb_column_push_i64(&tb.cols[fc], -3, &err), SDB_OK);
        tb.nrows = 1;
        sdb_buf_reset(&out);
        cr_assert_eq(sdb_gen_write_ilp(&tb, &out, &err), SDB_OK);
        static const char want[] = "spans,endpoint=a\\b\\ c retries=-3i\n";
        cr_assert(out.len == strlen(want) && memcmp(out.data, want, out.len) == 0,
                  "%.*s", (int)out.len, (const char *)out.data);
        cr_assert_eq(sdb_column_push_str(&tb.cols[tc], "end\\", 4, &err), SDB_OK);
        cr_assert_eq(sdb_column_push_i64(&tb.cols[fc], 1, &err), SDB_OK);
        tb.nrows = 2;
        cr_assert_eq(sdb_gen_write_ilp(&tb, &out, &err), SDB_ERR_MISUSE);
        cr_assert(strstr(err.msg, "column 'endpoint' row 1: a tag value that ends in a backslash") !=
                      NULL,
                  "%s", err.msg);
        sdb_batch_free(&tb);
    }
    /* a NaN has no text form in any of the formats */
    b.cols[f].v.f64[0] = NAN;
    sdb_buf_reset(&out);
    cr_assert_eq(sdb_gen_write_ilp(&b, &out, &err), SDB_ERR_MISUSE);
    cr_assert(strstr(err.msg, "column 'x' row 0") != NULL, "%s", err.msg);
    cr_assert_eq(sdb_gen_write_csv(&b, &out, &err), SDB_ERR_MISUSE);
    /* otlp-json needs the span identity columns */
    cr_assert_eq(sdb_gen_write_otlp_json(&b, &out, &err), SDB_ERR_SCHEMA);
    cr_assert(strstr(err.msg, "trace_id") != NULL, "%s", err.msg);
    sdb_buf_free(&out);
    sdb_batch_free(&b);
}

Test(gen, bad_options_and_batches_are_rejected)
{
    sdb_gen_opts o;
    sdb_gen *g = NULL;
    sdb_err err;
    sdb_batch b;
    int64_t ns;
    sdb_gen_opts_default(&o);
    o.rows = 10;
    o.days = 0;
    cr_assert_eq(sdb_gen_create(&o, &g, &err), SDB_ERR_MISUSE);
    cr_assert(strstr(err.msg, "days 0 is outside 1..36600") != NULL, "%s", err.msg);
    cr_assert_null(g);
    cr_assert_eq(sdb_time_parse("2026-13-01", strlen("2026-13-01"), &ns, &err), SDB_ERR_PARSE);
    cr_assert(strstr(err.msg, "invalid timestamp '2026-13-01'") != NULL, "%s", err.msg);
    cr_assert_eq(sdb_time_parse("2026-02-29T00:00:00Z", strlen("2026-02-29T00:00:00Z"), &ns, &err), SDB_ERR_PARSE);
    cr_assert_eq(sdb_time_parse("2026-01-01T00:00:00Z", strlen("2026-01-01T00:00:00Z"), &ns, &err), SDB_OK);
    cr_assert_eq(ns, SDB_GEN_DEFAULT_START_NS);
    cr_assert_eq(sdb_time_parse("2024-02-29T12:34:56.5+00:00", strlen("2024-02-29T12:34:56.5+00:00"), &ns, &err), SDB_OK);
    {
        char txt[32];
        cr_assert_eq(sdb_gen_format_time(ns, txt), 30);
        cr_assert_str_eq(txt, "2024-02-29T12:34:56.500000000Z");
        cr_assert_eq(sdb_gen_format_time(-1, txt), 30);
        cr_assert_str_eq(txt, "1969-12-31T23:59:59.999999999Z");
    }
    /* a batch whose canonical column has another type */
    o.days = 1;
    cr_assert_eq(sdb_gen_create(&o, &g, &err), SDB_OK);
    sdb_batch_init(&b);
    cr_assert_eq(sdb_batch_add(&b, "model", 5, SDB_TYPE_STRING, NULL, &err), SDB_OK);
    cr_assert_eq(sdb_gen_next(g, 5, &b, NULL, &err), SDB_ERR_SCHEMA);
    cr_assert(strstr(err.msg, "column 'model' is string") != NULL, "%s", err.msg);
    sdb_batch_free(&b);
    /* other columns of the batch are padded with NULL */
    sdb_batch_init(&b);
    cr_assert_eq(sdb_batch_add(&b, "extra", 5, SDB_TYPE_INT64, NULL, &err), SDB_OK);
    cr_assert_eq(sdb_gen_next(g, 100, &b, NULL, &err), SDB_OK);
    cr_assert_eq(b.nrows, 10);
    cr_assert_eq(b.cols[0].n, 10);
    cr_assert_eq(sdb_column_null_count(&b.cols[0]), 10);
    sdb_batch_free(&b);
    sdb_gen_destroy(g);
}

Test(gen, days_spread_rows_over_the_range)
{
    static const uint64_t chunk[] = {4096};
    sdb_gen *g = make_gen(50000, 1, 14);
    sdb_batch b;
    sdb_err err;
    uint64_t added, per_day[14] = {0};
    sdb_batch_init(&b);
    do
        cr_assert_eq(sdb_gen_next(g, chunk[0], &b, &added, &err), SDB_OK);
    while (added > 0);
    const sdb_column *time = col(&b, SDB_SPANS_TIME);
    for (uint64_t r = 0; r < b.nrows; r++) {
        int64_t d = (time->v.i64[r] - SDB_GEN_DEFAULT_START_NS) / (86400LL * 1000000000LL);
        cr_assert(d >= 0 && d < 14);
        per_day[d]++;
    }
    /* 2026-01-03 is a Saturday: weekends are quieter than weekdays */
    for (int d = 0; d < 14; d++)
        cr_assert_gt(per_day[d], 1000, "day %d: %llu", d, (unsigned long long)per_day[d]);
    cr_assert_lt(per_day[2], per_day[5]);
    sdb_gen_destroy(g);
    sdb_batch_free(&b);
}
