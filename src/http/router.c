/*
 * router.c — method + path pattern routing (see http.h).
 *
 * Routes are few (tens), so matching walks them in order and compares
 * segments; a path that matches some pattern under another method gets 405
 * with an Allow header rather than 404.
 */
#include "http/internal.h"
#include "core/xalloc.h"


#include <h2o.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SEGMENTS 8

typedef struct route {
    char method[8];
    char *pattern;
    char *segments[MAX_SEGMENTS];
    size_t nsegments;
    http_handler_fn fn;
    void *ctx;
} route;

struct http_router {
    route *routes;
    size_t count;
};

http_router *http_router_new(void) { return xcalloc(1, sizeof(http_router)); }

void http_router_free(http_router *rt)
{
    if (!rt)
        return;
    for (size_t i = 0; i < rt->count; i++) {
        free(rt->routes[i].pattern);
        for (size_t j = 0; j < rt->routes[i].nsegments; j++)
            free(rt->routes[i].segments[j]);
    }
    free(rt->routes);
    free(rt);
}

int http_route(http_router *rt, const char *method, const char *pattern, http_handler_fn fn, void *ctx)
{
    rt->routes = xreallocarray(rt->routes, rt->count + 1, sizeof *rt->routes);
    route *r = &rt->routes[rt->count];
    memset(r, 0, sizeof *r);
    strncpy(r->method, method, sizeof r->method - 1);
    r->pattern = xstrdup(pattern);
    r->fn = fn;
    r->ctx = ctx;
    /* "/" has no segments; "/a/{b}" has "a" and "{b}". */
    const char *p = pattern;
    while (*p == '/')
        p++;
    while (*p && r->nsegments < MAX_SEGMENTS) {
        size_t n = strcspn(p, "/");
        r->segments[r->nsegments++] = xstrndup(p, n);
        p += n;
        while (*p == '/')
            p++;
    }
    rt->count++;
    return 0;
}

/* Splits path into segments in the pool; returns -1 if there are too many. */
static int split_path(h2o_mem_pool_t *pool, const char *path, size_t len, h2o_iovec_t *segs, size_t *nsegs)
{
    size_t i = 0;
    *nsegs = 0;
    while (i < len && path[i] == '/')
        i++;
    while (i < len) {
        size_t start = i;
        while (i < len && path[i] != '/')
            i++;
        if (*nsegs == MAX_SEGMENTS)
            return -1;
        segs[(*nsegs)++] = h2o_iovec_init(path + start, i - start);
        while (i < len && path[i] == '/')
            i++;
    }
    (void)pool;
    return 0;
}

static int route_matches(const route *rt, h2o_iovec_t *segs, size_t nsegs)
{
    if (rt->nsegments != nsegs)
        return 0;
    for (size_t i = 0; i < nsegs; i++) {
        const char *s = rt->segments[i];
        if (s[0] == '{')
            continue;
        if (strlen(s) != segs[i].len || memcmp(s, segs[i].base, segs[i].len) != 0)
            return 0;
    }
    return 1;
}

static int method_matches(const route *rt, h2o_iovec_t method)
{
    if (h2o_memis(method.base, method.len, rt->method, strlen(rt->method)))
        return 1;
    return strcmp(rt->method, "GET") == 0 && h2o_memis(method.base, method.len, H2O_STRLIT("HEAD"));
}

void http_dispatch(http_router *rt, http_request *r)
{
    h2o_req_t *req = r->req;
    h2o_iovec_t segs[MAX_SEGMENTS];
    size_t nsegs;
    r->route = "-";
    r->route_index = -1;
    /* An absolute-form target (GET http://host/path) routes by its path. */
    h2o_iovec_t path = req->path_normalized;
    const char *scheme_end =
        path.len > 0 && req->path.len > 0 && req->path.base[0] != '/' ? memmem(path.base, path.len, "://", 3) : NULL;
    if (scheme_end) {
        const char *slash = memchr(scheme_end + 3, '/', path.len - (size_t)(scheme_end + 3 - path.base));
        path = slash ? h2o_iovec_init(slash, path.len - (size_t)(slash - path.base)) : h2o_iovec_init("/", 1);
    }
    if (split_path(&req->pool, path.base, path.len, segs, &nsegs) != 0) {
        http_problem(r, 404, "Not Found", "No such page.", NULL);
        return;
    }
    char allow[64] = "";
    for (size_t i = 0; i < rt->count; i++) {
        route *candidate = &rt->routes[i];
        if (!route_matches(candidate, segs, nsegs))
            continue;
        if (!method_matches(candidate, req->method)) {
            if (strlen(allow) + strlen(candidate->method) + 3 < sizeof allow) {
                if (allow[0])
                    strcat(allow, ", ");
                strcat(allow, candidate->method);
                if (strcmp(candidate->method, "GET") == 0)
                    strcat(allow, ", HEAD");
            }
            continue;
        }
        r->route = candidate->pattern;
        r->route_index = (int)i;
        r->nparams = 0;
        for (size_t j = 0; j < nsegs; j++) {
            if (candidate->segments[j][0] != '{' || r->nparams == HTTP_MAX_PARAMS)
                continue;
            /* h2o's normalized path is already percent-decoded: decoding it again
             * would turn %252F into a slash inside a parameter. */
            if (memchr(segs[j].base, '\0', segs[j].len)) {
                http_problem(r, 400, "Bad Request", "The path contains a NUL character.", NULL);
                return;
            }
            char *value = h2o_mem_alloc_pool(&req->pool, segs[j].len + 1);
            memcpy(value, segs[j].base, segs[j].len);
            value[segs[j].len] = '\0';
            r->params[r->nparams++] = value;
        }
        candidate->fn(r, candidate->ctx);
        return;
    }
    if (allow[0]) {
        http_add_header(r, "allow", allow);
        http_problem(r, 405, "Method Not Allowed", "This resource does not support that method.", NULL);
        return;
    }
    http_problem(r, 404, "Not Found", "No such page.", NULL);
}

size_t http_router_count(const http_router *rt) { return rt->count; }

const char *http_router_pattern(const http_router *rt, size_t i) { return rt->routes[i].pattern; }

const char *http_router_method(const http_router *rt, size_t i) { return rt->routes[i].method; }
