/*
 * model.c — ownership helpers for the data model (see model.h).
 */
#include "domain/model.h"
#include "core/xalloc.h"

#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {"root", "intermediate", "leaf"};

const char *genre_type_name(genre_type t) { return t < GENRE_TYPE_INVALID ? type_names[t] : "invalid"; }

genre_type genre_type_parse(const char *s)
{
    for (int i = 0; i < 3; i++)
        if (s && strcmp(s, type_names[i]) == 0)
            return (genre_type)i;
    return GENRE_TYPE_INVALID;
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void genre_clear(genre *g)
{
    free(g->id);
    free(g->name);
    free(g->parent);
    free_strings(g->parents, g->nparents);
    free(g->description);
    for (size_t i = 0; i < g->nlinks; i++) {
        free(g->links[i].to);
        free(g->links[i].kind);
    }
    free(g->links);
    memset(g, 0, sizeof *g);
}

void band_clear(band *b)
{
    free(b->id);
    free(b->name);
    free(b->primary_genre);
    free_strings(b->genres, b->ngenres);
    memset(b, 0, sizeof *b);
}

void dataset_free(dataset *d)
{
    for (size_t i = 0; i < d->ngenres; i++)
        genre_clear(&d->genres[i]);
    for (size_t i = 0; i < d->nbands; i++)
        band_clear(&d->bands[i]);
    free(d->genres);
    free(d->bands);
    memset(d, 0, sizeof *d);
}

/* Grows an array by one zeroed element when count is a power of two. */
static void *append_slot(void *array, size_t count, size_t size)
{
    if (count == 0 || (count & (count - 1)) == 0) {
        size_t cap = count ? count * 2 : 8;
        array = xrealloc(array, cap * size);
        if (!array)
            return NULL;
    }
    memset((char *)array + count * size, 0, size);
    return array;
}

genre *dataset_add_genre(dataset *d)
{
    genre *g = append_slot(d->genres, d->ngenres, sizeof *g);
    if (!g)
        return NULL;
    d->genres = g;
    return &d->genres[d->ngenres++];
}

band *dataset_add_band(dataset *d)
{
    band *b = append_slot(d->bands, d->nbands, sizeof *b);
    if (!b)
        return NULL;
    d->bands = b;
    return &d->bands[d->nbands++];
}

static char *dup_or_null(const char *s, int *failed)
{
    if (!s)
        return NULL;
    char *c = xstrdup(s);
    if (!c)
        *failed = 1;
    return c;
}

static char **copy_strings(char *const *v, size_t n, int *failed)
{
    if (n == 0)
        return NULL;
    char **c = xcalloc(n, sizeof *c);
    if (!c) {
        *failed = 1;
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        c[i] = dup_or_null(v[i], failed);
    return c;
}

int genre_copy(genre *dst, const genre *src)
{
    int failed = 0;
    memset(dst, 0, sizeof *dst);
    dst->id = dup_or_null(src->id, &failed);
    dst->name = dup_or_null(src->name, &failed);
    dst->type = src->type;
    dst->parent = dup_or_null(src->parent, &failed);
    dst->parents = copy_strings(src->parents, src->nparents, &failed);
    dst->nparents = dst->parents ? src->nparents : 0;
    dst->description = dup_or_null(src->description, &failed);
    dst->origin_year = src->origin_year;
    if (src->nlinks) {
        dst->links = xcalloc(src->nlinks, sizeof *dst->links);
        if (dst->links) {
            dst->nlinks = src->nlinks;
            for (size_t i = 0; i < src->nlinks; i++) {
                dst->links[i].to = dup_or_null(src->links[i].to, &failed);
                dst->links[i].kind = dup_or_null(src->links[i].kind, &failed);
            }
        } else {
            failed = 1;
        }
    }
    if (failed)
        genre_clear(dst);
    return failed ? -1 : 0;
}

int band_copy(band *dst, const band *src)
{
    int failed = 0;
    memset(dst, 0, sizeof *dst);
    dst->id = dup_or_null(src->id, &failed);
    dst->name = dup_or_null(src->name, &failed);
    dst->primary_genre = dup_or_null(src->primary_genre, &failed);
    dst->genres = copy_strings(src->genres, src->ngenres, &failed);
    dst->ngenres = dst->genres ? src->ngenres : 0;
    if (failed)
        band_clear(dst);
    return failed ? -1 : 0;
}

int dataset_copy(dataset *dst, const dataset *src)
{
    memset(dst, 0, sizeof *dst);
    for (size_t i = 0; i < src->ngenres; i++) {
        genre *g = dataset_add_genre(dst);
        if (!g || genre_copy(g, &src->genres[i]) != 0) {
            dataset_free(dst);
            return -1;
        }
    }
    for (size_t i = 0; i < src->nbands; i++) {
        band *b = dataset_add_band(dst);
        if (!b || band_copy(b, &src->bands[i]) != 0) {
            dataset_free(dst);
            return -1;
        }
    }
    return 0;
}

genre *dataset_find_genre(const dataset *d, const char *id)
{
    for (size_t i = 0; i < d->ngenres; i++)
        if (strcmp(d->genres[i].id, id) == 0)
            return &d->genres[i];
    return NULL;
}

band *dataset_find_band(const dataset *d, const char *id)
{
    for (size_t i = 0; i < d->nbands; i++)
        if (strcmp(d->bands[i].id, id) == 0)
            return &d->bands[i];
    return NULL;
}
