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
/* Writes the access log line for a finished request. */
void http_log_request(http_request *r, size_t bytes);

#endif
