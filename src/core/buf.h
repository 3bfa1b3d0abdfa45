/*
 * buf.h — growable byte buffer.
 *
 * The one way this program builds strings: JSON documents, HTML pages, SQL
 * error messages. Appends never fail silently: on allocation failure the
 * buffer is marked failed, further appends are ignored, and buf_failed()
 * tells the caller once at the end instead of after every call.
 */
#ifndef MG_BUF_H
#define MG_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct buf {
    char *data; /* always NUL-terminated when len > 0 or after buf_cstr() */
    size_t len;
    size_t cap;
    int failed;
} buf;

#define BUF_INIT                                                                                                       \
    {                                                                                                                  \
        0, 0, 0, 0                                                                                                     \
    }

void buf_puts(buf *b, const char *s);
void buf_append(buf *b, const void *data, size_t len);
/* Inline: JSON and HTML writers call it for every punctuation character. */
static inline void buf_putc(buf *b, char c)
{
    if (b->len + 1 < b->cap && !b->failed) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
    } else {
        buf_append(b, &c, 1);
    }
}
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(buf *b, const char *fmt, va_list ap);
/* Returns the contents as a C string ("" when empty); the buffer keeps ownership. */
const char *buf_cstr(buf *b);
/* Hands the bytes to the caller (who frees them) and resets the buffer. */
char *buf_steal(buf *b, size_t *len);
void buf_reset(buf *b);
void buf_free(buf *b);
int buf_failed(const buf *b);

#endif
