/*
 * search.h — finding genres and bands by name in a snapshot.
 */
#ifndef MG_GRAPH_SEARCH_H
#define MG_GRAPH_SEARCH_H

#include "core/buf.h"
#include "graph/index.h"

/* Writes {"query":…,"results":[{"kind","id","name"}…]} for q, best first:
 * exact name, then prefix, then word prefix, then substring matches. */
void graph_search(const graph_snapshot *s, const char *q, size_t limit, buf *out);

#endif
