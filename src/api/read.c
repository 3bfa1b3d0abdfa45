/*
 * read.c — the read API: graph, genres, bands, search, health.
 *
 * Every handler answers from the published snapshot: it takes a reference,
 * hands the pre-serialized bytes to the response (the reference is dropped
 * when the response has been written) and never touches the database.
 */
#include "api/api.h"
#include "api/common.h"

#include "core/buf.h"
#include "core/text.h"
#include "graph/snapshot.h"
#include "mg_version.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_TYPE            "application/json; charset=utf-8"
#define SEARCH_QUERY_MAX     100
#define SEARCH_LIMIT_DEFAULT 20
#define SEARCH_LIMIT_MAX     50

static void release_snapshot(void *s) { graph_release(s); }

/* Takes the current snapshot or answers 503 (only before the first build). */
static graph_snapshot *snapshot_or_503(http_request *r)
{
    graph_snapshot *s = graph_acquire();
    if (!s)
        http_problem(r, 503, "Service Unavailable", "The map is not loaded yet.", NULL);
    return s;
}

static void send_blob(http_request *r, graph_snapshot *s, const graph_blob *b)
{
    if (!b) { /* a document written on first request ran out of memory */
        graph_release(s);
        http_problem(r, 503, "Service Unavailable", "The server is out of memory; try again later.", NULL);
        return;
    }
    graph_blob_gzip(b); /* a no-op unless it is a large list fetched for the first time */
    const char *gz = __atomic_load_n(&b->gz, __ATOMIC_ACQUIRE);
    const char *br = __atomic_load_n(&b->br, __ATOMIC_ACQUIRE); /* added after publishing */
    http_body body = {b->data, b->len, gz, gz ? b->gzlen : 0, b->etag, br, br ? b->brlen : 0};
    http_respond_body(r, 200, JSON_TYPE, HTTP_CACHE_REVALIDATE, &body, s, release_snapshot);
}

static int get_graph(http_request *r, void *ctx)
{
    (void)ctx;
    graph_snapshot *s = snapshot_or_503(r);
    if (s)
        send_blob(r, s, graph_doc_graph(s));
    return 0;
}

static int get_genres(http_request *r, void *ctx)
{
    (void)ctx;
    graph_snapshot *s = snapshot_or_503(r);
    if (s)
        send_blob(r, s, graph_doc_genres(s));
    return 0;
}

static int get_bands(http_request *r, void *ctx)
{
    (void)ctx;
    graph_snapshot *s = snapshot_or_503(r);
    if (s)
        send_blob(r, s, graph_doc_bands(s));
    return 0;
}

static int get_genre(http_request *r, void *ctx)
{
    (void)ctx;
    graph_snapshot *s = snapshot_or_503(r);
    size_t i;
    if (!s)
        return 0;
    if (!graph_find_genre(s, r->params[0], &i)) {
        if (!api_redirect_former_id(r, s, 1, r->params[0], "/api/v1/genres/", NULL))
            http_problem(r, 404, "Not Found", "There is no genre with this id.", NULL);
        graph_release(s);
        return 0;
    }
    send_blob(r, s, graph_doc_genre(s, i));
    return 0;
}

static int get_band(http_request *r, void *ctx)
{
    (void)ctx;
    graph_snapshot *s = snapshot_or_503(r);
    size_t i;
    if (!s)
        return 0;
    if (!graph_find_band(s, r->params[0], &i)) {
        if (!api_redirect_former_id(r, s, 0, r->params[0], "/api/v1/bands/", NULL))
            http_problem(r, 404, "Not Found", "There is no band with this id.", NULL);
        graph_release(s);
        return 0;
    }
    send_blob(r, s, graph_doc_band(s, i));
    return 0;
}

static int get_search(http_request *r, void *ctx)
{
    (void)ctx;
    int bad = 0, bad_limit = 0;
    const char *q = http_query(r, "q", &bad);
    const char *limit_text = http_query(r, "limit", &bad_limit);
    if (bad || bad_limit) {
        http_problem(r, 400, "Bad Request", "The query string is malformed (bad percent-escape or invalid UTF-8).",
                     NULL);
        return 0;
    }
    if (!q) {
        http_problem(r, 400, "Bad Request", "The search text is missing.",
                     "[{\"field\":\"q\",\"message\":\"is required\"}]");
        return 0;
    }
    if (text_utf8_length(q) > SEARCH_QUERY_MAX) {
        http_problem(r, 400, "Bad Request", "The search text is too long.",
                     "[{\"field\":\"q\",\"message\":\"must be at most 100 characters\"}]");
        return 0;
    }
    long limit = SEARCH_LIMIT_DEFAULT;
    if (limit_text) {
        char *end;
        limit = strtol(limit_text, &end, 10);
        if (*end || end == limit_text || limit < 1 || limit > SEARCH_LIMIT_MAX) {
            http_problem(r, 400, "Bad Request", "The limit must be a number from 1 to 50.",
                         "[{\"field\":\"limit\",\"message\":\"must be a number from 1 to 50\"}]");
            return 0;
        }
    }
    graph_snapshot *s = snapshot_or_503(r);
    if (!s)
        return 0;
    buf out = BUF_INIT;
    graph_search(s, q, (size_t)limit, &out);
    graph_release(s);
    http_respond(r, 200, JSON_TYPE, buf_cstr(&out), out.len);
    buf_free(&out);
    return 0;
}

/* Reads an optional limit parameter (1..max); answers 400 and returns -1 when bad. */
static int read_limit(http_request *r, long *limit, long max)
{
    int bad = 0;
    const char *text = http_query(r, "limit", &bad);
    if (!text && !bad)
        return 0;
    char *end = NULL;
    long v = text ? strtol(text, &end, 10) : -1;
    if (bad || !end || *end || end == text || v < 1 || v > max) {
        char msg[64];
        snprintf(msg, sizeof msg, "[{\"field\":\"limit\",\"message\":\"must be a number from 1 to %ld\"}]", max);
        http_problem(r, 400, "Bad Request", "The limit is not valid.", msg);
        return -1;
    }
    *limit = v;
    return 0;
}

static int get_path(http_request *r, void *ctx)
{
    (void)ctx;
    int bad_from = 0, bad_to = 0;
    const char *from = http_query(r, "from", &bad_from), *to = http_query(r, "to", &bad_to);
    if (bad_from || bad_to || !from || !to || !*from || !*to) {
        http_problem(
            r, 400, "Bad Request", "Give two genre ids: ?from=GENRE&to=GENRE.",
            "[{\"field\":\"from\",\"message\":\"is required\"},{\"field\":\"to\",\"message\":\"is required\"}]");
        return 0;
    }
    graph_snapshot *s = snapshot_or_503(r);
    if (!s)
        return 0;
    buf out = BUF_INIT;
    if (graph_path(s, from, to, &out) != 0)
        http_problem(r, 404, "Not Found", "There is no genre with that id.", NULL);
    else
        http_respond(r, 200, JSON_TYPE, buf_cstr(&out), out.len);
    graph_release(s);
    buf_free(&out);
    return 0;
}

typedef int (*neighbours_fn)(const graph_snapshot *s, const char *id, size_t limit, buf *out);

/* Related genres and similar bands: same parameters, same errors, and a
 * former id redirects like the entity's own document. */
static int get_neighbours(http_request *r, neighbours_fn fn, int is_genre)
{
    long limit = 20;
    if (read_limit(r, &limit, 100) != 0)
        return 0;
    graph_snapshot *s = snapshot_or_503(r);
    if (!s)
        return 0;
    buf out = BUF_INIT;
    if (fn(s, r->params[0], (size_t)limit, &out) != 0) {
        if (!api_redirect_former_id(r, s, is_genre, r->params[0], is_genre ? "/api/v1/genres/" : "/api/v1/bands/",
                                    is_genre ? "/related" : "/similar"))
            http_problem(r, 404, "Not Found",
                         is_genre ? "There is no genre with this id." : "There is no band with this id.", NULL);
    } else
        http_respond(r, 200, JSON_TYPE, buf_cstr(&out), out.len);
    graph_release(s);
    buf_free(&out);
    return 0;
}

static int get_related(http_request *r, void *ctx)
{
    (void)ctx;
    return get_neighbours(r, graph_related, 1);
}

static int get_similar(http_request *r, void *ctx)
{
    (void)ctx;
    return get_neighbours(r, graph_similar, 0);
}

/* Written once at registration: the liveness answer never allocates. The version
 * lets a deploy see which binary answers. */
static char healthz_body[160];

static int get_healthz(http_request *r, void *ctx)
{
    (void)ctx;
    http_respond(r, 200, JSON_TYPE, healthz_body, strlen(healthz_body));
    return 0;
}

void api_register_read(http_router *rt, api *a)
{
    snprintf(healthz_body, sizeof healthz_body, "{\"status\":\"ok\",\"version\":\"%s\"}", MG_VERSION);
    http_route(rt, "GET", "/api/v1/graph", get_graph, a);
    http_route(rt, "GET", "/api/v1/genres", get_genres, a);
    http_route(rt, "GET", "/api/v1/genres/{id}", get_genre, a);
    http_route(rt, "GET", "/api/v1/bands", get_bands, a);
    http_route(rt, "GET", "/api/v1/bands/{id}", get_band, a);
    http_route(rt, "GET", "/api/v1/search", get_search, a);
    http_route(rt, "GET", "/api/v1/path", get_path, a);
    http_route(rt, "GET", "/api/v1/genres/{id}/related", get_related, a);
    http_route(rt, "GET", "/api/v1/bands/{id}/similar", get_similar, a);
    http_route(rt, "GET", "/healthz", get_healthz, a);
}
