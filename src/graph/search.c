/*
 * search.c — name search over genres and bands (see search.h).
 *
 * Every name and every alias is folded once when the snapshot is built
 * (text_fold) and stored in one block of NUL-terminated keys, plus an index
 * of the entries sorted by key; an alias is one more key pointing at its
 * genre or band, and a genre or band appears once in the results, by its
 * best key. A query is folded the same way, then:
 *  1. prefix matches come from a binary search in the sorted index; they
 *     outrank every other kind of match, so when they fill the limit the
 *     search is over;
 *  2. otherwise the word-prefix and substring matches: each key carries a
 *     64-bit filter of the letter pairs it contains, so a key that lacks one
 *     of the query's pairs is skipped with one AND; only the rest are
 *     searched. A query that matches nothing costs one pass over 8 bytes a
 *     name instead of a scan of every name.
 * The best `limit` matches are kept in a small sorted array as they come.
 * Short prefixes shared by hundreds of names ("the", "a") would mean
 * ranking hundreds of candidates per keystroke, so the snapshot ranks them
 * once: every prefix shared by at least SEARCH_GROUP_MIN names keeps its
 * best SEARCH_LIMIT_MAX entries, and a query equal to such a prefix is
 * answered from that list.
 */
#include "graph/internal.h"
#include "graph/search.h"

#include "core/json.h"
#include "core/text.h"

#include <stdlib.h>
#include <string.h>

enum match_rank { MATCH_EXACT, MATCH_PREFIX, MATCH_WORD_PREFIX, MATCH_SUBSTRING, MATCH_NONE };

#define SEARCH_GROUP_MIN 256
#define SEARCH_LIMIT_MAX 50

/* A prefix shared by many names and its best entries, already ranked. */
struct search_group {
    const char *prefix; /* the first len bytes of a key */
    unsigned len;
    unsigned count;
    const search_entry *best[SEARCH_LIMIT_MAX];
};

static int build_groups(graph_snapshot *s);

/* Key order; equal keys keep block order (keys are unique in the block). */
static int by_key(const void *a, const void *b)
{
    const search_entry *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->key > y->key) - (x->key < y->key);
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

/* The text of key k (0: the name, k: alias k - 1) of an entry. */
static const char *entry_text(const graph_snapshot *s, unsigned kind, size_t index, unsigned k)
{
    if (kind == SEARCH_GENRE)
        return k ? s->data.genres[index].aliases[k - 1] : s->data.genres[index].name;
    return k ? s->data.bands[index].aliases[k - 1] : s->data.bands[index].name;
}

int graph_build_search(graph_snapshot *s)
{
    size_t n = s->data.ngenres + s->data.nbands;
    for (size_t i = 0; i < s->data.ngenres; i++)
        n += s->data.genres[i].naliases;
    for (size_t i = 0; i < s->data.nbands; i++)
        n += s->data.bands[i].naliases;
    buf keys = BUF_INIT;
    size_t *offsets = malloc((n ? n : 1) * sizeof *offsets);
    s->search = calloc(n ? n : 1, sizeof *s->search);
    s->search_by_key = malloc((n ? n : 1) * sizeof *s->search_by_key);
    s->search_bigrams = malloc((n ? n : 1) * sizeof *s->search_bigrams);
    if (!offsets || !s->search || !s->search_by_key || !s->search_bigrams) {
        free(offsets);
        return -1;
    }
    size_t e = 0;
    for (size_t i = 0; i < s->data.ngenres + s->data.nbands; i++) {
        int is_genre = i < s->data.ngenres;
        size_t index = is_genre ? i : i - s->data.ngenres;
        size_t naliases = is_genre ? s->data.genres[index].naliases : s->data.bands[index].naliases;
        unsigned kind = is_genre ? SEARCH_GENRE : SEARCH_BAND;
        for (unsigned k = 0; k <= naliases; k++, e++) {
            offsets[e] = keys.len;
            text_fold(entry_text(s, kind, index, k), &keys);
            buf_append(&keys, "", 1); /* NUL: ends the key, and no query can match across it */
            s->search[e] = (search_entry){.kind = kind, .alias = k, .index = index};
        }
    }
    if (buf_failed(&keys)) {
        buf_free(&keys);
        free(offsets);
        return -1;
    }
    s->search_keys = buf_steal(&keys, &s->search_keys_len);
    for (size_t i = 0; i < n; i++) {
        s->search[i].key = s->search_keys + offsets[i];
        s->search[i].len = (unsigned)strlen(s->search[i].key);
        s->search_bigrams[i] = pairs_of(s->search[i].key, s->search[i].len);
    }
    s->nsearch = n;
    free(offsets);
    /* A sorted copy rather than sorted indexes: a prefix scan then reads memory in order. */
    memcpy(s->search_by_key, s->search, n * sizeof *s->search);
    qsort(s->search_by_key, n, sizeof *s->search_by_key, by_key);
    return build_groups(s);
}

void graph_free_search(graph_snapshot *s)
{
    free(s->search_keys);
    free(s->search);
    free(s->search_by_key);
    free(s->search_groups);
    s->search_groups = NULL;
    s->nsearch_groups = 0;
    free(s->search_bigrams);
    s->search_bigrams = NULL;
    s->search_keys = NULL;
    s->search = NULL;
    s->search_by_key = NULL;
    s->nsearch = 0;
}

static int has_prefix(const search_entry *e, const char *q, size_t qlen)
{
    return e->len >= qlen && memcmp(e->key, q, qlen) == 0;
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

static int same_entity(const search_entry *a, const search_entry *b)
{
    return a->kind == b->kind && a->index == b->index;
}

/* Between two keys of one entry: the better match, and at the same rank the
 * name rather than an alias (a result reads "Hip hop", not "hiphop"). */
static int better_key(const candidate *a, const candidate *b)
{
    if (a->rank != b->rank)
        return a->rank < b->rank;
    if ((a->entry->alias == 0) != (b->entry->alias == 0))
        return a->entry->alias == 0;
    return better(a, b);
}

static void offer(top *t, candidate c)
{
    /* One result per genre or band: its best key (name or alias) counts. */
    for (size_t i = 0; i < t->n; i++)
        if (same_entity(t->best[i].entry, c.entry)) {
            if (!better_key(&c, &t->best[i]))
                return;
            memmove(&t->best[i], &t->best[i + 1], (t->n - i - 1) * sizeof *t->best);
            t->n--;
            break;
        }
    if (t->n == t->limit && !better(&c, &t->best[t->n - 1]))
        return;
    size_t at = t->n < t->limit ? t->n++ : t->n - 1;
    while (at > 0 && better(&c, &t->best[at - 1])) {
        t->best[at] = t->best[at - 1];
        at--;
    }
    t->best[at] = c;
}

/* Ranks the entries [lo, hi) of the key order, which share a prefix of len
 * bytes, and records their best SEARCH_LIMIT_MAX under that prefix; then
 * does the same for each longer prefix shared by enough of them. Groups are
 * appended in key order, so the array ends up sorted for a binary search. */
static int add_groups(graph_snapshot *s, size_t lo, size_t hi, unsigned len, size_t *cap)
{
    if (hi - lo < SEARCH_GROUP_MIN)
        return 0;
    size_t i = lo;
    if (len > 0) {
        if (s->nsearch_groups == *cap) {
            size_t grown_cap = *cap ? *cap * 2 : 64;
            struct search_group *grown = realloc(s->search_groups, grown_cap * sizeof *grown);
            if (!grown)
                return -1;
            s->search_groups = grown;
            *cap = grown_cap;
        }
        candidate best[SEARCH_LIMIT_MAX];
        top t = {best, 0, SEARCH_LIMIT_MAX};
        for (size_t k = lo; k < hi; k++) {
            const search_entry *e = &s->search_by_key[k];
            offer(&t, (candidate){e->len == len ? MATCH_EXACT : MATCH_PREFIX, e, e->len});
        }
        struct search_group *g = &s->search_groups[s->nsearch_groups++];
        g->prefix = s->search_by_key[lo].key;
        g->len = len;
        g->count = (unsigned)t.n;
        for (size_t k = 0; k < t.n; k++)
            g->best[k] = best[k].entry;
    }
    while (i < hi && s->search_by_key[i].len == len)
        i++; /* names equal to the prefix extend no further */
    while (i < hi) {
        char c = s->search_by_key[i].key[len];
        size_t j = i;
        while (j < hi && s->search_by_key[j].key[len] == c)
            j++;
        if (add_groups(s, i, j, len + 1, cap) != 0)
            return -1;
        i = j;
    }
    return 0;
}

static int build_groups(graph_snapshot *s)
{
    size_t cap = 0;
    return add_groups(s, 0, s->nsearch, 0, &cap);
}

static const struct search_group *find_group(const graph_snapshot *s, const char *q, size_t qlen)
{
    size_t lo = 0, hi = s->nsearch_groups;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct search_group *g = &s->search_groups[mid];
        int c = memcmp(g->prefix, q, g->len < qlen ? g->len : qlen);
        if (c == 0 && g->len == qlen)
            return g;
        if (c < 0 || (c == 0 && g->len < qlen))
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* First position in the sorted index whose key is >= q. */
static size_t lower_bound(const graph_snapshot *s, const char *q, size_t qlen)
{
    size_t lo = 0, hi = s->nsearch;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *key = s->search_by_key[mid].key;
        size_t klen = s->search_by_key[mid].len;
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
    const struct search_group *g = find_group(s, q, qlen);
    if (g) {
        for (size_t k = 0; k < g->count && k < t->limit; k++)
            t->best[t->n++] =
                (candidate){g->best[k]->len == qlen ? MATCH_EXACT : MATCH_PREFIX, g->best[k], g->best[k]->len};
        return; /* at least SEARCH_GROUP_MIN prefix matches: nothing else can rank */
    }
    size_t prefix_matches = 0;
    for (size_t k = lower_bound(s, q, qlen); k < s->nsearch; k++) {
        const search_entry *e = &s->search_by_key[k];
        if (!has_prefix(e, q, qlen))
            break;
        size_t klen = e->len;
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
        size_t klen = e->len;
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
        jw_string(&w, entry_text(s, e->kind, e->index, 0));
        if (e->alias) {
            jw_key(&w, "alias");
            jw_string(&w, entry_text(s, e->kind, e->index, e->alias));
        }
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_object_end(&w);
    free(t.best);
    buf_free(&folded);
}
