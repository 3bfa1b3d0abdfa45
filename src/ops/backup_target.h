/*
 * backup_target.h — where backups are kept: a local directory or an S3
 * prefix, behind one interface.
 *
 * The commands (commands.c) and retention (prune.c) list, fetch, put,
 * remove and mark backups as verified without knowing which kind of place
 * they talk to (backup_location.h opens the one a location names). A
 * directory holds NAME and, once verified, NAME.verified;
 * an S3 prefix holds NAME and NAME.info.json (the manifest and, once
 * verified, the result), so a listing shows row counts without downloading
 * every backup. Backups are written locally first (backup.c) and then put
 * to an offsite target.
 */
#ifndef MG_BACKUP_TARGET_H
#define MG_BACKUP_TARGET_H

#include "core/config.h"
#include "ops/backup_format.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct backup_target backup_target;

/* One backup in a listing. */
typedef struct backup_info {
    char location[4096]; /* local path, or s3://BUCKET/KEY */
    char name[256];
    time_t created; /* UTC, from the name */
    int seq;        /* .N of two backups taken in one second */
    char tag[BACKUP_TAG_MAX + 1];
    int64_t size;
    int has_manifest;
    backup_manifest manifest;
    int verified; /* 1 verified, -1 verification failed, 0 never (or the file changed since) */
    char verified_at[32];
    char verify_message[512];
} backup_info;

void backup_target_close(backup_target *t);
/* What goes before a backup's name in reports: "DIR/" or "s3://BUCKET/PREFIX/". */
const char *backup_target_where(const backup_target *t);

/* The backups there, oldest first; *list is malloc'd. A missing directory
 * holds none. */
int backup_target_list(backup_target *t, backup_info **list, size_t *count, char *err, size_t errlen);
/* A local file holding the named backup: the file itself, or a downloaded
 * copy in a temporary directory that backup_target_release removes. */
int backup_target_fetch(backup_target *t, const char *name, char *path, size_t pathlen, char *err, size_t errlen);
void backup_target_release(backup_target *t, const char *path);
/* Copies the local backup at path there, with its manifest beside it;
 * where receives its location. Only remote targets take copies. */
int backup_target_put(backup_target *t, const char *path, const backup_manifest *m, char *where, size_t wlen, char *err,
                      size_t errlen);
/* Removes the named backup and what lies beside it. */
int backup_target_remove(backup_target *t, const char *name, char *err, size_t errlen);
/* Records the result of verifying the named backup beside it (m: what was
 * read of it, may be all zeros). MG_ERR_NOT_FOUND when it is not there. */
int backup_target_record(backup_target *t, const char *name, const backup_manifest *m, int ok, const char *message,
                         char *err, size_t errlen);

#endif
