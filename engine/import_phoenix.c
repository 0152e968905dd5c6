/* Phoenix import (docs/import.md "Phoenix"): span JSON (REST / span_json_encoder: context,
 * span_kind, ISO times, status_code, flat attributes, events) and span DataFrame rows
 * (context.span_id, attributes.<key> columns) as a JSON array or JSON Lines; annotation and
 * evaluation rows (annotation_name or name, label / result.label, score / result.score) go to
 * table scores. Attributes use the OTLP mapping (OpenInference and GenAI names). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/import_int.h"

static const char *nonempty(const sdb_jnode *n, size_t *len)
{
    const char *s = sdb_jstr(n, len);
    return s != NULL && *len > 0 ? s : NULL;
}

/* Member key of o, else member alt (a dotted DataFrame column). */
static const sdb_jnode *get2(const sdb_jnode *o, const char *obj, const char *key,
                             const char *alt)
{
    const sdb_jnode *n = sdb_jobj_get(sdb_jobj_get(o, obj), key);
    return n != NULL ? n : sdb_jobj_get(o, alt);
}

static void lower(char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            s[i] = (char)(s[i] - 'A' + 'a');
}

static sdb_rc map_span(sdb_import *im, const sdb_jnode *o, sdb_err *err)
{
    sdb_irec rec, *r = &rec;
    sdb_jnode *n;
    const sdb_jnode *ev;
    int64_t start, end;
    const char *s;
    size_t len;
    sdb_irec_reset(r, o->line);
    if ((s = nonempty(get2(o, "context", "span_id", "context.span_id"), &len)) == NULL) {
        sdb_import_reject(im, o->line, "span without context.span_id");
        return SDB_OK;
    }
    sdb_irec_str(r, SDB_SPANS_SPAN_ID, s, len);
    if ((s = nonempty(get2(o, "context", "trace_id", "context.trace_id"), &len)) != NULL)
        sdb_irec_str(r, SDB_SPANS_TRACE_ID, s, len);
    if ((s = nonempty(sdb_jobj_get(o, "parent_id"), &len)) != NULL)
        sdb_irec_str(r, SDB_SPANS_PARENT_SPAN_ID, s, len);
    if ((s = nonempty(sdb_jobj_get(o, "name"), &len)) != NULL)
        sdb_irec_str(r, SDB_SPANS_NAME, s, len);
    if (!sdb_import_time(sdb_jobj_get(o, "start_time"), &start)) {
        sdb_import_reject(im, o->line, "span %.64s: start_time missing or not a time",
                          r->s[SDB_SPANS_SPAN_ID]);
        return SDB_OK;
    }
    sdb_irec_i64(r, SDB_SPANS_TIME, start);
    n = sdb_jobj_get(o, "end_time");
    if (n != NULL && n->type != SDB_J_NULL) {
        if (!sdb_import_time(n, &end)) {
            sdb_import_reject(im, o->line, "span %.64s: end_time is not a time",
                              r->s[SDB_SPANS_SPAN_ID]);
            return SDB_OK;
        }
        sdb_irec_f64(r, SDB_SPANS_DURATION_MS, sdb_import_ms(end, start));
    }
    /* attributes: a flat object, or DataFrame columns attributes.<key> */
    if ((n = sdb_jobj_get(o, "attributes")) != NULL && n->type == SDB_J_OBJ)
        sdb_import_flat_attrs(r, n, "");
    else
        sdb_import_flat_attrs(r, o, "attributes.");
    if ((n = sdb_jobj_get(o, "span_kind")) != NULL && n->type == SDB_J_STR && n->len > 0) {
        lower(n->s, n->len);
        sdb_irec_str(r, SDB_SPANS_SPAN_KIND, n->s, n->len);
    }
    if ((n = sdb_jobj_get(o, "status_code")) != NULL && n->type == SDB_J_STR && n->len > 0) {
        lower(n->s, n->len);
        sdb_irec_str(r, SDB_SPANS_STATUS, n->s, n->len);
    }
    ev = sdb_jobj_get(o, "events");
    for (const sdb_jnode *e = ev && ev->type == SDB_J_ARR ? ev->first : NULL; e != NULL;
         e = e->next) {
        const char *en = sdb_jstr(sdb_jobj_get(e, "name"), NULL);
        int64_t at;
        if (en == NULL)
            continue;
        if (strcmp(en, "First Token Stream Event") == 0 &&
            !sdb_irec_has(r, SDB_SPANS_TTFT_MS) &&
            sdb_import_time(sdb_jobj_get(e, "timestamp"), &at))
            sdb_irec_f64(r, SDB_SPANS_TTFT_MS, sdb_import_ms(at, start));
        else if (strcmp(en, "exception") == 0 && !sdb_irec_has(r, SDB_SPANS_ERROR_TYPE) &&
                 (s = nonempty(sdb_jobj_get(sdb_jobj_get(e, "attributes"), "exception.type"),
                               &len)) != NULL)
            sdb_irec_str(r, SDB_SPANS_ERROR_TYPE, s, len);
    }
    return sdb_import_span(im, r, err);
}

/* An annotation / evaluation row. */
static sdb_rc map_eval(sdb_import *im, const sdb_jnode *o, sdb_err *err)
{
    sdb_iscore sc;
    const sdb_jnode *v;
    size_t len;
    memset(&sc, 0, sizeof sc);
    sc.line = o->line;
    sc.name = nonempty(sdb_jobj_get(o, "annotation_name"), &len);
    if (sc.name == NULL)
        sc.name = nonempty(sdb_jobj_get(o, "name"), &len);
    if (sc.name == NULL)
        sc.name = nonempty(sdb_jobj_get(o, "eval_name"), &len);
    if (sc.name == NULL)
        sc.name = "evaluation"; /* legacy SpanEvaluations keep the name outside the rows */
    sc.span_id = nonempty(sdb_jobj_get(o, "span_id"), &len);
    if (sc.span_id == NULL)
        sc.span_id = nonempty(get2(o, "context", "span_id", "context.span_id"), &len);
    sc.trace_id = nonempty(get2(o, "context", "trace_id", "context.trace_id"), &len);
    sc.label = nonempty(sdb_jobj_get(o, "result.label"), &len);
    if (sc.label == NULL)
        sc.label = nonempty(sdb_jobj_get(o, "label"), &len);
    sc.comment = nonempty(sdb_jobj_get(o, "result.explanation"), &len);
    if (sc.comment == NULL)
        sc.comment = nonempty(sdb_jobj_get(o, "explanation"), &len);
    sc.source = nonempty(sdb_jobj_get(o, "annotator_kind"), &len);
    sc.id = nonempty(sdb_jobj_get(o, "id"), &len);
    sc.target = sc.span_id ? "span" : sc.trace_id ? "trace" : "other";
    v = sdb_jobj_get(o, "result.score");
    if (v == NULL || v->type == SDB_J_NULL)
        v = sdb_jobj_get(o, "score");
    if (v != NULL && v->type == SDB_J_NUM)
        sc.has_value = sdb_jnum(v, &sc.value);
    else if (v != NULL && v->type == SDB_J_BOOL) {
        sc.value = v->b ? 1 : 0;
        sc.has_value = true;
    }
    if (!sdb_import_time(sdb_jobj_get(o, "created_at"), &sc.time) &&
        !sdb_import_time(sdb_jobj_get(o, "updated_at"), &sc.time) &&
        !sdb_import_time(sdb_jobj_get(o, "timestamp"), &sc.time)) {
        /* legacy SpanEvaluations carry no time: the import's */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        sc.time = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    }
    if (sc.span_id != NULL && strcmp(sc.name, "hallucination") == 0 &&
        (sc.label != NULL || sc.has_value)) {
        /* labels: hallucinated / factual or grounded; else the score (1 = hallucinated) */
        bool h = sc.label != NULL ? strcmp(sc.label, "hallucinated") == 0 : sc.value >= 0.5;
        SDB_TRY(sdb_import_note_hallucination(im, sc.span_id, strlen(sc.span_id), h, err));
    }
    return sdb_import_score(im, &sc, err);
}

static sdb_rc record(sdb_import *im, const sdb_jnode *o, sdb_err *err)
{
    if (o->type != SDB_J_OBJ) {
        sdb_import_reject(im, o->line, "a Phoenix record is not a JSON object");
        return SDB_OK;
    }
    if (sdb_jobj_get(o, "start_time") != NULL)
        return map_span(im, o, err);
    if (sdb_jobj_get(o, "annotation_name") != NULL || sdb_jobj_get(o, "label") != NULL ||
        sdb_jobj_get(o, "score") != NULL || sdb_jobj_get(o, "result.label") != NULL ||
        sdb_jobj_get(o, "result.score") != NULL)
        return map_eval(im, o, err);
    sdb_import_reject(im, o->line, "neither a span (start_time) nor an evaluation (label, score)");
    return SDB_OK;
}

sdb_rc sdb_import_phoenix_value(void *ctx, sdb_jtree *t, sdb_jnode *root, sdb_err *err)
{
    sdb_jnode *data;
    (void)t;
    /* the REST response wraps spans in {"data": [...]} */
    if (root->type == SDB_J_OBJ && (data = sdb_jobj_get(root, "data")) != NULL &&
        data->type == SDB_J_ARR)
        root = data;
    if (root->type == SDB_J_ARR) {
        for (const sdb_jnode *o = root->first; o != NULL; o = o->next)
            SDB_TRY(record(ctx, o, err));
        return SDB_OK;
    }
    return record(ctx, root, err);
}

sdb_rc sdb_import_phoenix_record(sdb_import *im, const sdb_jnode *o, sdb_err *err)
{
    return record(im, o, err);
}
