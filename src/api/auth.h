/*
 * auth.h — passwords, sessions, CSRF and the login rate limit.
 *
 * Passwords are argon2id hashes (core/password.h). A session is a random 256-bit
 * token in an HttpOnly, SameSite=Lax cookie; the database holds only its
 * BLAKE2b hash, so a copy of the database lets nobody in. Each session has
 * its own CSRF token that every state-changing request must echo (header
 * X-CSRF-Token or form field csrf_token). Sessions end after an idle period
 * and at an absolute age, and are replaced at every login.
 */
#ifndef MG_AUTH_H
#define MG_AUTH_H

#include "api/api.h"
#include "http/http.h"
#include "store/store.h"

#define AUTH_COOKIE          "mg_session"
#define AUTH_TOKEN_CHARS     44    /* base64url of 32 bytes, with NUL */
#define AUTH_HASH_CHARS      65    /* hex of 32 bytes, with NUL */
#define AUTH_LOGIN_MAX       5     /* failed attempts … */
#define AUTH_LOGIN_WINDOW_MS 60000 /* … per minute, per address and per username */

typedef struct auth_ctx {
    int logged_in;
    char token_hash[AUTH_HASH_CHARS];
    store_session session; /* valid when logged_in */
} auth_ctx;

/* The pieces of sessions and CSRF that need no request (unit-tested):
 * a random URL-safe token (outlen >= AUTH_TOKEN_CHARS), its keyed hash as
 * stored in the database, and a constant-time token comparison. */
void auth_random_token(char *out, size_t outlen);
void auth_token_hash(const unsigned char key[32], const char *token, char out[AUTH_HASH_CHARS]);
int auth_csrf_matches(const char *expected, const char *sent);

/* Reads the session cookie. Sets ctx->logged_in for a live session (touching
 * it), ends an expired one. Returns -1 (having answered 503) on a database
 * failure. */
int auth_resolve(api *a, http_request *r, auth_ctx *ctx);
/* For protected routes: answers 401 (anonymous) or 403 (not admin, or a
 * missing/wrong CSRF token on a state-changing method) and returns -1;
 * returns 0 when the request may proceed. form_csrf: the csrf_token form
 * field for form posts, NULL for JSON requests. */
int auth_require(api *a, http_request *r, auth_ctx *ctx, int need_admin, const char *form_csrf);

typedef enum auth_login_result {
    AUTH_LOGIN_OK,
    AUTH_LOGIN_BAD_CREDENTIALS,
    AUTH_LOGIN_RATE_LIMITED,
    AUTH_LOGIN_ERROR,
} auth_login_result;

/* Checks the rate limit and the credentials; on success replaces any current
 * session with a new one, sets the cookie and fills ctx. *retry_after_s is
 * set when rate limited. Logs the outcome (never the password). */
auth_login_result auth_login(api *a, http_request *r, const char *username, const char *password, auth_ctx *ctx,
                             int *retry_after_s);
/* Ends the session (if any) and clears the cookie. */
void auth_logout(api *a, http_request *r, auth_ctx *ctx);

#endif
