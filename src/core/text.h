/*
 * text.h — UTF-8 checks, search folding and HTML escaping.
 *
 * Names come from curators and imports; they are checked here once (valid
 * UTF-8, no control characters) so that every later writer can trust them.
 * Folding maps a name to its search key: case-folded, decomposed with marks
 * removed (utf8proc), and the few letters Unicode does not decompose (ı, ø,
 * æ, ł, đ, þ…) spelt in ASCII, so "motorhead" finds "Motörhead", "BJORK"
 * finds "Björk" and "baris manco" finds "Barış Manço". Other scripts are
 * kept, case-folded.
 */
#ifndef MG_TEXT_H
#define MG_TEXT_H

#include "core/buf.h"

#include <stddef.h>

/* Decodes the code point at s (avail bytes left): its byte length, or 0 when
 * the bytes are not well-formed UTF-8. */
size_t text_utf8_decode(const unsigned char *s, size_t avail, unsigned int *cp);
/* 1 if s[0..len) is well-formed UTF-8 (no overlongs, no surrogates). */
int text_utf8_valid(const char *s, size_t len);
/* 1 if s contains a C0/C1 control character, DEL, U+2028/U+2029 or a
 * bidirectional control (marks, embeddings, overrides, isolates). s must be
 * valid UTF-8. The second form lets newline and tab pass. */
int text_has_control(const char *s);
int text_has_control_except_layout(const char *s);
/* Number of code points in valid UTF-8 s. */
size_t text_utf8_length(const char *s);
/* Appends the search key of s to out (see above). Invalid bytes are dropped. */
void text_fold(const char *s, buf *out);
/* Appends s with &, <, >, ", ' escaped for HTML text and attribute values. */
void text_html_escape(buf *out, const char *s);
/* Decodes %XX and '+' (when plus_is_space) in place; returns the new length,
 * or -1 on a malformed escape. */
long text_url_decode(char *s, size_t len, int plus_is_space);

#endif
