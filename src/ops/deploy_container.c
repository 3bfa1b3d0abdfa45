/*
 * deploy_container.c — see deploy_container.h. Every podman call goes
 * through engine(): argv only (never a shell), stdout collected, stderr kept
 * for the message.
 */
#include "ops/deploy_container.h"

#include "core/fs.h"
#include "core/sha256.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ARGS   512
#define OUT_MAX    (1 << 20)
#define BINARY_MAX (256u << 20)

struct deploy_ctr {
    char name[128];
    char repo[512];
    char serving[128];
    char scratch[4096];
    /* Options given to podman before the subcommand in NAME's create
     * command (e.g. --runtime runc): every call of the agent uses them. */
    char *globals[32];
    size_t nglobals;
};

/* ---- running podman ---- */

#define EXEC_FAILED "musicgraph: cannot run podman: "

/* podman GLOBALS args…: the exit status, its stdout in *out (malloc'ed,
 * NUL-terminated), its stderr's last line in err. */
static int engine(const deploy_ctr *c, const char *const args[], char **out, char *err, size_t errlen)
{
    char *argv[MAX_ARGS];
    size_t n = 0;
    argv[n++] = "podman";
    for (size_t i = 0; c && i < c->nglobals; i++)
        argv[n++] = c->globals[i];
    for (size_t i = 0; args[i] && n < MAX_ARGS - 1; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    int pipefd[2];
    FILE *errf = tmpfile();
    if (!errf || pipe(pipefd) != 0) {
        snprintf(err, errlen, "cannot run podman: %s", strerror(errno));
        if (errf)
            fclose(errf);
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], STDOUT_FILENO);
        dup2(fileno(errf), STDERR_FILENO);
        close(pipefd[0]);
        close(pipefd[1]);
        execvp("podman", argv);
        /* Told apart from a command in a container that exits 127. */
        dprintf(STDERR_FILENO, "\n" EXEC_FAILED "%s", strerror(errno));
        _exit(127);
    }
    close(pipefd[1]);
    size_t used = 0;
    char *buf = malloc(OUT_MAX + 1);
    ssize_t got;
    char chunk[8192];
    while ((got = read(pipefd[0], chunk, sizeof chunk)) > 0)
        if (buf && used + (size_t)got <= OUT_MAX) {
            memcpy(buf + used, chunk, (size_t)got);
            used += (size_t)got;
        }
    close(pipefd[0]);
    int status = 0, rc = -1;
    if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status))
        rc = WEXITSTATUS(status);
    if (buf)
        buf[used] = '\0';
    /* The last line podman wrote to stderr says why. */
    char text[4096] = "";
    fseek(errf, 0, SEEK_END);
    long size = ftell(errf);
    fseek(errf, size > (long)sizeof text - 1 ? size - (long)sizeof text + 1 : 0, SEEK_SET);
    size_t k = fread(text, 1, sizeof text - 1, errf);
    text[k] = '\0';
    fclose(errf);
    while (k && (text[k - 1] == '\n' || text[k - 1] == ' '))
        text[--k] = '\0';
    const char *last = strrchr(text, '\n');
    if (rc == 127 && last && strncmp(last + 1, EXEC_FAILED, strlen(EXEC_FAILED)) == 0)
        snprintf(err, errlen, "podman is not installed (container mode runs podman): %s",
                 last + 1 + strlen(EXEC_FAILED));
    else if (rc != 0)
        snprintf(err, errlen, "podman %s: %s", args[0], last ? last + 1 : text[0] ? text : "failed");
    else /* what a command run in a container said last (podman logs, run) */
        snprintf(err, errlen, "%s", last ? last + 1 : text);
    if (out)
        *out = buf;
    else
        free(buf);
    return rc;
}

/* The same, for a command whose output does not matter. */
static int engine_do(const deploy_ctr *c, const char *const args[], char *err, size_t errlen)
{
    return engine(c, args, NULL, err, errlen);
}

/* `podman KIND inspect what` as JSON: its first element, or NULL. */
static json_t *inspect(const deploy_ctr *c, const char *kind, const char *what, char *err, size_t errlen)
{
    const char *args[] = {kind, "inspect", what, NULL};
    char *out = NULL;
    int rc = engine(c, args, &out, err, errlen);
    json_t *doc = rc == 0 && out ? json_loads(out, 0, NULL) : NULL;
    free(out);
    if (rc == 0 && !json_is_array(doc))
        snprintf(err, errlen, "podman %s inspect %s: not the JSON expected", kind, what);
    json_t *first = json_incref(json_array_get(doc, 0));
    json_decref(doc);
    return first;
}

static const char *str(json_t *obj, const char *key) { return json_string_value(json_object_get(obj, key)); }

/* ---- names ---- */

/* NAME-VERSION, with '+' (not allowed in a container name) as '_'. */
static void kept_name(const deploy_ctr *c, const char *version, char *out, size_t len)
{
    snprintf(out, len, "%s-%s", c->name, version);
    for (char *p = out; *p; p++)
        if (*p == '+')
            *p = '_';
}

void deploy_ctr_ref(const deploy_ctr *c, const char *version, char *ref, size_t len)
{
    snprintf(ref, len, "%s:%s", c->repo, version);
}

const char *deploy_ctr_serving(const deploy_ctr *c) { return c->serving; }

const char *deploy_ctr_name(const deploy_ctr *c) { return c->name; }

/* The version label of an image (by id or reference). */
static void image_version(const deploy_ctr *c, const char *image, char *version, size_t len)
{
    char err[256];
    json_t *img = inspect(c, "image", image, err, sizeof err);
    json_t *labels = json_object_get(json_object_get(img, "Config"), "Labels");
    const char *v = json_string_value(json_object_get(labels, "org.opencontainers.image.version"));
    snprintf(version, len, "%s", v ? v : "");
    json_decref(img);
}

/* ---- open ---- */

/* The index of the subcommand (run or create) in a create command, 0 when
 * there is none. */
static size_t subcommand_at(json_t *cmd)
{
    for (size_t i = 1; i < json_array_size(cmd); i++) {
        const char *t = json_string_value(json_array_get(cmd, i));
        if (t && (strcmp(t, "run") == 0 || strcmp(t, "create") == 0))
            return i;
    }
    return 0;
}

int deploy_ctr_open(const char *name, const char *repo, const char *scratch_dir, deploy_ctr **out, char *err,
                    size_t errlen)
{
    *out = NULL;
    if (!name[0] || strlen(name) > 60 ||
        strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != strlen(name) ||
        name[0] == '-' || name[0] == '.') {
        snprintf(err, errlen, "'%s' is not a container name", name);
        return -1;
    }
    deploy_ctr *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(c->name, sizeof c->name, "%s", name);
    snprintf(c->scratch, sizeof c->scratch, "%s", scratch_dir);
    json_t *ctr = inspect(c, "container", name, err, errlen);
    if (!ctr) {
        if (strstr(err, "no such container"))
            snprintf(err, errlen, "there is no container '%s' (podman container inspect %s)", name, name);
        free(c);
        return -1;
    }
    int rc = 0;
    json_t *cmd = json_object_get(json_object_get(ctr, "Config"), "CreateCommand");
    size_t sub = subcommand_at(cmd);
    if (json_is_true(json_object_get(json_object_get(ctr, "HostConfig"), "AutoRemove"))) {
        snprintf(err, errlen, "container %s was run with --rm: the agent keeps the previous container to roll back to",
                 name);
        rc = -1;
    } else if (!sub) {
        snprintf(err, errlen, "container %s has no create command to make its successor from (was it made by podman?)",
                 name);
        rc = -1;
    }
    for (size_t i = 1; rc == 0 && i < sub && c->nglobals < 32; i++)
        c->globals[c->nglobals++] = strdup(json_string_value(json_array_get(cmd, i)));
    const char *image = str(ctr, "ImageName");
    if (rc == 0 && repo && *repo) {
        snprintf(c->repo, sizeof c->repo, "%s", repo);
    } else if (rc == 0 && image) {
        /* REPO:TAG or REPO@DIGEST: the tag is after the last '/' */
        snprintf(c->repo, sizeof c->repo, "%s", image);
        char *slash = strrchr(c->repo, '/');
        char *at = strchr(slash ? slash : c->repo, '@');
        char *colon = strrchr(slash ? slash : c->repo, ':');
        if (at)
            *at = '\0';
        else if (colon)
            *colon = '\0';
    }
    if (rc == 0 && !c->repo[0]) {
        snprintf(err, errlen, "no image repository (MUSICGRAPH_DEPLOY_IMAGE)");
        rc = -1;
    }
    if (rc == 0)
        image_version(c, str(ctr, "Image") ?: "", c->serving, sizeof c->serving);
    json_decref(ctr);
    if (rc != 0) {
        deploy_ctr_close(c);
        return -1;
    }
    *out = c;
    return 0;
}

void deploy_ctr_close(deploy_ctr *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nglobals; i++)
        free(c->globals[i]);
    free(c);
}

/* ---- the image ---- */

int deploy_ctr_pull(deploy_ctr *c, const char *version, char *err, size_t errlen)
{
    char ref[700];
    deploy_ctr_ref(c, version, ref, sizeof ref);
    const char *args[] = {"pull", "--quiet", ref, NULL};
    return engine_do(c, args, err, errlen) == 0 ? 0 : -1;
}

int deploy_ctr_check_binary(deploy_ctr *c, const char *version, const char *binary, char *err, size_t errlen)
{
    char ref[700];
    deploy_ctr_ref(c, version, ref, sizeof ref);
    json_t *img = inspect(c, "image", ref, err, errlen);
    if (!img)
        return -1;
    json_t *entry = json_object_get(json_object_get(img, "Config"), "Entrypoint");
    const char *first = json_string_value(json_array_get(entry, 0));
    int rc = 0;
    if (json_array_size(entry) != 1 || strcmp(first, "/usr/local/bin/musicgraph") != 0) {
        snprintf(err, errlen, "%s: its entry point is not /usr/local/bin/musicgraph alone", ref);
        rc = -1;
    }
    json_decref(img);
    if (rc != 0)
        return -1;
    /* The file as the image holds it: copied out of a created (never
     * started) container. */
    char dir[4200], copy[4300], id[128] = "";
    snprintf(dir, sizeof dir, "%s/.image-check-XXXXXX", c->scratch);
    if (!mkdtemp(dir)) {
        snprintf(err, errlen, "cannot make a directory in %s: %s", c->scratch, strerror(errno));
        return -1;
    }
    snprintf(copy, sizeof copy, "%s/musicgraph", dir);
    char *out = NULL;
    const char *create[] = {"create", ref, NULL};
    if (engine(c, create, &out, err, errlen) != 0)
        rc = -1;
    else
        snprintf(id, sizeof id, "%.*s", (int)strcspn(out ? out : "", "\n"), out ? out : "");
    free(out);
    char src[200];
    snprintf(src, sizeof src, "%s:/usr/local/bin/musicgraph", id);
    const char *cp[] = {"cp", src, copy, NULL};
    if (rc == 0 && engine_do(c, cp, err, errlen) != 0)
        rc = -1;
    if (id[0]) {
        /* -v: the anonymous volume created for the image's VOLUME */
        const char *rm[] = {"rm", "-v", id, NULL};
        char ignored[256];
        engine_do(c, rm, ignored, sizeof ignored);
    }
    struct stat st;
    unsigned char *mine = NULL, *theirs = NULL;
    size_t nmine = 0, ntheirs = 0, size;
    if (rc == 0 && (lstat(copy, &st) != 0 || !S_ISREG(st.st_mode))) {
        snprintf(err, errlen, "%s: /usr/local/bin/musicgraph is not a regular file", ref);
        rc = -1;
    }
    if (rc == 0 && (fs_read_file(binary, BINARY_MAX, &mine, &nmine, &size, err, errlen) != 0 ||
                    fs_read_file(copy, BINARY_MAX, &theirs, &ntheirs, &size, err, errlen) != 0))
        rc = -1;
    if (rc == 0 && (nmine != ntheirs || memcmp(mine, theirs, nmine) != 0)) {
        char a[SHA256_HEX_SIZE], b[SHA256_HEX_SIZE];
        sha256_hex(theirs, ntheirs, a);
        sha256_hex(mine, nmine, b);
        snprintf(err, errlen,
                 "%s is not the signed release: its /usr/local/bin/musicgraph has SHA-256 %.16s…, the verified "
                 "tarball's bin/musicgraph %.16s…",
                 ref, a, b);
        rc = -1;
    }
    free(mine);
    free(theirs);
    unlink(copy);
    rmdir(dir);
    return rc;
}

/* ---- one-off commands beside NAME ---- */

/* 1 when the NAME=value string kv sets a variable that one of extra sets. */
static int overridden(const char *kv, const char *const extra[])
{
    size_t k = strcspn(kv, "=");
    for (size_t i = 0; extra && extra[i]; i++)
        if (strncmp(extra[i], kv, k) == 0 && extra[i][k] == '=')
            return 1;
    return 0;
}

/* NAME's environment, and extra over it, into a new file of mode 0600 (its
 * path in path). */
static int write_env_file(const deploy_ctr *c, json_t *env, const char *const extra[], char *path, size_t len,
                          char *err, size_t errlen)
{
    snprintf(path, len, "%s/.container-env-XXXXXX", c->scratch);
    int fd = mkstemp(path);
    if (fd < 0) {
        snprintf(err, errlen, "cannot make a file in %s: %s", c->scratch, strerror(errno));
        return -1;
    }
    size_t i;
    json_t *e;
    int rc = 0;
    json_array_foreach(env, i, e)
    {
        const char *kv = json_string_value(e);
        /* A value with a newline cannot be said in an env file: it is left out. */
        if (!kv || strchr(kv, '\n') || !strchr(kv, '=') || overridden(kv, extra))
            continue;
        if (fs_write_all(fd, kv, strlen(kv)) != 0 || fs_write_all(fd, "\n", 1) != 0)
            rc = -1;
    }
    for (i = 0; extra && extra[i]; i++)
        if (fs_write_all(fd, extra[i], strlen(extra[i])) != 0 || fs_write_all(fd, "\n", 1) != 0)
            rc = -1;
    if (close(fd) != 0 || rc != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        unlink(path);
        return -1;
    }
    return 0;
}

int deploy_ctr_run_once(deploy_ctr *c, const char *version, const char *const args[], const char *const extra_env[],
                        char *out, size_t outlen)
{
    char err[8192] = "";
    out[0] = '\0';
    json_t *ctr = inspect(c, "container", c->name, err, sizeof err);
    if (!ctr) {
        snprintf(out, outlen, "%s", err);
        return -1;
    }
    json_t *config = json_object_get(ctr, "Config"), *host = json_object_get(ctr, "HostConfig");
    char envfile[4200], ref[700], ulimits[8][96];
    if (write_env_file(c, json_object_get(config, "Env"), extra_env, envfile, sizeof envfile, err, sizeof err) != 0) {
        json_decref(ctr);
        snprintf(out, outlen, "%s", err);
        return -1;
    }
    deploy_ctr_ref(c, version, ref, sizeof ref);
    const char *argv[MAX_ARGS];
    size_t n = 0;
    argv[n++] = "run";
    argv[n++] = "--rm";
    argv[n++] = "--volumes-from";
    argv[n++] = c->name;
    argv[n++] = "--env-file";
    argv[n++] = envfile;
    const char *user = json_string_value(json_object_get(config, "User"));
    if (user && *user) {
        argv[n++] = "--user";
        argv[n++] = user;
    }
    const char *net = json_string_value(json_object_get(host, "NetworkMode"));
    if (net && *net) {
        argv[n++] = "--network";
        argv[n++] = net;
    }
    size_t i, nu = 0;
    json_t *u;
    json_array_foreach(json_object_get(host, "Ulimits"), i, u)
    {
        const char *lim = json_string_value(json_object_get(u, "Name"));
        if (!lim || nu == 8)
            continue;
        if (strncmp(lim, "RLIMIT_", 7) == 0)
            lim += 7;
        char lower[32];
        size_t k = 0;
        for (; lim[k] && k < sizeof lower - 1; k++)
            lower[k] = (char)(lim[k] >= 'A' && lim[k] <= 'Z' ? lim[k] + 32 : lim[k]);
        lower[k] = '\0';
        snprintf(ulimits[nu], sizeof ulimits[nu], "%s=%lld:%lld", lower,
                 (long long)json_integer_value(json_object_get(u, "Soft")),
                 (long long)json_integer_value(json_object_get(u, "Hard")));
        argv[n++] = "--ulimit";
        argv[n++] = ulimits[nu++];
    }
    argv[n++] = ref;
    for (i = 0; args[i] && n < MAX_ARGS - 1; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    /* What the command says goes to stdout or stderr: podman passes both on,
     * and both are wanted. */
    char *stdout_text = NULL;
    int rc = engine(c, argv, &stdout_text, err, sizeof err);
    snprintf(out, outlen, "%s%s%s", stdout_text ? stdout_text : "", stdout_text && *stdout_text ? "\n" : "",
             rc == 0 ? "" : err);
    free(stdout_text);
    unlink(envfile);
    json_decref(ctr);
    return rc;
}

void deploy_ctr_env(deploy_ctr *c, const char *key, char *value, size_t len)
{
    char err[512];
    value[0] = '\0';
    json_t *ctr = inspect(c, "container", c->name, err, sizeof err);
    size_t i, k = strlen(key);
    json_t *e;
    json_array_foreach(json_object_get(json_object_get(ctr, "Config"), "Env"), i, e)
    {
        const char *kv = json_string_value(e);
        if (kv && strncmp(kv, key, k) == 0 && kv[k] == '=')
            snprintf(value, len, "%s", kv + k + 1);
    }
    json_decref(ctr);
}

int deploy_ctr_host_path(deploy_ctr *c, const char *inside, char *host, size_t len)
{
    char err[512];
    json_t *ctr = inspect(c, "container", c->name, err, sizeof err);
    size_t i, best = 0;
    json_t *m;
    host[0] = '\0';
    /* The deepest mount that holds the path wins, as in the container. */
    json_array_foreach(json_object_get(ctr, "Mounts"), i, m)
    {
        const char *dest = str(m, "Destination"), *src = str(m, "Source");
        size_t d = dest ? strlen(dest) : 0;
        if (!src || !d || d <= best || strncmp(inside, dest, d) != 0 || (inside[d] && inside[d] != '/'))
            continue;
        best = d;
        snprintf(host, len, "%s%s", src, inside + d);
    }
    json_decref(ctr);
    return host[0] ? 0 : -1;
}

/* ---- the successor and the swap ---- */

int deploy_ctr_kept(deploy_ctr *c, const char *version)
{
    char name[300], err[512];
    kept_name(c, version, name, sizeof name);
    const char *args[] = {"container", "exists", name, NULL};
    return engine_do(c, args, err, sizeof err) == 0;
}

/* 1 when the create command's token t names the container's image. */
static int is_image(const char *t, const char *image_name, const char *image_id)
{
    static const char *const prefixes[] = {"", "localhost/", "docker.io/library/", "docker.io/"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t p = strlen(prefixes[i]);
        if (strncmp(image_name, prefixes[i], p) == 0 && strcmp(image_name + p, t) == 0)
            return 1;
    }
    return strlen(t) >= 12 && strncmp(image_id, t, strlen(t)) == 0;
}

/* `podman create` of NAME-VERSION: NAME's create command with create for
 * run, the name and image replaced, detach dropped, and NAME's anonymous
 * volumes passed on by name. */
static int create_successor(deploy_ctr *c, const char *version, char *err, size_t errlen)
{
    json_t *ctr = inspect(c, "container", c->name, err, errlen);
    if (!ctr)
        return -1;
    json_t *cmd = json_object_get(json_object_get(ctr, "Config"), "CreateCommand");
    const char *image_name = str(ctr, "ImageName") ?: "", *image_id = str(ctr, "Image") ?: "";
    size_t sub = subcommand_at(cmd), ncmd = json_array_size(cmd);
    char name[300], ref[700], volumes[16][600];
    kept_name(c, version, name, sizeof name);
    deploy_ctr_ref(c, version, ref, sizeof ref);
    const char *argv[MAX_ARGS];
    size_t n = 0, nv = 0;
    argv[n++] = "create";
    argv[n++] = "--name";
    argv[n++] = name;
    /* Volumes the command does not name were made for the image's VOLUME. */
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(ctr, "Mounts"), i, m)
    {
        const char *type = str(m, "Type"), *vol = str(m, "Name"), *dest = str(m, "Destination");
        if (!type || strcmp(type, "volume") != 0 || !vol || !dest || nv == 16)
            continue;
        int named = 0;
        for (size_t k = sub + 1; k < ncmd && !named; k++)
            named = strstr(json_string_value(json_array_get(cmd, k)) ?: "", vol) != NULL;
        if (named)
            continue;
        snprintf(volumes[nv], sizeof volumes[nv], "%s:%s%s", vol, dest,
                 json_is_false(json_object_get(m, "RW")) ? ":ro" : "");
        argv[n++] = "-v";
        argv[n++] = volumes[nv++];
    }
    int image_seen = 0;
    char shorts[8][16];
    size_t nshorts = 0;
    for (i = sub + 1; i < ncmd && n < MAX_ARGS - 2; i++) {
        const char *t = json_string_value(json_array_get(cmd, i)) ?: "";
        if (image_seen) { /* the container's command and its arguments */
            argv[n++] = t;
            continue;
        }
        if (strcmp(t, "--name") == 0) {
            i++;
            continue;
        }
        if (strncmp(t, "--name=", 7) == 0 || strcmp(t, "-d") == 0 || strncmp(t, "--detach", 8) == 0 ||
            strcmp(t, "--replace") == 0)
            continue;
        /* -dit and the like: the boolean short options of run, without d */
        if (t[0] == '-' && t[1] != '-' && strlen(t) < sizeof shorts[0] && strspn(t + 1, "ditP") == strlen(t + 1) &&
            nshorts < 8) {
            size_t k = 0;
            for (const char *p = t; *p; p++)
                if (*p != 'd')
                    shorts[nshorts][k++] = *p;
            shorts[nshorts][k] = '\0';
            if (k > 1)
                argv[n++] = shorts[nshorts++];
            continue;
        }
        if (t[0] != '-' && is_image(t, image_name, image_id)) {
            argv[n++] = ref;
            image_seen = 1;
            continue;
        }
        argv[n++] = t;
    }
    argv[n] = NULL;
    int rc = 0;
    if (!image_seen) {
        snprintf(err, errlen, "cannot find the image %s in the create command of %s", image_name, c->name);
        rc = -1;
    } else if (engine_do(c, argv, err, errlen) != 0) {
        rc = -1;
    }
    json_decref(ctr);
    return rc;
}

int deploy_ctr_swap(deploy_ctr *c, const char *version, char *done, size_t dlen, char *err, size_t errlen)
{
    char target[300], aside[300], scrap[512];
    kept_name(c, version, target, sizeof target);
    int made = 0;
    done[0] = '\0';
    if (!deploy_ctr_kept(c, version)) {
        if (create_successor(c, version, err, errlen) != 0)
            return -1;
        made = 1;
    }
    /* What NAME serves now becomes NAME-SERVING (a stale one of that name
     * goes first: the one that just served is the one to keep). */
    kept_name(c, c->serving[0] ? c->serving : "previous", aside, sizeof aside);
    const char *stop[] = {"stop", c->name, NULL};
    if (engine_do(c, stop, err, errlen) != 0)
        return -1;
    if (strcmp(aside, target) != 0) {
        const char *rm_stale[] = {"rm", "--ignore", aside, NULL};
        engine_do(c, rm_stale, scrap, sizeof scrap);
    }
    const char *rename_old[] = {"rename", c->name, aside, NULL};
    const char *rename_new[] = {"rename", target, c->name, NULL};
    const char *start[] = {"start", c->name, NULL};
    if (engine_do(c, rename_old, err, errlen) != 0)
        return -1;
    if (engine_do(c, rename_new, err, errlen) != 0) {
        const char *back[] = {"rename", aside, c->name, NULL};
        engine_do(c, back, scrap, sizeof scrap);
        return -1;
    }
    snprintf(c->serving, sizeof c->serving, "%s", version);
    snprintf(done, dlen, "%s%s stopped and kept as %s; %s started as %s",
             made ? "created from its create command; " : "", c->name, aside, target, c->name);
    return engine_do(c, start, err, errlen) == 0 ? 0 : -1;
}

int deploy_ctr_running(deploy_ctr *c, char *why, size_t len)
{
    char err[512];
    json_t *ctr = inspect(c, "container", c->name, err, sizeof err);
    json_t *state = json_object_get(ctr, "State");
    int running = json_is_true(json_object_get(state, "Running"));
    if (!running) {
        char *log = NULL;
        const char *args[] = {"logs", "--tail", "3", c->name, NULL};
        engine(c, args, &log, err, sizeof err);
        /* podman logs passes the container's stderr on as its own: err */
        const char *said = err[0] ? err : "";
        snprintf(why, len, "container %s %s (exit code %lld)%s%s", c->name,
                 ctr ? (str(state, "Status") ?: "stopped") : "is gone",
                 (long long)json_integer_value(json_object_get(state, "ExitCode")), said[0] ? ": " : "", said);
        free(log);
    }
    json_decref(ctr);
    return running;
}

void deploy_ctr_remove(deploy_ctr *c, const char *version)
{
    char name[300], ref[700], err[512];
    kept_name(c, version, name, sizeof name);
    deploy_ctr_ref(c, version, ref, sizeof ref);
    const char *rm[] = {"rm", "--ignore", "--force", name, NULL};
    const char *rmi[] = {"rmi", ref, NULL};
    engine_do(c, rm, err, sizeof err);
    engine_do(c, rmi, err, sizeof err); /* refused while another container uses it: kept */
}

void deploy_ctr_prune(deploy_ctr *c, int keep, const char *protect, char *removed, size_t rlen)
{
    char err[512], *out = NULL;
    removed[0] = '\0';
    const char *args[] = {"ps", "--all", "--sort", "created", "--format", "json", NULL};
    if (engine(c, args, &out, err, sizeof err) != 0) {
        free(out);
        return;
    }
    json_t *all = json_loads(out ? out : "", 0, NULL);
    free(out);
    char protected[300];
    kept_name(c, protect, protected, sizeof protected);
    /* keep counts the serving container and the previous one (protect),
     * always kept; of the others, the newest keep - 2 stay. ps sorts oldest
     * first. Only a container named NAME-VERSION after its own image's version
     * is the agent's: a NAME-db beside it is never touched. */
    size_t n = json_array_size(all), seen = 0, others = keep > 2 ? (size_t)keep - 2 : 0;
    for (size_t i = n; i-- > 0;) {
        json_t *e = json_array_get(all, i);
        const char *name = json_string_value(json_array_get(json_object_get(e, "Names"), 0));
        const char *version =
            json_string_value(json_object_get(json_object_get(e, "Labels"), "org.opencontainers.image.version"));
        char own[300];
        if (!name || !version)
            continue;
        kept_name(c, version, own, sizeof own);
        if (strcmp(name, own) != 0 || strcmp(name, protected) == 0 || seen++ < others)
            continue;
        const char *rm[] = {"rm", "--ignore", name, NULL};
        const char *rmi[] = {"rmi", json_string_value(json_object_get(e, "Image")) ?: "", NULL};
        engine_do(c, rm, err, sizeof err);
        engine_do(c, rmi, err, sizeof err);
        size_t used = strlen(removed);
        snprintf(removed + used, rlen - used, "%s%s", used ? " " : "", name);
    }
    json_decref(all);
}
