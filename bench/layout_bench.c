/*
 * layout_bench.c — times the map layout and the snapshot rebuild after one
 * edit, on a dataset file, and prints one JSON object (bench/run folds it
 * into bench/results.json).
 *
 *   build/layout_bench DATASET.json [--runs N] [--database-url URL]
 *
 * What it measures, each N times (median reported, every run kept):
 *
 *   full      graph_layout_compute(s, NULL) on a snapshot of the whole
 *             dataset: the layout from scratch (first start, no saved layout).
 *   rebuild   what the server does after a committed edit (src/server/app.c):
 *               1. synchronously: copy the current snapshot's layout and
 *                  graph_build_laid_out() the edited dataset with it, then
 *                  render the explorer page into it (pages_attach);
 *               2. in the layout thread: graph_layout_compute() refining
 *                  from those positions (only the new node lacks one);
 *               3. republish the same data with the new layout
 *                  (dataset copy, graph_build_laid_out, pages_attach).
 *             Two edits: a new leaf genre under an intermediate, and a new
 *             band in a leaf genre. "rebuild_ms" is 1 + 2 (the target of
 *             issue 4); "until_laid_out_ms" adds 3, the time until visitors
 *             get the positioned map.
 *   stability the distance every node of the old map moved in the refined
 *             layout (mean, p99, max; the map spans [-box, box]), and how
 *             far the new node landed from the node it was attached to.
 *   load      with --database-url, store_load() of the whole map: the part
 *             of step 1 that reads the database (not in "rebuild_ms").
 *
 * Times are wall clock (CLOCK_MONOTONIC) and process CPU time (all threads;
 * the layout uses one thread per core, so CPU above wall means both cores
 * worked); on a busy machine the CPU time is the steadier figure.
 * Progress goes to stderr; exit 1 with a message on any failure.
 */
#include "api/pages.h"
#include "domain/codec.h"
#include "graph/layout.h"
#include "graph/positions.h"
#include "graph/snapshot.h"
#include "store/store.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_RUNS 15

typedef struct clock_pair {
    double wall, cpu; /* seconds */
} clock_pair;

static clock_pair clock_now(void)
{
    struct timespec w, c;
    clock_gettime(CLOCK_MONOTONIC, &w);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c);
    return (clock_pair){(double)w.tv_sec + (double)w.tv_nsec / 1e9, (double)c.tv_sec + (double)c.tv_nsec / 1e9};
}

/* Milliseconds from a to b, wall and CPU. */
static clock_pair ms_between(clock_pair a, clock_pair b)
{
    return (clock_pair){(b.wall - a.wall) * 1000, (b.cpu - a.cpu) * 1000};
}

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "layout_bench: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
    double s[MAX_RUNS];
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* A series of timings: wall and CPU per run. */
typedef struct series {
    double wall[MAX_RUNS], cpu[MAX_RUNS];
    int n;
} series;

static void series_add(series *s, clock_pair ms)
{
    s->wall[s->n] = ms.wall;
    s->cpu[s->n] = ms.cpu;
    s->n++;
}

/* "name":{"median_ms":…,"median_cpu_ms":…,"runs_ms":[…],"runs_cpu_ms":[…]} */
static void print_series(const char *name, const series *s, int comma)
{
    printf("    \"%s\": {\"median_ms\": %.1f, \"median_cpu_ms\": %.1f, \"runs_ms\": [", name, median(s->wall, s->n),
           median(s->cpu, s->n));
    for (int i = 0; i < s->n; i++)
        printf("%s%.1f", i ? ", " : "", s->wall[i]);
    printf("], \"runs_cpu_ms\": [");
    for (int i = 0; i < s->n; i++)
        printf("%s%.1f", i ? ", " : "", s->cpu[i]);
    printf("]}%s\n", comma ? "," : "");
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot open %s", path);
    size_t cap = 1 << 20, n = 0;
    char *data = malloc(cap);
    size_t got;
    while (data && (got = fread(data + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *grown = realloc(data, cap *= 2);
            if (!grown)
                free(data);
            data = grown;
        }
    }
    if (!data || ferror(f))
        die("cannot read %s", path);
    fclose(f);
    *len = n;
    return data;
}

static void copy_dataset(dataset *dst, const dataset *src)
{
    if (dataset_copy(dst, src) != 0)
        die("out of memory copying the dataset");
}

static char *xstrdup(const char *s)
{
    char *c = strdup(s);
    if (!c)
        die("out of memory");
    return c;
}

static char **one_id(const char *id)
{
    char **v = malloc(sizeof *v);
    if (!v)
        die("out of memory");
    v[0] = xstrdup(id);
    return v;
}

/* The edits. Each appends one entity attached to `anchor` and returns its
 * kind ('g' or 'b') and id. The anchor is an existing intermediate genre
 * (new leaf) or leaf genre (new band). */
#define NEW_GENRE_ID "bench-new-leaf-genre"
#define NEW_BAND_ID  "bench-new-band"

static void add_leaf_genre(dataset *d, const char *parent)
{
    genre *g = dataset_add_genre(d);
    if (!g)
        die("out of memory");
    g->id = xstrdup(NEW_GENRE_ID);
    g->name = xstrdup("Bench New Leaf Genre");
    g->type = GENRE_LEAF;
    g->parent = xstrdup(parent);
    g->parents = one_id(parent);
    g->nparents = 1;
}

static void add_band(dataset *d, const char *leaf)
{
    band *b = dataset_add_band(d);
    if (!b)
        die("out of memory");
    b->id = xstrdup(NEW_BAND_ID);
    b->name = xstrdup("Bench New Band");
    b->primary_genre = xstrdup(leaf);
    b->genres = one_id(leaf);
    b->ngenres = 1;
}

/* Distances moved by the nodes of `before` (genres and bands of d) between
 * the two layouts. */
typedef struct movement {
    double mean, p99, max, mean_genres;
    size_t nodes, missing;
} movement;

static movement measure_movement(const dataset *d, const graph_layout *before, const graph_layout *after)
{
    size_t n = d->ngenres + d->nbands, k = 0;
    double *dist = malloc((n ? n : 1) * sizeof *dist), sum = 0, sum_genres = 0;
    movement m = {0};
    if (!dist)
        die("out of memory");
    for (size_t i = 0; i < n; i++) {
        int is_genre = i < d->ngenres;
        const char *id = is_genre ? d->genres[i].id : d->bands[i - d->ngenres].id;
        double x0, y0, x1, y1;
        if (!graph_layout_get(before, is_genre ? 'g' : 'b', id, &x0, &y0) ||
            !graph_layout_get(after, is_genre ? 'g' : 'b', id, &x1, &y1)) {
            m.missing++;
            continue;
        }
        dist[k] = hypot(x1 - x0, y1 - y0);
        sum += dist[k];
        if (is_genre)
            sum_genres += dist[k];
        k++;
    }
    if (k) {
        qsort(dist, k, sizeof *dist, cmp_double);
        m.mean = sum / (double)k;
        m.mean_genres = d->ngenres ? sum_genres / (double)d->ngenres : 0;
        m.p99 = dist[(size_t)((double)(k - 1) * 0.99)];
        m.max = dist[k - 1];
    }
    m.nodes = k;
    free(dist);
    return m;
}

/* Median length of the primary-parent edges of genres in a layout: the
 * yardstick for "the new node landed next to its neighbour". */
static double median_parent_edge(const dataset *d, const graph_layout *l)
{
    double *len = malloc((d->ngenres ? d->ngenres : 1) * sizeof *len), x0, y0, x1, y1, r = 0;
    size_t k = 0;
    if (!len)
        die("out of memory");
    for (size_t i = 0; i < d->ngenres; i++)
        if (d->genres[i].parent && graph_layout_get(l, 'g', d->genres[i].id, &x0, &y0) &&
            graph_layout_get(l, 'g', d->genres[i].parent, &x1, &y1))
            len[k++] = hypot(x1 - x0, y1 - y0);
    if (k) {
        qsort(len, k, sizeof *len, cmp_double);
        r = len[k / 2];
    }
    free(len);
    return r;
}

static int same_layout(const dataset *d, const graph_layout *a, const graph_layout *b)
{
    movement m = measure_movement(d, a, b);
    return m.missing == 0 && m.max == 0;
}

static void attach_page(graph_snapshot *s)
{
    if (pages_attach(s) != 0)
        die("rendering the explorer page failed");
}

typedef struct scenario {
    const char *name, *what;
    char kind; /* of the new node */
    const char *new_id, *anchor;
    series build, layout, republish, rebuild, until_laid_out;
    movement moved;
    double new_node_to_anchor;
} scenario;

/* One rebuild after an edit, as src/server/app.c does it, from snapshot cur. */
static void run_rebuild(scenario *sc, const dataset *base, const graph_snapshot *cur, int keep_stats)
{
    char err[512];
    dataset d;
    copy_dataset(&d, base);
    if (sc->kind == 'g')
        add_leaf_genre(&d, sc->anchor);
    else
        add_band(&d, sc->anchor);

    /* 1. The synchronous rebuild (rebuild_locked + publish). */
    clock_pair t0 = clock_now();
    graph_layout *known = graph_layout_copy(graph_layout_of(cur));
    if (!known)
        die("out of memory copying the layout");
    graph_snapshot *s1 = graph_build_laid_out(&d, 2, known, err, sizeof err);
    if (!s1)
        die("graph_build_laid_out: %s", err);
    attach_page(s1);
    clock_pair t1 = clock_now();

    /* 2. The layout thread: refine from the known positions. */
    graph_layout *refined = graph_layout_compute(s1, graph_layout_of(s1), NULL, err, sizeof err);
    if (!refined)
        die("graph_layout_compute (refine): %s", err);
    clock_pair t2 = clock_now();

    /* 3. Republish the same data with the positions. */
    dataset again;
    copy_dataset(&again, graph_dataset(s1));
    graph_snapshot *s2 = graph_build_laid_out(&again, 2, refined, err, sizeof err);
    if (!s2)
        die("graph_build_laid_out (republish): %s", err);
    attach_page(s2);
    clock_pair t3 = clock_now();

    clock_pair build = ms_between(t0, t1), layout = ms_between(t1, t2), republish = ms_between(t2, t3);
    series_add(&sc->build, build);
    series_add(&sc->layout, layout);
    series_add(&sc->republish, republish);
    series_add(&sc->rebuild, (clock_pair){build.wall + layout.wall, build.cpu + layout.cpu});
    series_add(&sc->until_laid_out, ms_between(t0, t3));

    const graph_layout *after = graph_layout_of(s2);
    if (!graph_layout_covers(after, graph_dataset(s2)))
        die("the refined layout does not cover the edited dataset");
    if (keep_stats) {
        sc->moved = measure_movement(base, graph_layout_of(cur), after);
        double x0, y0, x1, y1;
        if (graph_layout_get(after, sc->kind, sc->new_id, &x0, &y0) &&
            graph_layout_get(after, 'g', sc->anchor, &x1, &y1))
            sc->new_node_to_anchor = hypot(x1 - x0, y1 - y0);
    }
    fprintf(stderr, "layout_bench:   %s: build %.0f ms, refine %.0f ms, republish %.0f ms\n", sc->name, build.wall,
            layout.wall, republish.wall);
    graph_release(s1);
    graph_release(s2);
}

static void print_scenario(const scenario *sc, double box, int comma)
{
    printf("  \"%s\": {\n", sc->name);
    printf("    \"edit\": \"%s\", \"new_node\": \"%c:%s\", \"anchor\": \"g:%s\",\n", sc->what, sc->kind, sc->new_id,
           sc->anchor);
    print_series("build_ms", &sc->build, 1);
    print_series("layout_ms", &sc->layout, 1);
    print_series("republish_ms", &sc->republish, 1);
    print_series("rebuild_ms", &sc->rebuild, 1);
    print_series("until_laid_out_ms", &sc->until_laid_out, 1);
    printf("    \"displacement\": {\"nodes\": %zu, \"missing\": %zu, \"mean\": %.3f, \"mean_genres\": %.3f, "
           "\"p99\": %.3f, \"max\": %.3f, \"mean_share_of_side\": %.6f, \"box\": %.0f},\n",
           sc->moved.nodes, sc->moved.missing, sc->moved.mean, sc->moved.mean_genres, sc->moved.p99, sc->moved.max,
           sc->moved.mean / (2 * box), box);
    printf("    \"new_node_to_anchor\": %.3f\n", sc->new_node_to_anchor);
    printf("  }%s\n", comma ? "," : "");
}

int main(int argc, char **argv)
{
    const char *path = NULL, *url = NULL;
    int runs = 3;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--database-url") == 0 && i + 1 < argc)
            url = argv[++i];
        else if (argv[i][0] != '-' && !path)
            path = argv[i];
        else
            die("usage: layout_bench DATASET.json [--runs N] [--database-url URL]");
    }
    if (!path)
        die("usage: layout_bench DATASET.json [--runs N] [--database-url URL]");
    if (runs < 1 || runs > MAX_RUNS)
        die("--runs must be 1 to 15");

    char err[512];
    if (pages_init(err, sizeof err) != 0)
        die("%s", err);
    layout_params defaults;
    layout_default_params(&defaults);

    /* The dataset. */
    size_t len;
    char *json = read_file(path, &len);
    dataset base = {0};
    domain_errors errs = {0};
    clock_pair t0 = clock_now();
    if (codec_parse_dataset(json, len, &base, &errs) != 0) {
        domain_errors_first(&errs, err, sizeof err);
        die("the dataset does not parse: %s", err);
    }
    double parse_ms = ms_between(t0, clock_now()).wall;
    free(json);
    domain_errors_free(&errs);
    size_t nedges = 0;
    for (size_t i = 0; i < base.ngenres; i++)
        nedges += base.genres[i].nparents + base.genres[i].nlinks;
    for (size_t i = 0; i < base.nbands; i++)
        nedges += base.bands[i].ngenres;
    fprintf(stderr, "layout_bench: %zu genres, %zu bands, %zu edges\n", base.ngenres, base.nbands, nedges);

    /* Reading the map from the database (optional). */
    series load = {0};
    for (int r = 0; url && r < runs; r++) {
        store *st;
        if (store_open(url, &st, err, sizeof err) != 0)
            die("%s", err);
        dataset d;
        clock_pair a = clock_now();
        if (store_load(st, &d, NULL, err, sizeof err) != 0)
            die("store_load: %s", err);
        series_add(&load, ms_between(a, clock_now()));
        dataset_free(&d);
        store_close(st);
    }

    /* Full layouts from scratch; the first is kept as the current map. */
    series snapshot = {0}, full = {0};
    graph_layout *first = NULL;
    int deterministic = 1;
    for (int r = 0; r < runs; r++) {
        dataset d;
        copy_dataset(&d, &base);
        clock_pair a = clock_now();
        graph_snapshot *s = graph_build(&d, 1, err, sizeof err);
        if (!s)
            die("graph_build: %s", err);
        clock_pair b = clock_now();
        graph_layout *l = graph_layout_compute(s, NULL, NULL, err, sizeof err);
        if (!l)
            die("graph_layout_compute: %s", err);
        clock_pair c = clock_now();
        series_add(&snapshot, ms_between(a, b));
        series_add(&full, ms_between(b, c));
        fprintf(stderr, "layout_bench: full layout %d/%d: %.0f ms (snapshot build %.0f ms)\n", r + 1, runs,
                ms_between(b, c).wall, ms_between(a, b).wall);
        if (!graph_layout_covers(l, graph_dataset(s)))
            die("the layout does not cover the dataset");
        if (!first)
            first = l;
        else {
            deterministic &= same_layout(&base, first, l);
            graph_layout_free(l);
        }
        graph_release(s);
    }

    /* The current snapshot, laid out; then the edits. */
    dataset d;
    copy_dataset(&d, &base);
    graph_snapshot *cur = graph_build_laid_out(&d, 1, first, err, sizeof err);
    if (!cur)
        die("graph_build_laid_out: %s", err);
    const char *inter = NULL, *leaf = NULL;
    for (size_t i = 0; i < base.ngenres; i++) {
        if (!inter && base.genres[i].type == GENRE_INTERMEDIATE)
            inter = base.genres[i].id;
        if (!leaf && base.genres[i].type == GENRE_LEAF)
            leaf = base.genres[i].id;
    }
    if (!inter || !leaf)
        die("the dataset needs an intermediate and a leaf genre");
    scenario scenarios[] = {
        {.name = "new_genre",
         .what = "a new leaf genre with one parent",
         .kind = 'g',
         .new_id = NEW_GENRE_ID,
         .anchor = inter},
        {.name = "new_band",
         .what = "a new band in one leaf genre",
         .kind = 'b',
         .new_id = NEW_BAND_ID,
         .anchor = leaf},
    };
    size_t nscen = sizeof scenarios / sizeof *scenarios;
    for (size_t k = 0; k < nscen; k++)
        for (int r = 0; r < runs; r++)
            run_rebuild(&scenarios[k], &base, cur, r == 0);

    /* The report. */
    printf("{\n");
    printf("  \"dataset\": {\"genres\": %zu, \"bands\": %zu, \"edges\": %zu, \"parse_ms\": %.1f},\n", base.ngenres,
           base.nbands, nedges, parse_ms);
    printf("  \"runs\": %d,\n", runs);
    printf("  \"deterministic\": %s,\n", deterministic ? "true" : "false");
    printf("  \"median_parent_edge\": %.3f,\n", median_parent_edge(&base, graph_layout_of(cur)));
    printf("  \"full\": {\n");
    if (url)
        print_series("store_load_ms", &load, 1);
    print_series("snapshot_build_ms", &snapshot, 1);
    print_series("layout_ms", &full, 0);
    printf("  },\n");
    for (size_t k = 0; k < nscen; k++)
        print_scenario(&scenarios[k], defaults.box, k + 1 < nscen);
    printf("}\n");

    graph_release(cur);
    dataset_free(&base);
    return 0;
}
