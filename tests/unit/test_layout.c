/*
 * test_layout.c — the graph layout (src/graph/layout.c).
 *
 * Graphs are generated with a seeded xorshift: "forests" of clusters (each
 * a random tree, as genre families are) tied by a few weak influence links,
 * the shape the map has. Every quality bound below is a measured value with
 * a margin (docs/layout.md has the numbers), so a regression in the
 * physics fails a test rather than only looking worse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "graph/layout.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BOX 1000.0

typedef struct graph {
    size_t n, ne;
    layout_edge *e;
    uint32_t *cluster;
} graph;

static uint64_t rng_state;

static uint32_t rnd(uint32_t bound)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % bound);
}

/* clusters trees of size nodes each, plus cross weak links (weight 0.3). */
static graph forest(size_t clusters, size_t size, size_t cross, uint64_t seed)
{
    graph g = {clusters * size, 0, NULL, NULL};
    rng_state = seed;
    g.e = calloc(g.n + cross + 1, sizeof *g.e);
    g.cluster = calloc(g.n, sizeof *g.cluster);
    assert_non_null(g.e);
    assert_non_null(g.cluster);
    for (size_t i = 0; i < g.n; i++) {
        size_t c = i / size, k = i % size;
        g.cluster[i] = (uint32_t)c;
        if (k)
            g.e[g.ne++] = (layout_edge){(uint32_t)i, (uint32_t)(c * size + rnd((uint32_t)k)), 1.0f};
    }
    while (cross-- > 0) {
        uint32_t a = rnd((uint32_t)g.n), b = rnd((uint32_t)g.n);
        if (g.cluster[a] != g.cluster[b])
            g.e[g.ne++] = (layout_edge){a, b, 0.3f};
    }
    return g;
}

static void graph_free(graph *g)
{
    free(g->e);
    free(g->cluster);
}

static void run_ok(const graph *g, const unsigned char *has, double *x, double *y, const layout_params *p,
                   layout_stats *st)
{
    assert_int_equal(layout_run(g->n, g->e, g->ne, NULL, has, x, y, p, st), 0);
}

/* Every coordinate finite and inside the box. */
static void assert_in_box(size_t n, const double *x, const double *y, double box)
{
    for (size_t i = 0; i < n; i++) {
        assert_true(isfinite(x[i]) && isfinite(y[i]));
        assert_true(fabs(x[i]) <= box && fabs(y[i]) <= box);
    }
}

static double min_pair_distance(size_t n, const double *x, const double *y)
{
    double best = INFINITY;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            best = fmin(best, hypot(x[i] - x[j], y[i] - y[j]));
    return best;
}

static void test_empty_and_single(void **state)
{
    (void)state;
    layout_stats st;
    assert_int_equal(layout_run(0, NULL, 0, NULL, NULL, NULL, NULL, NULL, &st), 0);
    assert_int_equal(st.iterations, 0);

    double x = 123, y = -45;
    assert_int_equal(layout_run(1, NULL, 0, NULL, NULL, &x, &y, NULL, &st), 0);
    assert_true(x == 0 && y == 0);

    /* A single node keeps a previous position (inside the box). */
    unsigned char has = 1;
    x = 300, y = -2000;
    assert_int_equal(layout_run(1, NULL, 0, NULL, &has, &x, &y, NULL, &st), 0);
    assert_true(x == 300 && y == -BOX);
    assert_int_equal(st.refined, 1);
}

static void test_two_nodes_and_no_edges(void **state)
{
    (void)state;
    layout_edge e = {0, 1, 1.0f};
    double x[2], y[2];
    assert_int_equal(layout_run(2, &e, 1, NULL, NULL, x, y, NULL, NULL), 0);
    assert_in_box(2, x, y, BOX);
    assert_true(hypot(x[0] - x[1], y[0] - y[1]) > 100);

    /* Isolated nodes: gravity against repulsion, all distinct, all inside. */
    double xs[50], ys[50];
    assert_int_equal(layout_run(50, NULL, 0, NULL, NULL, xs, ys, NULL, NULL), 0);
    assert_in_box(50, xs, ys, BOX);
    assert_true(min_pair_distance(50, xs, ys) > 1.0);
}

static void test_deterministic(void **state)
{
    (void)state;
    graph g = forest(12, 20, 30, 7);
    double *x1 = malloc(g.n * sizeof *x1), *y1 = malloc(g.n * sizeof *y1);
    double *x2 = malloc(g.n * sizeof *x2), *y2 = malloc(g.n * sizeof *y2);
    layout_params p;
    layout_default_params(&p);
    run_ok(&g, NULL, x1, y1, &p, NULL);
    run_ok(&g, NULL, x2, y2, &p, NULL);
    assert_memory_equal(x1, x2, g.n * sizeof *x1);
    assert_memory_equal(y1, y2, g.n * sizeof *y1);

    /* Threads change the time, never the bits. */
    p.threads = 3;
    run_ok(&g, NULL, x2, y2, &p, NULL);
    assert_memory_equal(x1, x2, g.n * sizeof *x1);
    assert_memory_equal(y1, y2, g.n * sizeof *y1);

    /* Refine mode too, from the same previous positions. */
    unsigned char *has = malloc(g.n);
    memset(has, 1, g.n);
    p.threads = 1;
    memcpy(x2, x1, g.n * sizeof *x1);
    memcpy(y2, y1, g.n * sizeof *y1);
    run_ok(&g, has, x1, y1, &p, NULL);
    p.threads = 2;
    run_ok(&g, has, x2, y2, &p, NULL);
    assert_memory_equal(x1, x2, g.n * sizeof *x1);
    assert_memory_equal(y1, y2, g.n * sizeof *y1);

    /* The seed is the only source of variation. */
    p.seed ^= 1;
    double *x3 = malloc(g.n * sizeof *x3), *y3 = malloc(g.n * sizeof *y3);
    run_ok(&g, NULL, x3, y3, &p, NULL);
    run_ok(&g, NULL, x2, y2, NULL, NULL);
    assert_true(memcmp(x2, x3, g.n * sizeof *x2) != 0);
    free(x1), free(y1), free(x2), free(y2), free(x3), free(y3), free(has);
    graph_free(&g);
}

static void test_finite_distinct_in_box(void **state)
{
    (void)state;
    graph g = forest(12, 30, 30, 11);
    double *x = malloc(g.n * sizeof *x), *y = malloc(g.n * sizeof *y);
    layout_stats st;
    run_ok(&g, NULL, x, y, NULL, &st);
    assert_in_box(g.n, x, y, BOX);
    assert_true(min_pair_distance(g.n, x, y) > 0.01);
    /* A full run uses the box: the longer side spans 90% of it. */
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (size_t i = 0; i < g.n; i++)
        x0 = fmin(x0, x[i]), x1 = fmax(x1, x[i]), y0 = fmin(y0, y[i]), y1 = fmax(y1, y[i]);
    assert_true(fmax(x1 - x0, y1 - y0) > 1.79 * BOX);
    assert_true(st.levels >= 2); /* the trees' leaves are peeled off first */
    assert_true(st.iterations > 0);
    free(x), free(y);
    graph_free(&g);
}

/* Everything that could make a NaN or stack points: all previous positions
 * on one point, non-finite positions, useless weights and masses, duplicate
 * edges and self-loops. */
static void test_hostile_input(void **state)
{
    (void)state;
    enum { N = 300 };
    graph g = forest(10, 30, 20, 3);
    layout_edge *e = calloc(g.ne + 40, sizeof *e);
    memcpy(e, g.e, g.ne * sizeof *e);
    size_t ne = g.ne;
    for (uint32_t i = 0; i < 10; i++) {
        e[ne++] = (layout_edge){i, i, 1.0f};            /* self-loop */
        e[ne++] = (layout_edge){i, i + 1, NAN};         /* ignored */
        e[ne++] = (layout_edge){i, i + 2, -1.0f};       /* ignored */
        e[ne++] = (layout_edge){i + 30, i + 31, 1e30f}; /* huge */
    }
    double mass[N], x[N], y[N];
    unsigned char has[N];
    for (size_t i = 0; i < N; i++) {
        mass[i] = i % 7 == 0 ? NAN : i % 5 == 0 ? -3 : i % 3 == 0 ? 0 : 1e6;
        x[i] = 5, y[i] = 5;
        has[i] = 1;
    }
    x[3] = NAN, y[4] = INFINITY;
    assert_int_equal(layout_run(N, e, ne, mass, has, x, y, NULL, NULL), 0);
    assert_in_box(N, x, y, BOX);
    assert_true(min_pair_distance(N, x, y) > 0);

    /* Same without previous positions. */
    assert_int_equal(layout_run(N, e, ne, mass, NULL, x, y, NULL, NULL), 0);
    assert_in_box(N, x, y, BOX);
    assert_true(min_pair_distance(N, x, y) > 0);
    free(e);
    graph_free(&g);
}

/* Connected nodes end nearer than unconnected ones, and clusters hold
 * together. Measured: mean edge / mean pair 0.043, within / between 0.13. */
static void test_connected_nearer(void **state)
{
    (void)state;
    graph g = forest(20, 25, 40, 5);
    double *x = malloc(g.n * sizeof *x), *y = malloc(g.n * sizeof *y);
    run_ok(&g, NULL, x, y, NULL, NULL);

    double edge = 0;
    for (size_t k = 0; k < g.ne; k++)
        edge += hypot(x[g.e[k].a] - x[g.e[k].b], y[g.e[k].a] - y[g.e[k].b]);
    edge /= (double)g.ne;
    double within = 0, between = 0, all = 0;
    size_t nw = 0, nb = 0;
    for (size_t i = 0; i < g.n; i++)
        for (size_t j = i + 1; j < g.n; j++) {
            double d = hypot(x[i] - x[j], y[i] - y[j]);
            if (g.cluster[i] == g.cluster[j])
                within += d, nw++;
            else
                between += d, nb++;
            all += d;
        }
    all /= (double)(nw + nb); /* nearly all pairs are unconnected */
    within /= (double)nw;
    between /= (double)nb;
    print_message("mean edge %.1f, mean pair %.1f (ratio %.3f); within cluster %.1f, between %.1f\n", edge, all,
                  edge / all, within, between);
    assert_true(edge < 0.1 * all);
    assert_true(within < 0.3 * between);
    free(x), free(y);
    graph_free(&g);
}

/* Components with no link between them stay in the box, all visible. */
static void test_disconnected_components(void **state)
{
    (void)state;
    graph g = forest(8, 25, 0, 9); /* no cross links: 8 components */
    size_t n = g.n + 2;            /* and two isolated nodes */
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    assert_int_equal(layout_run(n, g.e, g.ne, NULL, NULL, x, y, NULL, NULL), 0);
    assert_in_box(n, x, y, BOX);
    assert_true(min_pair_distance(n, x, y) > 1.0);
    /* Each 25-node family keeps a visible extent, not a dot (measured
     * 120-250 of the 2000 side). */
    for (uint32_t c = 0; c < 8; c++) {
        double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
        for (size_t i = c * 25; i < (c + 1) * 25; i++)
            x0 = fmin(x0, x[i]), x1 = fmax(x1, x[i]), y0 = fmin(y0, y[i]), y1 = fmax(y1, y[i]);
        assert_true(fmax(x1 - x0, y1 - y0) > 0.04 * 2 * BOX);
    }
    free(x), free(y);
    graph_free(&g);
}

/* A family hanging on one weak link (as "easy listening" on the real map)
 * is not flung far off, which would squeeze the rest of the map into a
 * corner of the box. Measured: the main map spans 95% of the fitted side
 * and the straggler's hub is 230 from it; without the straggler pull
 * (plain FA2 gravity) 81% and 436. */
static void test_straggler(void **state)
{
    (void)state;
    graph g = forest(30, 25, 220, 19);
    size_t n = g.n + 9;
    layout_edge *e = calloc(g.ne + 9, sizeof *e);
    memcpy(e, g.e, g.ne * sizeof *e);
    size_t ne = g.ne;
    for (uint32_t k = 1; k < 9; k++)
        e[ne++] = (layout_edge){(uint32_t)g.n, (uint32_t)g.n + k, 1.0f};
    e[ne++] = (layout_edge){(uint32_t)g.n + 1, 0, 0.3f};
    double mass[30 * 25 + 9];
    for (size_t i = 0; i < n; i++)
        mass[i] = i % 25 == 0 || i == g.n ? 3 : 1; /* roots heavier */
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    assert_int_equal(layout_run(n, e, ne, mass, NULL, x, y, NULL, NULL), 0);
    assert_in_box(n, x, y, BOX);
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (size_t i = 0; i < g.n; i++)
        x0 = fmin(x0, x[i]), x1 = fmax(x1, x[i]), y0 = fmin(y0, y[i]), y1 = fmax(y1, y[i]);
    double span = fmax(x1 - x0, y1 - y0), gap = INFINITY;
    for (size_t i = 0; i < g.n; i++)
        gap = fmin(gap, hypot(x[i] - x[g.n], y[i] - y[g.n]));
    print_message("main map spans %.0f of the %.0f fitted side; the straggler's hub is %.0f "
                  "from it\n",
                  span, 2 * 0.9 * BOX, gap);
    assert_true(span > 0.9 * 2 * 0.9 * BOX);
    assert_true(gap < 300);
    free(x), free(y), free(e);
    graph_free(&g);
}

static double mean_displacement(size_t n, const double *x0, const double *y0, const double *x, const double *y,
                                size_t skip_a, size_t skip_b)
{
    double d = 0;
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (i != skip_a && i != skip_b)
            d += hypot(x[i] - x0[i], y[i] - y0[i]), c++;
    return d / (double)c;
}

/* A small edit must not reshuffle the map. Measured on this 500-node graph:
 * with nothing changed nodes move 0.1 (of a 2000 side); a link joining two
 * far families moves the 18 others 5.5 on average (0.28% of the side). */
static void test_refine_one_edge(void **state)
{
    (void)state;
    graph g = forest(20, 25, 20, 21);
    size_t n = g.n;
    double *x0 = malloc(n * sizeof *x0), *y0 = malloc(n * sizeof *y0);
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    unsigned char *has = malloc(n);
    layout_stats st;
    run_ok(&g, NULL, x0, y0, NULL, &st);
    int full_iterations = st.iterations;

    /* Nothing changed: almost nothing moves. */
    memset(has, 1, n);
    memcpy(x, x0, n * sizeof *x), memcpy(y, y0, n * sizeof *y);
    run_ok(&g, has, x, y, NULL, &st);
    assert_int_equal(st.refined, 1);
    assert_int_equal(st.positioned, n);
    double still = mean_displacement(n, x0, y0, x, y, n, n);
    assert_true(still < 1.0);

    /* A new parent link across the map for node 3. */
    uint32_t a = 3, b = (uint32_t)n - 3;
    double before = hypot(x0[a] - x0[b], y0[a] - y0[b]);
    g.e[g.ne++] = (layout_edge){a, b, 1.0f};
    memcpy(x, x0, n * sizeof *x), memcpy(y, y0, n * sizeof *y);
    run_ok(&g, has, x, y, NULL, &st);
    assert_in_box(n, x, y, BOX);
    /* The two families the link joins move towards each other; the 18
     * others stay. */
    double moved = 0, joined = 0;
    for (size_t i = 0; i < n; i++) {
        double d = hypot(x[i] - x0[i], y[i] - y0[i]);
        if (g.cluster[i] == g.cluster[a] || g.cluster[i] == g.cluster[b])
            joined += d;
        else
            moved += d;
    }
    moved /= (double)(n - 50);
    joined /= 50.0;
    double after = hypot(x[a] - x[b], y[a] - y[b]);
    print_message("refine: %d iterations (full run %d); unchanged map moved %.2f; after one edge "
                  "the other families moved %.2f (%.3f%% of the box side), the joined ones %.1f; "
                  "the edge went %.0f -> %.0f\n",
                  st.iterations, full_iterations, still, moved, 100 * moved / (2 * BOX), joined, before, after);
    assert_true(moved < 0.005 * 2 * BOX);
    assert_true(after < 0.6 * before); /* the edit itself shows */
    assert_true(st.iterations < full_iterations);
    assert_true(min_pair_distance(n, x, y) > 0);
    free(x0), free(y0), free(x), free(y), free(has);
    graph_free(&g);
}

/* A new node starts by its neighbour and the map stays put. */
static void test_refine_new_node(void **state)
{
    (void)state;
    graph g = forest(20, 25, 20, 33);
    size_t n = g.n + 1;
    double *x0 = malloc(n * sizeof *x0), *y0 = malloc(n * sizeof *y0);
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    unsigned char *has = malloc(n);
    run_ok(&g, NULL, x0, y0, NULL, NULL);
    double edge = 0;
    for (size_t k = 0; k < g.ne; k++)
        edge += hypot(x0[g.e[k].a] - x0[g.e[k].b], y0[g.e[k].a] - y0[g.e[k].b]);
    edge /= (double)g.ne;

    g.e[g.ne++] = (layout_edge){(uint32_t)g.n, 40, 1.0f};
    g.n = n;
    memset(has, 1, n);
    has[n - 1] = 0;
    memcpy(x, x0, (n - 1) * sizeof *x), memcpy(y, y0, (n - 1) * sizeof *y);
    x[n - 1] = NAN, y[n - 1] = NAN; /* ignored: has_pos says no position */
    layout_stats st;
    run_ok(&g, has, x, y, NULL, &st);
    assert_int_equal(st.refined, 1);
    assert_int_equal(st.positioned, n - 1);
    assert_in_box(n, x, y, BOX);
    assert_true(hypot(x[n - 1] - x[40], y[n - 1] - y[40]) < 3 * edge);
    assert_true(mean_displacement(n - 1, x0, y0, x, y, n, n) < 0.005 * 2 * BOX);

    /* An isolated newcomer goes round the map, and stays in the box. */
    double *x2 = malloc((n + 1) * sizeof *x2), *y2 = malloc((n + 1) * sizeof *y2);
    unsigned char *has2 = malloc(n + 1);
    memcpy(x2, x, n * sizeof *x), memcpy(y2, y, n * sizeof *y);
    memset(has2, 1, n + 1);
    has2[n] = 0;
    assert_int_equal(layout_run(n + 1, g.e, g.ne, NULL, has2, x2, y2, NULL, NULL), 0);
    assert_in_box(n + 1, x2, y2, BOX);
    assert_true(min_pair_distance(n + 1, x2, y2) > 0);
    free(x0), free(y0), free(x), free(y), free(has), free(x2), free(y2), free(has2);
    graph_free(&g);
}

/* Few known positions: a full run that starts from them. */
static void test_partial_positions(void **state)
{
    (void)state;
    graph g = forest(10, 20, 10, 41);
    double *x = malloc(g.n * sizeof *x), *y = malloc(g.n * sizeof *y);
    unsigned char *has = calloc(g.n, 1);
    for (size_t i = 0; i < g.n; i += 10)
        has[i] = 1, x[i] = (double)i, y[i] = -(double)i;
    layout_stats st;
    run_ok(&g, has, x, y, NULL, &st);
    assert_int_equal(st.refined, 0);
    assert_int_equal(st.positioned, g.n / 10);
    assert_in_box(g.n, x, y, BOX);
    assert_true(min_pair_distance(g.n, x, y) > 0);
    free(x), free(y), free(has);
    graph_free(&g);
}

static void test_invalid_input(void **state)
{
    (void)state;
    layout_edge bad = {0, 5, 1.0f};
    double x[3] = {1, 2, 3}, y[3] = {4, 5, 6};
    assert_int_equal(layout_run(3, &bad, 1, NULL, NULL, x, y, NULL, NULL), -1);
    assert_true(x[0] == 1 && x[2] == 3 && y[1] == 5); /* untouched */
    assert_int_equal(layout_run(3, NULL, 1, NULL, NULL, x, y, NULL, NULL), -1);
    assert_int_equal(layout_run(3, NULL, 0, NULL, NULL, NULL, y, NULL, NULL), -1);
    assert_int_equal(layout_run((size_t)UINT32_MAX + 1, NULL, 0, NULL, NULL, x, y, NULL, NULL), -1);

    /* Parameters out of range fall back to the defaults. */
    layout_params p;
    layout_default_params(&p);
    p.theta = NAN, p.gravity = -1, p.scaling = 0, p.box = -5, p.threads = 1000;
    layout_edge e[2] = {{0, 1, 1.0f}, {1, 2, 1.0f}};
    assert_int_equal(layout_run(3, e, 2, NULL, NULL, x, y, &p, NULL), 0);
    assert_in_box(3, x, y, BOX);
}

/* One block, linear in nodes and edges; no overflow. Measured: about 400
 * bytes a node and 40 an edge, plus the coarser levels of a full run. */
static void test_allocation_sizes(void **state)
{
    (void)state;
    size_t b1 = layout_workspace_bytes(1000, 2000, 1);
    size_t b2 = layout_workspace_bytes(2000, 4000, 1);
    assert_true(b1 > 1000 * 100);
    assert_true(b1 < 1000 * 512 + 2000 * 64 + 8192);
    assert_true(b2 < 2 * b1 + 8192 && b2 > 2 * b1 - 8192);
    assert_true(layout_workspace_bytes(1000, 2000, 2) > b1); /* one list per thread */
    assert_true(layout_workspace_bytes(1000, 2000, 2) < b1 + 1000 * 128);
    assert_int_equal(layout_workspace_bytes((size_t)UINT32_MAX, 0, 1), SIZE_MAX);
    assert_int_equal(layout_workspace_bytes(10, SIZE_MAX / 8, 1), SIZE_MAX);

    graph g = forest(20, 30, 40, 13);
    double *x = malloc(g.n * sizeof *x), *y = malloc(g.n * sizeof *y);
    layout_stats st;
    run_ok(&g, NULL, x, y, NULL, &st);
    size_t main_block = layout_workspace_bytes(g.n, g.ne, 1);
    print_message("%zu nodes, %zu edges: %zu bytes in the main block, %zu in all (%zu levels), "
                  "largest tree %zu cells\n",
                  g.n, g.ne, main_block, st.workspace_bytes, st.levels, st.tree_nodes);
    assert_true(st.workspace_bytes >= main_block);
    assert_true(st.workspace_bytes < 2 * main_block);
    assert_true(st.tree_nodes < 2 * g.n);
    free(x), free(y);
    graph_free(&g);
}

/* A band-like periphery: many degree-1..3 nodes hanging on a core, as the
 * bench's 20,000 bands hang on 2,220 genres. They end by their genres. */
static void test_satellites_by_their_genres(void **state)
{
    (void)state;
    graph g = forest(10, 20, 10, 17); /* 200 genres */
    size_t bands = 600, n = g.n + bands;
    layout_edge *e = calloc(g.ne + 3 * bands, sizeof *e);
    memcpy(e, g.e, g.ne * sizeof *e);
    size_t ne = g.ne;
    uint32_t *first = malloc(bands * sizeof *first);
    for (size_t b = 0; b < bands; b++) {
        uint32_t id = (uint32_t)(g.n + b), genre = rnd((uint32_t)g.n);
        first[b] = genre;
        e[ne++] = (layout_edge){id, genre, 1.0f};
        if (rnd(3) == 0) /* a second genre of the same family */
            e[ne++] = (layout_edge){id, (uint32_t)(genre / 20 * 20 + rnd(20)), 1.0f};
    }
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    layout_stats st;
    assert_int_equal(layout_run(n, e, ne, NULL, NULL, x, y, NULL, &st), 0);
    assert_in_box(n, x, y, BOX);
    assert_true(st.levels >= 2);
    double to_genre = 0, to_random = 0;
    for (size_t b = 0; b < bands; b++) {
        size_t i = g.n + b, r = rnd((uint32_t)n);
        to_genre += hypot(x[i] - x[first[b]], y[i] - y[first[b]]);
        to_random += hypot(x[i] - x[r], y[i] - y[r]);
    }
    print_message("band to its genre %.1f, to a random node %.1f\n", to_genre / (double)bands,
                  to_random / (double)bands);
    assert_true(to_genre < 0.05 * to_random); /* measured 0.008 */
    free(x), free(y), free(e), free(first);
    graph_free(&g);
}

/* Placement only: known nodes stay exactly where they were, new ones land
 * by their neighbours; with nothing known every node still gets a distinct
 * point in the box; the same input gives the same output. */
static void test_place_without_iterating(void **state)
{
    (void)state;
    graph g = forest(6, 30, 8, 77);
    size_t n = g.n;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    double *x2 = malloc(n * sizeof *x), *y2 = malloc(n * sizeof *y);
    assert_int_equal(layout_place(n, g.e, g.ne, NULL, NULL, x, y, NULL), 0);
    assert_in_box(n, x, y, BOX);
    assert_true(min_pair_distance(n, x, y) > 0);
    assert_int_equal(layout_place(n, g.e, g.ne, NULL, NULL, x2, y2, NULL), 0);
    assert_memory_equal(x, x2, n * sizeof *x);
    assert_memory_equal(y, y2, n * sizeof *y);

    /* A laid-out map and one newcomer (node n) tied to node 40. */
    run_ok(&g, NULL, x, y, NULL, NULL);
    double edge = 0;
    for (size_t k = 0; k < g.ne; k++)
        edge += hypot(x[g.e[k].a] - x[g.e[k].b], y[g.e[k].a] - y[g.e[k].b]);
    edge /= (double)g.ne;
    double *x3 = malloc((n + 1) * sizeof *x3), *y3 = malloc((n + 1) * sizeof *y3);
    unsigned char *has3 = malloc(n + 1);
    memcpy(x3, x, n * sizeof *x), memcpy(y3, y, n * sizeof *y);
    memset(has3, 1, n);
    has3[n] = 0;
    layout_edge *e = malloc((g.ne + 1) * sizeof *e);
    memcpy(e, g.e, g.ne * sizeof *e);
    e[g.ne] = (layout_edge){(uint32_t)n, 40, 1.0f};
    assert_int_equal(layout_place(n + 1, e, g.ne + 1, NULL, has3, x3, y3, NULL), 0);
    assert_memory_equal(x, x3, n * sizeof *x); /* known nodes untouched */
    assert_memory_equal(y, y3, n * sizeof *y);
    assert_true(hypot(x3[n] - x3[40], y3[n] - y3[40]) < edge);
    assert_in_box(n + 1, x3, y3, BOX);
    assert_true(min_pair_distance(n + 1, x3, y3) > 0);

    assert_int_equal(layout_place(3, &(layout_edge){0, 7, 1.0f}, 1, NULL, NULL, x, y, NULL), -1);
    free(x), free(y), free(x2), free(y2), free(x3), free(y3), free(has3), free(e);
    graph_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_and_single),        cmocka_unit_test(test_two_nodes_and_no_edges),
        cmocka_unit_test(test_deterministic),           cmocka_unit_test(test_finite_distinct_in_box),
        cmocka_unit_test(test_hostile_input),           cmocka_unit_test(test_connected_nearer),
        cmocka_unit_test(test_disconnected_components), cmocka_unit_test(test_straggler),
        cmocka_unit_test(test_refine_one_edge),         cmocka_unit_test(test_refine_new_node),
        cmocka_unit_test(test_partial_positions),       cmocka_unit_test(test_invalid_input),
        cmocka_unit_test(test_allocation_sizes),        cmocka_unit_test(test_satellites_by_their_genres),
        cmocka_unit_test(test_place_without_iterating),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
