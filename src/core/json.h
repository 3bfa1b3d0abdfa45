/*
 * json.h — fast JSON writer.
 *
 * Output is produced by this writer, never by pasting strings: it tracks
 * commas, escapes every string (including '<', '>', '&' and U+2028/2029, so a
 * document is safe to embed anywhere), and replaces invalid UTF-8 with U+FFFD.
 * Parsing is jansson's job; writing is ours because the snapshot serializes
 * the whole map on every rebuild and must be fast.
 */
#ifndef MG_JSON_H
#define MG_JSON_H

#include "core/buf.h"

#include <stdint.h>

#define JSON_MAX_DEPTH 32

typedef struct json_writer {
    buf *out;
    int depth;
    unsigned char need_comma[JSON_MAX_DEPTH];
    int after_key;
} json_writer;

void jw_init(json_writer *w, buf *out);
void jw_object_begin(json_writer *w);
void jw_object_end(json_writer *w);
void jw_array_begin(json_writer *w);
void jw_array_end(json_writer *w);
void jw_key(json_writer *w, const char *key);
void jw_string(json_writer *w, const char *s);
void jw_string_len(json_writer *w, const char *s, size_t len);
/* A NULL string is written as null. */
void jw_string_or_null(json_writer *w, const char *s);
void jw_int(json_writer *w, int64_t v);
void jw_double(json_writer *w, double v);
/* A number rounded to two decimals, without trailing zeros (fast). */
void jw_fixed2(json_writer *w, double v);
void jw_bool(json_writer *w, int v);
void jw_null(json_writer *w);
/* Inserts already-serialized JSON as one value. */
void jw_raw(json_writer *w, const char *json, size_t len);

/* Appends the escaped form of s (without quotes) to out. */
void jw_escape(buf *out, const char *s, size_t len);

#endif
