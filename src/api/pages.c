/*
 * pages.c — the explorer's pages, rendered from templates.
 *
 * The page template gets the assets' hashed names (assets.c), the page
 * title and description, and an HTML-escaped list of
 * every genre (meaningful without JavaScript and to crawlers). The page for
 * "/" is rendered once per snapshot; genre pages carry the genre's own title
 * and description for link previews. No data ever goes into a script.
 */
#include "api/api.h"
#include "api/assets.h"
#include "api/infobox.h"
#include "api/pages.h"

#include "core/buf.h"
#include "core/embedded.h"
#include "core/text.h"
#include "graph/snapshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTML_TYPE       "text/html; charset=utf-8"
#define PAGE_INDEX_SLOT 0
#define SITE_TITLE      "musicgraph — a map of music genres and bands"
#define SITE_DESCRIPTION                                                                                               \
    "An interactive map of music genres and the bands that play them: how genres descend from "                        \
    "and influence each other, from blues to grindcore."

static const struct embedded_file *page_template;

int pages_init(char *err, size_t errlen)
{
    page_template = embedded_find(embedded_web, "index.html");
    if (!page_template) {
        snprintf(err, errlen, "the embedded web assets are incomplete");
        return -1;
    }
    return assets_init(embedded_web, err, errlen);
}

static void genre_list(const graph_snapshot *s, buf *out)
{
    const dataset *d = graph_dataset(s);
    const size_t *order = graph_genres_by_name(s);
    for (size_t k = 0; k < d->ngenres; k++) {
        const genre *g = &d->genres[order[k]];
        buf_puts(out, "<li><a href=\"/genres/");
        text_html_escape(out, g->id);
        buf_puts(out, "\">");
        text_html_escape(out, g->name);
        buf_puts(out, "</a></li>\n");
    }
}

/* Fills a template: @@ASSET:name@@ with hashed URLs, @@MODULE:name@@ with the
 * tags that load an ES module, @@PANEL@@ with panel (HTML already escaped
 * by infobox.c), @@GENRE_LIST@@ with the
 * genre index (when s is given), and @@KEY@@ with the escaped value from kv. */
static void render_file(const struct embedded_file *tpl, const graph_snapshot *s, const char *const *kv,
                        const buf *panel, buf *out)
{
    const char *t = (const char *)tpl->data;
    const char *end = t + tpl->len;
    while (t < end) {
        const char *at = strstr(t, "@@");
        if (!at) {
            buf_append(out, t, (size_t)(end - t));
            break;
        }
        buf_append(out, t, (size_t)(at - t));
        const char *close = strstr(at + 2, "@@");
        if (!close) {
            buf_append(out, at, (size_t)(end - at));
            break;
        }
        const char *name = at + 2;
        size_t nlen = (size_t)(close - name);
        const char *value = NULL;
        for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2)
            if (strlen(kv[i]) == nlen && memcmp(kv[i], name, nlen) == 0)
                value = kv[i + 1];
        if (value) {
            text_html_escape(out, value);
        } else if (s && nlen == 10 && memcmp(name, "GENRE_LIST", 10) == 0) {
            genre_list(s, out);
        } else if (panel && nlen == 5 && memcmp(name, "PANEL", 5) == 0) {
            buf_append(out, panel->data, panel->len);
        } else if (nlen > 6 && memcmp(name, "ASSET:", 6) == 0) {
            const char *url = assets_url(name + 6, nlen - 6);
            buf_puts(out, url ? url : "/assets/missing");
        } else if (nlen > 7 && memcmp(name, "MODULE:", 7) == 0) {
            assets_module_tags(name + 7, nlen - 7, out);
        } else {
            buf_append(out, at, nlen + 4); /* not a placeholder: keep as is */
        }
        t = close + 2;
    }
}

/* The explorer page; panel is the panel's content, or NULL for none. */
static void render(const graph_snapshot *s, const char *title, const char *description, const buf *panel, buf *out)
{
    buf empty = BUF_INIT;
    if (!panel)
        infobox_empty(&empty);
    const char *kv[] = {"TITLE", title, "DESCRIPTION", description, "PANEL_HIDDEN", panel ? "" : "hidden", NULL};
    render_file(page_template, s, kv, panel ? panel : &empty, out);
    buf_free(&empty);
}

void pages_render_template(const char *name, const char *const *kv, buf *out)
{
    const struct embedded_file *f = embedded_find(embedded_web, name);
    if (f)
        render_file(f, NULL, kv, NULL, out);
}

int pages_attach(graph_snapshot *s)
{
    buf out = BUF_INIT;
    render(s, SITE_TITLE, SITE_DESCRIPTION, NULL, &out);
    if (buf_failed(&out)) {
        buf_free(&out);
        return -1;
    }
    size_t len;
    char *data = buf_steal(&out, &len);
    return graph_attach(s, PAGE_INDEX_SLOT, data, len);
}

static void release_snapshot(void *s) { graph_release(s); }

static int get_index(http_request *r, void *ctx)
{
    (void)ctx;
    graph_snapshot *s = graph_acquire();
    const graph_blob *page = s ? graph_extra(s, PAGE_INDEX_SLOT) : NULL;
    if (!page) {
        graph_release(s);
        http_problem(r, 503, "Service Unavailable", "The map is not loaded yet.", NULL);
        return 0;
    }
    http_body body = {.data = page->data, .len = page->len, .gz = page->gz, .gzlen = page->gzlen, .etag = page->etag};
    http_respond_body(r, 200, HTML_TYPE, HTTP_CACHE_REVALIDATE, &body, s, release_snapshot);
    return 0;
}

/* Genre and band pages: the same explorer, with their own title; 404 (still
 * the explorer, which says so) for an unknown id. */
static int get_entity_page(http_request *r, int is_genre)
{
    graph_snapshot *s = graph_acquire();
    if (!s) {
        http_problem(r, 503, "Service Unavailable", "The map is not loaded yet.", NULL);
        return 0;
    }
    const dataset *d = graph_dataset(s);
    size_t i;
    int found = is_genre ? graph_find_genre(s, r->params[0], &i) : graph_find_band(s, r->params[0], &i);
    char title[256], description[2200];
    if (!found) {
        snprintf(title, sizeof title, "Not found — musicgraph");
        snprintf(description, sizeof description, "%s", SITE_DESCRIPTION);
    } else if (is_genre) {
        const genre *g = &d->genres[i];
        snprintf(title, sizeof title, "%s — musicgraph", g->name);
        if (g->description && *g->description)
            snprintf(description, sizeof description, "%s", g->description);
        else
            snprintf(description, sizeof description, "%s, a %s genre on the musicgraph map.", g->name,
                     genre_type_name(g->type));
    } else {
        const band *b = &d->bands[i];
        size_t gi;
        const char *gname = graph_find_genre(s, b->primary_genre, &gi) ? d->genres[gi].name : b->primary_genre;
        snprintf(title, sizeof title, "%s — musicgraph", b->name);
        snprintf(description, sizeof description, "%s: %s, on the musicgraph map of music genres.", b->name, gname);
    }
    /* The panel's content in the page: readable without JavaScript. */
    buf panel = BUF_INIT, out = BUF_INIT;
    if (found && is_genre)
        infobox_genre(s, i, &panel);
    else if (found)
        infobox_band(s, i, &panel);
    render(s, title, description, found ? &panel : NULL, &out);
    graph_release(s);
    http_respond(r, found ? 200 : 404, HTML_TYPE, buf_cstr(&out), out.len);
    buf_free(&panel);
    buf_free(&out);
    return 0;
}

/* /search?q=: the results as a page, for the search box without JavaScript. */
static int get_search_page(http_request *r, void *ctx)
{
    (void)ctx;
    int bad = 0;
    const char *q = http_query(r, "q", &bad);
    if (bad || (q && text_utf8_length(q) > 100)) {
        http_problem(r, 400, "Bad Request", "The search text is malformed or longer than 100 characters.", NULL);
        return 0;
    }
    graph_snapshot *s = graph_acquire();
    if (!s) {
        http_problem(r, 503, "Service Unavailable", "The map is not loaded yet.", NULL);
        return 0;
    }
    char title[256];
    snprintf(title, sizeof title, "Search: %.150s — musicgraph", q ? q : "");
    buf panel = BUF_INIT, out = BUF_INIT;
    infobox_search(s, q ? q : "", &panel);
    render(s, title, SITE_DESCRIPTION, &panel, &out);
    graph_release(s);
    http_respond(r, 200, HTML_TYPE, buf_cstr(&out), out.len);
    buf_free(&panel);
    buf_free(&out);
    return 0;
}

static int get_genre_page(http_request *r, void *ctx)
{
    (void)ctx;
    return get_entity_page(r, 1);
}

static int get_band_page(http_request *r, void *ctx)
{
    (void)ctx;
    return get_entity_page(r, 0);
}

void api_register_pages(http_router *rt, api *a)
{
    http_route(rt, "GET", "/", get_index, a);
    http_route(rt, "GET", "/genres/{id}", get_genre_page, a);
    http_route(rt, "GET", "/bands/{id}", get_band_page, a);
    http_route(rt, "GET", "/search", get_search_page, a);
    assets_register(rt);
}
