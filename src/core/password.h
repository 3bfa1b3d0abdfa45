/*
 * password.h — passwords: argon2id hashes (libsodium) and generated ones.
 *
 * Used wherever a password is set or checked: logging in (api/auth.c),
 * the admin's user API, the first admin at start and `musicgraph user`.
 */
#ifndef MG_PASSWORD_H
#define MG_PASSWORD_H

#include <stddef.h>

/* Hashes password into out (at least crypto_pwhash_STRBYTES, 128 bytes):
 * 0, or -1 when out is too small or memory is short. */
int password_hash(const char *password, char *out, size_t outlen);
/* 1 when password matches hash. */
int password_verify(const char *hash, const char *password);
/* 1 when some password could match hash: an argon2 hash, not one that
 * locks the account (an anonymized export's "!anonymized"). */
int password_usable(const char *hash);
/* A random password of len-1 characters (letters and digits, without the
 * look-alikes l, I, O, 0 and 1). */
void password_generate(char *out, size_t len);

#endif
