/*
 * explore.c — paths between genres, related genres, similar bands.
 *
 * The genre graph for exploration is undirected: a parent link can be walked
 * up (to the parent) or down (to a child), an influence link forwards or
 * backwards, and each step keeps the relation it used. Neighbour lists are
 * sorted by name when the snapshot is built so every answer is
 * deterministic. Band similarity weights each shared genre by how rare it
 * is (an inverse document frequency over bands), so two bands sharing a
 * small leaf genre rank above two bands that only share a broad one.
 */
#include "graph/explore.h"
#include "core/xalloc.h"
#include "graph/internal.h"

#include "core/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const relation_names[] = {"parent", "child", "influenced", "influenced_by"};

static int by_rank(const void *a, const void *b, void *ctx)
{
    const size_t *rank = ctx;
    const graph_adjacent *x = a, *y = b;
    if (rank[x->genre] != rank[y->genre])
        return rank[x->genre] < rank[y->genre] ? -1 : 1;
    return (int)x->relation - (int)y->relation;
}

int graph_build_explore(graph_snapshot *s)
{
    const dataset *d = &s->data;
    size_t n = d->ngenres;
    size_t *count = xcalloc(n + 1, sizeof *count);
    size_t *rank = xmalloc((n ? n : 1) * sizeof *rank);
    s->adj_off = xcalloc(n + 1, sizeof *s->adj_off);
    s->genre_weight = xmalloc((n ? n : 1) * sizeof *s->genre_weight);
    if (!count || !rank || !s->adj_off || !s->genre_weight) {
        free(count), free(rank);
        return -1;
    }
    for (size_t k = 0; k < n; k++)
        rank[s->genres_by_name[k]] = k;
    /* Each parent and link edge appears in both endpoints' lists. */
    size_t total = 0, j;
    for (size_t i = 0; i < n; i++) {
        const genre *g = &d->genres[i];
        for (size_t p = 0; p < g->nparents; p++)
            if (strmap_get(&s->genre_index, g->parents[p], &j))
                count[i]++, count[j]++, total += 2;
        for (size_t l = 0; l < g->nlinks; l++)
            if (strmap_get(&s->genre_index, g->links[l].to, &j))
                count[i]++, count[j]++, total += 2;
    }
    for (size_t i = 0; i < n; i++)
        s->adj_off[i + 1] = s->adj_off[i] + count[i];
    s->adj = xmalloc((total ? total : 1) * sizeof *s->adj);
    if (!s->adj) {
        free(count), free(rank);
        return -1;
    }
    memset(count, 0, (n + 1) * sizeof *count);
    for (size_t i = 0; i < n; i++) {
        const genre *g = &d->genres[i];
        for (size_t p = 0; p < g->nparents; p++)
            if (strmap_get(&s->genre_index, g->parents[p], &j)) {
                s->adj[s->adj_off[i] + count[i]++] = (graph_adjacent){j, REL_PARENT};
                s->adj[s->adj_off[j] + count[j]++] = (graph_adjacent){i, REL_CHILD};
            }
        for (size_t l = 0; l < g->nlinks; l++)
            if (strmap_get(&s->genre_index, g->links[l].to, &j)) {
                s->adj[s->adj_off[i] + count[i]++] = (graph_adjacent){j, REL_INFLUENCED};
                s->adj[s->adj_off[j] + count[j]++] = (graph_adjacent){i, REL_INFLUENCED_BY};
            }
    }
    for (size_t i = 0; i < n; i++)
        qsort_r(s->adj + s->adj_off[i], s->adj_off[i + 1] - s->adj_off[i], sizeof *s->adj, by_rank, rank);
    for (size_t i = 0; i < n; i++) {
        size_t bands_with = s->band_off[i + 1] - s->band_off[i];
        s->genre_weight[i] = log((1.0 + (double)d->nbands) / (1.0 + (double)bands_with));
    }
    free(count);
    s->genre_rank = rank;
    s->band_weight = xcalloc(d->nbands ? d->nbands : 1, sizeof *s->band_weight);
    if (!s->band_weight)
        return -1;
    for (size_t i = 0; i < d->nbands; i++)
        for (size_t k = 0; k < d->bands[i].ngenres; k++)
            if (strmap_get(&s->genre_index, d->bands[i].genres[k], &j))
                s->band_weight[i] += s->genre_weight[j];
    return 0;
}

void graph_free_explore(graph_snapshot *s)
{
    free(s->adj_off);
    free(s->adj);
    free(s->genre_weight);
    free(s->genre_rank);
    free(s->band_weight);
    s->genre_rank = NULL;
    s->band_weight = NULL;
    s->adj_off = NULL;
    s->adj = NULL;
    s->genre_weight = NULL;
}

static void genre_ref(json_writer *w, const graph_snapshot *s, size_t i)
{
    jw_object_begin(w);
    jw_key(w, "id");
    jw_string(w, s->data.genres[i].id);
    jw_key(w, "name");
    jw_string(w, s->data.genres[i].name);
    jw_object_end(w);
}

int graph_path(const graph_snapshot *s, const char *from_id, const char *to_id, buf *out)
{
    size_t from, to, n = s->data.ngenres;
    if (!graph_find_genre(s, from_id, &from) || !graph_find_genre(s, to_id, &to))
        return -1;
    /* Breadth-first search; prev[v] is the step that first reached v. */
    size_t *queue = xmalloc(n * sizeof *queue);
    graph_adjacent *prev = xmalloc(n * sizeof *prev);
    unsigned char *seen = xcalloc(n, 1);
    if (!queue || !prev || !seen) {
        free(queue), free(prev), free(seen);
        return -1;
    }
    size_t head = 0, tail = 0;
    queue[tail++] = from;
    seen[from] = 1;
    while (head < tail && !seen[to]) {
        size_t v = queue[head++];
        for (size_t k = s->adj_off[v]; k < s->adj_off[v + 1]; k++) {
            size_t w = s->adj[k].genre;
            if (seen[w])
                continue;
            seen[w] = 1;
            prev[w] = (graph_adjacent){v, s->adj[k].relation};
            queue[tail++] = w;
        }
    }
    json_writer w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "from");
    genre_ref(&w, s, from);
    jw_key(&w, "to");
    genre_ref(&w, s, to);
    jw_key(&w, "found");
    jw_bool(&w, seen[to]);
    jw_key(&w, "steps");
    jw_array_begin(&w);
    if (seen[to]) {
        /* Walk back from the target, then write the steps in order. */
        size_t len = 0;
        for (size_t v = to; v != from; v = prev[v].genre)
            queue[len++] = v;
        for (size_t k = len; k-- > 0;) {
            size_t v = queue[k];
            jw_object_begin(&w);
            jw_key(&w, "from");
            genre_ref(&w, s, prev[v].genre);
            jw_key(&w, "to");
            genre_ref(&w, s, v);
            jw_key(&w, "relation");
            jw_string(&w, relation_names[prev[v].relation]);
            jw_object_end(&w);
        }
    }
    jw_array_end(&w);
    jw_object_end(&w);
    free(queue), free(prev), free(seen);
    return 0;
}

typedef struct scored {
    size_t index;
    double score;
    unsigned relations; /* bit per graph_relation, plus bit 4: sibling */
} scored;

#define REL_SIBLING_BIT (1u << 4)

static int by_score(const void *a, const void *b, void *ctx)
{
    const size_t *rank = ctx;
    const scored *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return rank[x->index] < rank[y->index] ? -1 : rank[x->index] > rank[y->index];
}

/* The score entry of genre i, created on first use. */
static scored *candidate(size_t *slot, scored *cand, size_t *ncand, size_t i)
{
    if (!slot[i]) {
        cand[*ncand] = (scored){i, 0, 0};
        slot[i] = ++*ncand;
    }
    return &cand[slot[i] - 1];
}

int graph_related(const graph_snapshot *s, const char *id, size_t limit, buf *out)
{
    size_t g, n = s->data.ngenres;
    if (!graph_find_genre(s, id, &g))
        return -1;
    /* Only the genres around g are scored: slot[i] is 1 + its place in
     * cand, so a request costs its neighbourhood, not the whole map. */
    size_t *slot = xcalloc(n, sizeof *slot);
    scored *cand = xmalloc(n * sizeof *cand);
    size_t ncand = 0;
    if (!slot || !cand) {
        free(slot), free(cand);
        return -1;
    }
    static const double weight[] = {3.0, 2.5, 2.0, 2.0};
    const char *primary = s->data.genres[g].parent;
    for (size_t k = s->adj_off[g]; k < s->adj_off[g + 1]; k++) {
        const graph_adjacent *a = &s->adj[k];
        scored *c = candidate(slot, cand, &ncand, a->genre);
        c->score += weight[a->relation];
        if (a->relation == REL_PARENT && primary && strcmp(s->data.genres[a->genre].id, primary) == 0)
            c->score += 0.5;
        c->relations |= 1u << a->relation;
        /* Siblings: the other children of each parent. */
        if (a->relation != REL_PARENT)
            continue;
        size_t p = a->genre;
        for (size_t m = s->adj_off[p]; m < s->adj_off[p + 1]; m++)
            if (s->adj[m].relation == REL_CHILD && s->adj[m].genre != g) {
                scored *sib = candidate(slot, cand, &ncand, s->adj[m].genre);
                sib->score += 1.0;
                sib->relations |= REL_SIBLING_BIT;
            }
    }
    if (slot[g])
        cand[slot[g] - 1].score = 0; /* never itself (an influence loop back to g) */
    qsort_r(cand, ncand, sizeof *cand, by_score, s->genre_rank);
    scored *score = cand;
    n = ncand;
    json_writer w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "id");
    jw_string(&w, id);
    jw_key(&w, "related");
    jw_array_begin(&w);
    for (size_t k = 0; k < n && k < limit && score[k].score > 0; k++) {
        const genre *r = &s->data.genres[score[k].index];
        jw_object_begin(&w);
        jw_key(&w, "id");
        jw_string(&w, r->id);
        jw_key(&w, "name");
        jw_string(&w, r->name);
        jw_key(&w, "relations");
        jw_array_begin(&w);
        for (unsigned b = 0; b < 4; b++)
            if (score[k].relations & (1u << b))
                jw_string(&w, relation_names[b]);
        if (score[k].relations & REL_SIBLING_BIT)
            jw_string(&w, "sibling");
        jw_array_end(&w);
        jw_key(&w, "score");
        jw_double(&w, round(score[k].score * 1000) / 1000);
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_object_end(&w);
    free(slot), free(cand);
    return 0;
}

typedef struct band_score {
    size_t index;
    double score;
} band_score;

static int by_band_score(const void *a, const void *b, void *ctx)
{
    const graph_snapshot *s = ctx;
    const band_score *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return strcmp(s->data.bands[x->index].name, s->data.bands[y->index].name);
}

int graph_similar(const graph_snapshot *s, const char *id, size_t limit, buf *out)
{
    size_t bi, nb = s->data.nbands;
    if (!graph_find_band(s, id, &bi))
        return -1;
    const band *b = &s->data.bands[bi];
    double *acc = xcalloc(nb, sizeof *acc);
    size_t *touched = xmalloc(nb * sizeof *touched);
    band_score *found = xmalloc(nb * sizeof *found);
    if (!acc || !touched || !found) {
        free(acc), free(touched), free(found);
        return -1;
    }
    size_t ntouched = 0, g;
    for (size_t i = 0; i < b->ngenres; i++) {
        if (!graph_find_genre(s, b->genres[i], &g))
            continue;
        for (size_t k = s->band_off[g]; k < s->band_off[g + 1]; k++) {
            size_t c = s->band_idx[k];
            if (c == bi)
                continue;
            if (acc[c] == 0)
                touched[ntouched++] = c;
            acc[c] += s->genre_weight[g] > 0 ? s->genre_weight[g] : 1e-9;
        }
    }
    double wb = s->band_weight[bi];
    for (size_t k = 0; k < ntouched; k++) {
        size_t c = touched[k];
        double wc = s->band_weight[c];
        found[k] = (band_score){c, wb > 0 && wc > 0 ? acc[c] / sqrt(wb * wc) : 0};
    }
    qsort_r(found, ntouched, sizeof *found, by_band_score, (void *)s);
    json_writer w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "id");
    jw_string(&w, id);
    jw_key(&w, "similar");
    jw_array_begin(&w);
    for (size_t k = 0; k < ntouched && k < limit; k++) {
        const band *c = &s->data.bands[found[k].index];
        jw_object_begin(&w);
        jw_key(&w, "id");
        jw_string(&w, c->id);
        jw_key(&w, "name");
        jw_string(&w, c->name);
        jw_key(&w, "score");
        jw_double(&w, round(found[k].score * 1000) / 1000);
        jw_key(&w, "shared");
        jw_array_begin(&w);
        for (size_t i = 0; i < c->ngenres; i++)
            for (size_t j = 0; j < b->ngenres; j++)
                if (strcmp(c->genres[i], b->genres[j]) == 0)
                    jw_string(&w, c->genres[i]);
        jw_array_end(&w);
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_object_end(&w);
    free(acc), free(touched), free(found);
    return 0;
}
