/*
 * search.c — name search over genres and bands (see snapshot.h).
 *
 * Every name is folded once when the snapshot is built (lower case, Latin
 * accents removed) and stored in one block of NUL-terminated keys, plus an index
 * of the entries sorted by key. A query is folded the same way, then:
 *  1. prefix matches come from a binary search in the sorted index; they
 *     outrank every other kind of match, so when they fill the limit the
 *     search is over;
 *  2. otherwise the word-prefix and substring matches: each key carries a
 *     64-bit filter of the letter pairs it contains, so a key that lacks one
 *     of the query's pairs is skipped with one AND; only the rest are
 *     searched. A query that matches nothing costs one pass over 8 bytes a
 *     name instead of a scan of every name.
 * The best `limit` matches are kept in a small sorted array as they come.
 */
#include "graph/internal.h"

#include "core/json.h"
#include "core/text.h"

#include <stdlib.h>
#include <string.h>

enum match_rank { MATCH_EXACT, MATCH_PREFIX, MATCH_WORD_PREFIX, MATCH_SUBSTRING, MATCH_NONE };

static int by_key(const void *a, const void *b, void *ctx)
{
    const search_entry *e = ctx;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = strcmp(e[x].key, e[y].key);
    return c ? c : (x > y) - (x < y);
}

/* The filter bit of the letter pair (a, b). */
static uint64_t pair_bit(unsigned char a, unsigned char b) { return 1ull << ((a * 31u + b * 7u) & 63u); }

static uint64_t pairs_of(const char *s, size_t len)
{
    uint64_t mask = 0;
    for (size_t i = 0; i + 1 < len; i++)
        mask |= pair_bit((unsigned char)s[i], (unsigned char)s[i + 1]);
    return mask;
}

int graph_build_search(graph_snapshot *s)
{
    size_t n = s->data.ngenres + s->data.nbands;
    buf keys = BUF_INIT;
    size_t *offsets = malloc((n ? n : 1) * sizeof *offsets);
    s->search = calloc(n ? n : 1, sizeof *s->search);
    s->search_sorted = malloc((n ? n : 1) * sizeof *s->search_sorted);
    s->search_bigrams = malloc((n ? n : 1) * sizeof *s->search_bigrams);
    if (!offsets || !s->search || !s->search_sorted || !s->search_bigrams) {
        free(offsets);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        int is_genre = i < s->data.ngenres;
        size_t index = is_genre ? i : i - s->data.ngenres;
        offsets[i] = keys.len;
        text_fold(is_genre ? s->data.genres[index].name : s->data.bands[index].name, &keys);
        buf_append(&keys, "", 1); /* NUL: ends the key, and no query can match across it */
        s->search[i] = (search_entry){NULL, is_genre ? SEARCH_GENRE : SEARCH_BAND, index};
    }
    if (buf_failed(&keys)) {
        buf_free(&keys);
        free(offsets);
        return -1;
    }
    s->search_keys = buf_steal(&keys, &s->search_keys_len);
    for (size_t i = 0; i < n; i++) {
        s->search[i].key = s->search_keys + offsets[i];
        s->search_bigrams[i] = pairs_of(s->search[i].key, strlen(s->search[i].key));
        s->search_sorted[i] = i;
    }
    s->nsearch = n;
    free(offsets);
    qsort_r(s->search_sorted, n, sizeof *s->search_sorted, by_key, s->search);
    return 0;
}

void graph_free_search(graph_snapshot *s)
{
    free(s->search_keys);
    free(s->search);
    free(s->search_sorted);
    free(s->search_bigrams);
    s->search_bigrams = NULL;
    s->search_keys = NULL;
    s->search = NULL;
    s->search_sorted = NULL;
    s->nsearch = 0;
}

static size_t key_len(const char *key) { return strlen(key); }

static int key_has_prefix(const char *key, const char *q, size_t qlen)
{
    return key_len(key) >= qlen && memcmp(key, q, qlen) == 0;
}

static enum match_rank rank_of(const char *key, size_t klen, const char *q, size_t qlen)
{
    if (klen >= qlen && memcmp(key, q, qlen) == 0)
        return klen == qlen ? MATCH_EXACT : MATCH_PREFIX;
    for (size_t at = 1; at + qlen <= klen; at++) {
        if (memcmp(key + at, q, qlen) != 0)
            continue;
        char before = key[at - 1];
        if (before == ' ' || before == '-' || before == '/' || before == '(' || before == '&')
            return MATCH_WORD_PREFIX;
    }
    return MATCH_SUBSTRING;
}

typedef struct candidate {
    enum match_rank rank;
    const search_entry *entry;
    size_t klen;
} candidate;

/* Better: lower rank, then genres before bands, then shorter, then alphabetical. */
static int better(const candidate *a, const candidate *b)
{
    if (a->rank != b->rank)
        return a->rank < b->rank;
    if (a->entry->kind != b->entry->kind)
        return a->entry->kind == SEARCH_GENRE;
    if (a->klen != b->klen)
        return a->klen < b->klen;
    return memcmp(a->entry->key, b->entry->key, a->klen) < 0;
}

typedef struct top {
    candidate *best;
    size_t n, limit;
} top;

static void offer(top *t, candidate c)
{
    if (t->n == t->limit && !better(&c, &t->best[t->n - 1]))
        return;
    size_t at = t->n < t->limit ? t->n++ : t->n - 1;
    while (at > 0 && better(&c, &t->best[at - 1])) {
        t->best[at] = t->best[at - 1];
        at--;
    }
    t->best[at] = c;
}

/* First position in the sorted index whose key is >= q. */
static size_t lower_bound(const graph_snapshot *s, const char *q, size_t qlen)
{
    size_t lo = 0, hi = s->nsearch;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *key = s->search[s->search_sorted[mid]].key;
        size_t klen = key_len(key);
        int c = memcmp(key, q, klen < qlen ? klen : qlen);
        if (c < 0 || (c == 0 && klen < qlen))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void collect(const graph_snapshot *s, const char *q, size_t qlen, top *t)
{
    size_t prefix_matches = 0;
    for (size_t k = lower_bound(s, q, qlen); k < s->nsearch; k++) {
        const search_entry *e = &s->search[s->search_sorted[k]];
        if (!key_has_prefix(e->key, q, qlen))
            break;
        size_t klen = key_len(e->key);
        offer(t, (candidate){klen == qlen ? MATCH_EXACT : MATCH_PREFIX, e, klen});
        prefix_matches++;
    }
    if (prefix_matches >= t->limit)
        return;
    uint64_t need = pairs_of(q, qlen);
    for (size_t i = 0; i < s->nsearch; i++) {
        if ((s->search_bigrams[i] & need) != need)
            continue;
        const search_entry *e = &s->search[i];
        size_t klen = key_len(e->key);
        /* Prefix matches were offered above; here only later occurrences. */
        if (klen <= qlen || memcmp(e->key, q, qlen) == 0 || !memmem(e->key + 1, klen - 1, q, qlen))
            continue;
        offer(t, (candidate){rank_of(e->key, klen, q, qlen), e, klen});
    }
}

void graph_search(const graph_snapshot *s, const char *q, size_t limit, buf *out)
{
    buf folded = BUF_INIT;
    text_fold(q, &folded);
    /* Trim spaces so "  metal " finds what "metal" finds. */
    char *fq = folded.data ? folded.data : "";
    while (*fq == ' ')
        fq++;
    size_t qlen = strlen(fq);
    while (qlen > 0 && fq[qlen - 1] == ' ')
        fq[--qlen] = '\0';

    top t = {calloc(limit ? limit : 1, sizeof(candidate)), 0, limit};
    if (t.best && limit > 0 && qlen > 0)
        collect(s, fq, qlen, &t);

    json_writer w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "query");
    jw_string(&w, q);
    jw_key(&w, "results");
    jw_array_begin(&w);
    for (size_t i = 0; i < t.n; i++) {
        const search_entry *e = t.best[i].entry;
        int is_genre = e->kind == SEARCH_GENRE;
        jw_object_begin(&w);
        jw_key(&w, "kind");
        jw_string(&w, is_genre ? "genre" : "band");
        jw_key(&w, "id");
        jw_string(&w, is_genre ? s->data.genres[e->index].id : s->data.bands[e->index].id);
        jw_key(&w, "name");
        jw_string(&w, is_genre ? s->data.genres[e->index].name : s->data.bands[e->index].name);
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_object_end(&w);
    free(t.best);
    buf_free(&folded);
}
