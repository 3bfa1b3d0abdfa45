/*
 * backup_verify.c — proving that a backup restores (see backup.h).
 *
 * The backup is restored into a scratch SQLite database in a temporary
 * directory, read back, and what comes back must have the manifest's row
 * counts and serialize to the very bytes the manifest's checksum covers.
 */
#include "ops/backup.h"

#include "core/buf.h"
#include "core/fs.h"
#include "core/sha256.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void remove_scratch(const char *dir)
{
    static const char *const files[] = {"scratch.db", "scratch.db-wal", "scratch.db-shm", "scratch.db-journal"};
    char path[4200];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

int backup_verify(const char *path, const backup_limits *lim, backup_trust *trust, const backup_crypt *crypt,
                  backup_manifest *mout, char *err, size_t errlen)
{
    backup_contents c;
    if (backup_read(path, 0, lim, trust, crypt, &c, err, errlen) != 0)
        return -1;
    if (mout)
        *mout = c.manifest;
    char dir[4096], url[4200], why[4096];
    if (fs_make_private_temp_dir("verify", dir, sizeof dir, err, errlen) != 0) {
        backup_contents_free(&c);
        return -1;
    }
    snprintf(url, sizeof url, "sqlite://%s/scratch.db", dir);
    store *scratch = NULL;
    store_dump_t back;
    memset(&back, 0, sizeof back);
    int applied, rc = -1;
    if (store_open(url, &scratch, why, sizeof why) != 0 || store_migrate(scratch, &applied, why, sizeof why) != 0) {
        snprintf(err, errlen, "cannot prepare the scratch database: %s", why);
        goto done;
    }
    if (backup_check_schema(scratch, &c.manifest, why, sizeof why) != 0 ||
        backup_check_rules(&c.dump, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        goto done;
    }
    if (store_restore(scratch, &c.dump, backup_parts(&c.dump), NULL, NULL, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: restoring into a scratch database failed: %s", path, why);
        goto done;
    }
    if (store_dump(scratch, &back, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: reading the scratch database back failed: %s", path, why);
        goto done;
    }
    /* Counted by the database, not by us. */
    if (!c.dump.has_users)
        back.counts.users = 0;
    if (!c.dump.has_audit)
        back.counts.audit_log = 0;
    if (backup_counts_differ(&back.counts, &c.manifest.counts, why, sizeof why)) {
        snprintf(err, errlen, "%s: after a restore the database holds other row counts than the manifest (%s)", path,
                 why);
        goto done;
    }
    /* What comes back must serialize to the very bytes that were checksummed. */
    back.has_users = c.dump.has_users;
    back.has_audit = c.dump.has_audit;
    buf payload = BUF_INIT;
    backup_payload_json(&back, &payload);
    char sum[SHA256_HEX_SIZE];
    sha256_hex(payload.data ? payload.data : "", payload.len, sum);
    buf_free(&payload);
    if (strcmp(sum, c.manifest.payload_sha256) != 0) {
        snprintf(err, errlen, "%s: the data read back after a restore differs from the backup (checksum %.12s…)", path,
                 sum);
        goto done;
    }
    rc = 0;
done:
    store_dump_free(&back);
    store_close(scratch);
    remove_scratch(dir);
    backup_contents_free(&c);
    return rc;
}
