/*
 * index.h — finding things in a snapshot: a genre or band by id, the family
 * (root genre) a genre belongs to, the genres in name order; and the
 * snapshot's data and version.
 *
 * The lowest part of a snapshot (snapshot.h): its indexes are built first,
 * and the documents, the search, the exploration and the layouts look
 * entries up through them.
 */
#ifndef MG_GRAPH_INDEX_H
#define MG_GRAPH_INDEX_H

#include "domain/model.h"

#include <stddef.h>
#include <stdint.h>

typedef struct graph_snapshot graph_snapshot;

int64_t graph_version(const graph_snapshot *s);
const dataset *graph_dataset(const graph_snapshot *s);
/* The root genre a genre belongs to by primary parents (itself for a root). */
const char *graph_family(const graph_snapshot *s, size_t genre_index);
int graph_find_genre(const graph_snapshot *s, const char *id, size_t *index);
int graph_find_band(const graph_snapshot *s, const char *id, size_t *index);
/* The genre or band that once had this id (its former_ids), for redirects. */
int graph_find_former_genre(const graph_snapshot *s, const char *id, size_t *index);
int graph_find_former_band(const graph_snapshot *s, const char *id, size_t *index);
/* Genre indexes sorted by name (case- and accent-insensitive). */
const size_t *graph_genres_by_name(const graph_snapshot *s);

#endif
