/*
 * backup_location.c — the target a location names (see backup_location.h).
 */
#include "ops/backup_location.h"

#include "core/errors.h"
#include "ops/backup_target_impl.h"
#include "ops/s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int backup_location_is_remote(const char *location) { return s3_is_url(location); }

int backup_location_check(const char *location, char *err, size_t errlen)
{
    char bucket[256], rest[1024];
    if (backup_location_is_remote(location))
        return s3_parse_url(location, bucket, sizeof bucket, rest, sizeof rest, err, errlen);
    return 0;
}

int backup_location_open(const config *cfg, const char *location, backup_target **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!backup_location_is_remote(location))
        return backup_dir_open(location, out, err, errlen);
    /* s3://BUCKET/PREFIX -> bucket and "PREFIX/" ("" for the bucket's root). */
    char bucket[256], rest[1024], prefix[1100];
    if (s3_parse_url(location, bucket, sizeof bucket, rest, sizeof rest, err, errlen) != 0)
        return -1;
    size_t n = strlen(rest);
    snprintf(prefix, sizeof prefix, "%s%s", rest, n && rest[n - 1] != '/' ? "/" : "");
    return backup_s3_open(cfg, bucket, prefix, out, err, errlen);
}

int backup_location_open_file(const config *cfg, const char *location, backup_target **out, char *name, size_t namelen,
                              char *err, size_t errlen)
{
    *out = NULL;
    char parent[4096];
    if (backup_location_is_remote(location)) {
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

int backup_location_latest(const char *dir, backup_info *out)
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
