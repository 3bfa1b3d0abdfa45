/*
 * auth.c — passwords, sessions, CSRF, login rate limit (see auth.h).
 */
#include "api/auth.h"

#include "core/log.h"
#include "core/password.h"
#include "core/xalloc.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void auth_random_token(char *out, size_t outlen)
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, outlen, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void auth_token_hash(const unsigned char key[32], const char *token, char out[AUTH_HASH_CHARS])
{
    unsigned char digest[32];
    crypto_generichash(digest, sizeof digest, (const unsigned char *)token, strlen(token), key, 32);
    sodium_bin2hex(out, AUTH_HASH_CHARS, digest, sizeof digest);
}

int auth_csrf_matches(const char *expected, const char *sent)
{
    size_t n = strlen(expected);
    return n > 0 && sent && strlen(sent) == n && sodium_memcmp(sent, expected, n) == 0;
}

static int64_t now_seconds(void) { return (int64_t)time(NULL); }

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Secure over TLS, behind a trusted proxy that says https, and always in
 * production (where plain HTTP is never the real entry point). */
static void set_cookie(api *a, http_request *r, const char *token, int64_t max_age)
{
    char cookie[256];
    int secure = http_is_secure(r) || config_is_production(a->cfg);
    snprintf(cookie, sizeof cookie, AUTH_COOKIE "=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%lld%s", token,
             (long long)max_age, secure ? "; Secure" : "");
    http_add_header(r, "set-cookie", cookie);
}

void auth_clear_cookie(http_request *r)
{
    http_add_header(r, "set-cookie", AUTH_COOKIE "=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
}

static int is_safe_method(http_request *r)
{
    const char *m = http_method(r);
    return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
}

/* The session cookie's hash, or "" without a plausible cookie. */
static void cookie_hash(api *a, http_request *r, char out[AUTH_HASH_CHARS])
{
    const char *token = http_cookie(r, AUTH_COOKIE);
    out[0] = '\0';
    if (token && strlen(token) == AUTH_TOKEN_CHARS - 1)
        auth_token_hash(a->session_key, token, out);
}

void auth_prepare(api *a, http_request *r, auth_ctx *ctx, int need, const char *form_csrf)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->need = need;
    ctx->state_changing = !is_safe_method(r);
    cookie_hash(a, r, ctx->token_hash);
    const char *sent = form_csrf ? form_csrf : http_header(r, "x-csrf-token");
    if (sent && strlen(sent) < sizeof ctx->csrf_sent)
        snprintf(ctx->csrf_sent, sizeof ctx->csrf_sent, "%s", sent);
}

int auth_check(api *a, store *s, auth_ctx *ctx)
{
    char err[256];
    int found = 0;
    ctx->logged_in = 0;
    if (ctx->token_hash[0] && store_session_get(s, ctx->token_hash, &ctx->session, &found, err, sizeof err) != 0) {
        log_error("reading a session failed: %s", err);
        return ctx->refused = 503;
    }
    if (found) {
        int64_t now = now_seconds();
        int64_t idle = config_long(a->cfg->session_idle, 7200);
        if (now >= ctx->session.expires_at || now - ctx->session.last_seen_at >= idle || ctx->session.user.disabled) {
            store_session_delete(s, ctx->token_hash, err, sizeof err);
        } else {
            /* Touch at most once a minute: a read storm should not become a write storm. */
            if (now - ctx->session.last_seen_at >= 60 || idle < 120)
                store_session_touch(s, ctx->token_hash, now, err, sizeof err);
            ctx->logged_in = 1;
        }
    }
    if (ctx->need == AUTH_ANYONE)
        return ctx->refused = 0;
    if (!ctx->logged_in)
        return ctx->refused = 401;
    if (ctx->state_changing && !auth_csrf_matches(ctx->session.csrf_token, ctx->csrf_sent))
        return ctx->refused = 403;
    if (ctx->need == AUTH_ADMIN && !ctx->session.user.is_admin)
        return ctx->refused = 403;
    return ctx->refused = 0;
}

void auth_refuse(http_request *r, const auth_ctx *ctx)
{
    if (ctx->refused == 401)
        http_problem(r, 401, "Unauthorized", "Log in first.", NULL);
    else if (ctx->refused == 403 && ctx->state_changing && !auth_csrf_matches(ctx->session.csrf_token, ctx->csrf_sent))
        http_problem(r, 403, "Forbidden", "The CSRF token is missing or wrong: reload the page and try again.", NULL);
    else if (ctx->refused == 403)
        http_problem(r, 403, "Forbidden", "Only admins may do this.", NULL);
    else
        http_problem(r, 503, "Service Unavailable", "The database is not reachable.", NULL);
}

void auth_logout(store *s, auth_ctx *ctx)
{
    char err[256];
    if (ctx->logged_in && store_session_delete(s, ctx->token_hash, err, sizeof err) != 0)
        log_error("ending a session failed: %s", err);
    ctx->logged_in = 0;
}

/* ---- logging in ---- */

/* A hash to verify against when the user does not exist, so that a wrong
 * username takes as long as a wrong password. */
static char dummy[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy_hash(void)
{
    char pw[24];
    password_generate(pw, sizeof pw);
    password_hash(pw, dummy, sizeof dummy);
}

static const char *dummy_hash(void)
{
    pthread_once(&dummy_once, make_dummy_hash);
    return dummy;
}

enum { KEY_PAIR, KEY_ADDRESS, KEY_USER, NKEYS };

struct auth_login {
    api_job job; /* first */
    char *username, *password;
    char client[64];
    char old_token_hash[AUTH_HASH_CHARS]; /* the session the request came with, replaced */
    char keys[NKEYS][200];
    int64_t attempt_ids[NKEYS];
    store_user user;
    int found, verified;
    char token[AUTH_TOKEN_CHARS]; /* the new session's, for the cookie */
    int64_t max_age;
    store_session session;
    auth_login_outcome outcome;
    auth_login_answer_fn answer;
    void *data;
    void (*free_data)(void *data);
};

static void log_login(const auth_login *l, enum log_level level, const char *what)
{
    const char *kv[] = {"user", l->username, "client", l->client, NULL};
    log_fields(level, what, kv);
}

static void limited(auth_login *l, int64_t oldest_ms, int64_t now)
{
    int64_t wait = oldest_ms + AUTH_LOGIN_WINDOW_MS - now;
    l->outcome.result = AUTH_LOGIN_RATE_LIMITED;
    l->outcome.retry_after_s = wait > 1000 ? (int)((wait + 999) / 1000) : 1;
    log_login(l, LOG_WARN, "login rate limited");
}

/* The hard limits (per username and address, per address): 1 when the
 * attempt must be refused. upto_id > 0 counts only attempts recorded up to
 * this one's, each key against its own id. */
static int over_limits(auth_login *l, store *s, int64_t since, int recorded, int64_t now, int *failed)
{
    static const int max[NKEYS] = {AUTH_LOGIN_MAX, AUTH_LOGIN_ADDRESS_MAX, 0};
    char err[256];
    for (int k = 0; k < KEY_USER; k++) {
        int64_t count, oldest;
        if (store_attempts_count(s, l->keys[k], since, recorded ? l->attempt_ids[k] : 0, &count, &oldest, err,
                                 sizeof err) != 0) {
            log_error("login rate limit check failed: %s", err);
            *failed = 1;
            return 1;
        }
        if (count > max[k] - (recorded ? 0 : 1)) {
            limited(l, oldest, now);
            return 1;
        }
    }
    return 0;
}

/* Step 3, database: a session for a verified password. */
static int login_finish(api_job *j, store *s)
{
    auth_login *l = (auth_login *)j;
    char err[256];
    if (!l->verified) {
        l->outcome.result = AUTH_LOGIN_BAD_CREDENTIALS;
        log_login(l, LOG_WARN, "login failed");
        return API_DONE;
    }
    /* A login that works is not a guess: forget its attempt, so people who
     * share an address do not use up each other's limit by logging in. */
    if (store_attempts_remove(s, l->attempt_ids, NKEYS, err, sizeof err) != 0)
        log_warn("forgetting a successful login's attempt failed: %s", err);
    /* Rotate: whatever session the browser had is replaced. */
    if (l->old_token_hash[0])
        store_session_delete(s, l->old_token_hash, err, sizeof err);
    char csrf[AUTH_TOKEN_CHARS];
    auth_random_token(l->token, sizeof l->token);
    auth_random_token(csrf, sizeof csrf);
    char token_hash[AUTH_HASH_CHARS];
    auth_token_hash(j->a->session_key, l->token, token_hash);
    int64_t now = now_seconds();
    l->max_age = config_long(j->a->cfg->session_max, 604800);
    if (store_session_create(s, token_hash, l->user.id, csrf, now, now + l->max_age, err, sizeof err) != 0) {
        log_error("creating a session failed: %s", err);
        l->outcome.result = AUTH_LOGIN_ERROR;
        return API_DONE;
    }
    store_user_logged_in(s, l->user.id, err, sizeof err);
    l->session.user_id = l->user.id;
    snprintf(l->session.csrf_token, sizeof l->session.csrf_token, "%s", csrf);
    l->session.created_at = l->session.last_seen_at = now;
    l->session.expires_at = now + l->max_age;
    l->session.user = l->user;
    l->outcome.result = AUTH_LOGIN_OK;
    l->outcome.session = &l->session;
    log_login(l, LOG_INFO, "login succeeded");
    return API_DONE;
}

/* Step 2, argon2id: the password against the stored hash (or a dummy one,
 * which costs the same). */
static int login_verify(api_job *j, store *s)
{
    (void)s;
    auth_login *l = (auth_login *)j;
    l->verified =
        password_verify(l->found ? l->user.password_hash : dummy_hash(), l->password) && l->found && !l->user.disabled;
    sodium_memzero(l->password, strlen(l->password));
    j->step = login_finish;
    j->lane = API_LANE_DB;
    j->delay_ms = 0;
    return API_NEXT;
}

/* Step 1, database: the rate limit, the attempt recorded, the user read. */
static int login_check(api_job *j, store *s)
{
    auth_login *l = (auth_login *)j;
    char err[256];
    int64_t now = now_ms(), since = now - AUTH_LOGIN_WINDOW_MS;
    int failed = 0;
    l->outcome.result = AUTH_LOGIN_ERROR;
    /* A read first: a client already over a limit costs no write. */
    if (over_limits(l, s, since, 0, now, &failed))
        return API_DONE;
    const char *keys[NKEYS] = {l->keys[0], l->keys[1], l->keys[2]};
    if (store_attempts_add(s, keys, NKEYS, now, since, l->attempt_ids, err, sizeof err) != 0) {
        log_error("recording a login attempt failed: %s", err);
        return API_DONE;
    }
    /* Counted in the order recorded: of parallel attempts, only those within
     * the limit go on to the password. */
    if (over_limits(l, s, since, 1, now, &failed))
        return API_DONE;
    int64_t per_user, oldest;
    if (store_attempts_count(s, l->keys[KEY_USER], since, l->attempt_ids[KEY_USER], &per_user, &oldest, err,
                             sizeof err) != 0 ||
        store_user_by_name(s, l->username, &l->user, &l->found, err, sizeof err) != 0) {
        log_error("login lookup failed: %s", err);
        return API_DONE;
    }
    j->delay_ms = 0;
    if (per_user > AUTH_LOGIN_USER_SLOW) {
        int64_t delay = (per_user - AUTH_LOGIN_USER_SLOW) * AUTH_LOGIN_DELAY_MS;
        j->delay_ms = (unsigned)(delay < AUTH_LOGIN_DELAY_MAX_MS ? delay : AUTH_LOGIN_DELAY_MAX_MS);
        char ms[24];
        snprintf(ms, sizeof ms, "%u", j->delay_ms);
        const char *kv[] = {"user", l->username, "client", l->client, "delay_ms", ms, NULL};
        log_fields(LOG_WARN, "login delayed: many attempts for this username", kv);
    }
    j->step = login_verify;
    j->lane = API_LANE_HASH;
    return API_NEXT;
}

static void login_reply(http_request *r, api_job *j)
{
    auth_login *l = (auth_login *)j;
    if (l->outcome.result == AUTH_LOGIN_OK)
        set_cookie(j->a, r, l->token, l->max_age);
    l->answer(r, &l->outcome, l->data);
}

static void login_destroy(api_job *j)
{
    auth_login *l = (auth_login *)j;
    if (l->free_data)
        l->free_data(l->data);
    sodium_memzero(l->password, strlen(l->password));
    free(l->password);
    free(l->username);
    sodium_memzero(l, sizeof *l);
    free(l);
}

void auth_login_start(api *a, http_request *r, const char *username, const char *password, auth_login_answer_fn answer,
                      void *data, void (*free_data)(void *data))
{
    auth_login *l = xcalloc(1, sizeof *l);
    l->username = xstrdup(username);
    l->password = xstrdup(password);
    l->answer = answer;
    l->data = data;
    l->free_data = free_data;
    snprintf(l->client, sizeof l->client, "%s", http_client_address(r));
    cookie_hash(a, r, l->old_token_hash);
    /* Usernames are matched without regard to ASCII case in the keys, so
     * "Admin" and "admin" share their limits. */
    char user[101];
    snprintf(user, sizeof user, "%.100s", username);
    for (char *p = user; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    snprintf(l->keys[KEY_PAIR], sizeof l->keys[KEY_PAIR], "pair:%s|%s", user, l->client);
    snprintf(l->keys[KEY_ADDRESS], sizeof l->keys[KEY_ADDRESS], "addr:%s", l->client);
    snprintf(l->keys[KEY_USER], sizeof l->keys[KEY_USER], "user:%s", user);
    l->job.step = login_check;
    l->job.lane = API_LANE_DB;
    l->job.reply = login_reply;
    l->job.destroy = login_destroy;
    api_job_start(a, r, &l->job);
}
