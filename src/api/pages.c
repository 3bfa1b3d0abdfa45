/*
 * pages.c — the explorer page and the static assets it loads.
 *
 * Assets (scripts, styles, the graph libraries) are embedded in the binary
 * and served under content-hashed names with year-long immutable caching, so
 * a deploy can never mix files of two versions. The page template gets the
 * hashed names, the page title and description, and an HTML-escaped list of
 * every genre (meaningful without JavaScript and to crawlers). The page for
 * "/" is rendered once per snapshot; genre pages carry the genre's own title
 * and description for link previews. No data ever goes into a script.
 */
#include "api/api.h"
#include "api/common.h"
#include "api/pages.h"

#include "core/buf.h"
#include "core/embedded.h"
#include "core/strmap.h"
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

typedef struct asset {
    const struct embedded_file *file;
    char url[128]; /* /assets/app.0123abcd.js */
    const char *content_type;
    graph_blob blob;
} asset;

static asset *assets;
static size_t nassets;
static const struct embedded_file *page_template;

static const char *type_for(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return "application/octet-stream";
    if (strcmp(dot, ".js") == 0)
        return "text/javascript; charset=utf-8";
    if (strcmp(dot, ".css") == 0)
        return "text/css; charset=utf-8";
    if (strcmp(dot, ".svg") == 0)
        return "image/svg+xml";
    if (strcmp(dot, ".png") == 0)
        return "image/png";
    return "application/octet-stream";
}

int pages_init(char *err, size_t errlen)
{
    if (assets)
        return 0;
    page_template = embedded_find(embedded_web, "index.html");
    size_t n = 0;
    while (embedded_web[n].name)
        n++;
    assets = calloc(n, sizeof *assets);
    if (!page_template || !assets) {
        snprintf(err, errlen, "the embedded web assets are incomplete");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const struct embedded_file *f = &embedded_web[i];
        if (strstr(f->name, ".html"))
            continue; /* templates, rendered per page */
        asset *a = &assets[nassets++];
        a->file = f;
        a->content_type = type_for(f->name);
        /* Hash in the name: app.js -> app.<8 hex>.js */
        const char *dot = strchr(f->name, '.');
        size_t stem = dot ? (size_t)(dot - f->name) : strlen(f->name);
        unsigned long long h = strmap_hash((const char *)f->data, f->len);
        snprintf(a->url, sizeof a->url, "/assets/%.*s.%08llx%s", (int)stem, f->name, h & 0xffffffffull, dot ? dot : "");
        char *copy = malloc(f->len + 1);
        if (!copy || (memcpy(copy, f->data, f->len), graph_blob_init(&a->blob, copy, f->len)) != 0) {
            snprintf(err, errlen, "out of memory loading assets");
            return -1;
        }
    }
    return 0;
}

static const asset *asset_named(const char *name, size_t len)
{
    for (size_t i = 0; i < nassets; i++)
        if (strlen(assets[i].file->name) == len && memcmp(assets[i].file->name, name, len) == 0)
            return &assets[i];
    return NULL;
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

/* Fills a template: @@ASSET:name@@ with hashed URLs, @@GENRE_LIST@@ with the
 * genre index (when s is given), and @@KEY@@ with the escaped value from kv. */
static void render_file(const struct embedded_file *tpl, const graph_snapshot *s, const char *const *kv, buf *out)
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
        } else if (nlen > 6 && memcmp(name, "ASSET:", 6) == 0) {
            const asset *a = asset_named(name + 6, nlen - 6);
            buf_puts(out, a ? a->url : "/assets/missing");
        } else {
            buf_append(out, at, nlen + 4); /* not a placeholder: keep as is */
        }
        t = close + 2;
    }
}

static void render(const graph_snapshot *s, const char *title, const char *description, buf *out)
{
    const char *kv[] = {"TITLE", title, "DESCRIPTION", description, NULL};
    render_file(page_template, s, kv, out);
}

void pages_render_template(const char *name, const char *const *kv, buf *out)
{
    const struct embedded_file *f = embedded_find(embedded_web, name);
    if (f)
        render_file(f, NULL, kv, out);
}

int pages_attach(graph_snapshot *s)
{
    buf out = BUF_INIT;
    render(s, SITE_TITLE, SITE_DESCRIPTION, &out);
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
    http_body body = {page->data, page->len, page->gz, page->gzlen, page->etag};
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
    if (!found && api_redirect_former_id(r, s, is_genre, r->params[0], is_genre ? "/genres/" : "/bands/", NULL)) {
        graph_release(s);
        return 0;
    }
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
    buf out = BUF_INIT;
    render(s, title, description, &out);
    graph_release(s);
    http_respond(r, found ? 200 : 404, HTML_TYPE, buf_cstr(&out), out.len);
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

static int get_asset(http_request *r, void *ctx)
{
    (void)ctx;
    for (size_t i = 0; i < nassets; i++) {
        if (strcmp(assets[i].url + 8, r->params[0]) != 0)
            continue;
        const graph_blob *b = &assets[i].blob;
        http_body body = {b->data, b->len, b->gz, b->gzlen, b->etag};
        http_respond_body(r, 200, assets[i].content_type, HTTP_CACHE_IMMUTABLE, &body, NULL, NULL);
        return 0;
    }
    http_problem(r, 404, "Not Found", "No such asset (asset names change with every release).", NULL);
    return 0;
}

void api_register_pages(http_router *rt, api *a)
{
    http_route(rt, "GET", "/", get_index, a);
    http_route(rt, "GET", "/genres/{id}", get_genre_page, a);
    http_route(rt, "GET", "/bands/{id}", get_band_page, a);
    http_route(rt, "GET", "/assets/{name}", get_asset, a);
}
