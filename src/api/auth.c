/*
 * auth.c — passwords, sessions, CSRF, login rate limit (see auth.h).
 */
#include "api/auth.h"

#include "core/log.h"
#include "core/password.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
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

/* Keyed with the secret: the stored hashes are useless without it. */
static void token_hash(api *a, const char *token, char out[AUTH_HASH_CHARS])
{
    auth_token_hash(a->session_key, token, out);
}

int auth_csrf_matches(const char *expected, const char *sent)
{
    size_t n = strlen(expected);
    return n > 0 && sent && strlen(sent) == n && sodium_memcmp(sent, expected, n) == 0;
}

static int64_t now_seconds(void) { return (int64_t)time(NULL); }

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

int auth_resolve(api *a, http_request *r, auth_ctx *ctx)
{
    memset(ctx, 0, sizeof *ctx);
    const char *token = http_cookie(r, AUTH_COOKIE);
    if (!token || strlen(token) != AUTH_TOKEN_CHARS - 1)
        return 0;
    char err[256];
    store *s = api_store(a, err, sizeof err);
    int found = 0;
    token_hash(a, token, ctx->token_hash);
    if (!s || store_session_get(s, ctx->token_hash, &ctx->session, &found, err, sizeof err) != 0) {
        log_error("reading a session failed: %s", err);
        http_problem(r, 503, "Service Unavailable", "The database is not reachable.", NULL);
        return -1;
    }
    if (!found)
        return 0;
    const config *cfg = a->cfg;
    int64_t now = now_seconds();
    int64_t idle = config_long(cfg->session_idle, 7200);
    if (now >= ctx->session.expires_at || now - ctx->session.last_seen_at >= idle || ctx->session.user.disabled) {
        store_session_delete(s, ctx->token_hash, err, sizeof err);
        return 0;
    }
    /* Touch at most once a minute: a read storm should not become a write storm. */
    if (now - ctx->session.last_seen_at >= 60 || idle < 120)
        store_session_touch(s, ctx->token_hash, now, err, sizeof err);
    ctx->logged_in = 1;
    return 0;
}

static int is_safe_method(http_request *r)
{
    const char *m = http_method(r);
    return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
}

int auth_require(api *a, http_request *r, auth_ctx *ctx, int need_admin, const char *form_csrf)
{
    if (auth_resolve(a, r, ctx) != 0)
        return -1;
    if (!ctx->logged_in) {
        http_problem(r, 401, "Unauthorized", "Log in first.", NULL);
        return -1;
    }
    if (!is_safe_method(r)) {
        const char *sent = form_csrf ? form_csrf : http_header(r, "x-csrf-token");
        if (!auth_csrf_matches(ctx->session.csrf_token, sent)) {
            http_problem(r, 403, "Forbidden", "The CSRF token is missing or wrong: reload the page and try again.",
                         NULL);
            return -1;
        }
    }
    if (need_admin && !ctx->session.user.is_admin) {
        http_problem(r, 403, "Forbidden", "Only admins may do this.", NULL);
        return -1;
    }
    return 0;
}

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

auth_login_result auth_login(api *a, http_request *r, const char *username, const char *password, auth_ctx *ctx,
                             int *retry_after_s)
{
    char err[256];
    memset(ctx, 0, sizeof *ctx);
    *retry_after_s = 0;
    store *s = api_store(a, err, sizeof err);
    if (!s)
        return AUTH_LOGIN_ERROR;
    const char *addr = http_client_address(r);
    char addr_key[96], user_key[128];
    snprintf(addr_key, sizeof addr_key, "addr:%s", addr);
    snprintf(user_key, sizeof user_key, "user:%.100s", username);
    for (char *p = user_key; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    const char *keys[] = {addr_key, user_key};
    int allowed;
    int64_t retry_ms;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (store_attempt(s, keys, 2, now_ms, AUTH_LOGIN_WINDOW_MS, AUTH_LOGIN_MAX, 0, &allowed, &retry_ms, err,
                      sizeof err) != 0) {
        log_error("login rate limit check failed: %s", err);
        return AUTH_LOGIN_ERROR;
    }
    const char *kv_limited[] = {"user", username, "client", addr, NULL};
    if (!allowed) {
        *retry_after_s = (int)((retry_ms + 999) / 1000);
        if (*retry_after_s < 1)
            *retry_after_s = 1;
        log_fields(LOG_WARN, "login rate limited", kv_limited);
        return AUTH_LOGIN_RATE_LIMITED;
    }
    store_user u;
    int found = 0;
    if (store_user_by_name(s, username, &u, &found, err, sizeof err) != 0) {
        log_error("login lookup failed: %s", err);
        return AUTH_LOGIN_ERROR;
    }
    int ok = password_verify(found ? u.password_hash : dummy_hash(), password) && found && !u.disabled;
    if (!ok) {
        log_fields(LOG_WARN, "login failed", kv_limited);
        if (store_attempt(s, keys, 2, now_ms, AUTH_LOGIN_WINDOW_MS, 0, 1, &allowed, &retry_ms, err, sizeof err) != 0)
            log_error("recording a failed login failed: %s", err);
        return AUTH_LOGIN_BAD_CREDENTIALS;
    }
    /* Rotate: whatever session the browser had is replaced. */
    auth_ctx old;
    if (auth_resolve(a, r, &old) == 0 && old.token_hash[0])
        store_session_delete(s, old.token_hash, err, sizeof err);

    char token[AUTH_TOKEN_CHARS];
    auth_random_token(token, sizeof token);
    token_hash(a, token, ctx->token_hash);
    char csrf[AUTH_TOKEN_CHARS];
    auth_random_token(csrf, sizeof csrf);
    int64_t now = now_seconds();
    int64_t max_age = config_long(a->cfg->session_max, 604800);
    if (store_session_create(s, ctx->token_hash, u.id, csrf, now, now + max_age, err, sizeof err) != 0) {
        log_error("creating a session failed: %s", err);
        return AUTH_LOGIN_ERROR;
    }
    store_user_logged_in(s, u.id, err, sizeof err);
    set_cookie(a, r, token, max_age);
    ctx->logged_in = 1;
    ctx->session.user_id = u.id;
    snprintf(ctx->session.csrf_token, sizeof ctx->session.csrf_token, "%s", csrf);
    ctx->session.created_at = ctx->session.last_seen_at = now;
    ctx->session.expires_at = now + max_age;
    ctx->session.user = u;
    log_fields(LOG_INFO, "login succeeded", kv_limited);
    return AUTH_LOGIN_OK;
}

void auth_logout(api *a, http_request *r, auth_ctx *ctx)
{
    char err[256];
    store *s = api_store(a, err, sizeof err);
    if (s && ctx->token_hash[0])
        store_session_delete(s, ctx->token_hash, err, sizeof err);
    http_add_header(r, "set-cookie", AUTH_COOKIE "=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    ctx->logged_in = 0;
}
