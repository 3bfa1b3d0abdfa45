/*
 * search.h — finding genres and bands by name in a snapshot.
 */
#ifndef MG_GRAPH_SEARCH_H
#define MG_GRAPH_SEARCH_H

#include "core/buf.h"
#include "graph/index.h"

/* Writes {"query":…,"total":N,"results":[{"kind","id","name","match"}…]}
 * for q, best first: exact (spacing and punctuation ignored), prefix, a
 * word's start, substring, then typos when those leave room (search.c). */
void graph_search(const graph_snapshot *s, const char *q, size_t limit, buf *out);

#endif
