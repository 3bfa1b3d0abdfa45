/*
 * deploy_local.c — see deploy_local.h.
 */
#include "ops/deploy_local.h"

#include "core/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

int deploy_current(const char *root, char *version, size_t len)
{
    char link[4200], target[4096];
    snprintf(link, sizeof link, "%s/current", root);
    version[0] = '\0';
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0)
        return 0;
    target[n] = '\0';
    const char *slash = strrchr(target, '/');
    snprintf(version, len, "%s", slash ? slash + 1 : target);
    return 0;
}

int deploy_switch(const char *root, const char *version, char *err, size_t errlen)
{
    char tmp[4200], link[4200], target[300];
    snprintf(tmp, sizeof tmp, "%s/.current.tmp-%d", root, (int)getpid());
    snprintf(link, sizeof link, "%s/current", root);
    snprintf(target, sizeof target, "releases/%s", version);
    unlink(tmp);
    if (symlink(target, tmp) != 0 || rename(tmp, link) != 0) {
        snprintf(err, errlen, "cannot point %s at %s: %s", link, target, strerror(errno));
        unlink(tmp);
        return -1;
    }
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    return 0;
}

void deploy_remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char child[4600];
            snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            struct stat st;
            if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
                deploy_remove_tree(child);
            else
                unlink(child);
        }
        closedir(d);
    }
    rmdir(path);
}

/* Runs tar with args; its output (at most outlen bytes) into out when given. */
static int run_tar(char *const args[], char *out, size_t outlen, char *why, size_t whylen)
{
    int pipefd[2];
    if (pipe(pipefd) != 0) {
        snprintf(why, whylen, "pipe: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], STDOUT_FILENO);
        dup2(pipefd[1], STDERR_FILENO);
        close(pipefd[0]);
        close(pipefd[1]);
        execvp("tar", args);
        _exit(127);
    }
    close(pipefd[1]);
    size_t used = 0;
    char chunk[4096];
    ssize_t n;
    while ((n = read(pipefd[0], chunk, sizeof chunk)) > 0) {
        size_t take = out && used + 1 < outlen ? ((size_t)n < outlen - used - 1 ? (size_t)n : outlen - used - 1) : 0;
        if (take) {
            memcpy(out + used, chunk, take);
            used += take;
        }
        if (!out && used + 1 < whylen) { /* keep tar's complaint for the message */
            size_t k = (size_t)n < whylen - used - 1 ? (size_t)n : whylen - used - 1;
            memcpy(why + used, chunk, k);
            used += k;
            why[used] = '\0';
        }
    }
    close(pipefd[0]);
    if (out)
        out[used] = '\0';
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (pid < 0 || (out && used == 0))
            snprintf(why, whylen, "tar failed");
        size_t w = strlen(why);
        while (w && (why[w - 1] == '\n' || why[w - 1] == ' '))
            why[--w] = '\0';
        for (char *nl = strchr(why, '\n'); nl; nl = strchr(nl, '\n'))
            *nl = ' '; /* one line in logs and in the history */
        return -1;
    }
    return 0;
}

int deploy_unpack(const char *root, const char *version, const char *tarball, char *err, size_t errlen)
{
    char top[200], releases[4200], tmp[4400], final[4400], why[1024] = "";
    snprintf(top, sizeof top, "musicgraph-%s-linux-amd64/", version);
    snprintf(releases, sizeof releases, "%s/releases", root);
    if (fs_make_dirs(releases, err, errlen) != 0)
        return -1;
    chmod(releases, 0755);
    /* Every entry under the one top directory, no way out of it. */
    static char listing[1 << 20];
    char *list_args[] = {"tar", "-tzf", (char *)tarball, NULL};
    if (run_tar(list_args, listing, sizeof listing, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s is not a readable tarball: %s", tarball, why);
        return -1;
    }
    char *save = NULL;
    for (char *line = strtok_r(listing, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        if (strncmp(line, top, strlen(top)) != 0 || strstr(line, "/../") ||
            strcmp(line + strlen(line) - 3, "/..") == 0) {
            snprintf(err, errlen, "the tarball holds \"%.200s\", outside %s: refused", line, top);
            return -1;
        }
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp-XXXXXX", releases, version);
    if (!mkdtemp(tmp)) {
        snprintf(err, errlen, "cannot create a directory in %s: %s", releases, strerror(errno));
        return -1;
    }
    chmod(tmp, 0755);
    char *args[] = {
        "tar", "-xzf", (char *)tarball, "-C", tmp, "--strip-components=1", "--no-same-owner", "--no-overwrite-dir",
        NULL};
    if (run_tar(args, NULL, 0, why, sizeof why) != 0) {
        /* tar says "Wrote only 512 of 10240 bytes": say what it means (before the space is freed). */
        struct statvfs fs;
        unsigned long long avail = statvfs(releases, &fs) == 0 ? (unsigned long long)fs.f_bavail * fs.f_frsize : 0;
        deploy_remove_tree(tmp);
        snprintf(err, errlen, "cannot unpack %s into %s%s: %s", tarball, releases,
                 avail < (1u << 20) ? " (the disk is full)" : "", why);
        return -1;
    }
    char bin[4500];
    snprintf(bin, sizeof bin, "%s/bin/musicgraph", tmp);
    if (access(bin, X_OK) != 0) {
        deploy_remove_tree(tmp);
        snprintf(err, errlen, "the release has no executable bin/musicgraph");
        return -1;
    }
    snprintf(final, sizeof final, "%s/%s", releases, version);
    deploy_remove_tree(final); /* an earlier copy (the caller never unpacks the current one again) */
    if (rename(tmp, final) != 0) {
        snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, final, strerror(errno));
        deploy_remove_tree(tmp);
        return -1;
    }
    return 0;
}

typedef struct unpacked {
    char name[256];
    time_t at;
} unpacked;

static int newest_first(const void *a, const void *b)
{
    const unpacked *x = a, *y = b;
    return x->at < y->at ? 1 : x->at > y->at ? -1 : strcmp(y->name, x->name);
}

int deploy_prune(const char *root, int keep, const char *const *protect, size_t nprotect, char *removed, size_t rlen,
                 char *err, size_t errlen)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/releases", root);
    removed[0] = '\0';
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "cannot read %s: %s", dir, strerror(errno));
        return -1;
    }
    unpacked list[256];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < sizeof list / sizeof list[0]) {
        if (e->d_name[0] == '.')
            continue;
        char path[4500];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode))
            continue;
        snprintf(list[n].name, sizeof list[n].name, "%s", e->d_name);
        list[n++].at = st.st_mtime;
    }
    closedir(d);
    qsort(list, n, sizeof list[0], newest_first);
    for (size_t i = keep > 0 ? (size_t)keep : 0; i < n; i++) {
        int keep_it = 0;
        for (size_t k = 0; k < nprotect; k++)
            keep_it |= protect[k] && strcmp(protect[k], list[i].name) == 0;
        if (keep_it)
            continue;
        char path[4500];
        snprintf(path, sizeof path, "%s/%s", dir, list[i].name);
        deploy_remove_tree(path);
        size_t used = strlen(removed);
        snprintf(removed + used, rlen - used, "%s%s", used ? " " : "", list[i].name);
    }
    return 0;
}

int deploy_history_append(const char *root, json_t *record, char *err, size_t errlen)
{
    char *line = json_dumps(record, JSON_COMPACT);
    if (!line) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/history.jsonl", root);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    size_t len = strlen(line);
    line[len] = '\n'; /* json_dumps' terminator becomes the newline */
    int rc = fd >= 0 && fs_write_all(fd, line, len + 1) == 0 && fsync(fd) == 0 ? 0 : -1;
    if (rc != 0)
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    line[len] = '\0';
    snprintf(path, sizeof path, "%s/last-deploy.json", root);
    if (rc == 0)
        rc = fs_write_atomic(path, line, len, 0644, err, errlen);
    free(line);
    return rc;
}

json_t *deploy_history_load(const char *root)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/history.jsonl", root);
    json_t *all = json_array();
    FILE *f = fopen(path, "r");
    if (!f)
        return all;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        json_t *r = json_loads(line, 0, NULL);
        if (json_is_object(r))
            json_array_append(all, r);
        json_decref(r);
    }
    free(line);
    fclose(f);
    return all;
}

int deploy_last_read(const char *root, deploy_last *out)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/last-deploy.json", root);
    json_t *r = json_load_file(path, 0, NULL);
    if (!json_is_object(r)) {
        json_decref(r);
        return -1;
    }
    memset(out, 0, sizeof *out);
    snprintf(out->from, sizeof out->from, "%s", json_string_value(json_object_get(r, "from")) ?: "");
    snprintf(out->to, sizeof out->to, "%s", json_string_value(json_object_get(r, "version")) ?: "");
    snprintf(out->result, sizeof out->result, "%s", json_string_value(json_object_get(r, "result")) ?: "");
    out->at = (long long)json_integer_value(json_object_get(r, "ended"));
    out->duration_ms = (long long)json_integer_value(json_object_get(r, "duration_ms"));
    json_decref(r);
    return 0;
}
