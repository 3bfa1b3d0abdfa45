/*
 * minisign.h — verifying minisign signatures: the release signatures.
 *
 * Releases are signed with minisign (Ed25519; scripts/dist). The format is
 * small enough to check with libsodium alone, so the program verifies a
 * release without any tool on the server: a public key is "Ed" + 8-byte key
 * id + 32-byte key, base64; a .minisig file is an untrusted comment line,
 * base64("ED" + key id + Ed25519 signature of the BLAKE2b-512 hash of the
 * file), a "trusted comment: TEXT" line and base64(Ed25519 signature of the
 * first signature followed by TEXT). Both signatures must verify, so the
 * trusted comment (which names the version) is as authentic as the file.
 * The legacy "Ed" form (the file signed directly) is accepted too.
 */
#ifndef MG_OPS_MINISIGN_H
#define MG_OPS_MINISIGN_H

#include <stddef.h>

typedef struct minisign_key {
    unsigned char id[8];
    unsigned char pk[32];
} minisign_key;

/* A public key: the contents of a minisign .pub file or its base64 line. */
int minisign_parse_key(const char *text, size_t len, minisign_key *key, char *err, size_t errlen);
/* Checks sig (a .minisig file's contents) for msg; on success the trusted
 * comment is copied into comment. 0 when valid, -1 with a reason otherwise. */
int minisign_verify(const minisign_key *key, const void *msg, size_t msglen, const char *sig, size_t siglen,
                    char *comment, size_t commentlen, char *err, size_t errlen);

#endif
