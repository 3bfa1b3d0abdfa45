/*
 * init_lock.c — the state directory's initialization lock (see
 * init_lock.h).
 */
#include "ops/init_lock.h"

#include "core/fs.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

int init_lock(const config *cfg, int *fd, char *err, size_t errlen)
{
    char path[4200];
    *fd = -1;
    snprintf(path, sizeof path, "%s/init.lock", cfg->state_dir);
    if (fs_make_dirs(cfg->state_dir, err, errlen) != 0)
        return -1;
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (f < 0) {
        snprintf(err, errlen, "cannot open the initialization lock %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = flock(f, LOCK_EX | LOCK_NB);
    if (rc != 0 && errno == EWOULDBLOCK) {
        log_info("another process is initializing %s: waiting for it", cfg->state_dir);
        while ((rc = flock(f, LOCK_EX)) != 0 && errno == EINTR)
            ;
    }
    if (rc != 0) {
        snprintf(err, errlen, "cannot lock %s: %s", path, strerror(errno));
        close(f);
        return -1;
    }
    *fd = f;
    return 0;
}

void init_unlock(int fd)
{
    if (fd >= 0)
        close(fd);
}
