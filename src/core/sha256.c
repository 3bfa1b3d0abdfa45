/*
 * sha256.c — SHA-256 to hex (see sha256.h), through libsodium.
 */
#include "core/sha256.h"

#include <sodium.h>

void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_SIZE])
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, data, len);
    sodium_bin2hex(out, SHA256_HEX_SIZE, digest, sizeof digest);
}
