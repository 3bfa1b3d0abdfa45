/*
 * backup_crypt.h — encrypted backups: the envelope around a backup file.
 *
 * An encrypted backup is an ordinary (signed, gzip-compressed) backup file
 * encrypted whole with libsodium's crypto_secretstream_xchacha20poly1305,
 * behind one readable line:
 *
 *   {"encrypted":{"format_version":1,"cipher":"xchacha20poly1305-secretstream",
 *     "chunk_bytes":65536,"key":"passphrase","kdf":"argon2id13","salt":HEX,
 *     "opslimit":N,"memlimit":N,"key_check":HEX},"manifest":{…}}\n
 *   the secretstream header (24 bytes)
 *   chunks: chunk_bytes of the backup file each (the last one shorter, and
 *     tagged final), each grown by the 17 bytes of its tag and MAC
 *
 * The line says what the file is (the manifest: time, tag, counts, signing
 * key) so that listings read it without a key, and how the key is made: from
 * a passphrase by Argon2id with the salt and costs given, or a raw 32-byte
 * key ("key":"key-file"). key_check (BLAKE2b of a constant under the key)
 * tells a wrong passphrase from damaged data. The whole line is the
 * additional data of the first chunk: a line swapped from another backup,
 * or edited, makes that chunk fail to authenticate. A stream cut short
 * lacks its final tag; a flipped byte fails its chunk's MAC.
 *
 * Sign, then encrypt: what is decrypted is byte for byte the signed file an
 * unencrypted backup would have been, so the one signature check
 * (backup_keys.h) covers both, and it proves who wrote the data, not merely
 * who held the encryption key (anyone restoring from the bucket does).
 * Chunks are streamed: neither writing nor reading holds more than one.
 */
#ifndef MG_BACKUP_CRYPT_H
#define MG_BACKUP_CRYPT_H

#include "core/config.h"
#include "ops/backup_format.h"

#include <stddef.h>
#include <stdint.h>

/* How every encrypted backup starts. */
#define BACKUP_CRYPT_MAGIC "{\"encrypted\":"
/* What a backup's name gains when encrypted. */
#define BACKUP_CRYPT_SUFFIX ".enc"
/* The readable line's longest length (the manifest is a few hundred bytes). */
#define BACKUP_CRYPT_LINE_MAX (BACKUP_MANIFEST_MAX + 4096)

/* A key backups are encrypted under: a passphrase (stretched per backup) or
 * a raw key. */
typedef struct backup_crypt backup_crypt;

/* The key MUSICGRAPH_BACKUP_PASSPHRASE(_FILE) or MUSICGRAPH_BACKUP_KEY(_FILE)
 * configures: *out NULL when neither is set; -1 when both are, or the key is
 * not 64 hex characters. *local is MUSICGRAPH_BACKUP_ENCRYPT (a key is then
 * required). */
int backup_crypt_from_config(const config *cfg, backup_crypt **out, int *local, char *err, size_t errlen);
/* Direct constructors (tests, the above). */
backup_crypt *backup_crypt_passphrase(const char *passphrase);
int backup_crypt_key_hex(const char *hex, backup_crypt **out, char *err, size_t errlen);
void backup_crypt_free(backup_crypt *k);
/* "passphrase (Argon2id)" or "key file". */
const char *backup_crypt_kind(const backup_crypt *k);

/* 1 when data (the start of a file) is an encrypted backup. */
int backup_crypt_is(const void *data, size_t len);
/* 1 when a backup's name says it is encrypted. */
int backup_crypt_name_is(const char *name);

/* ---- writing ---- */

typedef struct backup_crypt_writer backup_crypt_writer;

/* Starts an encrypted file on fd: derives the key (a new salt), writes the
 * readable line around manifest and the stream header. */
int backup_crypt_writer_new(const backup_crypt *k, int fd, const backup_manifest *manifest, backup_crypt_writer **out,
                            char *err, size_t errlen);
/* A gzip_sink: encrypts whole chunks as they fill. */
int backup_crypt_write(void *w, const char *data, size_t len, char *err, size_t errlen);
/* The last chunk, tagged final. */
int backup_crypt_writer_finish(backup_crypt_writer *w, char *err, size_t errlen);
void backup_crypt_writer_free(backup_crypt_writer *w);

/* Encrypts the finished backup file at in (its manifest m) into fd. */
int backup_crypt_encrypt_file(const backup_crypt *k, const char *in, const backup_manifest *m, int fd, char *err,
                              size_t errlen);

/* ---- reading ---- */

typedef struct backup_crypt_header {
    backup_manifest manifest;
    int passphrase; /* 1: Argon2id from a passphrase, 0: a raw key */
    unsigned char salt[16];
    uint64_t opslimit, memlimit;
    unsigned char key_check[16];
    size_t chunk_bytes;
    size_t line_len; /* the readable line with its newline: the first chunk's additional data */
} backup_crypt_header;

/* Parses the readable line at the start of data (name in messages): 0, or
 * -1 saying what is wrong. Bounded costs: a hostile line cannot ask for
 * gigabytes of Argon2id memory. */
int backup_crypt_parse_header(const char *name, const char *data, size_t len, backup_crypt_header *h, char *err,
                              size_t errlen);
/* Decrypts the encrypted backup at path into out_fd, chunk by chunk, within
 * max_bytes as stored. k NULL: refused, saying a key is needed. The header's
 * manifest goes to h. Nothing partial counts: the caller discards out_fd's
 * file on failure. */
int backup_crypt_decrypt_file(const backup_crypt *k, const char *path, int64_t max_bytes, int out_fd,
                              backup_crypt_header *h, char *err, size_t errlen);

#endif
