/*
 * eras.c — the era view: every genre on a time axis by origin year, the
 * second set of positions beside the force layout (see snapshot.h).
 *
 * x is the year. The twentieth century and after get one unit a year;
 * 1700–1900 a fifth of that and earlier centuries a twenty-fifth, so that a
 * map spanning 1200 to 2010 still gives the decades where nearly every
 * genre was born most of the width. A genre without a year takes its
 * parents' (a root, its earliest genre's), and no genre starts before one
 * of its parents: parent to child always flows forward in time. The dataset
 * gives decades (1970 is "the 1970s"), so the genres of one family and one
 * decade share that decade's width, parents before children, instead of
 * piling up on its first year.
 *
 * y is the family: each family is a horizontal band, ordered as the
 * families' roots are ordered from top to bottom on the force layout (so the
 * switch between the views moves genres mostly sideways). Inside a band each
 * genre takes a lane, a row that holds genres at least MIN_GAP apart in
 * time: taken in order of year, each genre goes to the free lane nearest its
 * primary parent's. Lanes are then spaced so that the whole picture is about
 * as wide as a screen.
 *
 * Deterministic, linear in the genres and links plus sorts; computed with
 * every snapshot (milliseconds for thousands of genres).
 */
#include "graph/internal.h"
#include "core/xalloc.h"

#include "graph/positions.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MIN_GAP     2.5 /* time units between two genres of one lane */
#define SPREAD      0.9 /* share of a decade the genres born in it spread over */
#define FAMILY_GAP  1.5 /* empty lanes between two families */
#define ASPECT      1.7 /* width / height of the whole picture */
#define NO_YEAR     (-1e9)
#define UNKNOWN_AGE 1950 /* a map with no year at all */

double graph_era_x(int year)
{
    if (year >= 1900)
        return year - 1900;
    if (year >= 1700)
        return (year - 1900) / 5.0;
    return -40.0 + (year - 1700) / 25.0;
}

/* Effective years: the genre's own, else its parents', never before a
 * parent's. Relaxed a bounded number of rounds (a cycle that slipped past
 * the rules must not loop). */
static void effective_years(const graph_snapshot *s, double *year)
{
    const dataset *d = &s->data;
    size_t ng = d->ngenres, p;
    for (size_t i = 0; i < ng; i++)
        year[i] = d->genres[i].origin_year ? d->genres[i].origin_year : NO_YEAR;
    for (int round = 0; round < 64; round++) {
        int changed = 0;
        for (size_t i = 0; i < ng; i++) {
            const genre *g = &d->genres[i];
            double latest = NO_YEAR;
            for (size_t k = 0; k < g->nparents; k++)
                if (graph_find_genre(s, g->parents[k], &p) && year[p] > latest)
                    latest = year[p];
            double want = year[i] == NO_YEAR ? latest : year[i] < latest ? latest : year[i];
            if (want != year[i]) {
                year[i] = want;
                changed = 1;
            }
        }
        if (!changed)
            break;
    }
    /* Still unknown (a root without a year, or a whole family): the
     * family's earliest known year, or the middle of the last century. */
    double *earliest = xmalloc((ng ? ng : 1) * sizeof *earliest);
    if (!earliest)
        return;
    for (size_t i = 0; i < ng; i++)
        earliest[i] = NO_YEAR;
    for (size_t i = 0; i < ng; i++) {
        size_t f = s->family[i];
        if (year[i] != NO_YEAR && (earliest[f] == NO_YEAR || year[i] < earliest[f]))
            earliest[f] = year[i];
    }
    for (size_t i = 0; i < ng; i++)
        if (year[i] == NO_YEAR)
            year[i] = earliest[s->family[i]] != NO_YEAR ? earliest[s->family[i]] : UNKNOWN_AGE;
    free(earliest);
}

typedef struct era_item {
    size_t genre;
    double order; /* family rank, then year */
    double year;
    size_t depth;
} era_item;

static int by_order(const void *pa, const void *pb)
{
    const era_item *a = pa, *b = pb;
    if (a->order != b->order)
        return a->order < b->order ? -1 : 1;
    if (a->depth != b->depth)
        return a->depth < b->depth ? -1 : 1;
    return (a->genre > b->genre) - (a->genre < b->genre);
}

/* Family ranks: roots from the top of the force layout down (sigma's y
 * grows upwards), ties and roots without a position by index. */
static void rank_families(const graph_snapshot *s, double *rank)
{
    const dataset *d = &s->data;
    size_t ng = d->ngenres, nroots = 0;
    era_item *roots = xmalloc((ng ? ng : 1) * sizeof *roots);
    if (!roots)
        return;
    for (size_t i = 0; i < ng; i++) {
        if (s->family[i] != i)
            continue;
        double x = 0, y = 0;
        if (!graph_layout_get(s->layout, 'g', d->genres[i].id, &x, &y))
            y = 0;
        roots[nroots++] = (era_item){.genre = i, .order = -y};
    }
    qsort(roots, nroots, sizeof *roots, by_order);
    for (size_t k = 0; k < nroots; k++)
        rank[roots[k].genre] = (double)k;
    free(roots);
}

int graph_build_eras(graph_snapshot *s)
{
    const dataset *d = &s->data;
    size_t ng = d->ngenres;
    s->era_x = xcalloc(ng ? ng : 1, sizeof *s->era_x);
    s->era_y = xcalloc(ng ? ng : 1, sizeof *s->era_y);
    double *year = xmalloc((ng ? ng : 1) * sizeof *year);
    double *rank = xcalloc(ng ? ng : 1, sizeof *rank);
    era_item *items = xmalloc((ng ? ng : 1) * sizeof *items);
    double *lane_end = xmalloc((ng ? ng : 1) * sizeof *lane_end); /* per lane: the last x placed */
    size_t *lane_of = xmalloc((ng ? ng : 1) * sizeof *lane_of);
    int rc = -1;
    if (!s->era_x || !s->era_y || !year || !rank || !items || !lane_end || !lane_of)
        goto done;
    effective_years(s, year);
    rank_families(s, rank);
    for (size_t i = 0; i < ng; i++) {
        size_t depth = 0, at = i, p;
        while (d->genres[at].parent && depth < ng && graph_find_genre(s, d->genres[at].parent, &p))
            at = p, depth++;
        items[i] = (era_item){i, rank[s->family[i]] * 1e5 + year[i], year[i], depth};
    }
    /* Families far apart in rank, then years, parents first: a group of
     * one family and one year is consecutive, and spreads over its decade
     * (or its year, for a year that is not a decade's first). */
    qsort(items, ng, sizeof *items, by_order);
    for (size_t k = 0; k < ng;) {
        size_t end = k + 1;
        while (end < ng && items[end].order == items[k].order)
            end++;
        int y = (int)items[k].year, step = y % 10 == 0 ? 10 : 1;
        double x0 = graph_era_x(y), width = SPREAD * (graph_era_x(y + step) - x0);
        for (size_t j = k; j < end; j++)
            s->era_x[items[j].genre] = x0 + width * (double)(j - k) / (double)(end - k);
        k = end;
    }
    /* A parent of another family may have been spread later in the same
     * decade: children stay right of every parent. */
    for (int round = 0; round < 64; round++) {
        int changed = 0;
        for (size_t i = 0; i < ng; i++)
            for (size_t k = 0, p; k < d->genres[i].nparents; k++)
                if (graph_find_genre(s, d->genres[i].parents[k], &p) && p != i && s->era_x[i] < s->era_x[p] + 0.1) {
                    s->era_x[i] = s->era_x[p] + 0.1;
                    changed = 1;
                }
        if (!changed)
            break;
    }
    for (size_t i = 0; i < ng; i++)
        items[i].order = rank[s->family[items[i].genre]] * 1e5 + s->era_x[items[i].genre];
    qsort(items, ng, sizeof *items, by_order);

    double min_x = INFINITY, max_x = -INFINITY, band_top = 0;
    for (size_t k = 0; k < ng;) {
        /* One family: items[k, end). */
        size_t end = k, nlanes = 0;
        while (end < ng && s->family[items[end].genre] == s->family[items[k].genre])
            end++;
        for (; k < end; k++) {
            size_t i = items[k].genre, p, want = 0;
            double x = s->era_x[i];
            if (d->genres[i].parent && graph_find_genre(s, d->genres[i].parent, &p) && s->family[p] == s->family[i])
                want = lane_of[p];
            size_t best = nlanes; /* a new lane when none is free */
            for (size_t l = 0; l < nlanes; l++) {
                if (lane_end[l] > x - MIN_GAP)
                    continue;
                size_t dist = l > want ? l - want : want - l;
                size_t bestdist = best > want ? best - want : want - best;
                if (best == nlanes || dist < bestdist)
                    best = l;
            }
            if (best == nlanes)
                nlanes++;
            lane_end[best] = x;
            lane_of[i] = best;
            s->era_y[i] = band_top + (double)best; /* in lanes for now */
            min_x = x < min_x ? x : min_x;
            max_x = x > max_x ? x : max_x;
        }
        band_top += (double)nlanes + FAMILY_GAP;
    }
    /* Lanes spaced for a picture about ASPECT times as wide as tall;
     * downwards is negative y on the map. */
    double height = band_top > FAMILY_GAP ? band_top - FAMILY_GAP : 1;
    double width = max_x > min_x ? max_x - min_x : 1;
    double lane = width / (height * ASPECT);
    for (size_t i = 0; i < ng; i++)
        s->era_y[i] = -s->era_y[i] * lane;
    s->era_min_year = 0;
    s->era_max_year = 0;
    for (size_t i = 0; i < ng; i++) {
        int y = (int)year[i];
        if (!s->era_min_year || y < s->era_min_year)
            s->era_min_year = y;
        if (y > s->era_max_year)
            s->era_max_year = y;
    }
    rc = 0;
done:
    free(year), free(rank), free(items), free(lane_end), free(lane_of);
    return rc;
}

void graph_free_eras(graph_snapshot *s)
{
    free(s->era_x);
    free(s->era_y);
    s->era_x = s->era_y = NULL;
}
