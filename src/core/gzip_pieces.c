/*
 * gzip_pieces.c — piecewise gzip with reuse of unchanged pieces (see
 * gzip_pieces.h).
 */
#include "core/gzip_pieces.h"
#include "core/xalloc.h"

#include "core/strmap.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Deflate's window: how far back a piece's matches reach. */
#define WINDOW 32768

/* The compressed bytes being written. */
typedef struct out_buf {
    unsigned char *data;
    size_t len, cap;
} out_buf;

static int reserve(out_buf *o, size_t more)
{
    if (o->cap - o->len >= more)
        return 0;
    size_t cap = o->cap ? o->cap : 4096;
    while (cap - o->len < more)
        cap *= 2;
    unsigned char *grown = xrealloc(o->data, cap);
    if (!grown)
        return -1;
    o->data = grown;
    o->cap = cap;
    return 0;
}

static int put(out_buf *o, const void *data, size_t len)
{
    if (reserve(o, len) != 0)
        return -1;
    memcpy(o->data + o->len, data, len);
    o->len += len;
    return 0;
}

static void put_le32(unsigned char *at, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        at[i] = (unsigned char)(v >> (8 * i));
}

/* Orders indexes of base's pieces by hash (qsort_r's arg is the base). */
static int by_hash(const void *a, const void *b, void *base)
{
    const gzip_piece *pieces = ((const gzip_pieced *)base)->pieces;
    uint64_t ha = pieces[*(const size_t *)a].hash, hb = pieces[*(const size_t *)b].hash;
    return ha < hb ? -1 : ha > hb;
}

/* The window of bytes before offset off of a document. */
static size_t window_of(size_t off) { return off < WINDOW ? off : WINDOW; }

/* A piece of base with the same bytes as data[off, off+len) and the same
 * window before them, or NULL. base's last piece never qualifies: it ends the
 * stream (its last block is marked final). */
static const gzip_piece *find_same(const gzip_pieced *base, const size_t *order, const char *data, size_t off,
                                   size_t len, uint64_t hash)
{
    size_t lo = 0, hi = base->npieces;
    while (lo < hi) { /* the first with this hash */
        size_t mid = lo + (hi - lo) / 2;
        if (base->pieces[order[mid]].hash < hash)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t wlen = window_of(off);
    for (; lo < base->npieces && base->pieces[order[lo]].hash == hash; lo++) {
        const gzip_piece *p = &base->pieces[order[lo]];
        if (order[lo] + 1 == base->npieces || p->raw_len != len || window_of(p->raw_off) != wlen)
            continue;
        if (memcmp(base->data + p->raw_off, data + off, len) == 0 &&
            memcmp(base->data + p->raw_off - wlen, data + off - wlen, wlen) == 0)
            return p;
    }
    return NULL;
}

/* Deflates one piece, primed with the window before it, flushed to a byte
 * boundary (or ending the stream when last). */
static int deflate_piece(z_stream *z, out_buf *o, const char *data, size_t off, size_t len, int last)
{
    if (deflateReset(z) != Z_OK)
        return -1;
    size_t wlen = window_of(off);
    if (wlen && deflateSetDictionary(z, (const Bytef *)data + off - wlen, (uInt)wlen) != Z_OK)
        return -1;
    z->next_in = (Bytef *)data + off;
    z->avail_in = (uInt)len;
    int flush = last ? Z_FINISH : Z_SYNC_FLUSH;
    for (;;) {
        if (reserve(o, deflateBound(z, len) + 64) != 0)
            return -1;
        z->next_out = o->data + o->len;
        z->avail_out = (uInt)(o->cap - o->len > UINT_MAX ? UINT_MAX : o->cap - o->len);
        uInt room = z->avail_out;
        int rc = deflate(z, flush);
        o->len += room - z->avail_out;
        if (rc == Z_STREAM_ERROR)
            return -1;
        if (last ? rc == Z_STREAM_END : z->avail_in == 0 && z->avail_out > 0)
            return 0;
    }
}

int gzip_compress_pieces(const char *data, size_t len, const size_t *cuts, size_t ncuts, int level,
                         const gzip_pieced *base, char **out, size_t *outlen, gzip_piece **pieces, size_t *npieces,
                         size_t *reused)
{
    size_t n = ncuts + 1, nreused = 0;
    for (size_t i = 0; i < ncuts; i++)
        if (cuts[i] == 0 || cuts[i] >= len || (i && cuts[i] <= cuts[i - 1]))
            return -1;
    gzip_piece *ps = xcalloc(n, sizeof *ps);
    size_t *order = base && base->npieces ? xmalloc(base->npieces * sizeof *order) : NULL;
    out_buf o = {0};
    z_stream z;
    memset(&z, 0, sizeof z);
    int zready = deflateInit2(&z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK;
    /* The gzip header: deflate, no name, no time, Unix. */
    static const unsigned char header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    if (!ps || (base && base->npieces && !order) || !zready || put(&o, header, sizeof header) != 0)
        goto fail;
    if (order) {
        for (size_t i = 0; i < base->npieces; i++)
            order[i] = i;
        qsort_r(order, base->npieces, sizeof *order, by_hash, (void *)base);
    }
    uLong crc = 0;
    for (size_t i = 0; i < n; i++) {
        gzip_piece *p = &ps[i];
        p->raw_off = i ? cuts[i - 1] : 0;
        p->raw_len = (i < ncuts ? cuts[i] : len) - p->raw_off;
        if (p->raw_len > UINT_MAX)
            goto fail;
        p->hash = strmap_hash(data + p->raw_off, p->raw_len);
        p->gz_off = o.len;
        const gzip_piece *same =
            order && i + 1 < n ? find_same(base, order, data, p->raw_off, p->raw_len, p->hash) : NULL;
        if (same) {
            if (put(&o, base->gz + same->gz_off, same->gz_len) != 0)
                goto fail;
            p->crc = same->crc;
            nreused++;
        } else {
            if (deflate_piece(&z, &o, data, p->raw_off, p->raw_len, i + 1 == n) != 0)
                goto fail;
            p->crc = (uint32_t)crc32(0, (const Bytef *)data + p->raw_off, (uInt)p->raw_len);
        }
        p->gz_len = o.len - p->gz_off;
        crc = i ? crc32_combine(crc, p->crc, (z_off_t)p->raw_len) : p->crc;
    }
    if (reserve(&o, 8) != 0)
        goto fail;
    put_le32(o.data + o.len, (uint32_t)crc);
    put_le32(o.data + o.len + 4, (uint32_t)len); /* ISIZE: the length modulo 2^32 */
    o.len += 8;
    deflateEnd(&z);
    free(order);
    *out = (char *)o.data;
    *outlen = o.len;
    *pieces = ps;
    *npieces = n;
    if (reused)
        *reused = nreused;
    return 0;
fail:
    if (zready)
        deflateEnd(&z);
    free(order);
    free(ps);
    free(o.data);
    return -1;
}
