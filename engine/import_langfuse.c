/* Langfuse import (docs/import.md "Langfuse"): the single-trace JSON the UI downloads
 * ({trace:{..., scores:[...]}, observations:[...]}), and batch-export rows (a JSON array or
 * JSON Lines) of observations and scores. Each observation is a span; trace-level userId,
 * sessionId, tags, environment and release are carried to every span of the trace; scores go
 * to table scores. The observation `metadata` (a JSON-encoded string for OTel-ingested data)
 * gives the service (resourceAttributes.service.name) and the provider. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/import_int.h"

/* Trace-level values carried to every observation. */
typedef struct lf_trace {
    const char *user, *session, *env, *release;
    size_t user_len, session_len, env_len, release_len;
    const char *tags; /* JSON array text, or NULL */
    size_t tags_len;
} lf_trace;

/* What the metadata of one observation gives. */
typedef struct lf_meta {
    sdb_irec *r;
    const char *service, *provider; /* in r->scratch */
    size_t service_len, provider_len;
} lf_meta;

static const char *nonempty(const sdb_jnode *n, size_t *len)
{
    const char *s = sdb_jstr(n, len);
    return s != NULL && *len > 0 ? s : NULL;
}

static const char *scratch_put(sdb_irec *r, const char *s, size_t n)
{
    char *p;
    if (n + 1 > sizeof r->scratch - r->scratch_used)
        return NULL;
    p = r->scratch + r->scratch_used;
    memcpy(p, s, n);
    p[n] = '\0';
    r->scratch_used += n + 1;
    return p;
}

static sdb_rc meta_value(void *ctx, sdb_jtree *t, sdb_jnode *root, sdb_err *err)
{
    lf_meta *m = ctx;
    const sdb_jnode *ra = sdb_jobj_get(root, "resourceAttributes");
    const sdb_jnode *at = sdb_jobj_get(root, "attributes");
    static const char *const prov[] = {"gen_ai.provider.name", "gen_ai.system", "llm.provider",
                                       "llm.system"};
    const char *s;
    size_t n;
    (void)t;
    (void)err;
    if ((s = nonempty(sdb_jobj_get(ra, "service.name"), &n)) != NULL &&
        (s = scratch_put(m->r, s, n)) != NULL) {
        m->service = s;
        m->service_len = n;
    }
    for (size_t i = 0; i < sizeof prov / sizeof prov[0]; i++)
        if ((s = nonempty(sdb_jobj_get(at, prov[i]), &n)) != NULL) {
            if ((s = scratch_put(m->r, s, n)) != NULL) {
                m->provider = s;
                m->provider_len = n;
            }
            break;
        }
    return SDB_OK;
}

/* Sum of the usage keys containing part ("input" or "output"). */
typedef struct usage_text {
    const char *part;
    int64_t sum;
    bool any;
} usage_text;

static bool usage_sum(const sdb_jnode *usage, const char *part, int64_t *sum);

static sdb_rc usage_value(void *ctx, sdb_jtree *t, sdb_jnode *root, sdb_err *err)
{
    usage_text *u = ctx;
    (void)t;
    (void)err;
    u->any = usage_sum(root, u->part, &u->sum);
    return SDB_OK;
}

static bool usage_sum(const sdb_jnode *usage, const char *part, int64_t *sum)
{
    bool any = false;
    *sum = 0;
    if (usage != NULL && usage->type == SDB_J_STR && usage->len > 1 && usage->s[0] == '{') {
        /* CSV exports carry the map as JSON text */
        usage_text u = {part, 0, false};
        if (sdb_import_subparse(usage->s, usage->len, usage_value, &u, NULL) != SDB_OK)
            return false;
        *sum = u.sum;
        return u.any;
    }
    if (usage == NULL || usage->type != SDB_J_OBJ)
        return false;
    for (const sdb_jnode *c = usage->first; c != NULL; c = c->next) {
        int64_t v;
        if (strstr(c->key, part) != NULL && sdb_jint(c, &v)) {
            *sum += v;
            any = true;
        }
    }
    return any;
}

static void put_str(sdb_irec *r, int col, const sdb_jnode *n)
{
    size_t len;
    const char *s = nonempty(n, &len);
    if (s != NULL)
        sdb_irec_str(r, col, s, len);
}

static void extra_str(sdb_irec *r, const char *key, const char *s, size_t len)
{
    sdb_iextra *e;
    if (s == NULL || len == 0)
        return;
    if ((e = sdb_irec_extra(r, key, strlen(key), SDB_IV_STR)) != NULL) {
        e->s = s;
        e->len = len;
    }
}

static sdb_rc map_obs(sdb_import *im, const lf_trace *tr, const sdb_jnode *o, sdb_err *err)
{
    sdb_irec rec, *r = &rec;
    const sdb_jnode *n, *md;
    int64_t start, end, v, in, out;
    double cost;
    size_t len;
    const char *s;
    lf_meta meta;
    sdb_irec_reset(r, o->line);
    if (o->type != SDB_J_OBJ) {
        sdb_import_reject(im, o->line, "an observation is not a JSON object");
        return SDB_OK;
    }
    if ((s = nonempty(sdb_jobj_get(o, "id"), &len)) == NULL) {
        sdb_import_reject(im, o->line, "observation without an id");
        return SDB_OK;
    }
    sdb_irec_str(r, SDB_SPANS_SPAN_ID, s, len);
    if ((s = nonempty(sdb_jobj_get(o, "traceId"), &len)) == NULL) {
        sdb_import_reject(im, o->line, "observation %.64s has no traceId", r->s[SDB_SPANS_SPAN_ID]);
        return SDB_OK;
    }
    sdb_irec_str(r, SDB_SPANS_TRACE_ID, s, len);
    put_str(r, SDB_SPANS_PARENT_SPAN_ID, sdb_jobj_get(o, "parentObservationId"));
    put_str(r, SDB_SPANS_NAME, sdb_jobj_get(o, "name"));
    if (!sdb_import_time(sdb_jobj_get(o, "startTime"), &start)) {
        sdb_import_reject(im, o->line, "observation %.64s: startTime missing or not a time",
                          r->s[SDB_SPANS_SPAN_ID]);
        return SDB_OK;
    }
    sdb_irec_i64(r, SDB_SPANS_TIME, start);
    n = sdb_jobj_get(o, "endTime");
    if (n != NULL && n->type != SDB_J_NULL) {
        if (!sdb_import_time(n, &end)) {
            sdb_import_reject(im, o->line, "observation %.64s: endTime is not a time",
                              r->s[SDB_SPANS_SPAN_ID]);
            return SDB_OK;
        }
        sdb_irec_f64(r, SDB_SPANS_DURATION_MS, sdb_import_ms(end, start));
    }
    n = sdb_jobj_get(o, "completionStartTime");
    if (n != NULL && n->type != SDB_J_NULL && sdb_import_time(n, &end))
        sdb_irec_f64(r, SDB_SPANS_TTFT_MS, sdb_import_ms(end, start));
    if ((s = nonempty(sdb_jobj_get(o, "type"), &len)) != NULL) {
        if (strcmp(s, "GENERATION") == 0) {
            sdb_irec_str(r, SDB_SPANS_SPAN_KIND, "llm", 3);
        } else {
            char *k = (char *)(uintptr_t)s; /* our own copy in the tree */
            for (size_t i = 0; i < len; i++)
                if (k[i] >= 'A' && k[i] <= 'Z')
                    k[i] = (char)(k[i] - 'A' + 'a');
            sdb_irec_str(r, SDB_SPANS_SPAN_KIND, s, len);
        }
    }
    put_str(r, SDB_SPANS_PROJECT, sdb_jobj_get(o, "projectId"));
    put_str(r, SDB_SPANS_MODEL, sdb_jobj_get(o, "model"));
    if ((s = nonempty(sdb_jobj_get(o, "level"), &len)) != NULL) {
        if (strcmp(s, "ERROR") == 0)
            sdb_irec_str(r, SDB_SPANS_STATUS, "error", 5);
        else if (strcmp(s, "WARNING") == 0)
            sdb_irec_str(r, SDB_SPANS_STATUS, "warning", 7);
        else
            sdb_irec_str(r, SDB_SPANS_STATUS, "unset", 5);
        extra_str(r, "level", s, len);
    }
    s = nonempty(sdb_jobj_get(o, "statusMessage"), &len);
    extra_str(r, "status_message", s, s ? len : 0);
    /* tokens: usageDetails, else the totals, else the deprecated usage object */
    n = sdb_jobj_get(o, "usageDetails");
    if (usage_sum(n, "input", &in))
        sdb_irec_i64(r, SDB_SPANS_INPUT_TOKENS, in);
    else if (sdb_jint(sdb_jobj_get(o, "inputUsage"), &v) || usage_sum(sdb_jobj_get(o, "usage"), "input", &v))
        sdb_irec_i64(r, SDB_SPANS_INPUT_TOKENS, v);
    if (usage_sum(n, "output", &out))
        sdb_irec_i64(r, SDB_SPANS_OUTPUT_TOKENS, out);
    else if (sdb_jint(sdb_jobj_get(o, "outputUsage"), &v) || usage_sum(sdb_jobj_get(o, "usage"), "output", &v))
        sdb_irec_i64(r, SDB_SPANS_OUTPUT_TOKENS, v);
    /* cost the export carries: costDetails.total, else totalCost / calculatedTotalCost when
     * positive (Langfuse writes 0 for observations it did not price) */
    if (sdb_jnum(sdb_jobj_get(sdb_jobj_get(o, "costDetails"), "total"), &cost) ||
        (sdb_jnum(sdb_jobj_get(o, "totalCost"), &cost) && cost > 0) ||
        (sdb_jnum(sdb_jobj_get(o, "calculatedTotalCost"), &cost) && cost > 0) ||
        (sdb_jnum(sdb_jobj_get(sdb_jobj_get(o, "usage"), "totalCost"), &cost) && cost > 0))
        sdb_irec_f64(r, SDB_SPANS_COST_USD, cost);
    put_str(r, SDB_SPANS_PROMPT_NAME, sdb_jobj_get(o, "promptName"));
    n = sdb_jobj_get(o, "promptVersion");
    if (n != NULL && n->type == SDB_J_NUM)
        sdb_irec_str(r, SDB_SPANS_PROMPT_VERSION, n->s, n->len);
    else
        put_str(r, SDB_SPANS_PROMPT_VERSION, n);
    /* trace level (batch-export rows carry userId and traceTags themselves) */
    if (tr->session != NULL)
        sdb_irec_str(r, SDB_SPANS_SESSION_ID, tr->session, tr->session_len);
    else
        put_str(r, SDB_SPANS_SESSION_ID, sdb_jobj_get(o, "sessionId"));
    if (tr->user != NULL)
        sdb_irec_str(r, SDB_SPANS_USER_ID, tr->user, tr->user_len);
    else
        put_str(r, SDB_SPANS_USER_ID, sdb_jobj_get(o, "userId"));
    extra_str(r, "tags", tr->tags, tr->tags_len);
    if (tr->env != NULL)
        extra_str(r, "environment", tr->env, tr->env_len);
    else if ((s = nonempty(sdb_jobj_get(o, "environment"), &len)) != NULL)
        extra_str(r, "environment", s, len);
    extra_str(r, "release", tr->release, tr->release_len);
    /* metadata: service and provider */
    memset(&meta, 0, sizeof meta);
    meta.r = r;
    md = sdb_jobj_get(o, "metadata");
    if (md != NULL && md->type == SDB_J_STR && md->len > 0 && md->s[0] == '{')
        SDB_TRY(sdb_import_subparse(md->s, md->len, meta_value, &meta, err));
    else if (md != NULL && md->type == SDB_J_OBJ)
        SDB_TRY(meta_value(&meta, NULL, (sdb_jnode *)(uintptr_t)md, err));
    if (meta.service != NULL)
        sdb_irec_str(r, SDB_SPANS_SERVICE, meta.service, meta.service_len);
    if (meta.provider != NULL) {
        sdb_irec_str(r, SDB_SPANS_PROVIDER, meta.provider, meta.provider_len);
    } else {
        const sdb_jnode *mp = sdb_jobj_get(o, "modelParameters");
        put_str(r, SDB_SPANS_PROVIDER, sdb_jobj_get(mp, "system"));
    }
    return sdb_import_span(im, r, err);
}

static sdb_rc map_score(sdb_import *im, const sdb_jnode *sc, sdb_err *err)
{
    sdb_iscore s;
    const sdb_jnode *v;
    size_t len;
    memset(&s, 0, sizeof s);
    s.line = sc->line;
    if (sc->type != SDB_J_OBJ) {
        sdb_import_reject(im, sc->line, "a score is not a JSON object");
        return SDB_OK;
    }
    if (!sdb_import_time(sdb_jobj_get(sc, "timestamp"), &s.time)) {
        sdb_import_reject(im, sc->line, "score without a timestamp");
        return SDB_OK;
    }
    s.trace_id = nonempty(sdb_jobj_get(sc, "traceId"), &len);
    s.span_id = nonempty(sdb_jobj_get(sc, "observationId"), &len);
    s.session_id = nonempty(sdb_jobj_get(sc, "sessionId"), &len);
    s.name = nonempty(sdb_jobj_get(sc, "name"), &len);
    s.label = nonempty(sdb_jobj_get(sc, "stringValue"), &len);
    s.source = nonempty(sdb_jobj_get(sc, "source"), &len);
    s.comment = nonempty(sdb_jobj_get(sc, "comment"), &len);
    s.id = nonempty(sdb_jobj_get(sc, "id"), &len);
    s.target = s.span_id ? "span" : s.trace_id ? "trace" : s.session_id ? "session" : "other";
    v = sdb_jobj_get(sc, "value");
    if (v != NULL && v->type == SDB_J_NUM)
        s.has_value = sdb_jnum(v, &s.value);
    else if (v != NULL && v->type == SDB_J_BOOL) {
        s.value = v->b ? 1 : 0;
        s.has_value = true;
    }
    return sdb_import_score(im, &s, err);
}

static sdb_rc trace_doc(sdb_import *im, const sdb_jnode *root, sdb_err *err)
{
    const sdb_jnode *t = sdb_jobj_get(root, "trace"), *obs = sdb_jobj_get(root, "observations");
    const sdb_jnode *tags, *scores;
    lf_trace tr;
    sdb_buf tb = SDB_BUF_INIT;
    sdb_rc rc = SDB_OK;
    memset(&tr, 0, sizeof tr);
    if (obs == NULL || obs->type != SDB_J_ARR)
        obs = sdb_jobj_get(t, "observations");
    tr.user = nonempty(sdb_jobj_get(t, "userId"), &tr.user_len);
    tr.session = nonempty(sdb_jobj_get(t, "sessionId"), &tr.session_len);
    tr.env = nonempty(sdb_jobj_get(t, "environment"), &tr.env_len);
    tr.release = nonempty(sdb_jobj_get(t, "release"), &tr.release_len);
    tags = sdb_jobj_get(t, "tags");
    if (tags != NULL && tags->type == SDB_J_ARR && tags->n > 0) {
        SDB_TRY(sdb_import_json_text(tags, &tb, err));
        tr.tags = (const char *)tb.data;
        tr.tags_len = tb.len;
    }
    if (obs != NULL && obs->type == SDB_J_ARR)
        for (const sdb_jnode *o = obs->first; o != NULL && rc == SDB_OK; o = o->next)
            rc = map_obs(im, &tr, o, err);
    sdb_buf_free(&tb);
    scores = sdb_jobj_get(t, "scores");
    for (const sdb_jnode *s = scores && scores->type == SDB_J_ARR ? scores->first : NULL;
         s != NULL && rc == SDB_OK; s = s->next)
        rc = map_score(im, s, err);
    scores = sdb_jobj_get(root, "scores");
    for (const sdb_jnode *s = scores && scores->type == SDB_J_ARR ? scores->first : NULL;
         s != NULL && rc == SDB_OK; s = s->next)
        rc = map_score(im, s, err);
    return rc;
}

/* One batch-export row: an observation, a score, or a trace (traces are not spans). */
static sdb_rc row(sdb_import *im, const sdb_jnode *o, sdb_err *err)
{
    lf_trace tr;
    sdb_buf tb = SDB_BUF_INIT;
    const sdb_jnode *tags;
    sdb_rc rc;
    if (o->type != SDB_J_OBJ) {
        sdb_import_reject(im, o->line, "a Langfuse record is not a JSON object");
        return SDB_OK;
    }
    if (sdb_jobj_get(o, "trace") != NULL || sdb_jobj_get(o, "observations") != NULL)
        return trace_doc(im, o, err);
    if (sdb_jobj_get(o, "startTime") == NULL) {
        if (sdb_jobj_get(o, "dataType") != NULL ||
            (sdb_jobj_get(o, "value") != NULL && sdb_jobj_get(o, "name") != NULL &&
             sdb_jobj_get(o, "timestamp") != NULL && sdb_jobj_get(o, "input") == NULL))
            return map_score(im, o, err);
        if (sdb_jobj_get(o, "timestamp") != NULL)
            return SDB_OK; /* a trace row */
        sdb_import_reject(im, o->line, "observation without startTime");
        return SDB_OK;
    }
    memset(&tr, 0, sizeof tr);
    tags = sdb_jobj_get(o, "traceTags");
    if (tags != NULL && tags->type == SDB_J_ARR && tags->n > 0) {
        SDB_TRY(sdb_import_json_text(tags, &tb, err));
        tr.tags = (const char *)tb.data;
        tr.tags_len = tb.len;
    } else if (tags != NULL && tags->type == SDB_J_STR && tags->len > 2) {
        tr.tags = tags->s; /* CSV: already JSON text */
        tr.tags_len = tags->len;
    }
    rc = map_obs(im, &tr, o, err);
    sdb_buf_free(&tb);
    return rc;
}

sdb_rc sdb_import_langfuse_value(void *ctx, sdb_jtree *t, sdb_jnode *root, sdb_err *err)
{
    (void)t;
    if (root->type == SDB_J_ARR) {
        for (const sdb_jnode *o = root->first; o != NULL; o = o->next)
            SDB_TRY(row(ctx, o, err));
        return SDB_OK;
    }
    return row(ctx, root, err);
}

sdb_rc sdb_import_langfuse_record(sdb_import *im, const sdb_jnode *o, sdb_err *err)
{
    return row(im, o, err);
}
