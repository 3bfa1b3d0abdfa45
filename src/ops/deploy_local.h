/*
 * deploy_local.h — the installation a deploy agent manages on one server.
 *
 *   ROOT/releases/VERSION/   one unpacked release tarball each (bin/musicgraph, deploy/, docs/)
 *   ROOT/current             symbolic link to releases/VERSION: what the service runs
 *   ROOT/history.jsonl       one JSON object per deploy or rollback, oldest first
 *   ROOT/last-deploy.json    the newest of them, replaced whole: what /metrics reads
 *
 * A release is unpacked beside the others under a temporary name and renamed
 * into place, never over the running one; `current` is switched by renaming
 * a new link over it, so the service sees the old release or the new one.
 */
#ifndef MG_OPS_DEPLOY_LOCAL_H
#define MG_OPS_DEPLOY_LOCAL_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

/* The version ROOT/current names; "" (and 0) when there is no link. */
int deploy_current(const char *root, char *version, size_t len);
/* Points ROOT/current at releases/VERSION in one rename. */
int deploy_switch(const char *root, const char *version, char *err, size_t errlen);
/* Unpacks the release tarball into ROOT/releases/VERSION (replacing an
 * earlier unpacked copy that is not current). Every entry must lie under
 * musicgraph-VERSION-linux-amd64/; on any failure (a full disk) nothing is
 * left behind. */
int deploy_unpack(const char *root, const char *version, const char *tarball, char *err, size_t errlen);
/* Removes unpacked releases beyond the newest keep (by unpack time), never
 * one named in protect; the removed versions are listed in removed. */
int deploy_prune(const char *root, int keep, const char *const *protect, size_t nprotect, char *removed, size_t rlen,
                 char *err, size_t errlen);

/* rm -r of a tree the agent made (links are removed, never followed). */
void deploy_remove_tree(const char *path);

/* Appends record to the history and makes it the last deploy. */
int deploy_history_append(const char *root, json_t *record, char *err, size_t errlen);
/* Every record, oldest first (an array; empty when there is no history). */
json_t *deploy_history_load(const char *root);

/* The last deploy, for /metrics. */
typedef struct deploy_last {
    char from[128], to[128], result[32];
    long long at; /* unix time it ended */
    long long duration_ms;
} deploy_last;
/* 0 and filled, or -1 when there is none (or it cannot be read). */
int deploy_last_read(const char *root, deploy_last *out);

#endif
