/*
 * search.h — finding genres and bands by name in a snapshot.
 */
#ifndef MG_GRAPH_SEARCH_H
#define MG_GRAPH_SEARCH_H

#include "core/buf.h"
#include "graph/index.h"

/* Writes {"query":…,"results":[{"kind","id","name"}…]} for q, best first:
 * exact name, then prefix, then word prefix, then substring matches. Aliases
 * are searched like names; a result found by an alias carries "alias" (the
 * alias that matched), and an entry appears once, by its best match. */
void graph_search(const graph_snapshot *s, const char *q, size_t limit, buf *out);

#endif
