/*
 * layout.c — force-directed positions for the map (see layout.h).
 *
 * The model is ForceAtlas2's: every pair of nodes repels with
 * kr m_i m_j / d, every edge pulls with w d, every node is pulled towards
 * the centre with kg m_i, and a node's mass is (1 + degree) times its
 * caller-given size, so hubs keep room for their children. One addition:
 * nodes far outside the bulk are reeled in (tail_radius), so a family on one
 * weak link does not float off and shrink the rest of the map. The forces
 * are the gradient of one energy, so its best scale has a closed form
 * (fit_scale): every start is put at that scale before the first iteration
 * instead of spending iterations growing or shrinking.
 *
 * Why one file of some 1,500 lines: the quadtree, the forces, the step rule,
 * the coarsening and the refinement share one body array and one set of
 * parameters, and are tuned against each other; split, each part would
 * expose internals only its neighbours use. The sections below follow the
 * order of one run.
 *
 * One iteration:
 *   1. Morton codes of the positions are radix-sorted and a compressed
 *      quadtree is built over the sorted bodies in a pool allocated once
 *      per run (every inner cell has two or more children: under 2n cells).
 *      Leaves hold up to LEAF_MAX bodies.
 *   2. Repulsion, per leaf: one walk of the tree collects the cells far
 *      enough from the whole leaf (size < theta * distance from the leaf's
 *      bounding box to the cell's centre of mass) and the bodies of those
 *      that are not; each body of the leaf then sums that list and its
 *      leaf-mates exactly. One walk per leaf instead of one per body is
 *      what makes 22k nodes cheap. Threads take fixed ranges of leaves and
 *      each body's sum is made by one thread in one order, so threads
 *      change the time, never the bits.
 *   3. Attraction along edges and gravity, in input order.
 *   4. FA2's step: a global speed from the total "swing" (forces changing
 *      direction) against "traction" (forces persisting), damped per node
 *      by its own swing; no node moves more than MAX_STEP of the map.
 *
 * The start decides most of the quality for a fixed budget. Without
 * previous positions the graph is coarsened first (see coarsen: low-degree
 * "satellites" are folded into their neighbours, bands into genres, leaf
 * genres into the families' skeleton), the coarsest level is drawn as a
 * radial tree and relaxed with many cheap iterations, and each finer level
 * starts from the coarser result. With previous positions the known nodes
 * stay, new ones start by their placed neighbours (or on a spiral round
 * the map), and in refine mode known nodes are held to their old places by
 * weak springs except where the edit put them under strain (see anchor),
 * and the result is given back in the caller's frame.
 *
 * Coincident points are separated by a sorted scan and a hashed nudge before
 * the run (so no leaf holds thousands of copies of one point) and after it;
 * coincident leaf-mates push apart along a hashed direction; distances are
 * softened by a tiny epsilon; no non-finite value leaves this file.
 *
 * One file of about 1,500 lines, on purpose: the tree, the forces, the step
 * and the coarsening share one set of invariants (the pool's cell layout,
 * the body order the threads split, the energy that fit_scale minimises)
 * and one benchmark (make bench: layout), and none of them is used on its
 * own elsewhere. Split, each part would export its internals to the others.
 */
#include "graph/layout.h"
#include "core/xalloc.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum {
    LEAF_MAX = 8,     /* bodies per quadtree leaf: summed exactly */
    MAX_THREADS = 16, /* upper bound on params.threads */
};
#define NONE UINT32_MAX
/* Indexes are 32-bit: cells (< 2n) and adjacency slots (2 per edge) fit. */
#define MAX_NODES    ((size_t)INT32_MAX)
#define MAX_EDGES    ((size_t)INT32_MAX)
#define TWO_PI       6.283185307179586
#define GOLDEN_ANGLE 2.399963229728653
#define MAX_STEP     0.05 /* largest step of one node, as a share of the map's side */
#define ANCHOR       0.5  /* refine mode: anchor stiffness per unit of mass (see anchor) */
#define STRAIN       8.0  /* refine mode: force per mass, over the median, that releases a node */
#define FILL         0.9  /* a full run fills this share of the box: room to grow in refine mode */
#define TAIL_RADIUS  1.5  /* stragglers are pulled in beyond this many RMS radii */

typedef struct cell {
    double cx, cy, m; /* centre of mass, mass */
    double open2;     /* accepted whole when squared distance > open2 */
    uint32_t skip;    /* preorder index just after this subtree */
    uint32_t lo, hi;  /* its bodies, [lo, hi) in Morton order */
    uint32_t leaf;
} cell;

typedef struct bbox {
    double x0, y0, x1, y1;
} bbox;

struct ws;

typedef struct worker {
    struct ws *w;
    double *lx, *ly, *lm;    /* interaction list of the leaf being summed */
    size_t body_lo, body_hi; /* share of the bodies, cut at leaf boundaries */
    pthread_t thread;
    int started;
} worker;

/* Everything one run uses, carved from a single allocation. */
typedef struct ws {
    size_t n, ne;
    double kr, kg, theta2, eps2, jitter_tolerance;
    double *x, *y;     /* the caller's arrays, worked in place */
    double *m;         /* repulsion mass */
    uint32_t *ea, *eb; /* valid edges */
    double *ew;
    double *fx, *fy, *ofx, *ofy; /* force now and at the previous iteration */
    double *sx, *sy, *sm;        /* bodies in Morton order */
    double *sfx, *sfy;           /* their repulsion */
    uint64_t *code, *code2;
    uint32_t *perm, *perm2; /* Morton rank -> node */
    cell *cells;
    bbox *boxes;
    uint32_t ncells;
    /* placement scratch */
    uint32_t *off, *adj, *queue, *parent, *depth;
    double *adjw;
    double *ax, *ay; /* refine mode: anchored positions */
    unsigned char *flag;
    unsigned char *anchored; /* refine mode: had a position and is held near it */
    double *wsub, *wa0, *wa1;
    worker wk[MAX_THREADS];
    int nthreads;
    const atomic_int *cancel; /* layout_params.cancel */
} ws;

/* ---- small helpers -------------------------------------------------------- */

static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A reproducible number in [0, 1) for (seed, a, b). */
static double hash_unit(uint64_t seed, uint64_t a, uint64_t b)
{
    uint64_t h = mix64(seed ^ mix64(a * 0x100000001b3ull ^ mix64(b + 0x51ed270b27ull)));
    return (double)(h >> 11) * 0x1.0p-53;
}

/* fmax/fmin/hypot are library calls with NaN and overflow care that the
 * hot loops do not need (their inputs are finite): these inline. */
static inline double maxd(double a, double b) { return a > b ? a : b; }

static inline double mind(double a, double b) { return a < b ? a : b; }

static inline double len2d(double dx, double dy) { return sqrt(dx * dx + dy * dy); }

static double clampd(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Carves aligned arrays out of one block; with base NULL it only measures. */
typedef struct carver {
    char *base;
    size_t used;
    int overflow;
} carver;

static void *carve(carver *c, size_t count, size_t size)
{
    if (c->overflow)
        return NULL;
    size_t off = c->used + 63;
    if (off < c->used) {
        c->overflow = 1;
        return NULL;
    }
    off &= ~(size_t)63;
    if (size && count > (SIZE_MAX - off) / size) {
        c->overflow = 1;
        return NULL;
    }
    c->used = off + count * size;
    return c->base ? c->base + off : NULL;
}

static int clamp_threads(int t) { return t < 1 ? 1 : t > MAX_THREADS ? MAX_THREADS : t; }

static void plan(carver *c, ws *w, size_t n, size_t ne, int threads)
{
    size_t nn = n ? n : 1, cells = 2 * nn;
    if (nn > SIZE_MAX / 4) {
        c->overflow = 1;
        return;
    }
    w->m = carve(c, nn, sizeof(double));
    w->ea = carve(c, ne, sizeof(uint32_t));
    w->eb = carve(c, ne, sizeof(uint32_t));
    w->ew = carve(c, ne, sizeof(double));
    w->fx = carve(c, nn, sizeof(double));
    w->fy = carve(c, nn, sizeof(double));
    w->ofx = carve(c, nn, sizeof(double));
    w->ofy = carve(c, nn, sizeof(double));
    w->sx = carve(c, nn, sizeof(double));
    w->sy = carve(c, nn, sizeof(double));
    w->sm = carve(c, nn, sizeof(double));
    w->sfx = carve(c, nn, sizeof(double));
    w->sfy = carve(c, nn, sizeof(double));
    w->code = carve(c, nn, sizeof(uint64_t));
    w->code2 = carve(c, nn, sizeof(uint64_t));
    w->perm = carve(c, nn, sizeof(uint32_t));
    w->perm2 = carve(c, nn, sizeof(uint32_t));
    w->cells = carve(c, cells, sizeof(cell));
    w->boxes = carve(c, cells, sizeof(bbox));
    w->off = carve(c, nn + 1, sizeof(uint32_t));
    w->adj = carve(c, ne, 2 * sizeof(uint32_t));
    w->adjw = carve(c, ne, 2 * sizeof(double));
    w->ax = carve(c, nn, sizeof(double));
    w->ay = carve(c, nn, sizeof(double));
    w->queue = carve(c, nn, sizeof(uint32_t));
    w->parent = carve(c, nn, sizeof(uint32_t));
    w->depth = carve(c, nn, sizeof(uint32_t));
    w->flag = carve(c, nn, 1);
    w->anchored = carve(c, nn, 1);
    w->wsub = carve(c, nn, sizeof(double));
    w->wa0 = carve(c, nn, sizeof(double));
    w->wa1 = carve(c, nn, sizeof(double));
    /* An interaction list never holds more than every cell plus every body. */
    for (int t = 0; t < threads; t++) {
        w->wk[t].lx = carve(c, cells + nn, sizeof(double));
        w->wk[t].ly = carve(c, cells + nn, sizeof(double));
        w->wk[t].lm = carve(c, cells + nn, sizeof(double));
    }
}

size_t layout_workspace_bytes(size_t n, size_t nedges, int threads)
{
    carver c = {0};
    ws w;
    if (n > MAX_NODES || nedges > MAX_EDGES)
        return SIZE_MAX;
    plan(&c, &w, n, nedges, clamp_threads(threads));
    return c.overflow ? SIZE_MAX : c.used + 64;
}

void layout_default_params(layout_params *p)
{
    *p = (layout_params){
        .iterations = 0,
        .refine_iterations = 0,
        .theta = 1.0,
        .gravity = 1.0,
        .scaling = 2.0,
        .box = 1000.0,
        .refine_share = 0.5,
        .seed = 0x6d75736963ull, /* "music" */
        .threads = 1,
    };
}

/* Iteration budgets, measured on this project's bench (docs/layout.md). An
 * iteration costs about n log n, so large graphs get fewer; small ones get
 * enough to settle. */
enum iter_kind {
    ITER_FULL,     /* a single level from a rough start */
    ITER_COARSEST, /* the coarsest level of several */
    ITER_LEVEL,    /* a finer level, started from the coarser one */
    ITER_REFINE,   /* previous positions */
};

static int auto_iterations(size_t n, enum iter_kind kind)
{
    double work = (double)n * log2((double)n + 2.0);
    switch (kind) {
    case ITER_FULL:
        return (int)clampd(1.2e7 / work, 60, 800);
    case ITER_COARSEST:
        return (int)clampd(1.2e7 / work, 100, 1000);
    case ITER_LEVEL:
        return (int)clampd(4e6 / work, 30, 300);
    case ITER_REFINE:
        break;
    }
    return (int)clampd(1.6e6 / work, 12, 150);
}

/* ---- coincident points ----------------------------------------------------- */

typedef struct xyi {
    double x, y;
    uint32_t i;
} xyi;

static int by_xyi(const void *pa, const void *pb)
{
    const xyi *a = pa, *b = pb;
    if (a->x != b->x)
        return a->x < b->x ? -1 : 1;
    if (a->y != b->y)
        return a->y < b->y ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

/* Moves every node that shares its point with a lower-numbered node by
 * about delta, in a hashed direction, towards the centre when limit > 0
 * would otherwise be crossed. Repeats until all points differ. */
static void separate(ws *w, double delta, double limit, uint64_t seed)
{
    xyi *s = (xyi *)(void *)w->cells; /* the cell pool is idle here, and large enough */
    size_t n = w->n;
    for (int round = 0; round < 64; round++) {
        for (size_t i = 0; i < n; i++)
            s[i] = (xyi){w->x[i], w->y[i], (uint32_t)i};
        qsort(s, n, sizeof *s, by_xyi);
        int moved = 0;
        for (size_t k = 1; k < n; k++) {
            if (s[k].x != s[k - 1].x || s[k].y != s[k - 1].y)
                continue;
            uint32_t i = s[k].i;
            double a = TWO_PI * hash_unit(seed, i, (uint64_t)round + 7);
            double d = delta * (1.0 + round);
            double nx = w->x[i] + d * cos(a), ny = w->y[i] + d * sin(a);
            if (limit > 0 && (fabs(nx) > limit || fabs(ny) > limit)) {
                nx = w->x[i] - copysign(d, w->x[i]);
                ny = w->y[i] - copysign(d * 0.5, w->y[i]);
            }
            w->x[i] = nx;
            w->y[i] = ny;
            moved = 1;
        }
        if (!moved)
            return;
    }
}

/* ---- energy scale ------------------------------------------------------------ */

/* Stragglers. FA2's gravity, kg * m whatever the distance, is weak next to
 * the repulsion of the whole map (kr m M / d for total mass M), so a family
 * hanging on one weak link floats far off and the box, fitted round it,
 * squeezes everything else into a corner. Beyond rho = TAIL_RADIUS times
 * the layout's mass-weighted RMS radius a node is also pulled in by
 * kr M m / rho * (u^2 - 1), u = d / rho: zero at rho, and equal to the
 * map's repulsion at u ~ 1.32, where stragglers settle. The bulk of the map
 * feels plain FA2. Its energy, kr M m rho ((u^3 - 1) / 3 - (u - 1)), does
 * not change when the layout is scaled (rho scales with it), so it does not
 * enter fit_scale. */
static double tail_radius(const ws *w)
{
    double sm = 0, sd = 0;
    for (size_t i = 0; i < w->n; i++) {
        sm += w->m[i];
        sd += w->m[i] * (w->x[i] * w->x[i] + w->y[i] * w->y[i]);
    }
    double r = TAIL_RADIUS * sqrt(sd / sm);
    return r > 0 ? r : 1e-300;
}

/* The factor s that minimizes the energy of the layout scaled by s about the
 * origin: attraction sum w d^2 / 2 grows as s^2, gravity kg m |p| as s,
 * repulsion -kr m_i m_j log d falls as log s. d/ds = 0 gives
 * A s^2 + G s - R = 0 with A = sum w d^2, G = kg sum m |p|,
 * R = kr sum_{i<j} m_i m_j. A layout at equilibrium has s = 1. */
static double fit_scale(const ws *w)
{
    double A = 0, G = 0, sm = 0, sm2 = 0;
    for (size_t e = 0; e < w->ne; e++) {
        double dx = w->x[w->ea[e]] - w->x[w->eb[e]], dy = w->y[w->ea[e]] - w->y[w->eb[e]];
        A += w->ew[e] * (dx * dx + dy * dy);
    }
    for (size_t i = 0; i < w->n; i++) {
        G += w->m[i] * len2d(w->x[i], w->y[i]);
        sm += w->m[i];
        sm2 += w->m[i] * w->m[i];
    }
    G *= w->kg;
    double R = w->kr * 0.5 * (sm * sm - sm2);
    double s = 2.0 * R / (G + sqrt(G * G + 4.0 * A * R));
    return isfinite(s) && s > 0 ? s : 1.0;
}

/* ---- initial placement --------------------------------------------------------- */

static void build_adjacency(ws *w)
{
    size_t n = w->n;
    memset(w->off, 0, (n + 1) * sizeof *w->off);
    for (size_t e = 0; e < w->ne; e++) {
        w->off[w->ea[e] + 1]++;
        w->off[w->eb[e] + 1]++;
    }
    for (size_t i = 0; i < n; i++)
        w->off[i + 1] += w->off[i];
    uint32_t *fill = w->queue; /* free until the BFS */
    memcpy(fill, w->off, n * sizeof *fill);
    for (size_t e = 0; e < w->ne; e++) {
        uint32_t a = w->ea[e], b = w->eb[e];
        w->adjw[fill[a]] = w->ew[e];
        w->adj[fill[a]++] = b;
        w->adjw[fill[b]] = w->ew[e];
        w->adj[fill[b]++] = a;
    }
}

typedef struct mass_rank {
    double m;
    uint32_t i;
} mass_rank;

static int by_mass_desc(const void *pa, const void *pb)
{
    const mass_rank *a = pa, *b = pb;
    if (a->m != b->m)
        return a->m > b->m ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

/* Node indexes by decreasing mass into perm2: where BFS trees start. */
static void rank_by_mass(ws *w)
{
    mass_rank *r = (mass_rank *)(void *)w->cells;
    for (size_t i = 0; i < w->n; i++)
        r[i] = (mass_rank){w->m[i], (uint32_t)i};
    qsort(r, w->n, sizeof *r, by_mass_desc);
    for (size_t i = 0; i < w->n; i++)
        w->perm2[i] = r[i].i;
}

/* BFS from node s (already flagged) appending to the queue; returns new length. */
static size_t bfs_from(ws *w, size_t head, size_t nq)
{
    while (head < nq) {
        uint32_t u = w->queue[head++];
        for (uint32_t k = w->off[u]; k < w->off[u + 1]; k++) {
            uint32_t v = w->adj[k];
            if (w->flag[v])
                continue;
            w->flag[v] = 1;
            w->parent[v] = u;
            w->depth[v] = w->depth[u] + 1;
            w->queue[nq++] = v;
        }
    }
    return nq;
}

/* No previous positions: a radial drawing of a BFS forest. */
static void place_radial(ws *w, uint64_t seed)
{
    size_t n = w->n, nq = 0, ncomp = 0;
    memset(w->flag, 0, n);
    for (size_t r = 0; r < n; r++) {
        uint32_t s = w->perm2[r];
        if (w->flag[s])
            continue;
        w->flag[s] = 1;
        w->parent[s] = NONE;
        w->depth[s] = 0;
        w->queue[nq] = s;
        nq = bfs_from(w, nq, nq + 1);
        ncomp++;
    }
    for (size_t i = 0; i < n; i++)
        w->wsub[i] = 1;
    for (size_t k = n; k-- > 0;) {
        uint32_t v = w->queue[k];
        if (w->parent[v] != NONE)
            w->wsub[w->parent[v]] += w->wsub[v];
    }
    /* Wedges: BFS puts a node's children next to each other, in order. */
    double root_cursor = 0;
    double *cursor = w->sfx; /* idle until the first iteration */
    for (size_t k = 0; k < n; k++) {
        uint32_t v = w->queue[k], p = w->parent[v];
        double span;
        if (p == NONE) {
            span = TWO_PI * w->wsub[v] / (double)n;
            w->wa0[v] = root_cursor;
            root_cursor += span;
        } else {
            span = (w->wa1[p] - w->wa0[p]) * w->wsub[v] / (w->wsub[p] - 1.0);
            w->wa0[v] = cursor[p];
            cursor[p] += span;
        }
        w->wa1[v] = w->wa0[v] + span;
        cursor[v] = w->wa0[v];
    }
    /* Rings of equal density: a ring's area is in proportion to its nodes. */
    uint32_t shift = ncomp > 1 ? 1 : 0, *count = w->off; /* adjacency no longer needed */
    memset(count, 0, (n + 1) * sizeof *count);
    for (size_t i = 0; i < n; i++)
        count[w->depth[i] + shift]++;
    double *below = w->sfy, acc = 0; /* levels stay below n: shift needs 2 components */
    for (size_t d = 0; d < n; d++) {
        below[d] = acc;
        acc += count[d];
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t d = w->depth[i] + shift;
        double r = sqrt(below[d] + hash_unit(seed, i, 1) * count[d]);
        double a = 0.5 * (w->wa0[i] + w->wa1[i]);
        w->x[i] = r * cos(a);
        w->y[i] = r * sin(a);
    }
}

/* Some previous positions: new nodes go by their placed neighbours, the
 * others on a spiral round the map. On entry depth[i] = placed[i] and
 * parent[i] = NONE; depth then marks "has a position". */
static void place_incremental(ws *w, const unsigned char *placed, uint64_t seed)
{
    size_t n = w->n, nq = 0;
    double len = 0, cx = 0, cy = 0, x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    size_t nlen = 0, npos = 0;
    for (size_t e = 0; e < w->ne; e++)
        if (placed[w->ea[e]] && placed[w->eb[e]]) {
            len += len2d(w->x[w->ea[e]] - w->x[w->eb[e]], w->y[w->ea[e]] - w->y[w->eb[e]]);
            nlen++;
        }
    for (size_t i = 0; i < n; i++)
        if (placed[i]) {
            x0 = mind(x0, w->x[i]), x1 = maxd(x1, w->x[i]);
            y0 = mind(y0, w->y[i]), y1 = maxd(y1, w->y[i]);
            npos++;
        }
    cx = 0.5 * (x0 + x1);
    cy = 0.5 * (y0 + y1);
    double side = maxd(x1 - x0, y1 - y0);
    double edge = nlen ? len / (double)nlen : 0;
    if (!(edge > 0))
        edge = side > 0 ? side / sqrt((double)npos) : 1.0;
    double radius = 0;
    for (size_t i = 0; i < n; i++)
        if (placed[i])
            radius = maxd(radius, len2d(w->x[i] - cx, w->y[i] - cy));

    memset(w->flag, 0, n);
    for (size_t i = 0; i < n; i++)
        if (placed[i]) {
            w->flag[i] = 1;
            w->queue[nq++] = (uint32_t)i;
        }
    size_t head = 0, spiral = 0;
    for (size_t r = 0;; r++) {
        while (head < nq) {
            uint32_t u = w->queue[head++];
            if (!placed[u] && w->parent[u] != NONE) {
                /* Mean of the neighbours placed so far, plus a little jitter. */
                double sx = 0, sy = 0;
                size_t c = 0;
                for (uint32_t k = w->off[u]; k < w->off[u + 1]; k++) {
                    uint32_t v = w->adj[k];
                    if (w->depth[v] == 1) {
                        sx += w->x[v], sy += w->y[v];
                        c++;
                    }
                }
                double a = TWO_PI * hash_unit(seed, u, 2);
                double j = 0.5 * edge * (0.5 + 0.5 * hash_unit(seed, u, 3));
                w->x[u] = sx / (double)c + j * cos(a);
                w->y[u] = sy / (double)c + j * sin(a);
            }
            w->depth[u] = 1; /* here: "has a position" */
            for (uint32_t k = w->off[u]; k < w->off[u + 1]; k++) {
                uint32_t v = w->adj[k];
                if (!w->flag[v]) {
                    w->flag[v] = 1;
                    w->parent[v] = u;
                    w->queue[nq++] = v;
                }
            }
        }
        /* A node no placed node reaches starts a new group on the spiral. */
        while (r < n && w->flag[w->perm2[r]])
            r++;
        if (r >= n)
            break;
        uint32_t s = w->perm2[r];
        double a = GOLDEN_ANGLE * (double)spiral + TWO_PI * hash_unit(seed, 0, 4);
        double rad = radius + edge * (1.0 + sqrt((double)spiral));
        spiral++;
        w->x[s] = cx + rad * cos(a);
        w->y[s] = cy + rad * sin(a);
        w->flag[s] = 1;
        w->parent[s] = NONE;
        w->depth[s] = 1;
        w->queue[nq++] = s;
    }
}

/* The point minimizing sum m_i |p_i - c| over the nodes flagged in has:
 * where gravity pulled in the run that produced them (Weiszfeld). */
static void weighted_median(const ws *w, const unsigned char *has, double *ox, double *oy)
{
    double cx = 0, cy = 0, tm = 0;
    for (size_t i = 0; i < w->n; i++)
        if (has[i]) {
            cx += w->m[i] * w->x[i], cy += w->m[i] * w->y[i];
            tm += w->m[i];
        }
    if (!(tm > 0)) {
        *ox = *oy = 0;
        return;
    }
    cx /= tm, cy /= tm;
    for (int it = 0; it < 60; it++) {
        double nx = 0, ny = 0, den = 0;
        for (size_t i = 0; i < w->n; i++) {
            if (!has[i])
                continue;
            double d = len2d(w->x[i] - cx, w->y[i] - cy);
            if (d < 1e-12)
                continue;
            double k = w->m[i] / d;
            nx += k * w->x[i], ny += k * w->y[i];
            den += k;
        }
        if (!(den > 0))
            break;
        nx /= den, ny /= den;
        double moved = len2d(nx - cx, ny - cy);
        cx = nx, cy = ny;
        if (moved < 1e-9 * (1.0 + fabs(cx) + fabs(cy)))
            break;
    }
    *ox = cx, *oy = cy;
}

/* ---- quadtree ---------------------------------------------------------------- */

static uint64_t spread32(uint32_t v)
{
    uint64_t x = v;
    x = (x | (x << 16)) & 0x0000FFFF0000FFFFull;
    x = (x | (x << 8)) & 0x00FF00FF00FF00FFull;
    x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0Full;
    x = (x | (x << 2)) & 0x3333333333333333ull;
    x = (x | (x << 1)) & 0x5555555555555555ull;
    return x;
}

/* Stable LSD radix sort of (code, perm) by bytes, skipping constant bytes. */
static void radix_sort(ws *w)
{
    size_t n = w->n;
    static const size_t B = 256;
    size_t hist[8][256];
    memset(hist, 0, sizeof hist);
    for (size_t i = 0; i < n; i++)
        for (int b = 0; b < 8; b++)
            hist[b][(w->code[i] >> (8 * b)) & 0xff]++;
    uint64_t *src = w->code, *dst = w->code2;
    uint32_t *psrc = w->perm, *pdst = w->perm2;
    for (int b = 0; b < 8; b++) {
        size_t *h = hist[b], sum = 0;
        if (h[(src[0] >> (8 * b)) & 0xff] == n)
            continue;
        for (size_t k = 0; k < B; k++) {
            size_t c = h[k];
            h[k] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) {
            size_t at = h[(src[i] >> (8 * b)) & 0xff]++;
            dst[at] = src[i];
            pdst[at] = psrc[i];
        }
        uint64_t *t = src;
        src = dst, dst = t;
        uint32_t *pt = psrc;
        psrc = pdst, pdst = pt;
    }
    if (src != w->code) {
        memcpy(w->code, src, n * sizeof *src);
        memcpy(w->perm, psrc, n * sizeof *psrc);
    }
}

static uint32_t build_cell(ws *w, uint32_t lo, uint32_t hi)
{
    uint32_t k = w->ncells++;
    cell *c = &w->cells[k];
    bbox *b = &w->boxes[k];
    uint64_t clo = w->code[lo], chi = w->code[hi - 1];
    double m = 0, mx = 0, my = 0;
    *b = (bbox){INFINITY, INFINITY, -INFINITY, -INFINITY};
    if (hi - lo <= LEAF_MAX || clo == chi) {
        for (uint32_t i = lo; i < hi; i++) {
            m += w->sm[i];
            mx += w->sm[i] * w->sx[i];
            my += w->sm[i] * w->sy[i];
            b->x0 = mind(b->x0, w->sx[i]), b->x1 = maxd(b->x1, w->sx[i]);
            b->y0 = mind(b->y0, w->sy[i]), b->y1 = maxd(b->y1, w->sy[i]);
        }
        c->leaf = 1;
    } else {
        /* The range shares its top bits; split on the first differing pair. */
        int shift = 62 - 2 * (__builtin_clzll(clo ^ chi) / 2);
        uint32_t s = lo;
        for (uint64_t d = 0; d < 4 && s < hi; d++) {
            uint32_t a = s, z = hi; /* first index whose digit exceeds d */
            while (a < z) {
                uint32_t mid = a + (z - a) / 2;
                if (((w->code[mid] >> shift) & 3) <= d)
                    a = mid + 1;
                else
                    z = mid;
            }
            if (a == s)
                continue;
            uint32_t ch = build_cell(w, s, a);
            const cell *cc = &w->cells[ch];
            const bbox *cb = &w->boxes[ch];
            m += cc->m;
            mx += cc->m * cc->cx;
            my += cc->m * cc->cy;
            b->x0 = mind(b->x0, cb->x0), b->x1 = maxd(b->x1, cb->x1);
            b->y0 = mind(b->y0, cb->y0), b->y1 = maxd(b->y1, cb->y1);
            s = a;
        }
        c->leaf = 0;
    }
    double size = maxd(b->x1 - b->x0, b->y1 - b->y0);
    c->m = m;
    c->cx = mx / m;
    c->cy = my / m;
    c->open2 = size * size / w->theta2;
    c->lo = lo;
    c->hi = hi;
    c->skip = w->ncells;
    return k;
}

/* Returns the side of the square holding every node. */
static double build_tree(ws *w)
{
    size_t n = w->n;
    double x0 = w->x[0], x1 = x0, y0 = w->y[0], y1 = y0;
    for (size_t i = 1; i < n; i++) {
        x0 = mind(x0, w->x[i]), x1 = maxd(x1, w->x[i]);
        y0 = mind(y0, w->y[i]), y1 = maxd(y1, w->y[i]);
    }
    double side = maxd(x1 - x0, y1 - y0);
    if (!(side > 0))
        side = 1;
    double q = 4294967295.0 / side;
    for (size_t i = 0; i < n; i++) {
        uint32_t qx = (uint32_t)clampd((w->x[i] - x0) * q, 0, 4294967295.0);
        uint32_t qy = (uint32_t)clampd((w->y[i] - y0) * q, 0, 4294967295.0);
        w->code[i] = spread32(qx) << 1 | spread32(qy);
        w->perm[i] = (uint32_t)i;
    }
    radix_sort(w);
    for (size_t k = 0; k < n; k++) {
        uint32_t i = w->perm[k];
        w->sx[k] = w->x[i];
        w->sy[k] = w->y[i];
        w->sm[k] = w->m[i];
    }
    w->ncells = 0;
    build_cell(w, 0, (uint32_t)n);
    return side;
}

/* ---- repulsion ----------------------------------------------------------------- */

/* The hot loop: the pull of every entry of an interaction list on one body,
 * softened as m / (d^2 + eps^2). Two lanes, even and odd entries, added at
 * the end: with GCC/Clang vector types that is one SSE2 instruction for two
 * pairs (twice the divisions per cycle); the plain C version does the same
 * operations in the same order, so both give the same bits. */
#if defined(__GNUC__) || defined(__clang__)
typedef double v2d __attribute__((vector_size(16)));

static void sum_list(const double *lx, const double *ly, const double *lm, size_t nl, double xi, double yi, double eps2,
                     double *ofx, double *ofy)
{
    v2d ax = {0, 0}, ay = {0, 0}, vx = {xi, xi}, vy = {yi, yi}, ve = {eps2, eps2};
    size_t j = 0;
    for (; j + 2 <= nl; j += 2) {
        v2d px, py, pm;
        memcpy(&px, lx + j, sizeof px);
        memcpy(&py, ly + j, sizeof py);
        memcpy(&pm, lm + j, sizeof pm);
        v2d dx = vx - px, dy = vy - py;
        v2d f = pm / (dx * dx + dy * dy + ve);
        ax += f * dx;
        ay += f * dy;
    }
    double fx[2] = {ax[0], ax[1]}, fy[2] = {ay[0], ay[1]};
#else
static void sum_list(const double *lx, const double *ly, const double *lm, size_t nl, double xi, double yi, double eps2,
                     double *ofx, double *ofy)
{
    double fx[2] = {0, 0}, fy[2] = {0, 0};
    size_t j = 0;
    for (; j + 2 <= nl; j += 2)
        for (int k = 0; k < 2; k++) {
            double dx = xi - lx[j + k], dy = yi - ly[j + k];
            double f = lm[j + k] / (dx * dx + dy * dy + eps2);
            fx[k] += f * dx;
            fy[k] += f * dy;
        }
#endif
    if (j < nl) {
        double dx = xi - lx[j], dy = yi - ly[j];
        double f = lm[j] / (dx * dx + dy * dy + eps2);
        fx[0] += f * dx;
        fy[0] += f * dy;
    }
    *ofx = fx[0] + fx[1];
    *ofy = fy[0] + fy[1];
}

static void repel_leaf(ws *w, worker *t, uint32_t l)
{
    const cell *cells = w->cells, *L = &cells[l];
    const bbox B = w->boxes[l];
    double *lx = t->lx, *ly = t->ly, *lm = t->lm;
    size_t nl = 0;
    uint32_t k = 0, end = w->ncells;
    while (k < end) {
        const cell *c = &cells[k];
        if (k == l) {
            k = c->skip;
            continue;
        }
        if (k < l && l < c->skip) { /* an ancestor always opens */
            k++;
            continue;
        }
        double dx = maxd(maxd(B.x0 - c->cx, c->cx - B.x1), 0);
        double dy = maxd(maxd(B.y0 - c->cy, c->cy - B.y1), 0);
        if (dx * dx + dy * dy > c->open2) {
            lx[nl] = c->cx, ly[nl] = c->cy, lm[nl] = c->m;
            nl++;
            k = c->skip;
        } else if (c->leaf) {
            for (uint32_t j = c->lo; j < c->hi; j++) {
                lx[nl] = w->sx[j], ly[nl] = w->sy[j], lm[nl] = w->sm[j];
                nl++;
            }
            k = c->skip;
        } else {
            k++;
        }
    }
    const double eps2 = w->eps2, eps = sqrt(eps2);
    for (uint32_t i = L->lo; i < L->hi; i++) {
        const double xi = w->sx[i], yi = w->sy[i];
        double fx, fy;
        sum_list(lx, ly, lm, nl, xi, yi, eps2, &fx, &fy);
        for (uint32_t j = L->lo; j < L->hi; j++) {
            if (j == i)
                continue;
            double dx = xi - w->sx[j], dy = yi - w->sy[j];
            double d2 = dx * dx + dy * dy;
            if (d2 == 0) { /* same point: part along a direction fixed by the pair */
                uint32_t a = w->perm[i], b = w->perm[j];
                double ang = TWO_PI * hash_unit(0, a < b ? a : b, a < b ? b : a);
                double sgn = a < b ? 1.0 : -1.0;
                dx = sgn * eps * cos(ang), dy = sgn * eps * sin(ang);
                d2 = eps2;
            }
            double f = w->sm[j] / (d2 + eps2);
            fx += f * dx;
            fy += f * dy;
        }
        double k2 = w->kr * w->sm[i];
        w->sfx[i] = k2 * fx;
        w->sfy[i] = k2 * fy;
    }
}

static void repel_share(worker *t)
{
    ws *w = t->w;
    /* Leaves are visited in preorder, which is Morton order of their bodies. */
    for (uint32_t k = 0; k < w->ncells; k = k + 1) {
        const cell *c = &w->cells[k];
        if (!c->leaf)
            continue;
        if (c->lo >= t->body_hi)
            break;
        if (c->lo >= t->body_lo)
            repel_leaf(w, t, k);
    }
}

static void *worker_main(void *arg)
{
    repel_share(arg);
    return NULL;
}

/* Threads are started per iteration: tens of microseconds against the
 * milliseconds of a pass, and no barrier to unwind when one cannot start
 * (its share then runs on the calling thread, with the same result). */
static void repel_all(ws *w)
{
    size_t n = w->n;
    int nt = w->nthreads;
    for (int t = 0; t < nt; t++) {
        w->wk[t].w = w;
        w->wk[t].body_lo = n * (size_t)t / (size_t)nt;
        w->wk[t].body_hi = n * (size_t)(t + 1) / (size_t)nt;
        w->wk[t].started = 0;
    }
    for (int t = 1; t < nt; t++)
        w->wk[t].started = pthread_create(&w->wk[t].thread, NULL, worker_main, &w->wk[t]) == 0;
    repel_share(&w->wk[0]);
    for (int t = 1; t < nt; t++) {
        if (w->wk[t].started)
            pthread_join(w->wk[t].thread, NULL);
        else
            repel_share(&w->wk[t]);
    }
}

/* ---- iterations ------------------------------------------------------------------ */

typedef struct stepper {
    double speed, efficiency;
} stepper;

/* Computes every node's force into fx, fy; returns the map's side. */
static double forces(ws *w)
{
    size_t n = w->n;
    double side = build_tree(w);
    w->eps2 = 1e-6 * side * side / (double)n;
    repel_all(w);
    for (size_t k = 0; k < n; k++) {
        uint32_t i = w->perm[k];
        w->fx[i] = w->sfx[k];
        w->fy[i] = w->sfy[k];
    }
    for (size_t e = 0; e < w->ne; e++) {
        uint32_t a = w->ea[e], b = w->eb[e];
        double dx = (w->x[a] - w->x[b]) * w->ew[e], dy = (w->y[a] - w->y[b]) * w->ew[e];
        w->fx[a] -= dx, w->fy[a] -= dy;
        w->fx[b] += dx, w->fy[b] += dy;
    }
    double rho = tail_radius(w), total = 0;
    for (size_t i = 0; i < n; i++)
        total += w->m[i];
    double tail = w->kr * total / rho;
    for (size_t i = 0; i < n; i++) {
        double d = len2d(w->x[i], w->y[i]);
        if (d > 0) {
            double u = d / rho, pull = w->kg + (u > 1 ? tail * (u * u - 1.0) : 0.0);
            double g = pull * w->m[i] / d;
            w->fx[i] -= g * w->x[i];
            w->fy[i] -= g * w->y[i];
        }
    }
    return side;
}

/* Refine mode's memory of the previous map: anchored nodes are held to
 * where they started by a spring of stiffness k * m (an edge's is its
 * weight), so that the slow drift every force-directed layout keeps up
 * (subtrees turning about their hub, families sliding past each other) does
 * not reshuffle the map at each edit. A node under strain when the run
 * starts (its force per unit mass above STRAIN times the median) is where
 * the edit happened (a new or lost link, a new or deleted neighbour): it
 * is released to move freely. */
typedef struct anchor {
    const double *x, *y; /* anchored positions */
    unsigned char *on;   /* 1: anchored */
    double k;
    size_t released; /* nodes released for strain */
    int checked;
} anchor;

static int by_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

static void release_strained(ws *w, anchor *an)
{
    double *r = w->sfx; /* idle once forces are scattered */
    size_t c = 0;
    for (size_t i = 0; i < w->n; i++)
        if (an->on[i])
            r[c++] = len2d(w->fx[i], w->fy[i]) / w->m[i];
    if (c == 0)
        return;
    qsort(r, c, sizeof *r, by_double);
    double limit = STRAIN * r[c / 2];
    for (size_t i = 0; i < w->n; i++)
        if (an->on[i] && len2d(w->fx[i], w->fy[i]) / w->m[i] > limit) {
            an->on[i] = 0;
            an->released++;
        }
}

static void iterate(ws *w, stepper *sp, anchor *an)
{
    size_t n = w->n;
    double side = forces(w);
    if (an) {
        if (!an->checked) {
            release_strained(w, an);
            an->checked = 1;
        }
        for (size_t i = 0; i < n; i++)
            if (an->on[i]) {
                double k = an->k * w->m[i];
                w->fx[i] -= k * (w->x[i] - an->x[i]);
                w->fy[i] -= k * (w->y[i] - an->y[i]);
            }
    }

    /* FA2's adaptive speed (Jacomy et al. 2014, as in Gephi). */
    double swinging = 0, traction = 0;
    for (size_t i = 0; i < n; i++) {
        swinging += w->m[i] * len2d(w->ofx[i] - w->fx[i], w->ofy[i] - w->fy[i]);
        traction += 0.5 * w->m[i] * len2d(w->ofx[i] + w->fx[i], w->ofy[i] + w->fy[i]);
    }
    double nn = (double)n, estimated = 0.05 * sqrt(nn);
    double jt = w->jitter_tolerance * maxd(sqrt(estimated), mind(10.0, estimated * traction / (nn * nn)));
    if (traction > 0 && swinging / traction > 2.0) {
        if (sp->efficiency > 0.05)
            sp->efficiency *= 0.5;
        jt = maxd(jt, w->jitter_tolerance);
    }
    if (swinging > 0 && traction > 0) {
        double target = jt * sp->efficiency * traction / swinging;
        if (swinging > jt * traction) {
            if (sp->efficiency > 0.05)
                sp->efficiency *= 0.7;
        } else if (sp->speed < 1000) {
            sp->efficiency *= 1.3;
        }
        sp->speed += mind(target - sp->speed, 0.5 * sp->speed);
    }

    double max_step = MAX_STEP * side;
    for (size_t i = 0; i < n; i++) {
        double fx = w->fx[i], fy = w->fy[i];
        if (!isfinite(fx) || !isfinite(fy))
            fx = fy = 0;
        double swing = w->m[i] * len2d(w->ofx[i] - fx, w->ofy[i] - fy);
        double factor = sp->speed / (1.0 + sqrt(sp->speed * swing));
        double dx = fx * factor, dy = fy * factor, step = len2d(dx, dy);
        if (step > max_step) {
            dx *= max_step / step;
            dy *= max_step / step;
        }
        if (isfinite(dx) && isfinite(dy)) {
            w->x[i] += dx;
            w->y[i] += dy;
        }
        w->ofx[i] = fx;
        w->ofy[i] = fy;
    }
}

/* ---- multilevel start ------------------------------------------------------------ */

/* A force-directed run untangles locally fast and globally slowly, so with
 * no previous positions the graph is first made small: a "satellite" is a
 * node of degree 1 to SATELLITE_DEGREE whose neighbours all rank above it
 * (by degree, then a hash), so satellites are never adjacent. Removing them
 * gives the next coarser level; each satellite's mass is shared among its
 * neighbours and its edges are replaced by edges between its neighbours
 * with weight w_i w_j / sum w (the exact energy of the satellite sitting at
 * its neighbours' weighted mean). The coarsest level is laid out with many
 * cheap iterations; each finer level starts from it, its satellites at the
 * weighted mean of their neighbours, and needs few. For this project's data
 * the bands are the satellites of the genres and leaf genres those of the
 * families' skeleton. */
enum { MAX_LEVELS = 12, SATELLITE_DEGREE = 3, COARSEST = 48 };
#define MIN_SHRINK 0.85 /* a coarser level keeps fewer than this share of nodes */

typedef struct level {
    size_t n, ne;
    double *x, *y, *m, *ew;
    uint32_t *ea, *eb;
    uint32_t *from_finer; /* finer level's node -> node here; NONE for a satellite */
    void *block;
    size_t bytes;
} level;

static void use_level(ws *w, const level *L)
{
    w->n = L->n;
    w->ne = L->ne;
    w->x = L->x;
    w->y = L->y;
    w->m = L->m;
    w->ea = L->ea;
    w->eb = L->eb;
    w->ew = L->ew;
    w->jitter_tolerance = L->n >= 50000 ? 10.0 : L->n >= 5000 ? 1.0 : 0.1;
}

typedef struct kedge {
    uint32_t a, b, order;
    double w;
} kedge;

static int by_kedge(const void *pa, const void *pb)
{
    const kedge *a = pa, *b = pb;
    if (a->a != b->a)
        return a->a < b->a ? -1 : 1;
    if (a->b != b->b)
        return a->b < b->b ? -1 : 1;
    return (a->order > b->order) - (a->order < b->order);
}

/* Does u rank above v? */
static int ranks_above(const ws *w, const double *key, uint32_t u, uint32_t v)
{
    uint32_t du = w->off[u + 1] - w->off[u], dv = w->off[v + 1] - w->off[v];
    if (du != dv)
        return du > dv;
    if (key[u] != key[v])
        return key[u] > key[v];
    return u > v;
}

/* Builds the next coarser level from the one in w (adjacency built).
 * Returns 1 when built, 0 when the graph is small or does not shrink
 * enough, -1 when out of memory. */
static int coarsen(ws *w, level *out, uint64_t seed, size_t max_edges)
{
    size_t n = w->n, kept = 0, bound = 0;
    if (n <= COARSEST)
        return 0;
    unsigned char *sat = w->flag;
    double *key = w->wsub;
    for (size_t v = 0; v < n; v++)
        key[v] = hash_unit(seed, v, 11);
    for (uint32_t v = 0; v < n; v++) {
        uint32_t deg = w->off[v + 1] - w->off[v];
        int s = deg >= 1 && deg <= SATELLITE_DEGREE;
        for (uint32_t k = w->off[v]; s && k < w->off[v + 1]; k++)
            s = ranks_above(w, key, w->adj[k], v);
        sat[v] = (unsigned char)s;
        if (s)
            bound += (size_t)deg * (deg - 1) / 2;
        else
            kept++;
    }
    if (kept < 2 || (double)kept >= MIN_SHRINK * (double)n)
        return 0;
    for (size_t e = 0; e < w->ne; e++)
        bound += !sat[w->ea[e]] && !sat[w->eb[e]];
    if (bound > max_edges) /* keeps every level's edges within the first level's arrays */
        return 0;

    carver c = {0};
    for (int pass = 0; pass < 2; pass++) {
        out->from_finer = carve(&c, n, sizeof(uint32_t));
        out->x = carve(&c, kept, sizeof(double));
        out->y = carve(&c, kept, sizeof(double));
        out->m = carve(&c, kept, sizeof(double));
        out->ea = carve(&c, bound, sizeof(uint32_t));
        out->eb = carve(&c, bound, sizeof(uint32_t));
        out->ew = carve(&c, bound, sizeof(double));
        kedge *ke = carve(&c, bound, sizeof(kedge));
        if (pass == 1) {
            size_t at = 0;
            for (size_t v = 0; v < n; v++)
                out->from_finer[v] = sat[v] ? NONE : (uint32_t)at++;
            for (size_t v = 0; v < n; v++)
                if (!sat[v])
                    out->m[out->from_finer[v]] = w->m[v];
            size_t ne = 0;
            for (size_t e = 0; e < w->ne; e++) {
                uint32_t a = w->ea[e], b = w->eb[e];
                if (!sat[a] && !sat[b]) {
                    ke[ne] = (kedge){out->from_finer[a], out->from_finer[b], (uint32_t)ne, w->ew[e]};
                    ne++;
                }
            }
            for (uint32_t v = 0; v < n; v++) {
                if (!sat[v])
                    continue;
                double W = 0;
                for (uint32_t k = w->off[v]; k < w->off[v + 1]; k++)
                    W += w->adjw[k];
                for (uint32_t k = w->off[v]; k < w->off[v + 1]; k++) {
                    uint32_t a = out->from_finer[w->adj[k]];
                    out->m[a] += w->m[v] * w->adjw[k] / W;
                    for (uint32_t j = k + 1; j < w->off[v + 1]; j++) {
                        uint32_t b = out->from_finer[w->adj[j]];
                        if (a == b)
                            continue;
                        ke[ne] = (kedge){a, b, (uint32_t)ne, w->adjw[k] * w->adjw[j] / W};
                        ne++;
                    }
                }
            }
            for (size_t e = 0; e < ne; e++)
                if (ke[e].a > ke[e].b) {
                    uint32_t t = ke[e].a;
                    ke[e].a = ke[e].b, ke[e].b = t;
                }
            qsort(ke, ne, sizeof *ke, by_kedge);
            size_t merged = 0;
            for (size_t e = 0; e < ne; e++) {
                if (merged && out->ea[merged - 1] == ke[e].a && out->eb[merged - 1] == ke[e].b) {
                    out->ew[merged - 1] += ke[e].w;
                    continue;
                }
                out->ea[merged] = ke[e].a;
                out->eb[merged] = ke[e].b;
                out->ew[merged] = ke[e].w;
                merged++;
            }
            out->n = kept;
            out->ne = merged;
            return 1;
        }
        if (c.overflow)
            return -1;
        out->bytes = c.used + 64;
        out->block = xmalloc(out->bytes);
        if (!out->block)
            return -1;
        c = (carver){.base = (char *)(((uintptr_t)out->block + 63) & ~(uintptr_t)63)};
    }
    return -1;
}

/* Positions for the level in w (adjacency built) from the coarser one:
 * kept nodes where their coarse node is, satellites at the weighted mean
 * of their neighbours, a little apart. */
static void prolong(ws *w, const level *coarse, double kr, uint64_t seed)
{
    const uint32_t *up = coarse->from_finer;
    double len = 0;
    for (size_t e = 0; e < coarse->ne; e++)
        len += len2d(coarse->x[coarse->ea[e]] - coarse->x[coarse->eb[e]],
                     coarse->y[coarse->ea[e]] - coarse->y[coarse->eb[e]]);
    len = coarse->ne ? len / (double)coarse->ne : 1.0;
    for (size_t v = 0; v < w->n; v++)
        if (up[v] != NONE) {
            w->x[v] = coarse->x[up[v]];
            w->y[v] = coarse->y[up[v]];
        }
    for (uint32_t v = 0; v < w->n; v++) {
        if (up[v] != NONE)
            continue;
        double sx = 0, sy = 0, W = 0, mm = 0;
        for (uint32_t k = w->off[v]; k < w->off[v + 1]; k++) {
            uint32_t u = w->adj[k];
            sx += w->adjw[k] * w->x[u];
            sy += w->adjw[k] * w->y[u];
            mm += w->adjw[k] * w->m[u];
            W += w->adjw[k];
        }
        /* About where one edge would balance the pair's repulsion. */
        double r = mind(0.5 * len, sqrt(kr * w->m[v] * (mm / W) / W));
        double a = TWO_PI * hash_unit(seed, v, 12);
        r *= 0.5 + 0.5 * hash_unit(seed, v, 13);
        w->x[v] = sx / W + r * cos(a);
        w->y[v] = sy / W + r * sin(a);
    }
}

/* ---- the run ------------------------------------------------------------------------ */

static void bounds(const ws *w, double *x0, double *y0, double *x1, double *y1)
{
    *x0 = *y0 = INFINITY;
    *x1 = *y1 = -INFINITY;
    for (size_t i = 0; i < w->n; i++) {
        *x0 = mind(*x0, w->x[i]), *x1 = maxd(*x1, w->x[i]);
        *y0 = mind(*y0, w->y[i]), *y1 = maxd(*y1, w->y[i]);
    }
}

/* Fits the layout into [-box, box]^2, centred, keeping its aspect. */
static void normalize(ws *w, double box)
{
    double x0, y0, x1, y1;
    bounds(w, &x0, &y0, &x1, &y1);
    double cx = 0.5 * (x0 + x1), cy = 0.5 * (y0 + y1);
    double half = 0.5 * maxd(x1 - x0, y1 - y0);
    double k = half > 0 ? box / half : 0;
    for (size_t i = 0; i < w->n; i++) {
        w->x[i] = clampd((w->x[i] - cx) * k, -box, box);
        w->y[i] = clampd((w->y[i] - cy) * k, -box, box);
    }
}

/* Separates coincident points and puts the layout at its energy's scale. */
static double settle_start(ws *w, uint64_t seed)
{
    double x0, y0, x1, y1;
    bounds(w, &x0, &y0, &x1, &y1);
    separate(w, maxd(maxd(x1 - x0, y1 - y0), 1e-300) * 1e-7, 0, seed);
    double s = fit_scale(w);
    for (size_t i = 0; i < w->n; i++)
        w->x[i] *= s, w->y[i] *= s;
    return s;
}

static int cancelled(const ws *w) { return w->cancel && atomic_load_explicit(w->cancel, memory_order_relaxed); }

static void run_iterations(ws *w, int iters, anchor *an, size_t *max_cells)
{
    memset(w->ofx, 0, w->n * sizeof *w->ofx);
    memset(w->ofy, 0, w->n * sizeof *w->ofy);
    stepper sp = {1.0, 1.0};
    for (int it = 0; it < iters && !cancelled(w); it++) {
        iterate(w, &sp, an);
        if (w->ncells > *max_cells)
            *max_cells = w->ncells;
    }
}

/* What layout_run and layout_place share: the checked input, a workspace
 * over it and level 0 (the caller's graph, valid edges only, FA2 masses). */
typedef struct run {
    ws w;
    carver c;
    level lv0;
    void *block;
    size_t bytes, npos;
    double box;
    int threads;
} run;

/* Returns 0 when r is ready, 1 when there is nothing to lay out (n <= 1,
 * already handled), -1 on invalid input or allocation failure (x and y
 * untouched). */
static int run_start(run *r, size_t n, const layout_edge *edges, size_t nedges, const double *mass,
                     const unsigned char *has_pos, double *x, double *y, const layout_params *p)
{
    memset(r, 0, sizeof *r);
    if (n == 0)
        return 1;
    if (!x || !y || (nedges && !edges) || n > MAX_NODES || nedges > MAX_EDGES)
        return -1;
    for (size_t e = 0; e < nedges; e++)
        if (edges[e].a >= n || edges[e].b >= n)
            return -1;
    r->box = isfinite(p->box) && p->box > 0 ? p->box : 1000.0;
    if (has_pos)
        for (size_t i = 0; i < n; i++)
            r->npos += has_pos[i] && isfinite(x[i]) && isfinite(y[i]);
    if (n == 1) {
        if (!r->npos)
            x[0] = y[0] = 0;
        x[0] = clampd(x[0], -r->box, r->box);
        y[0] = clampd(y[0], -r->box, r->box);
        return 1;
    }

    r->threads = clamp_threads(p->threads);
    ws *w = &r->w;
    plan(&r->c, w, n, nedges, r->threads);
    if (r->c.overflow)
        return -1;
    r->block = xmalloc(r->c.used + 64);
    if (!r->block)
        return -1;
    r->c = (carver){.base = (char *)(((uintptr_t)r->block + 63) & ~(uintptr_t)63)};
    memset(w, 0, sizeof *w);
    plan(&r->c, w, n, nedges, r->threads);
    r->bytes = r->c.used + 64;

    w->nthreads = r->threads;
    w->cancel = p->cancel;
    w->kr = isfinite(p->scaling) && p->scaling > 0 ? p->scaling : 2.0;
    w->kg = isfinite(p->gravity) && p->gravity >= 0 ? p->gravity : 1.0;
    double theta = isfinite(p->theta) && p->theta > 0 ? p->theta : 1.0;
    w->theta2 = theta * theta;

    r->lv0 = (level){.n = n, .x = x, .y = y, .m = w->m, .ea = w->ea, .eb = w->eb, .ew = w->ew};
    uint32_t *deg = w->depth;
    memset(deg, 0, n * sizeof *deg);
    for (size_t e = 0; e < nedges; e++) {
        const layout_edge *E = &edges[e];
        if (E->a == E->b || !(E->weight > 0) || !isfinite(E->weight))
            continue;
        w->ea[r->lv0.ne] = E->a;
        w->eb[r->lv0.ne] = E->b;
        w->ew[r->lv0.ne] = E->weight;
        r->lv0.ne++;
        deg[E->a]++, deg[E->b]++;
    }
    for (size_t i = 0; i < n; i++) {
        double s = mass && isfinite(mass[i]) && mass[i] > 0 ? mass[i] : 1.0;
        w->m[i] = (1.0 + deg[i]) * s;
    }
    use_level(w, &r->lv0);
    return 0;
}

/* Previous positions: flags them in w.anchored (also depth, for
 * place_incremental) and places the other nodes next to them. */
static unsigned char *start_from_previous(ws *w, const unsigned char *has_pos, uint64_t seed)
{
    unsigned char *placed = w->anchored;
    for (size_t i = 0; i < w->n; i++) {
        placed[i] = has_pos[i] && isfinite(w->x[i]) && isfinite(w->y[i]);
        w->depth[i] = placed[i];
        w->parent[i] = NONE;
    }
    build_adjacency(w);
    rank_by_mass(w);
    place_incremental(w, placed, seed);
    return placed;
}

int layout_place(size_t n, const layout_edge *edges, size_t nedges, const double *mass, const unsigned char *has_pos,
                 double *x, double *y, const layout_params *p)
{
    layout_params defaults;
    if (!p) {
        layout_default_params(&defaults);
        p = &defaults;
    }
    run r;
    int rc = run_start(&r, n, edges, nedges, mass, has_pos, x, y, p);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    if (r.npos == 0) {
        build_adjacency(&r.w);
        rank_by_mass(&r.w);
        place_radial(&r.w, p->seed);
        normalize(&r.w, FILL * r.box);
    } else {
        start_from_previous(&r.w, has_pos, p->seed);
        for (size_t i = 0; i < n; i++)
            x[i] = clampd(x[i], -r.box, r.box), y[i] = clampd(y[i], -r.box, r.box);
    }
    separate(&r.w, r.box * 1e-9, r.box, p->seed);
    free(r.block);
    return 0;
}

int layout_run(size_t n, const layout_edge *edges, size_t nedges, const double *mass, const unsigned char *has_pos,
               double *x, double *y, const layout_params *p, layout_stats *st)
{
    layout_params defaults;
    if (!p) {
        layout_default_params(&defaults);
        p = &defaults;
    }
    if (st)
        *st = (layout_stats){0};
    run r;
    int rc = run_start(&r, n, edges, nedges, mass, has_pos, x, y, p);
    if (rc < 0)
        return -1;
    if (rc > 0) {
        if (st && n == 1)
            *st = (layout_stats){.refined = r.npos > 0, .positioned = r.npos, .levels = 1};
        return 0;
    }
    ws *w = &r.w;
    double box = r.box;
    size_t npos = r.npos, bytes = r.bytes;
    void *block = r.block;
    level lv[MAX_LEVELS];
    memset(lv, 0, sizeof lv);
    lv[0] = r.lv0;

    int refine = npos > 0 && (double)npos >= p->refine_share * (double)n;
    int nlev = 1, iters;
    size_t max_cells = 0, released = 0;
    double ox = 0, oy = 0, scale = 1;
    if (npos == 0) {
        /* Coarsen first (the only step that can fail), then lay out from the
         * coarsest level down. x and y are untouched until this succeeds. */
        for (; nlev < MAX_LEVELS; nlev++) {
            build_adjacency(w);
            int c = coarsen(w, &lv[nlev], p->seed + (uint64_t)nlev, lv[0].ne);
            if (c < 0) {
                for (int l = 1; l <= nlev; l++)
                    free(lv[l].block);
                free(block);
                return -1;
            }
            if (c == 0)
                break;
            use_level(w, &lv[nlev]);
            bytes += lv[nlev].bytes;
        }
        build_adjacency(w);
        rank_by_mass(w);
        place_radial(w, p->seed);
        settle_start(w, p->seed);
        iters = nlev > 1            ? auto_iterations(w->n, ITER_COARSEST)
                : p->iterations > 0 ? p->iterations
                                    : auto_iterations(n, ITER_FULL);
        run_iterations(w, iters, NULL, &max_cells);
        for (int l = nlev - 2; l >= 0; l--) {
            use_level(w, &lv[l]);
            build_adjacency(w);
            prolong(w, &lv[l + 1], w->kr, p->seed);
            settle_start(w, p->seed);
            iters = l > 0               ? auto_iterations(w->n, ITER_LEVEL)
                    : p->iterations > 0 ? p->iterations
                                        : auto_iterations(n, ITER_LEVEL);
            run_iterations(w, iters, NULL, &max_cells);
        }
        for (int l = 1; l < nlev; l++)
            free(lv[l].block);
    } else {
        /* Start from the previous positions, in a frame centred on where
         * gravity pulled the run that made them, at their energy's scale. */
        unsigned char *placed = start_from_previous(w, has_pos, p->seed);
        weighted_median(w, placed, &ox, &oy);
        for (size_t i = 0; i < n; i++)
            x[i] -= ox, y[i] -= oy;
        scale = settle_start(w, p->seed);
        iters = refine ? p->refine_iterations : p->iterations;
        if (iters <= 0)
            iters = auto_iterations(n, refine ? ITER_REFINE : ITER_FULL);
        for (size_t i = 0; i < n; i++)
            w->ax[i] = x[i], w->ay[i] = y[i];
        anchor an = {w->ax, w->ay, placed, ANCHOR, 0, 0};
        run_iterations(w, iters, refine ? &an : NULL, &max_cells);
        released = an.released;
    }

    if (cancelled(w)) {
        free(block);
        return LAYOUT_CANCELLED;
    }
    if (refine) {
        /* Back into the caller's frame; shrink only if the map outgrew the box. */
        double x0, y0, x1, y1, big = 0;
        for (size_t i = 0; i < n; i++) {
            x[i] = x[i] / scale + ox;
            y[i] = y[i] / scale + oy;
        }
        bounds(w, &x0, &y0, &x1, &y1);
        big = maxd(maxd(fabs(x0), fabs(x1)), maxd(fabs(y0), fabs(y1)));
        if (big > box) {
            for (size_t i = 0; i < n; i++)
                x[i] *= box / big, y[i] *= box / big;
        } else if (big < 0.5 * box) {
            normalize(w, FILL * box);
        }
        for (size_t i = 0; i < n; i++)
            x[i] = clampd(x[i], -box, box), y[i] = clampd(y[i], -box, box);
    } else {
        normalize(w, FILL * box);
    }
    separate(w, box * 1e-9, box, p->seed);

    if (st)
        *st = (layout_stats){iters, refine, npos, released, (size_t)nlev, max_cells, bytes};
    free(block);
    return 0;
}
