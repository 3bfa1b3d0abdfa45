/*
 * backup_target.c — the operations of a target, and what both kinds share:
 * listings in time order, the verification record (see backup_target.h).
 */
#include "ops/backup_target_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void backup_target_close(backup_target *t)
{
    if (t)
        t->ops->close(t);
}

const char *backup_target_where(const backup_target *t) { return t->where; }

/* Oldest first; two backups of one second by their .N, which name order
 * gets wrong past .9. */
static int by_time(const void *a, const void *b)
{
    const backup_info *x = a, *y = b;
    if (x->created != y->created)
        return x->created < y->created ? -1 : 1;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    return strcmp(x->name, y->name);
}

int backup_target_list(backup_target *t, backup_info **list, size_t *count, char *err, size_t errlen)
{
    if (t->ops->list(t, list, count, err, errlen) != 0)
        return -1;
    if (*count)
        qsort(*list, *count, sizeof **list, by_time);
    return 0;
}

int backup_target_fetch(backup_target *t, const char *name, char *path, size_t pathlen, char *err, size_t errlen)
{
    return t->ops->fetch(t, name, path, pathlen, err, errlen);
}

void backup_target_release(backup_target *t, const char *path) { t->ops->release(t, path); }

int backup_target_put(backup_target *t, const char *path, const backup_manifest *m, char *where, size_t wlen, char *err,
                      size_t errlen)
{
    if (!t->ops->put) {
        snprintf(err, errlen, "%s takes no copies: backups are written into a directory directly", t->where);
        return -1;
    }
    return t->ops->put(t, path, m, where, wlen, err, errlen);
}

int backup_target_remove(backup_target *t, const char *name, char *err, size_t errlen)
{
    return t->ops->remove(t, name, err, errlen);
}

int backup_target_record(backup_target *t, const char *name, const backup_manifest *m, int ok, const char *message,
                         char *err, size_t errlen)
{
    return t->ops->record(t, name, m, ok, message, err, errlen);
}

void backup_verification_members(json_writer *w, int ok, const char *message)
{
    char at[32];
    backup_utc_format(time(NULL), "%Y-%m-%dT%H:%M:%SZ", at, sizeof at);
    jw_key(w, "ok");
    jw_bool(w, ok);
    jw_key(w, "verified_at");
    jw_string(w, at);
    jw_key(w, "message");
    jw_string(w, message ? message : "");
}
