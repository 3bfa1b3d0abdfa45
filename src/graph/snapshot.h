/*
 * snapshot.h — the immutable in-memory map that every read is served from.
 *
 * A snapshot is built from a dataset (which it takes over), indexes it
 * (ids, children, bands per genre, families, search keys) and serializes
 * every read document once, with a gzip copy of the large ones and an ETag.
 * Reads never touch the database: they take a reference to the current
 * snapshot, write bytes, and drop it. After a committed write a new snapshot
 * is built and published atomically; readers of the old one finish
 * undisturbed and the last one to leave frees it (or hands it to a thread
 * that does: graph_set_reclaimer). Who builds it is the
 * server's business (src/server/snapshots.c): a thread of its own, never
 * an event loop; the request that wrote answers once it is published.
 */
#ifndef MG_SNAPSHOT_H
#define MG_SNAPSHOT_H

#include "core/buf.h"
#include "domain/model.h"
#include "graph/blob.h"
#include "graph/explore.h"
#include "graph/index.h"
#include "graph/search.h"

#include <stddef.h>
#include <stdint.h>

/* Builds a snapshot; takes ownership of *d (left empty). NULL on failure. */
graph_snapshot *graph_build(dataset *d, int64_t version, char *err, size_t errlen);
/* The same, with node positions (taken over; may be NULL or cover only
 * some nodes). Nodes without one are placed (graph_layout_fill), so the
 * graph document carries "x" and "y" for every node, and "laid_out" says
 * whether they all come from the layout. */
struct graph_layout;
graph_snapshot *graph_build_laid_out(dataset *d, int64_t version, struct graph_layout *layout, char *err,
                                     size_t errlen);
const struct graph_layout *graph_layout_of(const graph_snapshot *s);
/* 1 when every node's position comes from the layout (none provisional):
 * the graph document's "laid_out", found once when the snapshot is built. */
int graph_laid_out(const graph_snapshot *s);
void graph_retain(graph_snapshot *s);
void graph_release(graph_snapshot *s);
/* Who frees a snapshot nobody holds any more: by default the thread that
 * dropped the last reference, often an event loop after a response, where
 * freeing a large map would hold up other requests. reclaim (set once,
 * before serving) takes such snapshots instead and must graph_free them. */
void graph_set_reclaimer(void (*reclaim)(graph_snapshot *s));
void graph_free(graph_snapshot *s);

/* The published snapshot: graph_acquire returns it retained (or NULL before
 * the first publish); graph_publish takes over the caller's reference. */
graph_snapshot *graph_acquire(void);
void graph_publish(graph_snapshot *s);

/* The documents served as is. All but the graph's are written on their
 * first request (thread-safe), so they return NULL if that ran out of
 * memory. */
const graph_blob *graph_doc_graph(const graph_snapshot *s);  /* GET /api/v1/graph */
const graph_blob *graph_doc_genres(const graph_snapshot *s); /* GET /api/v1/genres */
const graph_blob *graph_doc_bands(const graph_snapshot *s);  /* GET /api/v1/bands */
const graph_blob *graph_doc_genre(const graph_snapshot *s, size_t genre_index);
const graph_blob *graph_doc_band(const graph_snapshot *s, size_t band_index);

/* Attaches a document built by a higher layer (the explorer page) before
 * publishing; slot is a small integer chosen by the caller. Takes data. */
int graph_attach(graph_snapshot *s, int slot, char *data, size_t len);
const graph_blob *graph_extra(const graph_snapshot *s, int slot);

/* Add the gzip and brotli forms of the graph document (the brotli form
 * once every node is laid out: until then the explorer asks again). Called
 * after graph_publish, so that no write and no other instance waits for the
 * compression (gzip took a third of a rebuild's CPU, brotli a fifth): the
 * document is served as it is meanwhile. The gzip form reuses what did not
 * change since base (a snapshot given gzip this way before, or NULL; *reused,
 * may be NULL, counts the pieces reused). 0, or -1 out of memory; one caller
 * at a time for each. */
int graph_add_gzip(graph_snapshot *s, const graph_snapshot *base, size_t *reused);
int graph_add_brotli(graph_snapshot *s);

/* Total bytes held by the documents (reported as snapshot size). */
size_t graph_bytes(const graph_snapshot *s);

#endif
