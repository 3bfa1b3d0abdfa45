/*
 * infobox.c — the explorer's panel written by the server, for readers
 * without JavaScript, crawlers and link previews (see infobox.h).
 *
 * The same content as web/panel.js draws, as plain HTML links: a genre's
 * family and decade in words, its description, each related genre once
 * (origins, derivatives, fusion genres, influenced by, influenced, related),
 * its bands; a band's genres, similar bands and searches elsewhere. Every
 * piece of data goes through text_html_escape; the markup around it is
 * literal. The related genres and similar bands come from the same
 * functions as the API (their JSON, read back with jansson), so both say
 * the same.
 */
#include "api/infobox.h"
#include "core/xalloc.h"

#include "core/text.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RELATED_MAX 8

static void esc(buf *out, const char *s) { text_html_escape(out, s ? s : ""); }

static void link_to(buf *out, const char *kind, const char *id, const char *name)
{
    int genre = strcmp(kind, "genre") == 0;
    buf_puts(out, genre ? "<a href=\"/genres/" : "<a href=\"/bands/");
    esc(out, id);
    buf_puts(out, "\" data-kind=\"");
    buf_puts(out, kind);
    buf_puts(out, "\" data-id=\"");
    esc(out, id);
    buf_puts(out, "\">");
    esc(out, name);
    buf_puts(out, "</a>");
}

static void section_start(buf *out, const char *cls, const char *title, size_t count)
{
    buf_puts(out, "<section class=\"panel-section");
    if (cls) {
        buf_puts(out, " ");
        buf_puts(out, cls);
    }
    buf_puts(out, "\"><h3>");
    esc(out, title);
    if (count) {
        char n[32];
        snprintf(n, sizeof n, "%zu", count);
        buf_puts(out, "<span class=\"count\">");
        buf_puts(out, n);
        buf_puts(out, "</span>");
    }
    buf_puts(out, "</h3><ul class=\"link-list\">");
}

static void section_end(buf *out) { buf_puts(out, "</ul></section>\n"); }

/* A section of links to the {id, name} items of a JSON array (only those
 * whose "kind" is kind, when they have one); nothing when there are none.
 * counted: show how many. */
static void json_section(buf *out, const char *cls, const char *title, int counted, const char *kind,
                         const json_t *items)
{
    size_t k, n = 0;
    json_t *item;
    const char *ik;
#define OF_KIND(item) (!(ik = json_string_value(json_object_get(item, "kind"))) || strcmp(ik, kind) == 0)
    json_array_foreach(items, k, item) n += OF_KIND(item);
    if (!n)
        return;
    section_start(out, cls, title, counted ? n : 0);
    json_array_foreach(items, k, item)
    {
        if (!OF_KIND(item))
            continue;
        buf_puts(out, "<li>");
        link_to(out, kind, json_string_value(json_object_get(item, "id")),
                json_string_value(json_object_get(item, "name")));
        buf_puts(out, "</li>");
    }
#undef OF_KIND
    section_end(out);
}

/* A list of genres, leaving out (and then marking) those already listed. */
static void genre_section(buf *out, const graph_snapshot *s, const char *title, const size_t *idx, size_t n,
                          unsigned char *listed)
{
    size_t count = 0;
    for (size_t k = 0; k < n; k++)
        count += !listed[idx[k]];
    if (!count)
        return;
    const dataset *d = graph_dataset(s);
    section_start(out, NULL, title, count);
    for (size_t k = 0; k < n; k++) {
        if (listed[idx[k]])
            continue;
        listed[idx[k]] = 1;
        buf_puts(out, "<li>");
        link_to(out, "genre", d->genres[idx[k]].id, d->genres[idx[k]].name);
        buf_puts(out, "</li>");
    }
    section_end(out);
}

static void head(buf *out, const char *kind_line, const char *title)
{
    buf_puts(out, "<div class=\"panel-head\"><p class=\"panel-kind\" id=\"panel-kind\"><span class=\"kind\">");
    esc(out, kind_line);
    buf_puts(out, "</span></p><a class=\"panel-close\" id=\"panel-close\" href=\"/\" aria-label=\"Close the panel\">"
                  "\xc3\x97</a></div>\n<h2 id=\"panel-title\" class=\"panel-title\" tabindex=\"-1\">");
    esc(out, title);
    buf_puts(out, "</h2>\n<div id=\"panel-body\" class=\"panel-body\">\n");
}

void infobox_empty(buf *out)
{
    head(out, "", "");
    buf_puts(out, "</div>\n");
}

/* The ids of a related or similar document (JSON from explore.c). */
static json_t *neighbours(const graph_snapshot *s, const char *id, int genres)
{
    buf json = BUF_INIT;
    int rc = genres ? graph_related(s, id, 24, &json) : graph_similar(s, id, RELATED_MAX, &json);
    json_t *doc = rc == 0 && !buf_failed(&json) ? json_loadb(json.data, json.len, 0, NULL) : NULL;
    buf_free(&json);
    json_t *list = doc ? json_object_get(doc, genres ? "related" : "similar") : NULL;
    json_incref(list);
    json_decref(doc);
    return list;
}

void infobox_genre(const graph_snapshot *s, size_t gi, buf *out)
{
    const dataset *d = graph_dataset(s);
    const genre *g = &d->genres[gi];
    size_t fi, ng = d->ngenres, j;
    graph_find_genre(s, graph_family(s, gi), &fi);
    char kind[256];
    if (fi == gi)
        snprintf(kind, sizeof kind, "Genre family");
    else
        snprintf(kind, sizeof kind, "Genre \xc2\xb7 %s family", d->genres[fi].name);
    head(out, kind, g->name);

    buf_puts(out, "<dl class=\"facts\">");
    if (fi != gi) {
        buf_puts(out, "<dt>Family</dt><dd>");
        link_to(out, "genre", d->genres[fi].id, d->genres[fi].name);
        buf_puts(out, "</dd>");
    }
    if (g->origin_year) {
        char when[64];
        snprintf(when, sizeof when, "<dt>Emerged</dt><dd>in the %ds</dd>", g->origin_year / 10 * 10);
        buf_puts(out, when);
    }
    buf_puts(out, "</dl>\n<p class=\"description\">");
    esc(out, g->description && *g->description ? g->description : "No description yet.");
    buf_puts(out, "</p>\n");

    unsigned char *listed = xcalloc(ng ? ng : 1, 1);
    size_t *idx = xmalloc((ng ? ng : 1) * sizeof *idx), n;
    if (!listed || !idx) {
        free(listed), free(idx);
        buf_puts(out, "</div>\n");
        return;
    }
    listed[gi] = 1;
    /* Origins, derivatives (only this parent), fusion genres (several). */
    n = 0;
    for (size_t k = 0; k < g->nparents; k++)
        if (graph_find_genre(s, g->parents[k], &j))
            idx[n++] = j;
    genre_section(out, s, g->nparents > 1 ? "Origins (a fusion of these)" : "Origins", idx, n, listed);
    for (int fusion = 0; fusion < 2; fusion++) {
        n = 0;
        for (size_t k = 0; k < ng; k++)
            for (size_t p = 0; p < d->genres[k].nparents; p++)
                if (strcmp(d->genres[k].parents[p], g->id) == 0 && (d->genres[k].nparents > 1) == fusion) {
                    idx[n++] = k;
                    break;
                }
        genre_section(out, s, fusion ? "Fusion genres" : "Derivatives", idx, n, listed);
    }
    n = 0;
    for (size_t k = 0; k < ng; k++)
        for (size_t l = 0; l < d->genres[k].nlinks; l++)
            if (strcmp(d->genres[k].links[l].to, g->id) == 0) {
                idx[n++] = k;
                break;
            }
    genre_section(out, s, "Influenced by", idx, n, listed);
    n = 0;
    for (size_t l = 0; l < g->nlinks; l++)
        if (graph_find_genre(s, g->links[l].to, &j))
            idx[n++] = j;
    genre_section(out, s, "Influenced", idx, n, listed);
    json_t *related = neighbours(s, g->id, 1), *item;
    size_t k;
    n = 0;
    json_array_foreach(related, k, item)
    {
        if (n < RELATED_MAX && graph_find_genre(s, json_string_value(json_object_get(item, "id")), &j) && !listed[j])
            idx[n++] = j;
    }
    json_decref(related);
    genre_section(out, s, "Related genres", idx, n, listed);
    free(listed), free(idx);

    /* The bands in name order, as the genre's API document lists them. */
    const graph_blob *genre_doc = graph_doc_genre(s, gi);
    json_t *doc = genre_doc ? json_loadb(genre_doc->data, genre_doc->len, 0, NULL) : NULL;
    json_section(out, "bands", "Artists", 1, "band", json_object_get(doc, "bands"));
    json_decref(doc);
    buf_puts(out, "</div>\n");
}

/* A search link on another site for a name (percent-encoded). */
static void search_link(buf *out, const char *site, const char *prefix, const char *name)
{
    buf_puts(out, "<li><a rel=\"noopener noreferrer\" href=\"");
    buf_puts(out, prefix);
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-_.~", *p)) {
            buf_append(out, (const char *)p, 1);
        } else {
            char hex[4];
            snprintf(hex, sizeof hex, "%%%02X", *p);
            buf_puts(out, hex);
        }
    }
    buf_puts(out, "\">");
    buf_puts(out, site);
    buf_puts(out, "</a></li>");
}

void infobox_band(const graph_snapshot *s, size_t bi, buf *out)
{
    const dataset *d = graph_dataset(s);
    const band *b = &d->bands[bi];
    size_t j;
    char kind[256];
    /* What the artist is, in the words of the explorer's panel (web/model.js actLabel). */
    const char *act = b->type == BAND_PERSON ? "Solo artist" : b->type == BAND_GROUP ? "Group" : "Artist";
    if (graph_find_genre(s, b->primary_genre, &j)) {
        size_t fi;
        graph_find_genre(s, graph_family(s, j), &fi);
        snprintf(kind, sizeof kind, "%s \xc2\xb7 %s family", act, d->genres[fi].name);
    } else {
        snprintf(kind, sizeof kind, "%s", act);
    }
    head(out, kind, b->name);
    buf_puts(out, b->ngenres > 1 ? "<dl class=\"facts\"><dt>Genres</dt><dd><ul class=\"link-list\">"
                                 : "<dl class=\"facts\"><dt>Genre</dt><dd><ul class=\"link-list\">");
    /* The primary genre first. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t k = 0; k < b->ngenres; k++)
            if ((strcmp(b->genres[k], b->primary_genre) == 0) == (pass == 0) && graph_find_genre(s, b->genres[k], &j)) {
                buf_puts(out, "<li>");
                link_to(out, "genre", d->genres[j].id, d->genres[j].name);
                buf_puts(out, "</li>");
            }
    buf_puts(out, "</ul></dd></dl>\n");
    json_t *similar = neighbours(s, b->id, 0);
    json_section(out, "related", "Similar artists", 0, "band", similar);
    json_decref(similar);
    section_start(out, "elsewhere", "Elsewhere", 0);
    search_link(out, "MusicBrainz", "https://musicbrainz.org/search?type=artist&amp;query=", b->name);
    search_link(out, "Wikipedia", "https://en.wikipedia.org/w/index.php?search=", b->name);
    search_link(out, "Bandcamp", "https://bandcamp.com/search?item_type=b&amp;q=", b->name);
    search_link(out, "YouTube", "https://www.youtube.com/results?search_query=", b->name);
    section_end(out);
    buf_puts(out, "</div>\n");
}

void infobox_search(const graph_snapshot *s, const char *q, buf *out)
{
    char title[200];
    snprintf(title, sizeof title, "Search: %.150s", q);
    head(out, "Search", title);
    buf json = BUF_INIT;
    graph_search(s, q, 50, &json);
    json_t *doc = buf_failed(&json) ? NULL : json_loadb(json.data, json.len, 0, NULL);
    buf_free(&json);
    json_t *results = json_object_get(doc, "results");
    if (!json_array_size(results))
        buf_puts(out, "<p class=\"empty\">No genre or artist matches.</p>\n");
    /* Genres first, then bands, each in the order of the ranking. */
    json_section(out, NULL, "Genres", 1, "genre", results);
    json_section(out, NULL, "Artists", 1, "band", results);
    json_decref(doc);
    buf_puts(out, "</div>\n");
}
