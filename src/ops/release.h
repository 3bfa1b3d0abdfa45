/*
 * release.h — `musicgraph release`: check a signed release and publish it
 * into a release store.
 *
 * A release is what `make dist` writes: the tarballs, SHA256SUMS naming
 * them with their SHA-256, and SHA256SUMS.minisig, a minisign signature of
 * SHA256SUMS whose trusted comment is "musicgraph VERSION commit COMMIT".
 * Checking it means: the signature verifies with the given public key, and
 * every file SHA256SUMS names is there, is a musicgraph-VERSION-… file and
 * has that hash. Nothing else is trusted: the version comes from the signed
 * comment, not from file names.
 *
 * A release store is a directory or an S3 prefix (s3://BUCKET/PREFIX, the
 * backups' client and settings). A version lives under releases/VERSION/
 * and is written once: publishing a version that is there is refused. In a
 * directory the version is assembled under a temporary name and renamed into
 * place without replacing anything, so it appears whole or not at all; on
 * S3, SHA256SUMS is uploaded last, so a reader that finds it finds the rest.
 * The deploy agent and the provisioning script read the same layout.
 *
 * Promotion moves channels/CHANNEL; production only to a version a deploy
 * agent recorded healthy on dev or staging (deployed/ENV/VERSION, deploy.h).
 */
#ifndef MG_OPS_RELEASE_H
#define MG_OPS_RELEASE_H

#include "core/config.h"

int cmd_release(config *cfg, int argc, char **argv);
/* Checks the release in dir as `release verify` does; with only, just that
 * file of the ones SHA256SUMS names must be there. The signed version goes
 * to version. */
int release_verify(const char *dir, const char *key, const char *only, char *version, size_t vlen, char *err,
                   size_t errlen);
extern const char cmd_release_usage[];

#endif
