/*
 * prune.h — grandfather-father-son retention of backups.
 *
 * Each rule is applied on its own to the backups from newest to oldest:
 * --daily N keeps the newest backup of each of the N most recent days that
 * have backups, --weekly N the newest of each of the N most recent ISO weeks
 * (Monday to Sunday, UTC), --monthly N the newest of each of the N most
 * recent calendar months. A backup is kept when any rule keeps it, when it is
 * the newest of all, or when its tag is "keep" (or starts with "keep-");
 * everything else goes. Works on a local directory and on an S3 prefix (the
 * object and its sidecars).
 */
#ifndef MG_PRUNE_H
#define MG_PRUNE_H

#include "ops/backup_target.h"

#include <stddef.h>
#include <stdio.h>
#include <time.h>

typedef struct prune_policy {
    int daily, weekly, monthly;
} prune_policy;

typedef struct prune_item {
    const char *name;
    time_t created; /* UTC */
    const char *tag;
    int keep;         /* set by prune_select */
    char reasons[64]; /* "newest, daily, weekly" */
} prune_item;

/* Items sorted oldest first; sets keep and reasons on each. */
void prune_select(prune_item *items, size_t n, const prune_policy *p);

/* Prunes a directory or an S3 prefix: each removed backup goes with what
 * lies beside it. Reports every backup on out, "keep" or "remove" (or
 * "would remove" with dry_run). *removed counts what went (or would go). */
int prune_target(backup_target *t, const prune_policy *p, int dry_run, FILE *out, size_t *kept, size_t *removed,
                 char *err, size_t errlen);

#endif
