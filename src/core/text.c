/*
 * text.c — UTF-8 checks, search folding, HTML escaping (see text.h).
 */
#include "core/text.h"

#include <string.h>
#include <utf8proc.h>

size_t text_utf8_decode(const unsigned char *s, size_t avail, unsigned int *cp_out)
{
    unsigned char c = s[0];
    size_t n;
    unsigned int cp;
    if (c < 0x80) {
        *cp_out = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, cp = c & 0x07;
    else
        return 0;
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    *cp_out = cp;
    return n;
}

int text_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned int cp;
    for (size_t i = 0; i < len;) {
        size_t n = text_utf8_decode(p + i, len - i, &cp);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

/* Characters that change how the text around them is laid out without being
 * visible: C0/C1 controls and DEL, the line and paragraph separators (a
 * JavaScript line terminator), and the bidirectional marks, embeddings,
 * overrides and isolates, with which a name can display as another. Newline
 * and tab pass when layout is allowed (descriptions). */
static int is_control(unsigned int cp, int allow_layout)
{
    if (allow_layout && (cp == '\n' || cp == '\t'))
        return 0;
    return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 || cp == 0x200E ||
           cp == 0x200F || cp == 0x061C || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

static int has_control(const char *s, int allow_layout)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s);
    unsigned int cp;
    for (size_t i = 0; i < len;) {
        size_t n = text_utf8_decode(p + i, len - i, &cp);
        if (n == 0 || is_control(cp, allow_layout))
            return 1;
        i += n;
    }
    return 0;
}

int text_has_control(const char *s) { return has_control(s, 0); }

int text_has_control_except_layout(const char *s) { return has_control(s, 1); }

size_t text_utf8_length(const char *s)
{
    size_t count = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xC0) != 0x80)
            count++;
    return count;
}

/* Letters that Unicode does not decompose into a base letter and marks, and
 * typographic punctuation, with the ASCII people type for them. Everything
 * else is decomposed by utf8proc (NFKD with case folding and marks stripped),
 * so "é", "ş", "ğ", "ơ" or "ﬁ" need no entry here. Sorted by code point. */
static const struct {
    unsigned int cp;
    const char *ascii;
} fold_extra[] = {
    {0x00B7, ""},   /* middle dot of Catalan l·l */
    {0x00E6, "ae"}, /* æ */
    {0x00F0, "d"},  /* ð */
    {0x00F8, "o"},  /* ø */
    {0x00FE, "th"}, /* þ */
    {0x0111, "d"},  /* đ */
    {0x0127, "h"},  /* ħ */
    {0x0131, "i"},  /* dotless ı */
    {0x0138, "k"},  /* ĸ */
    {0x0142, "l"},  /* ł */
    {0x014B, "ng"}, /* ŋ */
    {0x0153, "oe"}, /* œ */
    {0x0167, "t"},  /* ŧ */
    {0x0180, "b"},  /* ƀ */
    {0x0188, "c"},  /* ƈ */
    {0x0192, "f"},  /* ƒ */
    {0x01A5, "p"},  /* ƥ */
    {0x01B4, "y"},  /* ƴ */
    {0x01B6, "z"},  /* ƶ */
    {0x0225, "z"},  /* ȥ */
    {0x0254, "o"},  /* open o ɔ */
    {0x0256, "d"},  /* ɖ */
    {0x0259, "e"},  /* schwa ə (Azerbaijani) */
    {0x025B, "e"},  /* open e ɛ */
    {0x0263, "g"},  /* ɣ */
    {0x0268, "i"},  /* ɨ */
    {0x0272, "n"},  /* ɲ */
    {0x0289, "u"},  /* ʉ */
    {0x028B, "v"},  /* ʋ */
    {0x2010, "-"},  /* hyphen */
    {0x2011, "-"},  /* non-breaking hyphen */
    {0x2012, "-"},  /* figure dash */
    {0x2013, "-"},  /* en dash */
    {0x2014, "-"},  /* em dash */
    {0x2015, "-"},  /* horizontal bar */
    {0x2018, "'"},  /* left single quote */
    {0x2019, "'"},  /* right single quote, apostrophe */
    {0x201C, "\""}, /* left double quote */
    {0x201D, "\""}, /* right double quote */
};

static const char *fold_extra_ascii(unsigned int cp)
{
    size_t lo = 0, hi = sizeof fold_extra / sizeof fold_extra[0];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (fold_extra[mid].cp == cp)
            return fold_extra[mid].ascii;
        if (fold_extra[mid].cp < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Appends the folded form of one decomposed, case-folded code point. */
static void fold_put(buf *out, utf8proc_int32_t cp)
{
    if (cp < 0x80) {
        char c = (char)cp;
        buf_putc(out, (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c);
        return;
    }
    const char *ascii = fold_extra_ascii((unsigned int)cp);
    if (ascii) {
        buf_puts(out, ascii);
        return;
    }
    utf8proc_uint8_t bytes[4];
    utf8proc_ssize_t n = utf8proc_encode_char(cp, bytes);
    buf_append(out, bytes, (size_t)n);
}

void text_fold(const char *s, buf *out)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s);
    unsigned int cp;
    for (size_t i = 0; i < len;) {
        size_t n = text_utf8_decode(p + i, len - i, &cp);
        if (n == 0) {
            i++;
            continue;
        }
        i += n;
        if (cp < 0x80) {
            fold_put(out, (utf8proc_int32_t)cp);
            continue;
        }
        /* The longest compatibility decomposition is 18 code points (U+FDFA). */
        utf8proc_int32_t parts[32];
        int boundclass = 0;
        utf8proc_ssize_t k = utf8proc_decompose_char(
            (utf8proc_int32_t)cp, parts, 32,
            UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK, &boundclass);
        if (k < 0 || k > 32) {
            fold_put(out, (utf8proc_int32_t)cp);
            continue;
        }
        for (utf8proc_ssize_t j = 0; j < k; j++)
            fold_put(out, parts[j]);
    }
}

void text_html_escape(buf *out, const char *s)
{
    const char *run = s;
    for (; *s; s++) {
        const char *esc;
        switch (*s) {
        case '&':
            esc = "&amp;";
            break;
        case '<':
            esc = "&lt;";
            break;
        case '>':
            esc = "&gt;";
            break;
        case '"':
            esc = "&quot;";
            break;
        case '\'':
            esc = "&#39;";
            break;
        default:
            continue;
        }
        buf_append(out, run, (size_t)(s - run));
        buf_puts(out, esc);
        run = s + 1;
    }
    buf_append(out, run, (size_t)(s - run));
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long text_url_decode(char *s, size_t len, int plus_is_space)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%') {
            if (i + 2 >= len)
                return -1;
            int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            s[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else if (s[i] == '+' && plus_is_space) {
            s[o++] = ' ';
        } else {
            s[o++] = s[i];
        }
    }
    if (o < len)
        s[o] = '\0';
    return (long)o;
}
