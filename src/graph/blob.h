/*
 * blob.h — a serialized document of a snapshot: its bytes, a gzip copy when
 * it is worth compressing, and a strong ETag.
 *
 * Built once per snapshot — with it (the explorer's document) or on its
 * first request (the rest, see snapshot.c) — and then sent as is by every
 * request (http_respond_body): a read costs no serialization and no
 * compression after the first.
 */
#ifndef MG_GRAPH_BLOB_H
#define MG_GRAPH_BLOB_H

#include "core/buf.h"

#include <stddef.h>

typedef struct graph_blob {
    char *data;
    size_t len;
    char *gz; /* NULL when not worth compressing (or not compressed yet) */
    size_t gzlen;
    int lazy;      /* compressed on first use: see graph_blob_gzip */
    char etag[24]; /* "\"0123456789abcdef\"" */
    char *br;      /* brotli bytes, or NULL (only the graph document has them, added after publishing) */
    size_t brlen;
    /* Only the graph document: where its writer cut it, and the pieces of
     * its gzip form, which the next version reuses (gzip_pieces.h). */
    size_t *cuts;
    size_t ncuts;
    struct gzip_piece *pieces;
    size_t npieces;
} graph_blob;

/* Documents a higher layer may attach to a snapshot (graph_attach). */
#define GRAPH_EXTRA_SLOTS 4

/* Fills blob from data (taken): ETag, and gzip when len >= 2 KiB. */
int graph_blob_init(graph_blob *b, char *data, size_t len);
/* A blob from a finished buffer (taken), without its gzip form yet: it is
 * added by graph_blob_add_gzip; fails if the buffer ran out of memory. */
int graph_blob_from_buf(graph_blob *b, buf *out);
/* The same, but the gzip form is made on first use (graph_blob_gzip). */
int graph_blob_from_buf_lazy(graph_blob *b, buf *out);
/* Adds the gzip form (when len >= 2 KiB) while others may be reading the
 * blob: they see gz NULL or complete. Compressed piece by piece at b's cuts,
 * taking the unchanged pieces of base (a previous version compressed the
 * same way; may be NULL). One writer at a time; 0, or -1 out of memory.
 * *reused (may be NULL) counts the pieces taken from base. */
int graph_blob_add_gzip(graph_blob *b, const graph_blob *base, size_t *reused);
/* Adds the brotli form (when len >= 2 KiB) while others may be reading the
 * blob: they see br NULL or complete (read it with __atomic_load_n). 0, or
 * -1 out of memory. One writer at a time. */
int graph_blob_brotli(graph_blob *b);
/* The bytes held: data and the compressed forms made so far (0 while a
 * lazily written blob has no data yet). */
size_t graph_blob_bytes(const graph_blob *b);
void graph_blob_free(graph_blob *b);
/* Makes sure a lazily compressed blob has its gzip form (thread-safe; the
 * lazily written documents are compressed on their first gzip request
 * rather than at every rebuild). */
void graph_blob_gzip(const graph_blob *b);

#endif
