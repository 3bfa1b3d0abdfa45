/*
 * session.c — logging in and out: the JSON API (/api/v1/session, /me) and
 * the HTML form (/login, /logout) for browsers without the admin app.
 * Everything that reads the database or a password runs as a job
 * (api.h); the handlers here only read the request and write the answer.
 */
#include "api/api.h"
#include "api/pages.h"
#include "api/auth.h"
#include "api/common.h"

#include "core/buf.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void send_me(http_request *r, int status, const store_session *session)
{
    api_send_json(r, status,
                  json_pack("{s:o, s:s}", "user", api_user_json(&session->user), "csrf_token", session->csrf_token));
}

static void send_retry_after(http_request *r, int seconds)
{
    char value[16];
    snprintf(value, sizeof value, "%d", seconds);
    http_add_header(r, "retry-after", value);
}

static void answer_session(http_request *r, const auth_login_outcome *o, void *data)
{
    (void)data;
    switch (o->result) {
    case AUTH_LOGIN_OK:
        send_me(r, 200, o->session);
        break;
    case AUTH_LOGIN_BAD_CREDENTIALS:
        http_problem(r, 401, "Unauthorized", "Wrong username or password.", NULL);
        break;
    case AUTH_LOGIN_RATE_LIMITED:
        send_retry_after(r, o->retry_after_s);
        http_problem(r, 429, "Too Many Requests", "Too many login attempts; wait a minute and try again.", NULL);
        break;
    default:
        /* The database was busy past its timeout (a restore holds it) or failed. */
        send_retry_after(r, 1);
        http_problem(r, 503, "Service Unavailable", "Logging in is not possible right now.", NULL);
    }
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
    } else {
        auth_login_start(a, r, username, password, answer_session, NULL, NULL);
    }
    json_decref(body);
    return 0;
}

/* A job that needs only the session: /me, logging out. */
typedef struct session_job {
    api_job job;
    auth_ctx auth;
    int logout;
    int form; /* the HTML form's logout: redirect instead of 204 */
} session_job;

static int session_step(api_job *j, store *s)
{
    session_job *sj = (session_job *)j;
    auth_ctx *ctx = &sj->auth;
    /* The form's logout works without a session too (it just goes home);
     * with one, it needs the session's CSRF token like any other change. */
    if (auth_check(j->a, s, ctx) == 0 && sj->form && ctx->logged_in &&
        !auth_csrf_matches(ctx->session.csrf_token, ctx->csrf_sent))
        ctx->refused = 403;
    if (!ctx->refused && sj->logout)
        auth_logout(s, ctx);
    return API_DONE;
}

static void session_reply(http_request *r, api_job *j)
{
    session_job *sj = (session_job *)j;
    if (sj->auth.refused) {
        auth_refuse(r, &sj->auth);
    } else if (sj->logout) {
        auth_clear_cookie(r);
        if (sj->form)
            http_redirect(r, 303, "/");
        else
            http_respond(r, 204, "text/plain", "", 0);
    } else {
        send_me(r, 200, &sj->auth.session);
    }
}

static void free_job(api_job *j) { free(j); }

static void start_session_job(api *a, http_request *r, int need, int logout, int form, const char *form_csrf)
{
    session_job *sj = xcalloc(1, sizeof *sj);
    auth_prepare(a, r, &sj->auth, need, form_csrf);
    sj->logout = logout;
    sj->form = form;
    sj->job.step = session_step;
    sj->job.lane = API_LANE_DB;
    sj->job.reply = session_reply;
    sj->job.destroy = free_job;
    api_job_start(a, r, &sj->job);
}

static int delete_session(http_request *r, void *a)
{
    start_session_job(a, r, AUTH_USER, 1, 0, NULL);
    return 0;
}

static int get_me(http_request *r, void *a)
{
    start_session_job(a, r, AUTH_USER, 0, 0, NULL);
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

/* What the form's answer needs after the login: what was typed. */
typedef struct login_form {
    char *username, *next;
} login_form;

static void free_login_form(void *data)
{
    login_form *f = data;
    free(f->username);
    free(f->next);
    free(f);
}

static void answer_form(http_request *r, const auth_login_outcome *o, void *data)
{
    login_form *f = data;
    switch (o->result) {
    case AUTH_LOGIN_OK:
        http_redirect(r, 303, local_path_or(f->next, o->session->user.is_admin ? "/admin" : "/"));
        break;
    case AUTH_LOGIN_BAD_CREDENTIALS:
        login_page(r, 401, "Wrong username or password.", f->username, f->next);
        break;
    case AUTH_LOGIN_RATE_LIMITED:
        send_retry_after(r, o->retry_after_s);
        login_page(r, 429, "Too many login attempts; wait a minute and try again.", f->username, f->next);
        break;
    default:
        send_retry_after(r, 1);
        login_page(r, 503, "Logging in is not possible right now; try again later.", f->username, f->next);
    }
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
    login_form *f = xcalloc(1, sizeof *f);
    f->username = xstrdup(username);
    f->next = xstrdup(next);
    auth_login_start(a, r, username, password, answer_form, f, free_login_form);
    return 0;
}

static int post_logout(http_request *r, void *a)
{
    start_session_job(a, r, AUTH_ANYONE, 1, 1, http_form_field(r, "csrf_token"));
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
