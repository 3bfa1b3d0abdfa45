/*
 * fuzz_http.c — libFuzzer target for what a request goes through after h2o
 * has parsed it: the framing and origin checks, routing and path parameters,
 * query strings, cookies, form fields, X-Forwarded-For behind a trusted
 * proxy, Accept-Encoding, JSON request bodies and the responses written for
 * them (src/http, api_json_body of src/api).
 *
 * The input is the raw bytes of one HTTP/1.x request. h2o's own parser
 * (picohttpparser, exported by libh2o) splits it as the server's would; the
 * request is then filled in the way h2o's HTTP/1 connection fills it and
 * handed to http_handle_request, the server's entry point, on a connection
 * that has no socket: its final output stream keeps the response in memory.
 *
 * Properties checked on every input:
 *   - the request is answered exactly once, completely, with a status between
 *     200 and 599 and an X-Request-Id header;
 *   - two Content-Lengths, or Content-Length with Transfer-Encoding, are
 *     refused with 400 (414 or 431 when the target or head is over its
 *     bound) before any handler runs, and the connection is not kept
 *     (checked against the parsed headers); nor is it after a 414 or 431;
 *   - a path parameter that reaches a handler holds no NUL and no '/';
 *   - a query or form value that reaches a handler is a C string whose length
 *     is at most that of the whole input.
 */
#include "api/common.h"
#include "core/log.h"
#include "http/internal.h"

#include <h2o.h>
#include <jansson.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* picohttpparser ships inside libh2o without its header. */
struct phr_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};
int phr_parse_request(const char *buf, size_t len, const char **method, size_t *method_len, const char **path,
                      size_t *path_len, int *minor_version, struct phr_header *headers, size_t *num_headers,
                      size_t last_len);

#define MAX_HEADERS 100 /* h2o's limit for HTTP/1 */

static size_t input_len;
static int handled; /* a handler ran for this input */

static void die(const char *what)
{
    fprintf(stderr, "fuzz_http: %s\n", what);
    abort();
}

/* ---- handlers: each reads what a real handler reads, and answers ---- */

static void check_value(const char *v)
{
    if (v && strlen(v) > input_len)
        die("a decoded value is longer than the request");
}

static int on_entity(http_request *r, void *ctx)
{
    (void)ctx;
    handled = 1;
    for (size_t i = 0; i < r->nparams; i++)
        if (strchr(r->params[i], '/'))
            die("a path parameter holds a slash");
    int bad = 0;
    check_value(http_query(r, "limit", &bad));
    const char *id = r->nparams ? r->params[0] : "";
    int br = http_accepts_encoding(r, "br"), gz = http_accepts_gzip(r);
    char head[32];
    snprintf(head, sizeof head, "%d%d%d", bad, br, gz);
    http_add_header(r, "x-encodings", head);
    http_respond(r, 200, "text/plain; charset=utf-8", id, strlen(id));
    return 0;
}

static int on_search(http_request *r, void *ctx)
{
    (void)ctx;
    handled = 1;
    int bad = 0;
    const char *q = http_query(r, "q", &bad);
    check_value(q);
    check_value(http_query(r, "limit", &bad));
    if (bad) {
        http_problem(r, 400, "Bad Request", "The query string is not valid.", NULL);
        return 0;
    }
    http_respond(r, 200, "text/plain; charset=utf-8", q ? q : "", q ? strlen(q) : 0);
    return 0;
}

static int on_login(http_request *r, void *ctx)
{
    (void)ctx;
    handled = 1;
    const char *user = http_form_field(r, "username");
    const char *next = http_form_field(r, "next");
    check_value(user);
    check_value(next);
    check_value(http_cookie(r, "musicgraph_session"));
    check_value(http_header(r, "origin"));
    http_redirect(r, 303, "/admin");
    return 0;
}

static int on_json(http_request *r, void *ctx)
{
    (void)ctx;
    handled = 1;
    json_t *body = api_json_body(r); /* answers 400/415 itself */
    if (!body)
        return 0;
    char *text = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(body);
    http_respond(r, 201, "application/json", text ? text : "null", text ? strlen(text) : 4);
    free(text);
    return 0;
}

static int on_whoami(http_request *r, void *ctx)
{
    (void)ctx;
    handled = 1;
    const char *client = http_client_address(r);
    if (!client || !*client)
        die("no client address");
    check_value(http_header(r, "x-forwarded-proto"));
    char out[128];
    int n = snprintf(out, sizeof out, "%s %d", client, http_is_secure(r));
    http_respond(r, 200, "text/plain", out, (size_t)n);
    return 0;
}

/* ---- a connection without a socket ---- */

typedef struct fuzz_conn {
    h2o_conn_t super;
    h2o_ostream_t final;
    int complete, sends;
    h2o_req_t req; /* last: h2o_init_request initialises it */
} fuzz_conn;

static void on_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t nbufs, h2o_send_state_t state)
{
    fuzz_conn *c = H2O_STRUCT_FROM_MEMBER(fuzz_conn, final, self);
    (void)bufs, (void)nbufs;
    if (c->complete)
        die("a response went on after its end");
    c->sends++;
    if (h2o_send_state_is_in_progress(state))
        h2o_proceed_response(req);
    else
        c->complete = 1;
}

/* The framing check reads the request head as the client sent it, from the
 * socket's input buffer (h2o folds duplicate headers away): the socket here is
 * only that buffer. */
static h2o_socket_t raw;

static h2o_socket_t *socket_of(h2o_conn_t *conn)
{
    (void)conn;
    return &raw;
}

static socklen_t peer_of(h2o_conn_t *conn, struct sockaddr *sa)
{
    (void)conn;
    struct sockaddr_in *sin = (struct sockaddr_in *)sa;
    memset(sin, 0, sizeof *sin);
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(0x7f000001);
    sin->sin_port = htons(40000);
    return sizeof *sin;
}

static h2o_globalconf_t globalconf;
static h2o_context_t ctx;
static http_router *rt;
static const h2o_conn_callbacks_t callbacks = {.get_sockname = peer_of, .get_peername = peer_of, .get_socket = socket_of};

static int serve(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    return http_handle_request(rt, req);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    if (sodium_init() < 0)
        die("sodium_init");
    log_configure("text", "error");
    char err[256];
    if (http_set_trusted_proxies("127.0.0.1/32,::1/128", err, sizeof err) != 0)
        die(err);
    rt = http_router_new();
    http_route(rt, "GET", "/api/v1/genres/{id}", on_entity, NULL);
    http_route(rt, "GET", "/api/v1/bands/{id}/similar", on_entity, NULL);
    http_route(rt, "DELETE", "/api/v1/genres/{id}/links/{to}", on_entity, NULL);
    http_route(rt, "GET", "/api/v1/search", on_search, NULL);
    http_route(rt, "POST", "/login", on_login, NULL);
    http_route(rt, "POST", "/api/v1/genres", on_json, NULL);
    http_route(rt, "PUT", "/api/v1/genres/{id}", on_json, NULL);
    http_route(rt, "GET", "/whoami", on_whoami, NULL);
    if (http_metrics_init(rt) != 0)
        die("metrics");
    h2o_config_init(&globalconf);
    h2o_hostconf_t *host = h2o_config_register_host(&globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_create_handler(path, sizeof(h2o_handler_t))->on_req = serve;
    h2o_context_init(&ctx, h2o_evloop_create(), &globalconf);
    h2o_buffer_init(&raw.input, &h2o_socket_buffer_prototype);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *method, *path;
    size_t method_len, path_len, nheaders = MAX_HEADERS;
    int minor;
    struct phr_header headers[MAX_HEADERS];
    /* The parser and the request point into this copy, as into h2o's socket buffer. */
    char *buf = malloc(size + 1);
    memcpy(buf, data, size);
    buf[size] = '\0';
    input_len = size;
    h2o_buffer_consume(&raw.input, raw.input->size);
    h2o_buffer_reserve(&raw.input, size);
    memcpy(raw.input->bytes, data, size);
    raw.input->size = size;
    int head = phr_parse_request(buf, size, &method, &method_len, &path, &path_len, &minor, headers, &nheaders, 0);
    if (head <= 0) { /* h2o answers these itself, before our code runs */
        free(buf);
        return 0;
    }

    fuzz_conn *c = (fuzz_conn *)h2o_create_connection(sizeof *c, &ctx, globalconf.hosts, (struct timeval){0},
                                                      &callbacks);
    memset((char *)c + sizeof c->super, 0, offsetof(fuzz_conn, req) - sizeof c->super);
    h2o_init_request(&c->req, &c->super, NULL);
    c->req._ostr_top = &c->final;
    c->final.do_send = on_send;

    h2o_req_t *req = &c->req;
    req->input.scheme = &H2O_URL_SCHEME_HTTP;
    req->input.method = h2o_iovec_init(method, method_len);
    req->input.path = h2o_iovec_init(path, path_len);
    req->version = 0x100 | (minor == 1);
    req->http1_is_persistent = minor == 1;
    int content_lengths = 0, transfer_encodings = 0;
    /* Header names lower-cased and known ones as tokens, as h2o's HTTP/1 does. */
    for (size_t i = 0; i < nheaders; i++) {
        if (!headers[i].name) /* a continuation line */
            continue;
        char *name = h2o_mem_alloc_pool(&req->pool, headers[i].name_len + 1);
        memcpy(name, headers[i].name, headers[i].name_len);
        name[headers[i].name_len] = '\0';
        h2o_strtolower(name, headers[i].name_len);
        const h2o_token_t *token = h2o_lookup_token(name, headers[i].name_len);
        content_lengths += token == H2O_TOKEN_CONTENT_LENGTH;
        transfer_encodings += token == H2O_TOKEN_TRANSFER_ENCODING;
        if (token == H2O_TOKEN_HOST) {
            req->input.authority = h2o_iovec_init(headers[i].value, headers[i].value_len);
        }
        if (token)
            h2o_add_header(&req->pool, &req->headers, token, headers[i].name, headers[i].value, headers[i].value_len);
        else
            h2o_add_header_by_str(&req->pool, &req->headers, name, headers[i].name_len, 0, headers[i].name,
                                  headers[i].value, headers[i].value_len);
    }
    if ((size_t)head < size)
        req->entity = h2o_iovec_init(buf + head, size - (size_t)head);

    /* The framing check's independent oracle: these are always refused (RFC 9112). */
    int smuggling = content_lengths > 1 || (content_lengths && transfer_encodings);
    handled = 0;
    h2o_process_request(req);

    if (!c->complete)
        die("the request was not answered completely");
    int status = req->res.status;
    if (status < 200 || status > 599)
        die("a status outside 200..599");
    if (h2o_find_header_by_str(&req->res.headers, H2O_STRLIT("x-request-id"), -1) < 0)
        die("a response without X-Request-Id");
    if ((status == 414 || status == 431 || smuggling) && req->http1_is_persistent)
        die("a refused request kept its connection");
    /* Refused with 400 — or, before its framing is judged, with 414 or 431
     * when the target or the head is over its bound (found by fuzzing: three
     * Content-Lengths in a 32 KB head). */
    int oversized = (status == 414 && path_len > MAX_TARGET_BYTES) || (status == 431 && head > MAX_HEAD_BYTES);
    if (smuggling && ((status != 400 && !oversized) || handled)) {
        fprintf(stderr, "fuzz_http: status %d, handled %d\n", status, handled);
        die("two Content-Lengths, or one with Transfer-Encoding, were not refused");
    }

    h2o_dispose_request(req);
    free(c);
    free(buf);
    return 0;
}
