/*
 * explore.h — exploring a snapshot's genre graph: the path between two
 * genres, related genres, similar bands.
 *
 * Each writes a JSON document to out and returns 0, or -1 when an id is
 * unknown (nothing written).
 */
#ifndef MG_GRAPH_EXPLORE_H
#define MG_GRAPH_EXPLORE_H

#include "core/buf.h"
#include "graph/index.h"

/* {"from","to","found","steps":[{"from":{id,name},"to":{id,name},"relation"}]}:
 * a shortest path over parent and influence links, ties broken by name. */
int graph_path(const graph_snapshot *s, const char *from, const char *to, buf *out);
/* {"id","related":[{"id","name","relations":[…],"score"}]}: parents, children,
 * siblings and influence neighbours, best first. */
int graph_related(const graph_snapshot *s, const char *id, size_t limit, buf *out);
/* {"id","similar":[{"id","name","score","shared":[genre ids]}]}: bands that
 * share genres, a shared rare genre counting more than a shared broad one. */
int graph_similar(const graph_snapshot *s, const char *id, size_t limit, buf *out);

#endif
