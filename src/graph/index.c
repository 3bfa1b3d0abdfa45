/*
 * index.c — the lookups of a snapshot: ids, families, children and bands per
 * genre, name order (see index.h).
 */
#include "graph/internal.h"
#include "core/xalloc.h"

#include "core/text.h"

#include <stdlib.h>
#include <string.h>

/* Orders indexes by their folded names (computed once, not per comparison). */
static int by_sort_key(const void *a, const void *b, void *ctx)
{
    char **sort_keys = ctx;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = strcmp(sort_keys[x], sort_keys[y]);
    return c ? c : (x > y) - (x < y);
}

/* Returns indexes 0..n-1 ordered by folded name(i); rank[i] its position. */
static size_t *order_by_name(size_t n, const char *(*name)(const dataset *, size_t), const dataset *d, size_t *rank)
{
    size_t *order = xmalloc((n ? n : 1) * sizeof *order);
    char **keys = xcalloc(n ? n : 1, sizeof *keys);
    if (!order || !keys) {
        free(order);
        free(keys);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        buf k = BUF_INIT;
        text_fold(name(d, i), &k);
        keys[i] = buf_steal(&k, NULL);
        order[i] = i;
    }
    qsort_r(order, n, sizeof *order, by_sort_key, keys);
    for (size_t i = 0; i < n; i++) {
        rank[order[i]] = i;
        free(keys[i]);
    }
    free(keys);
    return order;
}

static const char *genre_name_at(const dataset *d, size_t i) { return d->genres[i].name; }

static const char *band_name_at(const dataset *d, size_t i) { return d->bands[i].name; }

/* Builds a CSR adjacency list from (from, to) pairs, each row sorted by rank of 'to'. */
static int by_rank(const void *a, const void *b, void *ctx)
{
    const size_t *rank = ctx;
    size_t x = rank[*(const size_t *)a], y = rank[*(const size_t *)b];
    return (x > y) - (x < y);
}

static int build_csr(size_t nrows, const size_t *from, const size_t *to, size_t npairs, size_t *rank, size_t **off_out,
                     size_t **idx_out)
{
    size_t *off = xcalloc(nrows + 1, sizeof *off);
    size_t *idx = xmalloc((npairs ? npairs : 1) * sizeof *idx);
    size_t *fill = xcalloc(nrows + 1, sizeof *fill);
    if (!off || !idx || !fill) {
        free(off), free(idx), free(fill);
        return -1;
    }
    for (size_t i = 0; i < npairs; i++)
        off[from[i] + 1]++;
    for (size_t i = 0; i < nrows; i++)
        off[i + 1] += off[i];
    for (size_t i = 0; i < npairs; i++)
        idx[off[from[i]] + fill[from[i]]++] = to[i];
    for (size_t i = 0; i < nrows; i++)
        qsort_r(idx + off[i], off[i + 1] - off[i], sizeof *idx, by_rank, rank);
    free(fill);
    *off_out = off;
    *idx_out = idx;
    return 0;
}

int graph_build_indexes(graph_snapshot *s)
{
    const dataset *d = &s->data;
    size_t ng = d->ngenres, nb = d->nbands;
    if (strmap_init(&s->genre_index, ng) != 0 || strmap_init(&s->band_index, nb) != 0)
        return -1;
    for (size_t i = 0; i < ng; i++)
        if (strmap_put(&s->genre_index, d->genres[i].id, i) != 0)
            return -1;
    for (size_t i = 0; i < nb; i++)
        if (strmap_put(&s->band_index, d->bands[i].id, i) != 0)
            return -1;
    if (strmap_init(&s->genre_former_index, 16) != 0 || strmap_init(&s->band_former_index, 16) != 0)
        return -1;
    for (size_t i = 0; i < ng; i++)
        for (size_t j = 0; j < d->genres[i].nformer_ids; j++)
            if (strmap_put(&s->genre_former_index, d->genres[i].former_ids[j], i) != 0)
                return -1;
    for (size_t i = 0; i < nb; i++)
        for (size_t j = 0; j < d->bands[i].nformer_ids; j++)
            if (strmap_put(&s->band_former_index, d->bands[i].former_ids[j], i) != 0)
                return -1;

    s->family = xmalloc((ng ? ng : 1) * sizeof *s->family);
    size_t *genre_rank = xmalloc((ng ? ng : 1) * sizeof *genre_rank);
    size_t *band_rank = xmalloc((nb ? nb : 1) * sizeof *band_rank);
    if (!s->family || !genre_rank || !band_rank)
        goto fail;
    for (size_t i = 0; i < ng; i++) {
        /* Follow primary parents to the root; the bound guards against a
         * cycle that slipped past the rules (the build must terminate). */
        size_t at = i, steps = 0, next;
        while (d->genres[at].parent && steps++ < ng && strmap_get(&s->genre_index, d->genres[at].parent, &next))
            at = next;
        s->family[i] = at;
    }
    s->genres_by_name = order_by_name(ng, genre_name_at, d, genre_rank);
    s->bands_by_name = order_by_name(nb, band_name_at, d, band_rank);
    if (!s->genres_by_name || !s->bands_by_name)
        goto fail;

    size_t npairs = 0, nbpairs = 0;
    for (size_t i = 0; i < ng; i++)
        npairs += d->genres[i].nparents;
    for (size_t i = 0; i < nb; i++)
        nbpairs += d->bands[i].ngenres;
    size_t *from = xmalloc((npairs + nbpairs + 1) * sizeof *from);
    size_t *to = xmalloc((npairs + nbpairs + 1) * sizeof *to);
    if (!from || !to) {
        free(from), free(to);
        goto fail;
    }
    size_t k = 0, p;
    for (size_t i = 0; i < ng; i++)
        for (size_t j = 0; j < d->genres[i].nparents; j++)
            if (strmap_get(&s->genre_index, d->genres[i].parents[j], &p))
                from[k] = p, to[k] = i, k++;
    int rc = build_csr(ng, from, to, k, genre_rank, &s->child_off, &s->child_idx);
    k = 0;
    for (size_t i = 0; i < nb; i++)
        for (size_t j = 0; j < d->bands[i].ngenres; j++)
            if (strmap_get(&s->genre_index, d->bands[i].genres[j], &p))
                from[k] = p, to[k] = i, k++;
    if (rc == 0)
        rc = build_csr(ng, from, to, k, band_rank, &s->band_off, &s->band_idx);
    free(from), free(to);
    free(genre_rank), free(band_rank);
    return rc;
fail:
    free(genre_rank), free(band_rank);
    return -1;
}

void graph_free_indexes(graph_snapshot *s)
{
    strmap_free(&s->genre_index);
    strmap_free(&s->band_index);
    strmap_free(&s->genre_former_index);
    strmap_free(&s->band_former_index);
    free(s->family);
    free(s->child_off), free(s->child_idx);
    free(s->band_off), free(s->band_idx);
    free(s->genres_by_name), free(s->bands_by_name);
    dataset_free(&s->data);
}

int64_t graph_version(const graph_snapshot *s) { return s->version; }

const dataset *graph_dataset(const graph_snapshot *s) { return &s->data; }

const char *graph_family(const graph_snapshot *s, size_t i) { return s->data.genres[s->family[i]].id; }

const size_t *graph_genres_by_name(const graph_snapshot *s) { return s->genres_by_name; }

int graph_find_genre(const graph_snapshot *s, const char *id, size_t *index)
{
    return strmap_get(&s->genre_index, id, index);
}

int graph_find_band(const graph_snapshot *s, const char *id, size_t *index)
{
    return strmap_get(&s->band_index, id, index);
}

int graph_find_former_genre(const graph_snapshot *s, const char *id, size_t *index)
{
    return strmap_get(&s->genre_former_index, id, index);
}

int graph_find_former_band(const graph_snapshot *s, const char *id, size_t *index)
{
    return strmap_get(&s->band_former_index, id, index);
}
