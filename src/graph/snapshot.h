/*
 * snapshot.h — the immutable in-memory map that every read is served from.
 *
 * A snapshot is built from a dataset (which it takes over), indexes it
 * (ids, children, bands per genre, families, search keys) and serializes
 * every read document once, with a gzip copy of the large ones and an ETag.
 * Requests never touch the database: they take a reference to the current
 * snapshot, write bytes, and drop it. After a committed write a new snapshot
 * is built off the request path and published atomically; readers of the
 * old one finish undisturbed and the last one to leave frees it.
 */
#ifndef MG_SNAPSHOT_H
#define MG_SNAPSHOT_H

#include "core/buf.h"
#include "domain/model.h"

#include <stddef.h>
#include <stdint.h>

/* A serialized document: identity bytes, optional gzip bytes, strong ETag. */
typedef struct graph_blob {
    char *data;
    size_t len;
    char *gz; /* NULL when not worth compressing (or not compressed yet) */
    size_t gzlen;
    int lazy;      /* compressed on first use: see graph_blob_gzip */
    char etag[24]; /* "\"0123456789abcdef\"" */
} graph_blob;

typedef struct graph_snapshot graph_snapshot;

/* Builds a snapshot; takes ownership of *d (left empty). NULL on failure. */
graph_snapshot *graph_build(dataset *d, int64_t version, char *err, size_t errlen);
/* The same, with node positions (taken over; may be NULL or cover only
 * some nodes): the graph document carries "x" and "y" where known. */
struct graph_layout;
graph_snapshot *graph_build_laid_out(dataset *d, int64_t version, struct graph_layout *layout, char *err,
                                     size_t errlen);
const struct graph_layout *graph_layout_of(const graph_snapshot *s);
void graph_retain(graph_snapshot *s);
void graph_release(graph_snapshot *s);

/* The published snapshot: graph_acquire returns it retained (or NULL before
 * the first publish); graph_publish takes over the caller's reference. */
graph_snapshot *graph_acquire(void);
void graph_publish(graph_snapshot *s);

int64_t graph_version(const graph_snapshot *s);
const dataset *graph_dataset(const graph_snapshot *s);
/* The root genre a genre belongs to by primary parents (itself for a root). */
const char *graph_family(const graph_snapshot *s, size_t genre_index);
int graph_find_genre(const graph_snapshot *s, const char *id, size_t *index);
int graph_find_band(const graph_snapshot *s, const char *id, size_t *index);
/* The entry that lists id among its former ids (old links redirect to it). */
int graph_find_former_genre(const graph_snapshot *s, const char *id, size_t *index);
int graph_find_former_band(const graph_snapshot *s, const char *id, size_t *index);
/* Genre indexes sorted by name (case- and accent-insensitive). */
const size_t *graph_genres_by_name(const graph_snapshot *s);

const graph_blob *graph_doc_graph(const graph_snapshot *s);  /* GET /api/v1/graph */
const graph_blob *graph_doc_genres(const graph_snapshot *s); /* GET /api/v1/genres */
const graph_blob *graph_doc_bands(const graph_snapshot *s);  /* GET /api/v1/bands */
const graph_blob *graph_doc_genre(const graph_snapshot *s, size_t genre_index);
const graph_blob *graph_doc_band(const graph_snapshot *s, size_t band_index);

/* Attaches a document built by a higher layer (the explorer page) before
 * publishing; slot is a small integer chosen by the caller. Takes data. */
#define GRAPH_EXTRA_SLOTS 4
int graph_attach(graph_snapshot *s, int slot, char *data, size_t len);
const graph_blob *graph_extra(const graph_snapshot *s, int slot);

/* Writes {"query":…,"results":[{"kind","id","name"}…]} for q, best first:
 * exact name, then prefix, then word prefix, then substring matches. Aliases
 * are searched like names; a result found by an alias carries "alias" (the
 * alias that matched), and an entry appears once, by its best match. */
void graph_search(const graph_snapshot *s, const char *q, size_t limit, buf *out);

/* Exploration (explore.c). Each writes a JSON document to out and returns
 * 0, or -1 when an id is unknown (nothing written). */
/* {"from","to","found","steps":[{"from":{id,name},"to":{id,name},"relation"}]}:
 * a shortest path over parent and influence links, ties broken by name. */
int graph_path(const graph_snapshot *s, const char *from, const char *to, buf *out);
/* {"id","related":[{"id","name","relations":[…],"score"}]}: parents, children,
 * siblings and influence neighbours, best first. */
int graph_related(const graph_snapshot *s, const char *id, size_t limit, buf *out);
/* {"id","similar":[{"id","name","score","shared":[genre ids]}]}: bands that
 * share genres, a shared rare genre counting more than a shared broad one. */
int graph_similar(const graph_snapshot *s, const char *id, size_t limit, buf *out);

/* Fills blob from data (taken): ETag, and gzip when len >= 1 KiB. */
int graph_blob_init(graph_blob *b, char *data, size_t len);
void graph_blob_free(graph_blob *b);
/* Makes sure a lazily compressed blob has its gzip form (thread-safe; the
 * large, rarely fetched lists are compressed on their first gzip request
 * rather than at every rebuild). */
void graph_blob_gzip(const graph_blob *b);

/* Total bytes held by the documents (reported as snapshot size). */
size_t graph_bytes(const graph_snapshot *s);

#endif
