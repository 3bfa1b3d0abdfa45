/*
 * internal.h — what the files of src/http/ share.
 */
#ifndef MG_HTTP_INTERNAL_H
#define MG_HTTP_INTERNAL_H

#include "http/http.h"

/* Routes r (fills params and route) and runs the handler; answers 404/405
 * itself. */
void http_dispatch(http_router *rt, http_request *r);
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
/* Checks the raw request head for what h2o lets through (framing.c): returns
 * 0, or the status (400, 414, 431) to answer with title and detail. */
int http_check_framing(struct st_h2o_req_t *req, const char **title, const char **detail);
/* Writes the access log line for a finished request. */
void http_log_request(http_request *r, size_t bytes);

#endif
