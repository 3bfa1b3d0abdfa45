/*
 * config.c — settings table and the layered loader (see config.h).
 */
#include "core/config.h"
#include "core/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SETTING(field, env, flag, def, secret, help)                                                                   \
    {                                                                                                                  \
#field, env, flag, def, secret, help, offsetof(config, field)                                                  \
    }

const config_setting config_settings[] = {
    SETTING(listen, "MUSICGRAPH_LISTEN", "--listen", "127.0.0.1:8080", 0, "address and port to listen on"),
    SETTING(state_dir, "MUSICGRAPH_STATE_DIR", "--state-dir", NULL, 0,
            "directory for the database, backups and generated secrets (default: $STATE_DIRECTORY, else ./var)"),
    SETTING(database_url, "MUSICGRAPH_DATABASE_URL", "--database-url", NULL, 1,
            "sqlite:///path or postgres[ql]://USER:PASSWORD@HOST:PORT/DATABASE[?libpq parameters] (default: sqlite in "
            "the state directory; DATABASE_URL also accepted)"),
    SETTING(env, "MUSICGRAPH_ENV", "--env", "development", 0, "development, staging or production"),
    SETTING(log_format, "MUSICGRAPH_LOG_FORMAT", "--log-format", NULL, 0,
            "text or json (default: json in staging and production, text in development)"),
    SETTING(log_level, "MUSICGRAPH_LOG_LEVEL", "--log-level", "info", 0, "debug, info, warn or error"),
    SETTING(threads, "MUSICGRAPH_THREADS", "--threads", "0", 0, "worker threads (0: one per core)"),
    SETTING(seed, "MUSICGRAPH_SEED", NULL, "1", 0,
            "1: load the bundled dataset into an empty database at start (--no-seed: 0)"),
    SETTING(max_body, "MUSICGRAPH_MAX_BODY_BYTES", "--max-body-bytes", "1048576", 0, "largest accepted request body"),
    SETTING(shutdown_timeout, "MUSICGRAPH_SHUTDOWN_TIMEOUT", "--shutdown-timeout", "10", 0,
            "seconds to let in-flight requests finish on SIGTERM"),
    SETTING(session_idle, "MUSICGRAPH_SESSION_IDLE_SECONDS", NULL, "7200", 0,
            "a session ends after this many seconds without a request"),
    SETTING(session_max, "MUSICGRAPH_SESSION_MAX_SECONDS", NULL, "604800", 0,
            "a session ends this many seconds after login"),
    SETTING(secret_key, "MUSICGRAPH_SECRET_KEY", NULL, NULL, 1,
            "at least 32 characters; keys session token hashes (default outside production: generated in the state "
            "directory)"),
    SETTING(trusted_proxies, "MUSICGRAPH_TRUSTED_PROXIES", NULL, "", 0,
            "comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto "
            "are trusted"),
    SETTING(tls_cert, "MUSICGRAPH_TLS_CERT", "--tls-cert", NULL, 0,
            "PEM certificate chain file; with MUSICGRAPH_TLS_KEY the server speaks HTTPS itself (reloaded on SIGHUP)"),
    SETTING(tls_key, "MUSICGRAPH_TLS_KEY", "--tls-key", NULL, 0, "PEM private key file for MUSICGRAPH_TLS_CERT"),
    SETTING(http_redirect_listen, "MUSICGRAPH_HTTP_REDIRECT_LISTEN", NULL, NULL, 0,
            "address and port of a plain-HTTP listener beside the HTTPS one (e.g. :80): it answers ACME http-01 "
            "challenges and redirects everything else to https://"),
    SETTING(acme_domains, "MUSICGRAPH_ACME_DOMAINS", NULL, NULL, 0,
            "DNS names (comma-separated) to obtain a certificate for from an ACME CA, and renew it automatically; "
            "the first is its subject. Replaces MUSICGRAPH_TLS_CERT/_KEY; see MUSICGRAPH_ACME_CHALLENGE"),
    SETTING(acme_email, "MUSICGRAPH_ACME_EMAIL", NULL, NULL, 0,
            "contact address of the ACME account (the CA writes about expiring certificates and policy changes)"),
    SETTING(acme_directory, "MUSICGRAPH_ACME_DIRECTORY", NULL, "https://acme-v02.api.letsencrypt.org/directory", 0,
            "directory URL of the ACME CA (Let's Encrypt staging: "
            "https://acme-staging-v02.api.letsencrypt.org/directory)"),
    SETTING(acme_challenge, "MUSICGRAPH_ACME_CHALLENGE", NULL, "http-01", 0,
            "how the CA checks that the names are ours: http-01 (it fetches a token from port 80: "
            "MUSICGRAPH_HTTP_REDIRECT_LISTEN), tls-alpn-01 (a TLS handshake on port 443 itself, MUSICGRAPH_LISTEN) "
            "or dns-01 (a TXT record, set by MUSICGRAPH_ACME_DNS_HOOK)"),
    SETTING(acme_dns_hook, "MUSICGRAPH_ACME_DNS_HOOK", NULL, NULL, 0,
            "dns-01: command run as HOOK add|remove NAME TXT_NAME TXT_VALUE that exits 0 once the TXT record is set "
            "or removed (examples in deploy/acme/)"),
    SETTING(acme_dns_resolver, "MUSICGRAPH_ACME_DNS_RESOLVER", NULL, NULL, 0,
            "dns-01: IPV4[:PORT] of the DNS server asked whether the TXT record is visible before the CA is told "
            "(default: the system's resolver; the zone's primary server sees it first)"),
    SETTING(acme_ca_roots, "MUSICGRAPH_ACME_CA_ROOTS", NULL, NULL, 0,
            "PEM file of the roots trusted for the ACME CA's HTTPS, instead of the system's (a private CA, a "
            "test CA)"),
    SETTING(request_timeout, "MUSICGRAPH_REQUEST_TIMEOUT", NULL, "10", 0,
            "seconds a client has to send its request headers; idle keep-alive connections close after it"),
    SETTING(max_connections, "MUSICGRAPH_MAX_CONNECTIONS", NULL, "4096", 0,
            "open connections beyond which new ones are closed at once"),
    SETTING(max_connections_per_client, "MUSICGRAPH_MAX_CONNECTIONS_PER_CLIENT", NULL, "256", 0,
            "open connections one client address may hold (trusted proxies exempt), so that one client cannot take "
            "them all"),
    SETTING(admin_password, "MUSICGRAPH_ADMIN_PASSWORD", NULL, NULL, 1,
            "password for the first admin (user 'admin'), created at start when no admin exists; random if unset"),
    SETTING(backup_dir, "MUSICGRAPH_BACKUP_DIR", NULL, NULL, 0,
            "directory of local backups (default: STATE_DIR/backups)"),
    SETTING(backup_offsite, "MUSICGRAPH_BACKUP_OFFSITE", NULL, NULL, 0,
            "s3://BUCKET/PREFIX: every backup is also uploaded there; prune and backups include it"),
    SETTING(backup_encrypt, "MUSICGRAPH_BACKUP_ENCRYPT", NULL, "0", 0,
            "1: local backups are encrypted too (offsite copies are encrypted whenever a passphrase or key is set); "
            "needs MUSICGRAPH_BACKUP_PASSPHRASE_FILE or MUSICGRAPH_BACKUP_KEY_FILE"),
    SETTING(backup_passphrase, "MUSICGRAPH_BACKUP_PASSPHRASE", NULL, NULL, 1,
            "passphrase (the _FILE form: the file's first line) that backups are encrypted under, stretched by "
            "Argon2id; keep a copy away from the server: without it encrypted backups cannot be restored"),
    SETTING(backup_key, "MUSICGRAPH_BACKUP_KEY", NULL, NULL, 1,
            "instead of a passphrase: a key of 64 hexadecimal characters (32 bytes, e.g. `openssl rand -hex 32`) "
            "that backups are encrypted under; keep a copy away from the server"),
    SETTING(backup_max_archive, "MUSICGRAPH_BACKUP_MAX_ARCHIVE_BYTES", NULL, "536870912", 0,
            "largest backup file restore, verify and import read, as stored (compressed)"),
    SETTING(backup_max_document, "MUSICGRAPH_BACKUP_MAX_DOCUMENT_BYTES", NULL, "1073741824", 0,
            "largest backup document once decompressed (counted while streaming, before anything is held: a gzip "
            "bomb is refused at this size)"),
    SETTING(backup_max_text, "MUSICGRAPH_BACKUP_MAX_TEXT_BYTES", NULL, "65536", 0,
            "longest text (any one string) in a backup; names and descriptions also keep the data rules' limits"),
    SETTING(backup_max_genres, "MUSICGRAPH_BACKUP_MAX_GENRES", NULL, "100000", 0, "most genres a backup may hold"),
    SETTING(backup_max_bands, "MUSICGRAPH_BACKUP_MAX_BANDS", NULL, "1000000", 0, "most bands a backup may hold"),
    SETTING(backup_max_users, "MUSICGRAPH_BACKUP_MAX_USERS", NULL, "100000", 0, "most user accounts a backup may hold"),
    SETTING(backup_max_audit, "MUSICGRAPH_BACKUP_MAX_AUDIT_ENTRIES", NULL, "2000000", 0,
            "most audit log entries a backup may hold"),
    SETTING(s3_endpoint, "MUSICGRAPH_S3_ENDPOINT", NULL, NULL, 0,
            "S3-compatible endpoint URL, path-style (default: https://s3.REGION.amazonaws.com)"),
    SETTING(s3_region, "MUSICGRAPH_S3_REGION", NULL, "us-east-1", 0, "S3 region used in request signatures"),
    SETTING(s3_access_key, "MUSICGRAPH_S3_ACCESS_KEY_ID", NULL, NULL, 1, "S3 access key id"),
    SETTING(s3_secret_key, "MUSICGRAPH_S3_SECRET_ACCESS_KEY", NULL, NULL, 1, "S3 secret access key"),
    SETTING(pid_file, "MUSICGRAPH_PID_FILE", "--pid-file", NULL, 0,
            "file the serving process writes its pid to once it serves (after a SIGUSR2 hand-over: the new "
            "process's); `musicgraph deploy` signals the pid it names when not under systemd"),
    SETTING(release_public_key, "MUSICGRAPH_RELEASE_PUBLIC_KEY", "--public-key", NULL, 0,
            "minisign public key (a .pub file or its RW… line) that release signatures must verify with"),
    SETTING(deploy_store, "MUSICGRAPH_DEPLOY_STORE", "--store", NULL, 0,
            "release store the deploy agent reads channels and releases from: a directory, https://HOST/PATH/ or "
            "s3://BUCKET/PREFIX"),
    SETTING(release_store_ca_file, "MUSICGRAPH_RELEASE_STORE_CA_FILE", NULL, NULL, 0,
            "PEM file of the roots trusted for an https:// release store, instead of the system's (a private CA)"),
    SETTING(release_store_auth_file, "MUSICGRAPH_RELEASE_STORE_AUTH_FILE", NULL, NULL, 0,
            "file whose first line is USER:PASSWORD, sent (HTTP Basic) to an https:// release store: publish, "
            "promote and the deploy agent's records write to it; read when the store is opened, never shown"),
    SETTING(deploy_channel, "MUSICGRAPH_DEPLOY_CHANNEL", "--channel", "dev", 0,
            "channel this server follows: dev, staging or production"),
    SETTING(deploy_env, "MUSICGRAPH_DEPLOY_ENV", NULL, NULL, 0,
            "environment name under which deploy outcomes are recorded in the store (deployed/ENV/VERSION; "
            "default: the channel)"),
    SETTING(deploy_root, "MUSICGRAPH_DEPLOY_ROOT", "--root", "/opt/musicgraph", 0,
            "installation the deploy agent manages: releases/VERSION/, the current link, history.jsonl"),
    SETTING(deploy_keep, "MUSICGRAPH_DEPLOY_KEEP", NULL, "5", 0,
            "unpacked releases kept (the running and the previous one are never removed)"),
    SETTING(deploy_url, "MUSICGRAPH_DEPLOY_URL", NULL, NULL, 0,
            "base URL where the deploy agent checks /readyz and runs the smoke checks (default: http://LISTEN)"),
    SETTING(deploy_smoke, "MUSICGRAPH_DEPLOY_SMOKE", NULL, "/ /api/v1/graph /api/v1/genres/rock /api/v1/search?q=rock",
            0, "space-separated paths that must answer 2xx after a deploy, else it is rolled back"),
    SETTING(deploy_systemd_unit, "MUSICGRAPH_DEPLOY_SYSTEMD_UNIT", NULL, NULL, 0,
            "hand over by SIGUSR2 to the main process of this systemd unit (systemctl kill --kill-whom=main); unset: "
            "SIGUSR2 to the pid in "
            "MUSICGRAPH_PID_FILE"),
    SETTING(deploy_ready_timeout, "MUSICGRAPH_DEPLOY_READY_TIMEOUT", NULL, "90", 0,
            "seconds the deploy agent waits for /readyz to report the new version"),
    SETTING(deploy_max_download, "MUSICGRAPH_DEPLOY_MAX_DOWNLOAD", NULL, "1073741824", 0,
            "bytes a file the deploy agent downloads from the release store may have; a larger one is refused and "
            "not kept (a release tarball is about 10 MB)"),
    SETTING(deploy_container, "MUSICGRAPH_DEPLOY_CONTAINER", "--container", NULL, 0,
            "container mode: the name of the podman container that serves; the agent replaces it with one of the "
            "new image made from its own create command (unset: the systemd/pid-file path)"),
    SETTING(deploy_image, "MUSICGRAPH_DEPLOY_IMAGE", "--image", NULL, 0,
            "container mode: the image repository pulled as REPO:VERSION (default: the running container's image "
            "without its tag)"),
    {NULL, NULL, NULL, NULL, 0, NULL, 0},
};

static const config_setting *find_setting(const char *field)
{
    const config_setting *s;
    for (s = config_settings; s->field; s++)
        if (strcmp(s->field, field) == 0)
            break;
    return s;
}

static char **field_ptr(config *cfg, const config_setting *s) { return (char **)((char *)cfg + s->offset); }

static void set_field(config *cfg, const config_setting *s, const char *value)
{
    char **slot = field_ptr(cfg, s);
    free(*slot);
    *slot = xstrdup(value);
}

/* Reads a secret from FILE: first line, without the trailing newline. */
static int read_secret_file(const char *path, char **out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    char line[4096];
    if (!fgets(line, sizeof line, f))
        line[0] = '\0';
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    *out = xstrdup(line);
    return 0;
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    size_t lead = strspn(s, " \t");
    memmove(s, s + lead, n - lead + 1);
}

/* The file layer: KEY=VALUE lines using the environment variable names. */
static int load_file(config *cfg, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read config file %s: %s", path, strerror(errno));
        return -1;
    }
    char line[4096];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        trim(line);
        if (line[0] == '\0' || line[0] == '#')
            continue;
        char *eq = strchr(line, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected KEY=VALUE", path, lineno);
            fclose(f);
            return -1;
        }
        *eq = '\0';
        char *key = line, *value = eq + 1;
        trim(key);
        trim(value);
        size_t vlen = strlen(value);
        if (vlen >= 2 && (value[0] == '"' || value[0] == '\'') && value[vlen - 1] == value[0]) {
            value[vlen - 1] = '\0';
            value++;
        }
        const config_setting *s;
        for (s = config_settings; s->field; s++)
            if (strcmp(key, s->env) == 0)
                break;
        if (!s->field) {
            snprintf(err, errlen, "%s:%d: unknown setting %s", path, lineno, key);
            fclose(f);
            return -1;
        }
        set_field(cfg, s, value);
    }
    fclose(f);
    return 0;
}

static int load_env(config *cfg, char *err, size_t errlen)
{
    for (const config_setting *s = config_settings; s->field; s++) {
        const char *v = getenv(s->env);
        if (!v && strcmp(s->field, "database_url") == 0)
            v = getenv("DATABASE_URL");
        if (v) {
            set_field(cfg, s, v);
            continue;
        }
        if (s->secret) {
            char name[128];
            snprintf(name, sizeof name, "%s_FILE", s->env);
            const char *path = getenv(name);
            char *secret;
            if (path) {
                if (read_secret_file(path, &secret, err, errlen) != 0)
                    return -1;
                char **slot = field_ptr(cfg, s);
                free(*slot);
                *slot = secret;
            }
        }
    }
    return 0;
}

/* Finds the value of flag in argv (--flag VALUE or --flag=VALUE), removing it. */
static int take_flag(int *argc, char **argv, const char *flag, char **value, char *err, size_t errlen)
{
    size_t flen = strlen(flag);
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        int consumed = 0;
        if (strcmp(argv[i], flag) == 0) {
            if (i + 1 >= *argc) {
                snprintf(err, errlen, "%s needs a value", flag);
                return -1;
            }
            *value = argv[i + 1];
            consumed = 2;
        } else if (strncmp(argv[i], flag, flen) == 0 && argv[i][flen] == '=') {
            *value = argv[i] + flen + 1;
            consumed = 1;
        }
        if (consumed) {
            memmove(&argv[i], &argv[i + consumed], (size_t)(*argc - i - consumed + 1) * sizeof(char *));
            *argc -= consumed;
            return 1;
        }
    }
    return 0;
}

static int take_switch(int *argc, char **argv, const char *flag)
{
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], flag) == 0) {
            memmove(&argv[i], &argv[i + 1], (size_t)(*argc - i) * sizeof(char *));
            (*argc)--;
            return 1;
        }
    }
    return 0;
}

int config_load(config *cfg, int *argc, char **argv, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    for (const config_setting *s = config_settings; s->field; s++)
        if (s->def)
            set_field(cfg, s, s->def);

    char *config_path = NULL;
    int r = take_flag(argc, argv, "--config", &config_path, err, errlen);
    if (r < 0)
        return -1;
    if (!config_path)
        config_path = getenv("MUSICGRAPH_CONFIG");
    if (config_path) {
        if (load_file(cfg, config_path, err, errlen) != 0)
            return -1;
        cfg->config_file = xstrdup(config_path);
    }
    if (load_env(cfg, err, errlen) != 0)
        return -1;
    for (const config_setting *s = config_settings; s->field; s++) {
        char *value = NULL;
        if (!s->flag)
            continue;
        if (take_flag(argc, argv, s->flag, &value, err, errlen) < 0)
            return -1;
        if (value)
            set_field(cfg, s, value);
    }
    if (take_switch(argc, argv, "--no-seed"))
        set_field(cfg, find_setting("seed"), "0");

    if (!cfg->state_dir) {
        const char *sd = getenv("STATE_DIRECTORY"); /* set by systemd's StateDirectory= */
        cfg->state_dir = xstrdup(sd && *sd ? sd : "./var");
    }
    if (!cfg->database_url || !*cfg->database_url) {
        free(cfg->database_url);
        size_t n = strlen(cfg->state_dir) + 64;
        cfg->database_url = xmalloc(n);
        snprintf(cfg->database_url, n, "sqlite://%s/musicgraph.db", cfg->state_dir);
    }
    if (strcmp(cfg->env, "development") && strcmp(cfg->env, "staging") && strcmp(cfg->env, "production")) {
        snprintf(err, errlen, "MUSICGRAPH_ENV must be development, staging or production, not '%s'", cfg->env);
        return -1;
    }
    if (!cfg->tls_cert != !cfg->tls_key) {
        snprintf(err, errlen, "MUSICGRAPH_TLS_CERT and MUSICGRAPH_TLS_KEY go together: set both or neither");
        return -1;
    }
    if (config_acme(cfg) && cfg->tls_cert) {
        snprintf(err, errlen,
                 "MUSICGRAPH_ACME_DOMAINS and MUSICGRAPH_TLS_CERT exclude each other: the certificate "
                 "comes either from the CA or from the files");
        return -1;
    }
    if (config_acme(cfg) && strcmp(cfg->acme_challenge, "http-01") != 0 &&
        strcmp(cfg->acme_challenge, "tls-alpn-01") != 0 && strcmp(cfg->acme_challenge, "dns-01") != 0) {
        snprintf(err, errlen, "MUSICGRAPH_ACME_CHALLENGE must be http-01, tls-alpn-01 or dns-01, not '%s'",
                 cfg->acme_challenge);
        return -1;
    }
    if (config_acme(cfg) && strcmp(cfg->acme_challenge, "dns-01") == 0 &&
        (!cfg->acme_dns_hook || !*cfg->acme_dns_hook)) {
        snprintf(err, errlen,
                 "MUSICGRAPH_ACME_CHALLENGE=dns-01 needs MUSICGRAPH_ACME_DNS_HOOK, the command that sets "
                 "the TXT record");
        return -1;
    }
    if (cfg->http_redirect_listen && *cfg->http_redirect_listen && !cfg->tls_cert && !config_acme(cfg)) {
        snprintf(err, errlen,
                 "MUSICGRAPH_HTTP_REDIRECT_LISTEN redirects to HTTPS: set MUSICGRAPH_ACME_DOMAINS or "
                 "MUSICGRAPH_TLS_CERT/_KEY too");
        return -1;
    }
    if (!cfg->log_format)
        cfg->log_format = xstrdup(strcmp(cfg->env, "development") == 0 ? "text" : "json");
    if (strcmp(cfg->log_format, "text") && strcmp(cfg->log_format, "json")) {
        snprintf(err, errlen, "MUSICGRAPH_LOG_FORMAT must be text or json, not '%s'", cfg->log_format);
        return -1;
    }
    if (config_long(cfg->threads, -1) < 0 || config_long(cfg->threads, -1) > 256) {
        snprintf(err, errlen, "MUSICGRAPH_THREADS must be a number from 0 to 256, not '%s'", cfg->threads);
        return -1;
    }
    if (config_long(cfg->max_body, -1) < 1024) {
        snprintf(err, errlen, "MUSICGRAPH_MAX_BODY_BYTES must be a number of at least 1024, not '%s'", cfg->max_body);
        return -1;
    }
    if (config_long(cfg->request_timeout, -1) < 1 || config_long(cfg->max_connections, -1) < 1) {
        snprintf(err, errlen, "MUSICGRAPH_REQUEST_TIMEOUT and MUSICGRAPH_MAX_CONNECTIONS must be positive numbers");
        return -1;
    }
    if (config_long(cfg->max_connections_per_client, -1) < 1) {
        snprintf(err, errlen, "MUSICGRAPH_MAX_CONNECTIONS_PER_CLIENT must be a positive number, not '%s'",
                 cfg->max_connections_per_client);
        return -1;
    }
    if (config_long(cfg->session_idle, -1) < 1 || config_long(cfg->session_max, -1) < 1) {
        snprintf(err, errlen, "session lifetimes must be positive numbers of seconds");
        return -1;
    }
    if (config_long(cfg->shutdown_timeout, -1) < 0) {
        snprintf(err, errlen, "MUSICGRAPH_SHUTDOWN_TIMEOUT must be a number of seconds, not '%s'",
                 cfg->shutdown_timeout);
        return -1;
    }
    if (strncmp(cfg->database_url, "sqlite:", 7) != 0 && strncmp(cfg->database_url, "postgres", 8) != 0) {
        snprintf(err, errlen, "database URL must start with sqlite: or postgresql:");
        return -1;
    }
    return 0;
}

void config_free(config *cfg)
{
    for (const config_setting *s = config_settings; s->field; s++) {
        char **slot = field_ptr(cfg, s);
        free(*slot);
        *slot = NULL;
    }
    free(cfg->config_file);
    cfg->config_file = NULL;
}

const char *config_sqlite_path(const config *cfg)
{
    const char *url = cfg->database_url;
    if (strncmp(url, "sqlite:", 7) != 0)
        return NULL;
    url += 7;
    if (strncmp(url, "//", 2) == 0)
        url += 2;
    return url;
}

long config_long(const char *value, long fallback)
{
    if (!value || !*value)
        return fallback;
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || *end)
        return fallback;
    return v;
}

int config_threads(const config *cfg)
{
    long n = config_long(cfg->threads, 0);
    if (n <= 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        n = cores > 0 ? cores : 1;
    }
    return (int)n;
}

const char *config_common_help(void)
{
    return "Common options (each also an environment variable):\n"
           "  --state-dir DIR        MUSICGRAPH_STATE_DIR: data directory (default ./var)\n"
           "  --database-url URL     MUSICGRAPH_DATABASE_URL: sqlite:///path or postgresql://…\n"
           "  --config FILE          MUSICGRAPH_CONFIG: KEY=VALUE file of these variables\n"
           "  --env NAME             MUSICGRAPH_ENV: development, staging or production\n"
           "  --log-format FMT       MUSICGRAPH_LOG_FORMAT: text or json\n"
           "  --log-level LEVEL      MUSICGRAPH_LOG_LEVEL: debug, info, warn, error\n";
}

int config_acme(const config *cfg) { return cfg->acme_domains && *cfg->acme_domains; }

int config_is_production(const config *cfg) { return strcmp(cfg->env, "production") == 0; }

int config_secret_strength(const char *secret, char *why, size_t whylen)
{
    size_t n = secret ? strlen(secret) : 0;
    if (n == 0) {
        snprintf(why, whylen, "MUSICGRAPH_SECRET_KEY (or MUSICGRAPH_SECRET_KEY_FILE) is not set");
        return -1;
    }
    if (n < 32) {
        snprintf(why, whylen, "MUSICGRAPH_SECRET_KEY is %zu characters long; it needs at least 32", n);
        return -1;
    }
    int seen[256] = {0}, distinct = 0;
    for (size_t i = 0; i < n; i++)
        if (!seen[(unsigned char)secret[i]]++)
            distinct++;
    if (distinct < 10) {
        snprintf(why, whylen,
                 "MUSICGRAPH_SECRET_KEY uses only %d different characters; use a random value "
                 "(e.g. `openssl rand -base64 48`)",
                 distinct);
        return -1;
    }
    return 0;
}
