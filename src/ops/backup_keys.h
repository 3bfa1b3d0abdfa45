/*
 * backup_keys.h — the keys that sign backups, and the keys trusted to have
 * signed them.
 *
 * Every backup's manifest (which carries the payload's SHA-256) is signed
 * with Ed25519 (libsodium) by the installation's own signing key, kept in
 * STATE_DIR/backup-signing.key (mode 0600, generated at the first backup;
 * never inside a backup). restore and verify accept a signature only from
 * a trusted key: the current signing key, or one listed in
 * STATE_DIR/backup-trusted-keys — the keys this installation rotated away
 * from (so its older backups stay restorable) and those an operator
 * trusted explicitly (`backup-key trust FILE`, moving to a new server).
 * The signing key's public half is also recorded in the database (table
 * backup_keys), and the keys recorded there are trusted too: every
 * instance on one PostgreSQL database, each with its own state directory,
 * trusts what any of them signed. Whoever can write that table could make
 * a backup trusted — as whoever can write the users table can make an
 * admin; a backup itself can never add a key.
 * Keys are written "ed25519:BASE64" (the 32-byte public key) everywhere:
 * in manifests, in messages, in the trusted list.
 */
#ifndef MG_BACKUP_KEYS_H
#define MG_BACKUP_KEYS_H

#include "store/store.h"

#include <stddef.h>

/* "ed25519:" and 44 base64 characters. */
#define BACKUP_KEY_TEXT_MAX 64
/* A signature in base64: 88 characters. */
#define BACKUP_SIGNATURE_TEXT_MAX 96

typedef struct backup_keys backup_keys;

/* The keys of the state directory. With create, a missing signing key is
 * generated (once, even with processes racing); without, there may be
 * none (then nothing signs, and only listed keys are trusted). */
int backup_keys_load(const char *state_dir, int create, backup_keys **out, char *err, size_t errlen);
void backup_keys_free(backup_keys *k);

/* The signing key's public half ("" when there is none). */
const char *backup_keys_public(const backup_keys *k);
/* Signs msg: signature in base64 into sig. -1 when there is no signing key. */
int backup_keys_sign(const backup_keys *k, const void *msg, size_t len, char sig[BACKUP_SIGNATURE_TEXT_MAX]);
/* 0 when sig is a valid signature of msg by key and key is trusted; else
 * says why (naming the key): BACKUP_KEY_UNTRUSTED when key is not trusted
 * (the signature is then not looked at), -1 for anything else. */
#define BACKUP_KEY_UNTRUSTED (-2)
int backup_keys_check(const backup_keys *k, const char *key, const void *msg, size_t len, const char *sig, char *err,
                      size_t errlen);

/* The trusted list's file as it is (keys other than the signing key, one
 * "ed25519:… comment" a line). */
const char *backup_keys_trusted_text(const backup_keys *k);
/* The keys backup_keys_trust_store added, one a line. */
const char *backup_keys_recorded_text(const backup_keys *k);

/* Records the signing key's public half in the database (store.h), so that
 * every process on it trusts what this one signs: called before signing.
 * Nothing when there is no signing key or the schema predates the table. */
int backup_keys_record(const backup_keys *k, store *s, char *err, size_t errlen);
/* Trusts, too, the keys recorded in s's database (in memory only: the
 * trusted list's file is not changed). */
int backup_keys_trust_store(backup_keys *k, store *s, char *err, size_t errlen);
/* A new signing key; the old one's public half joins the trusted list. */
int backup_keys_rotate(const char *state_dir, char *err, size_t errlen);
/* Adds every "ed25519:…" key found in file to the trusted list; *added
 * counts the new ones. */
int backup_keys_trust_file(const char *state_dir, const char *file, int *added, char *err, size_t errlen);
/* Where state_dir's signing key is (its owner must be the server's user). */
void backup_keys_secret_path(const char *state_dir, char *out, size_t len);
/* Makes to_state_dir trust what from_state_dir trusts: copies its signing
 * key and trusted list (mode 0600); a file from_state_dir lacks is left out. */
int backup_keys_copy(const char *from_state_dir, const char *to_state_dir, char *err, size_t errlen);

#endif
