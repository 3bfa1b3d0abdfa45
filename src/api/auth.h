/*
 * auth.h — passwords, sessions, CSRF and the login rate limit.
 *
 * Passwords are argon2id hashes (core/password.h). A session is a random 256-bit
 * token in an HttpOnly, SameSite=Lax cookie; the database holds only its
 * BLAKE2b hash, so a copy of the database lets nobody in. Each session has
 * its own CSRF token that every state-changing request must echo (header
 * X-CSRF-Token or form field csrf_token); besides, http/ refuses
 * state-changing requests that a browser says come from another site
 * (http_check_origin). Sessions end after an idle period and at an absolute
 * age, and are replaced at every login.
 *
 * Everything here that reads the database or hashes runs on worker threads
 * as steps of an api_job (api.h): auth_prepare takes what it needs from the
 * request on the loop, auth_check decides on a worker, auth_refuse answers
 * on the loop.
 *
 * The login rate limit counts attempts in the database (so it holds across
 * restarts and processes), per window of a minute:
 *  - a username from one client address: AUTH_LOGIN_MAX attempts, then 429
 *    with Retry-After. Keyed on both, so nobody can lock an account out from
 *    elsewhere;
 *  - a client address over all usernames: AUTH_LOGIN_ADDRESS_MAX, then 429
 *    (one machine trying many accounts);
 *  - a username over all addresses: past AUTH_LOGIN_USER_SLOW attempts each
 *    further one is answered later (AUTH_LOGIN_DELAY_MS more per attempt, at
 *    most AUTH_LOGIN_DELAY_MAX_MS), never refused: a guesser with many
 *    addresses is slowed down, the account's owner still gets in.
 * Checking is a read; an attempt is recorded before its password is
 * verified and then counted in order of recording, so parallel attempts get
 * no extra guesses; a login that succeeds forgets its own attempt.
 */
#ifndef MG_AUTH_H
#define MG_AUTH_H

#include "api/api.h"
#include "http/http.h"
#include "store/store.h"

#define AUTH_COOKIE             "mg_session"
#define AUTH_TOKEN_CHARS        44    /* base64url of 32 bytes, with NUL */
#define AUTH_HASH_CHARS         65    /* hex of 32 bytes, with NUL */
#define AUTH_LOGIN_WINDOW_MS    60000 /* the rate limit's window */
#define AUTH_LOGIN_MAX          5     /* per username and client address */
#define AUTH_LOGIN_ADDRESS_MAX  30    /* per client address */
#define AUTH_LOGIN_USER_SLOW    20    /* per username, before answers slow down */
#define AUTH_LOGIN_DELAY_MS     500
#define AUTH_LOGIN_DELAY_MAX_MS 10000

/* Who may use a route. */
enum { AUTH_ANYONE, AUTH_USER, AUTH_ADMIN };

typedef struct auth_ctx {
    /* From the request (auth_prepare, on the loop). */
    char token_hash[AUTH_HASH_CHARS]; /* "" without a session cookie */
    char csrf_sent[AUTH_TOKEN_CHARS]; /* "" when missing or not a token */
    int state_changing;
    int need; /* AUTH_ANYONE, AUTH_USER or AUTH_ADMIN */
    /* Found by auth_check (on a worker). */
    int logged_in;
    store_session session; /* valid when logged_in */
    int refused;           /* 0, or the status auth_check refused with */
} auth_ctx;

/* The pieces of sessions and CSRF that need no request (unit-tested):
 * a random URL-safe token (outlen >= AUTH_TOKEN_CHARS), its keyed hash as
 * stored in the database, and a constant-time token comparison. */
void auth_random_token(char *out, size_t outlen);
void auth_token_hash(const unsigned char key[32], const char *token, char out[AUTH_HASH_CHARS]);
int auth_csrf_matches(const char *expected, const char *sent);

/* On the loop: the session cookie's hash and the CSRF token sent (form_csrf:
 * the csrf_token form field for form posts, NULL for JSON requests). */
void auth_prepare(api *a, http_request *r, auth_ctx *ctx, int need, const char *form_csrf);
/* On a worker: finds the session (touching it, ending an expired one) and
 * decides. Returns 0 when the request may proceed, else the status it is
 * refused with (401 anonymous, 403 not admin or a missing/wrong CSRF token
 * on a state-changing method, 503 database), also kept in ctx->refused. */
int auth_check(api *a, store *s, auth_ctx *ctx);
/* On the loop: answers ctx->refused. */
void auth_refuse(http_request *r, const auth_ctx *ctx);

typedef enum auth_login_result {
    AUTH_LOGIN_OK,
    AUTH_LOGIN_BAD_CREDENTIALS,
    AUTH_LOGIN_RATE_LIMITED,
    AUTH_LOGIN_ERROR,
} auth_login_result;

typedef struct auth_login auth_login;
/* What a login tells its caller's answer function, on the loop. */
typedef struct auth_login_outcome {
    auth_login_result result;
    int retry_after_s;            /* when rate limited */
    const store_session *session; /* when OK: the new session (csrf_token, user) */
} auth_login_outcome;
typedef void (*auth_login_answer_fn)(http_request *r, const auth_login_outcome *o, void *data);

/* Logs in (on the worker threads): rate limit, password, a new session that
 * replaces the one the request carried. Then, on the loop, sets the cookie
 * when it worked and calls answer(r, outcome, data); free_data(data) always
 * runs last (may be NULL). Logs the outcome, never the password. */
void auth_login_start(api *a, http_request *r, const char *username, const char *password, auth_login_answer_fn answer,
                      void *data, void (*free_data)(void *data));
/* After a successful auth_check: ends the session, on a worker. */
void auth_logout(store *s, auth_ctx *ctx);
/* Clears the cookie in the response (on the loop). */
void auth_clear_cookie(http_request *r);

#endif
