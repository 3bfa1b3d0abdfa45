/*
 * edit.c — the admin-only write API for genres and bands.
 *
 * Every write runs inside store_edit's transaction: the handler's function
 * gets the current map, applies the change to a copy, runs every data rule
 * on the result and either declines (with per-field errors, or the entries
 * that block a deletion) or commits with an audit entry. All of it runs on a
 * worker thread (api.h); the answer waits until the published snapshot
 * shows the change, so the response and every later read already show it.
 *
 * An update replaces the entity, except for the fields of dataset formats 2
 * and 3 (aliases, former_ids, region, defining; aliases, former_ids, country,
 * active_from, type) when the body leaves them out: an editor that predates
 * them must not erase them by saving a description.
 */
#include "api/api.h"
#include "api/auth.h"
#include "api/common.h"

#include "core/json.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "domain/codec.h"
#include "domain/rules.h"
#include "graph/snapshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum edit_kind { EDIT_GENRE, EDIT_BAND } edit_kind;
typedef enum edit_op { EDIT_CREATE, EDIT_UPDATE, EDIT_DELETE } edit_op;

/* The optional fields an update keeps when the body omits them. */
static const char *const kept_genre_fields[] = {"aliases", "former_ids", "region", "defining", NULL};
static const char *const kept_band_fields[] = {"aliases", "former_ids", "country", "active_from", "type", NULL};

typedef struct edit_ctx {
    edit_kind kind;
    edit_op op;
    unsigned omitted;   /* bit i: kept_*_fields[i] is absent from the body */
    const char *id;     /* target id (create: the new id) */
    const char *actor;  /* username */
    genre g;            /* input for genre create/update */
    band b;             /* input for band create/update */
    int status;         /* response status when declined: 400, 404, 409 */
    domain_errors errs; /* why it was declined */
    buf blockers;       /* 409 on delete: {"genres":[…],"bands":[…]} */
    buf unlinked;       /* delete: {"genres":[…],"bands":[…]} */
} edit_ctx;

static char *entity_json(edit_kind kind, const void *entity)
{
    buf out = BUF_INIT;
    json_writer w;
    jw_init(&w, &out);
    if (kind == EDIT_GENRE)
        codec_genre_json(&w, entity);
    else
        codec_band_json(&w, entity);
    return buf_steal(&out, NULL);
}

static void fill_audit(store_audit *audit, const edit_ctx *c, const void *before, const void *after)
{
    static const char *const actions[] = {"create", "update", "delete"};
    snprintf(audit->action, sizeof audit->action, "%s", actions[c->op]);
    snprintf(audit->entity_type, sizeof audit->entity_type, "%s", c->kind == EDIT_GENRE ? "genre" : "band");
    audit->actor = xstrdup(c->actor);
    audit->entity_id = xstrdup(c->id);
    audit->before_json = before ? entity_json(c->kind, before) : NULL;
    audit->after_json = after ? entity_json(c->kind, after) : NULL;
}

/* Keeps the errors that concern the edited entity under their own field;
 * errors about other entries name that entry in the message. */
static int check_rules(edit_ctx *c, const dataset *next)
{
    domain_errors all = {0};
    if (domain_check_dataset(next, &all) == 0)
        return 0;
    char self[80];
    snprintf(self, sizeof self, "%s %s", c->kind == EDIT_GENRE ? "genre" : "band", c->id);
    for (size_t i = 0; i < all.count; i++) {
        const domain_error *e = &all.items[i];
        if (strcmp(e->entry, self) == 0)
            domain_errors_add(&c->errs, self, e->field, "%s", e->message);
        else
            domain_errors_add(&c->errs, self, c->kind == EDIT_GENRE ? "parents" : "genres", "%s: %s", e->entry,
                              e->message);
    }
    domain_errors_free(&all);
    c->status = 400;
    return MG_ERR_DECLINED;
}

/* Removes value from a string array, returning 1 if it was there. */
static int remove_string(char **v, size_t *n, const char *value)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(v[i], value) == 0) {
            free(v[i]);
            memmove(&v[i], &v[i + 1], (*n - i - 1) * sizeof *v);
            (*n)--;
            return 1;
        }
    return 0;
}

static void refs_json(json_writer *w, const dataset *d, const char *const *ids, size_t n, int genres)
{
    jw_array_begin(w);
    for (size_t i = 0; i < n; i++) {
        const char *name = genres ? dataset_find_genre(d, ids[i])->name : dataset_find_band(d, ids[i])->name;
        jw_object_begin(w);
        jw_key(w, "id");
        jw_string(w, ids[i]);
        jw_key(w, "name");
        jw_string(w, name);
        jw_object_end(w);
    }
    jw_array_end(w);
}

static int delete_genre(edit_ctx *c, const dataset *cur, dataset *next, store_audit *audit)
{
    const char **bg, **bb;
    size_t nbg, nbb;
    if (domain_genre_delete_blockers(cur, c->id, &bg, &nbg, &bb, &nbb) != 0)
        return MG_ERR_DECLINED;
    if (nbg || nbb) {
        json_writer w;
        jw_init(&w, &c->blockers);
        jw_object_begin(&w);
        jw_key(&w, "genres");
        refs_json(&w, cur, bg, nbg, 1);
        jw_key(&w, "bands");
        refs_json(&w, cur, bb, nbb, 0);
        jw_object_end(&w);
        free(bg), free(bb);
        c->status = 409;
        return MG_ERR_DECLINED;
    }
    free(bg), free(bb);
    /* Secondary links to the genre go with it; the response lists them. */
    json_writer w;
    jw_init(&w, &c->unlinked);
    jw_object_begin(&w);
    jw_key(&w, "genres");
    jw_array_begin(&w);
    for (size_t i = 0; i < next->ngenres; i++) {
        genre *g = &next->genres[i];
        int unlinked = remove_string(g->parents, &g->nparents, c->id);
        for (size_t j = 0; j < g->nlinks;) {
            if (strcmp(g->links[j].to, c->id) == 0) {
                free(g->links[j].to);
                free(g->links[j].kind);
                memmove(&g->links[j], &g->links[j + 1], (g->nlinks - j - 1) * sizeof *g->links);
                g->nlinks--;
                unlinked = 1;
            } else {
                j++;
            }
        }
        if (unlinked && strcmp(g->id, c->id) != 0)
            jw_string(&w, g->id);
    }
    jw_array_end(&w);
    jw_key(&w, "bands");
    jw_array_begin(&w);
    for (size_t i = 0; i < next->nbands; i++)
        if (remove_string(next->bands[i].genres, &next->bands[i].ngenres, c->id))
            jw_string(&w, next->bands[i].id);
    jw_array_end(&w);
    jw_object_end(&w);
    genre *victim = dataset_find_genre(next, c->id);
    fill_audit(audit, c, victim, NULL);
    genre_clear(victim);
    size_t at = (size_t)(victim - next->genres);
    memmove(victim, victim + 1, (next->ngenres - at - 1) * sizeof *victim);
    next->ngenres--;
    return check_rules(c, next);
}

static int delete_band(edit_ctx *c, dataset *next, store_audit *audit)
{
    /* A band that defines genres leaves their lists; the response says which. */
    json_writer w;
    jw_init(&w, &c->unlinked);
    jw_object_begin(&w);
    jw_key(&w, "genres");
    jw_array_begin(&w);
    for (size_t i = 0; i < next->ngenres; i++)
        if (remove_string(next->genres[i].defining, &next->genres[i].ndefining, c->id))
            jw_string(&w, next->genres[i].id);
    jw_array_end(&w);
    jw_object_end(&w);
    band *victim = dataset_find_band(next, c->id);
    fill_audit(audit, c, victim, NULL);
    band_clear(victim);
    size_t at = (size_t)(victim - next->bands);
    memmove(victim, victim + 1, (next->nbands - at - 1) * sizeof *victim);
    next->nbands--;
    return 0;
}

static void take_list(char ***dst, size_t *ndst, char ***src, size_t *nsrc)
{
    *dst = *src, *ndst = *nsrc;
    *src = NULL, *nsrc = 0;
}

static void take_string(char **dst, char **src)
{
    *dst = *src;
    *src = NULL;
}

/* Moves the fields the update body omitted from the current entity (in
 * next, about to be replaced) to the input. */
static void keep_omitted(edit_ctx *c, void *current)
{
    if (c->kind == EDIT_GENRE) {
        genre *g = current;
        if (c->omitted & 1u)
            take_list(&c->g.aliases, &c->g.naliases, &g->aliases, &g->naliases);
        if (c->omitted & 2u)
            take_list(&c->g.former_ids, &c->g.nformer_ids, &g->former_ids, &g->nformer_ids);
        if (c->omitted & 4u)
            take_string(&c->g.region, &g->region);
        if (c->omitted & 8u)
            take_list(&c->g.defining, &c->g.ndefining, &g->defining, &g->ndefining);
    } else {
        band *b = current;
        if (c->omitted & 1u)
            take_list(&c->b.aliases, &c->b.naliases, &b->aliases, &b->naliases);
        if (c->omitted & 2u)
            take_list(&c->b.former_ids, &c->b.nformer_ids, &b->former_ids, &b->nformer_ids);
        if (c->omitted & 4u)
            take_string(&c->b.country, &b->country);
        if (c->omitted & 8u)
            c->b.active_from = b->active_from;
        if (c->omitted & 16u)
            c->b.type = b->type;
    }
}

/* Runs inside the write transaction (store_edit_fn). */
static int apply_edit(const dataset *cur, dataset *next, store_audit *audit, void *arg)
{
    edit_ctx *c = arg;
    int is_genre = c->kind == EDIT_GENRE;
    const void *existing = is_genre ? (void *)dataset_find_genre(cur, c->id) : (void *)dataset_find_band(cur, c->id);
    if (c->op == EDIT_CREATE && existing) {
        domain_errors_add(&c->errs, "", "id", "the id '%s' is already used by another %s", c->id,
                          is_genre ? "genre" : "band");
        c->status = 409;
        return MG_ERR_DECLINED;
    }
    if (c->op != EDIT_CREATE && !existing) {
        c->status = 404;
        return MG_ERR_DECLINED;
    }
    if (c->op == EDIT_DELETE)
        return is_genre ? delete_genre(c, cur, next, audit) : delete_band(c, next, audit);
    if (is_genre) {
        genre *slot = c->op == EDIT_CREATE ? dataset_add_genre(next) : dataset_find_genre(next, c->id);
        if (!slot)
            return MG_ERR_DECLINED;
        if (c->op == EDIT_UPDATE) {
            keep_omitted(c, slot);
            genre_clear(slot);
        }
        if (genre_copy(slot, &c->g) != 0)
            return MG_ERR_DECLINED;
        fill_audit(audit, c, existing, slot);
    } else {
        band *slot = c->op == EDIT_CREATE ? dataset_add_band(next) : dataset_find_band(next, c->id);
        if (!slot)
            return MG_ERR_DECLINED;
        if (c->op == EDIT_UPDATE) {
            keep_omitted(c, slot);
            band_clear(slot);
        }
        if (band_copy(slot, &c->b) != 0)
            return MG_ERR_DECLINED;
        fill_audit(audit, c, existing, slot);
    }
    return check_rules(c, next);
}

static void release_snapshot(void *s) { graph_release(s); }

/* An edit: the body is read, checked and written on a worker; the answer
 * waits until the snapshot shows the change. */
typedef struct edit_job {
    api_job job; /* first */
    auth_ctx auth;
    char *content_type, *body;
    size_t len;
    char *path_id; /* PUT and DELETE: the {id} of the path */
    edit_ctx c;
    api_answer answer; /* a refusal, or a deletion's report */
} edit_job;

/* Answers with the entity's detail document from the refreshed snapshot. */
static void send_entity(http_request *r, int status, edit_kind kind, const char *id)
{
    graph_snapshot *s = graph_acquire();
    size_t i;
    int found = s && (kind == EDIT_GENRE ? graph_find_genre(s, id, &i) : graph_find_band(s, id, &i));
    const graph_blob *b = !found ? NULL : kind == EDIT_GENRE ? graph_doc_genre(s, i) : graph_doc_band(s, i);
    if (!b) {
        graph_release(s);
        http_problem(r, 500, "Internal Server Error", "The change was saved but the map could not be refreshed.", NULL);
        return;
    }
    char location[128];
    snprintf(location, sizeof location, "/api/v1/%s/%s", kind == EDIT_GENRE ? "genres" : "bands", id);
    if (status == 201)
        http_add_header(r, "location", location);
    http_body body = {.data = b->data, .len = b->len};
    http_respond_body(r, status, API_JSON, HTTP_CACHE_NONE, &body, s, release_snapshot);
}

/* A create or update that committed but that the map cannot show yet (the
 * database went away right after the commit, so the snapshot cannot be
 * rebuilt): the change is saved, so it is acknowledged with its status, its
 * body the entity as saved (c's input, completed by apply_edit) rather than
 * the map's detail document; the map shows it once the database is back.
 * A 5xx here would have the client retry a write that is done. */
static void send_saved(http_request *r, const edit_ctx *c)
{
    char location[128];
    snprintf(location, sizeof location, "/api/v1/%s/%s", c->kind == EDIT_GENRE ? "genres" : "bands", c->id);
    if (c->op == EDIT_CREATE)
        http_add_header(r, "location", location);
    char *json = entity_json(c->kind, c->kind == EDIT_GENRE ? (const void *)&c->g : (const void *)&c->b);
    http_respond(r, c->op == EDIT_CREATE ? 201 : 200, API_JSON, json, strlen(json));
    free(json);
}

/* The body of a deletion's answer: what went with the genre. */
static void deleted_answer(edit_job *e)
{
    buf out = BUF_INIT;
    json_writer w;
    jw_init(&w, &out);
    jw_object_begin(&w);
    jw_key(&w, "deleted");
    jw_string(&w, e->c.id);
    if (e->c.unlinked.len) {
        jw_key(&w, "unlinked");
        jw_raw(&w, e->c.unlinked.data, e->c.unlinked.len);
    }
    jw_object_end(&w);
    e->answer.status = 200;
    e->answer.json = buf_steal(&out, NULL);
}

/* The answer to a write the store did not commit. */
static void declined_answer(edit_job *e, int rc, const char *err)
{
    edit_ctx *c = &e->c;
    if (rc == MG_ERR_DECLINED && c->status == 404) {
        api_answer_problem(&e->answer, 404, "Not Found",
                           c->kind == EDIT_GENRE ? "There is no genre with this id."
                                                 : "There is no band with this id.");
    } else if (rc == MG_ERR_DECLINED && c->status == 409 && c->blockers.len) {
        buf detail = BUF_INIT;
        buf_printf(&detail,
                   "The genre '%s' cannot be deleted: it is the primary parent of other genres or the "
                   "primary genre of bands (see blockers). Change those first.",
                   c->id);
        api_answer_problem(&e->answer, 409, "Conflict", buf_cstr(&detail));
        buf_free(&detail);
        e->answer.extra_key = "blockers";
        e->answer.extra = buf_steal(&c->blockers, NULL);
    } else if (rc == MG_ERR_DECLINED && c->errs.count) {
        api_answer_fields(&e->answer, c->status ? c->status : 400, c->status == 409 ? "Conflict" : "Bad Request",
                          &c->errs);
    } else if (rc == MG_ERR_CONFLICT) {
        api_answer_problem(&e->answer, 409, "Conflict", err);
    } else {
        log_error("a write failed: %s", rc == MG_ERR_DECLINED ? "out of memory" : err);
        api_answer_problem(&e->answer, 503, "Service Unavailable",
                           "The change could not be saved; nothing was changed.");
    }
}

/* Reads and checks the body of a create or update; on failure fills the
 * 400 answer. */
static int read_entity(edit_job *e)
{
    edit_ctx *c = &e->c;
    json_t *body = api_json_parse(e->content_type, e->body, e->len, &e->answer);
    if (!body)
        return -1;
    char entry[80];
    snprintf(entry, sizeof entry, "%s", c->kind == EDIT_GENRE ? "genre" : "band");
    int rc = c->kind == EDIT_GENRE ? codec_genre_from_json(body, &c->g, entry, &c->errs)
                                   : codec_band_from_json(body, &c->b, entry, &c->errs);
    const char *const *kept = c->kind == EDIT_GENRE ? kept_genre_fields : kept_band_fields;
    for (unsigned i = 0; kept[i]; i++)
        if (!json_object_get(body, kept[i]))
            c->omitted |= 1u << i;
    json_decref(body);
    char **id = c->kind == EDIT_GENRE ? &c->g.id : &c->b.id;
    const char *name = c->kind == EDIT_GENRE ? c->g.name : c->b.name;
    if (rc == 0 && e->path_id) {
        if (*id && strcmp(*id, e->path_id) != 0)
            domain_errors_add(&c->errs, entry, "id", "cannot be changed (delete and create instead)");
        free(*id);
        *id = xstrdup(e->path_id);
    } else if (rc == 0 && (!*id || !**id) && name) {
        char slug[DOMAIN_ID_MAX + 1];
        domain_slugify(name, slug, sizeof slug);
        free(*id);
        *id = slug[0] ? xstrdup(slug) : NULL;
        if (!*id)
            domain_errors_add(&c->errs, entry, "id", "cannot be derived from this name; give an id");
    }
    /* Without an id there is nothing to check against the map, and a list
     * over the bound is not worth a transaction: report the entity's own
     * rules now. Otherwise every rule, the entity's and the map's, is
     * checked at once inside the transaction (apply_edit). */
    size_t longest = c->kind == EDIT_GENRE ? (c->g.nparents > c->g.nlinks ? c->g.nparents : c->g.nlinks) : c->b.ngenres;
    if (rc == 0 && (c->errs.count || longest > DOMAIN_REFS_MAX)) {
        if (c->kind == EDIT_GENRE)
            domain_check_genre(&c->g, &c->errs);
        else
            domain_check_band(&c->b, &c->errs);
    }
    if (c->errs.count) {
        api_answer_fields(&e->answer, 400, "Bad Request", &c->errs);
        return -1;
    }
    c->id = *id;
    return 0;
}

static int edit_step(api_job *j, store *s)
{
    edit_job *e = (edit_job *)j;
    edit_ctx *c = &e->c;
    if (auth_check(j->a, s, &e->auth) != 0)
        return API_DONE;
    if (c->op == EDIT_DELETE)
        c->id = e->path_id;
    else if (read_entity(e) != 0)
        return API_DONE;
    char err[512];
    c->actor = e->auth.session.user.username;
    int rc = store_edit(s, apply_edit, c, err, sizeof err);
    if (rc != 0) {
        declined_answer(e, rc, err);
        return API_DONE;
    }
    j->acknowledged = 1;
    if (c->op == EDIT_DELETE)
        deleted_answer(e);
    /* Answer once the map shows the change: this version or a later one. */
    int64_t version;
    if (store_data_version(s, &version, err, sizeof err) == 0)
        j->show_version = version;
    else
        log_error("reading the data version after a write failed: %s", err);
    return API_DONE;
}

static void edit_reply(http_request *r, api_job *j)
{
    edit_job *e = (edit_job *)j;
    if (e->auth.refused)
        auth_refuse(r, &e->auth);
    else if (!j->acknowledged || e->c.op == EDIT_DELETE)
        api_answer_send(r, &e->answer);
    else if (!j->shown)
        send_saved(r, &e->c);
    else
        send_entity(r, e->c.op == EDIT_CREATE ? 201 : 200, e->c.kind, e->c.id);
}

static void edit_destroy(api_job *j)
{
    edit_job *e = (edit_job *)j;
    genre_clear(&e->c.g);
    band_clear(&e->c.b);
    domain_errors_free(&e->c.errs);
    buf_free(&e->c.blockers);
    buf_free(&e->c.unlinked);
    api_answer_free(&e->answer);
    free(e->content_type);
    free(e->body);
    free(e->path_id);
    free(e);
}

static int handle(http_request *r, api *a, edit_kind kind, edit_op op)
{
    edit_job *e = xcalloc(1, sizeof *e);
    auth_prepare(a, r, &e->auth, AUTH_ADMIN, NULL);
    e->c.kind = kind;
    e->c.op = op;
    if (op != EDIT_CREATE)
        e->path_id = xstrdup(r->params[0]);
    if (op != EDIT_DELETE) {
        /* Copied: the request's memory belongs to this loop. */
        const char *body = http_body_bytes(r, &e->len);
        e->body = xmalloc(e->len + 1);
        memcpy(e->body, body, e->len);
        e->content_type = xstrdup(http_header(r, "content-type"));
    }
    e->job.step = edit_step;
    e->job.lane = API_LANE_DB;
    e->job.reply = edit_reply;
    e->job.destroy = edit_destroy;
    api_job_start(a, r, &e->job);
    return 0;
}

static int post_genre(http_request *r, void *a) { return handle(r, a, EDIT_GENRE, EDIT_CREATE); }
static int put_genre(http_request *r, void *a) { return handle(r, a, EDIT_GENRE, EDIT_UPDATE); }
static int delete_genre_route(http_request *r, void *a) { return handle(r, a, EDIT_GENRE, EDIT_DELETE); }
static int post_band(http_request *r, void *a) { return handle(r, a, EDIT_BAND, EDIT_CREATE); }
static int put_band(http_request *r, void *a) { return handle(r, a, EDIT_BAND, EDIT_UPDATE); }
static int delete_band_route(http_request *r, void *a) { return handle(r, a, EDIT_BAND, EDIT_DELETE); }

void api_register_edit(http_router *rt, api *a)
{
    http_route(rt, "POST", "/api/v1/genres", post_genre, a);
    http_route(rt, "PUT", "/api/v1/genres/{id}", put_genre, a);
    http_route(rt, "DELETE", "/api/v1/genres/{id}", delete_genre_route, a);
    http_route(rt, "POST", "/api/v1/bands", post_band, a);
    http_route(rt, "PUT", "/api/v1/bands/{id}", put_band, a);
    http_route(rt, "DELETE", "/api/v1/bands/{id}", delete_band_route, a);
}
