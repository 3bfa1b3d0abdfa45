/*
 * strmap.c — string-keyed hash map (see strmap.h).
 */
#include "core/strmap.h"
#include "core/xalloc.h"

#include <stdlib.h>
#include <string.h>

uint64_t strmap_hash(const char *s, size_t len)
{
    /* Eight bytes per step, multiply and fold: fast on the megabytes of
     * documents a snapshot hashes for its ETags, and well mixed for ids.
     * Not for adversarial keys (ids are validated before they get here). */
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ len;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t word;
        memcpy(&word, s + i, 8);
        h = (h ^ word) * 0xFF51AFD7ED558CCDULL;
        h ^= h >> 32;
    }
    uint64_t tail = 0;
    memcpy(&tail, s + i, len - i);
    h = (h ^ tail) * 0xC4CEB9FE1A85EC53ULL;
    return h ^ (h >> 29);
}

int strmap_init(strmap *m, size_t expected)
{
    size_t cap = 16;
    while (cap < expected * 2)
        cap *= 2;
    m->keys = xcalloc(cap, sizeof *m->keys);
    m->values = xcalloc(cap, sizeof *m->values);
    m->cap = cap;
    m->count = 0;
    if (!m->keys || !m->values) {
        strmap_free(m);
        return -1;
    }
    return 0;
}

void strmap_free(strmap *m)
{
    free(m->keys);
    free(m->values);
    m->keys = NULL;
    m->values = NULL;
    m->cap = m->count = 0;
}

static int grow(strmap *m)
{
    strmap bigger;
    if (strmap_init(&bigger, m->cap) != 0)
        return -1;
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i])
            strmap_put(&bigger, m->keys[i], m->values[i]);
    strmap_free(m);
    *m = bigger;
    return 0;
}

int strmap_put(strmap *m, const char *key, size_t value)
{
    if ((m->count + 1) * 2 > m->cap && grow(m) != 0)
        return -1;
    size_t mask = m->cap - 1;
    for (size_t i = strmap_hash(key, strlen(key)) & mask;; i = (i + 1) & mask) {
        if (!m->keys[i]) {
            m->keys[i] = key;
            m->values[i] = value;
            m->count++;
            return 0;
        }
        if (strcmp(m->keys[i], key) == 0) {
            m->values[i] = value;
            return 0;
        }
    }
}

int strmap_get(const strmap *m, const char *key, size_t *value)
{
    if (!m->cap)
        return 0;
    size_t mask = m->cap - 1;
    for (size_t i = strmap_hash(key, strlen(key)) & mask; m->keys[i]; i = (i + 1) & mask) {
        if (strcmp(m->keys[i], key) == 0) {
            if (value)
                *value = m->values[i];
            return 1;
        }
    }
    return 0;
}
