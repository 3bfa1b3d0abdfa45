/*
 * postgres_backend.c — the PostgreSQL backend as store.c sees it: opening a
 * connection, the table of its operations (backend.h), and what every file
 * of the backend uses (postgres_internal.h).
 *
 * A connection asks for application_name=musicgraph, TCP keepalives (a
 * database that vanished is noticed), a connect timeout and a statement
 * timeout (a write never hangs a worker for ever); anything the URL says
 * wins over these defaults, sslmode=verify-full included. Messages name the
 * database, host and port, and never the password: libpq's own messages
 * are scrubbed of it too, since a malformed URL can be quoted back.
 *
 * Statements with parameters are prepared on their first use on a
 * connection and run by name afterwards (parsed and planned once), and
 * prepared again on a connection opened again.
 *
 * A connection lost between calls is re-established by the next call (the
 * server's worker keeps its store for its life); one lost inside a
 * transaction fails that call, which rolls back in the database anyway.
 */
#include "store/postgres_internal.h"

#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Seconds; the URL may say otherwise (connect_timeout=, options=-c statement_timeout=…). */
#define CONNECT_TIMEOUT_S    "5"
#define STATEMENT_TIMEOUT_MS "30000"
/* The longest pause between two attempts to reach a database that went away. */
#define RECONNECT_MAX_MS 5000
/* What every session sets (in libpq's options, so a reconnection sets it again). */
#define OPTIONS "-c statement_timeout=" STATEMENT_TIMEOUT_MS " -c TimeZone=UTC"

/* Replaces every occurrence of secret in msg by "***", and line breaks and
 * tabs by spaces (one message, one line). */
static void scrub(char *msg, const char *secret)
{
    size_t n = secret ? strlen(secret) : 0;
    char *hit;
    while (n > 0 && (hit = strstr(msg, secret))) {
        memset(hit, '*', 3 < n ? 3 : n);
        memmove(hit + (3 < n ? 3 : n), hit + n, strlen(hit + n) + 1);
    }
    for (char *c = msg; *c; c++)
        if (*c == '\n' || *c == '\t' || *c == '\r')
            *c = ' ';
    size_t len = strlen(msg);
    while (len > 0 && msg[len - 1] == ' ')
        msg[--len] = '\0';
}

/* The password as written in a URL (user:PASSWORD@host), or NULL; malloc'd. */
static char *url_password(const char *url)
{
    const char *s = strstr(url, "://");
    if (!s)
        return NULL;
    s += 3;
    const char *at = strchr(s, '@'), *slash = strchr(s, '/');
    if (!at || (slash && slash < at))
        return NULL;
    const char *colon = memchr(s, ':', (size_t)(at - s));
    return colon && colon + 1 < at ? xstrndup(colon + 1, (size_t)(at - colon - 1)) : NULL;
}

/* Fills where from the URL's parts, and *password (as libpq reads it,
 * malloc'd, may be NULL). */
static int describe(char *where, size_t wlen, const char *url, char **password, char *err, size_t errlen)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &perr);
    *password = NULL;
    if (!opts) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", perr ? perr : "out of memory");
        PQfreemem(perr);
        snprintf(err, errlen, "the PostgreSQL URL is not valid: %s", msg);
        return -1;
    }
    const char *host = NULL, *port = NULL, *db = NULL, *user = NULL;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val)
            continue;
        if (strcmp(o->keyword, "host") == 0 || (strcmp(o->keyword, "hostaddr") == 0 && !host))
            host = o->val;
        else if (strcmp(o->keyword, "port") == 0)
            port = o->val;
        else if (strcmp(o->keyword, "dbname") == 0)
            db = o->val;
        else if (strcmp(o->keyword, "user") == 0)
            user = o->val;
        else if (strcmp(o->keyword, "password") == 0 && *o->val)
            *password = xstrdup(o->val);
    }
    snprintf(where, wlen, "database \"%s\" on %s:%s",
             db     ? db
             : user ? user
                    : "(default)",
             host ? host : "localhost", port ? port : "5432");
    PQconninfoFree(opts);
    return 0;
}

void postgres_describe(const char *url, char *out, size_t len)
{
    char where[300], *password, why[16];
    if (describe(where, sizeof where, url, &password, why, sizeof why) != 0)
        snprintf(out, len, "PostgreSQL (a URL that is not valid)");
    else
        snprintf(out, len, "PostgreSQL %s", where);
    free(password);
}

static int postgres_lost(store *s) { return pg(s)->lost; }

static void forget_prepared(pg_store *p)
{
    for (size_t i = 0; i < p->nprepared; i++)
        free(p->prepared[i]);
    free(p->prepared);
    p->prepared = NULL;
    p->nprepared = 0;
}

static void postgres_close(store *s)
{
    pg_store *p = pg(s);
    PQfinish(p->conn);
    forget_prepared(p);
    free(p);
}

#define POSTGRES_OPERATION(name, params, args) .name = pg_##name,

static const struct store_ops postgres_ops = {.name = "postgresql",
                                              .close = postgres_close,
                                              .lost = postgres_lost,
                                              /* .NAME = pg_NAME for every operation */
                                              STORE_OPERATIONS(POSTGRES_OPERATION)};

/* A notice (e.g. "relation already exists, skipping") is not for the log. */
static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

int postgres_store_open(const char *url, int readonly, store **out, char *err, size_t errlen)
{
    pg_store *p = xcalloc(1, sizeof *p);
    p->base.ops = &postgres_ops;
    /* The password as written and as read: libpq may quote either back. */
    char *password = NULL, *written = url_password(url);
    if (describe(p->where, sizeof p->where, url, &password, err, errlen) != 0) {
        scrub(err, written);
        free(written);
        free(p);
        return -1;
    }
    /* Later keywords win: the URL comes last so that it can override each default. */
    const char *keys[] = {"application_name",    "client_encoding",  "connect_timeout", "keepalives", "keepalives_idle",
                          "keepalives_interval", "keepalives_count", "options",         "dbname",     NULL};
    const char *values[] = {"musicgraph",
                            "UTF8",
                            CONNECT_TIMEOUT_S,
                            "1",
                            "30",
                            "10",
                            "3",
                            readonly ? OPTIONS " -c default_transaction_read_only=on" : OPTIONS,
                            url,
                            NULL};
    p->conn = PQconnectdbParams(keys, values, 1);
    if (!p->conn || PQstatus(p->conn) != CONNECTION_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", p->conn ? PQerrorMessage(p->conn) : "out of memory");
        scrub(msg, password);
        scrub(msg, written);
        snprintf(err, errlen, "cannot connect to PostgreSQL %s: %s", p->where, msg);
        free(password);
        free(written);
        PQfinish(p->conn);
        free(p);
        return -1;
    }
    free(password);
    free(written);
    PQsetNoticeProcessor(p->conn, quiet, NULL);
    *out = &p->base;
    return 0;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Opens a lost connection again, unless the last attempt failed less than
 * a pause ago: while the database is away, calls fail at once instead of
 * each waiting for a connect timeout, and the many workers of several
 * instances do not knock in step (the pause doubles up to RECONNECT_MAX_MS,
 * with jitter). */
static int reconnect(pg_store *p)
{
    uint64_t now = now_ms();
    if (now < p->retry_at)
        return -1;
    PQreset(p->conn);
    if (PQstatus(p->conn) == CONNECTION_OK) {
        p->pause_ms = 0;
        p->listening = 0;
        forget_prepared(p); /* a new session knows none of them */
        return 0;
    }
    p->pause_ms = p->pause_ms ? (p->pause_ms * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : p->pause_ms * 2) : 100;
    /* Jitter needs no good randomness: the time and this connection's address differ enough. */
    uint64_t mix = (now * 2654435761u) ^ (uint64_t)(uintptr_t)p;
    p->retry_at = now_ms() + p->pause_ms / 2 + (uint32_t)(mix % p->pause_ms);
    return -1;
}

/* The name of sql prepared on this connection, preparing it the first time;
 * NULL when it cannot be (then *failed holds the server's answer, or NULL
 * when the cache is full and sql should just be run). The statements are
 * the backend's own string constants, a few dozen: a linear search costs
 * nothing beside the round trip it saves (parse and plan on every call). */
#define PREPARED_MAX 256
static const char *prepared_name(pg_store *p, const char *sql, int n, PGresult **failed, char *name, size_t len)
{
    *failed = NULL;
    size_t i = 0;
    while (i < p->nprepared && strcmp(p->prepared[i], sql) != 0)
        i++;
    snprintf(name, len, "s%zu", i);
    if (i < p->nprepared)
        return name;
    if (p->nprepared == PREPARED_MAX)
        return NULL;
    PGresult *r = PQprepare(p->conn, name, sql, n, NULL);
    if (!pg_ok(r)) {
        *failed = r;
        return NULL;
    }
    PQclear(r);
    p->prepared = xreallocarray(p->prepared, p->nprepared + 1, sizeof *p->prepared);
    p->prepared[p->nprepared++] = xstrdup(sql);
    return name;
}

PGresult *pg_run(pg_store *p, const char *sql, int n, const char *const *params)
{
    if (!p->in_tx && PQstatus(p->conn) != CONNECTION_OK && reconnect(p) != 0) {
        p->lost = 1;
        return NULL;
    }
    PGresult *r;
    char name[24];
    const char *prepared;
    /* Without parameters, the simple protocol: a script of several statements runs too. */
    if (n == 0)
        r = PQexec(p->conn, sql);
    else if ((prepared = prepared_name(p, sql, n, &r, name, sizeof name)) != NULL)
        r = PQexecPrepared(p->conn, prepared, n, params, NULL, NULL, 0);
    else if (!r)
        r = PQexecParams(p->conn, sql, n, NULL, params, NULL, NULL, 0);
    p->lost = PQstatus(p->conn) != CONNECTION_OK;
    return r;
}

int pg_ok(const PGresult *r)
{
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

int pg_fail(pg_store *p, PGresult *r, const char *what, char *err, size_t errlen)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char msg[768];
    if (PQstatus(p->conn) != CONNECTION_OK)
        snprintf(msg, sizeof msg, "the connection to PostgreSQL %s was lost: %s", p->where, PQerrorMessage(p->conn));
    else
        snprintf(msg, sizeof msg, "%s", primary ? primary : PQerrorMessage(p->conn));
    scrub(msg, NULL);
    snprintf(err, errlen, "%s: %s", what, msg);
    int conflict = state && strncmp(state, "23", 2) == 0;
    PQclear(r);
    return conflict ? MG_ERR_CONFLICT : -1;
}

int pg_cmd(pg_store *p, const char *sql, int n, const char *const *params, const char *what, char *err, size_t errlen)
{
    PGresult *r = pg_run(p, sql, n, params);
    if (!pg_ok(r))
        return pg_fail(p, r, what, err, errlen);
    PQclear(r);
    return 0;
}

int pg_int(pg_store *p, const char *sql, int n, const char *const *params, int64_t *out, char *err, size_t errlen)
{
    PGresult *r = pg_run(p, sql, n, params);
    if (!pg_ok(r))
        return pg_fail(p, r, sql, err, errlen);
    *out = PQntuples(r) > 0 ? pg_get_i64(r, 0, 0) : 0;
    PQclear(r);
    return 0;
}

int pg_begin(pg_store *p, char *err, size_t errlen)
{
    p->in_tx = 0;
    if (pg_cmd(p, "BEGIN", 0, NULL, "starting a transaction", err, errlen) != 0)
        return -1;
    p->in_tx = 1;
    return 0;
}

int pg_commit(pg_store *p, const char *what, char *err, size_t errlen)
{
    PGresult *r = pg_run(p, "COMMIT", 0, NULL);
    p->in_tx = 0;
    if (!pg_ok(r))
        return pg_fail(p, r, what, err, errlen);
    PQclear(r);
    return 0;
}

void pg_rollback(pg_store *p)
{
    if (PQstatus(p->conn) == CONNECTION_OK)
        PQclear(PQexec(p->conn, "ROLLBACK"));
    p->in_tx = 0;
}

int pg_lock(pg_store *p, long key, char *err, size_t errlen)
{
    pg_num k = pg_i64(key);
    const char *params[] = {k.s};
    return pg_cmd(p, "SELECT pg_advisory_xact_lock($1::bigint)", 1, params, "taking the write lock", err, errlen);
}

pg_num pg_i64(int64_t v)
{
    pg_num n;
    snprintf(n.s, sizeof n.s, "%lld", (long long)v);
    return n;
}

char *pg_dup(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : xstrdup(PQgetvalue(r, row, col));
}

void pg_copy(const PGresult *r, int row, int col, char *out, size_t len)
{
    snprintf(out, len, "%s", PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

int64_t pg_get_i64(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

void pg_read_user(const PGresult *r, int row, int col, store_user *u)
{
    memset(u, 0, sizeof *u);
    u->id = pg_get_i64(r, row, col);
    pg_copy(r, row, col + 1, u->username, sizeof u->username);
    pg_copy(r, row, col + 2, u->email, sizeof u->email);
    pg_copy(r, row, col + 3, u->password_hash, sizeof u->password_hash);
    u->is_admin = (int)pg_get_i64(r, row, col + 4);
    u->disabled = (int)pg_get_i64(r, row, col + 5);
    pg_copy(r, row, col + 6, u->created_at, sizeof u->created_at);
    pg_copy(r, row, col + 7, u->last_login_at, sizeof u->last_login_at);
}

void pg_read_audit(const PGresult *r, int row, store_audit *a)
{
    memset(a, 0, sizeof *a);
    a->id = pg_get_i64(r, row, 0);
    pg_copy(r, row, 1, a->at, sizeof a->at);
    a->actor = pg_dup(r, row, 2);
    pg_copy(r, row, 3, a->action, sizeof a->action);
    pg_copy(r, row, 4, a->entity_type, sizeof a->entity_type);
    a->entity_id = pg_dup(r, row, 5);
    a->before_json = pg_dup(r, row, 6);
    a->after_json = pg_dup(r, row, 7);
}

int pg_audit_insert(pg_store *p, const store_audit *a, char *err, size_t errlen)
{
    const char *params[] = {a->actor, a->action, a->entity_type, a->entity_id, a->before_json, a->after_json};
    return pg_cmd(p,
                  "INSERT INTO audit_log (actor, action, entity_type, entity_id, before_json, after_json) "
                  "VALUES ($1, $2, $3, $4, $5, $6)",
                  6, params, "writing the audit log", err, errlen);
}

/* Runs a schema query that answers one boolean, with nparams text parameters. */
static int schema_has(pg_store *p, const char *sql, int nparams, const char *const *params, int *exists, char *err,
                      size_t errlen)
{
    PGresult *r = pg_run(p, sql, nparams, params);
    if (!pg_ok(r))
        return pg_fail(p, r, "reading the schema", err, errlen);
    *exists = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return 0;
}

int pg_table_exists(pg_store *p, const char *name, int *exists, char *err, size_t errlen)
{
    const char *params[] = {name};
    return schema_has(p, "SELECT to_regclass($1) IS NOT NULL", 1, params, exists, err, errlen);
}

int pg_column_exists(pg_store *p, const char *table, const char *column, int *exists, char *err, size_t errlen)
{
    const char *params[] = {table, column};
    return schema_has(p,
                      "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
                      "AND table_name = $1 AND column_name = $2)",
                      2, params, exists, err, errlen);
}
