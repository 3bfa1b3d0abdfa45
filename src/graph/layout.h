/*
 * layout.h — positions for the genre map, computed once per snapshot.
 *
 * The explorer draws the map with its physics off, so the server computes
 * where every node goes: a force-directed layout in the manner of
 * ForceAtlas2 (repulsion between all nodes, linear attraction along edges,
 * a pull towards the centre so components stay together, FA2's adaptive
 * "swing/traction" step). Repulsion is approximated with a Barnes–Hut
 * quadtree over Morton-sorted nodes, so an iteration costs O(n log n); a
 * full run first lays out a coarsened graph (low-degree nodes folded into
 * their neighbours) and refines level by level.
 *
 * The run is a pure function of its input: no I/O, no globals, no clock,
 * no rand(); the same input gives bit-identical output from the same
 * binary, whatever the thread count. Coordinates come back finite, inside
 * the square [-box, box], and no two nodes share a point.
 *
 * Previous positions (has_pos) keep the map stable across edits: known nodes
 * start where they were, new nodes next to their placed neighbours (or on a
 * spiral round the map when they have none), and when most nodes are known
 * a short refinement runs in the previous frame, known nodes held near
 * their places except where the edit strains them, so an edit moves its
 * neighbourhood and not the map. docs/layout.md has the reasons and the
 * measurements.
 */
#ifndef MG_LAYOUT_H
#define MG_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

/* Changes whenever a change here changes the output. A refinement keeps
 * whatever map it is given, so positions saved by another version should
 * be dropped (has_pos NULL) rather than refined. */
#define LAYOUT_VERSION 2

/* An undirected weighted edge between node indexes a and b. Parent links
 * use weight 1, influence links about 0.3; a weight that is not a positive
 * finite number, or a self-loop, is ignored. */
typedef struct layout_edge {
    uint32_t a, b;
    float weight;
} layout_edge;

typedef struct layout_params {
    int iterations;        /* on the full graph without previous positions; 0 = automatic */
    int refine_iterations; /* run from previous positions; 0 = automatic */
    double theta;          /* Barnes–Hut opening criterion: cell size / distance */
    double gravity;        /* pull towards the centre, per unit of mass */
    double scaling;        /* repulsion relative to attraction */
    double box;            /* output half-side: coordinates within [-box, box] */
    double refine_share;   /* refine when at least this share of nodes has a position */
    uint64_t seed;         /* varies the deterministic jitter */
    int threads;           /* repulsion threads, started per iteration (1 = caller only) */
} layout_params;

/* What a run did; every field is filled when layout_run returns 0. */
typedef struct layout_stats {
    int iterations;         /* iterations run on the full graph */
    int refined;            /* 1 when run as a refinement of previous positions */
    size_t positioned;      /* nodes that started from a previous position */
    size_t released;        /* of those, refine mode let these move freely */
    size_t levels;          /* graph levels laid out (1 = no coarsening) */
    size_t tree_nodes;      /* largest quadtree built (cells and leaves) */
    size_t workspace_bytes; /* bytes allocated: the main block plus coarser levels */
} layout_stats;

void layout_default_params(layout_params *p);

/* Computes positions for n nodes.
 *   edges:   nedges edges; an endpoint >= n makes the call fail.
 *   mass:    NULL or n sizes (roots heavier); a node's repulsion mass is
 *            (1 + degree) * mass[i]; a non-positive or non-finite size counts 1.
 *   has_pos: NULL or n flags; non-zero means x[i], y[i] hold a previous
 *            position (a non-finite one is treated as absent).
 *   x, y:    n doubles each, read as described and overwritten with the result.
 *   p:       NULL for layout_default_params.
 *   st:      NULL or filled with what the run did.
 * Returns 0, or -1 on invalid input (x, y or edges NULL where needed, an
 * endpoint out of range, n or nedges above 2^31 - 1) or allocation failure,
 * in which case x and y are untouched. */
int layout_run(size_t n, const layout_edge *edges, size_t nedges, const double *mass, const unsigned char *has_pos,
               double *x, double *y, const layout_params *p, layout_stats *st);

/* Starting positions only, without a single iteration: nodes with has_pos
 * keep theirs (clamped to the box), the others go next to their placed
 * neighbours or, when nothing is placed, the whole graph is drawn as a
 * radial tree from its heaviest nodes. Linear in the edges (plus sorts), so
 * it runs where a layout cannot wait: a snapshot is never published with a
 * node the explorer cannot draw, and layout_run refines later. Same
 * arguments, return values and guarantees (finite, in the box, no two
 * nodes on one point) as layout_run. */
int layout_place(size_t n, const layout_edge *edges, size_t nedges, const double *mass, const unsigned char *has_pos,
                 double *x, double *y, const layout_params *p);

/* Bytes of the block layout_run allocates for this input (freed before it
 * returns; coarser levels add blocks no larger in total, reported in
 * layout_stats.workspace_bytes); SIZE_MAX when the size would overflow. */
size_t layout_workspace_bytes(size_t n, size_t nedges, int threads);

#endif
