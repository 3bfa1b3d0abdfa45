/*
 * backup_target_impl.h — what a backup target implements (private to the
 * backup_target, backup_dir, backup_s3 and backup_location files).
 *
 * They depend on each other one way: backup_dir.c and backup_s3.c fill in
 * the table and use the shared pieces of backup_target.c; backup_location.c
 * opens one of them for a location; backup_target.c calls only the table.
 */
#ifndef MG_BACKUP_TARGET_IMPL_H
#define MG_BACKUP_TARGET_IMPL_H

#include "core/json.h"
#include "ops/backup_target.h"

struct backup_target_ops {
    /* Unsorted: backup_target_list sorts. */
    int (*list)(backup_target *t, backup_info **list, size_t *count, char *err, size_t errlen);
    int (*fetch)(backup_target *t, const char *name, char *path, size_t pathlen, char *err, size_t errlen);
    void (*release)(backup_target *t, const char *path);
    /* NULL: the target takes no copies. */
    int (*put)(backup_target *t, const char *path, const backup_manifest *m, char *where, size_t wlen, char *err,
               size_t errlen);
    int (*remove)(backup_target *t, const char *name, char *err, size_t errlen);
    int (*record)(backup_target *t, const char *name, const backup_manifest *m, int ok, const char *message, char *err,
                  size_t errlen);
    void (*close)(backup_target *t);
};

/* Every target starts with this. */
struct backup_target {
    const struct backup_target_ops *ops;
    char where[1200];
};

int backup_dir_open(const char *dir, backup_target **out, char *err, size_t errlen);
/* prefix is "" or ends with '/'. */
int backup_s3_open(const config *cfg, const char *bucket, const char *prefix, backup_target **out, char *err,
                   size_t errlen);

/* The members "ok", "verified_at" (now) and "message" of a verification
 * record, the same in both kinds of sidecar. */
void backup_verification_members(json_writer *w, int ok, const char *message);

#endif
