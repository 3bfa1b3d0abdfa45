/*
 * socket_holder — test helper that does what systemd's socket activation does.
 *
 * Usage: socket_holder PORT CMD [ARGS...]
 *
 * Listens on 127.0.0.1:PORT, then runs CMD with the listening socket as fd 3
 * and LISTEN_FDS=1 / LISTEN_PID set. On SIGHUP it restarts CMD the way
 * `systemctl restart` does: SIGTERM to the running one, wait for it to exit,
 * start a new one — while the socket stays open, so clients queue in the
 * backlog instead of being refused. On SIGTERM/SIGINT it stops CMD and exits.
 * Prints "started PID" lines on stdout for the test to follow.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t restart_requested, stop_requested;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        restart_requested = 1;
    else
        stop_requested = 1;
}

static pid_t start(int fd, char **argv)
{
    /* Signals stay blocked across fork so that a SIGTERM aimed at the new
     * child before it execs is not swallowed by our handler copied into it:
     * the child restores the defaults, then unblocks (a pending SIGTERM
     * then ends it, and waitpid sees that). */
    sigset_t signals, old;
    sigemptyset(&signals);
    sigaddset(&signals, SIGHUP);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigprocmask(SIG_BLOCK, &signals, &old);
    pid_t pid = fork();
    if (pid != 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        return pid;
    }
    signal(SIGHUP, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (fd != 3) {
        dup2(fd, 3);
        close(fd);
    }
    char pidbuf[24];
    snprintf(pidbuf, sizeof pidbuf, "%d", (int)getpid());
    setenv("LISTEN_FDS", "1", 1);
    setenv("LISTEN_PID", pidbuf, 1);
    execvp(argv[0], argv);
    perror(argv[0]);
    _exit(127);
}

static void stop(pid_t pid)
{
    int status;
    kill(pid, SIGTERM);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    printf("exited %d status %d\n", (int)pid, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: socket_holder PORT CMD [ARGS...]\n");
        return 2;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0), on = 1;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 4096) != 0) {
        perror("listen");
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    pid_t child = start(fd, argv + 2);
    printf("started %d\n", (int)child);
    fflush(stdout);
    /* Wait with the signals blocked except inside sigsuspend, so none can
     * slip in between the checks and the wait. */
    sigset_t blocked, waiting;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGHUP);
    sigaddset(&blocked, SIGTERM);
    sigaddset(&blocked, SIGINT);
    sigprocmask(SIG_BLOCK, &blocked, &waiting);
    while (!stop_requested) {
        if (!restart_requested)
            sigsuspend(&waiting);
        if (restart_requested && !stop_requested) {
            restart_requested = 0;
            stop(child);
            child = start(fd, argv + 2);
            printf("started %d\n", (int)child);
            fflush(stdout);
        }
    }
    stop(child);
    return 0;
}
