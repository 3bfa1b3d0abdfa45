/*
 * gzip.h — gzip in and out: the documents the server sends with
 * Content-Encoding: gzip, and backup files anyone can zcat.
 *
 * Reading is bounded (a few bytes must not decompress to gigabytes) and says
 * which kind of damage it met: a stream cut short, corrupt data, or bytes
 * after its end. The messages name the file they are given.
 */
#ifndef MG_GZIP_H
#define MG_GZIP_H

#include <stddef.h>
#include <sys/uio.h>

/* 1 when data starts with the gzip magic bytes. */
int gzip_is(const void *data, size_t len);

/* Compresses data into a new malloc'd gzip member at level (1–9). 0 or -1
 * (out of memory). */
int gzip_compress(const void *data, size_t len, int level, char **out, size_t *outlen);

/* Where bytes go piece by piece (compressed ones when writing, decompressed
 * ones when reading). It returns 0, or -1 having written its reason into
 * err, which stops the stream. */
typedef int (*gzip_sink)(void *ctx, const char *data, size_t len, char *err, size_t errlen);

/* Compresses the iovcnt pieces as one gzip member straight into fd, without
 * holding the compressed bytes. 0, or -1 with errno set. */
int gzip_write_fd(int fd, const struct iovec *iov, int iovcnt, int level);
/* The same into sink (an encrypting writer): 0, or -1 with err. */
int gzip_write_sink(const struct iovec *iov, int iovcnt, int level, gzip_sink sink, void *ctx, char *err,
                    size_t errlen);

/* Decompresses in (named name in messages) into a new malloc'd,
 * NUL-terminated *out. At most max bytes come out: past that it fails, or
 * with partial stops quietly (reading only the head of a file); partial also
 * accepts input that ends early. Without partial the stream must be whole
 * and followed by nothing. */
int gzip_inflate(const char *name, const void *in, size_t inlen, size_t max, int partial, char **out, size_t *outlen,
                 char *err, size_t errlen);

/* Streaming decompression: compressed bytes are pushed in pieces and the
 * decompressed bytes handed to sink piece by piece, so that how large a
 * stream inflates to is learnt without ever holding it (a gzip bomb costs
 * one buffer). Messages are gzip_inflate's. */
typedef struct gzip_reader gzip_reader;

gzip_reader *gzip_reader_new(const char *name, gzip_sink sink, void *ctx);
int gzip_reader_push(gzip_reader *r, const void *in, size_t len, char *err, size_t errlen);
/* The end of the input: the stream must have ended there. */
int gzip_reader_finish(gzip_reader *r, char *err, size_t errlen);
void gzip_reader_free(gzip_reader *r);

#endif
