/*
 * sha256.h — SHA-256 as lowercase hex, the form backups, S3 signatures and
 * migration checksums write down.
 */
#ifndef MG_SHA256_H
#define MG_SHA256_H

#include <stddef.h>

#define SHA256_HEX_SIZE 65 /* 64 hex digits and a NUL */

void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_SIZE]);

#endif
