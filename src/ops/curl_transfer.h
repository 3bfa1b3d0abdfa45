/*
 * curl_transfer.h — one libcurl exchange with its body up and its answer
 * down: what the S3 client (s3.c) and the HTTPS release store
 * (https_store.c) share.
 *
 * The body goes up from bytes in memory or from an open file; the answer
 * goes into a file when the status is 2xx (so an error page never lands in
 * a download) and otherwise, or without a file, into memory up to a limit.
 * The caller adds its URL, headers and method-specific options between
 * curl_transfer_setup() and curl_transfer_perform().
 */
#ifndef MG_OPS_CURL_TRANSFER_H
#define MG_OPS_CURL_TRANSFER_H

#include "core/buf.h"

#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>

typedef struct curl_transfer {
    /* body: a file or bytes (neither: none) */
    FILE *upload;
    int64_t upload_len;
    const void *body;
    size_t body_len;
    size_t body_off;
    /* answer: into download (when 2xx; at most max_download bytes, 0: no limit) or response, at most
     * max_response bytes (0: 16 MiB); a longer 2xx answer fails with too_large, a longer error page
     * is cut */
    FILE *download;
    int64_t max_download;
    int64_t downloaded;
    buf response;
    size_t max_response;
    long status;
    int write_failed; /* errno of a failed write into download */
    int too_large;    /* the answer went over max_response */
} curl_transfer;

/* A new handle (libcurl initialised once per process), or NULL. */
CURL *curl_transfer_handle(void);
/* Resets cu and sets what every exchange has: timeouts that give up on a
 * stalled transfer (not a slow large one), the callbacks into t, the error
 * buffer (CURL_ERROR_SIZE bytes) and, for "PUT", the upload of t's body;
 * other methods than GET and PUT are sent as custom requests. */
void curl_transfer_setup(CURL *cu, curl_transfer *t, const char *method, char *curl_msg);
/* Performs the exchange; t->status is the final HTTP status (0: none). */
CURLcode curl_transfer_perform(CURL *cu, curl_transfer *t);
/* The limit a too_large answer went over, in bytes. */
int64_t curl_transfer_limit(const curl_transfer *t);

#endif
