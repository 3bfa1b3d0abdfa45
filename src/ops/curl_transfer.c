/*
 * curl_transfer.c — see curl_transfer.h.
 */
#include "ops/curl_transfer.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

CURL *curl_transfer_handle(void)
{
    pthread_once(&curl_once, curl_init);
    return curl_easy_init();
}

static size_t on_write(char *data, size_t size, size_t n, void *arg)
{
    curl_transfer *t = arg;
    size_t len = size * n;
    if (t->download && t->status >= 200 && t->status < 300) {
        if (t->max_download && t->downloaded + (int64_t)len > t->max_download) {
            t->too_large = 1;
            return 0;
        }
        t->downloaded += (int64_t)len;
        if (fwrite(data, 1, len, t->download) != len) {
            t->write_failed = errno ? errno : EIO;
            return 0;
        }
        return len;
    }
    if (t->response.len + len > t->max_response) {
        if (t->status < 200 || t->status >= 300) {
            /* An error page: its start says enough, and a long one is no reason to fail. */
            buf_append(&t->response, data, t->max_response - t->response.len);
            return len;
        }
        t->too_large = 1;
        return 0;
    }
    buf_append(&t->response, data, len);
    return len;
}

static size_t on_read(char *out, size_t size, size_t n, void *arg)
{
    curl_transfer *t = arg;
    size_t room = size * n;
    if (t->upload)
        return fread(out, 1, room, t->upload);
    size_t left = t->body_len - t->body_off;
    size_t take = left < room ? left : room;
    memcpy(out, (const char *)t->body + t->body_off, take);
    t->body_off += take;
    return take;
}

/* The status line arrives before any body byte: remember it for on_write
 * (after a redirect, the last one's). */
static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    curl_transfer *t = arg;
    size_t len = size * n;
    if (len > 9 && strncmp(data, "HTTP/", 5) == 0) {
        const char *sp = memchr(data, ' ', len);
        if (sp)
            t->status = strtol(sp + 1, NULL, 10);
    }
    return len;
}

void curl_transfer_setup(CURL *cu, curl_transfer *t, const char *method, char *curl_msg)
{
    curl_easy_reset(cu);
    curl_msg[0] = '\0';
    if (!t->max_response)
        t->max_response = 16u << 20;
    curl_easy_setopt(cu, CURLOPT_ERRORBUFFER, curl_msg);
    curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(cu, CURLOPT_CONNECTTIMEOUT, 15L);
    /* Give up on a stalled transfer, not on a slow large one. */
    curl_easy_setopt(cu, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(cu, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(cu, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(cu, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(cu, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(cu, CURLOPT_USERAGENT, "musicgraph");
    /* Refused before a byte is written when the server says the size. */
    if (t->download && t->max_download)
        curl_easy_setopt(cu, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t->max_download);
    if (strcmp(method, "PUT") == 0) {
        curl_easy_setopt(cu, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(cu, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(cu, CURLOPT_READDATA, t);
        curl_easy_setopt(cu, CURLOPT_INFILESIZE_LARGE, (curl_off_t)(t->upload ? t->upload_len : (int64_t)t->body_len));
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(cu, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(cu, CURLOPT_CUSTOMREQUEST, method);
    }
}

int64_t curl_transfer_limit(const curl_transfer *t)
{
    return t->download && t->max_download ? t->max_download : (int64_t)t->max_response;
}

CURLcode curl_transfer_perform(CURL *cu, curl_transfer *t)
{
    CURLcode cc = curl_easy_perform(cu);
    long status = 0;
    curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &status);
    if (status)
        t->status = status;
    return cc;
}
