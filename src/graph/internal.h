/*
 * internal.h — the snapshot's layout, shared by the files of src/graph/.
 *
 * snapshot.c builds a snapshot in steps, each owned by one file that fills
 * its part of the struct and frees it: the indexes (index.c) first, then
 * the documents (snapshot.c), the search keys (search.c) and the
 * exploration tables (explore.c), which look entries up through the
 * indexes. Only snapshot.c calls the steps; nothing calls back into it.
 */
#ifndef MG_GRAPH_INTERNAL_H
#define MG_GRAPH_INTERNAL_H

#include "core/strmap.h"
#include "graph/blob.h"
#include "graph/index.h"

#include <stdatomic.h>

enum search_kind { SEARCH_GENRE, SEARCH_BAND };

/* A neighbour of a genre, and how it is related. */
typedef enum graph_relation { REL_PARENT, REL_CHILD, REL_INFLUENCED, REL_INFLUENCED_BY } graph_relation;
typedef struct graph_adjacent {
    size_t genre;
    graph_relation relation;
} graph_adjacent;

typedef struct search_entry {
    const char *key;     /* folded name, inside search_keys */
    const char *compact; /* its letters and digits only, inside search_keys */
    unsigned len, clen;  /* their lengths */
    unsigned kind;
    unsigned alias;  /* 0: the entry's name; k: its alias k - 1 */
    unsigned weight; /* importance: ranks equal matches */
    size_t index;
} search_entry;

struct graph_snapshot {
    atomic_int refs;
    int64_t version;
    dataset data;
    strmap genre_index, band_index;
    strmap genre_former_index, band_former_index; /* former id -> index of the entry that had it */
    size_t *family;                               /* per genre: index of its root */
    size_t *child_off, *child_idx;                /* CSR: children of genre i, sorted by name */
    size_t *band_off, *band_idx;                  /* CSR: bands listing genre i, sorted by name */
    size_t *genres_by_name;
    size_t *bands_by_name;
    graph_blob graph_doc, genres_doc, bands_doc;
    int laid_out; /* every node has its computed position (graph_doc says so) */
    graph_blob *genre_docs, *band_docs;
    graph_blob extra[GRAPH_EXTRA_SLOTS];
    struct graph_layout *layout; /* positions, may be NULL or partial */
    search_entry *search;        /* every name and alias, by compact length, then first letter */
    size_t nsearch;
    struct search_group *search_groups; /* best matches of prefixes shared by many names */
    size_t nsearch_groups;
    char *search_keys; /* every folded name and alias, NUL-terminated, one after the other */
    size_t search_keys_len;
    search_entry *search_by_key; /* the same entries sorted by key, for prefix lookups */
    uint64_t *search_bigrams;    /* per entry: a 64-bit filter of the letter pairs in its key */
    uint64_t *search_pair_sets;  /* per filter bit: the entries that have it, one bit each */
    size_t *search_len_start;    /* per compact length L: the first entry of length >= L */
    size_t search_max_clen;      /* search_len_start has search_max_clen + 2 slots */
    uint32_t *search_names;      /* per genre, then per band: where its name is in search */
    size_t *adj_off;             /* CSR: genre neighbours over parent and influence links */
    graph_adjacent *adj;
    double *genre_weight;  /* per genre: how rare it is among bands (for similarity) */
    size_t *genre_rank;    /* per genre: its position in name order (for stable ties) */
    double *band_weight;   /* per band: the sum of its genres' weights */
    double *era_x, *era_y; /* per genre: its place in the era view (eras.c) */
    int era_min_year, era_max_year;
};

int graph_build_indexes(graph_snapshot *s);
void graph_free_indexes(graph_snapshot *s);
int graph_build_search(graph_snapshot *s);
void graph_free_search(graph_snapshot *s);
int graph_build_explore(graph_snapshot *s);
void graph_free_explore(graph_snapshot *s);
int graph_build_eras(graph_snapshot *s);
void graph_free_eras(graph_snapshot *s);
/* The era view's x of a year (eras.c). */
double graph_era_x(int year);

#endif
