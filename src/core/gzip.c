/*
 * gzip.c — gzip through zlib (see gzip.h).
 *
 * windowBits 15 + 16 asks zlib for the gzip wrapper (RFC 1952) rather than
 * a bare zlib stream: that is what Content-Encoding: gzip means and what
 * zcat reads.
 */
#include "core/gzip.h"
#include "core/xalloc.h"

#include "core/fs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define GZIP_WINDOW (15 + 16)

int gzip_is(const void *data, size_t len)
{
    const unsigned char *p = data;
    return len >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

int gzip_compress(const void *data, size_t len, int level, char **out, size_t *outlen)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, level, Z_DEFLATED, GZIP_WINDOW, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    size_t cap = deflateBound(&z, len) + 32;
    char *gz = xmalloc(cap);
    if (!gz) {
        deflateEnd(&z);
        return -1;
    }
    z.next_in = (unsigned char *)data;
    z.avail_in = (uInt)len;
    z.next_out = (unsigned char *)gz;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(gz);
        return -1;
    }
    *out = gz;
    *outlen = z.total_out;
    return 0;
}

/* Hands each piece of compressed output to fd. */
static int fd_sink(void *ctx, const char *data, size_t len, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    return fs_write_all(*(int *)ctx, data, len);
}

int gzip_write_fd(int fd, const struct iovec *iov, int iovcnt, int level)
{
    char err[16];
    return gzip_write_sink(iov, iovcnt, level, fd_sink, &fd, err, sizeof err);
}

int gzip_write_sink(const struct iovec *iov, int iovcnt, int level, gzip_sink sink, void *ctx, char *err, size_t errlen)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, level, Z_DEFLATED, GZIP_WINDOW, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        snprintf(err, errlen, "out of memory");
        errno = ENOMEM;
        return -1;
    }
    size_t outlen = 1 << 17;
    unsigned char *out = xmalloc(outlen);
    if (!out) {
        deflateEnd(&z);
        snprintf(err, errlen, "out of memory");
        errno = ENOMEM;
        return -1;
    }
    int rc = 0;
    for (int i = 0; rc == 0 && i < iovcnt; i++) {
        z.next_in = iov[i].iov_base;
        z.avail_in = (uInt)iov[i].iov_len;
        int flush = i + 1 == iovcnt ? Z_FINISH : Z_NO_FLUSH;
        int zr;
        do {
            z.next_out = out;
            z.avail_out = (uInt)outlen;
            zr = deflate(&z, flush);
            if (zr == Z_STREAM_ERROR) {
                snprintf(err, errlen, "compression failed");
                errno = EIO;
                rc = -1;
                break;
            }
            if (sink(ctx, (const char *)out, outlen - z.avail_out, err, errlen) != 0) {
                rc = -1;
                break;
            }
        } while (z.avail_out == 0 || (flush == Z_FINISH && zr != Z_STREAM_END));
    }
    int saved = errno;
    deflateEnd(&z);
    free(out);
    errno = saved;
    return rc;
}

/* Frees what inflating held; returns -1 for the caller to pass on. */
static int inflate_fail(z_stream *z, char *o)
{
    free(o);
    inflateEnd(z);
    return -1;
}

int gzip_inflate(const char *name, const void *in, size_t inlen, size_t max, int partial, char **out, size_t *outlen,
                 char *err, size_t errlen)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, GZIP_WINDOW) != Z_OK) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t cap = inlen * 6 + 4096;
    if (cap > max + 1)
        cap = max + 1;
    char *o = xmalloc(cap + 1);
    if (!o) {
        snprintf(err, errlen, "out of memory reading %s", name);
        return inflate_fail(&z, o);
    }
    z.next_in = (unsigned char *)in;
    int rc = Z_OK;
    size_t done = 0;
    size_t remaining = inlen;
    while (rc != Z_STREAM_END) {
        if (done == cap) {
            if (cap > max) {
                if (partial)
                    break;
                snprintf(err, errlen, "%s decompresses to more than %zu MiB: refusing it", name, max >> 20);
                return inflate_fail(&z, o);
            }
            size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            char *g = xrealloc(o, ncap + 1);
            if (!g) {
                snprintf(err, errlen, "out of memory reading %s", name);
                return inflate_fail(&z, o);
            }
            o = g;
            cap = ncap;
        }
        uInt chunk_in = remaining > (1u << 30) ? (1u << 30) : (uInt)remaining;
        z.avail_in = chunk_in;
        z.next_out = (unsigned char *)o + done;
        z.avail_out = (uInt)(cap - done > (1u << 30) ? (1u << 30) : cap - done);
        uInt before_out = z.avail_out;
        rc = inflate(&z, Z_NO_FLUSH);
        remaining -= chunk_in - z.avail_in;
        done += before_out - z.avail_out;
        if (rc == Z_STREAM_END)
            break;
        /* All input consumed and inflate wants more: the stream was cut short. */
        int starved = (rc == Z_BUF_ERROR && remaining == 0) || (rc == Z_OK && remaining == 0 && z.avail_out != 0);
        if (starved) {
            if (partial)
                break;
            snprintf(err, errlen, "%s is truncated: the compressed data ends early (an interrupted copy?)", name);
            return inflate_fail(&z, o);
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            const char *why = z.msg ? z.msg : rc == Z_MEM_ERROR ? "out of memory" : "invalid data";
            snprintf(err, errlen, "%s is corrupt: the compressed data is damaged (%s)", name, why);
            return inflate_fail(&z, o);
        }
    }
    inflateEnd(&z);
    if (rc == Z_STREAM_END && remaining > 0 && !partial) {
        free(o);
        snprintf(err, errlen, "%s is corrupt: unexpected data after the end of the compressed stream", name);
        return -1;
    }
    o[done] = '\0';
    *out = o;
    *outlen = done;
    return 0;
}

/* ---- streaming ---- */

#define READER_CHUNK (64 * 1024)

struct gzip_reader {
    z_stream z;
    char name[512];
    gzip_sink sink;
    void *ctx;
    int ended; /* Z_STREAM_END seen */
    unsigned char out[READER_CHUNK];
};

gzip_reader *gzip_reader_new(const char *name, gzip_sink sink, void *ctx)
{
    gzip_reader *r = xcalloc(1, sizeof *r);
    if (!r)
        return NULL;
    if (inflateInit2(&r->z, GZIP_WINDOW) != Z_OK) {
        free(r);
        return NULL;
    }
    snprintf(r->name, sizeof r->name, "%s", name);
    r->sink = sink;
    r->ctx = ctx;
    return r;
}

int gzip_reader_push(gzip_reader *r, const void *in, size_t len, char *err, size_t errlen)
{
    const unsigned char *p = in;
    while (len > 0) {
        if (r->ended) {
            snprintf(err, errlen, "%s is corrupt: unexpected data after the end of the compressed stream", r->name);
            return -1;
        }
        uInt chunk = len > (1u << 30) ? (1u << 30) : (uInt)len;
        r->z.next_in = (unsigned char *)p;
        r->z.avail_in = chunk;
        /* Until this piece is consumed or the stream ends. */
        for (;;) {
            r->z.next_out = r->out;
            r->z.avail_out = sizeof r->out;
            int rc = inflate(&r->z, Z_NO_FLUSH);
            if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
                const char *why = r->z.msg ? r->z.msg : rc == Z_MEM_ERROR ? "out of memory" : "invalid data";
                snprintf(err, errlen, "%s is corrupt: the compressed data is damaged (%s)", r->name, why);
                return -1;
            }
            size_t produced = sizeof r->out - r->z.avail_out;
            if (produced && r->sink(r->ctx, (const char *)r->out, produced, err, errlen) != 0)
                return -1;
            if (rc == Z_STREAM_END) {
                r->ended = 1;
                break;
            }
            if (r->z.avail_in == 0 && r->z.avail_out != 0)
                break;
            if (rc == Z_BUF_ERROR && produced == 0) {
                /* No progress with input and room: zlib cannot go on. */
                snprintf(err, errlen, "%s is corrupt: the compressed data is damaged", r->name);
                return -1;
            }
        }
        size_t used = chunk - r->z.avail_in;
        p += used;
        len -= used;
        if (r->ended && len > 0) {
            snprintf(err, errlen, "%s is corrupt: unexpected data after the end of the compressed stream", r->name);
            return -1;
        }
    }
    return 0;
}

int gzip_reader_finish(gzip_reader *r, char *err, size_t errlen)
{
    if (r->ended)
        return 0;
    snprintf(err, errlen, "%s is truncated: the compressed data ends early (an interrupted copy?)", r->name);
    return -1;
}

void gzip_reader_free(gzip_reader *r)
{
    if (!r)
        return;
    inflateEnd(&r->z);
    free(r);
}
