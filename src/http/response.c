/*
 * response.c — request accessors and response helpers (see http.h).
 *
 * Bodies held elsewhere (snapshot documents) are sent without copying: the
 * owner's reference is tied to the request's memory pool and released when
 * h2o frees the pool, which happens only after the last byte is written.
 */
#include "http/internal.h"

#include "core/buf.h"
#include "core/json.h"
#include "core/text.h"

#include <arpa/inet.h>
#include <h2o.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Strict by default: pages load only their own scripts, styles and data. */
#define CSP_POLICY                                                                                                     \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "              \
    "font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

const char *http_method(http_request *r)
{
    h2o_iovec_t m = r->req->method;
    return h2o_strdup(&r->req->pool, m.base, m.len).base;
}

const char *http_header(http_request *r, const char *name)
{
    ssize_t i = h2o_find_header_by_str(&r->req->headers, name, strlen(name), -1);
    if (i < 0)
        return NULL;
    h2o_iovec_t v = r->req->headers.entries[i].value;
    return h2o_strdup(&r->req->pool, v.base, v.len).base;
}

const char *http_query(http_request *r, const char *name, int *bad)
{
    h2o_req_t *req = r->req;
    if (bad)
        *bad = 0;
    if (req->query_at == SIZE_MAX)
        return NULL;
    const char *q = req->path.base + req->query_at + 1;
    size_t qlen = req->path.len - req->query_at - 1;
    size_t nlen = strlen(name);
    const char *found = NULL;
    while (qlen > 0) {
        const char *amp = memchr(q, '&', qlen);
        size_t plen = amp ? (size_t)(amp - q) : qlen;
        const char *eq = memchr(q, '=', plen);
        size_t klen = eq ? (size_t)(eq - q) : plen;
        char *key = h2o_mem_alloc_pool(&req->pool, klen + 1);
        memcpy(key, q, klen);
        long kdec = text_url_decode(key, klen, 1);
        key[kdec >= 0 ? (size_t)kdec : 0] = '\0';
        if (kdec < 0) {
            if (bad)
                *bad = 1;
            return NULL;
        }
        if ((size_t)kdec == nlen && memcmp(key, name, nlen) == 0 && !found) {
            size_t vlen = eq ? plen - klen - 1 : 0;
            char *value = h2o_mem_alloc_pool(&req->pool, vlen + 1);
            memcpy(value, eq ? eq + 1 : "", vlen);
            value[vlen] = '\0';
            long vdec = text_url_decode(value, vlen, 1);
            if (vdec < 0 || strlen(value) != (size_t)vdec || !text_utf8_valid(value, (size_t)vdec)) {
                if (bad)
                    *bad = 1;
                return NULL;
            }
            value[vdec] = '\0';
            found = value;
        }
        if (!amp)
            break;
        qlen -= plen + 1;
        q = amp + 1;
    }
    return found;
}

int http_accepts_encoding(http_request *r, const char *coding)
{
    ssize_t i = h2o_find_header(&r->req->headers, H2O_TOKEN_ACCEPT_ENCODING, -1);
    if (i < 0)
        return 0;
    h2o_iovec_t v = r->req->headers.entries[i].value;
    size_t clen = strlen(coding);
    /* Look for the coding as a whole token, not followed by q=0. */
    for (size_t at = 0; at + clen <= v.len; at++) {
        if (!h2o_lcstris(v.base + at, clen, coding, clen) || (at > 0 && v.base[at - 1] != ' ' && v.base[at - 1] != ','))
            continue;
        size_t end = at + clen;
        while (end < v.len && v.base[end] == ' ')
            end++;
        if (end < v.len && v.base[end] != ';' && v.base[end] != ',')
            continue; /* a longer token ("brotli", "gzipx") */
        if (end < v.len && v.base[end] == ';') {
            const char *rest = v.base + end;
            size_t restlen = v.len - end;
            const char *comma = memchr(rest, ',', restlen);
            size_t plen = comma ? (size_t)(comma - rest) : restlen;
            /* q=0, q=0.0, q=0.00 mean "not acceptable". */
            for (size_t k = 0; k + 3 <= plen; k++)
                if (rest[k] == 'q' && rest[k + 1] == '=' && rest[k + 2] == '0') {
                    size_t m = k + 3;
                    if (m < plen && rest[m] == '.')
                        m++;
                    while (m < plen && rest[m] == '0')
                        m++;
                    if (m == plen || rest[m] == ' ')
                        return 0;
                }
        }
        return 1;
    }
    return 0;
}

int http_accepts_gzip(http_request *r) { return http_accepts_encoding(r, "gzip"); }

void http_add_header(http_request *r, const char *name, const char *value)
{
    h2o_req_t *req = r->req;
    h2o_iovec_t n = h2o_strdup(&req->pool, name, strlen(name));
    h2o_iovec_t v = h2o_strdup(&req->pool, value, strlen(value));
    h2o_add_header_by_str(&req->pool, &req->res.headers, n.base, n.len, 1, NULL, v.base, v.len);
}

void http_common_headers(http_request *r)
{
    h2o_req_t *req = r->req;
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-request-id"), 0, NULL, r->request_id,
                          strlen(r->request_id));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-content-type-options"), 0, NULL,
                          H2O_STRLIT("nosniff"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("referrer-policy"), 0, NULL,
                          H2O_STRLIT("same-origin"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-frame-options"), 0, NULL, H2O_STRLIT("DENY"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("content-security-policy"), 0, NULL,
                          H2O_STRLIT(CSP_POLICY));
}

static int is_head(http_request *r) { return h2o_memis(r->req->method.base, r->req->method.len, H2O_STRLIT("HEAD")); }

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "";
    }
}

/* Starts the response and sends bytes as the final (only) chunk. */
static void send_final(http_request *r, int status, const char *data, size_t len)
{
    static h2o_generator_t generator = {NULL, NULL};
    h2o_req_t *req = r->req;
    req->res.status = status;
    req->res.reason = reason_phrase(status);
    req->res.content_length = len;
    r->status = status;
    http_common_headers(r);
    h2o_start_response(req, &generator);
    h2o_iovec_t body = h2o_iovec_init(data, len);
    if (is_head(r) || status == 304)
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
    else
        h2o_send(req, &body, 1, H2O_SEND_STATE_FINAL);
}

static void set_content_type(http_request *r, const char *content_type)
{
    h2o_req_t *req = r->req;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type, strlen(content_type));
}

void http_respond(http_request *r, int status, const char *content_type, const char *body, size_t len)
{
    h2o_req_t *req = r->req;
    char *copy = h2o_mem_alloc_pool(&req->pool, len + 1);
    memcpy(copy, body, len);
    set_content_type(r, content_type);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT(HTTP_CACHE_NONE));
    send_final(r, status, copy, len);
}

typedef struct owner_ref {
    void *owner;
    void (*release)(void *owner);
} owner_ref;

static void release_owner(void *p)
{
    owner_ref *ref = p;
    if (ref->release)
        ref->release(ref->owner);
}

/* 1 if an If-None-Match list contains etag (or "*"). */
static int etag_matches(const char *list, const char *etag)
{
    size_t elen = strlen(etag);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == '*')
            return 1;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        size_t n = strcspn(p, ",");
        while (n > 0 && p[n - 1] == ' ')
            n--;
        if (n == elen && memcmp(p, etag, elen) == 0)
            return 1;
        p += strcspn(p, ",");
    }
    return 0;
}

void http_respond_body(http_request *r, int status, const char *content_type, const char *cache_control,
                       const http_body *body, void *owner, void (*release)(void *owner))
{
    h2o_req_t *req = r->req;
    owner_ref *ref = h2o_mem_alloc_shared(&req->pool, sizeof *ref, release_owner);
    ref->owner = owner;
    ref->release = release;

    int use_br = body->br && http_accepts_encoding(r, "br");
    int use_gzip = !use_br && body->gz && http_accepts_gzip(r);
    char etag[48] = "";
    if (body->etag) {
        /* Compressed bytes are a different representation: a different ETag. */
        size_t n = strlen(body->etag);
        if ((use_gzip || use_br) && n >= 2 && n + 4 < sizeof etag)
            snprintf(etag, sizeof etag, "%.*s-%s\"", (int)(n - 1), body->etag, use_br ? "br" : "gz");
        else
            snprintf(etag, sizeof etag, "%s", body->etag);
        h2o_iovec_t e = h2o_strdup(&req->pool, etag, strlen(etag));
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ETAG, NULL, e.base, e.len);
    }
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, cache_control, strlen(cache_control));
    if (body->gz || body->br)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_VARY, NULL, H2O_STRLIT("Accept-Encoding"));

    const char *inm = etag[0] ? http_header(r, "if-none-match") : NULL;
    if (inm && etag_matches(inm, etag)) {
        send_final(r, 304, NULL, 0);
        return;
    }
    set_content_type(r, content_type);
    if (use_br) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_ENCODING, NULL, H2O_STRLIT("br"));
        send_final(r, status, body->br, body->brlen);
    } else if (use_gzip) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_ENCODING, NULL, H2O_STRLIT("gzip"));
        send_final(r, status, body->gz, body->gzlen);
    } else {
        send_final(r, status, body->data, body->len);
    }
}

void http_problem(http_request *r, int status, const char *title, const char *detail, const char *errors_json)
{
    http_problem_with(r, status, title, detail, "errors", errors_json);
}

void http_problem_with(http_request *r, int status, const char *title, const char *detail, const char *key,
                       const char *json)
{
    buf out = BUF_INIT;
    json_writer w;
    jw_init(&w, &out);
    jw_object_begin(&w);
    jw_key(&w, "type");
    jw_string(&w, "about:blank");
    jw_key(&w, "title");
    jw_string(&w, title);
    jw_key(&w, "status");
    jw_int(&w, status);
    if (detail) {
        jw_key(&w, "detail");
        jw_string(&w, detail);
    }
    if (json) {
        jw_key(&w, key);
        jw_raw(&w, json, strlen(json));
    }
    jw_key(&w, "request_id");
    jw_string(&w, r->request_id);
    jw_object_end(&w);
    http_respond(r, status, "application/problem+json", buf_cstr(&out), out.len);
    buf_free(&out);
}

void http_redirect(http_request *r, int status, const char *location)
{
    h2o_req_t *req = r->req;
    h2o_iovec_t loc = h2o_strdup(&req->pool, location, strlen(location));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_LOCATION, NULL, loc.base, loc.len);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT(HTTP_CACHE_NONE));
    send_final(r, status, NULL, 0);
}

const char *http_body_bytes(http_request *r, size_t *len)
{
    *len = r->req->entity.base ? r->req->entity.len : 0;
    return r->req->entity.base ? r->req->entity.base : "";
}

const char *http_cookie(http_request *r, const char *name)
{
    size_t nlen = strlen(name);
    for (ssize_t i = -1; (i = h2o_find_header(&r->req->headers, H2O_TOKEN_COOKIE, i)) >= 0;) {
        h2o_iovec_t v = r->req->headers.entries[i].value;
        const char *p = v.base, *end = v.base + v.len;
        while (p < end) {
            while (p < end && (*p == ' ' || *p == ';'))
                p++;
            const char *semi = memchr(p, ';', (size_t)(end - p));
            const char *stop = semi ? semi : end;
            if ((size_t)(stop - p) > nlen && memcmp(p, name, nlen) == 0 && p[nlen] == '=')
                return h2o_strdup(&r->req->pool, p + nlen + 1, (size_t)(stop - p - (ptrdiff_t)nlen - 1)).base;
            p = stop;
        }
    }
    return NULL;
}

const char *http_form_field(http_request *r, const char *name)
{
    size_t len;
    const char *body = http_body_bytes(r, &len);
    size_t nlen = strlen(name);
    const char *p = body, *end = body + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        if (eq && (size_t)(eq - p) == nlen && memcmp(p, name, nlen) == 0) {
            size_t vlen = (size_t)(stop - eq - 1);
            char *value = h2o_mem_alloc_pool(&r->req->pool, vlen + 1);
            memcpy(value, eq + 1, vlen);
            value[vlen] = '\0';
            long n = text_url_decode(value, vlen, 1);
            if (n < 0 || strlen(value) != (size_t)n || !text_utf8_valid(value, (size_t)n))
                return NULL;
            value[n] = '\0';
            return value;
        }
        p = stop + 1;
    }
    return NULL;
}

const char *http_path(http_request *r)
{
    h2o_req_t *req = r->req;
    size_t len = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    const char *p = req->path.base;
    if (len > 0 && p[0] != '/') { /* absolute form: drop scheme and authority */
        const char *scheme_end = memmem(p, len, "://", 3);
        const char *slash = scheme_end ? memchr(scheme_end + 3, '/', len - (size_t)(scheme_end + 3 - p)) : NULL;
        if (!slash)
            return "/";
        len -= (size_t)(slash - p);
        p = slash;
    }
    return h2o_strdup(&req->pool, p, len).base;
}
