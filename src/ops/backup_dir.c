/*
 * backup_dir.c — backups in a local directory (see backup_target.h).
 *
 * The files are read where they are: fetching names the file itself. A
 * verification is recorded in NAME.verified with the file's size and
 * modification time, so a file changed afterwards shows as not verified.
 */
#include "ops/backup_target_impl.h"
#include "core/xalloc.h"

#include "core/errors.h"
#include "core/fs.h"
#include "ops/backup.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct dir_target {
    backup_target base;
    char dir[4096]; /* "" for the current directory */
} dir_target;

/* dir and name as one path; dir may be "" or end with '/'. -1 when it does
 * not fit. */
static int join(const char *dir, const char *name, char *out, size_t len)
{
    size_t n = strlen(dir);
    int w = snprintf(out, len, "%s%s%s", dir, n && dir[n - 1] != '/' ? "/" : "", name);
    return w >= 0 && (size_t)w < len ? 0 : -1;
}

/* The path of a backup in the target, or -1 with a message. */
static int path_of(backup_target *t, const char *name, char *out, size_t len, char *err, size_t errlen)
{
    if (join(((dir_target *)t)->dir, name, out, len) == 0)
        return 0;
    snprintf(err, errlen, "the path of %.200s is too long", name);
    return -1;
}

static void read_verification(backup_info *b, const struct stat *st)
{
    char side[4200];
    snprintf(side, sizeof side, "%s.verified", b->location);
    json_t *j = json_load_file(side, 0, NULL);
    if (!j)
        return;
    json_t *ok = json_object_get(j, "ok"), *at = json_object_get(j, "verified_at");
    json_t *msg = json_object_get(j, "message"), *size = json_object_get(j, "size"),
           *mtime = json_object_get(j, "mtime");
    if (json_integer_value(size) != (json_int_t)st->st_size || json_integer_value(mtime) != (json_int_t)st->st_mtime) {
        b->verified = 0;
        snprintf(b->verify_message, sizeof b->verify_message, "the file changed after it was verified");
    } else {
        b->verified = json_is_true(ok) ? 1 : -1;
        snprintf(b->verify_message, sizeof b->verify_message, "%s", json_is_string(msg) ? json_string_value(msg) : "");
    }
    snprintf(b->verified_at, sizeof b->verified_at, "%s", json_is_string(at) ? json_string_value(at) : "");
    json_decref(j);
}

static int dir_list(backup_target *t, backup_info **list, size_t *count, char *err, size_t errlen)
{
    const char *dir = ((dir_target *)t)->dir;
    *list = NULL;
    *count = 0;
    DIR *d = opendir(dir[0] ? dir : ".");
    if (!d) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot read the backup directory %s: %s", dir, strerror(errno));
        return -1;
    }
    backup_info *out = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        time_t created;
        int seq;
        char tag[BACKUP_TAG_MAX + 1];
        if (backup_parse_name(e->d_name, &created, &seq, tag, sizeof tag) != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            backup_info *grown = xrealloc(out, cap * sizeof *grown);
            if (!grown) {
                free(out);
                closedir(d);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            out = grown;
        }
        backup_info *b = &out[n];
        memset(b, 0, sizeof *b);
        struct stat st;
        if (join(dir, e->d_name, b->location, sizeof b->location) != 0 || stat(b->location, &st) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        snprintf(b->name, sizeof b->name, "%s", e->d_name);
        b->created = created;
        b->seq = seq;
        snprintf(b->tag, sizeof b->tag, "%s", tag);
        b->size = (int64_t)st.st_size;
        char why[512];
        b->has_manifest = backup_read_manifest(b->location, &b->manifest, why, sizeof why) == 0;
        read_verification(b, &st);
        n++;
    }
    closedir(d);
    *list = out;
    *count = n;
    return 0;
}

static int dir_fetch(backup_target *t, const char *name, char *path, size_t pathlen, char *err, size_t errlen)
{
    return path_of(t, name, path, pathlen, err, errlen);
}

static void dir_release(backup_target *t, const char *path) { (void)t, (void)path; }

static int dir_remove(backup_target *t, const char *name, char *err, size_t errlen)
{
    char path[4400], side[4500];
    if (path_of(t, name, path, sizeof path, err, errlen) != 0)
        return -1;
    if (unlink(path) != 0 && errno != ENOENT) {
        snprintf(err, errlen, "cannot remove %s: %s", path, strerror(errno));
        return -1;
    }
    snprintf(side, sizeof side, "%s.verified", path);
    unlink(side);
    return 0;
}

static int dir_record(backup_target *t, const char *name, const backup_manifest *m, int ok, const char *message,
                      char *err, size_t errlen)
{
    (void)m;
    char path[4400], side[4500];
    if (path_of(t, name, path, sizeof path, err, errlen) != 0)
        return -1;
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return MG_ERR_NOT_FOUND;
    }
    buf doc = BUF_INIT;
    json_writer w;
    jw_init(&w, &doc);
    jw_object_begin(&w);
    backup_verification_members(&w, ok, message);
    jw_key(&w, "size");
    jw_int(&w, (int64_t)st.st_size);
    jw_key(&w, "mtime");
    jw_int(&w, (int64_t)st.st_mtime);
    jw_object_end(&w);
    buf_putc(&doc, '\n');
    snprintf(side, sizeof side, "%s.verified", path);
    int rc = -1;
    if (buf_failed(&doc))
        snprintf(err, errlen, "out of memory");
    else
        rc = fs_write_atomic(side, doc.data, doc.len, 0640, err, errlen);
    buf_free(&doc);
    return rc;
}

static void dir_close(backup_target *t) { free(t); }

static const struct backup_target_ops dir_ops = {
    .list = dir_list,
    .fetch = dir_fetch,
    .release = dir_release,
    .put = NULL,
    .remove = dir_remove,
    .record = dir_record,
    .close = dir_close,
};

int backup_dir_open(const char *dir, backup_target **out, char *err, size_t errlen)
{
    dir_target *t = xcalloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    t->base.ops = &dir_ops;
    snprintf(t->dir, sizeof t->dir, "%s", dir);
    if (join(dir, "", t->base.where, sizeof t->base.where) != 0) {
        snprintf(err, errlen, "the directory name is too long: %.200s", dir);
        free(t);
        return -1;
    }
    *out = &t->base;
    return 0;
}
