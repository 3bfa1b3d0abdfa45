/*
 * maprows.c — filing list rows under their owners, and the difference
 * between two maps as row writes (see maprows.h).
 */
#include "store/maprows.h"

#include "core/xalloc.h"

#include <string.h>

static int index_ids(strmap *m, size_t n, const char *(*id_at)(const dataset *, size_t), const dataset *d)
{
    if (strmap_init(m, n) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (strmap_put(m, id_at(d, i), i) != 0)
            return -1;
    return 0;
}
static const char *genre_id_at(const dataset *d, size_t i) { return d->genres[i].id; }
static const char *band_id_at(const dataset *d, size_t i) { return d->bands[i].id; }

int maprows_init(maprows *m, dataset *d)
{
    memset(m, 0, sizeof *m);
    m->d = d;
    return index_ids(&m->genres, d->ngenres, genre_id_at, d) != 0 || index_ids(&m->bands, d->nbands, band_id_at, d) != 0
               ? -1
               : 0;
}

void maprows_free(maprows *m)
{
    strmap_free(&m->genres);
    strmap_free(&m->bands);
}

void maprows_add(maprows *m, maprows_list list, const char *owner, const char *value)
{
    int of_band = list >= MAPROWS_BAND_GENRES;
    size_t i;
    if (!owner || !value || !strmap_get(of_band ? &m->bands : &m->genres, owner, &i))
        return;
    genre *g = &m->d->genres[i];
    band *b = &m->d->bands[i];
    char ***v = NULL;
    size_t *n = NULL;
    switch (list) {
    case MAPROWS_GENRE_PARENTS:
        v = &g->parents, n = &g->nparents;
        break;
    case MAPROWS_GENRE_ALIASES:
        v = &g->aliases, n = &g->naliases;
        break;
    case MAPROWS_GENRE_FORMER_IDS:
        v = &g->former_ids, n = &g->nformer_ids;
        break;
    case MAPROWS_GENRE_DEFINING:
        v = &g->defining, n = &g->ndefining;
        break;
    case MAPROWS_BAND_GENRES:
        v = &b->genres, n = &b->ngenres;
        break;
    case MAPROWS_BAND_ALIASES:
        v = &b->aliases, n = &b->naliases;
        break;
    case MAPROWS_BAND_FORMER_IDS:
        v = &b->former_ids, n = &b->nformer_ids;
        break;
    }
    /* Lists are short: grown one at a time. */
    *v = xreallocarray(*v, *n + 1, sizeof **v);
    (*v)[(*n)++] = xstrdup(value);
}

void maprows_add_link(maprows *m, const char *from, const char *to, const char *kind)
{
    size_t i;
    if (!from || !to || !kind || !strmap_get(&m->genres, from, &i))
        return;
    genre *g = &m->d->genres[i];
    g->links = xreallocarray(g->links, g->nlinks + 1, sizeof *g->links);
    g->links[g->nlinks].to = xstrdup(to);
    g->links[g->nlinks].kind = xstrdup(kind);
    g->nlinks++;
}

static int same_string(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

static int same_strings(char *const *a, size_t na, char *const *b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (!same_string(a[i], b[i]))
            return 0;
    return 1;
}

static int genre_same(const genre *a, const genre *b)
{
    if (!same_string(a->name, b->name) || a->type != b->type || !same_string(a->parent, b->parent) ||
        !same_string(a->description, b->description) || a->origin_year != b->origin_year ||
        !same_strings(a->parents, a->nparents, b->parents, b->nparents) || a->nlinks != b->nlinks ||
        !same_strings(a->aliases, a->naliases, b->aliases, b->naliases) ||
        !same_strings(a->former_ids, a->nformer_ids, b->former_ids, b->nformer_ids) ||
        !same_string(a->region, b->region) || !same_strings(a->defining, a->ndefining, b->defining, b->ndefining))
        return 0;
    for (size_t i = 0; i < a->nlinks; i++)
        if (!same_string(a->links[i].to, b->links[i].to) || !same_string(a->links[i].kind, b->links[i].kind))
            return 0;
    return 1;
}

static int band_same(const band *a, const band *b)
{
    return same_string(a->name, b->name) && same_string(a->primary_genre, b->primary_genre) &&
           same_strings(a->genres, a->ngenres, b->genres, b->ngenres) &&
           same_strings(a->aliases, a->naliases, b->aliases, b->naliases) &&
           same_strings(a->former_ids, a->nformer_ids, b->former_ids, b->nformer_ids) &&
           same_string(a->country, b->country) && a->active_from == b->active_from && a->type == b->type;
}

int maprows_write_diff(const maprows_writer *w, const dataset *old, const dataset *new)
{
    strmap oldg = {0}, oldb = {0}, newg = {0}, newb = {0};
    int rc = -1;
    if (strmap_init(&oldg, old->ngenres) || strmap_init(&oldb, old->nbands) || strmap_init(&newg, new->ngenres) ||
        strmap_init(&newb, new->nbands))
        goto done;
    for (size_t i = 0; i < old->ngenres; i++)
        strmap_put(&oldg, old->genres[i].id, i);
    for (size_t i = 0; i < old->nbands; i++)
        strmap_put(&oldb, old->bands[i].id, i);
    for (size_t i = 0; i < new->ngenres; i++)
        strmap_put(&newg, new->genres[i].id, i);
    for (size_t i = 0; i < new->nbands; i++)
        strmap_put(&newb, new->bands[i].id, i);
    size_t k;
    for (size_t i = 0; i < old->nbands; i++)
        if (!strmap_get(&newb, old->bands[i].id, NULL) && w->delete_band(w->ctx, old->bands[i].id) != 0)
            goto done;
    for (size_t i = 0; i < old->ngenres; i++)
        if (!strmap_get(&newg, old->genres[i].id, NULL) && w->delete_genre(w->ctx, old->genres[i].id) != 0)
            goto done;
    for (size_t i = 0; i < new->ngenres; i++) {
        const genre *g = &new->genres[i];
        int exists = strmap_get(&oldg, g->id, &k);
        if (exists && genre_same(g, &old->genres[k]))
            continue;
        if (w->genre(w->ctx, g, exists) != 0)
            goto done;
    }
    for (size_t i = 0; i < new->nbands; i++) {
        const band *b = &new->bands[i];
        int exists = strmap_get(&oldb, b->id, &k);
        if (exists && band_same(b, &old->bands[k]))
            continue;
        if (w->band(w->ctx, b, exists) != 0)
            goto done;
    }
    rc = 0;
done:
    strmap_free(&oldg), strmap_free(&oldb), strmap_free(&newg), strmap_free(&newb);
    return rc;
}

int maprows_write_all(const maprows_writer *w, const dataset *d)
{
    for (size_t i = 0; i < d->ngenres; i++)
        if (w->genre(w->ctx, &d->genres[i], 0) != 0)
            return -1;
    for (size_t i = 0; i < d->nbands; i++)
        if (w->band(w->ctx, &d->bands[i], 0) != 0)
            return -1;
    return 0;
}
