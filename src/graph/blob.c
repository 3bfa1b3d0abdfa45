/*
 * blob.c — serialized documents with their gzip form and ETag (see blob.h).
 */
#include "graph/blob.h"
#include "core/xalloc.h"

#include "core/gzip.h"
#include "core/gzip_pieces.h"
#include "core/strmap.h"

#include <brotli/encode.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GZIP_MIN_BYTES 2048
/* Level 4: within 4% of level 6 on the map documents at half the time,
 * which matters because every change rebuilds them. */
#define GZIP_LEVEL 4
/* Brotli quality for the graph document: 5 is about as fast as gzip's level
 * 4 and 16-20% smaller on the map documents; 11 would save a further 15%
 * but takes seconds on the large map, and the document is rebuilt after
 * every edit (bench/README.md has the figures). */
#define BROTLI_QUALITY 5

int graph_blob_init(graph_blob *b, char *data, size_t len)
{
    memset(b, 0, sizeof *b);
    b->data = data;
    b->len = len;
    snprintf(b->etag, sizeof b->etag, "\"%016llx\"", (unsigned long long)strmap_hash(data, len));
    if (len >= GZIP_MIN_BYTES && gzip_compress(data, len, GZIP_LEVEL, &b->gz, &b->gzlen) != 0)
        return -1;
    return 0;
}

int graph_blob_brotli(graph_blob *b)
{
    if (b->len < GZIP_MIN_BYTES || __atomic_load_n(&b->br, __ATOMIC_ACQUIRE))
        return 0;
    size_t cap = BrotliEncoderMaxCompressedSize(b->len);
    char *br = cap ? xmalloc(cap) : NULL;
    if (!br)
        return -1;
    size_t len = cap;
    if (!BrotliEncoderCompress(BROTLI_QUALITY, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_TEXT, b->len,
                               (const uint8_t *)b->data, &len, (uint8_t *)br)) {
        free(br);
        return -1;
    }
    b->brlen = len;
    __atomic_store_n(&b->br, br, __ATOMIC_RELEASE);
    return 0;
}

size_t graph_blob_bytes(const graph_blob *b)
{
    if (!__atomic_load_n(&b->data, __ATOMIC_ACQUIRE))
        return 0; /* not written yet */
    size_t total = b->len;
    if (__atomic_load_n(&b->gz, __ATOMIC_ACQUIRE))
        total += b->gzlen;
    if (__atomic_load_n(&b->br, __ATOMIC_ACQUIRE))
        total += b->brlen;
    return total;
}

void graph_blob_free(graph_blob *b)
{
    free(b->data);
    free(b->gz);
    free(b->br);
    free(b->cuts);
    free(b->pieces);
    memset(b, 0, sizeof *b);
}

/* Takes a finished buffer into a blob without its gzip form (lazy: made on
 * first use, else by graph_blob_add_gzip); fails if the buffer ran out of
 * memory. */
static int blob_from_buf(graph_blob *b, buf *out, int lazy)
{
    if (buf_failed(out)) {
        buf_free(out);
        return -1;
    }
    memset(b, 0, sizeof *b);
    b->data = buf_steal(out, &b->len);
    b->lazy = lazy;
    snprintf(b->etag, sizeof b->etag, "\"%016llx\"", (unsigned long long)strmap_hash(b->data, b->len));
    return 0;
}

int graph_blob_from_buf(graph_blob *b, buf *out) { return blob_from_buf(b, out, 0); }

int graph_blob_from_buf_lazy(graph_blob *b, buf *out) { return blob_from_buf(b, out, 1); }

static pthread_mutex_t lazy_gzip_lock = PTHREAD_MUTEX_INITIALIZER;

void graph_blob_gzip(const graph_blob *cb)
{
    graph_blob *b = (graph_blob *)cb; /* the snapshot is immutable except for this cache */
    if (!b->lazy || b->len < GZIP_MIN_BYTES || __atomic_load_n(&b->gz, __ATOMIC_ACQUIRE))
        return;
    pthread_mutex_lock(&lazy_gzip_lock);
    if (!b->gz) {
        char *gz;
        size_t gzlen;
        if (gzip_compress(b->data, b->len, GZIP_LEVEL, &gz, &gzlen) == 0) {
            b->gzlen = gzlen;
            __atomic_store_n(&b->gz, gz, __ATOMIC_RELEASE);
        }
    }
    pthread_mutex_unlock(&lazy_gzip_lock);
}

int graph_blob_add_gzip(graph_blob *b, const graph_blob *base, size_t *reused)
{
    if (reused)
        *reused = 0;
    if (b->len < GZIP_MIN_BYTES || __atomic_load_n(&b->gz, __ATOMIC_ACQUIRE))
        return 0;
    gzip_pieced prev;
    const gzip_pieced *from = NULL;
    if (base && base->pieces) {
        prev = (gzip_pieced){base->data, base->len, base->gz, base->gzlen, base->pieces, base->npieces};
        from = &prev;
    }
    char *gz;
    size_t gzlen;
    if (gzip_compress_pieces(b->data, b->len, b->cuts, b->ncuts, GZIP_LEVEL, from, &gz, &gzlen, &b->pieces,
                             &b->npieces, reused) != 0)
        return -1;
    b->gzlen = gzlen;
    __atomic_store_n(&b->gz, gz, __ATOMIC_RELEASE);
    return 0;
}
