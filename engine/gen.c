/* The span generator. Each trace is built from its own random stream (seeded by the seed
 * and the trace number), so a trace never depends on how output is chunked. Traces are
 * placed in time by inverting the cumulative diurnal traffic curve at the fraction of rows
 * generated so far; their spans wait in a min-heap keyed by (time, sequence) and leave it
 * once no later trace can start before them, so the output is in time order exactly.
 *
 *   stage: next trace, times relative to its root  --commit-->  heap  --pop-->  batch
 *
 * All generated floats are whole numbers of their printed unit (microseconds for
 * durations, 1e-10 USD for cost, 1/1000 for scores) and are stored as k / 10^e, the double
 * a correct strtod returns for the printed decimal. */
#include "engine/gen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/spans.h"
#include "storage/common/timefmt.h"

/* ---- random numbers: xoshiro256** seeded with splitmix64 ---- */

typedef struct rng {
    uint64_t s[4];
    double spare; /* second normal of the last Box-Muller pair */
    bool has_spare;
} rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t mix64(uint64_t x)
{
    return splitmix64(&x);
}

static void rng_seed(rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
    r->has_spare = false;
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_u64(rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

/* Uniform in [0, 1). */
static inline double rng_unif(rng *r)
{
    return (double)(rng_u64(r) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, n). */
static inline uint64_t rng_below(rng *r, uint64_t n)
{
    return (uint64_t)(rng_unif(r) * (double)n);
}

static inline bool rng_chance(rng *r, double p)
{
    return rng_unif(r) < p;
}

static double rng_normal(rng *r)
{
    double u, v, m;
    if (r->has_spare) {
        r->has_spare = false;
        return r->spare;
    }
    u = 1.0 - rng_unif(r); /* (0, 1] */
    v = rng_unif(r);
    m = sqrt(-2.0 * log(u));
    r->spare = m * sin(2.0 * M_PI * v);
    r->has_spare = true;
    return m * cos(2.0 * M_PI * v);
}

static double rng_lognormal(rng *r, double median, double sigma)
{
    return median * exp(sigma * rng_normal(r));
}

static int64_t clamp64(double v, int64_t lo, int64_t hi)
{
    if (!(v >= (double)lo))
        return lo;
    if (v >= (double)hi)
        return hi;
    return (int64_t)v;
}

/* ---- the world: models, services, endpoints, prompts ---- */

enum { K_LLM, K_CHAIN, K_RETRIEVER, K_TOOL, K_EMBEDDING, K_AGENT, K__COUNT };
static const char *const kind_names[K__COUNT] = {"llm", "chain", "retriever", "tool", "embedding",
                                                 "agent"};

enum { E_NONE, E_RATE_LIMIT, E_TIMEOUT, E_SERVER, E_INVALID, E_CONTENT_FILTER, E_TOOL, E__COUNT };
static const char *const error_names[E__COUNT] = {
    "", "rate_limit", "timeout", "server_error", "invalid_request", "content_filter", "tool_error"};

static const char *const status_names[2] = {"ok", "error"};

/* Prices from langfuse default-model-prices.json (USD per token x 1e10), except llama and
 * mistral, which that file lacks (Groq and Mistral list prices, see docs/gen.md). */
static const sdb_gen_model models[] = {
    {"gpt-4o-mini", "openai", 1500, 6000, false},
    {"gpt-4o", "openai", 25000, 100000, false},
    {"gpt-4.1-mini", "openai", 4000, 16000, false},
    {"claude-sonnet-4-20250514", "anthropic", 30000, 150000, false},
    {"gpt-4.1", "openai", 20000, 80000, false},
    {"claude-3-5-haiku-20241022", "anthropic", 8000, 40000, false},
    {"gemini-2.0-flash", "gcp.gemini", 1000, 4000, false},
    {"o3-mini", "openai", 11000, 44000, false},
    {"claude-3-5-sonnet-20241022", "anthropic", 30000, 150000, false},
    {"gemini-1.5-pro-latest", "gcp.gemini", 25000, 75000, false},
    {"llama-3.3-70b-versatile", "groq", 5900, 7900, false},
    {"mistral-large-latest", "mistral_ai", 20000, 60000, false},
    {"text-embedding-3-small", "openai", 200, 0, true},
    {"text-embedding-3-large", "openai", 1300, 0, true},
};
#define NMODELS     (sizeof models / sizeof models[0])
#define NCHAT       12u
#define EMB_SMALL   12u
#define EMB_LARGE   13u
#define NO_MODEL    0xffu
#define M_GPT4O     1u
#define M_SONNET4   3u
#define M_GPT41     4u
#define M_SONNET35  8u

/* How each model behaves (same order as models[] for the chat models). */
typedef struct model_perf {
    double ttft_ms;     /* median time to first token at small inputs */
    double ms_per_tok;  /* median generation time per output token */
    double out_factor;  /* output token multiplier (reasoning models write more) */
    double err_rate;    /* chance that a first attempt fails */
    double halluc_mult; /* hallucination rate multiplier */
    double timeout_ms;  /* client timeout */
} model_perf;

static const model_perf perf[NCHAT] = {
    {380, 9, 1.0, 0.05, 1.35, 30000},   {560, 18, 1.0, 0.065, 0.85, 60000},
    {420, 10, 1.0, 0.05, 1.2, 30000},   {950, 21, 1.1, 0.09, 0.7, 60000},
    {620, 17, 1.0, 0.06, 0.8, 60000},   {520, 12, 0.9, 0.07, 1.25, 30000},
    {310, 6, 1.0, 0.03, 1.4, 30000},    {3600, 8, 3.0, 0.04, 0.9, 120000},
    {880, 19, 1.1, 0.07, 0.75, 60000},  {820, 16, 1.0, 0.05, 1.0, 60000},
    {210, 3, 0.9, 0.08, 1.6, 30000},    {470, 14, 1.0, 0.05, 1.1, 60000},
};

static const char *const providers[] = {"openai", "anthropic", "gcp.gemini", "groq", "mistral_ai"};
#define NPROVIDERS (sizeof providers / sizeof providers[0])

enum { P_CHAT, P_RAG, P_SIMPLE, P_CLASSIFY, P_EXTRACT, P_INGEST, P_SEARCH };

typedef struct service_def {
    const char *name;
    const char *project;
} service_def;

static const service_def services[] = {
    {"chat-api", "assistant"},        {"support-bot", "support"},
    {"search-api", "search"},         {"doc-ingest", "search"},
    {"agent-runtime", "assistant"},   {"content-studio", "marketing"},
    {"analytics-worker", "internal"}, {"code-assist", "devtools"},
};
#define NSERVICES (sizeof services / sizeof services[0])

typedef struct endpoint_def {
    const char *route;  /* endpoint */
    uint8_t service;    /* index into services */
    uint8_t pipeline;   /* P_* */
    const char *root;   /* name of the root span */
    const char *prompt; /* managed prompt of its llm spans, or NULL */
    uint8_t model;      /* preferred chat model */
    double weight;      /* share of traffic */
} endpoint_def;

static const endpoint_def endpoints[] = {
    {"/v1/chat", 0, P_CHAT, "invoke_agent assistant", "assistant-chat", 0, 10},
    {"/v1/chat/stream", 0, P_CHAT, "invoke_agent assistant", "assistant-chat", 1, 8},
    {"/v1/chat/title", 0, P_CLASSIFY, "chat_title", "chat-title", 0, 4},
    {"/v1/chat/suggest", 0, P_SIMPLE, "suggest_followups", "followup-suggest", 2, 3},
    {"/v1/chat/moderate", 0, P_CLASSIFY, "moderation", "moderation", 6, 3},
    {"/support/answer", 1, P_RAG, "rag_pipeline", "support-answer", 3, 7},
    {"/support/triage", 1, P_CLASSIFY, "ticket_triage", "ticket-triage", 5, 4},
    {"/support/summarize", 1, P_SIMPLE, "summarize_ticket", "ticket-summary", 5, 3},
    {"/support/reply-draft", 1, P_RAG, "rag_pipeline", "reply-draft", 3, 2},
    {"/support/sentiment", 1, P_CLASSIFY, "sentiment", "sentiment", 6, 2},
    {"/support/escalate", 1, P_CHAT, "invoke_agent support_agent", "support-agent", 8, 1.5},
    {"/search/answer", 2, P_RAG, "rag_pipeline", "search-answer", 1, 6},
    {"/search/query-rewrite", 2, P_SIMPLE, "rewrite_query", "query-rewrite", 0, 3},
    {"/search/semantic", 2, P_SEARCH, "semantic_search", NULL, NO_MODEL, 5},
    {"/search/summarize", 2, P_SIMPLE, "summarize_results", "search-summary", 2, 2},
    {"/search/related", 2, P_SEARCH, "related_documents", NULL, NO_MODEL, 1.5},
    {"/ingest/embed", 3, P_INGEST, "embed_documents", NULL, NO_MODEL, 3},
    {"/ingest/chunk-summary", 3, P_SIMPLE, "summarize_chunk", "chunk-summary", 6, 1.5},
    {"/ingest/extract-metadata", 3, P_EXTRACT, "extract_metadata", "metadata-extract", 0, 1.2},
    {"/ingest/pdf", 3, P_INGEST, "ingest_pdf", NULL, NO_MODEL, 0.8},
    {"/agents/run", 4, P_CHAT, "invoke_agent researcher", "research-agent", 4, 3},
    {"/agents/plan", 4, P_SIMPLE, "plan_task", "planner", 7, 1.5},
    {"/agents/browse", 4, P_CHAT, "invoke_agent browser", "browse-agent", 1, 1},
    {"/agents/sql", 4, P_CHAT, "invoke_agent sql_analyst", "sql-agent", 4, 1.2},
    {"/agents/reflect", 4, P_SIMPLE, "reflect", "reflection", 7, 0.6},
    {"/content/generate", 5, P_SIMPLE, "write_article", "blog-writer", 9, 1.5},
    {"/content/rewrite", 5, P_SIMPLE, "rewrite_text", "rewrite", 11, 1.2},
    {"/content/translate", 5, P_SIMPLE, "translate", "translate", 11, 1.2},
    {"/content/seo", 5, P_EXTRACT, "extract_keywords", "seo-keywords", 2, 0.6},
    {"/content/image-caption", 5, P_SIMPLE, "caption_image", "image-caption", 9, 0.5},
    {"/jobs/classify-feedback", 6, P_CLASSIFY, "classify_feedback", "feedback-classifier", 10, 2},
    {"/jobs/extract-entities", 6, P_EXTRACT, "extract_entities", "entity-extract", 10, 1.5},
    {"/jobs/weekly-report", 6, P_RAG, "rag_pipeline", "weekly-report", 3, 0.2},
    {"/jobs/dedupe", 6, P_SEARCH, "dedupe_documents", NULL, NO_MODEL, 0.8},
    {"/jobs/label", 6, P_CLASSIFY, "auto_label", "auto-label", 10, 1},
    {"/code/complete", 7, P_SIMPLE, "code_completion", "code-complete", 10, 5},
    {"/code/explain", 7, P_RAG, "rag_pipeline", "code-explain", 3, 1.5},
    {"/code/review", 7, P_CHAT, "invoke_agent reviewer", "code-review-agent", 3, 1},
    {"/code/tests", 7, P_SIMPLE, "write_tests", "test-writer", 4, 0.8},
    {"/code/commit-msg", 7, P_CLASSIFY, "commit_message", "commit-msg", 0, 1.2},
};
#define NENDPOINTS (sizeof endpoints / sizeof endpoints[0])
#define EP_ARTICLES 25u /* /content/generate writes long articles */

/* The first NCHAT_TOOLS are what agents call; then the rerank and validation steps. */
static const char *const tools[] = {"web_search",    "sql_query",    "calculator", "http_get",
                                    "code_interpreter", "send_email", "create_ticket",
                                    "lookup_order",  "read_file",    "rerank",     "validate_json"};
#define NTOOLS        (sizeof tools / sizeof tools[0])
#define NCHAT_TOOLS   9u
#define TOOL_RERANK   9u
#define TOOL_VALIDATE 10u
static const char *const retrievers[] = {"vector_search", "bm25_search", "hybrid_search"};
#define NRETRIEVERS (sizeof retrievers / sizeof retrievers[0])

static const char *const versions[] = {"v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8"};
#define NVERSIONS (sizeof versions / sizeof versions[0])

/* A/B scenarios of a prompt's two live versions: index 0 = older, 1 = newer. */
typedef struct ab_def {
    double latency[2];  /* latency multiplier */
    double halluc[2];   /* base hallucination rate */
    double relevance[2];/* mean relevance */
    double share_new;   /* traffic share of the newer version */
} ab_def;

static const ab_def scenarios[4] = {
    {{1.0, 0.85}, {0.08, 0.04}, {0.74, 0.83}, 0.5},  /* newer is better */
    {{1.0, 1.25}, {0.05, 0.09}, {0.80, 0.72}, 0.2},  /* newer regressed */
    {{1.0, 0.70}, {0.05, 0.08}, {0.79, 0.76}, 0.5},  /* faster, hallucinates more */
    {{1.0, 1.00}, {0.06, 0.06}, {0.78, 0.785}, 0.3}, /* no real difference */
};

/* Traffic by UTC hour of day (peak in European afternoon / US morning). */
static const double hourly[24] = {0.45, 0.38, 0.32, 0.28, 0.27, 0.30, 0.40, 0.55,
                                  0.72, 0.85, 0.93, 0.98, 1.00, 1.00, 0.99, 0.98,
                                  0.95, 0.90, 0.82, 0.74, 0.66, 0.60, 0.55, 0.50};
#define WEEKEND_FACTOR 0.6

#define NUSERS    100000u
#define NSESSIONS 1000000u

/* ---- generator state ---- */

#define MAX_TRACE_SPANS 64u
#define MAX_NAMES       128u
#define MAX_PROMPTS     64u
#define NO_PROMPT       0xffu
#define NSYMCOLS        11u

typedef struct span {
    int64_t time;       /* ns since the epoch (relative to the trace start while staged) */
    uint64_t seq;       /* commit order: ties in time keep parents first */
    int64_t dur_us;     /* duration in microseconds */
    int64_t ttft_us;    /* time to first token in microseconds; -1 = NULL */
    uint64_t trace_hi;  /* trace id, high 64 bits */
    uint64_t trace_lo;  /* trace id, low 64 bits */
    uint64_t id;        /* span id, nonzero */
    uint64_t parent;    /* parent span id; 0 = root */
    int64_t in_tok;     /* -1 = NULL */
    int64_t out_tok;    /* -1 = NULL */
    int64_t cost;       /* 1e-10 USD; -1 = NULL */
    int32_t retries;    /* -1 = NULL */
    int32_t session;    /* 0..NSESSIONS-1; -1 = NULL */
    int32_t user;       /* 0..NUSERS-1; -1 = NULL */
    int16_t relevance;  /* 0..1000 thousandths; -1 = NULL */
    int16_t faith;      /* 0..1000 thousandths; -1 = NULL */
    int8_t halluc;      /* 0/1; -1 = NULL */
    int8_t feedback;    /* -1 or 1; 0 = NULL */
    uint8_t kind;       /* K_* */
    uint8_t error;      /* E_*; E_NONE = ok */
    uint8_t name;       /* index into g->names */
    uint8_t model;      /* index into models; NO_MODEL */
    uint8_t endpoint;   /* index into endpoints */
    uint8_t prompt;     /* index into g->prompts; NO_PROMPT */
    uint8_t version;    /* index into versions (with prompt) */
} span;

struct sdb_gen {
    sdb_gen_opts opts;
    uint64_t generated;        /* spans committed to the heap */
    uint64_t emitted;          /* spans handed out */
    uint64_t traces;           /* traces generated */
    uint64_t seq;              /* next span sequence number */
    uint64_t id_salt;          /* seed-derived salt for session ids */
    /* time placement */
    double *cum;               /* cumulative traffic weight at the start of each hour; nhours + 1 */
    uint32_t nhours;
    uint32_t hour_cursor;      /* hour of the last placed trace (fractions only grow) */
    double endpoint_cum[NENDPOINTS]; /* cumulative endpoint weights, normalized */
    double model_cum[NCHAT];   /* cumulative Zipf weights of the chat models */
    /* names and prompts, deduplicated */
    const char *names[MAX_NAMES];
    uint32_t nnames;
    const char *prompts[MAX_PROMPTS];
    uint32_t nprompts;
    uint8_t ep_root[NENDPOINTS];   /* name index of each endpoint's root span */
    uint8_t ep_prompt[NENDPOINTS]; /* prompt index or NO_PROMPT */
    uint8_t llm_name[NMODELS];     /* name index of an llm/embedding call of each model */
    char llm_names[NMODELS][48];   /* "chat <model>", "embeddings <model>" (OTel span names) */
    uint8_t model_provider[NMODELS]; /* index into providers of each model */
    uint8_t tool_name[NTOOLS];
    uint8_t retr_name[NRETRIEVERS];
    /* the staged next trace */
    span stage[MAX_TRACE_SPANS];
    uint32_t nstage;
    int64_t stage_start;       /* absolute start of the staged trace, ns */
    bool staged;
    /* spans waiting for output: pool + min-heap of pool indices */
    span *pool;
    uint32_t *heap;
    uint32_t *freelist;
    uint32_t pool_cap, heap_n, nfree, pool_used;
};

static uint8_t intern_name(sdb_gen *g, const char *s)
{
    for (uint32_t i = 0; i < g->nnames; i++)
        if (strcmp(g->names[i], s) == 0)
            return (uint8_t)i;
    g->names[g->nnames] = s;
    return (uint8_t)g->nnames++;
}

static void build_names(sdb_gen *g)
{
    for (uint32_t m = 0; m < NMODELS; m++) {
        const char *op = models[m].embedding ? "embeddings " : "chat ";
        size_t a = strlen(op), b = strlen(models[m].name);
        memcpy(g->llm_names[m], op, a);
        memcpy(g->llm_names[m] + a, models[m].name, b);
        g->llm_names[m][a + b] = '\0';
    }
    for (uint32_t e = 0; e < NENDPOINTS; e++)
        g->ep_root[e] = intern_name(g, endpoints[e].root);
    for (uint32_t m = 0; m < NMODELS; m++) {
        uint32_t pv = 0;
        g->llm_name[m] = intern_name(g, g->llm_names[m]);
        while (pv + 1 < NPROVIDERS && strcmp(providers[pv], models[m].provider) != 0)
            pv++;
        g->model_provider[m] = (uint8_t)pv;
    }
    for (uint32_t t = 0; t < NTOOLS; t++)
        g->tool_name[t] = intern_name(g, tools[t]);
    for (uint32_t r = 0; r < NRETRIEVERS; r++)
        g->retr_name[r] = intern_name(g, retrievers[r]);
    for (uint32_t e = 0; e < NENDPOINTS; e++) {
        const char *p = endpoints[e].prompt;
        uint32_t i;
        if (p == NULL) {
            g->ep_prompt[e] = NO_PROMPT;
            continue;
        }
        for (i = 0; i < g->nprompts && strcmp(g->prompts[i], p) != 0; i++)
            ;
        if (i == g->nprompts)
            g->prompts[g->nprompts++] = p;
        g->ep_prompt[e] = (uint8_t)i;
    }
}

_Static_assert(NENDPOINTS + NMODELS + NTOOLS + NRETRIEVERS <= MAX_NAMES, "names table too small");
_Static_assert(NENDPOINTS <= MAX_PROMPTS, "prompts table too small");

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

#define HOUR_NS 3600000000000LL

void sdb_gen_opts_default(sdb_gen_opts *o)
{
    o->rows = 0;
    o->seed = 1;
    o->start_ns = SDB_GEN_DEFAULT_START_NS;
    o->days = 1;
}

sdb_rc sdb_gen_create(const sdb_gen_opts *opts, sdb_gen **out, sdb_err *err)
{
    sdb_gen *g;
    int64_t h0;
    double sum;
    *out = NULL;
    if (opts->days < 1 || opts->days > SDB_GEN_DAYS_MAX)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "days %u is outside 1..%u", opts->days,
                        SDB_GEN_DAYS_MAX);
    if (opts->start_ns > INT64_MAX - (int64_t)opts->days * 24 * HOUR_NS - 1000 * HOUR_NS)
        return SDB_FAIL(err, SDB_ERR_MISUSE, "start is too late for a range of %u days", opts->days);
    g = calloc(1, sizeof *g);
    if (g == NULL)
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for the span generator");
    g->opts = *opts;
    g->id_salt = mix64(opts->seed ^ 0x5e55105e55105e55ULL);
    g->nhours = opts->days * 24;
    g->cum = malloc((g->nhours + 1) * sizeof *g->cum);
    if (g->cum == NULL) {
        sdb_gen_destroy(g);
        return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for a range of %u days", opts->days);
    }
    h0 = floor_div(opts->start_ns, HOUR_NS);
    g->cum[0] = 0;
    for (uint32_t h = 0; h < g->nhours; h++) {
        int64_t abs_h = h0 + h, day = floor_div(abs_h, 24);
        int hod = (int)(abs_h - day * 24);
        int dow = (int)(((day % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday; 0 = Sunday */
        double w = hourly[hod] * ((dow == 0 || dow == 6) ? WEEKEND_FACTOR : 1.0);
        g->cum[h + 1] = g->cum[h] + w;
    }
    sum = 0;
    for (uint32_t e = 0; e < NENDPOINTS; e++)
        sum += endpoints[e].weight;
    for (uint32_t e = 0; e < NENDPOINTS; e++)
        g->endpoint_cum[e] = (e ? g->endpoint_cum[e - 1] : 0) + endpoints[e].weight / sum;
    sum = 0;
    for (uint32_t m = 0; m < NCHAT; m++)
        sum += 1.0 / pow(m + 1.0, 1.1);
    for (uint32_t m = 0; m < NCHAT; m++)
        g->model_cum[m] = (m ? g->model_cum[m - 1] : 0) + 1.0 / pow(m + 1.0, 1.1) / sum;
    build_names(g);
    *out = g;
    return SDB_OK;
}

void sdb_gen_destroy(sdb_gen *g)
{
    if (g == NULL)
        return;
    free(g->cum);
    free(g->pool);
    free(g->heap);
    free(g->freelist);
    free(g);
}

uint64_t sdb_gen_remaining(const sdb_gen *g)
{
    return g->opts.rows - g->emitted;
}

const sdb_gen_model *sdb_gen_models(size_t *count)
{
    *count = NMODELS;
    return models;
}

const sdb_gen_model *sdb_gen_model_find(const char *name, size_t len)
{
    for (size_t m = 0; m < NMODELS; m++)
        if (strlen(models[m].name) == len && memcmp(models[m].name, name, len) == 0)
            return &models[m];
    return NULL;
}

/* ---- building one trace ---- */

typedef struct trace_ctx {
    sdb_gen *g;
    rng r;
    uint64_t trace_hi, trace_lo;
    uint8_t endpoint;
    uint8_t prompt, version; /* the trace's A/B arm */
    int32_t session, user;
    bool failed;             /* an unrecovered error ended the trace */
    uint8_t fail_error;      /* its error type */
    uint32_t final_llm;      /* stage index of the last successful llm span, or UINT32_MAX */
    double load;             /* traffic weight of the trace's hour, 0..1 (rate limits follow it) */
    double migrated;         /* share of old-model calls moved to newer models, 0..0.4 */
    int incident;            /* provider index with an outage at the trace's time, or -1 */
} trace_ctx;

static span *add_span(trace_ctx *t, uint8_t kind, uint8_t name, uint64_t parent, int64_t start_us)
{
    sdb_gen *g = t->g;
    span *s = &g->stage[g->nstage++];
    memset(s, 0, sizeof *s);
    s->time = start_us * 1000;
    s->ttft_us = -1;
    s->trace_hi = t->trace_hi;
    s->trace_lo = t->trace_lo;
    do
        s->id = rng_u64(&t->r);
    while (s->id == 0);
    s->parent = parent;
    s->in_tok = s->out_tok = s->cost = -1;
    s->retries = -1;
    s->session = t->session;
    s->user = t->user;
    s->relevance = s->faith = -1;
    s->halluc = -1;
    s->kind = kind;
    s->name = name;
    s->model = NO_MODEL;
    s->endpoint = t->endpoint;
    s->prompt = NO_PROMPT;
    return s;
}

static bool room(const trace_ctx *t, uint32_t n)
{
    return t->g->nstage + n <= MAX_TRACE_SPANS;
}

static int64_t gap_us(trace_ctx *t)
{
    return clamp64(rng_lognormal(&t->r, 300, 0.8), 5, 50000);
}

/* The endpoint's preferred model 55% of the time, else a Zipf draw. Teams migrate over the
 * first 60 days after --start: by then 40% of gpt-4o calls have become gpt-4.1 and of
 * claude-3-5-sonnet calls claude-sonnet-4, so per-model cost over weeks has a trend. */
static uint8_t pick_model(trace_ctx *t)
{
    const endpoint_def *e = &endpoints[t->endpoint];
    uint8_t m = NCHAT - 1;
    double u;
    if (e->model != NO_MODEL && rng_chance(&t->r, 0.55)) {
        m = e->model;
    } else {
        u = rng_unif(&t->r);
        for (uint32_t i = 0; i < NCHAT; i++)
            if (u < t->g->model_cum[i]) {
                m = (uint8_t)i;
                break;
            }
    }
    if ((m == M_GPT4O || m == M_SONNET35) && rng_chance(&t->r, t->migrated))
        m = m == M_GPT4O ? M_GPT41 : M_SONNET4;
    return m;
}

/* How a first attempt of model m ends: E_NONE or the error. Rate limits are 55% of the
 * model's failures at peak load and fewer at night; a provider outage adds server errors
 * and timeouts. */
static uint8_t first_attempt(trace_ctx *t, uint8_t m)
{
    double err = perf[m].err_rate, u = rng_unif(&t->r);
    double p_rl = err * 0.55 * (0.3 + 0.7 * t->load), p_other = err * 0.45;
    double p_inc = t->incident == t->g->model_provider[m] ? 0.45 : 0.0;
    if (u < p_rl)
        return E_RATE_LIMIT;
    u -= p_rl;
    if (u < p_inc)
        return u < p_inc * 0.65 ? E_SERVER : E_TIMEOUT;
    u -= p_inc;
    if (u >= p_other)
        return E_NONE;
    u /= p_other;
    if (u < 0.44)
        return E_SERVER;
    if (u < 0.71)
        return E_TIMEOUT;
    if (u < 0.93)
        return E_INVALID;
    return E_CONTENT_FILTER;
}

static int16_t score_k(trace_ctx *t, double mean, double sd)
{
    double v = mean + sd * rng_normal(&t->r);
    if (v < 0)
        v = 0;
    if (v > 1)
        v = 1;
    return (int16_t)llround(v * 1000.0);
}

/* One llm call at start_us under parent. in_med / out_med are median token counts.
 * Returns its end in microseconds; an unrecovered failure sets t->failed. */
static int64_t llm_call(trace_ctx *t, uint64_t parent, int64_t start_us, double in_med,
                        double out_med, bool rag)
{
    sdb_gen *g = t->g;
    uint8_t m = pick_model(t);
    const model_perf *p = &perf[m];
    span *s = add_span(t, K_LLM, g->llm_name[m], parent, start_us);
    uint32_t self = g->nstage - 1;
    const ab_def *ab = NULL;
    double lat = 1.0, wait_ms = 0;
    int retries = 0;
    uint8_t e = E_NONE;
    s->model = m;
    if (t->prompt != NO_PROMPT) {
        s->prompt = t->prompt;
        s->version = t->version;
        ab = &scenarios[t->prompt % 4];
        lat = ab->latency[t->version == (1 + t->prompt % 6) ? 1 : 0];
    }
    s->in_tok = clamp64(rng_lognormal(&t->r, in_med, 0.8), 8, 120000);
    s->out_tok = clamp64(rng_lognormal(&t->r, out_med * p->out_factor, 0.7), 1, 8192);
    e = first_attempt(t, m);
    if (e != E_NONE) {
        while ((e == E_RATE_LIMIT || e == E_SERVER) && retries < 2) {
            /* a failed attempt, then exponential backoff with jitter */
            wait_ms += (e == E_RATE_LIMIT ? rng_lognormal(&t->r, 60, 0.5)
                                          : rng_lognormal(&t->r, 900, 0.8)) +
                       500.0 * (1 << retries) * (0.5 + rng_unif(&t->r));
            retries++;
            if (!rng_chance(&t->r, 0.45)) {
                e = E_NONE;
                break;
            }
        }
    }
    s->retries = retries;
    if (e != E_NONE) {
        double ms;
        switch (e) {
        case E_RATE_LIMIT: ms = rng_lognormal(&t->r, 60, 0.5); break;
        case E_SERVER: ms = rng_lognormal(&t->r, 1500, 0.8); break;
        case E_TIMEOUT: ms = p->timeout_ms + rng_unif(&t->r) * 50; break;
        case E_CONTENT_FILTER: ms = rng_lognormal(&t->r, p->ttft_ms, 0.4); break;
        default: ms = rng_lognormal(&t->r, 120, 0.5); break;
        }
        s->dur_us = clamp64((wait_ms + ms) * 1000.0, 1, INT64_C(1) << 40);
        s->error = e;
        s->in_tok = s->out_tok = -1;
        t->failed = true;
        t->fail_error = e;
        return start_us + s->dur_us;
    }
    {
        double ttft = rng_lognormal(&t->r, p->ttft_ms * (1.0 + (double)s->in_tok / 30000.0), 0.45);
        double gen = (double)s->out_tok * p->ms_per_tok * rng_lognormal(&t->r, 1.0, 0.3);
        double slow = rng_chance(&t->r, 0.005) ? 3.0 + 7.0 * rng_unif(&t->r) : 1.0;
        if (t->incident == g->model_provider[m])
            slow *= 1.8; /* a degraded provider is slow too */
        int64_t ttft_us = clamp64((wait_ms + ttft * lat * slow) * 1000.0, 1, INT64_C(1) << 40);
        int64_t gen_us = clamp64(gen * lat * slow * 1000.0, 1, INT64_C(1) << 40);
        const sdb_gen_model *mm = &models[m];
        s->ttft_us = ttft_us;
        s->dur_us = ttft_us + gen_us;
        s->cost = s->in_tok * mm->price_in + s->out_tok * mm->price_out;
    }
    if (ab != NULL && rng_chance(&t->r, 0.3)) {
        int arm = t->version == (1 + t->prompt % 6) ? 1 : 0;
        double h = ab->halluc[arm] * p->halluc_mult * (s->in_tok > 20000 ? 1.3 : 1.0);
        s->halluc = rng_chance(&t->r, h) ? 1 : 0;
        s->relevance = score_k(t, ab->relevance[arm] - 0.25 * s->halluc, 0.12);
        if (rag)
            s->faith = score_k(t, 0.9 - 0.35 * s->halluc, 0.07);
    }
    t->final_llm = self;
    return start_us + s->dur_us;
}

static int64_t embed_call(trace_ctx *t, uint64_t parent, int64_t start_us, double in_med,
                          uint8_t m)
{
    span *s = add_span(t, K_EMBEDDING, t->g->llm_name[m], parent, start_us);
    s->model = m;
    s->retries = 0;
    s->in_tok = clamp64(rng_lognormal(&t->r, in_med, 0.7), 1, 8191);
    if (rng_chance(&t->r, 0.003)) {
        s->error = E_RATE_LIMIT;
        s->in_tok = -1;
        s->dur_us = clamp64(rng_lognormal(&t->r, 50000, 0.5), 1000, 10000000);
        t->failed = true;
        t->fail_error = E_RATE_LIMIT;
        return start_us + s->dur_us;
    }
    s->out_tok = 0;
    s->cost = s->in_tok * models[m].price_in;
    s->dur_us = clamp64(rng_lognormal(&t->r, 45000 + 20.0 * (double)s->in_tok, 0.5), 500,
                        60000000);
    return start_us + s->dur_us;
}

static int64_t retriever_call(trace_ctx *t, uint64_t parent, int64_t start_us)
{
    span *s = add_span(t, K_RETRIEVER, t->g->retr_name[rng_below(&t->r, NRETRIEVERS)], parent,
                       start_us);
    if (rng_chance(&t->r, 0.004)) {
        s->error = E_TIMEOUT;
        s->dur_us = 5000000 + (int64_t)rng_below(&t->r, 20000);
        t->failed = true;
        t->fail_error = E_TIMEOUT;
        return start_us + s->dur_us;
    }
    s->dur_us = clamp64(rng_lognormal(&t->r, 40000, 0.6), 800, 30000000);
    return start_us + s->dur_us;
}

static int64_t tool_call(trace_ctx *t, uint64_t parent, int64_t start_us, uint32_t tool)
{
    span *s = add_span(t, K_TOOL, t->g->tool_name[tool], parent, start_us);
    double med = tool == 0 ? 800000 : tool == 4 ? 1500000 : tool >= TOOL_RERANK ? 60000 : 150000;
    s->retries = rng_chance(&t->r, 0.02) ? 1 : 0;
    s->dur_us = clamp64(rng_lognormal(&t->r, med * (1 + s->retries), 1.0), 200, 120000000);
    if (rng_chance(&t->r, 0.02))
        s->error = E_TOOL; /* the agent sees the error and carries on */
    return start_us + s->dur_us;
}

/* Where the cumulative traffic curve reaches fraction f of its total, as hour index h and
 * fraction of that hour, searching forward from hour `from` (fractions only grow). */
static uint32_t curve_hour(const sdb_gen *g, double f, uint32_t from, double *frac)
{
    double target = f * g->cum[g->nhours];
    uint32_t h = from;
    while (h + 1 < g->nhours && g->cum[h + 1] <= target)
        h++;
    *frac = (target - g->cum[h]) / (g->cum[h + 1] - g->cum[h]);
    if (*frac < 0)
        *frac = 0;
    if (*frac >= 1)
        *frac = 0x1.fffffffffffffp-1;
    return h;
}

/* The provider (index into providers) with an outage at absolute time ns, or -1. About a
 * third of the days have one outage of 20-90 minutes at a random time, drawn from the seed. */
static int incident_at(const sdb_gen *g, int64_t ns)
{
    int64_t day = floor_div(ns, 24 * HOUR_NS), minute = (ns - day * 24 * HOUR_NS) / 60000000000LL;
    uint64_t h = mix64(g->opts.seed ^ mix64((uint64_t)day ^ 0x1c1de7ULL));
    int64_t begin = (int64_t)((h >> 16) % 1440), len = 20 + (int64_t)((h >> 32) % 71);
    if (h % 100 >= 35)
        return -1;
    if (minute < begin || minute >= begin + len)
        return -1;
    return (int)((h >> 8) % NPROVIDERS);
}

/* Stage trace number n (its spans with times relative to the trace start). */
static void build_trace(sdb_gen *g, uint64_t n)
{
    trace_ctx t;
    span *root;
    uint64_t rid;
    int64_t cur;
    double u, ctx;
    uint32_t e;
    const endpoint_def *ep;
    memset(&t, 0, sizeof t);
    t.g = g;
    rng_seed(&t.r, mix64(g->opts.seed) ^ mix64(n + 0x7a11ce));
    t.final_llm = UINT32_MAX;
    g->nstage = 0;
    {
        /* the trace will start near where the curve is now: time-dependent behaviour keys on it */
        double frac, f = (double)g->generated / (double)g->opts.rows;
        uint32_t h = curve_hour(g, f < 1.0 ? f : 1.0 - 0x1.0p-40, g->hour_cursor, &frac);
        double w = g->cum[h + 1] - g->cum[h];
        t.load = w > 1.0 ? 1.0 : w;
        t.migrated = 0.4 * fmin(1.0, ((double)h + frac) / (24.0 * 60.0));
        t.incident = incident_at(g, g->opts.start_ns + (int64_t)h * HOUR_NS +
                                        (int64_t)(frac * (double)HOUR_NS));
    }
    t.trace_hi = rng_u64(&t.r);
    t.trace_lo = rng_u64(&t.r) | 1;
    u = rng_unif(&t.r);
    for (e = 0; e + 1 < NENDPOINTS && u >= g->endpoint_cum[e]; e++)
        ;
    t.endpoint = (uint8_t)e;
    ep = &endpoints[e];
    t.prompt = g->ep_prompt[e];
    if (t.prompt != NO_PROMPT) {
        uint32_t older = t.prompt % 6; /* versions[older] = "v<older+1>", newer is the next */
        t.version = (uint8_t)(rng_chance(&t.r, scenarios[t.prompt % 4].share_new) ? older + 1
                                                                                : older);
    }
    if (ep->pipeline == P_INGEST || endpoints[e].service == 6) {
        t.session = t.user = -1; /* batch jobs run without a user */
    } else {
        /* sessions: a heavy-tailed activity over 1M; users: 100k, heavy-tailed too */
        double us = rng_unif(&t.r);
        uint64_t h;
        t.session = (int32_t)(NSESSIONS * us * us);
        h = mix64((uint64_t)t.session ^ g->id_salt);
        us = (double)(h >> 11) * 0x1.0p-53;
        t.user = (int32_t)(NUSERS * us * us);
    }
    root = add_span(&t, ep->pipeline == P_CHAT ? K_AGENT : K_CHAIN, g->ep_root[e], 0, 0);
    rid = root->id;
    cur = gap_us(&t);
    switch (ep->pipeline) {
    case P_CHAT: {
        uint32_t steps = 0;
        ctx = 900 + rng_lognormal(&t.r, 600, 0.6);
        while (!t.failed && room(&t, 3)) {
            cur = llm_call(&t, rid, cur, ctx, 120, false) + gap_us(&t);
            if (t.failed || steps >= 5 || !rng_chance(&t.r, 0.55))
                break;
            if (rng_chance(&t.r, 0.25)) {
                cur = retriever_call(&t, rid, cur) + gap_us(&t);
            } else {
                uint32_t tool = (uint32_t)((e * 3 + rng_below(&t.r, 3)) % NCHAT_TOOLS);
                cur = tool_call(&t, rid, cur, tool) + gap_us(&t);
            }
            ctx *= 1.35;
            steps++;
        }
        break;
    }
    case P_RAG:
        cur = embed_call(&t, rid, cur, 24, EMB_SMALL) + gap_us(&t);
        if (!t.failed)
            cur = retriever_call(&t, rid, cur) + gap_us(&t);
        if (!t.failed && rng_chance(&t.r, 0.3))
            cur = tool_call(&t, rid, cur, TOOL_RERANK) + gap_us(&t);
        if (!t.failed)
            cur = llm_call(&t, rid, cur, 2600, 280, true) + gap_us(&t);
        break;
    case P_SIMPLE:
        cur = llm_call(&t, rid, cur, 650, e == EP_ARTICLES ? 900 : 300, false) + gap_us(&t);
        break;
    case P_CLASSIFY:
        cur = llm_call(&t, rid, cur, 320, 6, false) + gap_us(&t);
        break;
    case P_EXTRACT:
        cur = llm_call(&t, rid, cur, 1500, 180, false) + gap_us(&t);
        if (!t.failed) {
            span *v;
            cur = tool_call(&t, rid, cur, TOOL_VALIDATE) + gap_us(&t);
            v = &g->stage[g->nstage - 1];
            if (v->error != E_NONE && !t.failed)
                cur = llm_call(&t, rid, cur, 1900, 180, false) + gap_us(&t);
        }
        break;
    case P_INGEST: {
        uint32_t k = 1 + (uint32_t)rng_below(&t.r, 8);
        uint8_t m = rng_chance(&t.r, 0.7) ? EMB_SMALL : EMB_LARGE;
        for (uint32_t i = 0; i < k && !t.failed; i++)
            cur = embed_call(&t, rid, cur, 600, m) + gap_us(&t);
        break;
    }
    case P_SEARCH:
    default:
        cur = embed_call(&t, rid, cur, 20, EMB_SMALL) + gap_us(&t);
        if (!t.failed)
            cur = retriever_call(&t, rid, cur) + gap_us(&t);
        if (!t.failed && rng_chance(&t.r, 0.4))
            cur = retriever_call(&t, rid, cur) + gap_us(&t);
        break;
    }
    root = &g->stage[0];
    root->dur_us = cur;
    if (t.failed && (ep->pipeline != P_CHAT || rng_chance(&t.r, 0.8)))
        root->error = t.fail_error; /* agents sometimes recover from a failed step */
    if (!t.failed && t.final_llm != UINT32_MAX && t.user >= 0 && rng_chance(&t.r, 0.04)) {
        span *f = &g->stage[t.final_llm];
        double up = 0.78;
        if (f->halluc == 1)
            up -= 0.45;
        if (f->relevance >= 0)
            up += ((double)f->relevance / 1000.0 - 0.75) * 0.8;
        if (f->prompt != NO_PROMPT)
            up += f->version == (1 + f->prompt % 6) ? scenarios[f->prompt % 4].relevance[1] -
                                                          scenarios[f->prompt % 4].relevance[0]
                                                    : 0.0;
        f->feedback = rng_chance(&t.r, up) ? 1 : -1;
    }
    g->traces++;
}

/* Absolute start of the staged trace: invert the cumulative traffic curve between the
 * fraction of rows generated before it and after it. */
static int64_t place_trace(sdb_gen *g, rng *r)
{
    double rows = (double)g->opts.rows;
    double f0 = (double)g->generated / rows, f1 = (double)(g->generated + g->nstage) / rows;
    double f, frac;
    uint32_t h;
    if (f1 > 1.0)
        f1 = 1.0;
    f = f0 + rng_unif(r) * (f1 - f0);
    if (f >= 1.0)
        f = 1.0 - 0x1.0p-40;
    h = curve_hour(g, f, g->hour_cursor, &frac);
    g->hour_cursor = h;
    return g->opts.start_ns + (int64_t)h * HOUR_NS + (int64_t)(frac * (double)HOUR_NS);
}

static void stage_next(sdb_gen *g)
{
    rng r;
    build_trace(g, g->traces);
    rng_seed(&r, mix64(g->opts.seed ^ 0x71ace5) ^ g->traces);
    g->stage_start = place_trace(g, &r);
    g->staged = true;
}

/* ---- the heap of spans waiting for output ---- */

static inline bool span_before(const span *a, const span *b)
{
    return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static sdb_rc commit_stage(sdb_gen *g, sdb_err *err)
{
    if (g->pool_used + g->nstage > g->pool_cap && g->nfree < g->nstage) {
        uint32_t cap = g->pool_cap ? g->pool_cap * 2 : 1024;
        span *p;
        uint32_t *h, *f;
        while (cap < g->pool_used + g->nstage)
            cap *= 2;
        p = realloc(g->pool, cap * sizeof *p);
        if (p == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for %u pending spans", cap);
        g->pool = p;
        h = realloc(g->heap, cap * sizeof *h);
        if (h == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for %u pending spans", cap);
        g->heap = h;
        f = realloc(g->freelist, cap * sizeof *f);
        if (f == NULL)
            return SDB_FAIL(err, SDB_ERR_NOMEM, "no memory for %u pending spans", cap);
        g->freelist = f;
        g->pool_cap = cap;
    }
    for (uint32_t i = 0; i < g->nstage; i++) {
        uint32_t slot = g->nfree > 0 ? g->freelist[--g->nfree] : g->pool_used++;
        span *s = &g->pool[slot];
        uint32_t k = g->heap_n++;
        *s = g->stage[i];
        s->time += g->stage_start;
        s->seq = g->seq++;
        while (k > 0) {
            uint32_t up = (k - 1) / 2;
            if (!span_before(s, &g->pool[g->heap[up]]))
                break;
            g->heap[k] = g->heap[up];
            k = up;
        }
        g->heap[k] = slot;
    }
    g->generated += g->nstage;
    g->staged = false;
    return SDB_OK;
}

static uint32_t heap_pop(sdb_gen *g)
{
    uint32_t top = g->heap[0], last = g->heap[--g->heap_n], k = 0;
    const span *ls = &g->pool[last];
    for (;;) {
        uint32_t c = 2 * k + 1;
        if (c >= g->heap_n)
            break;
        if (c + 1 < g->heap_n && span_before(&g->pool[g->heap[c + 1]], &g->pool[g->heap[c]]))
            c++;
        if (!span_before(&g->pool[g->heap[c]], ls))
            break;
        g->heap[k] = g->heap[c];
        k = c;
    }
    if (g->heap_n > 0)
        g->heap[k] = last;
    g->freelist[g->nfree++] = top;
    return top;
}

/* ---- output into a batch ---- */

static const char hexdig[16] = "0123456789abcdef";

static void hex64(char *out, uint64_t v)
{
    for (int i = 15; i >= 0; i--) {
        out[i] = hexdig[v & 15];
        v >>= 4;
    }
}

typedef struct sym_cache {
    uint32_t code[MAX_NAMES]; /* UINT32_MAX = not yet interned in this call */
} sym_cache;

static sdb_rc push_sym(sdb_column *c, sym_cache *sc, uint32_t v, const char *s, sdb_err *err)
{
    if (sc->code[v] == UINT32_MAX)
        SDB_TRY(sdb_symdict_intern(c->dict, s, strlen(s), &sc->code[v], err));
    return sdb_column_push_code(c, sc->code[v], err);
}

static const double pow10_tab[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10};

static sdb_rc push_row(sdb_gen *g, sdb_batch *b, const int *idx, sym_cache *sc, const span *s,
                       sdb_err *err)
{
    sdb_column *c = b->cols;
    char buf[40];
    const sdb_gen_model *m = s->model != NO_MODEL ? &models[s->model] : NULL;
    const endpoint_def *ep = &endpoints[s->endpoint];
    SDB_TRY(sdb_column_push_i64(&c[idx[SDB_SPANS_TIME]], s->time, err));
    SDB_TRY(sdb_column_push_f64(&c[idx[SDB_SPANS_DURATION_MS]], (double)s->dur_us / 1e3, err));
    if (s->ttft_us >= 0)
        SDB_TRY(sdb_column_push_f64(&c[idx[SDB_SPANS_TTFT_MS]], (double)s->ttft_us / 1e3, err));
    else
        SDB_TRY(sdb_column_push_null(&c[idx[SDB_SPANS_TTFT_MS]], err));
    hex64(buf, s->trace_hi);
    hex64(buf + 16, s->trace_lo);
    SDB_TRY(sdb_column_push_str(&c[idx[SDB_SPANS_TRACE_ID]], buf, 32, err));
    hex64(buf, s->id);
    SDB_TRY(sdb_column_push_str(&c[idx[SDB_SPANS_SPAN_ID]], buf, 16, err));
    if (s->parent != 0) {
        hex64(buf, s->parent);
        SDB_TRY(sdb_column_push_str(&c[idx[SDB_SPANS_PARENT_SPAN_ID]], buf, 16, err));
    } else {
        SDB_TRY(sdb_column_push_null(&c[idx[SDB_SPANS_PARENT_SPAN_ID]], err));
    }
    SDB_TRY(push_sym(&c[idx[SDB_SPANS_NAME]], &sc[0], s->name, g->names[s->name], err));
    SDB_TRY(push_sym(&c[idx[SDB_SPANS_SPAN_KIND]], &sc[1], s->kind, kind_names[s->kind], err));
    SDB_TRY(push_sym(&c[idx[SDB_SPANS_SERVICE]], &sc[2], ep->service, services[ep->service].name,
                     err));
    SDB_TRY(push_sym(&c[idx[SDB_SPANS_PROJECT]], &sc[3], ep->service,
                     services[ep->service].project, err));
    if (m != NULL) {
        uint32_t pv = g->model_provider[s->model];
        SDB_TRY(push_sym(&c[idx[SDB_SPANS_MODEL]], &sc[4], s->model, m->name, err));
        SDB_TRY(push_sym(&c[idx[SDB_SPANS_PROVIDER]], &sc[5], pv, providers[pv], err));
    } else {
        SDB_TRY(sdb_column_push_null(&c[idx[SDB_SPANS_MODEL]], err));
        SDB_TRY(sdb_column_push_null(&c[idx[SDB_SPANS_PROVIDER]], err));
    }
    SDB_TRY(push_sym(&c[idx[SDB_SPANS_ENDPOINT]], &sc[6], s->endpoint, ep->route, err));
    SDB_TRY(push_sym(&c[idx[SDB_SPANS_STATUS]], &sc[7], s->error != E_NONE,
                     status_names[s->error != E_NONE], err));
    if (s->error != E_NONE)
        SDB_TRY(push_sym(&c[idx[SDB_SPANS_ERROR_TYPE]], &sc[8], s->error, error_names[s->error],
                         err));
    else
        SDB_TRY(sdb_column_push_null(&c[idx[SDB_SPANS_ERROR_TYPE]], err));
    if (s->in_tok >= 0)
        SDB_TRY(sdb_column_push_i64(&c[idx[SDB_SPANS_INPUT_TOKENS]], s->in_tok, err));
    else
        SDB_TRY(sdb_column_push_null(&c[idx[SDB_SPANS_INPUT_TOKENS]], err));
    if (s->out_tok >= 0)
        SDB_TRY(sdb_column_push_i64(&c[idx[SDB_SPANS_OUTPUT_TOKENS]], s->out_tok, err));
    else
        SDB_TRY(sdb_column_push_null(&c[idx[SDB_SPANS_OUTPUT_TOKENS]], err));
    if (s->cost >= 0)
        SDB_TRY(sdb_column_push_f64(&c[idx[SDB_SPANS_COST_USD]], (double)s->cost / pow10_tab[10],
                                    err));
    else
        SDB_TRY(sdb_column_push_null(&c[idx[SDB_SPANS_COST_USD]], err));
    if (s->retries >= 0)
        SDB_TRY(sdb_column_push_i64(&c[idx[SDB_SPANS_RETRIES]], s->retries, err));
    else
        SDB_TRY(sdb_column_push_null(&c[idx[SDB_SPANS_RETRIES]], err));
    if (s->prompt != NO_PROMPT) {
        SDB_TRY(push_sym(&c[idx[SDB_SPANS_PROMPT_NAME]], &sc[9], s->prompt, g->prompts[s->prompt],
                         err));
        SDB_TRY(push_sym(&c[idx[SDB_SPANS_PROMPT_VERSION]], &sc[10], s->version,
                         versions[s->version], err));
    } else {
        SDB_TRY(sdb_column_push_null(&c[idx[SDB_SPANS_PROMPT_NAME]], err));
        SDB_TRY(sdb_column_push_null(&c[idx[SDB_SPANS_PROMPT_VERSION]], err));
    }
    if (s->session >= 0) {
        memcpy(buf, "sess_", 5);
        hex64(buf + 5, mix64((uint64_t)s->session ^ g->id_salt));
        SDB_TRY(sdb_column_push_str(&c[idx[SDB_SPANS_SESSION_ID]], buf, 21, err));
    } else {
        SDB_TRY(sdb_column_push_null(&c[idx[SDB_SPANS_SESSION_ID]], err));
    }
    if (s->user >= 0) {
        int32_t u = s->user;
        memcpy(buf, "user_", 5);
        for (int i = 10; i >= 5; i--) {
            buf[i] = (char)('0' + u % 10);
            u /= 10;
        }
        SDB_TRY(sdb_column_push_str(&c[idx[SDB_SPANS_USER_ID]], buf, 11, err));
    } else {
        SDB_TRY(sdb_column_push_null(&c[idx[SDB_SPANS_USER_ID]], err));
    }
    if (s->halluc >= 0)
        SDB_TRY(sdb_column_push_bool(&c[idx[SDB_SPANS_HALLUCINATION]], s->halluc != 0, err));
    else
        SDB_TRY(sdb_column_push_null(&c[idx[SDB_SPANS_HALLUCINATION]], err));
    if (s->relevance >= 0)
        SDB_TRY(sdb_column_push_f64(&c[idx[SDB_SPANS_RELEVANCE]], (double)s->relevance / 1e3, err));
    else
        SDB_TRY(sdb_column_push_null(&c[idx[SDB_SPANS_RELEVANCE]], err));
    if (s->faith >= 0)
        SDB_TRY(sdb_column_push_f64(&c[idx[SDB_SPANS_FAITHFULNESS]], (double)s->faith / 1e3, err));
    else
        SDB_TRY(sdb_column_push_null(&c[idx[SDB_SPANS_FAITHFULNESS]], err));
    if (s->feedback != 0)
        SDB_TRY(sdb_column_push_i64(&c[idx[SDB_SPANS_FEEDBACK]], s->feedback, err));
    else
        SDB_TRY(sdb_column_push_null(&c[idx[SDB_SPANS_FEEDBACK]], err));
    return SDB_OK;
}

sdb_rc sdb_gen_next(sdb_gen *g, uint64_t nrows, sdb_batch *out, uint64_t *added, sdb_err *err)
{
    int idx[SDB_SPANS_NCOLS];
    sym_cache sc[NSYMCOLS];
    uint64_t n = 0, left = g->opts.rows - g->emitted, start = out->nrows;
    sdb_rc rc = SDB_OK;
    if (added != NULL)
        *added = 0;
    if (nrows > left)
        nrows = left;
    SDB_TRY(sdb_spans_batch_prepare(out, idx, err));
    SDB_TRY(sdb_batch_pad(out, err));
    for (uint32_t c = 0; c < SDB_SPANS_NCOLS; c++)
        SDB_TRY(sdb_column_reserve(&out->cols[idx[c]], out->nrows + nrows, err));
    memset(sc, 0xff, sizeof sc);
    while (n < nrows) {
        if (!g->staged && g->generated < g->opts.rows)
            stage_next(g);
        if (g->staged && (g->heap_n == 0 || g->pool[g->heap[0]].time > g->stage_start)) {
            SDB_TRY(commit_stage(g, err));
            continue;
        }
        if (g->heap_n == 0)
            break; /* cannot happen while rows remain: the last trace reaches rows */
        rc = push_row(g, out, idx, sc, &g->pool[heap_pop(g)], err);
        if (rc != SDB_OK)
            break;
        n++;
    }
    if (rc != SDB_OK) /* drop the half-pushed row */
        for (uint32_t c = 0; c < SDB_SPANS_NCOLS; c++)
            sdb_column_truncate(&out->cols[idx[c]], start + n);
    /* every canonical column got one value per row; pad any other columns of out */
    out->nrows += n;
    g->emitted += n;
    if (added != NULL)
        *added = n;
    if (rc == SDB_OK)
        rc = sdb_batch_pad(out, err);
    return rc;
}

/* ---- ISO-8601 time ---- */

size_t sdb_gen_format_time(int64_t ns, char out[32])
{
    sdb_civil c;
    int64_t frac, f[6];
    char *p = out;
    /* fixed width, always nine fractional digits, no printf: CSV output is hot */
    sdb_time_to_civil(ns, &c);
    if (c.year < 0 || c.year > 9999)
        return 0;
    f[0] = c.year;
    f[1] = c.month;
    f[2] = c.day;
    f[3] = c.hour;
    f[4] = c.min;
    f[5] = c.sec;
    frac = c.nsec;
    for (int i = 3; i >= 0; i--)
        p[i] = (char)('0' + f[0] % 10), f[0] /= 10;
    p += 4;
    for (int k = 1; k < 6; k++) {
        *p++ = "--T::"[k - 1];
        *p++ = (char)('0' + f[k] / 10);
        *p++ = (char)('0' + f[k] % 10);
    }
    *p++ = '.';
    for (int i = 8; i >= 0; i--)
        p[i] = (char)('0' + frac % 10), frac /= 10;
    p += 9;
    *p++ = 'Z';
    *p = '\0';
    return (size_t)(p - out);
}
