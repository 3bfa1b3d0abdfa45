/*
 * pages.h — the HTML pages: the explorer page rendered into each snapshot,
 * and the embedded templates (login, admin, forbidden).
 */
#ifndef MG_API_PAGES_H
#define MG_API_PAGES_H

#include "core/buf.h"
#include "graph/snapshot.h"

/* Reads the embedded assets and names them by content hash; once, at start. */
int pages_init(char *err, size_t errlen);
/* Renders the explorer page for a snapshot (attached as an extra). */
int pages_attach(graph_snapshot *s);
/* Renders an embedded page template (login.html, admin.html, …) with
 * @@ASSET:…@@ and the given @@KEY@@ values (escaped); kv ends with NULL. */
void pages_render_template(const char *name, const char *const *kv, buf *out);

#endif
