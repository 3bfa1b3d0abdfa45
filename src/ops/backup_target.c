/*
 * backup_target.c — choosing a target from a location, and what both kinds
 * share: listings in time order, the verification record (see
 * backup_target.h).
 */
#include "ops/backup_target_impl.h"

#include "core/errors.h"
#include "ops/s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int backup_target_is_remote(const char *location) { return s3_is_url(location); }

int backup_target_check(const char *location, char *err, size_t errlen)
{
    char bucket[256], rest[1024];
    if (backup_target_is_remote(location))
        return s3_parse_url(location, bucket, sizeof bucket, rest, sizeof rest, err, errlen);
    return 0;
}

int backup_target_open(const config *cfg, const char *location, backup_target **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!backup_target_is_remote(location))
        return backup_dir_open(location, out, err, errlen);
    /* s3://BUCKET/PREFIX -> bucket and "PREFIX/" ("" for the bucket's root). */
    char bucket[256], rest[1024], prefix[1100];
    if (s3_parse_url(location, bucket, sizeof bucket, rest, sizeof rest, err, errlen) != 0)
        return -1;
    size_t n = strlen(rest);
    snprintf(prefix, sizeof prefix, "%s%s", rest, n && rest[n - 1] != '/' ? "/" : "");
    return backup_s3_open(cfg, bucket, prefix, out, err, errlen);
}

int backup_target_open_file(const config *cfg, const char *location, backup_target **out, char *name, size_t namelen,
                            char *err, size_t errlen)
{
    *out = NULL;
    char parent[4096];
    if (backup_target_is_remote(location)) {
        char bucket[256], key[1024];
        if (s3_parse_url(location, bucket, sizeof bucket, key, sizeof key, err, errlen) != 0)
            return -1;
        if (!key[0] || key[strlen(key) - 1] == '/') {
            snprintf(err, errlen, "'%s' names no object (expected s3://BUCKET/PATH/NAME.json.gz)", location);
            return -1;
        }
        const char *slash = strrchr(key, '/');
        snprintf(name, namelen, "%s", slash ? slash + 1 : key);
        snprintf(parent, sizeof parent, "%.*s", slash ? (int)(slash + 1 - key) : 0, key);
        return backup_s3_open(cfg, bucket, parent, out, err, errlen);
    }
    /* "DIR/NAME" -> "DIR/" and NAME, "NAME" -> "" and NAME: joined again, the
     * path is exactly the one given. */
    const char *slash = strrchr(location, '/');
    snprintf(name, namelen, "%s", slash ? slash + 1 : location);
    snprintf(parent, sizeof parent, "%.*s", slash ? (int)(slash + 1 - location) : 0, location);
    return backup_dir_open(parent, out, err, errlen);
}

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

int backup_latest(const char *dir, backup_info *out)
{
    backup_target *t;
    backup_info *list;
    size_t n;
    char err[512];
    if (backup_dir_open(dir, &t, err, sizeof err) != 0)
        return -1;
    int rc = backup_target_list(t, &list, &n, err, sizeof err);
    backup_target_close(t);
    if (rc != 0)
        return -1;
    rc = MG_ERR_NOT_FOUND;
    if (n > 0) {
        *out = list[n - 1];
        rc = 0;
    }
    free(list);
    return rc;
}
