/*
 * strmap.h — string-keyed hash map (open addressing, linear probing).
 *
 * Keys are borrowed: the map stores the pointers it is given, so keys must
 * outlive it. Used for id lookups in the domain checks and the snapshot
 * indexes, where keys live in the dataset the map indexes.
 */
#ifndef MG_STRMAP_H
#define MG_STRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct strmap {
    const char **keys;
    size_t *values;
    size_t cap; /* power of two */
    size_t count;
} strmap;

int strmap_init(strmap *m, size_t expected);
void strmap_free(strmap *m);
/* Inserts or replaces; returns 0, or -1 on allocation failure. */
int strmap_put(strmap *m, const char *key, size_t value);
/* Returns 1 and sets *value when found. */
int strmap_get(const strmap *m, const char *key, size_t *value);
uint64_t strmap_hash(const char *s, size_t len);

#endif
