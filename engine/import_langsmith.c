/* LangSmith import (docs/import.md "LangSmith"): runs in the Run schema (a JSON array or JSON
 * Lines), the SDK ingest payloads {post:[run create], patch:[run update]} (merged by id, or by
 * dotted_order when a patch has no id; times ISO-8601 or epoch milliseconds), and feedback
 * records (key, score, run_id) into table scores. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/import_int.h"

/* A run as the union of its create (a) and its update (b): b's fields win. */
typedef struct run_view {
    const sdb_jnode *a, *b;
} run_view;

static const sdb_jnode *rv_get(const run_view *v, const char *key)
{
    const sdb_jnode *n = v->b ? sdb_jobj_get(v->b, key) : NULL;
    if (n != NULL && n->type != SDB_J_NULL)
        return n;
    return v->a ? sdb_jobj_get(v->a, key) : NULL;
}

static const char *nonempty(const sdb_jnode *n, size_t *len)
{
    const char *s = sdb_jstr(n, len);
    return s != NULL && *len > 0 ? s : NULL;
}

/* The run id a dotted_order ends with ("...Z<uuid>"). */
static const char *dotted_id(const sdb_jnode *d, size_t *len)
{
    const char *s = sdb_jstr(d, len), *dot, *z;
    if (s == NULL)
        return NULL;
    dot = strrchr(s, '.');
    dot = dot ? dot + 1 : s;
    if ((z = strchr(dot, 'Z')) == NULL || z[1] == '\0')
        return NULL;
    *len = strlen(z + 1);
    return z + 1;
}

static const char *run_id(const sdb_jnode *run, size_t *len)
{
    const char *s = nonempty(sdb_jobj_get(run, "id"), len);
    return s ? s : dotted_id(sdb_jobj_get(run, "dotted_order"), len);
}

static void put_str(sdb_irec *r, int col, const sdb_jnode *n)
{
    size_t len;
    const char *s = nonempty(n, &len);
    if (s != NULL)
        sdb_irec_str(r, col, s, len);
}

static bool first_int(int64_t *v, const sdb_jnode *a, const sdb_jnode *b, const sdb_jnode *c)
{
    return sdb_jint(a, v) || sdb_jint(b, v) || sdb_jint(c, v);
}

static sdb_rc map_run(sdb_import *im, const run_view *v, uint64_t line, sdb_err *err)
{
    sdb_irec rec, *r = &rec;
    const sdb_jnode *n, *extra = rv_get(v, "extra"), *md = sdb_jobj_get(extra, "metadata");
    const sdb_jnode *outputs = rv_get(v, "outputs"), *um = sdb_jobj_get(outputs, "usage_metadata");
    const sdb_jnode *ou = sdb_jobj_get(outputs, "usage"), *ev;
    int64_t start, end, x;
    double cost;
    const char *s;
    size_t len;
    sdb_irec_reset(r, line);
    if ((s = run_id(v->a ? v->a : v->b, &len)) == NULL) {
        sdb_import_reject(im, line, "run without an id");
        return SDB_OK;
    }
    sdb_irec_str(r, SDB_SPANS_SPAN_ID, s, len);
    put_str(r, SDB_SPANS_TRACE_ID, rv_get(v, "trace_id"));
    if (!sdb_irec_has(r, SDB_SPANS_TRACE_ID) && (n = rv_get(v, "parent_run_id")) == NULL)
        sdb_irec_str(r, SDB_SPANS_TRACE_ID, s, len); /* a root run is its own trace */
    put_str(r, SDB_SPANS_PARENT_SPAN_ID, rv_get(v, "parent_run_id"));
    put_str(r, SDB_SPANS_NAME, rv_get(v, "name"));
    put_str(r, SDB_SPANS_SPAN_KIND, rv_get(v, "run_type"));
    put_str(r, SDB_SPANS_PROJECT, rv_get(v, "session_name"));
    if (!sdb_import_time(rv_get(v, "start_time"), &start)) {
        sdb_import_reject(im, line, "run %.64s: start_time missing or not a time",
                          r->s[SDB_SPANS_SPAN_ID]);
        return SDB_OK;
    }
    sdb_irec_i64(r, SDB_SPANS_TIME, start);
    n = rv_get(v, "end_time");
    if (n != NULL && n->type != SDB_J_NULL) {
        if (!sdb_import_time(n, &end)) {
            sdb_import_reject(im, line, "run %.64s: end_time is not a time",
                              r->s[SDB_SPANS_SPAN_ID]);
            return SDB_OK;
        }
        sdb_irec_f64(r, SDB_SPANS_DURATION_MS, sdb_import_ms(end, start));
    }
    /* TTFT: first_token_time, else the first new_token event */
    n = rv_get(v, "first_token_time");
    if (n != NULL && n->type != SDB_J_NULL && sdb_import_time(n, &end)) {
        sdb_irec_f64(r, SDB_SPANS_TTFT_MS, sdb_import_ms(end, start));
    } else if ((ev = rv_get(v, "events")) != NULL && ev->type == SDB_J_ARR) {
        for (const sdb_jnode *e = ev->first; e != NULL; e = e->next) {
            const char *en = sdb_jstr(sdb_jobj_get(e, "name"), NULL);
            if (en != NULL && strcmp(en, "new_token") == 0 &&
                sdb_import_time(sdb_jobj_get(e, "time"), &end)) {
                sdb_irec_f64(r, SDB_SPANS_TTFT_MS, sdb_import_ms(end, start));
                break;
            }
        }
    }
    put_str(r, SDB_SPANS_MODEL, sdb_jobj_get(outputs, "model"));
    if (!sdb_irec_has(r, SDB_SPANS_MODEL))
        put_str(r, SDB_SPANS_MODEL, sdb_jobj_get(md, "ls_model_name"));
    put_str(r, SDB_SPANS_PROVIDER, sdb_jobj_get(md, "ls_provider"));
    if (first_int(&x, rv_get(v, "prompt_tokens"), sdb_jobj_get(um, "input_tokens"),
                  sdb_jobj_get(ou, "prompt_tokens")))
        sdb_irec_i64(r, SDB_SPANS_INPUT_TOKENS, x);
    if (first_int(&x, rv_get(v, "completion_tokens"), sdb_jobj_get(um, "output_tokens"),
                  sdb_jobj_get(ou, "completion_tokens")))
        sdb_irec_i64(r, SDB_SPANS_OUTPUT_TOKENS, x);
    if (sdb_jnum(rv_get(v, "total_cost"), &cost))
        sdb_irec_f64(r, SDB_SPANS_COST_USD, cost);
    /* status: an error text makes it an error */
    n = rv_get(v, "error");
    if (n != NULL && n->type == SDB_J_STR && n->len > 0) {
        sdb_irec_str(r, SDB_SPANS_STATUS, "error", 5);
    } else if ((s = nonempty(rv_get(v, "status"), &len)) != NULL) {
        if (strcmp(s, "success") == 0)
            sdb_irec_str(r, SDB_SPANS_STATUS, "ok", 2);
        else
            sdb_irec_str(r, SDB_SPANS_STATUS, s, len);
    } else if (sdb_irec_has(r, SDB_SPANS_DURATION_MS)) {
        sdb_irec_str(r, SDB_SPANS_STATUS, "ok", 2);
    }
    put_str(r, SDB_SPANS_SESSION_ID, sdb_jobj_get(md, "session_id"));
    if (!sdb_irec_has(r, SDB_SPANS_SESSION_ID))
        put_str(r, SDB_SPANS_SESSION_ID, sdb_jobj_get(md, "thread_id"));
    if (!sdb_irec_has(r, SDB_SPANS_SESSION_ID))
        put_str(r, SDB_SPANS_SESSION_ID, sdb_jobj_get(md, "conversation_id"));
    put_str(r, SDB_SPANS_USER_ID, sdb_jobj_get(md, "user_id"));
    return sdb_import_span(im, r, err);
}

static sdb_rc map_feedback(sdb_import *im, const sdb_jnode *f, sdb_err *err)
{
    sdb_iscore s;
    const sdb_jnode *v;
    size_t len;
    memset(&s, 0, sizeof s);
    s.line = f->line;
    if (!sdb_import_time(sdb_jobj_get(f, "created_at"), &s.time)) {
        sdb_import_reject(im, f->line, "feedback without created_at");
        return SDB_OK;
    }
    s.name = nonempty(sdb_jobj_get(f, "key"), &len);
    s.span_id = nonempty(sdb_jobj_get(f, "run_id"), &len);
    s.trace_id = nonempty(sdb_jobj_get(f, "trace_id"), &len);
    s.session_id = nonempty(sdb_jobj_get(f, "session_id"), &len);
    s.comment = nonempty(sdb_jobj_get(f, "comment"), &len);
    s.id = nonempty(sdb_jobj_get(f, "id"), &len);
    s.label = nonempty(sdb_jobj_get(f, "value"), &len);
    s.source = nonempty(sdb_jobj_get(sdb_jobj_get(f, "feedback_source"), "type"), &len);
    s.target = s.span_id ? "span" : s.trace_id ? "trace" : "session";
    v = sdb_jobj_get(f, "score");
    if (v != NULL && v->type == SDB_J_BOOL) {
        s.value = v->b ? 1 : 0;
        s.has_value = true;
    } else if (v != NULL && v->type == SDB_J_NUM) {
        s.has_value = sdb_jnum(v, &s.value);
    }
    return sdb_import_score(im, &s, err);
}

/* The patch of post run p: same id, else same dotted_order. */
static const sdb_jnode *find_patch(const sdb_jnode *patches, const sdb_jnode *p)
{
    size_t il, dl;
    const char *id = nonempty(sdb_jobj_get(p, "id"), &il);
    const char *dot = nonempty(sdb_jobj_get(p, "dotted_order"), &dl);
    for (const sdb_jnode *q = patches ? patches->first : NULL; q != NULL; q = q->next) {
        size_t l;
        const char *s = nonempty(sdb_jobj_get(q, "id"), &l);
        if (s != NULL && id != NULL && l == il && memcmp(s, id, l) == 0)
            return q;
        s = nonempty(sdb_jobj_get(q, "dotted_order"), &l);
        if (sdb_jobj_get(q, "id") == NULL && s != NULL && dot != NULL && l == dl &&
            memcmp(s, dot, l) == 0)
            return q;
    }
    return NULL;
}

static sdb_rc record(sdb_import *im, const sdb_jnode *o, sdb_err *err)
{
    const sdb_jnode *post, *patch;
    run_view v;
    if (o->type != SDB_J_OBJ) {
        sdb_import_reject(im, o->line, "a LangSmith record is not a JSON object");
        return SDB_OK;
    }
    post = sdb_jobj_get(o, "post");
    patch = sdb_jobj_get(o, "patch");
    if (post != NULL || patch != NULL) {
        if ((post != NULL && post->type != SDB_J_ARR) || (patch != NULL && patch->type != SDB_J_ARR)) {
            sdb_import_reject(im, o->line, "post and patch must be arrays of runs");
            return SDB_OK;
        }
        for (const sdb_jnode *p = post ? post->first : NULL; p != NULL; p = p->next) {
            v.a = p;
            v.b = find_patch(patch, p);
            SDB_TRY(map_run(im, &v, p->line, err));
        }
        /* updates of runs created elsewhere */
        for (const sdb_jnode *q = patch ? patch->first : NULL; q != NULL; q = q->next) {
            bool matched = false;
            for (const sdb_jnode *p = post ? post->first : NULL; p != NULL && !matched; p = p->next)
                matched = find_patch(patch, p) == q;
            if (!matched) {
                v.a = NULL;
                v.b = q;
                SDB_TRY(map_run(im, &v, q->line, err));
            }
        }
        return SDB_OK;
    }
    if (sdb_jobj_get(o, "key") != NULL && sdb_jobj_get(o, "run_id") != NULL)
        return map_feedback(im, o, err);
    v.a = o;
    v.b = NULL;
    return map_run(im, &v, o->line, err);
}

sdb_rc sdb_import_langsmith_value(void *ctx, sdb_jtree *t, sdb_jnode *root, sdb_err *err)
{
    (void)t;
    if (root->type == SDB_J_ARR) {
        for (const sdb_jnode *o = root->first; o != NULL; o = o->next)
            SDB_TRY(record(ctx, o, err));
        return SDB_OK;
    }
    return record(ctx, root, err);
}
