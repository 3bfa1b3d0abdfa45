/*
 * users.c — accounts and the audit log for admins (JSON API), and the admin
 * application's pages, which need a logged-in admin.
 *
 * Each request is a job (api.h): the session check and the store calls run
 * on a database thread, a password hash on the hash lane. A change of a
 * user writes only the columns it changes, in one transaction with its
 * audit entry (store_user_edit), so two admins changing different things of
 * one account at once both keep their change.
 */
#include "api/api.h"
#include "api/pages.h"
#include "api/auth.h"
#include "api/common.h"

#include "core/buf.h"
#include "core/log.h"
#include "core/password.h"
#include "core/xalloc.h"
#include "domain/user.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One struct for every request of this file: which fields are used depends
 * on the route. */
typedef struct users_job {
    api_job job; /* first */
    auth_ctx auth;
    char *content_type, *body;
    size_t len;
    json_t *input;      /* the parsed body */
    long long id;       /* PATCH: the user */
    long page, per;     /* audit */
    char *password;     /* a new password, wiped once hashed */
    char generated[21]; /* POST without a password: the one made up */
    char hash[256];     /* its argon2id hash */
    int hash_failed;
    int (*after_hash)(api_job *j, store *s);
    api_answer answer;
} users_job;

static void users_reply(http_request *r, api_job *j)
{
    users_job *u = (users_job *)j;
    if (u->auth.refused)
        auth_refuse(r, &u->auth);
    else
        api_answer_send(r, &u->answer);
}

static void users_destroy(api_job *j)
{
    users_job *u = (users_job *)j;
    api_answer_free(&u->answer);
    json_decref(u->input);
    if (u->password) {
        sodium_memzero(u->password, strlen(u->password));
        free(u->password);
    }
    free(u->content_type);
    free(u->body);
    sodium_memzero(u, sizeof *u);
    free(u);
}

/* A job for this request: the session checked first (need), then step. */
static users_job *new_job(api *a, http_request *r, int need, int (*step)(api_job *, store *), int with_body)
{
    users_job *u = xcalloc(1, sizeof *u);
    auth_prepare(a, r, &u->auth, need, NULL);
    if (with_body) {
        const char *body = http_body_bytes(r, &u->len);
        u->body = xmalloc(u->len + 1);
        memcpy(u->body, body, u->len);
        u->content_type = xstrdup(http_header(r, "content-type"));
    }
    u->job.step = step;
    u->job.lane = API_LANE_DB;
    u->job.reply = users_reply;
    u->job.destroy = users_destroy;
    return u;
}

static int hash_step(api_job *j, store *s)
{
    (void)s;
    users_job *u = (users_job *)j;
    u->hash_failed = password_hash(u->password, u->hash, sizeof u->hash) != 0;
    sodium_memzero(u->password, strlen(u->password));
    j->step = u->after_hash;
    j->lane = API_LANE_DB;
    return API_NEXT;
}

/* Hashes u->password on the hash lane, then goes on with next on a
 * database thread. */
static int hash_then(users_job *u, int (*next)(api_job *, store *))
{
    u->after_hash = next;
    u->job.step = hash_step;
    u->job.lane = API_LANE_HASH;
    return API_NEXT;
}

static void audit_fill(store_audit *audit, const char *actor, const char *action, const store_user *before,
                       const store_user *after)
{
    snprintf(audit->action, sizeof audit->action, "%s", action);
    snprintf(audit->entity_type, sizeof audit->entity_type, "user");
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)(after ? after->id : before->id));
    audit->actor = xstrdup(actor);
    audit->entity_id = xstrdup(id);
    /* The JSON of a user never carries the password hash. */
    json_t *b = before ? api_user_json(before) : NULL, *af = after ? api_user_json(after) : NULL;
    audit->before_json = b ? json_dumps(b, JSON_COMPACT) : NULL;
    audit->after_json = af ? json_dumps(af, JSON_COMPACT) : NULL;
    json_decref(b);
    json_decref(af);
}

/* ---- GET /api/v1/users ---- */

static int list_users(api_job *j, store *s)
{
    users_job *u = (users_job *)j;
    if (auth_check(j->a, s, &u->auth) != 0)
        return API_DONE;
    store_user *users;
    size_t n;
    char err[256];
    if (store_user_list(s, &users, &n, err, sizeof err) != 0) {
        log_error("listing users failed: %s", err);
        api_answer_problem(&u->answer, 503, "Service Unavailable", "The users could not be read.");
        return API_DONE;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, api_user_json(&users[i]));
    sodium_memzero(users, n * sizeof *users);
    free(users);
    api_answer_json(&u->answer, 200, json_pack("{s:o}", "users", list));
    return API_DONE;
}

static int get_users(http_request *r, void *a)
{
    api_job_start(a, r, &new_job(a, r, AUTH_ADMIN, list_users, 0)->job);
    return 0;
}

/* ---- POST /api/v1/users ---- */

/* The audit entry of a new account, written in the same transaction. */
static int audit_create(const store_user *before, store_user *after, store_audit *audit, void *ctx)
{
    (void)before;
    users_job *u = ctx;
    audit_fill(audit, u->auth.session.user.username, "create", NULL, after);
    return 0;
}

static int create_user(api_job *j, store *s)
{
    users_job *u = (users_job *)j;
    if (u->hash_failed) {
        api_answer_problem(&u->answer, 503, "Service Unavailable", "The password could not be hashed.");
        return API_DONE;
    }
    store_user user;
    memset(&user, 0, sizeof user);
    json_t *admin = json_object_get(u->input, "is_admin");
    snprintf(user.username, sizeof user.username, "%s", json_string_value(json_object_get(u->input, "username")));
    snprintf(user.email, sizeof user.email, "%s", json_string_value(json_object_get(u->input, "email")));
    snprintf(user.password_hash, sizeof user.password_hash, "%s", u->hash);
    user.is_admin = admin && json_is_true(admin);
    char err[256];
    int rc = store_user_create(s, &user, audit_create, u, err, sizeof err);
    if (rc == MG_ERR_CONFLICT) {
        domain_errors errs = {0};
        domain_errors_add(&errs, "user", "username", "the username or email is already taken");
        api_answer_fields(&u->answer, 409, "Conflict", &errs);
        domain_errors_free(&errs);
        return API_DONE;
    }
    if (rc != 0) {
        log_error("creating a user failed: %s", err);
        api_answer_problem(&u->answer, 503, "Service Unavailable", "The user could not be created.");
        return API_DONE;
    }
    json_t *out = json_pack("{s:o}", "user", api_user_json(&user));
    if (u->generated[0])
        json_object_set_new(out, "password", json_string(u->generated));
    api_answer_json(&u->answer, 201, out);
    sodium_memzero(&user, sizeof user);
    return API_DONE;
}

static int check_new_user(api_job *j, store *s)
{
    users_job *u = (users_job *)j;
    if (auth_check(j->a, s, &u->auth) != 0)
        return API_DONE;
    if (!(u->input = api_json_parse(u->content_type, u->body, u->len, &u->answer)))
        return API_DONE;
    domain_errors errs = {0};
    json_t *pw = json_object_get(u->input, "password"), *admin = json_object_get(u->input, "is_admin");
    user_check_username(json_string_value(json_object_get(u->input, "username")), &errs);
    user_check_email(json_string_value(json_object_get(u->input, "email")), &errs);
    const char *password = json_string_value(pw);
    if (pw && !json_is_null(pw) && !password)
        domain_errors_add(&errs, "user", "password", "must be a string");
    if (password)
        user_check_password(password, &errs);
    if (admin && !json_is_boolean(admin))
        domain_errors_add(&errs, "user", "is_admin", "must be true or false");
    if (errs.count) {
        api_answer_fields(&u->answer, 400, "Bad Request", &errs);
        domain_errors_free(&errs);
        return API_DONE;
    }
    if (!password) {
        password_generate(u->generated, sizeof u->generated);
        password = u->generated;
    }
    u->password = xstrdup(password);
    json_object_del(u->input, "password");
    return hash_then(u, create_user);
}

static int post_user(http_request *r, void *a)
{
    api_job_start(a, r, &new_job(a, r, AUTH_ADMIN, check_new_user, 1)->job);
    return 0;
}

/* ---- PATCH /api/v1/users/{id} ---- */

/* Inside store_user_edit's transaction, with the account as it is now. */
static int apply_patch(const store_user *before, store_user *after, store_audit *audit, void *ctx)
{
    users_job *u = ctx;
    json_t *is_admin = json_object_get(u->input, "is_admin"), *disabled = json_object_get(u->input, "disabled");
    json_t *email = json_object_get(u->input, "email");
    if (before->id == u->auth.session.user.id &&
        ((is_admin && json_is_true(is_admin) != before->is_admin) || (disabled && json_is_true(disabled)))) {
        api_answer_problem(&u->answer, 403, "Forbidden",
                           "Nobody changes their own admin flag or disables their own account.");
        return MG_ERR_DECLINED;
    }
    if (is_admin)
        after->is_admin = json_is_true(is_admin);
    if (disabled)
        after->disabled = json_is_true(disabled);
    if (email)
        snprintf(after->email, sizeof after->email, "%s", json_string_value(email));
    if (u->hash[0])
        snprintf(after->password_hash, sizeof after->password_hash, "%s", u->hash);
    audit_fill(audit, u->auth.session.user.username, "update", before, after);
    return 0;
}

static int save_patch(api_job *j, store *s)
{
    users_job *u = (users_job *)j;
    if (u->hash_failed) {
        api_answer_problem(&u->answer, 503, "Service Unavailable", "The password could not be hashed.");
        return API_DONE;
    }
    store_user after;
    char err[256];
    int rc = store_user_edit(s, (int64_t)u->id, apply_patch, u, &after, err, sizeof err);
    if (rc == 0)
        api_answer_json(&u->answer, 200, json_pack("{s:o}", "user", api_user_json(&after)));
    else if (rc == MG_ERR_NOT_FOUND)
        api_answer_problem(&u->answer, 404, "Not Found", "There is no user with this id.");
    else if (rc == MG_ERR_CONFLICT)
        api_answer_problem(&u->answer, 409, "Conflict", err);
    else if (rc != MG_ERR_DECLINED) {
        log_error("saving a user failed: %s", err);
        api_answer_problem(&u->answer, 503, "Service Unavailable", "The user could not be saved.");
    }
    sodium_memzero(&after, sizeof after);
    return API_DONE;
}

static int check_patch(api_job *j, store *s)
{
    users_job *u = (users_job *)j;
    if (auth_check(j->a, s, &u->auth) != 0)
        return API_DONE;
    if (!(u->input = api_json_parse(u->content_type, u->body, u->len, &u->answer)))
        return API_DONE;
    json_t *is_admin = json_object_get(u->input, "is_admin"), *disabled = json_object_get(u->input, "disabled");
    json_t *email = json_object_get(u->input, "email"), *password = json_object_get(u->input, "password");
    domain_errors errs = {0};
    if (is_admin && !json_is_boolean(is_admin))
        domain_errors_add(&errs, "user", "is_admin", "must be true or false");
    if (disabled && !json_is_boolean(disabled))
        domain_errors_add(&errs, "user", "disabled", "must be true or false");
    if (email)
        user_check_email(json_string_value(email), &errs);
    if (password)
        user_check_password(json_string_value(password), &errs);
    if (errs.count) {
        api_answer_fields(&u->answer, 400, "Bad Request", &errs);
        domain_errors_free(&errs);
        return API_DONE;
    }
    if (!password)
        return save_patch(j, s);
    u->password = xstrdup(json_string_value(password));
    json_object_del(u->input, "password");
    return hash_then(u, save_patch);
}

static int patch_user(http_request *r, void *a)
{
    char *end;
    errno = 0;
    long long id = strtoll(r->params[0], &end, 10);
    if (*end || errno || id <= 0) {
        http_problem(r, 404, "Not Found", "There is no user with this id.", NULL);
        return 0;
    }
    users_job *u = new_job(a, r, AUTH_ADMIN, check_patch, 1);
    u->id = id;
    api_job_start(a, r, &u->job);
    return 0;
}

/* ---- GET /api/v1/audit ---- */

static json_t *parse_or_null(const char *text) { return text ? json_loads(text, 0, NULL) : json_null(); }

static int list_audit(api_job *j, store *s)
{
    users_job *u = (users_job *)j;
    if (auth_check(j->a, s, &u->auth) != 0)
        return API_DONE;
    store_audit *entries;
    size_t n;
    int64_t total;
    char err[256];
    if (store_audit_list(s, (u->page - 1) * u->per, u->per, &entries, &n, &total, err, sizeof err) != 0) {
        log_error("reading the audit log failed: %s", err);
        api_answer_problem(&u->answer, 503, "Service Unavailable", "The audit log could not be read.");
        return API_DONE;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        store_audit *e = &entries[i];
        json_array_append_new(list, json_pack("{s:I, s:s, s:s?, s:s, s:s, s:s, s:o, s:o}", "id", (json_int_t)e->id,
                                              "at", e->at, "actor", e->actor, "action", e->action, "entity_type",
                                              e->entity_type, "entity_id", e->entity_id ? e->entity_id : "", "before",
                                              parse_or_null(e->before_json), "after", parse_or_null(e->after_json)));
        store_audit_clear(e);
    }
    free(entries);
    api_answer_json(&u->answer, 200,
                    json_pack("{s:o, s:i, s:i, s:I}", "entries", list, "page", (int)u->page, "per_page", (int)u->per,
                              "total", (json_int_t)total));
    return API_DONE;
}

static int get_audit(http_request *r, void *a)
{
    const char *page_text = http_query(r, "page", NULL), *per_text = http_query(r, "per_page", NULL);
    long page = page_text ? strtol(page_text, NULL, 10) : 1, per = per_text ? strtol(per_text, NULL, 10) : 50;
    if (page < 1 || page > 1000000 || per < 1 || per > 200) {
        http_problem(r, 400, "Bad Request", "page must be at least 1 and per_page from 1 to 200.", NULL);
        return 0;
    }
    users_job *u = new_job(a, r, AUTH_ADMIN, list_audit, 0);
    u->page = page;
    u->per = per;
    api_job_start(a, r, &u->job);
    return 0;
}

/* ---- the admin application: one page, routed in the browser ---- */

static int check_admin_page(api_job *j, store *s)
{
    users_job *u = (users_job *)j;
    auth_check(j->a, s, &u->auth);
    return API_DONE;
}

static void admin_page_reply(http_request *r, api_job *j)
{
    users_job *u = (users_job *)j;
    const auth_ctx *auth = &u->auth;
    if (auth->refused) {
        auth_refuse(r, auth);
        return;
    }
    if (!auth->logged_in) {
        buf next = BUF_INIT;
        buf_puts(&next, "/login?next=");
        /* Percent-encode everything but unreserved characters and '/'. */
        for (const unsigned char *p = (const unsigned char *)http_path(r); *p; p++) {
            if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("/-._~", *p))
                buf_putc(&next, (char)*p);
            else
                buf_printf(&next, "%%%02X", *p);
        }
        http_redirect(r, 303, buf_cstr(&next));
        buf_free(&next);
        return;
    }
    buf out = BUF_INIT;
    if (!auth->session.user.is_admin) {
        const char *kv[] = {"USERNAME", auth->session.user.username, NULL};
        pages_render_template("forbidden.html", kv, &out);
        http_respond(r, 403, "text/html; charset=utf-8", buf_cstr(&out), out.len);
    } else {
        const char *kv[] = {"USERNAME", auth->session.user.username, "CSRF_TOKEN", auth->session.csrf_token, NULL};
        pages_render_template("admin.html", kv, &out);
        http_respond(r, 200, "text/html; charset=utf-8", buf_cstr(&out), out.len);
    }
    buf_free(&out);
}

static int get_admin_page(http_request *r, void *a)
{
    users_job *u = new_job(a, r, AUTH_ANYONE, check_admin_page, 0);
    u->job.reply = admin_page_reply;
    api_job_start(a, r, &u->job);
    return 0;
}

void api_register_users(http_router *rt, api *a)
{
    http_route(rt, "GET", "/api/v1/users", get_users, a);
    http_route(rt, "POST", "/api/v1/users", post_user, a);
    http_route(rt, "PATCH", "/api/v1/users/{id}", patch_user, a);
    http_route(rt, "GET", "/api/v1/audit", get_audit, a);
    static const char *const admin_pages[] = {"/admin",
                                              "/admin/genres/new",
                                              "/admin/genres/{id}/edit",
                                              "/admin/bands/new",
                                              "/admin/bands/{id}/edit",
                                              "/admin/users",
                                              "/admin/audit",
                                              NULL};
    for (size_t i = 0; admin_pages[i]; i++)
        http_route(rt, "GET", admin_pages[i], get_admin_page, a);
}
