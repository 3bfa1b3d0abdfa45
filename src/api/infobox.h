/*
 * infobox.h — the explorer's panel as server-written HTML (infobox.c): the
 * genre and band pages and the search page carry their content for readers
 * without JavaScript, crawlers and link previews; the explorer's script
 * redraws the panel in place when it runs.
 *
 * Each writes the panel's inside (its head with the id="panel-title"
 * heading, then id="panel-body") to out, every value HTML-escaped.
 */
#ifndef MG_INFOBOX_H
#define MG_INFOBOX_H

#include "core/buf.h"
#include "graph/snapshot.h"

#include <stddef.h>

/* The panel with nothing in it (the home page). */
void infobox_empty(buf *out);
void infobox_genre(const graph_snapshot *s, size_t genre_index, buf *out);
void infobox_band(const graph_snapshot *s, size_t band_index, buf *out);
/* Search results for q, genres then bands, in the order of the ranking. */
void infobox_search(const graph_snapshot *s, const char *q, buf *out);

#endif
