/* Line-protocol parsing speed on one core: generates span lines like the canonical `spans`
 * table (11 tags, 15 fields, quoted ids, about 500 bytes) with a fixed PRNG, then parses them in
 * 1 MiB chunks, taking the batches every 65,536 rows as an ingest loop would. Prints one
 * table: lines/s and MB/s per run, and a checksum of the parsed values. Time is the
 * process CPU time, so other load on a shared machine does not count. */
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

static void gen(sdb_buf *b, size_t lines)
{
    static const char *const services[] = {"chat-api", "rag-worker", "agent-runner", "eval-svc"};
    static const char *const projects[] = {"acme", "globex", "initech", "umbrella", "hooli"};
    static const char *const models[] = {"gpt-4o-mini", "gpt-4o", "claude-3-5-sonnet",
                                         "llama-3.1-70b", "mistral-large", "gemini-1.5-pro"};
    static const char *const providers[] = {"openai", "anthropic", "meta", "mistral", "google"};
    static const char *const endpoints[] = {"/v1/chat", "/v1/completions", "/v1/embeddings",
                                            "/v1/rerank"};
    static const char *const kinds[] = {"llm", "chain", "retriever", "tool", "embedding", "agent"};
    static const char *const names[] = {"ChatOpenAI", "RetrievalQA", "VectorSearch", "WebTool",
                                        "Planner", "Summarize"};
    static const char *const status[] = {"ok", "ok", "ok", "ok", "ok", "ok", "ok", "error"};
    static const char *const prompts[] = {"support", "triage", "summary", "sql-gen"};
    static const char *const versions[] = {"v1", "v2", "v3", "v4"};
    static const char *const errors[] = {"none", "none", "none", "rate_limit", "timeout"};
    for (size_t i = 0; i < lines; i++) {
        uint64_t r = rnd();
        sdb_buf_printf(b, NULL,
                       "spans,service=%s,project=%s,model=%s,provider=%s,endpoint=%s,"
                       "span_kind=%s,name=%s,status=%s,error_type=%s,prompt_name=%s,prompt_version=%s "
                       "duration_ms=%u.%03u,ttft_ms=%u.%u,trace_id=\"%016llx%016llx\","
                       "span_id=\"%016llx\",parent_span_id=\"%016llx\",input_tokens=%ui,"
                       "output_tokens=%ui,cost_usd=0.%05u,retries=%ui,session_id=\"s-%u\","
                       "user_id=\"u-%u\",relevance=0.%02u,faithfulness=0.%03u,feedback=%di,"
                       "hallucination=%s %llu\n",
                       PICK(services), PICK(projects), PICK(models), PICK(providers),
                       PICK(endpoints), PICK(kinds), PICK(names), PICK(status), PICK(errors), PICK(prompts),
                       PICK(versions), (unsigned)(r % 5000), (unsigned)(r >> 20) % 1000,
                       (unsigned)(r >> 30) % 900, (unsigned)(r >> 40) % 10,
                       (unsigned long long)rnd(), (unsigned long long)rnd(),
                       (unsigned long long)rnd(), (unsigned long long)rnd(),
                       (unsigned)(rnd() % 8000), (unsigned)(rnd() % 2000),
                       (unsigned)(rnd() % 100000), (unsigned)(rnd() % 4),
                       (unsigned)(rnd() % 1000000), (unsigned)(rnd() % 100000),
                       (unsigned)(rnd() % 100), (unsigned)(rnd() % 1000), (int)(rnd() % 3) - 1,
                       rnd() % 10 ? "f" : "t", 1767225600000000000ULL + (unsigned long long)i * 1000003ULL);
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

int main(int argc, char **argv)
{
    size_t lines = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
    int runs = argc > 2 ? atoi(argv[2]) : 3;
    sdb_buf in = SDB_BUF_INIT;
    sdb_err err;
    gen(&in, lines);
    printf("bench_ilp: %zu span lines, %.1f MB, %.0f bytes/line, chunks of 1 MiB, take every "
           "65536 rows\n\n",
           lines, (double)in.len / 1e6, (double)in.len / (double)lines);
    printf("| run | cpu seconds | lines/s | MB/s | rows | rejected | checksum |\n");
    printf("|---|---|---|---|---|---|---|\n");
    for (int run = 1; run <= runs; run++) {
        sdb_ilp_opts o = {.now_ns = 0};
        sdb_ilp *p;
        sdb_ilp_table *t;
        uint32_t nt;
        uint64_t rows = 0;
        double sum = 0, parse = 0;
        if (sdb_ilp_create(&o, &p, &err) != SDB_OK) {
            fprintf(stderr, "bench_ilp: %s\n", err.msg);
            return 1;
        }
        for (size_t at = 0; at < in.len;) {
            size_t n = in.len - at < (1u << 20) ? in.len - at : (1u << 20);
            double t0 = now_s();
            if (sdb_ilp_feed(p, in.data + at, n, &err) != SDB_OK) {
                fprintf(stderr, "bench_ilp: %s\n", err.msg);
                return 1;
            }
            at += n;
            if (at == in.len && sdb_ilp_finish(p, &err) != SDB_OK) {
                fprintf(stderr, "bench_ilp: %s\n", err.msg);
                return 1;
            }
            if (sdb_ilp_pending(p) >= 65536 || at == in.len) {
                if (sdb_ilp_take(p, &t, &nt, &err) != SDB_OK) {
                    fprintf(stderr, "bench_ilp: %s\n", err.msg);
                    return 1;
                }
                parse += now_s() - t0;
                for (uint32_t i = 0; i < nt; i++)
                    rows += t[i].batch.nrows;
                if (run == 1)
                    sum += checksum(t, nt);
                sdb_ilp_tables_free(t, nt);
            } else {
                parse += now_s() - t0;
            }
        }
        sdb_ilp_stats st = sdb_ilp_get_stats(p);
        printf("| %d | %.3f | %.0f | %.0f | %llu | %llu | %.6e |\n", run, parse,
               (double)rows / parse, (double)in.len / 1e6 / parse, (unsigned long long)rows,
               (unsigned long long)st.rejected, run == 1 ? sum : 0.0);
        sdb_ilp_destroy(p);
    }
    sdb_buf_free(&in);
    return 0;
}
