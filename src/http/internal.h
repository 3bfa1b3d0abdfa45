/*
 * internal.h — what the files of src/http/ share.
 */
#ifndef MG_HTTP_INTERNAL_H
#define MG_HTTP_INTERNAL_H

#include "http/http.h"

/* Routes r (fills params and route) and runs the handler; answers 404/405
 * itself. */
void http_dispatch(http_router *rt, http_request *r);
/* Everything a request goes through once h2o has parsed it: its record (log,
 * metrics), request id, framing and origin checks, then routing (server.c).
 * Always 0: the request is answered. The fuzz target tests/fuzz/fuzz_http.c
 * drives it without a socket. */
struct st_h2o_req_t;
int http_handle_request(http_router *rt, struct st_h2o_req_t *req);
/* Adds X-Request-Id and the security headers to the response being built. */
void http_common_headers(http_request *r);
/* TLS (tls.c): a worker refreshes its context reference once per loop turn. */
#include <openssl/ssl.h>
void http_tls_refresh(SSL_CTX **mine, unsigned *seen);

/* Metrics hooks called by server.c. */
int http_metrics_init(const http_router *rt);
void http_metrics_begin(void);
void http_metrics_end(int route_index, int status, double seconds);
void http_metrics_connections(int worker, int count);
/* The client's address, through trusted proxies (proxy.c). */
struct st_h2o_req_t;
void http_client_address_into(struct st_h2o_req_t *req, char *out, size_t len);
/* Open connections per client address (clients.c). */
struct sockaddr;
typedef struct http_client_key {
    int family;
    unsigned char addr[16];
} http_client_key;
int http_client_key_of(const struct sockaddr *sa, http_client_key *key);
/* 1 when the client may open one more connection (counted), 0 if at its limit. */
int http_clients_acquire(const http_client_key *key, int limit);
void http_clients_release(const http_client_key *key);
/* 1 when the address is one of the trusted reverse proxies (proxy.c). */
int http_is_trusted_proxy_key(const http_client_key *key);

/* Checks the raw request head for what h2o lets through (framing.c): returns
 * 0, or the status (400, 414, 431) to answer with title and detail. A target
 * over MAX_TARGET_BYTES gets 414, a head over MAX_HEAD_BYTES 431. */
#define MAX_TARGET_BYTES 8192
#define MAX_HEAD_BYTES   (32 * 1024)
int http_check_framing(struct st_h2o_req_t *req, const char **title, const char **detail);
/* State-changing requests from another site (origin.c): 0, or 403 with
 * detail. */
int http_check_origin(http_request *r, const char **detail);
/* SIGUSR2 (upgrade.c): starts the binary again with the listening socket;
 * poll from the main loop: 1 once it is ready (hand over), -1 when it failed,
 * 0 while waiting or when no upgrade is under way. */
int http_upgrade_start(const char *exec_path, char **argv, int listen_fd);
int http_upgrade_poll(void);
/* The pid file: written once serving; removed at exit only while it still
 * names this process. */
int http_pid_file_write(const char *path, char *err, size_t errlen);
void http_pid_file_remove(const char *path);
/* Deferred requests (defer.c): one receiver per event loop, and how many of
 * its requests wait for http_resume (touched on the loop thread only). */
#include <h2o.h>
typedef struct http_resumer {
    h2o_multithread_receiver_t receiver;
    int pending;
} http_resumer;
void http_resumer_init(http_resumer *rs, h2o_context_t *ctx);
void http_resumer_dispose(http_resumer *rs, h2o_context_t *ctx);
/* The resumer of the loop that owns ctx (server.c). */
http_resumer *http_resumer_of(h2o_context_t *ctx);
/* Writes the access log line for a finished request. */
void http_log_request(http_request *r, size_t bytes);
/* challenge.c: 1 when r was an ACME challenge request (answered). */
int http_acme_answer(http_request *r);
void http_redirect_to_https(http_request *r);
/* alpn_challenge.c: the TLS context's callbacks for tls-alpn-01. */
int http_acme_alpn_client_hello(SSL *ssl, int *alert, void *arg);
/* Readers of ClientHello extension bodies: server_name's first host_name
 * (0, or -1 when malformed), and whether the ALPN list offers acme-tls/1. */
int http_sni_host_name(const unsigned char *p, size_t len, char *name, size_t namelen);
int http_alpn_offers_acme(const unsigned char *p, size_t len);
int http_acme_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                          unsigned int inlen, void *arg);

#endif
