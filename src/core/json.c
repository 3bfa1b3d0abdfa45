/*
 * json.c — JSON writer (see json.h).
 */
#include "core/json.h"

#include "core/text.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void jw_init(json_writer *w, buf *out)
{
    memset(w, 0, sizeof *w);
    w->out = out;
}

/* Writes the separator a new value needs at the current position. */
static void before_value(json_writer *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->depth > 0 && w->depth <= JSON_MAX_DEPTH) {
        if (w->need_comma[w->depth - 1])
            buf_putc(w->out, ',');
        w->need_comma[w->depth - 1] = 1;
    }
}

static void open_scope(json_writer *w, char c)
{
    before_value(w);
    buf_putc(w->out, c);
    if (w->depth < JSON_MAX_DEPTH)
        w->need_comma[w->depth] = 0;
    else
        w->out->failed = 1; /* commas are no longer tracked: the document would be wrong */
    w->depth++;
}

static void close_scope(json_writer *w, char c)
{
    if (w->depth > 0)
        w->depth--;
    buf_putc(w->out, c);
}

void jw_object_begin(json_writer *w) { open_scope(w, '{'); }
void jw_object_end(json_writer *w) { close_scope(w, '}'); }
void jw_array_begin(json_writer *w) { open_scope(w, '['); }
void jw_array_end(json_writer *w) { close_scope(w, ']'); }

void jw_key(json_writer *w, const char *key)
{
    jw_string(w, key);
    buf_putc(w->out, ':');
    w->after_key = 1;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t avail)
{
    unsigned int cp;
    return text_utf8_decode(s, avail, &cp);
}

/* 1 for the bytes that are copied as they are: printable ASCII other than
 * the quote, the backslash and the three HTML-significant characters. */
static const unsigned char plain_ascii[256] = {
    [0x20] = 1,          [0x21] = 1, [0x23] = 1,          [0x24] = 1,          [0x25] = 1,
    [0x27 ... 0x3b] = 1, [0x3d] = 1, [0x3f ... 0x5b] = 1, [0x5d ... 0x7e] = 1,
};

void jw_escape(buf *out, const char *str, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    size_t run = 0; /* start of the pending run of bytes that need no escaping */
    for (size_t i = 0; i < len;) {
        /* Fast path: plain ASCII that needs nothing (most names, all ids). */
        while (i < len && plain_ascii[s[i]])
            i++;
        if (i == len)
            break;
        unsigned char c = s[i];
        const char *esc = NULL;
        char ubuf[7];
        size_t adv = 1;
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            ubuf[0] = '\\', ubuf[1] = 'u', ubuf[2] = '0', ubuf[3] = '0';
            ubuf[4] = hex[c >> 4], ubuf[5] = hex[c & 15], ubuf[6] = 0;
            esc = ubuf;
        } else if (c >= 0x80) {
            adv = utf8_seq_len(s + i, len - i);
            if (adv == 0) {
                esc = "\\ufffd";
                adv = 1;
            } else if (adv == 3 && c == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9)) {
                esc = s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029";
            }
        }
        if (esc) {
            buf_append(out, s + run, i - run);
            buf_puts(out, esc);
            i += adv;
            run = i;
        } else {
            i += adv;
        }
    }
    buf_append(out, s + run, len - run);
}

void jw_string_len(json_writer *w, const char *s, size_t len)
{
    before_value(w);
    buf_putc(w->out, '"');
    jw_escape(w->out, s, len);
    buf_putc(w->out, '"');
}

void jw_string(json_writer *w, const char *s) { jw_string_len(w, s, strlen(s)); }

void jw_string_or_null(json_writer *w, const char *s)
{
    if (s)
        jw_string(w, s);
    else
        jw_null(w);
}

void jw_int(json_writer *w, int64_t v)
{
    before_value(w);
    buf_printf(w->out, "%lld", (long long)v);
}

void jw_double(json_writer *w, double v)
{
    before_value(w);
    if (!isfinite(v))
        buf_puts(w->out, "null");
    else
        buf_printf(w->out, "%.12g", v);
}

void jw_bool(json_writer *w, int v)
{
    before_value(w);
    buf_puts(w->out, v ? "true" : "false");
}

void jw_null(json_writer *w)
{
    before_value(w);
    buf_puts(w->out, "null");
}

void jw_raw(json_writer *w, const char *json, size_t len)
{
    before_value(w);
    buf_append(w->out, json, len);
}

void jw_fixed2(json_writer *w, double v)
{
    before_value(w);
    if (!isfinite(v) || v > 9e15 || v < -9e15) {
        buf_puts(w->out, "null");
        return;
    }
    /* Integer arithmetic: printf's floating-point path costs more than the
     * rest of a map document's serialization. */
    long long hundredths = llround(v * 100);
    char digits[32], *p = digits + sizeof digits;
    unsigned long long u = hundredths < 0 ? (unsigned long long)(-hundredths) : (unsigned long long)hundredths;
    int frac = (int)(u % 100);
    u /= 100;
    if (frac) {
        if (frac % 10)
            *--p = (char)('0' + frac % 10);
        *--p = (char)('0' + frac / 10);
        *--p = '.';
    }
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (hundredths < 0)
        *--p = '-';
    buf_append(w->out, p, (size_t)(digits + sizeof digits - p));
}
