/*
 * fs.c — directories, reading, atomic writes (see fs.h).
 */
#include "core/fs.h"
#include "core/xalloc.h"

#include "core/errors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fs_make_dirs(const char *path, char *err, size_t errlen)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) {
        snprintf(err, errlen, "the path %s is too long", path);
        return -1;
    }
    for (char *p = tmp + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(tmp, 0750) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
            return -1;
        }
        if (saved == '\0')
            return 0;
        *p = saved;
    }
}

int fs_make_private_temp_dir(const char *purpose, char *dir, size_t len, char *err, size_t errlen)
{
    const char *tmpdir = getenv("TMPDIR");
    if (!tmpdir || !*tmpdir)
        tmpdir = "/tmp";
    if ((size_t)snprintf(dir, len, "%s/musicgraph-%s-XXXXXX", tmpdir, purpose) >= len) {
        snprintf(err, errlen, "the temporary directory's name is too long (TMPDIR=%.200s)", tmpdir);
        return -1;
    }
    if (!mkdtemp(dir)) {
        snprintf(err, errlen, "cannot create a temporary directory in %.3000s: %s", tmpdir, strerror(errno));
        return -1;
    }
    return 0;
}

int fs_read_file(const char *path, size_t max, unsigned char **data, size_t *len, size_t *size, char *err,
                 size_t errlen)
{
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a regular file", path);
        close(fd);
        return -1;
    }
    *size = (size_t)st.st_size;
    size_t want = (size_t)st.st_size < max ? (size_t)st.st_size : max;
    unsigned char *b = xmalloc(want + 1);
    if (!b) {
        snprintf(err, errlen, "out of memory reading %s", path);
        close(fd);
        return -1;
    }
    size_t got = 0;
    while (got < want) {
        ssize_t n = read(fd, b + got, want - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
            free(b);
            close(fd);
            return -1;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    b[got] = '\0';
    *data = b;
    *len = got;
    return 0;
}

int fs_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int fs_write_temp(const char *dir, unsigned mode, fs_writer fill, void *ctx, char *tmp, size_t tmplen, char *err,
                  size_t errlen)
{
    if (snprintf(tmp, tmplen, "%s/.musicgraph-tmp-XXXXXX", dir) >= (int)tmplen) {
        snprintf(err, errlen, "the directory name is too long: %.200s", dir);
        return -1;
    }
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create a file in %.300s: %s", dir, strerror(errno));
        return -1;
    }
    fchmod(fd, (mode_t)mode);
    int rc = fill(fd, ctx);
    if (rc == 0 && fsync(fd) != 0)
        rc = -1;
    int saved = errno;
    if (close(fd) != 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    if (rc != 0) {
        unlink(tmp);
        snprintf(err, errlen, "cannot write in %.300s: %s; nothing was written", dir, strerror(saved));
        return -1;
    }
    return 0;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int fs_publish(const char *tmp, const char *dir, const char *name, int replace, char *path, size_t pathlen, char *err,
               size_t errlen)
{
    char final[4096];
    if (snprintf(final, sizeof final, "%s/%s", dir, name) >= (int)sizeof final) {
        snprintf(err, errlen, "the path is too long: %.200s", dir);
        unlink(tmp);
        return -1;
    }
    int rc;
    if (replace) {
        rc = rename(tmp, final);
    } else {
        rc = renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE);
        if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) {
            /* A file system without RENAME_NOREPLACE: link refuses existing names too. */
            rc = link(tmp, final);
            if (rc == 0)
                unlink(tmp);
        }
        if (rc != 0 && errno == EEXIST)
            return MG_ERR_EXISTS;
    }
    if (rc != 0) {
        snprintf(err, errlen, "cannot rename the new file to %.300s: %s", final, strerror(errno));
        unlink(tmp);
        return -1;
    }
    if (fsync_dir(dir) != 0) {
        snprintf(err, errlen, "cannot sync the directory %.300s: %s", dir, strerror(errno));
        return -1;
    }
    if (path)
        snprintf(path, pathlen, "%s", final);
    return 0;
}

int fs_write_atomic_with(const char *path, unsigned mode, fs_writer fill, void *ctx, char *err, size_t errlen)
{
    char dir[4096], tmp[4200];
    const char *slash = strrchr(path, '/');
    if (slash)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path) ? (int)(slash - path) : 1, path);
    else
        snprintf(dir, sizeof dir, ".");
    const char *name = slash ? slash + 1 : path;
    if (!*name) {
        snprintf(err, errlen, "'%s' names a directory, not a file", path);
        return -1;
    }
    if (fs_write_temp(dir, mode, fill, ctx, tmp, sizeof tmp, err, errlen) != 0)
        return -1;
    return fs_publish(tmp, dir, name, 1, NULL, 0, err, errlen);
}

typedef struct bytes {
    const void *data;
    size_t len;
} bytes;

static int write_bytes(int fd, void *ctx)
{
    const bytes *b = ctx;
    return fs_write_all(fd, b->data, b->len);
}

int fs_write_atomic(const char *path, const void *data, size_t len, unsigned mode, char *err, size_t errlen)
{
    bytes b = {data, len};
    return fs_write_atomic_with(path, mode, write_bytes, &b, err, errlen);
}
