/* OTLP/JSON import (docs/import.md "OTLP/JSON"): ExportTraceServiceRequest documents, one
 * per file or one per line (the collector file exporter). Spans stream: each closes inside
 * resourceSpans[].scopeSpans[].spans[] and is mapped and dropped at once when its resource
 * has been seen (the usual field order); otherwise it waits for the end of its document.
 * Attributes in the OTel GenAI (current and deprecated names), OpenInference and Vercel AI
 * SDK conventions map onto the canonical columns; other scalar attributes become attr_*
 * columns. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/import_int.h"

/* Attributes the mapping reads (key_find below indexes key_names by length). */
typedef enum key_id {
    K_AI_MODEL, K_AI_PROVIDER, K_AI_TTFT, K_EMB_MODEL, K_ENDUSER, K_ERROR_TYPE, K_CONV, K_OP,
    K_PROMPT, K_PROVIDER, K_REQ_MODEL, K_RESP_MODEL, K_TTFC, K_SYSTEM, K_COMPLETION, K_COST, K_IN,
    K_OUT, K_PROMPT_TOK, K_LLM_COST, K_LLM_MODEL, K_PROMPT_VER, K_LLM_PROVIDER, K_LLM_REQ_MODEL,
    K_LLM_RESP_MODEL, K_LLM_SYSTEM, K_LLM_OUT, K_LLM_IN, K_OI_KIND, K_PROMPT_ID, K_RERANK_MODEL,
    K_ADDR, K_PORT, K_SESSION, K_RETRIES, K_USER, K_COUNT
} key_id;

static const char *const key_names[K_COUNT] = {
    "ai.model.id", "ai.model.provider", "ai.response.msToFirstChunk", "embedding.model_name",
    "enduser.id", "error.type", "gen_ai.conversation.id", "gen_ai.operation.name",
    "gen_ai.prompt.name", "gen_ai.provider.name", "gen_ai.request.model",
    "gen_ai.response.model", "gen_ai.response.time_to_first_chunk", "gen_ai.system",
    "gen_ai.usage.completion_tokens", "gen_ai.usage.cost", "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens", "gen_ai.usage.prompt_tokens", "llm.cost.total",
    "llm.model_name", "llm.prompt_template.version", "llm.provider", "llm.request.model_name",
    "llm.response.model_name", "llm.system", "llm.token_count.completion",
    "llm.token_count.prompt", "openinference.span.kind", "prompt.id", "reranker.model_name",
    "server.address", "server.port", "session.id", "spandb.retries", "user.id",
};

typedef enum av_kind { AV_NONE, AV_STR, AV_INT, AV_F64, AV_BOOL, AV_COMPOSITE } av_kind;

/* A decoded AnyValue. */
typedef struct av {
    av_kind kind;
    char *s;      /* STR */
    size_t len;
    int64_t i;    /* INT */
    double f;     /* F64 */
    bool b;       /* BOOL */
} av;

#define MAX_ANNOTATIONS 16

/* One OpenInference annotation (annotations.N.annotation.* / evaluations.N.evaluation.*). */
typedef struct annotation {
    av name, score, label, explanation, kind;
} annotation;

typedef struct span_ctx {
    sdb_import *im;
    sdb_irec *r;
    av k[K_COUNT];       /* known attributes of the span, k[i] valid when bit i of kset */
    uint64_t kset;
    annotation ann[MAX_ANNOTATIONS]; /* span-scope annotations by index */
    uint32_t ann_used;   /* bit i: ann[i] is set (else its contents are garbage) */
    bool bad;            /* the record was rejected */
} span_ctx;

/* Attribute keys are found by length, then first byte, then the bytes. */
#define KEY_MAXLEN 40

/* Is (k, n) the string literal lit? (a constant length, so memcmp is inlined) */
#define KEQ(k, n, lit) ((n) == sizeof lit - 1 && (k)[0] == (lit)[0] && \
                        memcmp((k), (lit), sizeof lit - 1) == 0)

/* Are the n bytes (n >= 1) at a and b equal? Inline, by words: attribute keys are 7 to 40
 * bytes, too short for a libc call to pay off. */
static inline bool bytes_eq(const char *a, const char *b, size_t n)
{
    uint64_t x, y;
    if (n < 8) {
        for (size_t i = 0; i < n; i++)
            if (a[i] != b[i])
                return false;
        return true;
    }
    for (size_t i = 0; i + 8 < n; i += 8) {
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        if (x != y)
            return false;
    }
    /* the last 8 bytes (overlapping the words before when n is not a multiple of 8) */
    memcpy(&x, a + n - 8, 8);
    memcpy(&y, b + n - 8, 8);
    return x == y;
}

static int key_find(const char *k, size_t n)
{
    /* the names of each length, as 1 + index into key_names, 0 ended (generated from
     * key_names; a length without names is all 0) */
    static const unsigned char by_len[KEY_MAXLEN + 1][6] = {
#define L(...) {__VA_ARGS__, 0}
        [7] = L(K_USER + 1),
        [9] = L(K_PROMPT_ID + 1),
        [10] = L(K_ENDUSER + 1, K_ERROR_TYPE + 1, K_LLM_SYSTEM + 1, K_SESSION + 1),
        [11] = L(K_AI_MODEL + 1, K_PORT + 1),
        [12] = L(K_LLM_PROVIDER + 1),
        [13] = L(K_SYSTEM + 1),
        [14] = L(K_LLM_COST + 1, K_LLM_MODEL + 1, K_ADDR + 1, K_RETRIES + 1),
        [17] = L(K_AI_PROVIDER + 1, K_COST + 1),
        [18] = L(K_PROMPT + 1),
        [19] = L(K_RERANK_MODEL + 1),
        [20] = L(K_EMB_MODEL + 1, K_PROVIDER + 1, K_REQ_MODEL + 1),
        [21] = L(K_OP + 1, K_RESP_MODEL + 1),
        [22] = L(K_CONV + 1, K_LLM_REQ_MODEL + 1, K_LLM_IN + 1),
        [23] = L(K_LLM_RESP_MODEL + 1, K_OI_KIND + 1),
        [25] = L(K_IN + 1),
        [26] = L(K_AI_TTFT + 1, K_OUT + 1, K_PROMPT_TOK + 1, K_LLM_OUT + 1),
        [27] = L(K_PROMPT_VER + 1),
        [30] = L(K_COMPLETION + 1),
        [35] = L(K_TTFC + 1),
#undef L
    };
    if (n == 0 || n > KEY_MAXLEN)
        return -1;
    for (const unsigned char *p = by_len[n]; *p != 0; p++)
        if (key_names[*p - 1][0] == k[0] && bytes_eq(key_names[*p - 1], k, n))
            return *p - 1;
    return -1;
}

static bool span_bad(span_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool span_bad(span_ctx *c, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!c->bad)
        sdb_import_reject(c->im, c->r->line, "%s", msg);
    c->bad = true;
    return false;
}

/* Decode AnyValue v of attribute key; false (and the record rejected) on a wrong type. */
static bool decode(span_ctx *c, const char *key, const sdb_jnode *v, av *out)
{
    const sdb_jnode *x;
    memset(out, 0, sizeof *out);
    if (v == NULL || v->type == SDB_J_NULL)
        return true;
    if (v->type != SDB_J_OBJ)
        return span_bad(c, "attribute %s: value is not an AnyValue object", key);
    if ((x = v->first) == NULL)
        return true;
    if (KEQ(x->key, x->keylen, "stringValue")) {
        if (x->type != SDB_J_STR)
            return span_bad(c, "attribute %s: stringValue is not a string", key);
        out->kind = AV_STR;
        out->s = x->s;
        out->len = x->len;
    } else if (KEQ(x->key, x->keylen, "intValue")) {
        if (!sdb_jint(x, &out->i))
            return span_bad(c, "attribute %s: intValue '%s' is not a 64-bit integer", key,
                            x->type == SDB_J_STR || x->type == SDB_J_NUM ? x->s : "?");
        out->kind = AV_INT;
    } else if (KEQ(x->key, x->keylen, "doubleValue")) {
        if (x->type == SDB_J_STR && strcmp(x->s, "NaN") == 0)
            out->f = NAN;
        else if (x->type == SDB_J_STR && strcmp(x->s, "Infinity") == 0)
            out->f = INFINITY;
        else if (x->type == SDB_J_STR && strcmp(x->s, "-Infinity") == 0)
            out->f = -INFINITY;
        else if (!sdb_jnum(x, &out->f))
            return span_bad(c, "attribute %s: doubleValue '%s' is not a number", key,
                            x->type == SDB_J_STR || x->type == SDB_J_NUM ? x->s : "?");
        out->kind = AV_F64;
    } else if (KEQ(x->key, x->keylen, "boolValue")) {
        if (x->type != SDB_J_BOOL)
            return span_bad(c, "attribute %s: boolValue is not true or false", key);
        out->kind = AV_BOOL;
        out->b = x->b;
    } else {
        out->kind = AV_COMPOSITE; /* arrayValue, kvlistValue, bytesValue */
    }
    return true;
}

static bool av_int(const av *a, int64_t *v)
{
    if (a->kind == AV_INT) {
        *v = a->i;
        return true;
    }
    if (a->kind == AV_F64 && a->f >= -9.2e18 && a->f <= 9.2e18 && a->f == floor(a->f)) {
        *v = (int64_t)a->f;
        return true;
    }
    if (a->kind == AV_STR) {
        char *e;
        long long x = strtoll(a->s, &e, 10);
        if (a->len > 0 && e == a->s + a->len) {
            *v = x;
            return true;
        }
    }
    return false;
}

static bool av_f64(const av *a, double *v)
{
    int64_t i;
    if (a->kind == AV_F64) {
        *v = a->f;
        return true;
    }
    if (av_int(a, &i)) {
        *v = (double)i;
        return true;
    }
    return false;
}

/* Does key have a path segment that is all digits (llm.input_messages.3.message.role)? */
static bool indexed_key(const char *k, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (k[i] != '.' || i + 1 >= n || k[i + 1] < '0' || k[i + 1] > '9')
            continue;
        size_t j = i + 1;
        while (j < n && k[j] >= '0' && k[j] <= '9')
            j++;
        if (j == n || k[j] == '.')
            return true;
    }
    return false;
}

static void put_attr(span_ctx *c, const char *key, size_t keylen, const av *a);

/* The first "key" and the first "value" member of an attribute object kv, in one pass. */
static void kv_members(const sdb_jnode *kv, const sdb_jnode **kn, const sdb_jnode **vn)
{
    for (const sdb_jnode *m = kv->type == SDB_J_OBJ ? kv->first : NULL; m != NULL; m = m->next) {
        if (*kn == NULL && KEQ(m->key, m->keylen, "key"))
            *kn = m;
        else if (*vn == NULL && KEQ(m->key, m->keylen, "value"))
            *vn = m;
    }
}

/* Walk an attributes array: known keys into c->k, other scalars into extras when keep. */
static bool attributes(span_ctx *c, const sdb_jnode *arr, bool keep)
{
    if (arr == NULL || arr->type == SDB_J_NULL)
        return true;
    if (arr->type != SDB_J_ARR)
        return span_bad(c, "attributes is not an array");
    for (const sdb_jnode *kv = arr->first; kv != NULL; kv = kv->next) {
        const sdb_jnode *kn = NULL, *vn = NULL;
        av a;
        kv_members(kv, &kn, &vn);
        if (kn == NULL || kn->type != SDB_J_STR)
            return span_bad(c, "an attribute has no string key");
        if (!decode(c, kn->s, vn, &a))
            return false;
        if (keep || key_find(kn->s, kn->len) >= 0)
            put_attr(c, kn->s, kn->len, &a);
    }
    return true;
}

/* A JSON scalar as an attribute value (Phoenix flat attribute maps). */
static void json_av(const sdb_jnode *v, av *out)
{
    memset(out, 0, sizeof *out);
    switch (v->type) {
    case SDB_J_STR:
        out->kind = AV_STR;
        out->s = v->s;
        out->len = v->len;
        break;
    case SDB_J_NUM:
        if (sdb_jint(v, &out->i) && strpbrk(v->s, ".eE") == NULL)
            out->kind = AV_INT;
        else if (sdb_jnum(v, &out->f))
            out->kind = AV_F64;
        break;
    case SDB_J_BOOL:
        out->kind = AV_BOOL;
        out->b = v->b;
        break;
    case SDB_J_ARR:
    case SDB_J_OBJ:
        out->kind = AV_COMPOSITE;
        break;
    case SDB_J_NULL:
        break;
    }
}

/* annotations.N.annotation.F or evaluations.N.evaluation.F into c->ann[N]; true when key is
 * one (N past MAX_ANNOTATIONS or an unknown F is dropped). */
static bool annotation_attr(span_ctx *c, const char *key, size_t keylen, const av *a)
{
    static const struct {
        const char *prefix, *mid;
    } forms[] = {{"annotations.", ".annotation."}, {"evaluations.", ".evaluation."}};
    for (size_t f = 0; f < 2; f++) {
        size_t pl = strlen(forms[f].prefix), ml = strlen(forms[f].mid), i = pl;
        unsigned long n = 0;
        const char *field;
        annotation *an;
        if (keylen <= pl || memcmp(key, forms[f].prefix, pl) != 0)
            continue;
        while (i < keylen && key[i] >= '0' && key[i] <= '9' && i < pl + 3)
            n = n * 10 + (unsigned long)(key[i++] - '0');
        if (i == pl || keylen - i <= ml || memcmp(key + i, forms[f].mid, ml) != 0)
            return false;
        if (n >= MAX_ANNOTATIONS)
            return true;
        field = key + i + ml;
        an = &c->ann[n];
        if (!(c->ann_used >> n & 1u)) {
            memset(an, 0, sizeof *an);
            c->ann_used |= 1u << n;
        }
        if (strcmp(field, "name") == 0)
            an->name = *a;
        else if (strcmp(field, "score") == 0)
            an->score = *a;
        else if (strcmp(field, "label") == 0)
            an->label = *a;
        else if (strcmp(field, "explanation") == 0)
            an->explanation = *a;
        else if (strcmp(field, "annotator_kind") == 0)
            an->kind = *a;
        return true;
    }
    return false;
}

/* One attribute (key, value) into c: a known key, or an extra when scalar. */
static void put_attr(span_ctx *c, const char *key, size_t keylen, const av *a)
{
    int id = key_find(key, keylen);
    static const sdb_ival_kind kinds[] = {
        [AV_STR] = SDB_IV_STR, [AV_INT] = SDB_IV_INT, [AV_F64] = SDB_IV_F64,
        [AV_BOOL] = SDB_IV_BOOL};
    sdb_iextra *e;
    if (id >= 0) {
        if (!(c->kset >> id & 1u) || c->k[id].kind == AV_NONE) {
            c->k[id] = *a;
            c->kset |= (uint64_t)1 << id;
        }
        return;
    }
    if (annotation_attr(c, key, keylen, a))
        return;
    if (a->kind == AV_NONE || a->kind == AV_COMPOSITE || indexed_key(key, keylen))
        return;
    if ((e = sdb_irec_extra(c->r, key, keylen, kinds[a->kind])) != NULL) {
        e->s = a->s;
        e->len = a->len;
        e->i = a->i;
        e->f = a->f;
        e->b = a->b;
    }
}

/* A decimal-string or number of nanoseconds. */
static bool ns_of(const sdb_jnode *n, int64_t *v)
{
    return n != NULL && (n->type == SDB_J_STR || n->type == SDB_J_NUM) && sdb_jint(n, v);
}

static const av av_none; /* kind AV_NONE */

/* Known attribute id of c (AV_NONE when the span does not have it). */
#define KV(c, id) (((c)->kset >> (id) & 1u) ? &(c)->k[id] : &av_none)

/* The first present string among ids, into canonical column col. */
static void pick_str(span_ctx *c, int col, const key_id *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (KV(c, ids[i])->kind == AV_STR && KV(c, ids[i])->len > 0) {
            sdb_irec_str(c->r, col, KV(c, ids[i])->s, KV(c, ids[i])->len);
            return;
        }
}

static bool pick_int(span_ctx *c, int col, const key_id *ids, size_t n)
{
    int64_t v;
    for (size_t i = 0; i < n; i++)
        if (av_int(KV(c, ids[i]), &v)) {
            sdb_irec_i64(c->r, col, v);
            return true;
        }
    return false;
}

static const char *op_kind(const char *op)
{
    static const char *const map[][2] = {
        {"chat", "llm"}, {"generate_content", "llm"}, {"text_completion", "llm"},
        {"embeddings", "embedding"}, {"retrieval", "retriever"}, {"execute_tool", "tool"},
        {"invoke_agent", "agent"}, {"create_agent", "agent"}, {"invoke_workflow", "chain"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (op[0] == map[i][0][0] && strcmp(op, map[i][0]) == 0)
            return map[i][1];
    return op;
}

/* Lower-case an OpenInference kind (LLM -> llm) in place. */
static void lower(char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            s[i] = (char)(s[i] - 'A' + 'a');
}

static const char *str_attr(const sdb_jnode *attrs, const char *key)
{
    for (const sdb_jnode *kv = attrs ? attrs->first : NULL; kv != NULL; kv = kv->next) {
        const char *k = sdb_jstr(sdb_jobj_get(kv, "key"), NULL);
        if (k != NULL && strcmp(k, key) == 0)
            return sdb_jstr(sdb_jobj_get(sdb_jobj_get(kv, "value"), "stringValue"), NULL);
    }
    return NULL;
}

static sdb_rc apply_eval(span_ctx *c, const char *name, const char *label, bool has_score,
                         double score, const char *comment, const char *source, int64_t at,
                         uint64_t line, sdb_err *err);

/* An evaluation event (gen_ai.evaluation.result). */
static sdb_rc eval_event(span_ctx *c, const sdb_jnode *ev, int64_t at, sdb_err *err)
{
    const sdb_jnode *attrs = sdb_jobj_get(ev, "attributes");
    const char *name = str_attr(attrs, "gen_ai.evaluation.name");
    const char *label = str_attr(attrs, "gen_ai.evaluation.score.label");
    double score = 0;
    bool has_score = false;
    for (const sdb_jnode *kv = attrs ? attrs->first : NULL; kv != NULL; kv = kv->next) {
        const char *k = sdb_jstr(sdb_jobj_get(kv, "key"), NULL);
        av a;
        if (k != NULL && strcmp(k, "gen_ai.evaluation.score.value") == 0 &&
            decode(c, k, sdb_jobj_get(kv, "value"), &a) && av_f64(&a, &score))
            has_score = true;
    }
    if (name == NULL)
        return SDB_OK;
    return apply_eval(c, name, label, has_score, score,
                      str_attr(attrs, "gen_ai.evaluation.explanation"), NULL, at, ev->line, err);
}

/* An evaluation result of the span: hallucination, relevance, faithfulness and
 * user_feedback fill span columns; other names go to table scores. */
static sdb_rc apply_eval(span_ctx *c, const char *name, const char *label, bool has_score,
                         double score, const char *comment, const char *source, int64_t at,
                         uint64_t line, sdb_err *err)
{
    if (strcmp(name, "hallucination") == 0 && (has_score || label != NULL)) {
        sdb_irec_bool(c->r, SDB_SPANS_HALLUCINATION,
                      label != NULL ? strcmp(label, "hallucinated") == 0 : score >= 0.5);
    } else if (strcmp(name, "relevance") == 0 && has_score) {
        sdb_irec_f64(c->r, SDB_SPANS_RELEVANCE, score);
    } else if (strcmp(name, "faithfulness") == 0 && has_score) {
        sdb_irec_f64(c->r, SDB_SPANS_FAITHFULNESS, score);
    } else if ((strcmp(name, "user_feedback") == 0 || strcmp(name, "feedback") == 0) &&
               has_score && score == floor(score) && fabs(score) < 1e15) {
        sdb_irec_i64(c->r, SDB_SPANS_FEEDBACK, (int64_t)score);
    } else {
        sdb_iscore s;
        memset(&s, 0, sizeof s);
        s.line = line;
        s.time = at;
        s.trace_id = c->r->s[SDB_SPANS_TRACE_ID];
        s.span_id = c->r->s[SDB_SPANS_SPAN_ID];
        s.name = name;
        s.label = label;
        s.value = score;
        s.has_value = has_score;
        s.target = "span";
        s.comment = comment;
        s.source = source;
        return sdb_import_score(c->im, &s, err);
    }
    return SDB_OK;
}

/* The canonical columns from the known attributes collected in c (and the OTel kind). */
static void apply_known(span_ctx *c, int64_t kind)
{
    sdb_irec *r = c->r;
    {
        static const key_id model[] = {K_RESP_MODEL, K_REQ_MODEL, K_LLM_RESP_MODEL, K_LLM_MODEL,
                                       K_LLM_REQ_MODEL, K_EMB_MODEL, K_RERANK_MODEL, K_AI_MODEL};
        static const key_id provider[] = {K_PROVIDER, K_SYSTEM, K_LLM_PROVIDER, K_LLM_SYSTEM,
                                          K_AI_PROVIDER};
        static const key_id in[] = {K_IN, K_PROMPT_TOK, K_LLM_IN};
        static const key_id out[] = {K_OUT, K_COMPLETION, K_LLM_OUT};
        static const key_id session[] = {K_CONV, K_SESSION};
        static const key_id user[] = {K_USER, K_ENDUSER};
        static const key_id prompt[] = {K_PROMPT, K_PROMPT_ID};
        static const key_id pver[] = {K_PROMPT_VER};
        static const key_id etype[] = {K_ERROR_TYPE};
        static const key_id retries[] = {K_RETRIES};
        double cost;
        pick_str(c, SDB_SPANS_MODEL, model, sizeof model / sizeof model[0]);
        pick_str(c, SDB_SPANS_PROVIDER, provider, sizeof provider / sizeof provider[0]);
        pick_int(c, SDB_SPANS_INPUT_TOKENS, in, sizeof in / sizeof in[0]);
        pick_int(c, SDB_SPANS_OUTPUT_TOKENS, out, sizeof out / sizeof out[0]);
        pick_str(c, SDB_SPANS_SESSION_ID, session, sizeof session / sizeof session[0]);
        pick_str(c, SDB_SPANS_USER_ID, user, sizeof user / sizeof user[0]);
        pick_str(c, SDB_SPANS_PROMPT_NAME, prompt, sizeof prompt / sizeof prompt[0]);
        pick_str(c, SDB_SPANS_ERROR_TYPE, etype, 1);
        pick_int(c, SDB_SPANS_RETRIES, retries, 1);
        if (KV(c, K_PROMPT_VER)->kind == AV_INT) {
            int m = snprintf(r->scratch, sizeof r->scratch, "%lld", (long long)KV(c, K_PROMPT_VER)->i);
            sdb_irec_str(r, SDB_SPANS_PROMPT_VERSION, r->scratch, (size_t)m);
            r->scratch_used = (size_t)m + 1;
        } else {
            pick_str(c, SDB_SPANS_PROMPT_VERSION, pver, 1);
        }
        if (av_f64(KV(c, K_COST), &cost) || av_f64(KV(c, K_LLM_COST), &cost))
            sdb_irec_f64(r, SDB_SPANS_COST_USD, cost);
        if (KV(c, K_ADDR)->kind == AV_STR) {
            int64_t port;
            size_t room = sizeof r->scratch - r->scratch_used;
            if (av_int(KV(c, K_PORT), &port) && KV(c, K_ADDR)->len + 24 < room) {
                char *p = r->scratch + r->scratch_used;
                int m = snprintf(p, room, "%s:%lld", KV(c, K_ADDR)->s, (long long)port);
                sdb_irec_str(r, SDB_SPANS_ENDPOINT, p, (size_t)m);
            } else {
                sdb_irec_str(r, SDB_SPANS_ENDPOINT, KV(c, K_ADDR)->s, KV(c, K_ADDR)->len);
            }
        }
        if (KV(c, K_TTFC)->kind != AV_NONE && av_f64(KV(c, K_TTFC), &cost))
            sdb_irec_f64(r, SDB_SPANS_TTFT_MS, cost * 1000.0);
        else if (KV(c, K_AI_TTFT)->kind != AV_NONE && av_f64(KV(c, K_AI_TTFT), &cost))
            sdb_irec_f64(r, SDB_SPANS_TTFT_MS, cost);
    }
    /* span kind: OpenInference, else the GenAI operation, else an LLM call by its tokens,
     * else the OTel kind */
    if (KV(c, K_OI_KIND)->kind == AV_STR) {
        lower(KV(c, K_OI_KIND)->s, KV(c, K_OI_KIND)->len);
        sdb_irec_str(r, SDB_SPANS_SPAN_KIND, KV(c, K_OI_KIND)->s, KV(c, K_OI_KIND)->len);
    } else if (KV(c, K_OP)->kind == AV_STR) {
        const char *k = op_kind(KV(c, K_OP)->s);
        sdb_irec_str(r, SDB_SPANS_SPAN_KIND, k, strlen(k));
    } else if (sdb_irec_has(r, SDB_SPANS_INPUT_TOKENS) || sdb_irec_has(r, SDB_SPANS_OUTPUT_TOKENS)) {
        sdb_irec_str(r, SDB_SPANS_SPAN_KIND, "llm", 3);
    } else if (kind > 0 && kind <= 5) {
        static const char *const kn[] = {"", "internal", "server", "client", "producer",
                                         "consumer"};
        sdb_irec_str(r, SDB_SPANS_SPAN_KIND, kn[kind], strlen(kn[kind]));
    }
}

static sdb_rc map_span(sdb_import *im, const sdb_jnode *res, sdb_jnode *sp, sdb_err *err)
{
    sdb_irec rec;
    span_ctx c;
    sdb_irec *r = &rec;
    sdb_jnode *tid = NULL, *sid = NULL, *pid = NULL, *name = NULL, *t0 = NULL, *t1 = NULL;
    sdb_jnode *kn = NULL, *attrs = NULL, *status = NULL, *events = NULL;
    const sdb_jnode *n;
    int64_t start = 0, end = 0, kind = 0;
    bool has_ttft;
    sdb_irec_reset(r, sp->line);
    c.kset = 0;
    c.ann_used = 0;
    c.bad = false;
    c.im = im;
    c.r = r;
    /* the members the mapping reads, the first of each name, in one pass */
    for (sdb_jnode *m = sp->type == SDB_J_OBJ ? sp->first : NULL; m != NULL; m = m->next) {
        sdb_jnode **slot = NULL;
        switch (m->keylen) {
        case 4:
            slot = KEQ(m->key, 4, "name") ? &name : KEQ(m->key, 4, "kind") ? &kn : NULL;
            break;
        case 6:
            slot = KEQ(m->key, 6, "spanId") ? &sid : KEQ(m->key, 6, "status") ? &status
                   : KEQ(m->key, 6, "events") ? &events : NULL;
            break;
        case 7:
            slot = KEQ(m->key, 7, "traceId") ? &tid : NULL;
            break;
        case 10:
            slot = KEQ(m->key, 10, "attributes") ? &attrs : NULL;
            break;
        case 12:
            slot = KEQ(m->key, 12, "parentSpanId") ? &pid : NULL;
            break;
        case 15:
            slot = KEQ(m->key, 15, "endTimeUnixNano") ? &t1 : NULL;
            break;
        case 17:
            slot = KEQ(m->key, 17, "startTimeUnixNano") ? &t0 : NULL;
            break;
        default:
            break;
        }
        if (slot != NULL && *slot == NULL)
            *slot = m;
    }
    if (sp->type != SDB_J_OBJ) {
        sdb_import_reject(im, sp->line, "a span is not a JSON object");
        return SDB_OK;
    }
    if (sid == NULL || sid->type != SDB_J_STR || sid->len == 0) {
        sdb_import_reject(im, sp->line, sid == NULL ? "span without spanId"
                                                    : "spanId is not a non-empty string");
        return SDB_OK;
    }
    if (tid == NULL || tid->type != SDB_J_STR || tid->len == 0) {
        sdb_import_reject(im, sp->line, "span %.64s: traceId missing or not a string", sid->s);
        return SDB_OK;
    }
    sdb_import_hexid(tid->s, tid->len);
    sdb_import_hexid(sid->s, sid->len);
    sdb_irec_str(r, SDB_SPANS_TRACE_ID, tid->s, tid->len);
    sdb_irec_str(r, SDB_SPANS_SPAN_ID, sid->s, sid->len);
    sdb_import_span_id_hint(im, r);
    if (pid != NULL && pid->type == SDB_J_STR && pid->len > 0) {
        sdb_import_hexid(pid->s, pid->len);
        sdb_irec_str(r, SDB_SPANS_PARENT_SPAN_ID, pid->s, pid->len);
    } else if (pid != NULL && pid->type != SDB_J_STR && pid->type != SDB_J_NULL) {
        sdb_import_reject(im, sp->line, "span %.64s: parentSpanId is not a string", sid->s);
        return SDB_OK;
    }
    if ((n = name) != NULL && n->type == SDB_J_STR)
        sdb_irec_str(r, SDB_SPANS_NAME, n->s, n->len);
    if (!ns_of(t0, &start)) {
        sdb_import_reject(im, sp->line, "span %.64s: startTimeUnixNano missing or not an integer",
                          sid->s);
        return SDB_OK;
    }
    sdb_irec_i64(r, SDB_SPANS_TIME, start);
    if ((n = t1) != NULL) {
        if (!ns_of(n, &end)) {
            sdb_import_reject(im, sp->line, "span %.64s: endTimeUnixNano is not an integer",
                              sid->s);
            return SDB_OK;
        }
        if (end != 0)
            sdb_irec_f64(r, SDB_SPANS_DURATION_MS, sdb_import_ms(end, start));
    }
    if ((n = kn) != NULL && !sdb_jint(n, &kind)) {
        static const char *const names[] = {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL",
                                            "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT",
                                            "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"};
        kind = -1;
        for (int i = 0; i < 6 && n->type == SDB_J_STR; i++)
            if (strcmp(n->s, names[i]) == 0)
                kind = i;
        if (kind < 0) {
            sdb_import_reject(im, sp->line, "span %.64s: kind is not a SpanKind", sid->s);
            return SDB_OK;
        }
    }
    /* resource: service and project (the first attribute of each name, in one pass) */
    if (res != NULL) {
        const sdb_jnode *ra = sdb_jobj_get(res, "attributes");
        const sdb_jnode *svc = NULL, *proj = NULL;
        bool have_svc = false, have_proj = false;
        for (const sdb_jnode *kv = ra ? ra->first : NULL; kv != NULL; kv = kv->next) {
            const sdb_jnode *akn = NULL, *avn = NULL;
            kv_members(kv, &akn, &avn);
            if (akn == NULL || akn->type != SDB_J_STR)
                continue;
            if (!have_svc && KEQ(akn->s, akn->len, "service.name")) {
                have_svc = true;
                svc = sdb_jobj_get(avn, "stringValue");
            } else if (!have_proj && KEQ(akn->s, akn->len, "openinference.project.name")) {
                have_proj = true;
                proj = sdb_jobj_get(avn, "stringValue");
            }
        }
        if (svc != NULL && svc->type == SDB_J_STR)
            sdb_irec_str(r, SDB_SPANS_SERVICE, svc->s, svc->len);
        if (proj != NULL && proj->type == SDB_J_STR)
            sdb_irec_str(r, SDB_SPANS_PROJECT, proj->s, proj->len);
    }
    if (!attributes(&c, attrs, true))
        return SDB_OK;
    apply_known(&c, kind);
    /* status */
    {
        int64_t code = 0;
        const sdb_jnode *cn = status ? sdb_jobj_get(status, "code") : NULL;
        if (cn != NULL && !sdb_jint(cn, &code)) {
            code = -1;
            if (cn->type == SDB_J_STR && strcmp(cn->s, "STATUS_CODE_OK") == 0)
                code = 1;
            else if (cn->type == SDB_J_STR && strcmp(cn->s, "STATUS_CODE_ERROR") == 0)
                code = 2;
            else if (cn->type == SDB_J_STR && strcmp(cn->s, "STATUS_CODE_UNSET") == 0)
                code = 0;
        }
        if (code < 0 || code > 2) {
            sdb_import_reject(im, sp->line, "span %.64s: status.code is not 0, 1 or 2", sid->s);
            return SDB_OK;
        }
        sdb_irec_str(r, SDB_SPANS_STATUS, code == 2 ? "error" : code == 1 ? "ok" : "unset",
                     code == 2 ? 5 : code == 1 ? 2 : 5);
    }
    /* events: TTFT, exception type, evaluations */
    has_ttft = sdb_irec_has(r, SDB_SPANS_TTFT_MS);
    for (const sdb_jnode *ev = events && events->type == SDB_J_ARR ? events->first : NULL;
         ev != NULL; ev = ev->next) {
        const char *en = sdb_jstr(sdb_jobj_get(ev, "name"), NULL);
        int64_t at = start;
        if (en == NULL)
            continue;
        ns_of(sdb_jobj_get(ev, "timeUnixNano"), &at);
        if (!has_ttft && (strcmp(en, "ai.stream.firstChunk") == 0 ||
                          strcmp(en, "First Token Stream Event") == 0)) {
            sdb_irec_f64(r, SDB_SPANS_TTFT_MS, sdb_import_ms(at, start));
            has_ttft = true;
        } else if (strcmp(en, "exception") == 0 && !sdb_irec_has(r, SDB_SPANS_ERROR_TYPE)) {
            const char *et = str_attr(sdb_jobj_get(ev, "attributes"), "exception.type");
            if (et != NULL)
                sdb_irec_str(r, SDB_SPANS_ERROR_TYPE, et, strlen(et));
        } else if (strcmp(en, "gen_ai.evaluation.result") == 0) {
            SDB_TRY(eval_event(&c, ev, at, err));
        }
    }
    if (c.bad)
        return SDB_OK;
    for (int i = 0; i < MAX_ANNOTATIONS && c.ann_used != 0; i++) {
        const annotation *an = &c.ann[i];
        double score = 0;
        bool has;
        if (!(c.ann_used >> i & 1u) || an->name.kind != AV_STR)
            continue;
        has = av_f64(&an->score, &score);
        SDB_TRY(apply_eval(&c, an->name.s, an->label.kind == AV_STR ? an->label.s : NULL, has,
                           score, an->explanation.kind == AV_STR ? an->explanation.s : NULL,
                           an->kind.kind == AV_STR ? an->kind.s : NULL,
                           start, sp->line, err));
    }
    return sdb_import_span(im, r, err);
}

static bool key_is(const sdb_jnode *n, const char *k)
{
    return n != NULL && n->key != NULL && strcmp(n->key, k) == 0;
}

/* Every span left in a request (resourceSpans document). */
static sdb_rc map_request(sdb_import *im, const sdb_jnode *doc, sdb_err *err)
{
    const sdb_jnode *rss = sdb_jobj_get(doc, "resourceSpans");
    if (doc->type != SDB_J_OBJ || rss == NULL || rss->type != SDB_J_ARR) {
        sdb_import_reject(im, doc->line, "not an OTLP trace request: no resourceSpans array");
        return SDB_OK;
    }
    for (const sdb_jnode *rs = rss->first; rs != NULL; rs = rs->next) {
        const sdb_jnode *res = sdb_jobj_get(rs, "resource");
        const sdb_jnode *sss = sdb_jobj_get(rs, "scopeSpans");
        if (sss == NULL)
            sss = sdb_jobj_get(rs, "instrumentationLibrarySpans"); /* before OTLP 0.15 */
        if (sss == NULL || sss->type != SDB_J_ARR)
            continue;
        for (const sdb_jnode *ss = sss->first; ss != NULL; ss = ss->next) {
            const sdb_jnode *spans = sdb_jobj_get(ss, "spans");
            if (spans == NULL || spans->type != SDB_J_ARR)
                continue;
            for (sdb_jnode *sp = spans->first; sp != NULL; sp = sp->next)
                SDB_TRY(map_span(im, res, sp, err));
        }
    }
    return SDB_OK;
}

sdb_rc sdb_import_otlp_value(void *ctx, sdb_jtree *t, sdb_jnode *root, sdb_err *err)
{
    (void)t;
    if (root->type == SDB_J_ARR) {
        for (const sdb_jnode *d = root->first; d != NULL; d = d->next)
            SDB_TRY(map_request(ctx, d, err));
        return SDB_OK;
    }
    return map_request(ctx, root, err);
}

sdb_rc sdb_import_otlp_close(void *ctx, sdb_jtree *t, sdb_jnode *node, int depth, bool *drop,
                             sdb_err *err)
{
    const sdb_jnode *rs;
    if (depth != 6 || !key_is(sdb_jtree_frame(t, 5), "spans") ||
        !key_is(sdb_jtree_frame(t, 3), "scopeSpans") ||
        !key_is(sdb_jtree_frame(t, 1), "resourceSpans") || sdb_jtree_frame(t, 0)->type != SDB_J_OBJ)
        return SDB_OK;
    rs = sdb_jtree_frame(t, 2);
    if (sdb_jobj_get(rs, "resource") == NULL)
        return SDB_OK; /* the resource comes later: map at the end of the document */
    *drop = true;
    return map_span(ctx, sdb_jobj_get(rs, "resource"), node, err);
}

void sdb_import_flat_attrs(sdb_irec *r, const sdb_jnode *obj, const char *prefix)
{
    span_ctx c;
    size_t pl = strlen(prefix);
    memset(&c, 0, sizeof c);
    c.r = r;
    for (const sdb_jnode *m = obj ? obj->first : NULL; m != NULL; m = m->next) {
        av a;
        if (obj->type != SDB_J_OBJ || m->keylen <= pl || memcmp(m->key, prefix, pl) != 0)
            continue;
        json_av(m, &a);
        put_attr(&c, m->key + pl, m->keylen - pl, &a);
    }
    apply_known(&c, 0);
}
