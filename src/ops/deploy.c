/*
 * deploy.c — see deploy.h. The steps of a deploy, in order, and the
 * commands run, status, history and rollback.
 */
#include "ops/deploy.h"

#include "core/fs.h"
#include "core/log.h"
#include "ops/backup.h"
#include "ops/backup_crypt.h"
#include "ops/backup_keys.h"
#include "ops/backup_location.h"
#include "ops/deploy_container.h"
#include "ops/deploy_local.h"
#include "ops/release.h"
#include "ops/release_store.h"
#include "store/store.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char cmd_deploy_usage[] =
    "usage: musicgraph deploy run [--retry] [options]\n"
    "       musicgraph deploy status [options]\n"
    "       musicgraph deploy history [options]\n"
    "       musicgraph deploy rollback [VERSION] [options]\n\n"
    "run: reads channels/CHANNEL in the release store; when it names another version\n"
    "than ROOT/current, downloads that release, checks SHA256SUMS's signature with\n"
    "the release public key and the tarball's checksum (refusing anything else),\n"
    "unpacks it into ROOT/releases/VERSION/, runs its preflight (doctor, migrate\n"
    "--status), takes a backup tagged pre-deploy-FROM-TO, points ROOT/current at it,\n"
    "hands over (SIGUSR2 to the pid in MUSICGRAPH_PID_FILE, or to the main process\n"
    "of MUSICGRAPH_DEPLOY_SYSTEMD_UNIT), waits for /readyz to report the version and runs the smoke checks. On a\n"
    "failure it switches back and hands over again; when the new version had\n"
    "migrated the schema it restores the pre-deploy backup first and lists the\n"
    "writes made since, which are lost (kept in a backup tagged pre-rollback-…).\n"
    "The outcome goes to the store (deployed/ENV/VERSION) and ROOT/history.jsonl; a\n"
    "version rolled back here is not tried again unless --retry. Keeps the newest\n"
    "MUSICGRAPH_DEPLOY_KEEP releases, never the running or the previous one.\n"
    "Exit status: 0 deployed or nothing to do, 1 refused or rolled back.\n\n"
    "status: the current, running and channel versions and the last deploy.\n"
    "history: every deploy and rollback on this server, oldest first.\n"
    "rollback: goes back to VERSION (default: the one the last deploy came from),\n"
    "restoring its pre-deploy backup when the schema has moved on since.\n\n"
    "Container mode (--container NAME; podman only): NAME is the podman container\n"
    "that serves. After the same download and checks, run pulls REPO:VERSION (--image\n"
    "REPO, default: the repository of NAME's image) and refuses it unless its\n"
    "/usr/local/bin/musicgraph is byte for byte the verified tarball's bin/musicgraph;\n"
    "the preflight and the pre-deploy backup run in throwaway containers beside NAME\n"
    "(its volumes, network, user, environment); then NAME is stopped and kept as\n"
    "NAME-FROM, and NAME-VERSION, made from NAME's own create command with the new\n"
    "image, starts as NAME. Requests fail from the stop until the new one listens\n"
    "(docs/operations.md). A failure swaps back, restoring the pre-deploy backup\n"
    "first when the schema migrated (SQLite, through the container's mounts). Keeps\n"
    "MUSICGRAPH_DEPLOY_KEEP containers; rollback starts a kept NAME-VERSION again.\n\n"
    "  --store STORE       MUSICGRAPH_DEPLOY_STORE: a directory, https://HOST/PATH/\n"
    "                      (MUSICGRAPH_RELEASE_STORE_CA_FILE, _AUTH_FILE) or\n"
    "                      s3://BUCKET/PREFIX (MUSICGRAPH_S3_*)\n"
    "  --channel CHANNEL   MUSICGRAPH_DEPLOY_CHANNEL (dev, staging, production)\n"
    "  --root DIR          MUSICGRAPH_DEPLOY_ROOT (default /opt/musicgraph)\n"
    "  --public-key KEY    MUSICGRAPH_RELEASE_PUBLIC_KEY\n"
    "  --pid-file FILE     MUSICGRAPH_PID_FILE of the running server\n"
    "  --container NAME    MUSICGRAPH_DEPLOY_CONTAINER: container mode\n"
    "  --image REPO        MUSICGRAPH_DEPLOY_IMAGE: the image repository (container mode)\n"
    "  --retry             try again a version that was rolled back here\n"
    "MUSICGRAPH_DEPLOY_ENV, _URL, _SMOKE, _SYSTEMD_UNIT, _READY_TIMEOUT: see\n"
    "docs/configuration.md.\n";

typedef struct agent {
    config *cfg;
    const char *root;
    char env[64];
    char base_url[512];
    char from[128], to[128];
    char host[256];
    struct timespec started;
    json_t *steps;
    json_t *checks;
    json_t *lost; /* audit entries lost to a restore */
    char predeploy[4200];
    int old_pid;     /* the process handed over from: a hand-over ends when it has gone */
    deploy_ctr *ctr; /* container mode: the container that serves; NULL on the systemd/pid-file path */
} agent;

static long long ms_since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* Every step is logged and kept for the record. */
static void step(agent *a, int ok, const char *name, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void step(agent *a, int ok, const char *name, const char *fmt, ...)
{
    char detail[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    log_msg(ok ? LOG_INFO : LOG_ERROR, "deploy %s: %s", name, detail);
    json_array_append_new(a->steps, json_pack("{s:s, s:b, s:s, s:I}", "step", name, "ok", ok, "detail", detail, "ms",
                                              (json_int_t)ms_since(&a->started)));
}

static int valid_version(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n > 100 || v[0] == '.' || v[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_+", v[i]))
            return 0;
    return 1;
}

/* ---- running a release's binary ---- */

/* ROOT/releases/VERSION/bin/musicgraph ARGS with extra environment (NAME=value
 * strings, may be NULL); its stdout and stderr go to out. The exit status,
 * or -1 when it could not run. */
static int run_release(const agent *a, const char *version, const char *const args[], const char *const extra_env[],
                       char *out, size_t outlen)
{
    if (a->ctr) /* the image REPO:VERSION beside the serving container */
        return deploy_ctr_run_once(a->ctr, version, args, extra_env, out, outlen);
    char bin[4400];
    snprintf(bin, sizeof bin, "%s/releases/%s/bin/musicgraph", a->root, version);
    char *argv[16];
    size_t n = 0;
    argv[n++] = bin;
    for (size_t i = 0; args[i] && n < 15; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    int pipefd[2];
    if (pipe(pipefd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        for (size_t i = 0; extra_env && extra_env[i]; i++)
            putenv((char *)extra_env[i]);
        dup2(pipefd[1], STDOUT_FILENO);
        dup2(pipefd[1], STDERR_FILENO);
        close(pipefd[0]);
        close(pipefd[1]);
        execv(bin, argv);
        _exit(127);
    }
    close(pipefd[1]);
    size_t used = 0;
    char chunk[4096];
    ssize_t got;
    while ((got = read(pipefd[0], chunk, sizeof chunk)) > 0) {
        size_t k = used + 1 < outlen ? ((size_t)got < outlen - used - 1 ? (size_t)got : outlen - used - 1) : 0;
        memcpy(out + used, chunk, k);
        used += k;
    }
    out[used] = '\0';
    close(pipefd[0]);
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The last line of a command's output, for a one-line report. */
static const char *last_line(char *out)
{
    size_t n = strlen(out);
    while (n && out[n - 1] == '\n')
        out[--n] = '\0';
    char *nl = strrchr(out, '\n');
    return nl ? nl + 1 : out;
}

/* ---- HTTP: /readyz and the smoke checks ---- */

typedef struct body {
    char data[8192];
    size_t len;
} body;

static size_t collect(char *p, size_t size, size_t n, void *ctx)
{
    body *b = ctx;
    size_t k = size * n, room = sizeof b->data - 1 - b->len;
    memcpy(b->data + b->len, p, k < room ? k : room);
    b->len += k < room ? k : room;
    b->data[b->len] = '\0';
    return size * n;
}

/* The status of GET base_url + path (0 when nothing answered); the first
 * bytes of the body in b. A new connection each time: after a hand-over the
 * next request must reach whoever accepts now. */
static long http_get(const agent *a, const char *path, body *b)
{
    char url[2048];
    snprintf(url, sizeof url, "%s%s", a->base_url, path);
    b->len = 0;
    b->data[0] = '\0';
    CURL *c = curl_easy_init();
    if (!c)
        return 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    /* The server's own certificate is checked by clients; here only its answer matters. */
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    return status;
}

/* What /readyz says: ready, the version, and whether an upgrade failed
 * since a given time. */
typedef struct readiness {
    long status;
    char version[128];
    char upgrade[16];
    long long upgrade_at;
} readiness;

static void ask_ready(const agent *a, readiness *r)
{
    body b;
    memset(r, 0, sizeof *r);
    r->status = http_get(a, "/readyz", &b);
    json_t *doc = json_loads(b.data, 0, NULL);
    const char *v = json_string_value(json_object_get(doc, "version"));
    json_t *up = json_object_get(doc, "upgrade");
    const char *state = json_string_value(json_object_get(up, "state"));
    snprintf(r->version, sizeof r->version, "%s", v ? v : "");
    snprintf(r->upgrade, sizeof r->upgrade, "%s", state ? state : "");
    r->upgrade_at = (long long)json_integer_value(json_object_get(up, "at"));
    json_decref(doc);
}

/* Waits until /readyz is 200 with version; -1 at once when the server says
 * the upgrade it started at or after since failed. */
static int wait_ready(agent *a, const char *version, time_t since, char *why, size_t len)
{
    long timeout = config_long(a->cfg->deploy_ready_timeout, 90);
    time_t deadline = time(NULL) + timeout;
    readiness r;
    for (int round = 1;; round++) {
        ask_ready(a, &r);
        if (r.status == 200 && strcmp(r.version, version) == 0)
            return 0;
        /* A container that has exited will not become ready: no need to wait the timeout out. */
        char stopped[1024];
        if (a->ctr && round % 5 == 0 && !deploy_ctr_running(a->ctr, stopped, sizeof stopped)) {
            snprintf(why, len, "%s did not start: %s", version, stopped);
            return -1;
        }
        if (strcmp(r.upgrade, "failed") == 0 && r.upgrade_at >= (long long)since && strcmp(r.version, version) != 0) {
            snprintf(why, len, "%s did not start (the server still runs %s; its log says why)", version,
                     r.version[0] ? r.version : "the old version");
            return -1;
        }
        if (time(NULL) >= deadline)
            break;
        usleep(200 * 1000);
    }
    snprintf(why, len, "/readyz did not report %s ready within %ld s (last: %ld, version %s)", version, timeout,
             r.status, r.version[0] ? r.version : "unknown");
    return -1;
}

static int smoke_checks(agent *a, char *why, size_t len)
{
    char list[2048];
    snprintf(list, sizeof list, "%s", a->cfg->deploy_smoke ? a->cfg->deploy_smoke : "");
    int failed = 0;
    char *save = NULL;
    for (char *path = strtok_r(list, " \t,", &save); path; path = strtok_r(NULL, " \t,", &save)) {
        body b;
        long status = http_get(a, path, &b);
        int ok = status >= 200 && status < 300;
        json_array_append_new(a->checks, json_pack("{s:s, s:s, s:I, s:b}", "check", "smoke", "path", path, "status",
                                                   (json_int_t)status, "ok", ok));
        step(a, ok, "smoke", "GET %s: %ld", path, status);
        if (!ok && !failed) {
            snprintf(why, len, "smoke check GET %s answered %ld", path, status);
            failed = 1;
        }
    }
    return failed ? -1 : 0;
}

/* ---- hand-over ---- */

static int hand_over(agent *a, char *why, size_t len)
{
    const config *cfg = a->cfg;
    if (cfg->deploy_systemd_unit && *cfg->deploy_systemd_unit) {
        /* SIGUSR2 to the unit's main process; `systemctl reload` stays the
         * SIGHUP configuration reload. The server tells systemd MAINPID. */
        char cmd[512];
        snprintf(cmd, sizeof cmd, "systemctl show --property=MainPID --value '%s'", cfg->deploy_systemd_unit);
        FILE *show = strchr(cfg->deploy_systemd_unit, '\'') ? NULL : popen(cmd, "r");
        if (show) {
            if (fscanf(show, "%d", &a->old_pid) != 1)
                a->old_pid = 0;
            pclose(show);
        }
        pid_t pid = fork();
        if (pid == 0) {
            execlp("systemctl", "systemctl", "kill", "--kill-whom=main", "--signal=SIGUSR2", cfg->deploy_systemd_unit,
                   (char *)NULL);
            _exit(127);
        }
        int status;
        if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            snprintf(why, len, "systemctl kill --kill-whom=main --signal=SIGUSR2 %s failed", cfg->deploy_systemd_unit);
            return -1;
        }
        step(a, 1, "hand-over", "SIGUSR2 to the main process of %s", cfg->deploy_systemd_unit);
        return 0;
    }
    if (!cfg->pid_file || !*cfg->pid_file) {
        snprintf(why, len, "no way to reach the server: set MUSICGRAPH_PID_FILE (or MUSICGRAPH_DEPLOY_SYSTEMD_UNIT)");
        return -1;
    }
    FILE *f = fopen(cfg->pid_file, "r");
    int pid = 0;
    if (!f || fscanf(f, "%d", &pid) != 1 || pid <= 1) {
        snprintf(why, len, "cannot read a pid from %s: %s", cfg->pid_file, f ? "no number" : strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    a->old_pid = pid;
    if (kill(pid, SIGUSR2) != 0) {
        snprintf(why, len, "cannot signal process %d (from %s): %s", pid, cfg->pid_file, strerror(errno));
        return -1;
    }
    step(a, 1, "hand-over", "SIGUSR2 to process %d (%s)", pid, cfg->pid_file);
    return 0;
}

/* 1 while pid runs (a zombie waiting for its parent has stopped). */
static int still_running(int pid)
{
    char path[64], stat[256] = "";
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return kill(pid, 0) == 0;
    size_t n = fread(stat, 1, sizeof stat - 1, f);
    fclose(f);
    stat[n] = '\0';
    const char *paren = strrchr(stat, ')');
    return !(paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X'));
}

/* The new process answering /readyz is not the end of a hand-over: until the
 * old one notices and stops accepting, a new connection may still reach it.
 * The hand-over is over when the old process has drained and exited. */
static int wait_old_gone(agent *a, char *why, size_t len)
{
    if (a->old_pid <= 1)
        return 0;
    long timeout = config_long(a->cfg->deploy_ready_timeout, 90);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (still_running(a->old_pid)) {
        if (ms_since(&t0) > timeout * 1000) {
            snprintf(why, len, "the old process %d still runs %ld s after the hand-over", a->old_pid, timeout);
            return -1;
        }
        usleep(50 * 1000);
    }
    step(a, 1, "drained", "the old process %d exited %lld ms after the new one was ready", a->old_pid, ms_since(&t0));
    a->old_pid = 0;
    return 0;
}

/* Container mode: the container of version replaces the one serving
 * (deploy_ctr_swap), then /readyz is waited for. Two containers cannot both
 * publish the port, so requests fail from the old one's stop until the new
 * one listens: the downtime docs/operations.md states. */
static int become_container(agent *a, const char *version, char *why, size_t len)
{
    readiness r;
    ask_ready(a, &r);
    if (strcmp(deploy_ctr_serving(a->ctr), version) == 0 && r.status == 200 && strcmp(r.version, version) == 0) {
        step(a, 1, "ready", "%s already serves", version);
        return 0;
    }
    char done[2048];
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (deploy_ctr_swap(a->ctr, version, done, sizeof done, why, len) != 0) {
        step(a, 0, "swap", "%s", why);
        return -1;
    }
    step(a, 1, "swap", "%s", done);
    if (wait_ready(a, version, time(NULL), why, len) != 0)
        return -1;
    step(a, 1, "ready", "/readyz reports %s, %lld ms after the swap began", version, ms_since(&t0));
    return 0;
}

/* Makes version the one serving: current switched, handed over (unless it
 * already serves and is ready), /readyz waited for. */
static int become(agent *a, const char *version, char *why, size_t len)
{
    char err[1024];
    if (a->ctr)
        return become_container(a, version, why, len);
    if (deploy_switch(a->root, version, err, sizeof err) != 0) {
        snprintf(why, len, "%s", err);
        return -1;
    }
    step(a, 1, "switch", "%s/current -> releases/%s", a->root, version);
    readiness r;
    ask_ready(a, &r);
    if (r.status == 200 && strcmp(r.version, version) == 0) {
        step(a, 1, "ready", "%s already serves", version);
        return 0;
    }
    time_t since = time(NULL);
    if (hand_over(a, why, len) != 0)
        return -1;
    if (wait_ready(a, version, since, why, len) != 0)
        return -1;
    step(a, 1, "ready", "/readyz reports %s", version);
    return wait_old_gone(a, why, len);
}

/* ---- backups and the restore across a migration ---- */

/* A backup the agent (root, under systemd) writes into the service's state
 * directory belongs to the directory's owner, so the service can list,
 * verify and prune it. */
static void give_to_state_owner(const agent *a, const char *path)
{
    struct stat st;
    if (geteuid() == 0 && stat(a->cfg->state_dir, &st) == 0 && chown(path, st.st_uid, st.st_gid) != 0)
        log_msg(LOG_WARN, "deploy: cannot give %s to the owner of %s: %s", path, a->cfg->state_dir, strerror(errno));
}

static int take_backup(agent *a, const char *tag, char *path, size_t pathlen, char *why, size_t len)
{
    store *s;
    char dir[4096];
    if (a->ctr) {
        /* The serving image's own binary, on the container's state volume:
         * the path is the one inside the container. */
        char out[8192];
        const char *args[] = {"backup", "--tag", tag, NULL};
        int rc = run_release(a, a->from, args, NULL, out, sizeof out);
        const char *written = strstr(out, "backup written: ");
        if (rc != 0 || !written) {
            snprintf(why, len, "the pre-deploy backup failed: %s", last_line(out));
            return -1;
        }
        snprintf(path, pathlen, "%.*s", (int)strcspn(written + 16, " \n"), written + 16);
        return 0;
    }
    if (store_open(a->cfg->database_url, &s, why, len) != 0)
        return -1;
    backup_default_dir(a->cfg, dir, sizeof dir);
    backup_keys *keys;
    backup_crypt *crypt = NULL;
    int local = 0;
    int rc = backup_crypt_from_config(a->cfg, &crypt, &local, why, len);
    if (rc == 0)
        rc = backup_keys_load(a->cfg->state_dir, 1, &keys, why, len);
    if (rc == 0) {
        /* Made by the agent (root) at the first backup: the server signs with it too. */
        char key[4300];
        backup_keys_secret_path(a->cfg->state_dir, key, sizeof key);
        give_to_state_owner(a, key);
        rc = backup_write(s, keys, local ? crypt : NULL, dir, tag, path, pathlen, NULL, why, len);
        backup_keys_free(keys);
    }
    backup_crypt_free(crypt);
    store_close(s);
    if (rc == 0)
        give_to_state_owner(a, path);
    return rc;
}

/* KIND-FROM-TO, cut to a tag's length (long git-describe versions). */
static void tag_for(char *tag, size_t len, const char *kind, const char *from, const char *to)
{
    char whole[512];
    snprintf(whole, sizeof whole, "%s-%s-%s", kind, from, to);
    snprintf(tag, len, "%.*s", BACKUP_TAG_MAX, whole);
    if (!backup_tag_valid(tag))
        snprintf(tag, len, "%s", kind);
}

/* 1 when the database carries a migration the release does not know. */
static int schema_newer_than(const agent *a, const char *version)
{
    char out[8192];
    const char *args[] = {"migrate", "--status", NULL};
    int rc = run_release(a, version, args, NULL, out, sizeof out);
    return rc != 0 && strstr(out, "unknown to this binary") != NULL;
}

/* The newest audit entry's id in a backup: writes after it are lost by
 * restoring it. */
static int audit_last_of(const agent *a, const char *path, const char *state_dir, int64_t *last, char *why, size_t len)
{
    backup_contents c;
    backup_limits lim;
    backup_keys *keys;
    if (backup_limits_from_config(a->cfg, &lim, why, len) != 0 || backup_keys_load(state_dir, 0, &keys, why, len) != 0)
        return -1;
    backup_trust trust = {.keys = keys};
    backup_crypt *crypt = NULL;
    int local;
    int rc = backup_crypt_from_config(a->cfg, &crypt, &local, why, len);
    if (rc == 0)
        rc = backup_read(path, 0, &lim, &trust, crypt, &c, why, len);
    backup_keys_free(keys);
    backup_crypt_free(crypt);
    if (rc != 0)
        return -1;
    *last = c.dump.audit_last_id;
    for (size_t i = 0; i < c.dump.naudit; i++)
        if (c.dump.audit[i].id > *last)
            *last = c.dump.audit[i].id;
    backup_contents_free(&c);
    return 0;
}

static void report_lost(agent *a, store_audit *lost, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const store_audit *e = &lost[i];
        json_array_append_new(a->lost, json_pack("{s:s, s:s, s:s, s:s, s:s}", "at", e->at, "actor",
                                                 e->actor ? e->actor : "", "action", e->action, "type", e->entity_type,
                                                 "id", e->entity_id ? e->entity_id : ""));
        log_msg(LOG_WARN, "deploy: LOST by the restore: %s %s %s %s by %s", e->at, e->action, e->entity_type,
                e->entity_id ? e->entity_id : "", e->actor ? e->actor : "unknown");
        store_audit_clear(&lost[i]);
    }
    free(lost);
}

/* Where a restore across a migration happens: each path as the agent sees it
 * and as the releases' binaries see it. The same on the systemd path; in
 * container mode the binaries run in containers and the agent reaches the
 * same files through the container's mounts. */
typedef struct restore_site {
    char live[4096];    /* the live SQLite database file */
    char state[4096];   /* the state directory, whose backup keys are trusted */
    char backup[4096];  /* the pre-deploy backup */
    char scratch[4096]; /* where the scratch directory is made (the same file system as live) */
    char inside_backup[4096], inside_scratch[4096];
    int give; /* container mode: the scratch goes to uid:gid, the server's user */
    uid_t uid;
    gid_t gid;
} restore_site;

static int site_here(agent *a, const char *backup_path, restore_site *s, char *why, size_t len)
{
    const char *live = config_sqlite_path(a->cfg);
    if (!live) {
        snprintf(why, len,
                 "the schema was migrated and only an SQLite database is restored automatically: restore "
                 "%s by hand (docs/operations.md)",
                 backup_path);
        return -1;
    }
    snprintf(s->live, sizeof s->live, "%s", live);
    snprintf(s->state, sizeof s->state, "%s", a->cfg->state_dir);
    snprintf(s->backup, sizeof s->backup, "%s", backup_path);
    snprintf(s->scratch, sizeof s->scratch, "%s", a->root);
    snprintf(s->inside_backup, sizeof s->inside_backup, "%s", backup_path);
    snprintf(s->inside_scratch, sizeof s->inside_scratch, "%s", a->root);
    return 0;
}

/* Container mode: the paths inside the serving container (its environment
 * says where state and database are) and where its mounts put them here.
 * The scratch is made in the state directory: on the volume, where the
 * container's binary can write and the agent can read. */
static int site_container(agent *a, const char *backup_path, restore_site *s, char *why, size_t len)
{
    char state[1024], url[1024], file[16];
    deploy_ctr_env(a->ctr, "MUSICGRAPH_STATE_DIR", state, sizeof state);
    deploy_ctr_env(a->ctr, "MUSICGRAPH_DATABASE_URL", url, sizeof url);
    if (!url[0])
        deploy_ctr_env(a->ctr, "DATABASE_URL", url, sizeof url);
    deploy_ctr_env(a->ctr, "MUSICGRAPH_DATABASE_URL_FILE", file, sizeof file);
    char db[1200];
    if (!url[0] && !file[0])
        snprintf(db, sizeof db, "%s/musicgraph.db", state);
    else
        snprintf(db, sizeof db, "%s", strncmp(url, "sqlite://", 9) == 0 ? url + 9 : "");
    struct stat st;
    if (!state[0] || !db[0]) {
        snprintf(why, len,
                 "the schema was migrated and only an SQLite database is restored automatically: restore %s by hand "
                 "(docs/operations.md)",
                 backup_path);
        return -1;
    }
    if (deploy_ctr_host_path(a->ctr, db, s->live, sizeof s->live) != 0 ||
        deploy_ctr_host_path(a->ctr, state, s->state, sizeof s->state) != 0 ||
        deploy_ctr_host_path(a->ctr, backup_path, s->backup, sizeof s->backup) != 0 || stat(s->state, &st) != 0) {
        snprintf(why, len,
                 "the schema was migrated, and %s's state directory %s and database %s are not on a mount this host "
                 "reaches: restore %s by hand (docs/operations.md)",
                 deploy_ctr_name(a->ctr), state, db, backup_path);
        return -1;
    }
    snprintf(s->scratch, sizeof s->scratch, "%s", s->state);
    snprintf(s->inside_backup, sizeof s->inside_backup, "%s", backup_path);
    snprintf(s->inside_scratch, sizeof s->inside_scratch, "%s", state);
    s->give = 1;
    s->uid = st.st_uid;
    s->gid = st.st_gid;
    return 0;
}

/* chown of a directory and the files in it (the scratch: the keys copied). */
static void give_dir(const char *dir, uid_t uid, gid_t gid)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4400 + 256];
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (lchown(path, uid, gid) != 0)
                log_msg(LOG_WARN, "deploy: cannot give %s to %d: %s", path, (int)uid, strerror(errno));
        }
    if (d)
        closedir(d);
    if (chown(dir, uid, gid) != 0)
        log_msg(LOG_WARN, "deploy: cannot give %s to %d: %s", dir, (int)uid, strerror(errno));
}

/* Puts the database back to backup_path under version's schema: what is there
 * now is kept in a backup tagged pre-rollback-…, taken by the release that
 * wrote it (newer); version's binary restores backup_path into a scratch
 * database with its own schema; that replaces the live one whole. */
static int restore_schema(agent *a, const char *version, const char *newer, const char *backup_path, char *why,
                          size_t len)
{
    restore_site s = {0};
    if ((a->ctr ? site_container : site_here)(a, backup_path, &s, why, len) != 0)
        return -1;
    char out[8192], tag[BACKUP_TAG_MAX + 1], kept[4200] = "";
    tag_for(tag, sizeof tag, "pre-rollback", newer, version);
    const char *backup_args[] = {"backup", "--tag", tag, NULL};
    int rc = run_release(a, newer, backup_args, NULL, out, sizeof out);
    const char *written = strstr(out, "backup written: ");
    if (rc == 0 && written)
        snprintf(kept, sizeof kept, "%.*s", (int)strcspn(written + 16, " \n"), written + 16);
    if (!kept[0]) {
        snprintf(why, len, "cannot keep the data before restoring (%s backup): %s", newer, last_line(out));
        return -1;
    }
    if (!a->ctr) /* in a container, the server's user wrote it */
        give_to_state_owner(a, kept);
    step(a, 1, "backup", "the data before the restore: %s", kept);
    int64_t audit_after;
    if (audit_last_of(a, s.backup, s.state, &audit_after, why, len) != 0)
        return -1;
    char scratch[4200], url[4400], db[4300], state[4400], inside[4300];
    snprintf(scratch, sizeof scratch, "%s/.rollback-XXXXXX", s.scratch);
    if (!mkdtemp(scratch)) {
        snprintf(why, len, "cannot create a scratch directory in %.1024s: %s", s.scratch, strerror(errno));
        return -1;
    }
    snprintf(db, sizeof db, "%s/musicgraph.db", scratch);
    snprintf(inside, sizeof inside, "%s/%s", s.inside_scratch, strrchr(scratch, '/') + 1);
    snprintf(url, sizeof url, "MUSICGRAPH_DATABASE_URL=sqlite://%s/musicgraph.db", inside);
    snprintf(state, sizeof state, "MUSICGRAPH_STATE_DIR=%s", inside);
    const char *env[] = {url, state, NULL};
    const char *restore_args[] = {"restore", s.inside_backup, "--no-safety-backup", NULL};
    /* The scratch installation trusts what this one trusts: the pre-deploy
     * backup is signed with this one's key. */
    rc = backup_keys_copy(s.state, scratch, why, len);
    if (rc != 0) {
        deploy_remove_tree(scratch);
        return -1;
    }
    if (s.give)
        give_dir(scratch, s.uid, s.gid);
    rc = run_release(a, version, restore_args, env, out, sizeof out);
    store_audit *lost = NULL;
    size_t nlost = 0;
    if (rc != 0)
        snprintf(why, len, "%s could not rebuild the database from %s: %s", version, backup_path, last_line(out));
    else if ((rc = store_sqlite_replace(s.live, db, audit_after, &lost, &nlost, why, len)) == 0) {
        step(a, 1, "restore", "%s restored with %s's schema", backup_path, version);
        report_lost(a, lost, nlost);
    }
    deploy_remove_tree(scratch);
    return rc;
}

/* ---- records ---- */

static void record(agent *a, const char *kind, const char *version, const char *result, const char *message,
                   release_store *rs)
{
    time_t now = time(NULL);
    char at[32];
    strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    json_t *r = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:O, s:O, s:O}", "kind", kind, "version",
                          version, "from", a->from, "env", a->env, "host", a->host, "result", result, "at", at, "ended",
                          (json_int_t)now, "duration_ms", (json_int_t)ms_since(&a->started), "message", message,
                          "checks", a->checks, "lost_writes", a->lost, "steps", a->steps);
    char err[1024];
    if (deploy_history_append(a->root, r, err, sizeof err) != 0)
        log_msg(LOG_ERROR, "deploy: cannot record the outcome here: %s", err);
    if (rs) {
        json_object_del(r, "steps");
        char *text = json_dumps(r, JSON_INDENT(1));
        char name[300];
        snprintf(name, sizeof name, "deployed/%s/%s", a->env, version);
        if (!text || release_store_put(rs, name, text, strlen(text), err, sizeof err) != 0)
            log_msg(LOG_ERROR, "deploy: cannot record the outcome in the store: %s", text ? err : "out of memory");
        else
            log_msg(LOG_INFO, "deploy: recorded %s in %s/%s", result, release_store_url(rs), name);
        free(text);
    }
    json_decref(r);
    log_msg(strcmp(result, "healthy") == 0 ? LOG_INFO : LOG_ERROR, "deploy %s %s: %s%s%s", kind, version, result,
            message[0] ? ": " : "", message);
}

/* ---- run ---- */

/* Downloads and checks releases/VERSION from the store into a new directory
 * under ROOT; the tarball's path goes to tarball. */
static int fetch_release(agent *a, release_store *rs, const char *version, char *dir, size_t dirlen, char *tarball,
                         size_t tlen, char *why, size_t len)
{
    snprintf(dir, dirlen, "%s/.incoming-%s-XXXXXX", a->root, version);
    if (!mkdtemp(dir)) {
        snprintf(why, len, "cannot create a directory in %s: %s", a->root, strerror(errno));
        return -1;
    }
    char name[300], file[300], path[4600];
    snprintf(file, sizeof file, "musicgraph-%s-linux-amd64.tar.gz", version);
    const char *const files[] = {"SHA256SUMS", "SHA256SUMS.minisig", file, NULL};
    long max = config_long(a->cfg->deploy_max_download, -1);
    if (max <= 0) {
        snprintf(why, len, "MUSICGRAPH_DEPLOY_MAX_DOWNLOAD is %s: it must be a number of bytes above 0",
                 a->cfg->deploy_max_download ? a->cfg->deploy_max_download : "empty");
        return -1;
    }
    for (size_t i = 0; files[i]; i++) {
        int missing = 0;
        snprintf(name, sizeof name, "releases/%s/%s", version, files[i]);
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        if (release_store_fetch(rs, name, path, max, &missing, why, len) != 0)
            return -1;
        if (missing) {
            snprintf(why, len, "%s is not in the store (%s)", name, release_store_url(rs));
            return -1;
        }
    }
    step(a, 1, "download", "releases/%s/ from %s", version, release_store_url(rs));
    char signed_version[128];
    if (!a->cfg->release_public_key || !*a->cfg->release_public_key) {
        snprintf(why, len, "no release public key (MUSICGRAPH_RELEASE_PUBLIC_KEY): nothing unsigned is deployed");
        return -1;
    }
    if (release_verify(dir, a->cfg->release_public_key, file, signed_version, sizeof signed_version, why, len) != 0)
        return -1;
    if (strcmp(signed_version, version) != 0) {
        snprintf(why, len, "the channel names %s but the signature is for %s", version, signed_version);
        return -1;
    }
    step(a, 1, "verify", "signature of SHA256SUMS and SHA-256 of %s", file);
    snprintf(tarball, tlen, "%s/%s", dir, file);
    return 0;
}

/* Container mode: the image REPO:VERSION is pulled and refused unless its
 * binary is the verified tarball's, unpacked in ROOT/releases/VERSION: a
 * registry cannot hand over a binary nobody signed. */
static int image_of_release(agent *a, const char *version, char *why, size_t len)
{
    char ref[700], binary[4400];
    deploy_ctr_ref(a->ctr, version, ref, sizeof ref);
    if (deploy_ctr_pull(a->ctr, version, why, len) != 0)
        return -1;
    step(a, 1, "pull", "%s", ref);
    snprintf(binary, sizeof binary, "%s/releases/%s/bin/musicgraph", a->root, version);
    if (deploy_ctr_check_binary(a->ctr, version, binary, why, len) != 0)
        return -1;
    step(a, 1, "verify", "%s's /usr/local/bin/musicgraph is the signed release's bin/musicgraph, byte for byte", ref);
    return 0;
}

/* Preflight with the new binary: it runs, knows its version, the doctor
 * finds no error, and the database is one it can migrate. *migrates = 1
 * when it would apply migrations. */
static int preflight(agent *a, const char *version, int *migrates, char *why, size_t len)
{
    char out[16384];
    const char *version_args[] = {"version", NULL};
    char expect[200];
    snprintf(expect, sizeof expect, "musicgraph %s ", version);
    if (run_release(a, version, version_args, NULL, out, sizeof out) != 0 || strncmp(out, expect, strlen(expect))) {
        snprintf(why, len, "the new binary does not run as %s: %s", version, last_line(out));
        return -1;
    }
    const char *doctor_args[] = {"doctor", NULL};
    int rc = run_release(a, version, doctor_args, NULL, out, sizeof out);
    if (rc != 0 && rc != 1) {
        snprintf(why, len, "musicgraph %s doctor finds errors (exit %d): %s", version, rc, last_line(out));
        return -1;
    }
    step(a, 1, "preflight", "doctor: %s", rc == 0 ? "ok" : "warnings only");
    const char *migrate_args[] = {"migrate", "--status", NULL};
    rc = run_release(a, version, migrate_args, NULL, out, sizeof out);
    if (rc != 0) {
        snprintf(why, len, "musicgraph %s migrate --status refuses this database: %s", version, last_line(out));
        return -1;
    }
    *migrates = strstr(out, " pending ") != NULL;
    step(a, 1, "preflight", "migrate --status: %s", *migrates ? "it will migrate the schema" : "no migration");
    return 0;
}

/* 1 when this server rolled version back (and never found it healthy after). */
static int rolled_back_here(const agent *a, const char *version)
{
    json_t *all = deploy_history_load(a->root);
    int bad = 0;
    size_t i;
    json_t *r;
    json_array_foreach(all, i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "version")) ?: "", version) != 0)
            continue;
        const char *res = json_string_value(json_object_get(r, "result")) ?: "";
        bad = strcmp(res, "rolled_back") == 0 || strcmp(res, "failed") == 0;
    }
    json_decref(all);
    return bad;
}

/* Goes back to a->from after a failed deploy of version: the schema
 * restored first when it moved on. "rolled_back", or "failed". */
static const char *roll_back(agent *a, const char *version, char *message, size_t mlen)
{
    char why[2048] = "";
    step(a, 0, "rollback", "back to %s: %s", a->from, message);
    int rc = 0;
    if (schema_newer_than(a, a->from)) {
        step(a, 1, "rollback", "%s migrated the schema: restoring the pre-deploy backup", version);
        rc = restore_schema(a, a->from, version, a->predeploy, why, sizeof why);
    }
    if (rc == 0)
        rc = become(a, a->from, why, sizeof why);
    if (rc == 0 && a->ctr) {
        deploy_ctr_remove(a->ctr, version);
        step(a, 1, "rollback", "removed the container and image of %s", version);
    }
    size_t used = strlen(message);
    if (rc != 0) {
        step(a, 0, "rollback", "%s", why);
        snprintf(message + used, mlen - used, "; the rollback FAILED too: %s", why);
        return "failed";
    }
    size_t lost = json_array_size(a->lost);
    if (lost)
        snprintf(message + used, mlen - used,
                 "; %zu write(s) made since the pre-deploy backup were lost by the restore (listed in lost_writes; the "
                 "pre-rollback backup holds the data as it was when the rollback began)",
                 lost);
    return "rolled_back";
}

static int agent_lock(const char *root)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/.deploy.lock", root);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
        fprintf(stderr, "musicgraph deploy: %s: %s\n", path,
                fd < 0 ? strerror(errno) : "another deploy is under way on this server");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int deploy_run(agent *a, int retry)
{
    char err[4096], message[8192] = "";
    release_store *rs;
    if (release_store_open(a->cfg, a->cfg->deploy_store, &rs, err, sizeof err) != 0) {
        fprintf(stderr, "musicgraph deploy: %s\n", err);
        return 1;
    }
    char name[200], *data = NULL, version[128] = "";
    size_t len;
    int missing;
    snprintf(name, sizeof name, "channels/%s", a->cfg->deploy_channel);
    if (release_store_get(rs, name, 1024, &data, &len, &missing, err, sizeof err) != 0 || missing) {
        fprintf(stderr, "musicgraph deploy: cannot read %s/%s: %s\n", release_store_url(rs), name,
                missing ? "it does not exist" : err);
        free(data);
        release_store_close(rs);
        return 1;
    }
    snprintf(version, sizeof version, "%.*s", (int)strcspn(data, " \r\n"), data);
    free(data);
    if (!valid_version(version)) {
        fprintf(stderr, "musicgraph deploy: %s/%s does not name a version\n", release_store_url(rs), name);
        release_store_close(rs);
        return 1;
    }
    snprintf(a->to, sizeof a->to, "%s", version);
    readiness now;
    ask_ready(a, &now);
    if (strcmp(version, a->from) == 0 && (now.status == 0 || strcmp(now.version, version) == 0)) {
        log_msg(LOG_INFO, "deploy: %s follows %s: %s, nothing to do", a->host, name, version);
        release_store_close(rs);
        return 0;
    }
    if (!retry && rolled_back_here(a, version)) {
        log_msg(LOG_WARN, "deploy: %s was rolled back on this server before; not trying it again (--retry does)",
                version);
        release_store_close(rs);
        return 0;
    }
    step(a, 1, "channel", "%s names %s; this server runs %s", name, version, a->from[0] ? a->from : "nothing yet");
    char incoming[4400] = "", tarball[4700];
    int migrates = 0;
    const char *result = "refused";
    int rc = fetch_release(a, rs, version, incoming, sizeof incoming, tarball, sizeof tarball, err, sizeof err);
    if (rc == 0 && strcmp(version, a->from) == 0)
        rc = 0; /* the running version is never unpacked over itself */
    else if (rc == 0 && (rc = deploy_unpack(a->root, version, tarball, err, sizeof err)) == 0)
        step(a, 1, "unpack", "%s/releases/%s/", a->root, version);
    if (incoming[0])
        deploy_remove_tree(incoming);
    if (rc == 0 && a->ctr)
        rc = image_of_release(a, version, err, sizeof err);
    if (rc == 0)
        rc = preflight(a, version, &migrates, err, sizeof err);
    if (rc == 0 && !a->from[0]) {
        /* A first installation: nothing runs yet to hand over to. */
        rc = deploy_switch(a->root, version, err, sizeof err);
        step(a, rc == 0, "switch", "%s/current -> releases/%s (first installation: start the service)", a->root,
             version);
        record(a, "deploy", version, rc == 0 ? "installed" : "refused", rc == 0 ? "" : err, rs);
        release_store_close(rs);
        return rc == 0 ? 0 : 1;
    }
    if (rc == 0) {
        char tag[BACKUP_TAG_MAX + 1];
        tag_for(tag, sizeof tag, "pre-deploy", a->from, version);
        if ((rc = take_backup(a, tag, a->predeploy, sizeof a->predeploy, err, sizeof err)) == 0)
            step(a, 1, "backup", "%s", a->predeploy);
    }
    if (rc != 0) {
        step(a, 0, "refused", "%s", err);
        if (a->ctr) /* a refused image is not kept */
            deploy_ctr_remove(a->ctr, version);
        record(a, "deploy", version, result, err, rs);
        release_store_close(rs);
        return 1;
    }
    /* From here on, a failure is rolled back. */
    rc = become(a, version, message, sizeof message);
    if (rc == 0)
        rc = smoke_checks(a, message, sizeof message);
    if (rc == 0) {
        result = "healthy";
        json_array_append_new(a->checks, json_pack("{s:s, s:b}", "check", "readyz", "ok", 1));
        const char *protect[] = {version, a->from};
        char removed[2048];
        long keep = config_long(a->cfg->deploy_keep, 5);
        if (deploy_prune(a->root, (int)(keep < 2 ? 2 : keep), protect, 2, removed, sizeof removed, err, sizeof err) !=
            0)
            step(a, 0, "keep", "%s", err);
        else if (removed[0])
            step(a, 1, "keep", "removed releases %s (keeping %ld)", removed, keep);
        if (a->ctr) {
            deploy_ctr_prune(a->ctr, (int)(keep < 2 ? 2 : keep), a->from, removed, sizeof removed);
            if (removed[0])
                step(a, 1, "keep", "removed containers %s and their images (keeping %ld)", removed, keep);
        }
    } else {
        result = roll_back(a, version, message, sizeof message);
    }
    record(a, "deploy", version, result, message, rs);
    release_store_close(rs);
    return rc == 0 ? 0 : 1;
}

/* ---- rollback by hand ---- */

/* The newest backup tagged pre-deploy-VERSION-CURRENT. */
static int find_predeploy(agent *a, const char *version, const char *current, char *path, size_t pathlen)
{
    char dir[4096], tag[BACKUP_TAG_MAX + 1], err[1024];
    backup_default_dir(a->cfg, dir, sizeof dir);
    tag_for(tag, sizeof tag, "pre-deploy", version, current);
    backup_target *t;
    backup_info *list;
    size_t n;
    if (backup_location_open(a->cfg, dir, &t, err, sizeof err) != 0)
        return -1;
    int rc = backup_target_list(t, &list, &n, err, sizeof err);
    backup_target_close(t);
    if (rc != 0)
        return -1;
    path[0] = '\0';
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].tag, tag) == 0)
            snprintf(path, pathlen, "%s", list[i].location);
    free(list);
    return path[0] ? 0 : -1;
}

static int deploy_rollback(agent *a, const char *target)
{
    char version[128] = "", why[4096] = "", message[8192] = "";
    if (target)
        snprintf(version, sizeof version, "%s", target);
    else {
        json_t *all = deploy_history_load(a->root);
        size_t i;
        json_t *r;
        json_array_foreach(all, i, r)
        {
            const char *res = json_string_value(json_object_get(r, "result")) ?: "";
            const char *to = json_string_value(json_object_get(r, "version")) ?: "";
            const char *from = json_string_value(json_object_get(r, "from")) ?: "";
            if (strcmp(res, "healthy") == 0 && strcmp(to, a->from) == 0 && from[0])
                snprintf(version, sizeof version, "%s", from);
        }
        json_decref(all);
        if (!version[0]) {
            fprintf(stderr, "musicgraph deploy rollback: the history names no version %s came from: give VERSION\n",
                    a->from);
            return 1;
        }
    }
    char bin[4400];
    snprintf(bin, sizeof bin, "%s/releases/%s/bin/musicgraph", a->root, version);
    if (a->ctr && (!valid_version(version) || !deploy_ctr_kept(a->ctr, version))) {
        fprintf(stderr, "musicgraph deploy rollback: no container %s-%s is kept to go back to\n",
                deploy_ctr_name(a->ctr), version);
        return 1;
    }
    if (!a->ctr && (!valid_version(version) || access(bin, X_OK) != 0)) {
        fprintf(stderr, "musicgraph deploy rollback: %s is not unpacked in %s/releases\n", version, a->root);
        return 1;
    }
    if (strcmp(version, a->from) == 0) {
        fprintf(stderr, "musicgraph deploy rollback: %s is the current version\n", version);
        return 1;
    }
    snprintf(a->to, sizeof a->to, "%s", version);
    step(a, 1, "rollback", "from %s to %s, asked by hand", a->from, version);
    int rc = 0;
    if (schema_newer_than(a, version)) {
        if (a->ctr) {
            /* The backups are in the container's volume, listed by paths inside it. */
            snprintf(why, sizeof why,
                     "the schema has moved on since %s: in container mode a rollback by hand across a migration is "
                     "not automated; restore the backup tagged pre-deploy-%s-%s by hand (docs/operations.md)",
                     version, version, a->from);
            rc = -1;
        } else if (find_predeploy(a, version, a->from, a->predeploy, sizeof a->predeploy) != 0) {
            snprintf(why, sizeof why,
                     "the schema has moved on since %s and there is no backup tagged pre-deploy-%s-%s to restore",
                     version, version, a->from);
            rc = -1;
        } else {
            rc = restore_schema(a, version, a->from, a->predeploy, why, sizeof why);
        }
    }
    if (rc == 0)
        rc = become(a, version, why, sizeof why);
    if (rc == 0)
        rc = smoke_checks(a, why, sizeof why);
    snprintf(message, sizeof message, "%s", rc == 0 ? "" : why);
    if (rc == 0 && json_array_size(a->lost))
        snprintf(message, sizeof message, "%zu write(s) made since the pre-deploy backup were lost by the restore",
                 json_array_size(a->lost));
    record(a, "rollback", version, rc == 0 ? "rolled_back" : "failed", message, NULL);
    return rc == 0 ? 0 : 1;
}

/* ---- status and history ---- */

static void print_record(json_t *r)
{
    long long ms = (long long)json_integer_value(json_object_get(r, "duration_ms"));
    const char *from = json_string_value(json_object_get(r, "from")) ?: "";
    printf("%-20s %-8s %-16s %-16s %-11s %6.1f s  %s\n", json_string_value(json_object_get(r, "at")) ?: "",
           json_string_value(json_object_get(r, "kind")) ?: "", from[0] ? from : "-",
           json_string_value(json_object_get(r, "version")) ?: "",
           json_string_value(json_object_get(r, "result")) ?: "", (double)ms / 1000.0,
           json_string_value(json_object_get(r, "message")) ?: "");
}

static int deploy_history(agent *a)
{
    json_t *all = deploy_history_load(a->root);
    printf("%-20s %-8s %-16s %-16s %-11s %8s  %s\n", "ENDED (UTC)", "KIND", "FROM", "TO", "RESULT", "TOOK", "MESSAGE");
    size_t i;
    json_t *r;
    json_array_foreach(all, i, r) print_record(r);
    if (json_array_size(all) == 0)
        printf("(no deploys recorded in %s/history.jsonl)\n", a->root);
    json_decref(all);
    return 0;
}

static int deploy_status(agent *a)
{
    readiness r;
    ask_ready(a, &r);
    if (a->ctr) {
        char ref[700];
        deploy_ctr_ref(a->ctr, a->from, ref, sizeof ref);
        printf("current:  %s (container %s, image %s)\n", a->from, deploy_ctr_name(a->ctr), ref);
    } else {
        printf("current:  %s (%s/current)\n", a->from[0] ? a->from : "none", a->root);
    }
    if (r.status)
        printf("running:  %s (%s/readyz: %ld)\n", r.version[0] ? r.version : "unknown", a->base_url, r.status);
    else
        printf("running:  nothing answers at %s\n", a->base_url);
    char err[1024], name[200], *data = NULL;
    size_t len;
    int missing = 0;
    release_store *rs;
    snprintf(name, sizeof name, "channels/%s", a->cfg->deploy_channel);
    if (a->cfg->deploy_store && release_store_open(a->cfg, a->cfg->deploy_store, &rs, err, sizeof err) == 0) {
        if (release_store_get(rs, name, 1024, &data, &len, &missing, err, sizeof err) == 0)
            printf("channel:  %s -> %.*s (%s)\n", a->cfg->deploy_channel, missing ? 4 : (int)strcspn(data, "\r\n"),
                   missing ? "none" : data, release_store_url(rs));
        else
            printf("channel:  %s: %s\n", a->cfg->deploy_channel, err);
        free(data);
        release_store_close(rs);
    } else {
        printf("channel:  %s (no store: %s)\n", a->cfg->deploy_channel,
               a->cfg->deploy_store ? err : "MUSICGRAPH_DEPLOY_STORE is not set");
    }
    json_t *all = deploy_history_load(a->root);
    size_t n = json_array_size(all);
    if (n) {
        printf("last:     ");
        print_record(json_array_get(all, n - 1));
    } else {
        printf("last:     no deploy recorded\n");
    }
    json_decref(all);
    return 0;
}

/* ---- the command ---- */

int cmd_deploy(config *cfg, int argc, char **argv)
{
    const char *action = argc > 1 ? argv[1] : "";
    const char *target = NULL;
    int retry = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--retry") == 0 && strcmp(action, "run") == 0)
            retry = 1;
        else if (argv[i][0] != '-' && !target && strcmp(action, "rollback") == 0)
            target = argv[i];
        else {
            fprintf(stderr, "musicgraph deploy: unexpected argument '%s' (see musicgraph deploy --help)\n", argv[i]);
            return 2;
        }
    }
    int run = !strcmp(action, "run"), status = !strcmp(action, "status"), history = !strcmp(action, "history"),
        rollback = !strcmp(action, "rollback");
    if (!run && !status && !history && !rollback) {
        fprintf(stderr,
                "musicgraph deploy: expected run, status, history or rollback (see musicgraph deploy --help)\n");
        return 2;
    }
    if (!cfg->deploy_channel || (strcmp(cfg->deploy_channel, "dev") && strcmp(cfg->deploy_channel, "staging") &&
                                 strcmp(cfg->deploy_channel, "production"))) {
        fprintf(stderr, "musicgraph deploy: the channel is dev, staging or production, not '%s'\n",
                cfg->deploy_channel ? cfg->deploy_channel : "");
        return 2;
    }
    agent a = {.cfg = cfg, .root = cfg->deploy_root};
    clock_gettime(CLOCK_MONOTONIC, &a.started);
    snprintf(a.env, sizeof a.env, "%s", cfg->deploy_env && *cfg->deploy_env ? cfg->deploy_env : cfg->deploy_channel);
    if (!valid_version(a.env)) {
        fprintf(stderr, "musicgraph deploy: MUSICGRAPH_DEPLOY_ENV must be a simple name\n");
        return 2;
    }
    if (cfg->deploy_url && *cfg->deploy_url)
        snprintf(a.base_url, sizeof a.base_url, "%s", cfg->deploy_url);
    else
        snprintf(a.base_url, sizeof a.base_url, "http://%s", cfg->listen);
    size_t bl = strlen(a.base_url);
    if (bl && a.base_url[bl - 1] == '/')
        a.base_url[bl - 1] = '\0';
    if (gethostname(a.host, sizeof a.host) != 0)
        snprintf(a.host, sizeof a.host, "unknown");
    deploy_current(a.root, a.from, sizeof a.from);
    if (history)
        return deploy_history(&a);
    char err[1024];
    if (!status && fs_make_dirs(a.root, err, sizeof err) != 0) {
        fprintf(stderr, "musicgraph deploy: %s\n", err);
        return 1;
    }
    if (cfg->deploy_container && *cfg->deploy_container) {
        if (deploy_ctr_open(cfg->deploy_container, cfg->deploy_image, a.root, &a.ctr, err, sizeof err) != 0) {
            fprintf(stderr, "musicgraph deploy: %s\n", err);
            return 1;
        }
        snprintf(a.from, sizeof a.from, "%s", deploy_ctr_serving(a.ctr));
        if (!valid_version(a.from)) {
            fprintf(stderr,
                    "musicgraph deploy: the image of container %s carries no version label "
                    "(org.opencontainers.image.version): is it a musicgraph image (make image)?\n",
                    cfg->deploy_container);
            deploy_ctr_close(a.ctr);
            return 1;
        }
    }
    if (status) {
        int src = deploy_status(&a);
        deploy_ctr_close(a.ctr);
        return src;
    }
    chmod(a.root, 0755); /* the service's own user reads the releases */
    int lock = agent_lock(a.root);
    if (lock < 0) {
        deploy_ctr_close(a.ctr);
        return 1;
    }
    /* The commands this runs (the releases' binaries) see the same data. */
    setenv("MUSICGRAPH_STATE_DIR", cfg->state_dir, 1);
    setenv("MUSICGRAPH_DATABASE_URL", cfg->database_url, 1);
    a.steps = json_array();
    a.checks = json_array();
    a.lost = json_array();
    int rc = run ? deploy_run(&a, retry) : deploy_rollback(&a, target);
    json_decref(a.steps);
    json_decref(a.checks);
    json_decref(a.lost);
    deploy_ctr_close(a.ctr);
    close(lock);
    return rc;
}
