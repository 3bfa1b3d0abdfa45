/*
 * main.c — subcommand dispatch: the only place that exits.
 *
 * Each subcommand loads the shared configuration (flags > environment >
 * config file > defaults), does its work through the layers below, and
 * turns the result into an exit status: 0 on success, 1 with one clear line
 * on stderr otherwise, 2 for a usage error.
 */
#include "server/app.h"
#include "core/xalloc.h"
#include "core/password.h"
#include "domain/user.h"
#include "core/config.h"
#include "core/log.h"
#include "mg_version.h"
#include "ops/commands.h"
#include "ops/copy.h"
#include "ops/deploy.h"
#include "ops/doctor.h"
#include "ops/healthcheck.h"
#include "ops/init_lock.h"
#include "ops/release.h"
#include "ops/seed.h"
#include "ops/version.h"
#include "store/store.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

typedef struct command {
    const char *name;
    const char *summary;
    const char *usage; /* shown by CMD --help */
    int (*run)(config *cfg, int argc, char **argv);
} command;

static int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}

/* Complains about anything left in argv after the command took its flags. */
static int no_extra_args(const char *cmd, int argc, char **argv)
{
    if (argc > 1) {
        fprintf(stderr, "musicgraph %s: unexpected argument '%s' (see musicgraph %s --help)\n", cmd, argv[1], cmd);
        return -1;
    }
    return 0;
}

static int open_store(config *cfg, store **s)
{
    char err[1024];
    mkdir(cfg->state_dir, 0750);
    if (store_open(cfg->database_url, s, err, sizeof err) != 0) {
        fprintf(stderr, "musicgraph: %s\n", err);
        return -1;
    }
    return 0;
}

/* The command line as started, for SIGUSR2 re-execution and SIGHUP reloads. */
static int original_argc;
static char **original_argv;
static char exec_path[4096];

/* SIGHUP: read the configuration again (flags, environment, file) and apply
 * what can change without a restart: the log level and format. */
static void reload(void *ctx)
{
    (void)ctx;
    int argc = original_argc - 1;
    char **argv = xcalloc((size_t)original_argc + 1, sizeof *argv);
    memcpy(argv, original_argv + 1, (size_t)argc * sizeof *argv);
    config fresh;
    char err[1024];
    if (config_load(&fresh, &argc, argv, err, sizeof err) != 0)
        log_error("reload: the configuration is not valid, keeping the current one: %s", err);
    else {
        /* Logged before applying, so the line is written even when the new level hides info. */
        log_info("reload: log level %s, format %s", fresh.log_level, fresh.log_format);
        log_configure(fresh.log_format, fresh.log_level);
        char err2[1024];
        if (fresh.tls_cert && http_tls_load(fresh.tls_cert, fresh.tls_key, err2, sizeof err2) != 0)
            log_error("reload: keeping the current certificate: %s", err2);
        else if (fresh.tls_cert)
            log_info("reload: certificate %s loaded for new connections", fresh.tls_cert);
    }
    config_free(&fresh);
    free(argv);
}

static int cmd_serve(config *cfg, int argc, char **argv)
{
    if (no_extra_args("serve", argc, argv) != 0)
        return 2;
    /* Signals are for the main thread only: block them before any thread
     * exists (the layout thread, the workers), so they inherit the mask and
     * SIGTERM can never end the process from under a drain. */
    sigset_t signals;
    http_block_signals(&signals);
    char err[4096];
    if (http_set_trusted_proxies(cfg->trusted_proxies, err, sizeof err) != 0) {
        fprintf(stderr, "musicgraph serve: %s\n", err);
        return 2;
    }
    if (cfg->tls_cert && http_tls_load(cfg->tls_cert, cfg->tls_key, err, sizeof err) != 0) {
        fprintf(stderr, "musicgraph serve: %s\n", err);
        return 1;
    }
    int listen_fd = http_open_listener(cfg->listen, err, sizeof err);
    if (listen_fd < 0) {
        fprintf(stderr, "musicgraph serve: %s\n", err);
        return 1;
    }
    int plain_fd = -1;
    if (cfg->http_redirect_listen && *cfg->http_redirect_listen &&
        (plain_fd = http_open_plain_listener(cfg->http_redirect_listen, err, sizeof err)) < 0) {
        fprintf(stderr, "musicgraph serve: %s\n", err);
        close(listen_fd);
        return 1;
    }
    app *a;
    if (app_start(cfg, &a, err, sizeof err) != 0) {
        fprintf(stderr, "musicgraph serve: %s\n", err);
        close(listen_fd);
        if (plain_fd >= 0)
            close(plain_fd);
        return 1;
    }
    http_server_config sc = {
        .listen = cfg->listen,
        .listen_fd = listen_fd,
        .plain_listen_fd = plain_fd,
        .tls_required = config_acme(cfg),
        .threads = config_threads(cfg),
        .max_body = (size_t)config_long(cfg->max_body, 1 << 20),
        .shutdown_timeout_s = (int)config_long(cfg->shutdown_timeout, 10),
        .request_timeout_s = (int)config_long(cfg->request_timeout, 10),
        .max_connections = (int)config_long(cfg->max_connections, 4096),
        .max_connections_per_client = (int)config_long(cfg->max_connections_per_client, 256),
        .on_tick = app_tick,
        .on_reload = reload,
        .exec_path = exec_path[0] ? exec_path : NULL,
        .argv = original_argv,
        .pid_file = cfg->pid_file,
        .ctx = a,
    };
    log_info("musicgraph %s serving %s://%s/ (%d worker threads, %s, state in %s)", MG_VERSION,
             cfg->tls_cert || config_acme(cfg) ? "https" : "http", cfg->listen, sc.threads, cfg->env, cfg->state_dir);
    int rc = http_server_run(&sc, app_router(a), err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "musicgraph serve: %s\n", err);
    if (plain_fd >= 0)
        close(plain_fd);
    app_stop(a);
    return rc == 0 ? 0 : 1;
}

static int cmd_migrate(config *cfg, int argc, char **argv)
{
    int status_only = 0;
    if (argc > 1 && strcmp(argv[1], "--status") == 0) {
        status_only = 1;
        argc--, argv++;
    }
    if (no_extra_args("migrate", argc, argv) != 0)
        return 2;
    store *s;
    if (open_store(cfg, &s) != 0)
        return 1;
    char err[1024];
    int rc = 0;
    if (!status_only) {
        int applied;
        if (store_migrate(s, &applied, err, sizeof err) != 0) {
            fprintf(stderr, "musicgraph migrate: %s\n", err);
            store_close(s);
            return 1;
        }
        printf("applied %d migration(s)\n", applied);
    }
    store_migration *list;
    size_t n, unknown;
    if (store_migrations(s, &list, &n, &unknown, err, sizeof err) != 0) {
        fprintf(stderr, "musicgraph migrate: %s\n", err);
        store_close(s);
        return 1;
    }
    printf("%-32s %-10s %s\n", "MIGRATION", "STATE", "APPLIED AT");
    for (size_t i = 0; i < n; i++) {
        const char *state = !list[i].applied ? "pending" : list[i].checksum_ok ? "applied" : "CHANGED";
        printf("%-32s %-10s %s\n", list[i].name, state, list[i].applied_at);
        if (list[i].applied && !list[i].checksum_ok)
            rc = 1;
    }
    if (unknown) {
        printf("%zu applied migration(s) unknown to this binary: the database is newer than this program\n", unknown);
        rc = 1;
    }
    free(list);
    store_close(s);
    return rc;
}

static int cmd_seed(config *cfg, int argc, char **argv)
{
    const char *file = NULL;
    if (argc > 2 && strcmp(argv[1], "--file") == 0) {
        file = argv[2];
        argc -= 2, argv += 2;
    }
    if (no_extra_args("seed", argc, argv) != 0)
        return 2;
    store *s;
    if (open_store(cfg, &s) != 0)
        return 1;
    char err[8192];
    int applied;
    size_t genres, bands;
    if (store_migrate(s, &applied, err, sizeof err) != 0 || seed_run(s, file, &genres, &bands, err, sizeof err) != 0) {
        fprintf(stderr, "musicgraph seed: %s\n", err);
        store_close(s);
        return 1;
    }
    printf("seeded %zu genres and %zu bands from %s\n", genres, bands, file ? file : "the bundled dataset");
    store_close(s);
    return 0;
}

/* Reads a password: from --password-file, from the terminal (twice, without
 * echo), or none (the caller generates one) when stdin is not a terminal. */
static int read_password(const char *file, char *out, size_t len, int *generated)
{
    *generated = 0;
    if (file) {
        FILE *f = fopen(file, "r");
        if (!f || !fgets(out, (int)len, f)) {
            fprintf(stderr, "musicgraph user: cannot read the password file %s\n", file);
            if (f)
                fclose(f);
            return -1;
        }
        fclose(f);
        out[strcspn(out, "\r\n")] = '\0';
        return 0;
    }
    if (!isatty(STDIN_FILENO)) {
        password_generate(out, len < 21 ? len : 21);
        *generated = 1;
        return 0;
    }
    struct termios old, quiet;
    tcgetattr(STDIN_FILENO, &old);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    char again[USER_PASSWORD_MAX + 2];
    fprintf(stderr, "Password: ");
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    int ok = fgets(out, (int)len, stdin) != NULL;
    fprintf(stderr, "\nAgain: ");
    ok = ok && fgets(again, sizeof again, stdin) != NULL;
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    fprintf(stderr, "\n");
    if (!ok)
        return -1;
    out[strcspn(out, "\r\n")] = '\0';
    again[strcspn(again, "\r\n")] = '\0';
    if (strcmp(out, again) != 0) {
        fprintf(stderr, "musicgraph user: the passwords differ\n");
        return -1;
    }
    return 0;
}

static int user_fail(const char *what, const char *err)
{
    fprintf(stderr, "musicgraph user %s: %s\n", what, err);
    return 1;
}

/* What `musicgraph user passwd|promote|demote` changes (store_user_fn): only
 * that column is written, so a change made meanwhile through the web (a
 * disabled account) stays. */
typedef struct cli_user_change {
    const char *password_hash; /* NULL: unchanged */
    int is_admin;              /* -1: unchanged */
} cli_user_change;

static int apply_cli_change(const store_user *before, store_user *after, store_audit *audit, void *ctx)
{
    const cli_user_change *c = ctx;
    (void)before;
    (void)audit;
    if (c->password_hash)
        snprintf(after->password_hash, sizeof after->password_hash, "%s", c->password_hash);
    if (c->is_admin >= 0)
        after->is_admin = c->is_admin;
    return 0;
}

static int cmd_user(config *cfg, int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "musicgraph user: which action? (create, passwd, promote, demote, list; see --help)\n");
        return 2;
    }
    const char *action = argv[1];
    const char *name = NULL, *email = NULL, *password_file = NULL;
    int admin = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--email") == 0 && i + 1 < argc)
            email = argv[++i];
        else if (strcmp(argv[i], "--password-file") == 0 && i + 1 < argc)
            password_file = argv[++i];
        else if (strcmp(argv[i], "--admin") == 0)
            admin = 1;
        else if (argv[i][0] != '-' && !name)
            name = argv[i];
        else {
            fprintf(stderr, "musicgraph user: unexpected argument '%s' (see musicgraph user --help)\n", argv[i]);
            return 2;
        }
    }
    int is_list = strcmp(action, "list") == 0;
    if (!is_list && !name) {
        fprintf(stderr, "musicgraph user %s: give a username\n", action);
        return 2;
    }
    store *s;
    if (open_store(cfg, &s) != 0)
        return 1;
    char err[1024];
    int applied, rc = 0, lock = -1;
    /* Not the whole command under the lock: it may wait at a password prompt. */
    if (init_lock(cfg, &lock, err, sizeof err) != 0 || store_migrate(s, &applied, err, sizeof err) != 0) {
        init_unlock(lock);
        store_close(s);
        return user_fail(action, err);
    }
    init_unlock(lock);
    if (is_list) {
        store_user *users;
        size_t n;
        if (store_user_list(s, &users, &n, err, sizeof err) != 0) {
            store_close(s);
            return user_fail(action, err);
        }
        printf("%-24s %-32s %-6s %-9s %s\n", "USERNAME", "EMAIL", "ADMIN", "DISABLED", "LAST LOGIN");
        for (size_t i = 0; i < n; i++)
            printf("%-24s %-32s %-6s %-9s %s\n", users[i].username, users[i].email, users[i].is_admin ? "yes" : "no",
                   users[i].disabled ? "yes" : "no", users[i].last_login_at[0] ? users[i].last_login_at : "never");
        free(users);
        store_close(s);
        return 0;
    }
    domain_errors errs = {0};
    store_user u;
    int found = 0;
    char password[USER_PASSWORD_MAX + 2];
    int generated = 0;
    if (strcmp(action, "create") == 0) {
        user_check_username(name, &errs);
        user_check_email(email, &errs);
        if (errs.count == 0 && read_password(password_file, password, sizeof password, &generated) != 0)
            rc = 1;
        else if (errs.count == 0)
            user_check_password(password, &errs);
        if (errs.count == 0 && rc == 0) {
            memset(&u, 0, sizeof u);
            snprintf(u.username, sizeof u.username, "%s", name);
            snprintf(u.email, sizeof u.email, "%s", email);
            u.is_admin = admin;
            if (password_hash(password, u.password_hash, sizeof u.password_hash) != 0 ||
                store_user_create(s, &u, NULL, NULL, err, sizeof err) != 0)
                rc = user_fail(action, err);
            else if (generated)
                printf("created %s%s; password (shown once): %s\n", name, admin ? " (admin)" : "", password);
            else
                printf("created %s%s\n", name, admin ? " (admin)" : "");
        }
    } else if (strcmp(action, "passwd") == 0 || strcmp(action, "promote") == 0 || strcmp(action, "demote") == 0) {
        if (store_user_by_name(s, name, &u, &found, err, sizeof err) != 0)
            rc = user_fail(action, err);
        else if (!found)
            rc = user_fail(action, "no such user");
        else if (action[0] == 'p' && action[1] == 'a') {
            if (read_password(password_file, password, sizeof password, &generated) != 0)
                rc = 1;
            else
                user_check_password(password, &errs);
            if (rc == 0 && errs.count == 0) {
                char hash[sizeof u.password_hash];
                cli_user_change change = {hash, -1};
                if (password_hash(password, hash, sizeof hash) != 0)
                    rc = user_fail(action, "cannot hash the password (out of memory?)");
                else if (store_user_edit(s, u.id, apply_cli_change, &change, NULL, err, sizeof err) != 0)
                    rc = user_fail(action, err);
                else if (generated)
                    printf("new password for %s (shown once): %s\n", name, password);
                else
                    printf("password changed for %s; their sessions were ended\n", name);
            }
        } else {
            u.is_admin = strcmp(action, "promote") == 0;
            cli_user_change change = {NULL, u.is_admin};
            if (store_user_edit(s, u.id, apply_cli_change, &change, NULL, err, sizeof err) != 0)
                rc = user_fail(action, err);
            else
                printf("%s is %s an admin\n", name, u.is_admin ? "now" : "no longer");
        }
    } else {
        fprintf(stderr, "musicgraph user: unknown action '%s' (create, passwd, promote, demote, list)\n", action);
        rc = 2;
    }
    if (errs.count) {
        fprintf(stderr, "musicgraph user %s: %s %s\n", action, errs.items[0].field, errs.items[0].message);
        rc = 1;
    }
    sodium_memzero(password, sizeof password);
    domain_errors_free(&errs);
    store_close(s);
    return rc;
}

static int cmd_doctor(config *cfg, int argc, char **argv)
{
    int json = 0, markdown = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--settings-markdown") == 0)
            markdown = 1;
        else {
            fprintf(stderr, "musicgraph doctor: unexpected argument '%s' (see musicgraph doctor --help)\n", argv[i]);
            return 2;
        }
    }
    buf out = BUF_INIT;
    int rc = 0;
    if (markdown)
        doctor_settings_markdown(&out);
    else
        rc = (int)doctor_run(cfg, json, &out);
    fwrite(out.data ? out.data : "", 1, out.len, stdout);
    buf_free(&out);
    return rc;
}

static int cmd_version(config *cfg, int argc, char **argv)
{
    (void)cfg;
    if (no_extra_args("version", argc, argv) != 0)
        return 2;
    char line[512];
    version_line(line, sizeof line);
    printf("%s\n", line);
    return 0;
}

static const command commands[] = {
    {"serve", "serve the map over HTTP",
     "usage: musicgraph serve [--listen ADDR:PORT] [--threads N] [--no-seed] [options]\n\n"
     "Opens the database (creating it in the state directory if needed), applies\n"
     "pending migrations, seeds the bundled dataset into an empty database (unless\n"
     "--no-seed or MUSICGRAPH_SEED=0), and serves the explorer and the API until\n"
     "SIGTERM or SIGINT, finishing open requests before it exits.\n\n"
     "  --listen ADDR:PORT       MUSICGRAPH_LISTEN (default 127.0.0.1:8080)\n"
     "  --threads N              MUSICGRAPH_THREADS: worker threads (default: one per core)\n"
     "  --no-seed                MUSICGRAPH_SEED=0: start with an empty map\n"
     "  --max-body-bytes N       MUSICGRAPH_MAX_BODY_BYTES (default 1048576)\n"
     "  --shutdown-timeout SECS  MUSICGRAPH_SHUTDOWN_TIMEOUT (default 10)\n\n"
     "HTTPS: MUSICGRAPH_TLS_CERT and MUSICGRAPH_TLS_KEY (files, reloaded on SIGHUP), or\n"
     "MUSICGRAPH_ACME_DOMAINS and MUSICGRAPH_ACME_EMAIL: the certificate is obtained from\n"
     "an ACME CA (MUSICGRAPH_ACME_DIRECTORY, default Let's Encrypt) and renewed by itself\n"
     "(at two thirds of its lifetime, or inside the window the CA suggests when it offers\n"
     "ACME Renewal Information),\n"
     "with MUSICGRAPH_HTTP_REDIRECT_LISTEN (e.g. :80) answering the http-01 challenge and\n"
     "redirecting plain HTTP to HTTPS, or with MUSICGRAPH_ACME_CHALLENGE=tls-alpn-01 on the\n"
     "HTTPS port alone, or dns-01 through MUSICGRAPH_ACME_DNS_HOOK. See docs/operations.md,\n"
     "Certificates.\n",
     cmd_serve},
    {"migrate", "apply pending database migrations, or list them",
     "usage: musicgraph migrate [--status] [options]\n\n"
     "Applies the migrations embedded in this binary that the database lacks, each\n"
     "in its own transaction, then lists every migration with its state. With\n"
     "--status it only lists. Exits 1 if the database was changed by another\n"
     "version (a checksum differs, or it has migrations this binary does not know).\n",
     cmd_migrate},
    {"seed", "load a dataset into an empty database",
     "usage: musicgraph seed [--file FILE|DIR] [options]\n\n"
     "Checks every entry of FILE, or of every *.json file in DIR (such as\n"
     "data/families, one file per root family), against the data rules and loads\n"
     "it in one transaction; the default is the bundled dataset. Refuses a\n"
     "non-empty database and a dataset that breaks a rule, naming the file, the\n"
     "entry and the rule.\n",
     cmd_seed},
    {"user", "create and manage curator accounts",
     "usage: musicgraph user create NAME --email EMAIL [--admin] [--password-file FILE]\n"
     "       musicgraph user passwd NAME [--password-file FILE]\n"
     "       musicgraph user promote NAME | demote NAME\n"
     "       musicgraph user list\n\n"
     "Passwords (at least 10 characters) come from FILE, from a prompt when run in a\n"
     "terminal, or are generated and printed once. There is no default password.\n"
     "Changing a password ends the user's sessions. The last admin cannot be demoted.\n",
     cmd_user},
    {"backup", "take a consistent backup (local, and offsite to S3)", cmd_backup_usage, cmd_backup},
    {"restore", "restore a backup, all or nothing, with the server running", cmd_restore_usage, cmd_restore},
    {"verify", "prove a backup restores (into a scratch database)", cmd_verify_usage, cmd_verify},
    {"prune", "remove old backups (grandfather-father-son retention)", cmd_prune_usage, cmd_prune},
    {"backups", "list backups, local and offsite, and whether they verified", cmd_backups_usage, cmd_backups},
    {"export", "write the data in the portable format (optionally anonymized)", cmd_export_usage, cmd_export},
    {"import", "load an export, a backup or a dataset file (checked, all or nothing)", cmd_import_usage, cmd_import},
    {"copy", "copy a whole site to another database (SQLite <-> PostgreSQL), all or nothing", cmd_copy_usage, cmd_copy},
    {"backup-key", "show, rotate or trust the keys that sign backups", cmd_backup_key_usage, cmd_backup_key},
    {"doctor", "check the configuration, database, directories, backups, address and clock",
     "usage: musicgraph doctor [--json] [--settings-markdown] [options]\n\n"
     "Prints the effective configuration (secrets redacted) and checks it: the secret\n"
     "in production, the database and its schema, the state and backup directories\n"
     "(writable, free space), the age of the newest backup (warns past 26 hours), the\n"
     "listening address and the clock. Exit status: 0 all ok, 1 warnings, 2 errors.\n"
     "--json prints the same as one JSON document; --settings-markdown prints the\n"
     "table of every setting (docs/configuration.md).\n",
     cmd_doctor},
    {"release", "verify a signed release, publish it into a release store", cmd_release_usage, cmd_release},
    {"deploy", "the deploy agent: follow a channel, deploy, check, roll back", cmd_deploy_usage, cmd_deploy},
    {"healthcheck", "ask /healthz of the server on this machine (the container health check)", cmd_healthcheck_usage,
     cmd_healthcheck},
    {"version", "print the version, commit, build date and database schema",
     "usage: musicgraph version (or musicgraph --version)\n\n"
     "Prints one line: musicgraph VERSION (commit C, built DATE, schema S). VERSION\n"
     "comes from the git tag (vX.Y.Z) it was built from, or X.Y.Z-N-gCOMMIT between\n"
     "tags; DATE is the date of the source (SOURCE_DATE_EPOCH), so builds of one\n"
     "commit are identical; S is the newest database migration it carries.\n",
     cmd_version},
    {NULL, NULL, NULL, NULL},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: musicgraph COMMAND [options]\n\nmusicgraph serves an interactive map of music genres and "
                 "bands.\n\nCommands:\n");
    for (const command *c = commands; c->name; c++)
        fprintf(out, "  %-12s %s\n", c->name, c->summary);
    fprintf(out, "\nRun 'musicgraph COMMAND --help' for a command's options.\n\n%s", config_common_help());
}

int main(int argc, char **argv)
{
    original_argc = argc;
    original_argv = xcalloc((size_t)argc + 1, sizeof *original_argv);
    for (int i = 0; i < argc; i++)
        original_argv[i] = argv[i];
    /* The path as started, links kept: when a deploy moves `current` to a
     * new release, SIGUSR2 must start the binary the link now names, not the
     * one /proc/self/exe resolved to at start. */
    char cwd[2048];
    if (strchr(argv[0], '/') && argv[0][0] == '/')
        snprintf(exec_path, sizeof exec_path, "%s", argv[0]);
    else if (strchr(argv[0], '/') && getcwd(cwd, sizeof cwd))
        snprintf(exec_path, sizeof exec_path, "%s/%s", cwd, argv[0]);
    else {
        ssize_t n = readlink("/proc/self/exe", exec_path, sizeof exec_path - 1);
        exec_path[n > 0 ? n : 0] = '\0';
    }
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0)
        argv[1] = "version";
    const command *cmd = NULL;
    for (const command *c = commands; c->name; c++)
        if (strcmp(argv[1], c->name) == 0)
            cmd = c;
    if (!cmd) {
        fprintf(stderr, "musicgraph: unknown command '%s' (see musicgraph --help)\n", argv[1]);
        return 2;
    }
    int sub_argc = argc - 1;
    char **sub_argv = argv + 1;
    if (wants_help(sub_argc, sub_argv)) {
        printf("%s\n%s", cmd->usage, config_common_help());
        return 0;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "musicgraph: cannot initialise libsodium\n");
        return 1;
    }
    config cfg;
    char err[1024];
    if (config_load(&cfg, &sub_argc, sub_argv, err, sizeof err) != 0) {
        fprintf(stderr, "musicgraph %s: %s\n", cmd->name, err);
        config_free(&cfg);
        return 2;
    }
    log_configure(cfg.log_format, cfg.log_level);
    int lock = -1, rc = 1;
    /* migrate and seed initialize: under the initialization lock (init_lock.h). */
    if ((cmd->run == cmd_migrate || cmd->run == cmd_seed) && init_lock(&cfg, &lock, err, sizeof err) != 0)
        fprintf(stderr, "musicgraph %s: %s\n", cmd->name, err);
    else
        rc = cmd->run(&cfg, sub_argc, sub_argv);
    init_unlock(lock);
    config_free(&cfg);
    return rc;
}
