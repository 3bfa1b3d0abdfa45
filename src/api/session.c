/*
 * session.c — logging in and out: the JSON API (/api/v1/session, /me) and
 * the HTML form (/login, /logout) for browsers without the admin app.
 */
#include "api/api.h"
#include "api/pages.h"
#include "api/auth.h"
#include "api/common.h"

#include "core/buf.h"

#include <stdio.h>
#include <string.h>

static void send_me(http_request *r, int status, const auth_ctx *ctx)
{
    api_send_json(
        r, status,
        json_pack("{s:o, s:s}", "user", api_user_json(&ctx->session.user), "csrf_token", ctx->session.csrf_token));
}

static void send_retry_after(http_request *r, int seconds)
{
    char value[16];
    snprintf(value, sizeof value, "%d", seconds);
    http_add_header(r, "retry-after", value);
}

static int post_session(http_request *r, void *a)
{
    json_t *body = api_json_body(r);
    if (!body)
        return 0;
    const char *username = json_string_value(json_object_get(body, "username"));
    const char *password = json_string_value(json_object_get(body, "password"));
    if (!username || !password) {
        domain_errors errs = {0};
        if (!username)
            domain_errors_add(&errs, "session", "username", "is required");
        if (!password)
            domain_errors_add(&errs, "session", "password", "is required");
        api_problem_fields(r, 400, "Bad Request", &errs);
        domain_errors_free(&errs);
        json_decref(body);
        return 0;
    }
    auth_ctx ctx;
    int retry;
    auth_login_result res = auth_login(a, r, username, password, &ctx, &retry);
    json_decref(body);
    switch (res) {
    case AUTH_LOGIN_OK:
        send_me(r, 200, &ctx);
        break;
    case AUTH_LOGIN_BAD_CREDENTIALS:
        http_problem(r, 401, "Unauthorized", "Wrong username or password.", NULL);
        break;
    case AUTH_LOGIN_RATE_LIMITED:
        send_retry_after(r, retry);
        http_problem(r, 429, "Too Many Requests", "Too many login attempts; wait a minute and try again.", NULL);
        break;
    default:
        http_problem(r, 503, "Service Unavailable", "Logging in is not possible right now.", NULL);
    }
    return 0;
}

static int delete_session(http_request *r, void *a)
{
    auth_ctx ctx;
    if (auth_require(a, r, &ctx, 0, NULL) != 0)
        return 0;
    auth_logout(a, r, &ctx);
    http_respond(r, 204, "text/plain", "", 0);
    return 0;
}

static int get_me(http_request *r, void *a)
{
    auth_ctx ctx;
    if (auth_require(a, r, &ctx, 0, NULL) != 0)
        return 0;
    send_me(r, 200, &ctx);
    return 0;
}

/* A redirect target is accepted only when it is a path on this site. Any
 * byte up to the space or DEL is refused: browsers drop tabs and newlines
 * from URLs, so "/\t/evil.example" would become "//evil.example". */
static const char *local_path_or(const char *next, const char *fallback)
{
    if (!next || next[0] != '/' || next[1] == '/' || next[1] == '\\' || strlen(next) > 512)
        return fallback;
    for (const unsigned char *p = (const unsigned char *)next; *p; p++)
        if (*p <= 0x20 || *p == 0x7f || *p == '\\')
            return fallback;
    return next;
}

static void login_page(http_request *r, int status, const char *error, const char *username, const char *next)
{
    buf out = BUF_INIT;
    const char *kv[] = {"ERROR", error ? error : "",      "USERNAME",     username ? username : "",
                        "NEXT",  local_path_or(next, ""), "ERROR_HIDDEN", error ? "" : "hidden",
                        NULL};
    pages_render_template("login.html", kv, &out);
    http_respond(r, status, "text/html; charset=utf-8", buf_cstr(&out), out.len);
    buf_free(&out);
}

static int get_login(http_request *r, void *a)
{
    (void)a;
    login_page(r, 200, NULL, NULL, http_query(r, "next", NULL));
    return 0;
}

static int post_login(http_request *r, void *a)
{
    if (!api_content_type_is(r, "application/x-www-form-urlencoded")) {
        login_page(r, 400, "The form was sent in an unexpected format.", NULL, NULL);
        return 0;
    }
    const char *username = http_form_field(r, "username");
    const char *password = http_form_field(r, "password");
    const char *next = http_form_field(r, "next");
    if (!username || !*username || !password || !*password) {
        login_page(r, 400, "Enter your username and password.", username, next);
        return 0;
    }
    auth_ctx ctx;
    int retry;
    switch (auth_login(a, r, username, password, &ctx, &retry)) {
    case AUTH_LOGIN_OK:
        http_redirect(r, 303, local_path_or(next, ctx.session.user.is_admin ? "/admin" : "/"));
        break;
    case AUTH_LOGIN_BAD_CREDENTIALS:
        login_page(r, 401, "Wrong username or password.", username, next);
        break;
    case AUTH_LOGIN_RATE_LIMITED:
        send_retry_after(r, retry);
        login_page(r, 429, "Too many login attempts; wait a minute and try again.", username, next);
        break;
    default:
        login_page(r, 503, "Logging in is not possible right now; try again later.", username, next);
    }
    return 0;
}

static int post_logout(http_request *r, void *a)
{
    auth_ctx ctx;
    if (auth_resolve(a, r, &ctx) != 0)
        return 0;
    if (ctx.logged_in && auth_require(a, r, &ctx, 0, http_form_field(r, "csrf_token")) != 0)
        return 0;
    auth_logout(a, r, &ctx);
    http_redirect(r, 303, "/");
    return 0;
}

void api_register_session(http_router *rt, api *a)
{
    http_route(rt, "POST", "/api/v1/session", post_session, a);
    http_route(rt, "DELETE", "/api/v1/session", delete_session, a);
    http_route(rt, "GET", "/api/v1/me", get_me, a);
    http_route(rt, "GET", "/login", get_login, a);
    http_route(rt, "POST", "/login", post_login, a);
    http_route(rt, "POST", "/logout", post_logout, a);
}
