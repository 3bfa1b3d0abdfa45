/*
 * fuzz_text.c — libFuzzer target for the text helpers (core/text.c) and the
 * JSON writer (core/json.c).
 *
 * Properties checked on every input, with jansson as the independent oracle:
 *   - text_utf8_valid agrees with jansson's UTF-8 check;
 *   - text_fold gives valid UTF-8 and is idempotent;
 *   - text_html_escape leaves no < > " ' and only entity-starting &;
 *   - text_url_decode never grows the text and, without '%' and '+', is the identity;
 *   - jw_escape output, quoted, parses with jansson; for valid UTF-8 it gives
 *     back the input exactly, and no raw < > & U+2028 U+2029 survive;
 *   - a document written by an input-driven sequence of writer calls parses.
 */
#include "core/buf.h"
#include "core/json.h"
#include "core/text.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what, const void *data, size_t len)
{
    fprintf(stderr, "fuzz_text: %s (%zu bytes):", what, len);
    for (size_t i = 0; i < len && i < 200; i++)
        fprintf(stderr, " %02x", ((const unsigned char *)data)[i]);
    fputc('\n', stderr);
    abort();
}

static void check_utf8(const char *s, size_t len)
{
    json_t *j = json_stringn(s, len);
    int jansson_ok = j != NULL;
    json_decref(j);
    if (text_utf8_valid(s, len) != jansson_ok)
        die(jansson_ok ? "text_utf8_valid refused what jansson accepts" : "text_utf8_valid accepted invalid UTF-8", s,
            len);
}

/* s is NUL-terminated (its first NUL ends it). */
static void check_fold_and_html(const char *s)
{
    buf f = BUF_INIT, g = BUF_INIT, h = BUF_INIT;
    text_fold(s, &f);
    const char *folded = buf_cstr(&f);
    if (!text_utf8_valid(folded, f.len))
        die("text_fold produced invalid UTF-8", folded, f.len);
    for (size_t i = 0; i < f.len; i++)
        if (folded[i] >= 'A' && folded[i] <= 'Z')
            die("text_fold left an ASCII capital", folded, f.len);
    text_fold(folded, &g);
    if (g.len != f.len || memcmp(buf_cstr(&g), folded, f.len) != 0)
        die("text_fold is not idempotent", s, strlen(s));

    text_html_escape(&h, s);
    const char *e = buf_cstr(&h);
    for (size_t i = 0; i < h.len; i++) {
        if (e[i] == '<' || e[i] == '>' || e[i] == '"' || e[i] == '\'')
            die("text_html_escape left a special character", e, h.len);
        if (e[i] == '&' && strncmp(e + i, "&amp;", 5) && strncmp(e + i, "&lt;", 4) && strncmp(e + i, "&gt;", 4) &&
            strncmp(e + i, "&quot;", 6) && strncmp(e + i, "&#39;", 5))
            die("text_html_escape left a bare &", e, h.len);
    }
    if (text_utf8_valid(s, strlen(s))) {
        (void)text_has_control(s);
        if (text_utf8_length(s) > strlen(s))
            die("text_utf8_length longer than the bytes", s, strlen(s));
    }
    buf_free(&f);
    buf_free(&g);
    buf_free(&h);
}

static void check_url_decode(const char *data, size_t len)
{
    for (int plus = 0; plus < 2; plus++) {
        char *s = malloc(len + 1);
        memcpy(s, data, len);
        s[len] = '\0';
        long n = text_url_decode(s, len, plus);
        if (n < -1 || n > (long)len)
            die("text_url_decode returned an impossible length", data, len);
        if (!memchr(data, '%', len) && (!plus || !memchr(data, '+', len)) && (n != (long)len || memcmp(s, data, len)))
            die("text_url_decode changed text without escapes", data, len);
        if (memchr(data, '%', len) == NULL && n == -1)
            die("text_url_decode refused text without escapes", data, len);
        free(s);
    }
}

static void check_escape(const char *s, size_t len)
{
    buf out = BUF_INIT;
    buf_putc(&out, '"');
    jw_escape(&out, s, len);
    buf_putc(&out, '"');
    const char *e = buf_cstr(&out);
    for (size_t i = 0; i < out.len; i++) {
        unsigned char c = (unsigned char)e[i];
        if (c == '<' || c == '>' || c == '&' || c < 0x20)
            die("jw_escape left a character raw", s, len);
        if (c == 0xE2 && i + 2 < out.len && (unsigned char)e[i + 1] == 0x80 &&
            ((unsigned char)e[i + 2] == 0xA8 || (unsigned char)e[i + 2] == 0xA9))
            die("jw_escape left U+2028/U+2029 raw", s, len);
    }
    json_error_t jerr;
    json_t *v = json_loadb(e, out.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!v || !json_is_string(v))
        die("jw_escape output does not parse", s, len);
    if (text_utf8_valid(s, len) && (json_string_length(v) != len || memcmp(json_string_value(v), s, len) != 0))
        die("jw_escape of valid UTF-8 does not round-trip", s, len);
    json_decref(v);
    buf_free(&out);
}

/* Drives the writer with one call per input byte; nesting stays balanced. */
static void check_writer(const unsigned char *data, size_t len)
{
    buf out = BUF_INIT;
    json_writer w;
    jw_init(&w, &out);
    char kinds[256]; /* 'o' object, 'a' array */
    int depth = 0;
    jw_array_begin(&w);
    kinds[depth++] = 'a';
    for (size_t i = 0; i < len && i < 4096; i++) {
        unsigned op = data[i] & 7;
        if (op == 2) {
            if (depth > 1) {
                depth--;
                if (kinds[depth] == 'o')
                    jw_object_end(&w);
                else
                    jw_array_end(&w);
            }
            continue;
        }
        if (kinds[depth - 1] == 'o') {
            char key[4] = {'k', (char)('a' + (data[i] >> 3) % 26), (char)data[i], 0};
            jw_key(&w, key);
        }
        switch (op) {
        case 0:
        case 1:
            if (depth < (int)sizeof kinds) {
                kinds[depth++] = op == 0 ? 'o' : 'a';
                if (op == 0)
                    jw_object_begin(&w);
                else
                    jw_array_begin(&w);
            } else {
                jw_null(&w);
            }
            break;
        case 3:
            jw_string_len(&w, (const char *)data + i, len - i < 8 ? len - i : 8);
            break;
        case 4:
            jw_int(&w, (int64_t)data[i] * 1000003 - 500000);
            break;
        case 5:
            jw_null(&w);
            break;
        case 6:
            jw_bool(&w, data[i] & 8);
            break;
        default:
            jw_double(&w, (double)data[i] / 7.0);
            break;
        }
    }
    while (depth > 0) {
        depth--;
        if (kinds[depth] == 'o')
            jw_object_end(&w);
        else
            jw_array_end(&w);
    }
    if (!buf_failed(&out)) {
        json_error_t jerr;
        json_t *v = json_loadb(out.data, out.len, JSON_ALLOW_NUL, &jerr);
        if (!v) {
            fprintf(stderr, "document: %.*s\njansson: %s\n", (int)(out.len > 2000 ? 2000 : out.len), out.data,
                    jerr.text);
            die("writer output does not parse", data, len);
        }
        json_decref(v);
    }
    buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    check_utf8(s, size);
    char *z = malloc(size + 1);
    memcpy(z, data, size);
    z[size] = '\0';
    check_fold_and_html(z);
    free(z);
    check_url_decode(s, size);
    check_escape(s, size);
    check_writer(data, size);
    return 0;
}
