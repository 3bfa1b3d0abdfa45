/*
 * positions.h — where each genre and band is drawn, keyed by id.
 *
 * A graph_layout is a set of positions computed by layout.c for one map and
 * kept by id, so that it survives edits: a rebuilt snapshot takes the
 * positions of the nodes it still has, and only the new nodes need placing
 * (a short refinement from the old positions, not a new map). Layouts are
 * also saved in the state directory so a restart draws the same map
 * without computing it again.
 */
#ifndef MG_POSITIONS_H
#define MG_POSITIONS_H

#include "graph/index.h"

#include <stddef.h>

typedef struct graph_layout graph_layout;

/* Positions for every node of s: starts from previous (may be NULL) and
 * refines, or lays out from scratch. NULL with err on failure. */
graph_layout *graph_layout_compute(const graph_snapshot *s, const graph_layout *previous, char *err, size_t errlen);
/* Gives every node of s that has no position in *l (created when NULL) a
 * provisional one with layout_place: milliseconds, so that no snapshot is
 * published with a node the explorer cannot draw. Provisional positions are
 * served like the others but count as absent for graph_layout_covers,
 * graph_layout_compute (which lays them out properly) and saving.
 * 0, or -1 on allocation failure. */
int graph_layout_fill(graph_layout **l, const graph_snapshot *s);
/* 1 when every genre and band of d has a position computed by the layout
 * (provisional ones do not count). */
int graph_layout_covers(const graph_layout *l, const dataset *d);
/* Position of a genre (kind 'g') or band ('b'), provisional or not; 0 if unknown. */
int graph_layout_get(const graph_layout *l, char kind, const char *id, double *x, double *y);
graph_layout *graph_layout_copy(const graph_layout *l);
void graph_layout_free(graph_layout *l);
/* Saves to / loads from a text file ("g<TAB>id<TAB>x<TAB>y" lines);
 * a crash while saving leaves the previous file (core/fs.h). */
int graph_layout_save(const graph_layout *l, const char *path, char *err, size_t errlen);
graph_layout *graph_layout_load(const char *path);

#endif
