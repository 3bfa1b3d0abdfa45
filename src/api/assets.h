/*
 * assets.h — the web UI's static files (web/, embedded by tools/embed.c).
 *
 * Served as /assets/STEM.HASH.EXT, immutable; ES modules import each other
 * by their hashed names (assets.c says how). Templates (*.html) are not
 * assets: pages.c renders them with the URLs from here.
 */
#ifndef MG_ASSETS_H
#define MG_ASSETS_H

#include "core/buf.h"
#include "core/embedded.h"
#include "http/http.h"

#include <stddef.h>

/* Hashes every file of the table (embedded_web) but the templates and
 * resolves the modules' imports; -1 with err when an import names no file
 * of the table or the imports form a cycle. Once: later calls do nothing
 * until assets_free. */
int assets_init(const struct embedded_file *files, char *err, size_t errlen);
void assets_free(void);
/* The hashed URL of the file with this name (len bytes), or NULL. */
const char *assets_url(const char *name, size_t len);
/* Appends the tags that load a module: a modulepreload link for every
 * module it imports, directly or not, then its <script type="module">. */
void assets_module_tags(const char *name, size_t len, buf *out);
/* GET /assets/{name}. */
void assets_register(http_router *rt);

#endif
