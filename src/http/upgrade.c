/*
 * upgrade.c — the built-in restart without systemd (SIGUSR2).
 *
 * The binary on disk (so a replaced binary is the one that starts) is
 * started again with the listening socket as fd 3 and LISTEN_FDS=1, exactly
 * as systemd would pass it. The old process keeps serving until the new one
 * says READY=1 on a notification socket of ours, then stops accepting and
 * drains; if the new one exits or stays silent for a minute, the old one
 * simply goes on. Whether the last upgrade failed is kept (http_upgrade_state)
 * for /readyz, so a deploy agent sees a failure at once instead of waiting.
 *
 * The pid file (MUSICGRAPH_PID_FILE) is how a tool without systemd finds the
 * process to signal: each process writes its pid there once it serves, and
 * removes it at exit only if it still holds its own pid (after a hand-over
 * it holds the new process's).
 *
 * Under systemd (`systemctl reload`, ExecReload sending SIGUSR2) the new
 * process must become the unit's main process: on hand-over the old one
 * tells systemd MAINPID=<new> on systemd's notification socket, which it
 * remembers (and passes on as MUSICGRAPH_SYSTEMD_NOTIFY_SOCKET, since the
 * new process's NOTIFY_SOCKET is ours) so the chain works at every upgrade.
 *
 * The process is threaded, so between fork and exec the child may only make
 * async-signal-safe calls: the environment is built before fork, the child
 * only writes its pid into a reserved slot of it. Readiness is polled from
 * the main loop, which keeps taking signals (SIGTERM) meanwhile.
 */
#include "http/internal.h"
#include "core/xalloc.h"

#include "core/fs.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#define READY_TIMEOUT_S 60

extern char **environ;

static struct {
    pid_t child;   /* 0: no upgrade under way */
    pid_t gave_up; /* a child we stopped waiting for, still to be reaped */
    int notify_fd;
    time_t deadline;
    char **envp;
    char listen_pid[32]; /* "LISTEN_PID=" and the child's pid, written by the child */
    char notify_env[128];
    char systemd_env[160]; /* "MUSICGRAPH_SYSTEMD_NOTIFY_SOCKET=…" or "" */
    int last_state;        /* HTTP_UPGRADE_* of the last attempt */
    time_t last_at;
} up = {.notify_fd = -1};

#define SYSTEMD_VAR "MUSICGRAPH_SYSTEMD_NOTIFY_SOCKET"

/* systemd's notification socket: ours when systemd started us, else the one
 * a predecessor passed on; NULL when systemd is not involved. */
static const char *systemd_socket(void)
{
    const char *passed = getenv(SYSTEMD_VAR);
    if (passed && *passed)
        return passed;
    const char *own = getenv("NOTIFY_SOCKET");
    return own && *own && !strstr(own, "musicgraph-upgrade-") ? own : NULL;
}

/* sd_notify to a socket named explicitly (ours has been replaced). */
static void notify_systemd(const char *msg)
{
    const char *name = systemd_socket();
    if (!name || strlen(name) >= sizeof(((struct sockaddr_un *)0)->sun_path))
        return;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    size_t nlen = strlen(name);
    memcpy(addr.sun_path, name, nlen);
    if (addr.sun_path[0] == '@')
        addr.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    if (sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&addr,
               (socklen_t)(offsetof(struct sockaddr_un, sun_path) + nlen)) < 0)
        log_warn("SIGUSR2: cannot tell systemd about the new process: %s", strerror(errno));
    close(fd);
}

void http_upgrade_state(int *state, time_t *at)
{
    *state = up.child > 0 ? HTTP_UPGRADE_RUNNING : up.last_state;
    *at = up.last_at;
}

/* The inherited environment without systemd's socket variables, plus ours. */
static char **build_environment(void)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **envp = xcalloc(n + 5, sizeof *envp);
    if (!envp)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "LISTEN_", 7) != 0 && strncmp(environ[i], "NOTIFY_SOCKET=", 14) != 0 &&
            strncmp(environ[i], SYSTEMD_VAR "=", strlen(SYSTEMD_VAR) + 1) != 0)
            envp[k++] = environ[i];
    const char *sd = systemd_socket();
    up.systemd_env[0] = '\0';
    if (sd && snprintf(up.systemd_env, sizeof up.systemd_env, SYSTEMD_VAR "=%s", sd) < (int)sizeof up.systemd_env)
        envp[k++] = up.systemd_env;
    envp[k++] = "LISTEN_FDS=1";
    envp[k++] = up.listen_pid;
    envp[k++] = up.notify_env;
    return envp;
}

/* Async-signal-safe: digits of a pid after the "LISTEN_PID=" prefix. */
static void write_pid(char *slot, pid_t pid)
{
    char digits[16];
    int n = 0;
    do
        digits[n++] = (char)('0' + pid % 10);
    while ((pid /= 10) > 0 && n < (int)sizeof digits);
    char *p = slot + strlen("LISTEN_PID=");
    while (n > 0)
        *p++ = digits[--n];
    *p = '\0';
}

static void finish(void)
{
    if (up.notify_fd >= 0)
        close(up.notify_fd);
    free(up.envp);
    up.notify_fd = -1;
    up.envp = NULL;
    up.child = 0;
}

int http_upgrade_start(const char *exec_path, char **argv, int listen_fd)
{
    if (up.child > 0) {
        log_warn("SIGUSR2: an upgrade is already under way (process %d)", (int)up.child);
        return -1;
    }
    if (!exec_path || !argv) {
        log_warn("SIGUSR2: this server cannot re-execute itself");
        return -1;
    }
    char name[108];
    snprintf(name, sizeof name, "@musicgraph-upgrade-%d-%ld", (int)getpid(), (long)time(NULL));
    up.notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    size_t nlen = strlen(name);
    memcpy(addr.sun_path, name, nlen);
    addr.sun_path[0] = '\0'; /* abstract namespace: nothing on disk to clean up */
    if (up.notify_fd < 0 ||
        bind(up.notify_fd, (struct sockaddr *)&addr, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + nlen)) != 0) {
        log_error("SIGUSR2: cannot create the readiness socket: %s", strerror(errno));
        finish();
        return -1;
    }
    snprintf(up.listen_pid, sizeof up.listen_pid, "LISTEN_PID=");
    snprintf(up.notify_env, sizeof up.notify_env, "NOTIFY_SOCKET=%s", name);
    if (!(up.envp = build_environment())) {
        log_error("SIGUSR2: out of memory");
        finish();
        return -1;
    }
    log_info("SIGUSR2: starting %s with the listening socket", exec_path);
    pid_t pid = fork();
    if (pid == 0) {
        /* Child: only async-signal-safe calls until exec. */
        if (listen_fd == SD_LISTEN_FDS_START) {
            int flags = fcntl(listen_fd, F_GETFD);
            fcntl(listen_fd, F_SETFD, flags & ~FD_CLOEXEC);
        } else if (dup2(listen_fd, SD_LISTEN_FDS_START) < 0) {
            _exit(127);
        }
        write_pid(up.listen_pid, getpid());
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execve(exec_path, argv, up.envp);
        _exit(127);
    }
    if (pid < 0) {
        log_error("SIGUSR2: cannot start a new process: %s", strerror(errno));
        finish();
        return -1;
    }
    up.child = pid;
    up.last_at = time(NULL);
    up.deadline = up.last_at + READY_TIMEOUT_S;
    return 0;
}

int http_upgrade_poll(void)
{
    if (up.gave_up > 0 && waitpid(up.gave_up, NULL, WNOHANG) != 0)
        up.gave_up = 0;
    if (up.child <= 0)
        return 0;
    char msg[256];
    ssize_t n;
    while ((n = recv(up.notify_fd, msg, sizeof msg - 1, 0)) > 0) {
        msg[n] = '\0';
        if (strstr(msg, "READY=1")) {
            log_info("SIGUSR2: process %d is ready; handing over and draining", (int)up.child);
            char main_pid[64];
            snprintf(main_pid, sizeof main_pid, "MAINPID=%d\nREADY=1", (int)up.child);
            notify_systemd(main_pid);
            up.last_state = HTTP_UPGRADE_DONE;
            up.last_at = time(NULL);
            finish();
            return 1;
        }
    }
    int status;
    if (waitpid(up.child, &status, WNOHANG) == up.child) {
        log_error("SIGUSR2: the new process exited before it was ready; still serving");
        up.last_state = HTTP_UPGRADE_FAILED;
        up.last_at = time(NULL);
        finish();
        return -1;
    }
    if (time(NULL) >= up.deadline) {
        log_error("SIGUSR2: the new process did not become ready in %d s; still serving", READY_TIMEOUT_S);
        kill(up.child, SIGTERM);
        up.gave_up = up.child;
        up.last_state = HTTP_UPGRADE_FAILED;
        up.last_at = time(NULL);
        finish();
        return -1;
    }
    return 0;
}

int http_pid_file_write(const char *path, char *err, size_t errlen)
{
    char line[32];
    int n = snprintf(line, sizeof line, "%d\n", (int)getpid());
    return fs_write_atomic(path, line, (size_t)n, 0644, err, errlen);
}

void http_pid_file_remove(const char *path)
{
    unsigned char *data = NULL;
    size_t len, size;
    char err[256];
    if (fs_read_file(path, 31, &data, &len, &size, err, sizeof err) == 0 && atoi((char *)data) == (int)getpid())
        unlink(path);
    free(data);
}
