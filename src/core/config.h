/*
 * config.h — the program's settings: flags > environment > config file > defaults.
 *
 * Every setting is described once, in the table in config.c, with its
 * environment variable, its flag, its default and whether it is a secret.
 * Every subcommand reads the same table, so an operator's command and the
 * running server see the same data. Secrets also have a _FILE form.
 */
#ifndef MG_CONFIG_H
#define MG_CONFIG_H

#include <stddef.h>

typedef struct config {
    char *listen;                     /* ADDR:PORT */
    char *state_dir;                  /* database, backups, generated secrets */
    char *database_url;               /* sqlite:///path or postgresql://… */
    char *env;                        /* development | staging | production */
    char *log_format;                 /* text | json */
    char *log_level;                  /* debug | info | warn | error */
    char *threads;                    /* worker threads; 0 = one per core */
    char *seed;                       /* 1: seed the bundled dataset into an empty database */
    char *max_body;                   /* request body limit in bytes */
    char *shutdown_timeout;           /* seconds to finish in-flight requests on stop */
    char *session_idle;               /* seconds of inactivity that end a session */
    char *session_max;                /* seconds after which a session ends regardless */
    char *admin_password;             /* password of the first admin, created when there is none */
    char *secret_key;                 /* keys the session token hashes; required and strong in production */
    char *trusted_proxies;            /* proxies whose X-Forwarded-For/-Proto are believed */
    char *tls_cert;                   /* PEM certificate chain: serve HTTPS natively when set with tls_key */
    char *tls_key;                    /* PEM private key */
    char *http_redirect_listen;       /* plain HTTP beside HTTPS: ACME http-01 and redirects */
    char *acme_domains;               /* names of the certificate obtained from an ACME CA */
    char *acme_email;                 /* the ACME account's contact */
    char *acme_directory;             /* the ACME CA's directory URL */
    char *acme_challenge;             /* http-01 */
    char *acme_ca_roots;              /* PEM roots trusted for the CA's HTTPS, or NULL */
    char *acme_dns_hook;              /* dns-01: the command that sets and removes the TXT record */
    char *acme_dns_resolver;          /* dns-01: where to look the record up before telling the CA */
    char *request_timeout;            /* seconds a client has to send a request (slow clients are cut off) */
    char *max_connections;            /* open connections beyond which new ones are refused */
    char *max_connections_per_client; /* the same for one client address */
    char *config_file;                /* where the file layer came from, if any */
    char *backup_dir;                 /* local backups; NULL = STATE_DIR/backups */
    char *backup_offsite;             /* s3://BUCKET/PREFIX copy of every backup, or NULL */
    char *backup_encrypt;             /* "1": local backups encrypted too (offsite: whenever a key is set) */
    char *backup_passphrase;          /* backups are encrypted under this (Argon2id), or */
    char *backup_key;                 /* under this raw key (64 hex characters) */
    /* Limits of a backup that restore, verify and import read (backup_limits). */
    char *backup_max_archive, *backup_max_document, *backup_max_text;
    char *backup_max_genres, *backup_max_bands, *backup_max_users, *backup_max_audit;
    char *s3_endpoint; /* http(s)://host[:port], path-style requests */
    char *s3_region;
    char *s3_access_key;
    char *s3_secret_key;
    char *pid_file;                /* the serving process writes its pid here (deploy hand-over) */
    char *release_public_key;      /* minisign public key (file or its RW… line) releases are checked with */
    char *deploy_store;            /* release store the deploy agent reads: a directory, https:// or s3:// */
    char *release_store_ca_file;   /* PEM roots trusted for an https:// release store, or NULL */
    char *release_store_auth_file; /* USER:PASSWORD for an https:// release store, or NULL */
    char *deploy_channel;          /* dev | staging | production */
    char *deploy_env;              /* name under which outcomes are recorded; NULL = the channel */
    char *deploy_root;             /* releases/VERSION/, current, history.jsonl */
    char *deploy_keep;             /* releases kept */
    char *deploy_url;              /* where the agent asks /readyz and runs smoke checks; NULL = http://LISTEN */
    char *deploy_smoke;            /* space-separated paths that must answer 2xx */
    char *deploy_systemd_unit;     /* hand over with `systemctl reload UNIT` instead of SIGUSR2 via the pid file */
    char *deploy_ready_timeout;    /* seconds to wait for /readyz to show the new version */
    char *deploy_max_download;     /* bytes a downloaded release file may have */
    char *deploy_container;        /* container mode: the podman container that serves, or NULL */
    char *deploy_image;            /* container mode: image repository (REPO, pulled as REPO:VERSION) */
} config;

typedef struct config_setting {
    const char *field; /* name in struct config */
    const char *env;   /* environment variable */
    const char *flag;  /* command-line flag (without value) */
    const char *def;   /* default; NULL = derived or unset */
    int secret;        /* redacted when printed; _FILE form accepted */
    const char *help;
    size_t offset;
} config_setting;

extern const config_setting config_settings[];

/* Fills cfg from defaults, the config file (MUSICGRAPH_CONFIG or --config),
 * the environment and the flags found in argv. Recognised flags are removed
 * from argv (argc updated) so the subcommand parses only its own. */
int config_load(config *cfg, int *argc, char **argv, char *err, size_t errlen);
void config_free(config *cfg);
/* Path of the SQLite file if database_url is sqlite, else NULL (not owned). */
const char *config_sqlite_path(const config *cfg);
/* Helpers for the derived values. */
int config_threads(const config *cfg);
long config_long(const char *value, long fallback);
/* 1 when the certificate comes from an ACME CA (MUSICGRAPH_ACME_DOMAINS). */
int config_acme(const config *cfg);
/* 1 in production (secrets enforced, cookies always Secure, terse errors). */
int config_is_production(const config *cfg);
/* 0 if the secret is long and varied enough for production, else -1 with why. */
int config_secret_strength(const char *secret, char *why, size_t whylen);
/* Usage text of the common flags, for --help. */
const char *config_common_help(void);

#endif
