/*
 * search.c — name search over genres and bands (see snapshot.h).
 *
 * Every name is folded once when the snapshot is built (lower case, Latin
 * accents removed). A query is folded the same way and compared with every
 * key: with tens of thousands of short keys a linear scan costs well under a
 * millisecond and finds substrings, which a sorted index alone would not.
 * The best `limit` matches are kept in a small sorted array as the scan goes.
 */
#include "graph/internal.h"

#include "core/json.h"
#include "core/text.h"

#include <stdlib.h>
#include <string.h>

enum match_rank { MATCH_EXACT, MATCH_PREFIX, MATCH_WORD_PREFIX, MATCH_SUBSTRING, MATCH_NONE };

int graph_build_search(graph_snapshot *s)
{
    size_t n = s->data.ngenres + s->data.nbands;
    s->search = calloc(n ? n : 1, sizeof *s->search);
    if (!s->search)
        return -1;
    for (size_t i = 0; i < s->data.ngenres; i++) {
        buf k = BUF_INIT;
        text_fold(s->data.genres[i].name, &k);
        s->search[s->nsearch++] = (search_entry){buf_steal(&k, NULL), SEARCH_GENRE, i};
    }
    for (size_t i = 0; i < s->data.nbands; i++) {
        buf k = BUF_INIT;
        text_fold(s->data.bands[i].name, &k);
        s->search[s->nsearch++] = (search_entry){buf_steal(&k, NULL), SEARCH_BAND, i};
    }
    return 0;
}

void graph_free_search(graph_snapshot *s)
{
    for (size_t i = 0; i < s->nsearch; i++)
        free(s->search[i].key);
    free(s->search);
    s->search = NULL;
    s->nsearch = 0;
}

static enum match_rank rank_of(const char *key, const char *q, size_t qlen)
{
    const char *hit = strstr(key, q);
    if (!hit)
        return MATCH_NONE;
    if (hit == key)
        return key[qlen] == '\0' ? MATCH_EXACT : MATCH_PREFIX;
    /* A later occurrence may start a word even if the first one does not. */
    for (; hit; hit = strstr(hit + 1, q)) {
        char before = hit[-1];
        if (before == ' ' || before == '-' || before == '/' || before == '(' || before == '&')
            return MATCH_WORD_PREFIX;
    }
    return MATCH_SUBSTRING;
}

typedef struct candidate {
    enum match_rank rank;
    const search_entry *entry;
} candidate;

/* Better: lower rank, then genres before bands, then shorter, then alphabetical. */
static int better(const candidate *a, const candidate *b)
{
    if (a->rank != b->rank)
        return a->rank < b->rank;
    if (a->entry->kind != b->entry->kind)
        return a->entry->kind == SEARCH_GENRE;
    size_t la = strlen(a->entry->key), lb = strlen(b->entry->key);
    if (la != lb)
        return la < lb;
    return strcmp(a->entry->key, b->entry->key) < 0;
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

    candidate *best = calloc(limit ? limit : 1, sizeof *best);
    size_t nbest = 0;
    for (size_t i = 0; best && limit > 0 && qlen > 0 && i < s->nsearch; i++) {
        candidate c = {rank_of(s->search[i].key, fq, qlen), &s->search[i]};
        if (c.rank == MATCH_NONE)
            continue;
        if (nbest == limit && !better(&c, &best[nbest - 1]))
            continue;
        size_t at = nbest < limit ? nbest++ : nbest - 1;
        while (at > 0 && better(&c, &best[at - 1])) {
            best[at] = best[at - 1];
            at--;
        }
        best[at] = c;
    }

    json_writer w;
    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "query");
    jw_string(&w, q);
    jw_key(&w, "results");
    jw_array_begin(&w);
    for (size_t i = 0; i < nbest; i++) {
        const search_entry *e = best[i].entry;
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
    free(best);
    buf_free(&folded);
}
