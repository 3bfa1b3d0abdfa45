/*
 * password.c — argon2id hashing and generated passwords (see password.h).
 */
#include "core/password.h"

#include <sodium.h>
#include <string.h>

int password_hash(const char *password, char *out, size_t outlen)
{
    if (outlen < crypto_pwhash_STRBYTES)
        return -1;
    return crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                             crypto_pwhash_MEMLIMIT_INTERACTIVE);
}

int password_verify(const char *hash, const char *password)
{
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

int password_usable(const char *hash)
{
    /* The two forms crypto_pwhash_str_verify knows; it refuses any other. */
    return strncmp(hash, "$argon2id$", 10) == 0 || strncmp(hash, "$argon2i$", 9) == 0;
}

void password_generate(char *out, size_t len)
{
    static const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    for (size_t i = 0; i + 1 < len; i++)
        out[i] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
    if (len)
        out[len - 1] = '\0';
}
