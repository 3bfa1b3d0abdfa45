/*
 * search.c — forgiving name search over genres and bands (see search.h).
 *
 * Every name is folded once when the snapshot is built (lower case, accents
 * removed) and kept twice: as is, for word boundaries, and "compact" — only
 * its letters and digits — so that punctuation and spacing never matter
 * ("hip-hop", "hiphop" and "Hip hop"; "shoe gaze"; "AC/DC" and "acdc"). A
 * query is folded and compacted the same way and every name is given the
 * best of these matches:
 *   exact      the compact forms are equal
 *   prefix     the name's compact form starts with the query's
 *   word       a word of the name starts with the query
 *   substring  the name's compact form contains the query's
 *   typo       within one edit (queries of 4 to 6 characters) or two (7
 *              and more) of the name, or of the name's start as long as the
 *              query ("motorhed" for Motörhead)
 * Results are ranked by match, then genres before bands, then importance
 * (a genre's bands, sub-genres and influence links; a band's genres), then
 * shorter names, then alphabetically; typos are only looked for when the
 * other matches do not fill the limit.
 *
 * An alias ("rap", "dnb", "acdc") is one more key pointing at its genre or
 * band, searched like a name; a genre or band appears once in the results,
 * by its best key (at an equal match its name rather than an alias), and a
 * result found by an alias says which.
 *
 * Speed (the target is p99 under 5 ms at 50 connections on 22,000 names,
 * which bench/run measures):
 *  1. prefix matches come from a binary search over the compact keys in
 *     order; a query equal to a prefix shared by at least SEARCH_GROUP_MIN
 *     names is answered from that prefix's best entries, ranked once per
 *     snapshot;
 *  2. the other matches: each name carries a 64-bit filter of the letter
 *     pairs of its compact form. A name lacking one of the query's pairs
 *     cannot contain it; one with more than two edits' worth missing (an
 *     edit breaks at most two pairs) cannot be a typo of it. The names are
 *     kept in order of compact length, then first letter, so each test
 *     reads only the names of a length that can match: longer than the
 *     query for a substring, within k of its length for a typo, and longer
 *     with its first letter for a name typed halfway. For substrings the
 *     filter is also kept inverted — per filter bit, a bit set over the
 *     names — so that ANDing the query's few bit sets, 64 names a word,
 *     leaves only the names to compare;
 *  3. the edit distance is computed in a diagonal band of width 2k+1 and
 *     stops as soon as the band exceeds k.
 * The best `limit` matches are kept in a small sorted array as they come;
 * `total` counts every genre and band matched other than by a typo.
 */
#include "graph/internal.h"
#include "core/xalloc.h"
#include "graph/search.h"

#include "core/json.h"
#include "core/text.h"

#include <stdlib.h>
#include <string.h>

enum match_rank { MATCH_EXACT, MATCH_PREFIX, MATCH_WORD, MATCH_SUBSTRING, MATCH_TYPO, MATCH_NONE };
static const char *const match_names[] = {"exact", "prefix", "word", "substring", "typo"};

#define SEARCH_GROUP_MIN 256
#define SEARCH_LIMIT_MAX 50
#define TYPO_MIN_QUERY   4 /* shorter queries match too much by typos */
#define KEY_MAX          512

/* A prefix shared by many names and its best entries, already ranked. */
struct search_group {
    const char *prefix; /* the first len bytes of a compact key */
    unsigned len;
    unsigned count;
    unsigned total; /* names with this prefix */
    const search_entry *best[SEARCH_LIMIT_MAX];
};

static int build_groups(graph_snapshot *s);

/* The scan order: compact length, then first letter; otherwise entry order
 * (the keys were written in entry order). */
static int by_length(const void *a, const void *b)
{
    const search_entry *x = a, *y = b;
    if (x->clen != y->clen)
        return x->clen < y->clen ? -1 : 1;
    unsigned char fx = (unsigned char)x->compact[0], fy = (unsigned char)y->compact[0];
    if (fx != fy)
        return fx < fy ? -1 : 1;
    return (x->compact > y->compact) - (x->compact < y->compact);
}

/* Compact key order; equal keys keep block order. */
static int by_key(const void *a, const void *b)
{
    const search_entry *x = a, *y = b;
    int c = strcmp(x->compact, y->compact);
    return c ? c : (x->compact > y->compact) - (x->compact < y->compact);
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

/* A genre's or band's place in the per-entity arrays: genres, then bands. */
static size_t entity_of(const search_entry *e, size_t ngenres)
{
    return e->kind == SEARCH_GENRE ? e->index : ngenres + e->index;
}

/* The 64-bit words of each letter-pair bit set: one bit per name. */
static size_t set_words(const graph_snapshot *s) { return (s->nsearch + 63) / 64; }

/* Appends the letters and digits of a folded string (bytes >= 0x80, the
 * scripts folding leaves alone, count as letters). */
static void compact(const char *folded, buf *out)
{
    for (const unsigned char *p = (const unsigned char *)folded; *p; p++)
        if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p >= 0x80)
            buf_append(out, (const char *)p, 1);
}

/* How much a genre or band counts when matches are otherwise equal. */
static unsigned importance(const graph_snapshot *s, unsigned kind, size_t index)
{
    if (kind == SEARCH_BAND)
        return (unsigned)s->data.bands[index].ngenres;
    const genre *g = &s->data.genres[index];
    unsigned children = (unsigned)(s->child_off[index + 1] - s->child_off[index]);
    unsigned bands = (unsigned)(s->band_off[index + 1] - s->band_off[index]);
    return bands + 2 * children + (unsigned)g->nlinks;
}

/* The text of key k (0: the name, k: alias k - 1) of a genre or band. */
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
    s->nsearch = n;
    buf keys = BUF_INIT;
    size_t *offsets = xmalloc((n ? n : 1) * 2 * sizeof *offsets);
    s->search = xcalloc(n ? n : 1, sizeof *s->search);
    s->search_by_key = xmalloc((n ? n : 1) * sizeof *s->search_by_key);
    s->search_bigrams = xmalloc((n ? n : 1) * sizeof *s->search_bigrams);
    s->search_pair_sets = xcalloc(64 * set_words(s) + 1, sizeof *s->search_pair_sets);
    s->search_names = xmalloc((s->data.ngenres + s->data.nbands + 1) * sizeof *s->search_names);
    if (!offsets || !s->search || !s->search_by_key || !s->search_bigrams || !s->search_pair_sets || !s->search_names) {
        free(offsets);
        return -1;
    }
    size_t at = 0; /* the next entry */
    for (size_t x = 0; x < s->data.ngenres + s->data.nbands; x++) {
        int is_genre = x < s->data.ngenres;
        size_t index = is_genre ? x : x - s->data.ngenres;
        unsigned kind = is_genre ? SEARCH_GENRE : SEARCH_BAND;
        unsigned weight = importance(s, kind, index);
        size_t naliases = is_genre ? s->data.genres[index].naliases : s->data.bands[index].naliases;
        for (unsigned k = 0; k <= naliases; k++, at++) {
            buf folded = BUF_INIT;
            text_fold(entry_text(s, kind, index, k), &folded);
            offsets[2 * at] = keys.len;
            buf_append(&keys, folded.data ? folded.data : "", folded.len);
            buf_append(&keys, "", 1); /* NUL: ends the key, and no query can match across it */
            offsets[2 * at + 1] = keys.len;
            compact(folded.data ? folded.data : "", &keys);
            buf_append(&keys, "", 1);
            buf_free(&folded);
            s->search[at] = (search_entry){.kind = kind, .alias = k, .index = index, .weight = weight};
        }
    }
    if (buf_failed(&keys)) {
        buf_free(&keys);
        free(offsets);
        return -1;
    }
    s->search_keys = buf_steal(&keys, &s->search_keys_len);
    size_t max_clen = 0;
    for (size_t i = 0; i < n; i++) {
        search_entry *e = &s->search[i];
        e->key = s->search_keys + offsets[2 * i];
        e->len = (unsigned)strlen(e->key);
        e->compact = s->search_keys + offsets[2 * i + 1];
        e->clen = (unsigned)strlen(e->compact);
        max_clen = e->clen > max_clen ? e->clen : max_clen;
    }
    free(offsets);
    qsort(s->search, n, sizeof *s->search, by_length);
    s->search_max_clen = max_clen;
    s->search_len_start = xmalloc((max_clen + 2) * sizeof *s->search_len_start);
    if (!s->search_len_start)
        return -1;
    for (size_t i = 0, len = 0; len <= max_clen + 1; len++) {
        while (i < n && s->search[i].clen < len)
            i++;
        s->search_len_start[len] = i;
    }
    for (size_t i = 0; i < n; i++) {
        const search_entry *e = &s->search[i];
        if (e->alias == 0)
            s->search_names[entity_of(e, s->data.ngenres)] = (uint32_t)i;
        uint64_t pairs = pairs_of(e->compact, e->clen);
        s->search_bigrams[i] = pairs;
        for (; pairs; pairs &= pairs - 1)
            s->search_pair_sets[(size_t)__builtin_ctzll(pairs) * set_words(s) + i / 64] |= 1ull << (i % 64);
    }
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
    free(s->search_pair_sets);
    free(s->search_len_start);
    free(s->search_names);
    s->search_names = NULL;
    s->search_bigrams = NULL;
    s->search_pair_sets = NULL;
    s->search_len_start = NULL;
    s->search_max_clen = 0;
    s->search_keys = NULL;
    s->search = NULL;
    s->search_by_key = NULL;
    s->nsearch = 0;
}

/* The query: folded (for word matches) and compact. */
typedef struct query {
    const char *words; /* folded, trimmed */
    size_t wlen;
    const char *c; /* compact */
    size_t clen;
    uint64_t pairs;
    int typos; /* edits allowed for a typo match (0: none looked for) */
} query;

/* Levenshtein distance of a and b if it is at most k, else k + 1, in a
 * band of the dynamic programming table (|i - j| <= k). */
static int within(const char *a, size_t alen, const char *b, size_t blen, int k)
{
    if ((alen > blen ? alen - blen : blen - alen) > (size_t)k)
        return k + 1;
    int row[2][KEY_MAX + 1];
    if (blen > KEY_MAX || alen > KEY_MAX)
        return k + 1;
    for (size_t j = 0; j <= blen; j++)
        row[0][j] = (int)j;
    for (size_t i = 1; i <= alen; i++) {
        int *prev = row[(i - 1) & 1], *cur = row[i & 1], best = k + 1;
        size_t lo = i > (size_t)k ? i - (size_t)k : 1, hi = i + (size_t)k < blen ? i + (size_t)k : blen;
        cur[0] = (int)i;
        if (lo > 1)
            cur[lo - 1] = k + 1;
        for (size_t j = lo; j <= hi; j++) {
            int v = prev[j - 1] + (a[i - 1] != b[j - 1]);
            if (j <= i - 1 + (size_t)k && prev[j] + 1 < v)
                v = prev[j] + 1;
            if (j > lo && cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            cur[j] = v;
            best = v < best ? v : best;
        }
        if (hi < blen)
            cur[hi + 1] = k + 1;
        if (best > k)
            return k + 1;
    }
    int d = row[alen & 1][blen];
    return d > k ? k + 1 : d;
}

/* A word of the folded name starts with the folded query. */
static int word_match(const search_entry *e, const query *q)
{
    for (const char *at = e->key; (at = memmem(at, e->len - (size_t)(at - e->key), q->words, q->wlen)) != NULL; at++) {
        if (at == e->key)
            return 1;
        char before = at[-1];
        if (before == ' ' || before == '-' || before == '/' || before == '(' || before == '&' || before == '.' ||
            before == '\'')
            return 1;
    }
    return 0;
}

static enum match_rank rank_of(const search_entry *e, const query *q)
{
    if (e->clen >= q->clen && memcmp(e->compact, q->c, q->clen) == 0)
        return e->clen == q->clen ? MATCH_EXACT : MATCH_PREFIX;
    if (q->wlen && word_match(e, q))
        return MATCH_WORD;
    if (memmem(e->compact, e->clen, q->c, q->clen))
        return MATCH_SUBSTRING;
    return MATCH_NONE;
}

/* Within q->typos edits of the whole name (which then differs in length
 * by no more than that), or of its start for a name typed halfway (then the
 * first letter must be right: that keeps the edit distance off nearly all
 * of the names that share a few letter pairs with the query). */
static int typo_match(const search_entry *e, const query *q)
{
    size_t diff = e->clen > q->clen ? e->clen - q->clen : q->clen - e->clen;
    if (diff <= (size_t)q->typos && within(q->c, q->clen, e->compact, e->clen, q->typos) <= q->typos)
        return 1;
    return e->clen > q->clen && e->compact[0] == q->c[0] &&
           within(q->c, q->clen, e->compact, q->clen, q->typos) <= q->typos;
}

typedef struct candidate {
    enum match_rank rank;
    const search_entry *entry;
} candidate;

/* Better: lower rank, then genres, then more important, then shorter, then
 * alphabetical (compact keys, then the full key). */
static int better(const candidate *a, const candidate *b)
{
    const search_entry *x = a->entry, *y = b->entry;
    if (a->rank != b->rank)
        return a->rank < b->rank;
    if (x->kind != y->kind)
        return x->kind == SEARCH_GENRE;
    if (x->weight != y->weight)
        return x->weight > y->weight;
    if (x->len != y->len)
        return x->len < y->len;
    int c = strcmp(x->key, y->key);
    return c ? c < 0 : x->index < y->index;
}

typedef struct top {
    candidate *best;
    size_t n, limit, total;
    unsigned char *seen; /* a bit per genre, then per band: counted in total */
    size_t ngenres;
} top;

/* Between two keys of one genre or band: the better match, and at the same
 * rank the name rather than an alias (a result reads "Hip hop", not "rap"). */
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
    size_t bit = entity_of(c.entry, t->ngenres);
    if (c.rank != MATCH_TYPO && !(t->seen[bit >> 3] & (1u << (bit & 7)))) {
        t->seen[bit >> 3] |= (unsigned char)(1u << (bit & 7));
        t->total++; /* a genre or band matched by its name and an alias counts once */
    }
    /* One result per genre or band: its best key counts. */
    for (size_t i = 0; i < t->n; i++)
        if (t->best[i].entry->kind == c.entry->kind && t->best[i].entry->index == c.entry->index) {
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

/* Offers a key's match as its genre's or band's. An alias that matches no
 * better than the name is offered as the name: the result is then ranked as
 * it will read, so a longer limit only adds results after those of a shorter
 * one, whatever order the keys come in. */
static void offer_match(const graph_snapshot *s, const query *q, top *t, const search_entry *e, enum match_rank r)
{
    if (e->alias) {
        const search_entry *name = &s->search[s->search_names[entity_of(e, s->data.ngenres)]];
        enum match_rank name_rank = rank_of(name, q);
        if (name_rank == MATCH_NONE && r == MATCH_TYPO && typo_match(name, q))
            name_rank = MATCH_TYPO;
        if (name_rank <= r) {
            e = name;
            r = name_rank;
        }
    }
    offer(t, (candidate){r, e});
}

/* Ranks the entries [lo, hi) of the key order, which share a compact
 * prefix of len bytes, and records their best SEARCH_LIMIT_MAX under that
 * prefix; then does the same for each longer prefix shared by enough of
 * them. Groups are appended in key order, for a binary search. */
static int add_groups(graph_snapshot *s, size_t lo, size_t hi, unsigned len, size_t *cap, unsigned char *seen)
{
    if (hi - lo < SEARCH_GROUP_MIN)
        return 0;
    size_t i = lo;
    if (len > 0) {
        if (s->nsearch_groups == *cap) {
            size_t grown_cap = *cap ? *cap * 2 : 64;
            struct search_group *grown = xrealloc(s->search_groups, grown_cap * sizeof *grown);
            if (!grown)
                return -1;
            s->search_groups = grown;
            *cap = grown_cap;
        }
        candidate best[SEARCH_LIMIT_MAX];
        top t = {best, 0, SEARCH_LIMIT_MAX, 0, seen, s->data.ngenres};
        const search_entry *first = &s->search_by_key[lo];
        query prefix = {"", 0, first->compact, len, 0, 0};
        for (size_t k = lo; k < hi; k++) {
            const search_entry *e = &s->search_by_key[k];
            offer_match(s, &prefix, &t, e, e->clen == len ? MATCH_EXACT : MATCH_PREFIX);
        }
        memset(seen, 0, (s->data.ngenres + s->data.nbands + 7) / 8);
        struct search_group *g = &s->search_groups[s->nsearch_groups++];
        g->prefix = s->search_by_key[lo].compact;
        g->len = len;
        g->count = (unsigned)t.n;
        g->total = (unsigned)t.total;
        for (size_t k = 0; k < t.n; k++)
            g->best[k] = best[k].entry;
    }
    while (i < hi && s->search_by_key[i].clen == len)
        i++; /* names equal to the prefix extend no further */
    while (i < hi) {
        char c = s->search_by_key[i].compact[len];
        size_t j = i;
        while (j < hi && s->search_by_key[j].compact[len] == c)
            j++;
        if (add_groups(s, i, j, len + 1, cap, seen) != 0)
            return -1;
        i = j;
    }
    return 0;
}

static int build_groups(graph_snapshot *s)
{
    size_t cap = 0;
    unsigned char *seen = calloc((s->data.ngenres + s->data.nbands + 7) / 8 + 1, 1);
    int rc = seen ? add_groups(s, 0, s->nsearch, 0, &cap, seen) : -1;
    free(seen);
    return rc;
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

/* First position in the sorted index whose compact key is >= q. */
static size_t lower_bound(const graph_snapshot *s, const char *q, size_t qlen)
{
    size_t lo = 0, hi = s->nsearch;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const search_entry *e = &s->search_by_key[mid];
        int c = memcmp(e->compact, q, e->clen < qlen ? e->clen : qlen);
        if (c < 0 || (c == 0 && e->clen < qlen))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Compiled twice on x86-64 and chosen when the program loads, so that a
 * popcount is one POPCNT instruction where the CPU has it (without it, a
 * libgcc call took half of a no-match search's CPU). Not under
 * ThreadSanitizer, whose runtime is not ready when the loader picks. */
#if defined(__x86_64__) && defined(__ELF__) && !defined(__SANITIZE_THREAD__)
#define POPCNT_CLONES __attribute__((target_clones("popcnt", "default")))
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#undef POPCNT_CLONES
#endif
#endif
#endif
#ifndef POPCNT_CLONES
#define POPCNT_CLONES
#endif

/* The first entry of the scan order whose compact key is at least len long. */
static size_t first_of_length(const graph_snapshot *s, size_t len)
{
    return s->search_len_start[len <= s->search_max_clen + 1 ? len : s->search_max_clen + 1];
}

/* Among the entries [lo, hi) of one length, which go by first letter: the
 * first whose letter is at least c. */
static size_t first_with_letter(const graph_snapshot *s, size_t lo, size_t hi, unsigned c)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((unsigned char)s->search[mid].compact[0] < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The typo candidates among the entries [lo, hi). */
POPCNT_CLONES
static void offer_typos_in(const graph_snapshot *s, const query *q, top *t, size_t lo, size_t hi)
{
    for (size_t i = lo; i < hi; i++) {
        /* A name the query is not in lacks at least one of its letter pairs;
         * an edit breaks at most two. Missing none: it has every pair of the
         * query, so it contains the query (found by collect) or, rarely, only
         * scrambles it. */
        uint64_t missing = q->pairs & ~s->search_bigrams[i];
        if (!missing || __builtin_popcountll(missing) > 2 * q->typos)
            continue;
        if (typo_match(&s->search[i], q))
            offer_match(s, q, t, &s->search[i], MATCH_TYPO);
    }
}

/* Every name within q->typos edits: those of about the query's length, and
 * the longer ones with its first letter (typed halfway). */
static void offer_typos(const graph_snapshot *s, const query *q, top *t)
{
    size_t k = (size_t)q->typos, shortest = q->clen > k ? q->clen - k : 0;
    offer_typos_in(s, q, t, first_of_length(s, shortest), first_of_length(s, q->clen + k + 1));
    unsigned first = (unsigned char)q->c[0];
    for (size_t len = q->clen + k + 1; len <= s->search_max_clen; len++) {
        size_t lo = first_of_length(s, len), hi = first_of_length(s, len + 1);
        lo = first_with_letter(s, lo, hi, first);
        offer_typos_in(s, q, t, lo, first_with_letter(s, lo, hi, first + 1));
    }
}

/* The names longer than the query that have all its letter pairs: the
 * query's bit sets ANDed 64 names at a time. */
static void offer_containing(const graph_snapshot *s, const query *q, top *t)
{
    size_t lo = first_of_length(s, q->clen + 1), n = s->nsearch, words = set_words(s);
    for (size_t w = lo / 64; w * 64 < n; w++) {
        uint64_t live = ~0ull;
        if (w == lo / 64)
            live &= ~0ull << (lo % 64);
        if (n - w * 64 < 64)
            live &= (1ull << (n - w * 64)) - 1;
        for (uint64_t bits = q->pairs; bits && live; bits &= bits - 1)
            live &= s->search_pair_sets[(size_t)__builtin_ctzll(bits) * words + w];
        for (; live; live &= live - 1) {
            const search_entry *e = &s->search[w * 64 + (size_t)__builtin_ctzll(live)];
            if (memcmp(e->compact, q->c, q->clen) == 0)
                continue; /* a prefix match, offered by collect */
            enum match_rank r = rank_of(e, q);
            if (r != MATCH_NONE)
                offer_match(s, q, t, e, r);
        }
    }
}

static void collect(const graph_snapshot *s, query *q, top *t)
{
    const struct search_group *g = find_group(s, q->c, q->clen);
    if (g) {
        for (size_t k = 0; k < g->count && k < t->limit; k++)
            t->best[t->n++] = (candidate){g->best[k]->clen == q->clen ? MATCH_EXACT : MATCH_PREFIX, g->best[k]};
        t->total = g->total; /* at least SEARCH_GROUP_MIN prefix matches: nothing else can rank */
        return;
    }
    for (size_t k = lower_bound(s, q->c, q->clen); k < s->nsearch; k++) {
        const search_entry *e = &s->search_by_key[k];
        if (e->clen < q->clen || memcmp(e->compact, q->c, q->clen) != 0)
            break;
        offer_match(s, q, t, e, e->clen == q->clen ? MATCH_EXACT : MATCH_PREFIX);
    }
    /* A name of the query's length contains it only by being it: a prefix match. */
    offer_containing(s, q, t);
    /* Typos only when the real matches leave room. */
    if (q->typos && t->n < t->limit)
        offer_typos(s, q, t);
}

void graph_search(const graph_snapshot *s, const char *text, size_t limit, buf *out)
{
    buf folded = BUF_INIT, compacted = BUF_INIT;
    text_fold(text, &folded);
    /* Trim spaces so "  metal " finds what "metal" finds. */
    char *fq = folded.data ? folded.data : "";
    while (*fq == ' ')
        fq++;
    size_t wlen = strlen(fq);
    while (wlen > 0 && fq[wlen - 1] == ' ')
        fq[--wlen] = '\0';
    compact(fq, &compacted);
    query q = {fq, wlen, compacted.data ? compacted.data : "", compacted.len, 0, 0};
    q.pairs = pairs_of(q.c, q.clen);
    q.typos = q.clen < TYPO_MIN_QUERY ? 0 : q.clen < 7 ? 1 : 2;

    top t = {xcalloc(limit ? limit : 1, sizeof(candidate)),
             0,
             limit,
             0,
             xcalloc((s->data.ngenres + s->data.nbands + 7) / 8 + 1, 1),
             s->data.ngenres};
    if (limit > 0 && q.clen > 0 && q.clen <= KEY_MAX)
        collect(s, &q, &t);

    json_writer w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "query");
    jw_string(&w, text);
    jw_key(&w, "total");
    jw_int(&w, (int64_t)t.total);
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
        jw_key(&w, "match");
        jw_string(&w, match_names[t.best[i].rank]);
        if (e->alias) {
            jw_key(&w, "alias");
            jw_string(&w, entry_text(s, e->kind, e->index, e->alias));
        }
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_object_end(&w);
    free(t.best);
    free(t.seen);
    buf_free(&folded);
    buf_free(&compacted);
}
