/*
 * internal.h — the snapshot's layout, shared by the files of src/graph/.
 */
#ifndef MG_GRAPH_INTERNAL_H
#define MG_GRAPH_INTERNAL_H

#include "core/strmap.h"
#include "graph/snapshot.h"

#include <stdatomic.h>

enum search_kind { SEARCH_GENRE, SEARCH_BAND };

typedef struct search_entry {
    char *key; /* folded name */
    unsigned kind;
    size_t index;
} search_entry;

struct graph_snapshot {
    atomic_int refs;
    int64_t version;
    dataset data;
    strmap genre_index, band_index;
    size_t *family;               /* per genre: index of its root */
    size_t *child_off, *child_idx; /* CSR: children of genre i, sorted by name */
    size_t *band_off, *band_idx;   /* CSR: bands listing genre i, sorted by name */
    size_t *genres_by_name;
    size_t *bands_by_name;
    graph_blob graph_doc, genres_doc, bands_doc;
    graph_blob *genre_docs, *band_docs;
    graph_blob extra[GRAPH_EXTRA_SLOTS];
    search_entry *search;
    size_t nsearch;
};

int graph_build_search(graph_snapshot *s);
void graph_free_search(graph_snapshot *s);

#endif
