/*
 * gzip_pieces.h — a gzip member compressed piece by piece, so that the next
 * version of a document compresses again only the pieces that changed.
 *
 * The map's document is written again after every edit, yet an edit changes
 * a few hundred bytes of its megabytes: compressing all of it again took as
 * much CPU as building the snapshot, on every instance. The document is cut
 * where its writer chooses (between nodes, so that the bytes of a piece do
 * not move when other nodes change). Each piece is deflated on its own,
 * primed with the 32 KiB before it (so the whole compresses about as well as
 * one stream) and flushed to a byte boundary, so the pieces join into one
 * valid deflate stream (pigz cuts the same way to compress in parallel). A
 * piece whose bytes and the 32 KiB before them are those of a piece of the
 * previous version takes that piece's compressed bytes and CRC as they are.
 */
#ifndef MG_GZIP_PIECES_H
#define MG_GZIP_PIECES_H

#include <stddef.h>
#include <stdint.h>

typedef struct gzip_piece {
    size_t raw_off, raw_len; /* in the document */
    size_t gz_off, gz_len;   /* in the gzip member */
    uint32_t crc;            /* CRC-32 of the raw bytes */
    uint64_t hash;           /* of the raw bytes (strmap_hash), to find candidates */
} gzip_piece;

/* A document compressed by gzip_compress_pieces (nothing owned). */
typedef struct gzip_pieced {
    const char *data;
    size_t len;
    const char *gz;
    size_t gzlen;
    const gzip_piece *pieces;
    size_t npieces;
} gzip_pieced;

/* Compresses data, cut after each offset of cuts (strictly ascending,
 * inside 1..len-1), at level into a new malloc'd gzip member (*out,
 * *outlen) and its pieces (*pieces, malloc'd, *npieces), reusing the pieces
 * of base that are unchanged (base may be NULL). *reused (may be NULL)
 * counts them. 0, or -1 when out of memory or given bad cuts. */
int gzip_compress_pieces(const char *data, size_t len, const size_t *cuts, size_t ncuts, int level,
                         const gzip_pieced *base, char **out, size_t *outlen, gzip_piece **pieces, size_t *npieces,
                         size_t *reused);

#endif
