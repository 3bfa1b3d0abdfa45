/*
 * positions.c — layouts keyed by id: computing, copying, saving (see positions.h).
 */
#include "graph/positions.h"
#include "core/xalloc.h"

#include "core/buf.h"
#include "core/fs.h"
#include "core/strmap.h"
#include "graph/layout.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct position {
    char *key; /* "g:id" or "b:id" */
    double x, y;
    int provisional; /* placed by graph_layout_fill, not laid out yet */
} position;

struct graph_layout {
    position *items;
    size_t count, cap;
    strmap index; /* key -> item */
};

static graph_layout *layout_new(size_t capacity)
{
    graph_layout *l = xcalloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->items = xcalloc(capacity ? capacity : 1, sizeof *l->items);
    l->cap = capacity ? capacity : 1;
    if (!l->items || strmap_init(&l->index, capacity) != 0) {
        free(l->items);
        free(l);
        return NULL;
    }
    return l;
}

static int layout_put(graph_layout *l, char kind, const char *id, double x, double y, int provisional)
{
    size_t len = strlen(id);
    char *key = xmalloc(len + 3);
    if (!key)
        return -1;
    key[0] = kind;
    key[1] = ':';
    memcpy(key + 2, id, len + 1);
    size_t at;
    if (strmap_get(&l->index, key, &at)) {
        l->items[at].x = x;
        l->items[at].y = y;
        l->items[at].provisional = provisional;
        free(key);
        return 0;
    }
    if (l->count == l->cap) {
        position *grown = xrealloc(l->items, l->cap * 2 * sizeof *grown);
        if (!grown) {
            free(key);
            return -1;
        }
        l->items = grown;
        l->cap *= 2;
    }
    l->items[l->count] = (position){key, x, y, provisional};
    return strmap_put(&l->index, key, l->count++);
}

void graph_layout_free(graph_layout *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i].key);
    free(l->items);
    strmap_free(&l->index);
    free(l);
}

static const position *find(const graph_layout *l, char kind, const char *id)
{
    if (!l)
        return NULL;
    char key[64];
    snprintf(key, sizeof key, "%c:%s", kind, id);
    size_t at;
    return strmap_get(&l->index, key, &at) ? &l->items[at] : NULL;
}

int graph_layout_get(const graph_layout *l, char kind, const char *id, double *x, double *y)
{
    const position *p = find(l, kind, id);
    if (p)
        *x = p->x, *y = p->y;
    return p != NULL;
}

/* A position the layout computed (not a provisional one). */
static int laid_out(const graph_layout *l, char kind, const char *id, double *x, double *y)
{
    const position *p = find(l, kind, id);
    if (!p || p->provisional)
        return 0;
    *x = p->x, *y = p->y;
    return 1;
}

int graph_layout_covers(const graph_layout *l, const dataset *d)
{
    double x, y;
    for (size_t i = 0; i < d->ngenres; i++)
        if (!laid_out(l, 'g', d->genres[i].id, &x, &y))
            return 0;
    for (size_t i = 0; i < d->nbands; i++)
        if (!laid_out(l, 'b', d->bands[i].id, &x, &y))
            return 0;
    return 1;
}

graph_layout *graph_layout_copy(const graph_layout *src)
{
    graph_layout *l = layout_new(src->count);
    for (size_t i = 0; l && i < src->count; i++)
        if (layout_put(l, src->items[i].key[0], src->items[i].key + 2, src->items[i].x, src->items[i].y,
                       src->items[i].provisional) != 0) {
            graph_layout_free(l);
            return NULL;
        }
    return l;
}

/* Node masses: families are heavy so they spread out first. */
static double genre_mass(genre_type t) { return t == GENRE_ROOT ? 4.0 : t == GENRE_INTERMEDIATE ? 2.0 : 1.0; }

/* The layout's input for the nodes of s: genres first, then bands. */
typedef struct input {
    size_t ng, n, nedges;
    double *x, *y, *mass;
    unsigned char *has;
    layout_edge *edges;
} input;

static void input_free(input *in) { free(in->x), free(in->y), free(in->mass), free(in->has), free(in->edges); }

/* Fills in from s with the positions of previous: those the layout computed,
 * or with any_position also the provisional ones. */
static int input_build(input *in, const graph_snapshot *s, const graph_layout *previous, int any_position)
{
    int (*known)(const graph_layout *, char, const char *, double *, double *) =
        any_position ? graph_layout_get : laid_out;
    const dataset *d = graph_dataset(s);
    size_t ng = d->ngenres, nb = d->nbands, n = ng + nb, nedges = 0;
    for (size_t i = 0; i < ng; i++)
        nedges += d->genres[i].nparents + d->genres[i].nlinks;
    for (size_t i = 0; i < nb; i++)
        nedges += d->bands[i].ngenres;
    *in = (input){.ng = ng, .n = n};
    in->x = xcalloc(n ? n : 1, sizeof *in->x);
    in->y = xcalloc(n ? n : 1, sizeof *in->y);
    in->mass = xmalloc((n ? n : 1) * sizeof *in->mass);
    in->has = xcalloc(n ? n : 1, 1);
    in->edges = xmalloc((nedges ? nedges : 1) * sizeof *in->edges);
    if (!in->x || !in->y || !in->mass || !in->has || !in->edges) {
        input_free(in);
        return -1;
    }
    size_t e = 0, j;
    for (size_t i = 0; i < ng; i++) {
        const genre *g = &d->genres[i];
        in->mass[i] = genre_mass(g->type);
        in->has[i] = (unsigned char)known(previous, 'g', g->id, &in->x[i], &in->y[i]);
        for (size_t p = 0; p < g->nparents; p++)
            if (graph_find_genre(s, g->parents[p], &j))
                in->edges[e++] = (layout_edge){(uint32_t)i, (uint32_t)j, 1.0f};
        for (size_t l = 0; l < g->nlinks; l++)
            if (graph_find_genre(s, g->links[l].to, &j))
                in->edges[e++] = (layout_edge){(uint32_t)i, (uint32_t)j, 0.3f};
    }
    for (size_t i = 0; i < nb; i++) {
        const band *b = &d->bands[i];
        in->mass[ng + i] = 0.5;
        in->has[ng + i] = (unsigned char)known(previous, 'b', b->id, &in->x[ng + i], &in->y[ng + i]);
        for (size_t k = 0; k < b->ngenres; k++)
            if (graph_find_genre(s, b->genres[k], &j))
                in->edges[e++] = (layout_edge){(uint32_t)(ng + i), (uint32_t)j,
                                               strcmp(b->genres[k], b->primary_genre) == 0 ? 1.0f : 0.3f};
    }
    in->nedges = e;
    return 0;
}

/* Puts the result into l: every position as laid out, or (provisional) only
 * those of the nodes that had none. */
static int input_store(const input *in, const graph_snapshot *s, graph_layout *l, int provisional)
{
    const dataset *d = graph_dataset(s);
    for (size_t i = 0; i < in->n; i++) {
        if (provisional && in->has[i])
            continue; /* already in l, laid out */
        int is_genre = i < in->ng;
        const char *id = is_genre ? d->genres[i].id : d->bands[i - in->ng].id;
        /* Two decimals are plenty on a ±1000 map and keep the document small. */
        if (layout_put(l, is_genre ? 'g' : 'b', id, round(in->x[i] * 100) / 100, round(in->y[i] * 100) / 100,
                       provisional) != 0)
            return -1;
    }
    return 0;
}

graph_layout *graph_layout_compute(const graph_snapshot *s, const graph_layout *previous, const atomic_int *cancel,
                                   char *err, size_t errlen)
{
    input in;
    graph_layout *out = NULL;
    if (input_build(&in, s, previous, 0) != 0) {
        snprintf(err, errlen, "out of memory for the layout");
        return NULL;
    }
    layout_params params;
    layout_default_params(&params);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    params.threads = cores > 0 ? (int)(cores < 8 ? cores : 8) : 1;
    params.cancel = cancel;
    int rc = layout_run(in.n, in.edges, in.nedges, in.mass, in.has, in.x, in.y, &params, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "%s",
                 rc == LAYOUT_CANCELLED ? "the layout was cancelled" : "the layout failed (out of memory?)");
        goto done;
    }
    out = layout_new(in.n);
    if (out && input_store(&in, s, out, 0) != 0) {
        graph_layout_free(out);
        out = NULL;
    }
    if (!out)
        snprintf(err, errlen, "out of memory for the layout");
done:
    input_free(&in);
    return out;
}

int graph_layout_fill(graph_layout **l, const graph_snapshot *s)
{
    const dataset *d = graph_dataset(s);
    size_t missing = 0;
    double x, y;
    for (size_t i = 0; i < d->ngenres; i++)
        missing += !graph_layout_get(*l, 'g', d->genres[i].id, &x, &y);
    for (size_t i = 0; i < d->nbands; i++)
        missing += !graph_layout_get(*l, 'b', d->bands[i].id, &x, &y);
    if (!missing)
        return 0;
    if (!*l && !(*l = layout_new(d->ngenres + d->nbands)))
        return -1;
    input in;
    if (input_build(&in, s, *l, 1) != 0)
        return -1;
    layout_params params;
    layout_default_params(&params);
    int rc = layout_place(in.n, in.edges, in.nedges, in.mass, in.has, in.x, in.y, &params);
    if (rc == 0)
        rc = input_store(&in, s, *l, 1);
    input_free(&in);
    return rc;
}

int graph_layout_save(const graph_layout *l, const char *path, char *err, size_t errlen)
{
    buf out = BUF_INIT;
    buf_printf(&out, "musicgraph-layout %d\n", LAYOUT_VERSION);
    for (size_t i = 0; i < l->count; i++)
        if (!l->items[i].provisional)
            buf_printf(&out, "%c\t%s\t%.2f\t%.2f\n", l->items[i].key[0], l->items[i].key + 2, l->items[i].x,
                       l->items[i].y);
    int rc = -1;
    if (buf_failed(&out))
        snprintf(err, errlen, "out of memory writing %s", path);
    else
        rc = fs_write_atomic(path, out.data, out.len, 0640, err, errlen);
    buf_free(&out);
    return rc;
}

graph_layout *graph_layout_load(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char line[256];
    graph_layout *l = NULL;
    /* Positions from another version of the algorithm are dropped: refining
     * keeps known positions, so old ones would never be improved. */
    char header[64];
    snprintf(header, sizeof header, "musicgraph-layout %d\n", LAYOUT_VERSION);
    if (fgets(line, sizeof line, f) && strcmp(line, header) == 0)
        l = layout_new(1024);
    while (l && fgets(line, sizeof line, f)) {
        /* "k<TAB>id<TAB>x<TAB>y"; a damaged line only costs that node's position. */
        char kind = line[0], *id = line + 2, *end;
        char *tab = kind && line[1] == '\t' ? strchr(id, '\t') : NULL;
        if (!tab || (kind != 'g' && kind != 'b'))
            continue;
        *tab = '\0';
        double x = strtod(tab + 1, &end), y = *end == '\t' ? strtod(end + 1, &end) : NAN;
        if (!isfinite(x) || !isfinite(y))
            continue;
        if (layout_put(l, kind, id, x, y, 0) != 0)
            break;
    }
    fclose(f);
    return l;
}
