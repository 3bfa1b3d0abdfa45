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

const char *band_type_name(band_type t) { return t == BAND_PERSON ? "person" : t == BAND_GROUP ? "group" : NULL; }

int band_type_parse(const char *s, band_type *out)
{
    if (s && strcmp(s, "person") == 0)
        *out = BAND_PERSON;
    else if (s && strcmp(s, "group") == 0)
        *out = BAND_GROUP;
    else
        return -1;
    return 0;
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
    free_strings(g->aliases, g->naliases);
    free_strings(g->former_ids, g->nformer_ids);
    free(g->region);
    free_strings(g->defining, g->ndefining);
    memset(g, 0, sizeof *g);
}

void band_clear(band *b)
{
    free(b->id);
    free(b->name);
    free(b->primary_genre);
    free_strings(b->genres, b->ngenres);
    free_strings(b->aliases, b->naliases);
    free_strings(b->former_ids, b->nformer_ids);
    free(b->country);
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

/* Copies the array src[0..n) into *dst, setting *dstn (0 on failure). */
static void copy_strings(char ***dst, size_t *dstn, char *const *src, size_t n, int *failed)
{
    *dst = NULL;
    *dstn = 0;
    if (n == 0)
        return;
    char **c = xcalloc(n, sizeof *c);
    if (!c) {
        *failed = 1;
        return;
    }
    for (size_t i = 0; i < n; i++)
        c[i] = dup_or_null(src[i], failed);
    *dst = c;
    *dstn = n;
}

int genre_copy(genre *dst, const genre *src)
{
    int failed = 0;
    memset(dst, 0, sizeof *dst);
    dst->id = dup_or_null(src->id, &failed);
    dst->name = dup_or_null(src->name, &failed);
    dst->type = src->type;
    dst->parent = dup_or_null(src->parent, &failed);
    copy_strings(&dst->parents, &dst->nparents, src->parents, src->nparents, &failed);
    dst->description = dup_or_null(src->description, &failed);
    dst->origin_year = src->origin_year;
    copy_strings(&dst->aliases, &dst->naliases, src->aliases, src->naliases, &failed);
    copy_strings(&dst->former_ids, &dst->nformer_ids, src->former_ids, src->nformer_ids, &failed);
    dst->region = dup_or_null(src->region, &failed);
    copy_strings(&dst->defining, &dst->ndefining, src->defining, src->ndefining, &failed);
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
    dst->type = src->type;
    dst->primary_genre = dup_or_null(src->primary_genre, &failed);
    copy_strings(&dst->genres, &dst->ngenres, src->genres, src->ngenres, &failed);
    copy_strings(&dst->aliases, &dst->naliases, src->aliases, src->naliases, &failed);
    copy_strings(&dst->former_ids, &dst->nformer_ids, src->former_ids, src->nformer_ids, &failed);
    dst->country = dup_or_null(src->country, &failed);
    dst->active_from = src->active_from;
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

int dataset_append(dataset *dst, dataset *src)
{
    for (size_t i = 0; i < src->ngenres; i++) {
        genre *g = dataset_add_genre(dst);
        if (!g)
            return -1;
        *g = src->genres[i];
        memset(&src->genres[i], 0, sizeof src->genres[i]);
    }
    for (size_t i = 0; i < src->nbands; i++) {
        band *b = dataset_add_band(dst);
        if (!b)
            return -1;
        *b = src->bands[i];
        memset(&src->bands[i], 0, sizeof src->bands[i]);
    }
    dataset_free(src);
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
