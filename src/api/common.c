/*
 * common.c — shared handler helpers (see common.h).
 */
#include "api/common.h"

#include "core/json.h"
#include "core/xalloc.h"
#include "graph/snapshot.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int media_type_is(const char *ct, const char *media_type)
{
    if (!ct)
        return 0;
    size_t n = strlen(media_type);
    return strncasecmp(ct, media_type, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

int api_content_type_is(http_request *r, const char *media_type)
{
    return media_type_is(http_header(r, "content-type"), media_type);
}

/* Our words for what is wrong with a body: jansson's own texts name its
 * flags ("JSON_ALLOW_NUL") and internals, which mean nothing to a client. */
static const char *json_problem(const json_error_t *e)
{
    switch (json_error_code(e)) {
    case json_error_invalid_utf8:
        return "it is not valid UTF-8";
    case json_error_premature_end_of_input:
        return "it ends too early";
    case json_error_end_of_input_expected:
        return "there is more after the JSON value";
    case json_error_null_character:
    case json_error_null_byte_in_key:
        return "it contains a NUL character (\\u0000)";
    case json_error_duplicate_key:
        return "an object has the same key twice";
    case json_error_numeric_overflow:
        return "a number is out of range";
    case json_error_stack_overflow:
        return "it is nested too deeply";
    case json_error_out_of_memory:
        return "it is too large";
    default:
        return "it is not valid JSON syntax";
    }
}

json_t *api_json_parse(const char *content_type, const char *body, size_t len, api_answer *a)
{
    if (!media_type_is(content_type, "application/json")) {
        api_answer_problem(a, 400, "Bad Request", "Send the body as JSON with Content-Type: application/json.");
        return NULL;
    }
    json_error_t jerr;
    json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!v) {
        buf msg = BUF_INIT;
        buf_printf(&msg, "The body is not valid JSON (line %d, column %d): %s.", jerr.line, jerr.column,
                   json_problem(&jerr));
        api_answer_problem(a, 400, "Bad Request", buf_cstr(&msg));
        buf_free(&msg);
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        api_answer_problem(a, 400, "Bad Request", "The body must be a JSON object.");
        return NULL;
    }
    return v;
}

json_t *api_json_body(http_request *r)
{
    size_t len;
    const char *body = http_body_bytes(r, &len);
    api_answer a = {0};
    json_t *v = api_json_parse(http_header(r, "content-type"), body, len, &a);
    if (!v)
        api_answer_send(r, &a);
    api_answer_free(&a);
    return v;
}

void api_answer_json(api_answer *a, int status, json_t *v)
{
    a->status = status;
    a->json = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(v);
    if (!a->json)
        xalloc_fail(0);
}

void api_answer_problem(api_answer *a, int status, const char *title, const char *detail)
{
    a->status = status;
    a->title = title;
    free(a->detail);
    a->detail = xstrdup(detail);
}

void api_answer_fields(api_answer *a, int status, const char *title, const domain_errors *errs)
{
    buf out = BUF_INIT;
    json_writer w;
    jw_init(&w, &out);
    jw_array_begin(&w);
    for (size_t i = 0; i < errs->count; i++) {
        jw_object_begin(&w);
        jw_key(&w, "field");
        jw_string(&w, errs->items[i].field);
        jw_key(&w, "message");
        jw_string(&w, errs->items[i].message);
        jw_object_end(&w);
    }
    jw_array_end(&w);
    char detail[700];
    if (errs->count == 1)
        snprintf(detail, sizeof detail, "%s: %s", errs->items[0].field, errs->items[0].message);
    else if (errs->dropped)
        snprintf(detail, sizeof detail, "Some fields are not valid; see errors (the first %zu of %zu).", errs->count,
                 errs->count + errs->dropped);
    else
        snprintf(detail, sizeof detail, "Some fields are not valid; see errors.");
    api_answer_problem(a, status, title, detail);
    a->extra_key = "errors";
    free(a->extra);
    a->extra = buf_steal(&out, NULL);
}

void api_answer_send(http_request *r, const api_answer *a)
{
    if (a->json)
        http_respond(r, a->status, API_JSON, a->json, strlen(a->json));
    else
        http_problem_with(r, a->status, a->title, a->detail, a->extra_key ? a->extra_key : "errors", a->extra);
}

void api_answer_free(api_answer *a)
{
    free(a->json);
    free(a->detail);
    free(a->extra);
    memset(a, 0, sizeof *a);
}

void api_problem_fields(http_request *r, int status, const char *title, const domain_errors *errs)
{
    api_answer a = {0};
    api_answer_fields(&a, status, title, errs);
    api_answer_send(r, &a);
    api_answer_free(&a);
}

void api_send_json(http_request *r, int status, json_t *v)
{
    api_answer a = {0};
    api_answer_json(&a, status, v);
    api_answer_send(r, &a);
    api_answer_free(&a);
}

json_t *api_user_json(const store_user *u)
{
    return json_pack("{s:I, s:s, s:s, s:b, s:b, s:s, s:s?}", "id", (json_int_t)u->id, "username", u->username, "email",
                     u->email, "is_admin", u->is_admin, "disabled", u->disabled, "created_at", u->created_at,
                     "last_login_at", u->last_login_at[0] ? u->last_login_at : NULL);
}

int api_redirect_former_id(http_request *r, const graph_snapshot *s, int is_genre, const char *id, const char *prefix,
                           const char *rest)
{
    size_t i;
    if (!(is_genre ? graph_find_former_genre(s, id, &i) : graph_find_former_band(s, id, &i)))
        return 0;
    const dataset *d = graph_dataset(s);
    const char *query = http_query_string(r);
    buf location = BUF_INIT;
    buf_printf(&location, "%s%s%s%s%s", prefix, is_genre ? d->genres[i].id : d->bands[i].id, rest ? rest : "",
               query ? "?" : "", query ? query : "");
    http_redirect(r, 301, buf_cstr(&location));
    buf_free(&location);
    return 1;
}
