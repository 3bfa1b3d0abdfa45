/*
 * snapshot.c — building, publishing and reading snapshots (see snapshot.h).
 */
#include "graph/snapshot.h"
#include "core/xalloc.h"

#include "graph/internal.h"

#include "core/json.h"
#include "core/strmap.h"
#include "graph/positions.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static graph_snapshot *current;

static void write_ids(json_writer *w, char *const *ids, size_t n)
{
    jw_array_begin(w);
    for (size_t i = 0; i < n; i++)
        jw_string(w, ids[i]);
    jw_array_end(w);
}

static void write_year(json_writer *w, const char *key, int year)
{
    jw_key(w, key);
    if (year)
        jw_int(w, year);
    else
        jw_null(w);
}

/* The fields every genre document shares (DESIGN §5 shape plus family); the
 * detail and list documents (detail) add the description, the aliases and
 * the former ids, which the explorer's graph document leaves out. */
static void write_genre_fields(json_writer *w, const graph_snapshot *s, size_t i, int detail)
{
    const genre *g = &s->data.genres[i];
    jw_key(w, "id");
    jw_string(w, g->id);
    jw_key(w, "name");
    jw_string(w, g->name);
    jw_key(w, "type");
    jw_string(w, genre_type_name(g->type));
    jw_key(w, "parent");
    jw_string_or_null(w, g->parent);
    jw_key(w, "parents");
    write_ids(w, g->parents, g->nparents);
    jw_key(w, "family");
    jw_string(w, s->data.genres[s->family[i]].id);
    write_year(w, "origin_year", g->origin_year);
    jw_key(w, "region");
    jw_string_or_null(w, g->region);
    jw_key(w, "defining");
    write_ids(w, g->defining, g->ndefining);
    if (detail) {
        jw_key(w, "description");
        jw_string_or_null(w, g->description);
        jw_key(w, "aliases");
        write_ids(w, g->aliases, g->naliases);
        jw_key(w, "former_ids");
        write_ids(w, g->former_ids, g->nformer_ids);
    }
    jw_key(w, "links");
    jw_array_begin(w);
    for (size_t j = 0; j < g->nlinks; j++) {
        jw_object_begin(w);
        jw_key(w, "to");
        jw_string(w, g->links[j].to);
        jw_key(w, "kind");
        jw_string(w, g->links[j].kind);
        jw_object_end(w);
    }
    jw_array_end(w);
}

/* "x" and "y" from the layout, when this node has a position. */
static void write_position(json_writer *w, const graph_snapshot *s, char kind, const char *id)
{
    double x, y;
    if (!graph_layout_get(s->layout, kind, id, &x, &y))
        return;
    jw_key(w, "x");
    jw_fixed2(w, x);
    jw_key(w, "y");
    jw_fixed2(w, y);
}

/* A band's fields; detail adds the aliases and former ids. */
static void write_band_fields(json_writer *w, const band *b, int detail)
{
    jw_key(w, "id");
    jw_string(w, b->id);
    jw_key(w, "name");
    jw_string(w, b->name);
    jw_key(w, "type");
    jw_string_or_null(w, band_type_name(b->type));
    jw_key(w, "primary_genre");
    jw_string(w, b->primary_genre);
    jw_key(w, "genres");
    write_ids(w, b->genres, b->ngenres);
    jw_key(w, "country");
    jw_string_or_null(w, b->country);
    write_year(w, "active_from", b->active_from);
    if (detail) {
        jw_key(w, "aliases");
        write_ids(w, b->aliases, b->naliases);
        jw_key(w, "former_ids");
        write_ids(w, b->former_ids, b->nformer_ids);
    }
}

static void write_ref(json_writer *w, const char *id, const char *name)
{
    jw_object_begin(w);
    jw_key(w, "id");
    jw_string(w, id);
    jw_key(w, "name");
    jw_string(w, name);
    jw_object_end(w);
}

/* "eras": the years the era view spans and where its axis marks go: every
 * decade from 1900, every century before. */
static void write_era_axis(json_writer *w, const graph_snapshot *s)
{
    jw_key(w, "eras");
    jw_object_begin(w);
    jw_key(w, "from");
    jw_int(w, s->era_min_year);
    jw_key(w, "to");
    jw_int(w, s->era_max_year);
    jw_key(w, "ticks");
    jw_array_begin(w);
    if (s->data.ngenres) {
        int first = s->era_min_year >= 1900 ? s->era_min_year / 10 * 10 : s->era_min_year / 100 * 100;
        for (int y = first; y <= s->era_max_year; y += y < 1900 ? 100 : 10) {
            jw_object_begin(w);
            jw_key(w, "year");
            jw_int(w, y);
            jw_key(w, "x");
            jw_fixed2(w, graph_era_x(y));
            jw_object_end(w);
        }
    }
    jw_array_end(w);
    jw_object_end(w);
}

/* Where the graph document is cut for its piecewise gzip (gzip_pieces.h):
 * after a node whose id hashes to a multiple of CUT_EVERY, so that a cut
 * stays where it is when other nodes change (pieces of some 10 KiB on the
 * bundled map), or after CUT_MAX nodes without one. */
#define CUT_EVERY 64
#define CUT_MAX   256

typedef struct cutter {
    size_t *at, n, cap;
    size_t since; /* nodes since the last cut */
    int failed;
} cutter;

static void cut_after(cutter *c, const char *id, size_t offset)
{
    if (strmap_hash(id, strlen(id)) % CUT_EVERY != 0 && ++c->since < CUT_MAX)
        return;
    c->since = 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        size_t *grown = xreallocarray(c->at, cap, sizeof *grown);
        if (!grown) {
            c->failed = 1;
            return;
        }
        c->at = grown;
        c->cap = cap;
    }
    c->at[c->n++] = offset;
}

/* The explorer's one document, everything it draws: the one document every
 * rebuild writes. */
static int build_graph_doc(graph_snapshot *s)
{
    const dataset *d = &s->data;
    json_writer w;
    buf out = BUF_INIT;
    cutter cuts = {0};

    jw_init(&w, &out);
    jw_object_begin(&w);
    jw_key(&w, "version");
    jw_int(&w, s->version);
    /* false while some positions are provisional: the explorer asks again. */
    s->laid_out = graph_layout_covers(s->layout, d);
    jw_key(&w, "laid_out");
    jw_bool(&w, s->laid_out);
    jw_key(&w, "genres");
    jw_array_begin(&w);
    for (size_t i = 0; i < d->ngenres; i++) {
        jw_object_begin(&w);
        write_genre_fields(&w, s, i, 0);
        write_position(&w, s, 'g', d->genres[i].id);
        jw_key(&w, "ex");
        jw_fixed2(&w, s->era_x[i]);
        jw_key(&w, "ey");
        jw_fixed2(&w, s->era_y[i]);
        jw_object_end(&w);
        cut_after(&cuts, d->genres[i].id, out.len);
    }
    jw_array_end(&w);
    write_era_axis(&w, s);
    jw_key(&w, "bands");
    jw_array_begin(&w);
    for (size_t i = 0; i < d->nbands; i++) {
        jw_object_begin(&w);
        write_band_fields(&w, &d->bands[i], 0);
        write_position(&w, s, 'b', d->bands[i].id);
        jw_object_end(&w);
        cut_after(&cuts, d->bands[i].id, out.len);
    }
    jw_array_end(&w);
    jw_object_end(&w);
    if (cuts.failed || graph_blob_from_buf(&s->graph_doc, &out) != 0) {
        free(cuts.at);
        return -1;
    }
    s->graph_doc.cuts = cuts.at;
    s->graph_doc.ncuts = cuts.n;
    return 0;
}

int graph_add_gzip(graph_snapshot *s, const graph_snapshot *base, size_t *reused)
{
    return graph_blob_add_gzip(&s->graph_doc, base ? &base->graph_doc : NULL, reused);
}

int graph_add_brotli(graph_snapshot *s) { return s->laid_out ? graph_blob_brotli(&s->graph_doc) : 0; }

/* The lists (GET /api/v1/genres, /api/v1/bands) and the document of each
 * genre and band are written on their first request rather than with every
 * snapshot: after an edit, a rebuild has only the explorer's document to
 * write (the rest took a third of a rebuild's CPU, times every instance),
 * and most of them are never asked for before the next edit. */
typedef void doc_writer(const graph_snapshot *s, size_t i, buf *out);

static void write_genres_list(const graph_snapshot *s, size_t unused, buf *out)
{
    (void)unused;
    const dataset *d = &s->data;
    json_writer w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "count");
    jw_int(&w, (int64_t)d->ngenres);
    jw_key(&w, "genres");
    jw_array_begin(&w);
    for (size_t k = 0; k < d->ngenres; k++) {
        jw_object_begin(&w);
        write_genre_fields(&w, s, s->genres_by_name[k], 1);
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_object_end(&w);
}

static void write_bands_list(const graph_snapshot *s, size_t unused, buf *out)
{
    (void)unused;
    const dataset *d = &s->data;
    json_writer w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "count");
    jw_int(&w, (int64_t)d->nbands);
    jw_key(&w, "bands");
    jw_array_begin(&w);
    for (size_t k = 0; k < d->nbands; k++) {
        jw_object_begin(&w);
        write_band_fields(&w, &d->bands[s->bands_by_name[k]], 1);
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_object_end(&w);
}

static void write_genre_doc(const graph_snapshot *s, size_t i, buf *out)
{
    const dataset *d = &s->data;
    json_writer w;
    jw_init(&w, out);
    jw_object_begin(&w);
    write_genre_fields(&w, s, i, 1);
    jw_key(&w, "children");
    jw_array_begin(&w);
    for (size_t k = s->child_off[i]; k < s->child_off[i + 1]; k++)
        write_ref(&w, d->genres[s->child_idx[k]].id, d->genres[s->child_idx[k]].name);
    jw_array_end(&w);
    jw_key(&w, "bands");
    jw_array_begin(&w);
    for (size_t k = s->band_off[i]; k < s->band_off[i + 1]; k++)
        write_ref(&w, d->bands[s->band_idx[k]].id, d->bands[s->band_idx[k]].name);
    jw_array_end(&w);
    jw_object_end(&w);
}

static void write_band_doc(const graph_snapshot *s, size_t i, buf *out)
{
    json_writer w;
    jw_init(&w, out);
    jw_object_begin(&w);
    write_band_fields(&w, &s->data.bands[i], 1);
    jw_object_end(&w);
}

/* One lock for every lazy document: writing one takes microseconds (a list
 * milliseconds, once per snapshot), and a reader that finds the document
 * written takes no lock at all. */
static pthread_mutex_t lazy_doc_lock = PTHREAD_MUTEX_INITIALIZER;

/* The document in blob, written now if it is not yet; NULL if that ran out
 * of memory. Readers see data NULL or the whole blob (published last). */
static const graph_blob *lazy_doc(const graph_snapshot *s, const graph_blob *cblob, doc_writer *write, size_t i)
{
    graph_blob *blob = (graph_blob *)cblob; /* the snapshot is immutable except for these caches */
    if (__atomic_load_n(&blob->data, __ATOMIC_ACQUIRE))
        return blob;
    pthread_mutex_lock(&lazy_doc_lock);
    if (!blob->data) {
        buf out = BUF_INIT;
        graph_blob made;
        write(s, i, &out);
        if (graph_blob_from_buf_lazy(&made, &out) == 0) {
            /* Field by field, data last: readers are reading data meanwhile
             * (the compressed forms are still NULL, added on first use). */
            blob->len = made.len;
            blob->lazy = made.lazy;
            memcpy(blob->etag, made.etag, sizeof blob->etag);
            __atomic_store_n(&blob->data, made.data, __ATOMIC_RELEASE);
        }
    }
    pthread_mutex_unlock(&lazy_doc_lock);
    return blob->data ? blob : NULL;
}

graph_snapshot *graph_build(dataset *d, int64_t version, char *err, size_t errlen)
{
    return graph_build_laid_out(d, version, NULL, err, errlen);
}

const struct graph_layout *graph_layout_of(const graph_snapshot *s) { return s->layout; }

int graph_laid_out(const graph_snapshot *s) { return s->laid_out; }

graph_snapshot *graph_build_laid_out(dataset *d, int64_t version, struct graph_layout *layout, char *err, size_t errlen)
{
    graph_snapshot *s = xcalloc(1, sizeof *s);
    if (!s) {
        graph_layout_free(layout);
        snprintf(err, errlen, "out of memory building the snapshot");
        return NULL;
    }
    s->layout = layout;
    atomic_init(&s->refs, 1);
    s->version = version;
    s->data = *d;
    memset(d, 0, sizeof *d);
    /* Every node gets a position before the documents are written: placed
     * now where the layout has none yet, laid out by the layout thread. */
    s->genre_docs = xcalloc(s->data.ngenres ? s->data.ngenres : 1, sizeof *s->genre_docs);
    s->band_docs = xcalloc(s->data.nbands ? s->data.nbands : 1, sizeof *s->band_docs);
    if (!s->genre_docs || !s->band_docs || graph_build_indexes(s) != 0 || graph_layout_fill(&s->layout, s) != 0 ||
        graph_build_eras(s) != 0 || build_graph_doc(s) != 0 || graph_build_search(s) != 0 ||
        graph_build_explore(s) != 0) {
        snprintf(err, errlen, "out of memory building the snapshot");
        graph_release(s);
        return NULL;
    }
    return s;
}

void graph_retain(graph_snapshot *s) { atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed); }

static void (*reclaimer)(graph_snapshot *s);

void graph_set_reclaimer(void (*reclaim)(graph_snapshot *s)) { reclaimer = reclaim; }

void graph_release(graph_snapshot *s)
{
    if (!s || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (reclaimer)
        reclaimer(s);
    else
        graph_free(s);
}

void graph_free(graph_snapshot *s)
{
    for (size_t i = 0; s->genre_docs && i < s->data.ngenres; i++)
        graph_blob_free(&s->genre_docs[i]);
    for (size_t i = 0; s->band_docs && i < s->data.nbands; i++)
        graph_blob_free(&s->band_docs[i]);
    free(s->genre_docs);
    free(s->band_docs);
    graph_blob_free(&s->graph_doc);
    graph_blob_free(&s->genres_doc);
    graph_blob_free(&s->bands_doc);
    for (int i = 0; i < GRAPH_EXTRA_SLOTS; i++)
        graph_blob_free(&s->extra[i]);
    graph_free_search(s);
    graph_free_explore(s);
    graph_free_eras(s);
    graph_layout_free(s->layout);
    graph_free_indexes(s);
    free(s);
}

graph_snapshot *graph_acquire(void)
{
    pthread_mutex_lock(&current_lock);
    graph_snapshot *s = current;
    if (s)
        graph_retain(s);
    pthread_mutex_unlock(&current_lock);
    return s;
}

void graph_publish(graph_snapshot *s)
{
    pthread_mutex_lock(&current_lock);
    graph_snapshot *old = current;
    current = s;
    pthread_mutex_unlock(&current_lock);
    graph_release(old);
}

const graph_blob *graph_doc_graph(const graph_snapshot *s) { return &s->graph_doc; }
const graph_blob *graph_doc_genres(const graph_snapshot *s) { return lazy_doc(s, &s->genres_doc, write_genres_list, 0); }
const graph_blob *graph_doc_bands(const graph_snapshot *s) { return lazy_doc(s, &s->bands_doc, write_bands_list, 0); }
const graph_blob *graph_doc_genre(const graph_snapshot *s, size_t i)
{
    return lazy_doc(s, &s->genre_docs[i], write_genre_doc, i);
}
const graph_blob *graph_doc_band(const graph_snapshot *s, size_t i)
{
    return lazy_doc(s, &s->band_docs[i], write_band_doc, i);
}

int graph_attach(graph_snapshot *s, int slot, char *data, size_t len)
{
    if (slot < 0 || slot >= GRAPH_EXTRA_SLOTS) {
        free(data);
        return -1;
    }
    graph_blob_free(&s->extra[slot]);
    return graph_blob_init(&s->extra[slot], data, len);
}

const graph_blob *graph_extra(const graph_snapshot *s, int slot)
{
    return slot >= 0 && slot < GRAPH_EXTRA_SLOTS && s->extra[slot].data ? &s->extra[slot] : NULL;
}

size_t graph_bytes(const graph_snapshot *s)
{
    /* Read while other threads may add compressed forms (graph_blob_bytes). */
    size_t total = graph_blob_bytes(&s->graph_doc) + graph_blob_bytes(&s->genres_doc) + graph_blob_bytes(&s->bands_doc);
    for (size_t i = 0; i < s->data.ngenres; i++)
        total += graph_blob_bytes(&s->genre_docs[i]);
    for (size_t i = 0; i < s->data.nbands; i++)
        total += graph_blob_bytes(&s->band_docs[i]);
    return total;
}
