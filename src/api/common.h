/*
 * common.h — helpers the API handlers share: JSON bodies in, problem
 * documents with per-field errors and users out.
 */
#ifndef MG_API_COMMON_H
#define MG_API_COMMON_H

#include "core/buf.h"
#include "domain/rules.h"
#include "http/http.h"
#include "store/records.h"

#include <jansson.h>

#define API_JSON "application/json; charset=utf-8"

/* Parses the request body as a JSON object. Answers 400 (wrong content
 * type, malformed JSON, invalid UTF-8, not an object) and returns NULL. */
json_t *api_json_body(http_request *r);
/* 400 (or status) problem listing errs as [{"field","message"}]. */
void api_problem_fields(http_request *r, int status, const char *title, const domain_errors *errs);
/* Sends a json_t (jansson's serializer, for small documents). Steals v. */
void api_send_json(http_request *r, int status, json_t *v);
/* When id (a path segment) is the former id of a genre (is_genre) or band,
 * answers 301 to prefix + its current id + rest, the query string kept,
 * and returns 1; otherwise returns 0 and sends nothing. Ids promised never
 * to change, changed anyway: old links keep working. */
struct graph_snapshot;
int api_redirect_former_id(http_request *r, const struct graph_snapshot *s, int is_genre, const char *id,
                           const char *prefix, const char *rest);
/* 1 if the request's Content-Type is that media type (parameters ignored). */
int api_content_type_is(http_request *r, const char *media_type);
/* A user as the API shows it: never the password hash. */
json_t *api_user_json(const store_user *u);

/* ---- answers decided on a worker thread, sent on the loop ---- */

/* A JSON body or a problem document, built where the work ran. */
typedef struct api_answer {
    int status;            /* 0 until decided */
    char *json;            /* a JSON body, or NULL for a problem */
    const char *title;     /* problem: static text */
    char *detail;          /* problem */
    const char *extra_key; /* problem: the member extra holds ("errors" by default) */
    char *extra;           /* problem: serialized JSON, or NULL */
} api_answer;

/* The JSON value v as the answer (steals v). */
void api_answer_json(api_answer *a, int status, json_t *v);
/* A problem; detail is copied. */
void api_answer_problem(api_answer *a, int status, const char *title, const char *detail);
/* A problem listing errs as [{"field","message"}] (api_problem_fields). */
void api_answer_fields(api_answer *a, int status, const char *title, const domain_errors *errs);
void api_answer_send(http_request *r, const api_answer *a);
void api_answer_free(api_answer *a);
/* Parses a request body copied off the loop as a JSON object: NULL with a
 * 400 answer when content_type is not JSON or the body is not an object. */
json_t *api_json_parse(const char *content_type, const char *body, size_t len, api_answer *a);

#endif
