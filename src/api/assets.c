/*
 * assets.c — the web UI's static files: content-hashed names, ES module
 * imports, serving (see assets.h).
 *
 * Every embedded file except the page templates is served as
 * /assets/STEM.HASH.EXT with a year-long immutable cache, so a deploy can
 * never mix files of two versions. The scripts are ES modules that import
 * each other by plain relative names ("./dom.js"), which is what a browser
 * or Node can run from web/ directly; here each specifier is rewritten to
 * the hashed name ("./dom.0123abcd.js") before the importing file is itself
 * hashed. A module is therefore resolved after the modules it imports, and
 * its hash covers theirs: changing dom.js renames every module that reaches
 * it. No bundler, no import map (an inline script the CSP would refuse).
 */
#include "api/assets.h"
#include "core/xalloc.h"

#include "core/buf.h"
#include "core/strmap.h"
#include "graph/snapshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ASSET_MAX_IMPORTS = 24, ASSET_NEW = 0, ASSET_RESOLVING, ASSET_DONE };

typedef struct asset {
    const struct embedded_file *file;
    char url[128]; /* /assets/app.0123abcd.js */
    const char *content_type;
    graph_blob blob;
    int state;
    size_t imports[ASSET_MAX_IMPORTS]; /* indexes of the modules it imports */
    size_t nimports;
} asset;

static asset *assets;
static size_t nassets;

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

static asset *find(const char *name, size_t len)
{
    for (size_t i = 0; i < nassets; i++)
        if (strlen(assets[i].file->name) == len && memcmp(assets[i].file->name, name, len) == 0)
            return &assets[i];
    return NULL;
}

/* The length of a relative module specifier at p ("./name.js" followed by
 * the quote q), or 0 when there is none. */
static size_t specifier(const char *p, const char *end, char q)
{
    if (end - p < 5 || p[0] != '.' || p[1] != '/')
        return 0;
    const char *s = p + 2;
    while (s < end && ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
        s++;
    if (s == end || *s != q || s - p < 6 || memcmp(s - 3, ".js", 3) != 0)
        return 0;
    return (size_t)(s - p);
}

/* Where the next import specifier starts in [p, end), NULL when there is
 * none: on a line that begins with "import ", "export " or "} from " (the
 * end of an import list over several lines), after `from '` or directly
 * after `import '` (quotes single or double). Statements are
 * how our modules import, one per line; a string that merely looks like an
 * import elsewhere in the code is left alone. */
static const char *next_import(const char *p, const char *end, char *quote)
{
    for (const char *line = p; line < end;) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        const char *stop = eol ? eol : end;
        size_t len = (size_t)(stop - line);
        if (len > 7 &&
            (memcmp(line, "import ", 7) == 0 || memcmp(line, "export ", 7) == 0 || memcmp(line, "} from ", 7) == 0)) {
            const char *q = line + 7;
            const char *from = memmem(line, len, "from ", 5);
            if (from)
                q = from + 5;
            else if (memcmp(line, "import ", 7) != 0)
                q = stop; /* export without from: nothing to rewrite */
            if (q < stop && (*q == '\'' || *q == '"') && specifier(q + 1, stop, *q)) {
                *quote = *q;
                return q + 1;
            }
        }
        line = stop + 1;
    }
    return NULL;
}

static int resolve(asset *a, char *err, size_t errlen);

/* The file's bytes with every import of a sibling module renamed to that
 * module's hashed name (resolving it first). */
static int rewrite_imports(asset *a, buf *out, char *err, size_t errlen)
{
    const char *p = (const char *)a->file->data, *end = p + a->file->len;
    char quote = '\'';
    for (const char *at; (at = next_import(p, end, &quote)) != NULL;) {
        size_t len = specifier(at, end, quote);
        asset *dep = find(at + 2, len - 2);
        if (!dep) {
            snprintf(err, errlen, "%s imports %.*s, which is not an embedded asset", a->file->name, (int)len, at);
            return -1;
        }
        if (resolve(dep, err, errlen) != 0)
            return -1;
        if (a->nimports == ASSET_MAX_IMPORTS) {
            snprintf(err, errlen, "%s imports more than %d modules", a->file->name, ASSET_MAX_IMPORTS);
            return -1;
        }
        a->imports[a->nimports++] = (size_t)(dep - assets);
        buf_append(out, p, (size_t)(at - p));
        buf_puts(out, "./");
        buf_puts(out, dep->url + strlen("/assets/"));
        p = at + len;
    }
    buf_append(out, p, (size_t)(end - p));
    return 0;
}

static int resolve(asset *a, char *err, size_t errlen)
{
    if (a->state == ASSET_DONE)
        return 0;
    if (a->state == ASSET_RESOLVING) {
        snprintf(err, errlen, "the web modules import each other in a cycle through %s", a->file->name);
        return -1;
    }
    a->state = ASSET_RESOLVING;
    buf out = BUF_INIT;
    /* Minified libraries (sigma, graphology) are classic scripts with no imports. */
    int is_module = strcmp(a->content_type, type_for("x.js")) == 0 && !strstr(a->file->name, ".min.");
    if (is_module ? rewrite_imports(a, &out, err, errlen) != 0 : (buf_append(&out, a->file->data, a->file->len), 0)) {
        buf_free(&out);
        return -1;
    }
    if (buf_failed(&out)) {
        snprintf(err, errlen, "out of memory loading assets");
        return -1;
    }
    /* Hash in the name: app.js -> app.<8 hex>.js */
    const char *name = a->file->name, *dot = strchr(name, '.');
    size_t stem = dot ? (size_t)(dot - name) : strlen(name);
    unsigned long long h = strmap_hash(out.data, out.len);
    snprintf(a->url, sizeof a->url, "/assets/%.*s.%08llx%s", (int)stem, name, h & 0xffffffffull, dot ? dot : "");
    size_t len;
    char *data = buf_steal(&out, &len);
    if (graph_blob_init(&a->blob, data, len) != 0) {
        snprintf(err, errlen, "out of memory loading assets");
        return -1;
    }
    a->state = ASSET_DONE;
    return 0;
}

void assets_free(void)
{
    for (size_t i = 0; i < nassets; i++)
        graph_blob_free(&assets[i].blob);
    free(assets);
    assets = NULL;
    nassets = 0;
}

int assets_init(const struct embedded_file *files, char *err, size_t errlen)
{
    if (assets)
        return 0;
    size_t n = 0;
    while (files[n].name)
        n++;
    assets = xcalloc(n ? n : 1, sizeof *assets);
    if (!assets) {
        snprintf(err, errlen, "out of memory loading assets");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (strstr(files[i].name, ".html"))
            continue; /* templates, rendered per page */
        assets[nassets].file = &files[i];
        assets[nassets].content_type = type_for(files[i].name);
        nassets++;
    }
    for (size_t i = 0; i < nassets; i++)
        if (resolve(&assets[i], err, errlen) != 0) {
            assets_free();
            return -1;
        }
    return 0;
}

const char *assets_url(const char *name, size_t len)
{
    const asset *a = find(name, len);
    return a ? a->url : NULL;
}

/* Preload links for the modules a imports, each once (seen), depth first. */
static void preload(const asset *a, unsigned char *seen, buf *out)
{
    for (size_t k = 0; k < a->nimports; k++) {
        const asset *dep = &assets[a->imports[k]];
        if (seen[a->imports[k]])
            continue;
        seen[a->imports[k]] = 1;
        buf_puts(out, "<link rel=\"modulepreload\" href=\"");
        buf_puts(out, dep->url);
        buf_puts(out, "\">\n");
        preload(dep, seen, out);
    }
}

void assets_module_tags(const char *name, size_t len, buf *out)
{
    const asset *a = find(name, len);
    unsigned char *seen = xcalloc(nassets ? nassets : 1, 1);
    if (!a || !seen) {
        free(seen);
        buf_puts(out, "<script type=\"module\" src=\"/assets/missing\"></script>");
        return;
    }
    /* The browser learns of an import only once it has the importing file:
     * listing them all up front fetches them in parallel. */
    preload(a, seen, out);
    free(seen);
    buf_puts(out, "<script type=\"module\" src=\"");
    buf_puts(out, a->url);
    buf_puts(out, "\"></script>");
}

static int get_asset(http_request *r, void *ctx)
{
    (void)ctx;
    for (size_t i = 0; i < nassets; i++) {
        if (strcmp(assets[i].url + strlen("/assets/"), r->params[0]) != 0)
            continue;
        const graph_blob *b = &assets[i].blob;
        http_body body = {.data = b->data, .len = b->len, .gz = b->gz, .gzlen = b->gzlen, .etag = b->etag};
        http_respond_body(r, 200, assets[i].content_type, HTTP_CACHE_IMMUTABLE, &body, NULL, NULL);
        return 0;
    }
    http_problem(r, 404, "Not Found", "No such asset (asset names change with every release).", NULL);
    return 0;
}

void assets_register(http_router *rt) { http_route(rt, "GET", "/assets/{name}", get_asset, NULL); }
