/* Line-protocol parsing speed on one core: generates span lines of the canonical `spans`
 * table (11 tags, 15 fields, quoted ids) with a fixed PRNG, in two workloads (values like
 * the docs' example, about 520 bytes a line; compact values, about 340), then parses each in
 * 1 MiB chunks, taking the batches every 65,536 rows as an ingest loop would. Prints one
 * table: the best run's lines/s and MB/s, and a checksum of the parsed values. Time is the
 * process CPU time, so other load on a shared machine does not count.
 * Usage: bench_ilp [LINES [RUNS]] (default 1,000,000 lines, 3 runs). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/ilp.h"
#include "storage/common/buf.h"

static uint64_t state = 0x2545F4914F6CDD1DULL;

static uint64_t rnd(void)
{
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545F4914F6CDD1DULL;
}

static const char *pick(const char *const *v, size_t n)
{
    return v[rnd() % n];
}
#define PICK(v) pick(v, sizeof v / sizeof v[0])

/* Span lines with the 26 columns of the canonical table plus `time`. `compact` uses short
 * tag values and 64-bit ids (about 340 bytes a line), else values like the docs' example
 * (about 520 bytes). */
static void gen(sdb_buf *b, size_t lines, bool compact)
{
    static const char *const services[] = {"chat-api", "rag-worker", "agent-runner", "eval-svc"};
    static const char *const projects[] = {"acme", "globex", "initech", "umbrella", "hooli"};
    static const char *const models[] = {"gpt-4o-mini",   "gpt-4o",        "claude-3-5-sonnet",
                                         "llama-3.1-70b", "mistral-large", "gemini-1.5-pro"};
    static const char *const providers[] = {"openai", "anthropic", "meta", "mistral", "google"};
    static const char *const endpoints[] = {"/v1/chat", "/v1/completions", "/v1/embeddings",
                                            "/v1/rerank"};
    static const char *const kinds[] = {"llm", "chain", "retriever", "tool", "embedding", "agent"};
    static const char *const names[] = {"ChatOpenAI", "RetrievalQA", "VectorSearch",
                                        "WebTool",    "Planner",     "Summarize"};
    static const char *const status[] = {"ok", "ok", "ok", "ok", "ok", "ok", "ok", "error"};
    static const char *const prompts[] = {"support", "triage", "summary", "sql-gen"};
    static const char *const versions[] = {"v1", "v2", "v3", "v4"};
    static const char *const errors[] = {"none", "none", "none", "rate_limit", "timeout"};
    static const char *const short_[] = {"a1", "b2", "c3", "d4", "e5", "f6"};
    for (size_t i = 0; i < lines; i++) {
        uint64_t r = rnd();
        if (compact) {
            sdb_buf_printf(
                b, NULL,
                "spans,service=%s,project=%s,model=%s,provider=%s,endpoint=%s,"
                "span_kind=%s,name=%s,status=%s,error_type=%s,prompt_name=%s,"
                "prompt_version=%s duration_ms=%u.%u,ttft_ms=%u.%u,trace_id=\"%016llx\","
                "span_id=\"%08x\",parent_span_id=\"%08x\",input_tokens=%ui,"
                "output_tokens=%ui,cost_usd=0.%03u,retries=%ui,session_id=\"s%u\","
                "user_id=\"u%u\",relevance=0.%u,faithfulness=0.%u,feedback=%di,"
                "hallucination=%s %llu\n",
                PICK(short_), PICK(short_), PICK(short_), PICK(short_), PICK(short_), PICK(kinds),
                PICK(short_), PICK(status), PICK(short_), PICK(short_), PICK(versions),
                (unsigned)(r % 5000), (unsigned)(r >> 20) % 10, (unsigned)(r >> 30) % 900,
                (unsigned)(r >> 40) % 10, (unsigned long long)rnd(), (unsigned)rnd(),
                (unsigned)rnd(), (unsigned)(rnd() % 8000), (unsigned)(rnd() % 2000),
                (unsigned)(rnd() % 1000), (unsigned)(rnd() % 4), (unsigned)(rnd() % 100000),
                (unsigned)(rnd() % 10000), (unsigned)(rnd() % 10), (unsigned)(rnd() % 10),
                (int)(rnd() % 3) - 1, rnd() % 10 ? "f" : "t",
                1767225600000000000ULL + (unsigned long long)i * 1000003ULL);
            continue;
        }
        sdb_buf_printf(
            b, NULL,
            "spans,service=%s,project=%s,model=%s,provider=%s,endpoint=%s,"
            "span_kind=%s,name=%s,status=%s,error_type=%s,prompt_name=%s,"
            "prompt_version=%s duration_ms=%u.%03u,ttft_ms=%u.%u,"
            "trace_id=\"%016llx%016llx\",span_id=\"%016llx\","
            "parent_span_id=\"%016llx\",input_tokens=%ui,output_tokens=%ui,"
            "cost_usd=0.%05u,retries=%ui,session_id=\"s-%u\",user_id=\"u-%u\","
            "relevance=0.%02u,faithfulness=0.%03u,feedback=%di,hallucination=%s "
            "%llu\n",
            PICK(services), PICK(projects), PICK(models), PICK(providers), PICK(endpoints),
            PICK(kinds), PICK(names), PICK(status), PICK(errors), PICK(prompts), PICK(versions),
            (unsigned)(r % 5000), (unsigned)(r >> 20) % 1000, (unsigned)(r >> 30) % 900,
            (unsigned)(r >> 40) % 10, (unsigned long long)rnd(), (unsigned long long)rnd(),
            (unsigned long long)rnd(), (unsigned long long)rnd(), (unsigned)(rnd() % 8000),
            (unsigned)(rnd() % 2000), (unsigned)(rnd() % 100000), (unsigned)(rnd() % 4),
            (unsigned)(rnd() % 1000000), (unsigned)(rnd() % 100000), (unsigned)(rnd() % 100),
            (unsigned)(rnd() % 1000), (int)(rnd() % 3) - 1, rnd() % 10 ? "f" : "t",
            1767225600000000000ULL + (unsigned long long)i * 1000003ULL);
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sum of values of a few columns, so a fast but wrong parser shows a different number. */
static double checksum(const sdb_ilp_table *t, uint32_t nt)
{
    double sum = 0;
    for (uint32_t i = 0; i < nt; i++) {
        const sdb_batch *b = &t[i].batch;
        for (uint32_t c = 0; c < b->ncols; c++) {
            const sdb_column *col = &b->cols[c];
            for (uint64_t r = 0; r < b->nrows; r++) {
                if (col->type == SDB_TYPE_FLOAT64)
                    sum += col->v.f64[r];
                else if (col->type == SDB_TYPE_INT64)
                    sum += (double)col->v.i64[r];
                else if (col->type == SDB_TYPE_SYMBOL)
                    sum += col->v.code[r];
                else if (col->type == SDB_TYPE_STRING)
                    sum += (double)(col->v.off[r + 1] - col->v.off[r]);
            }
        }
    }
    return sum;
}

/* Parse `in` once; returns CPU seconds and fills rows, rejected and (when sum) a checksum. */
static double parse_once(const sdb_buf *in, uint64_t *rows, uint64_t *rejected, double *sum)
{
    sdb_ilp_opts o = {.now_ns = 0};
    sdb_ilp *p;
    sdb_ilp_table *t;
    uint32_t nt;
    sdb_err err;
    double secs = 0;
    *rows = 0;
    if (sdb_ilp_create(&o, &p, &err) != SDB_OK)
        goto fail;
    for (size_t at = 0; at < in->len;) {
        size_t n = in->len - at < (1u << 20) ? in->len - at : (1u << 20);
        double t0 = now_s();
        if (sdb_ilp_feed(p, in->data + at, n, &err) != SDB_OK)
            goto fail;
        at += n;
        if (at == in->len && sdb_ilp_finish(p, &err) != SDB_OK)
            goto fail;
        if (sdb_ilp_pending(p) >= 65536 || at == in->len) {
            if (sdb_ilp_take(p, &t, &nt, &err) != SDB_OK)
                goto fail;
            secs += now_s() - t0;
            for (uint32_t i = 0; i < nt; i++)
                *rows += t[i].batch.nrows;
            if (sum != NULL)
                *sum += checksum(t, nt);
            sdb_ilp_tables_free(t, nt);
        } else {
            secs += now_s() - t0;
        }
    }
    *rejected = sdb_ilp_get_stats(p).rejected;
    sdb_ilp_destroy(p);
    return secs;
fail:
    fprintf(stderr, "bench_ilp: %s\n", err.msg);
    exit(1);
}

int main(int argc, char **argv)
{
    size_t lines = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
    int runs = argc > 2 ? atoi(argv[2]) : 3;
    printf("bench_ilp: %zu span lines per workload (27 columns: 11 tags, 15 fields, time), "
           "1 MiB chunks, batches taken every 65536 rows; best of %d runs, process CPU time\n\n",
           lines, runs);
    printf("| workload | bytes/line | MB | cpu seconds | lines/s | MB/s | rows | rejected | "
           "checksum |\n");
    printf("|---|---|---|---|---|---|---|---|---|\n");
    for (int w = 0; w < 2; w++) {
        sdb_buf in = SDB_BUF_INIT;
        uint64_t rows = 0, rejected = 0;
        double best = 0, sum = 0;
        state = 0x2545F4914F6CDD1DULL;
        gen(&in, lines, w == 1);
        for (int run = 0; run < runs; run++) {
            double secs = parse_once(&in, &rows, &rejected, run == 0 ? &sum : NULL);
            if (run == 0 || secs < best)
                best = secs;
        }
        printf("| %s | %.0f | %.1f | %.3f | %.0f | %.0f | %llu | %llu | %.6e |\n",
               w == 1 ? "spans, compact values" : "spans, example values",
               (double)in.len / (double)lines, (double)in.len / 1e6, best, (double)rows / best,
               (double)in.len / 1e6 / best, (unsigned long long)rows, (unsigned long long)rejected,
               sum);
        sdb_buf_free(&in);
    }
    return 0;
}
