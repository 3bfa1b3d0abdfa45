/*
 * http.h — the HTTP server, its router and response helpers.
 *
 * Built on h2o (libh2o-evloop): one event loop per worker thread, each
 * accepting from the same listening socket; HTTP/1.1 with keep-alive, the
 * h2c upgrade off; a memory pool per request that is freed when the request
 * ends. This layer knows routes, headers and status codes, nothing about
 * genres: handlers are registered by src/api/.
 *
 * Every response carries X-Request-Id and the security headers; errors are
 * application/problem+json (RFC 9457).
 */
#ifndef MG_HTTP_H
#define MG_HTTP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

struct st_h2o_req_t;

#define HTTP_MAX_PARAMS 4

typedef struct http_request {
    struct st_h2o_req_t *req;
    const char *params[HTTP_MAX_PARAMS]; /* decoded {name} segments, in pattern order */
    size_t nparams;
    const char *route; /* matched pattern, for logs; "-" if none */
    int route_index;   /* index of the matched route, -1 if none */
    char request_id[33];
    uint64_t started_ns;
    int status; /* set when the response starts */
} http_request;

typedef int (*http_handler_fn)(http_request *r, void *ctx);

/* ---- router ---- */
typedef struct http_router http_router;
http_router *http_router_new(void);
void http_router_free(http_router *rt);
/* pattern: literal segments and {name} for one non-empty segment, e.g.
 * "/api/v1/genres/{id}". method "GET" also answers HEAD. */
int http_route(http_router *rt, const char *method, const char *pattern, http_handler_fn fn, void *ctx);
size_t http_router_count(const http_router *rt);
const char *http_router_pattern(const http_router *rt, size_t i);
const char *http_router_method(const http_router *rt, size_t i);

/* ---- server ---- */
typedef struct http_server_config {
    const char *listen;  /* "127.0.0.1:8080", "[::1]:8080", ":8080" */
    int listen_fd;       /* an already open listening socket, or -1 */
    int plain_listen_fd; /* a plain-HTTP listener beside a TLS one (ACME http-01 and redirects to HTTPS), or -1 */
    int tls_required;    /* the main listener is TLS even while no certificate is loaded yet (ACME) */
    int threads;
    size_t max_body;
    int shutdown_timeout_s;
    int request_timeout_s;
    int max_connections;
    int max_connections_per_client; /* 0: no limit below max_connections */
    /* Called on the main thread about every 250 ms while serving. */
    void (*on_tick)(void *ctx);
    /* Called on the main thread on SIGHUP. */
    void (*on_reload)(void *ctx);
    /* For SIGUSR2 upgrades: the binary to start and its arguments. */
    const char *exec_path;
    char **argv;
    void *ctx;
} http_server_config;

/* Blocks the signals the server waits for (SIGTERM, SIGINT, SIGHUP, SIGUSR2)
 * in the calling thread, filling set with them, and ignores SIGPIPE. Call it
 * before starting any thread so that every thread inherits the mask. */
void http_block_signals(sigset_t *set);

/* Listens (or takes the socket systemd passed), serves until SIGTERM or
 * SIGINT, then stops accepting, lets in-flight requests finish (bounded by
 * the shutdown timeout) and returns 0. -1 with err if it cannot start. */
int http_server_run(const http_server_config *cfg, http_router *rt, char *err, size_t errlen);
/* Opens the listening socket (or takes the one systemd passed): done before
 * anything else at start, so a busy port fails fast and changes nothing. */
int http_open_listener(const char *listen, char *err, size_t errlen);
/* Opens a listening socket at address, never one systemd passed: the
 * plain-HTTP listener beside the TLS one (MUSICGRAPH_HTTP_REDIRECT_LISTEN). */
int http_open_plain_listener(const char *address, char *err, size_t errlen);
/* Loads (or replaces) the TLS certificate and key: new connections use
 * them from then on; on failure the previous ones stay in use. */
int http_tls_load(const char *cert_file, const char *key_file, char *err, size_t errlen);
/* ACME http-01: while a token is set, GET /.well-known/acme-challenge/TOKEN
 * answers key_auth on every listener. -1 when the table is full. */
int http_acme_challenge_set(const char *token, const char *key_auth);
void http_acme_challenge_remove(const char *token);
/* ACME tls-alpn-01: while set, a handshake for name offering acme-tls/1
 * gets a challenge certificate for key_auth. */
int http_acme_alpn_set(const char *name, const char *key_auth);
void http_acme_alpn_remove(const char *name);
/* Publishes a TLS context without a certificate when none is loaded, so
 * that the TLS listener can answer tls-alpn-01 before the first one. */
int http_tls_without_certificate(char *err, size_t errlen);
/* Sets the reverse proxies whose forwarding headers are believed
 * ("10.0.0.1, 192.168.0.0/16, ::1"). */
int http_set_trusted_proxies(const char *list, char *err, size_t errlen);

/* ---- request ---- */
const char *http_method(http_request *r);
/* The request path without the query, as sent (pool-allocated). */
const char *http_path(http_request *r);
/* The raw query string after '?' (not decoded, pool-allocated), or NULL. */
const char *http_query_string(http_request *r);
/* Query parameter value, percent-decoded, allocated in the request pool.
 * Returns NULL if absent; sets *bad when the query is malformed. */
const char *http_query(http_request *r, const char *name, int *bad);
/* Request header value copied into the pool as a C string, or NULL. */
const char *http_header(http_request *r, const char *lowercase_name);
int http_accepts_gzip(http_request *r);
/* 1 when Accept-Encoding lists coding (e.g. "br") without q=0. */
int http_accepts_encoding(http_request *r, const char *coding);
/* The client's address as text (the TCP peer). */
const char *http_client_address(http_request *r);
/* 1 when the request came over TLS. */
int http_is_secure(http_request *r);
/* The request body (h2o has read it whole, within the size limit). */
const char *http_body_bytes(http_request *r, size_t *len);
/* Value of a named cookie, allocated in the request pool, or NULL. */
const char *http_cookie(http_request *r, const char *name);
/* Value of a field in an application/x-www-form-urlencoded body (decoded,
 * pool-allocated), or NULL when absent or malformed. */
const char *http_form_field(http_request *r, const char *name);

/* ---- response ---- */
/* Bytes that outlive the request (e.g. held by a snapshot). */
typedef struct http_body {
    const char *data;
    size_t len;
    const char *gz; /* gzip form or NULL */
    size_t gzlen;
    const char *etag; /* strong ETag with quotes, or NULL */
    const char *br;   /* brotli form or NULL: preferred when accepted */
    size_t brlen;
} http_body;

#define HTTP_CACHE_NONE       "no-store"
#define HTTP_CACHE_REVALIDATE "no-cache"
#define HTTP_CACHE_IMMUTABLE  "public, max-age=31536000, immutable"

/* Sends a copy of body. */
void http_respond(http_request *r, int status, const char *content_type, const char *body, size_t len);
/* Sends body without copying: owner is released (release(owner)) when the
 * request's memory is freed. Answers 304 when If-None-Match matches the
 * ETag and picks the brotli form, else the gzip form, when the client
 * accepts it. */
void http_respond_body(http_request *r, int status, const char *content_type, const char *cache_control,
                       const http_body *body, void *owner, void (*release)(void *owner));
/* problem+json: {"type":"about:blank","title","status","detail"}; errors_json,
 * when not NULL, is a serialized array inserted as "errors". */
void http_problem(http_request *r, int status, const char *title, const char *detail, const char *errors_json);
/* The same with another member: key holds the serialized json. */
void http_problem_with(http_request *r, int status, const char *title, const char *detail, const char *key,
                       const char *json);
void http_redirect(http_request *r, int status, const char *location);
/* Adds a response header (copied). */
void http_add_header(http_request *r, const char *name, const char *value);

/* ---- answering later ---- */
/* A handler that must wait for work on another thread (a password hash, a
 * database transaction, a snapshot rebuild) defers its request and returns
 * at once, so that its event loop goes on serving the others. The answer is
 * written later, on the same loop, by the function given to http_resume. */
typedef struct http_deferred http_deferred;
/* r is NULL when the client went away meanwhile: free arg, answer nobody. */
typedef void (*http_resume_fn)(http_request *r, void *arg);
/* Called on the request's loop, from its handler. */
http_deferred *http_defer(http_request *r);
/* From any thread, exactly once per http_defer: runs fn(r, arg) on the
 * request's loop, with r's request id set for the log (log.h). */
void http_resume(http_deferred *d, http_resume_fn fn, void *arg);

/* ---- metrics ---- */
uint64_t http_requests_served(void);
/* Appends the server's metrics in Prometheus text format: requests by route
 * and status, a latency histogram per route, in-flight requests and open
 * connections. */
struct buf;
void http_metrics_write(struct buf *out);
/* 1 once SIGTERM was received: /readyz reports it so balancers drain. */
int http_server_stopping(void);

#endif
