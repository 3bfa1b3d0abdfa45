/*
 * text.c — UTF-8 checks, search folding, HTML escaping (see text.h).
 */
#include "core/text.h"

#include <string.h>

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

int text_has_control(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s);
    unsigned int cp;
    for (size_t i = 0; i < len;) {
        size_t n = text_utf8_decode(p + i, len - i, &cp);
        if (n == 0)
            return 1;
        if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))
            return 1;
        i += n;
    }
    return 0;
}

size_t text_utf8_length(const char *s)
{
    size_t count = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xC0) != 0x80)
            count++;
    return count;
}

/* Latin-1 Supplement letters U+00C0..U+00FF, by offset. */
static const char *const latin1_fold[64] = {
    "a", "a",  "a", "a", "a", "a", "ae", "c", "e",  "e",  "e", "e",  "i", "i", "i", "i", "d",  "n", "o",  "o", "o", "o",
    "o", NULL, "o", "u", "u", "u", "u",  "y", "th", "ss", "a", "a",  "a", "a", "a", "a", "ae", "c", "e",  "e", "e", "e",
    "i", "i",  "i", "i", "d", "n", "o",  "o", "o",  "o",  "o", NULL, "o", "u", "u", "u", "u",  "y", "th", "y"};

/* Latin Extended-A U+0100..U+017F (and Extended Additional below) as ranges sharing one base letter. */
static const struct {
    unsigned int first, last;
    const char *base;
} latin_ext_fold[] = {
    {0x100, 0x105, "a"},
    {0x106, 0x10D, "c"},
    {0x10E, 0x111, "d"},
    {0x112, 0x11B, "e"},
    {0x11C, 0x123, "g"},
    {0x124, 0x127, "h"},
    {0x128, 0x131, "i"},
    {0x132, 0x133, "ij"},
    {0x134, 0x135, "j"},
    {0x136, 0x138, "k"},
    {0x139, 0x142, "l"},
    {0x143, 0x14B, "n"},
    {0x14C, 0x151, "o"},
    {0x152, 0x153, "oe"},
    {0x154, 0x159, "r"},
    {0x15A, 0x161, "s"},
    {0x162, 0x167, "t"},
    {0x168, 0x173, "u"},
    {0x174, 0x175, "w"},
    {0x176, 0x178, "y"},
    {0x179, 0x17E, "z"},
    {0x17F, 0x17F, "s"},
    /* Latin Extended Additional (Vietnamese, Welsh, …): letter pairs by base. */
    {0x1E00, 0x1E01, "a"},
    {0x1E02, 0x1E07, "b"},
    {0x1E08, 0x1E09, "c"},
    {0x1E0A, 0x1E13, "d"},
    {0x1E14, 0x1E1D, "e"},
    {0x1E1E, 0x1E1F, "f"},
    {0x1E20, 0x1E21, "g"},
    {0x1E22, 0x1E2B, "h"},
    {0x1E2C, 0x1E2F, "i"},
    {0x1E30, 0x1E35, "k"},
    {0x1E36, 0x1E3D, "l"},
    {0x1E3E, 0x1E43, "m"},
    {0x1E44, 0x1E4B, "n"},
    {0x1E4C, 0x1E53, "o"},
    {0x1E54, 0x1E57, "p"},
    {0x1E58, 0x1E5F, "r"},
    {0x1E60, 0x1E69, "s"},
    {0x1E6A, 0x1E71, "t"},
    {0x1E72, 0x1E7B, "u"},
    {0x1E7C, 0x1E7F, "v"},
    {0x1E80, 0x1E89, "w"},
    {0x1E8A, 0x1E8D, "x"},
    {0x1E8E, 0x1E8F, "y"},
    {0x1E90, 0x1E95, "z"},
    {0x1E96, 0x1E96, "h"},
    {0x1E97, 0x1E97, "t"},
    {0x1E98, 0x1E98, "w"},
    {0x1E99, 0x1E99, "y"},
    {0x1E9A, 0x1E9A, "a"},
    {0x1E9B, 0x1E9D, "s"},
    {0x1E9E, 0x1E9E, "ss"},
    {0x1E9F, 0x1E9F, "d"},
    {0x1EA0, 0x1EB7, "a"},
    {0x1EB8, 0x1EC7, "e"},
    {0x1EC8, 0x1ECB, "i"},
    {0x1ECC, 0x1EE3, "o"},
    {0x1EE4, 0x1EF1, "u"},
    {0x1EF2, 0x1EF9, "y"},
    {0x1EFA, 0x1EFB, "ll"},
    {0x1EFC, 0x1EFD, "v"},
    {0x1EFE, 0x1EFF, "y"},
};

static const char *fold_code_point(unsigned int cp)
{
    if (cp >= 0xC0 && cp <= 0xFF)
        return latin1_fold[cp - 0xC0];
    if (cp < 0x100 || (cp > 0x17F && cp < 0x1E00) || cp > 0x1EFF)
        return NULL;
    for (size_t i = 0; i < sizeof latin_ext_fold / sizeof latin_ext_fold[0]; i++)
        if (cp >= latin_ext_fold[i].first && cp <= latin_ext_fold[i].last)
            return latin_ext_fold[i].base;
    return NULL;
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
        if (cp < 0x80) {
            char c = (char)cp;
            buf_putc(out, (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c);
        } else {
            const char *base = fold_code_point(cp);
            if (base)
                buf_puts(out, base);
            else
                buf_append(out, p + i, n);
        }
        i += n;
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
