/*
 * copy.c — `musicgraph copy`: a whole site from one database to another
 * (see copy.h).
 *
 * The order is what keeps the target safe: the source is opened read-only,
 * refused when a newer musicgraph wrote it, read in one read transaction
 * (store_dump: a picture of one instant while its server keeps running) and
 * checked against every rule, all before the target is opened. The target is
 * then read as it is, in whatever schema it has: holding a map, accounts or
 * an audit log, it is refused unless --replace says otherwise, before even
 * its migrations run. Then it is migrated and written in one transaction
 * (store_restore) that first checks nothing changed since it was read (a
 * server starting on it and seeding meanwhile): all of the source, or
 * nothing. With --replace the write is backup_restore's, the one `restore`
 * uses, safety backup of the target included.
 *
 * Sessions and login attempts are not copied, as a backup does not carry
 * them: a session is a bearer token of the old site, and a copy is the
 * moment a move cuts them (a cookie stolen there must not open the new
 * one); the old site goes on changing them until it is switched off, so a
 * copy of them would be stale anyway; and the accounts are written with
 * their ids, which store_restore does only after clearing both. Everybody
 * logs in once on the new site.
 */
#include "ops/copy.h"

#include "core/errors.h"
#include "mg_version.h"
#include "ops/backup.h"
#include "ops/backup_crypt.h"
#include "ops/backup_keys.h"
#include "ops/init_lock.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WHY 8192

const char cmd_copy_usage[] =
    "usage: musicgraph copy --from URL --to URL [--replace] [--no-safety-backup] [options]\n\n"
    "Copies a whole site — the map, the accounts with their password hashes, the\n"
    "audit log — from one database to another: SQLite to PostgreSQL, the reverse,\n"
    "or between two databases of one backend. URLs: sqlite:///path/musicgraph.db,\n"
    "postgresql://USER@HOST:PORT/DB (a password is better kept in ~/.pgpass or\n"
    "PGPASSWORD than on a command line other users can read).\n\n"
    "The source is opened read-only and read in one transaction (its server may\n"
    "keep running), and every data rule is checked before the target is touched.\n"
    "The target's migrations are applied as `migrate` does, then it is written in\n"
    "one transaction: afterwards it holds exactly the source, or on any failure\n"
    "what it held before. A target that holds data (a map, accounts or an audit\n"
    "log) is refused unless --replace is given. Sessions are not copied: everybody\n"
    "logs in again on the new site. A source written by a newer musicgraph is\n"
    "refused.\n\n"
    "  --from URL               the database to copy (not changed)\n"
    "  --to URL                 the database that becomes a copy of it\n"
    "  --replace                the target may hold data: it becomes exactly the\n"
    "                           source's (a safety backup of it is taken first,\n"
    "                           tagged pre-restore, into the backup directory)\n"
    "  --no-safety-backup       with --replace: do not take that backup\n";

static int holds_data(const store_dump_t *d) { return d->map.ngenres || d->map.nbands || d->nusers || d->naudit; }

/* "1025 genres, 8008 bands, 1 user and 0 audit entries" */
static void counts_text(const store_counts *c, char *out, size_t len)
{
    snprintf(out, len, "%lld genre%s, %lld band%s, %lld user%s and %lld audit entr%s", (long long)c->genres,
             c->genres == 1 ? "" : "s", (long long)c->bands, c->bands == 1 ? "" : "s", (long long)c->users,
             c->users == 1 ? "" : "s", (long long)c->audit_log, c->audit_log == 1 ? "y" : "ies");
}

/* Reads the whole source, read-only, into c (as if it came from a backup
 * file: its schema in the manifest) and checks every rule on it. */
static int read_source(const char *url, const char *name, backup_contents *c, char **keys, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    *keys = NULL;
    char why[WHY];
    store *s;
    if (store_open_readonly(url, &s, why, sizeof why) != 0) {
        snprintf(err, errlen, "cannot open the source: %s", why);
        return -1;
    }
    store_migration *list = NULL;
    size_t n = 0, unknown = 0;
    int rc = store_migrations(s, &list, &n, &unknown, why, sizeof why);
    if (rc != 0)
        snprintf(err, errlen, "cannot read the source, %s: %s", name, why);
    else if (unknown) {
        snprintf(err, errlen,
                 "the source, %s, was written by a newer musicgraph: it has %zu migration(s) this version (%s, schema "
                 "up to %s) does not know; copy with that version or a later one",
                 name, unknown, MG_VERSION, n ? list[n - 1].name : "none");
        rc = -1;
    } else if ((rc = store_dump(s, &c->dump, why, sizeof why)) != 0) {
        snprintf(err, errlen, "cannot read the source, %s: %s", name, why);
    } else if (!c->dump.schema_version[0]) {
        snprintf(err, errlen, "the source, %s, holds no musicgraph data (it has no schema): is the URL right?", name);
        rc = -1;
    } else if ((rc = store_backup_keys(s, keys, why, sizeof why)) == MG_ERR_NOT_FOUND) {
        rc = 0; /* a schema from before recorded keys */
    } else if (rc != 0) {
        snprintf(err, errlen, "cannot read the source's backup keys, %s: %s", name, why);
    }
    free(list);
    store_close(s);
    if (rc == 0) {
        c->has_manifest = 1;
        snprintf(c->manifest.schema_version, sizeof c->manifest.schema_version, "%s", c->dump.schema_version);
        c->manifest.counts = backup_counts(&c->dump);
        rc = backup_check_rules(&c->dump, why, sizeof why);
        if (rc != 0)
            snprintf(err, errlen, "the source, %s, cannot be copied: %s", name, why);
    }
    if (rc != 0) {
        backup_contents_free(c);
        free(*keys);
        *keys = NULL;
    }
    return rc == 0 ? 0 : -1;
}

/* The public keys that signed the source's backups ("KEY comment" a line)
 * recorded in the target too, so that the site's backups stay trusted
 * wherever its database lives. Keys only add trust in what this site
 * signed; they go in before the data. */
static int copy_keys(store *t, const char *keys, const char *name, char *err, size_t errlen)
{
    for (const char *p = keys; p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        char line[400], why[WHY];
        snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), p);
        char *space = strchr(line, ' ');
        if (space)
            *space = '\0';
        if (line[0] && store_backup_key_add(t, line, space ? space + 1 : "", why, sizeof why) != 0) {
            snprintf(err, errlen, "cannot record the source's backup keys in the target, %s: %s", name, why);
            return -1;
        }
        p = eol ? eol + 1 : p + n;
    }
    return 0;
}

/* The refusal of a target that holds data, with what it holds. */
static int refuse_target(const store_dump_t *d, const char *name, char *err, size_t errlen)
{
    char what[256];
    store_counts c = backup_counts(d);
    counts_text(&c, what, sizeof what);
    snprintf(err, errlen,
             "the target, %s, already holds data (%s): nothing was copied; check --to, or give --replace to make it "
             "exactly the source",
             name, what);
    return -1;
}

/* Migrates the target as `migrate` does: under the state directory's
 * initialization lock (PostgreSQL takes its advisory lock inside). */
static int migrate_target(store *t, const config *cfg, const char *name, char *err, size_t errlen)
{
    char why[WHY];
    int lock, applied;
    int rc = init_lock(cfg, &lock, why, sizeof why);
    if (rc == 0) {
        rc = store_migrate(t, &applied, why, sizeof why);
        init_unlock(lock);
    }
    if (rc != 0)
        snprintf(err, errlen, "cannot migrate the target, %s: %s", name, why);
    return rc == 0 ? 0 : -1;
}

/* Writes c into an empty target, in one transaction that checks the target
 * is still what it was read as (empty). */
static int write_new(store *t, const backup_contents *c, const char *name, char *err, size_t errlen)
{
    char why[WHY];
    store_dump_t current;
    if (store_dump(t, &current, why, sizeof why) != 0) {
        snprintf(err, errlen, "cannot read the target, %s: %s", name, why);
        return -1;
    }
    int rc = holds_data(&current) ? refuse_target(&current, name, err, errlen) : 0;
    if (rc == 0 && backup_check_schema(t, &c->manifest, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s", why);
        rc = -1;
    }
    if (rc == 0) {
        rc = store_restore(t, &c->dump, backup_parts(&c->dump), &current, NULL, why, sizeof why);
        if (rc == MG_ERR_CONFLICT && strncmp(why, "the data changed", 16) == 0)
            snprintf(err, errlen,
                     "the target, %s, changed while it was being written (is a server running on it?): nothing was "
                     "copied",
                     name);
        else if (rc != 0)
            snprintf(err, errlen, "cannot write the target, %s: nothing was copied: %s", name, why);
    }
    store_dump_free(&current);
    return rc == 0 ? 0 : -1;
}

/* Replaces whatever the target holds with c as `restore` does. */
static int write_replacing(store *t, const config *cfg, const copy_request *req, const backup_contents *c,
                           copy_result *res, char *err, size_t errlen)
{
    char why[WHY], dir[4096];
    backup_keys *keys = NULL;
    backup_crypt *crypt = NULL;
    int local = 0, rc = 0;
    if (req->safety && (backup_crypt_from_config(cfg, &crypt, &local, why, sizeof why) != 0 ||
                        backup_keys_load(cfg->state_dir, 1, &keys, why, sizeof why) != 0))
        rc = -1;
    backup_default_dir(cfg, dir, sizeof dir);
    if (rc == 0)
        rc = backup_restore(t, c, keys, local ? crypt : NULL, req->safety ? dir : NULL, res->safety_path,
                            sizeof res->safety_path, why, sizeof why);
    if (rc != 0)
        snprintf(err, errlen, "cannot write the target, %s: nothing was copied: %s", res->to, why);
    backup_keys_free(keys);
    backup_crypt_free(crypt);
    return rc;
}

int copy_site(const config *cfg, const copy_request *req, copy_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    store_describe(req->from, res->from, sizeof res->from);
    store_describe(req->to, res->to, sizeof res->to);
    if (strcmp(req->from, req->to) == 0 || strcmp(res->from, res->to) == 0) {
        snprintf(err, errlen, "--from and --to name the same database (%s)", res->from);
        return -1;
    }
    backup_contents c;
    char *keys;
    if (read_source(req->from, res->from, &c, &keys, err, errlen) != 0)
        return -1;
    char why[WHY];
    store *t;
    if (store_open(req->to, &t, why, sizeof why) != 0) {
        snprintf(err, errlen, "cannot open the target: %s", why);
        backup_contents_free(&c);
        free(keys);
        return -1;
    }
    /* Read before migrating: a target that must be refused is left as it was, schema included. */
    store_dump_t before;
    int rc = store_dump(t, &before, why, sizeof why);
    if (rc != 0) {
        snprintf(err, errlen, "cannot read the target, %s: %s", res->to, why);
    } else {
        if (!req->replace && holds_data(&before))
            rc = refuse_target(&before, res->to, err, errlen);
        store_dump_free(&before);
    }
    if (rc == 0)
        rc = migrate_target(t, cfg, res->to, err, errlen);
    if (rc == 0)
        rc = copy_keys(t, keys, res->to, err, errlen);
    if (rc == 0)
        rc = req->replace ? write_replacing(t, cfg, req, &c, res, err, errlen) : write_new(t, &c, res->to, err, errlen);
    if (rc == 0)
        res->counts = c.manifest.counts;
    store_close(t);
    backup_contents_free(&c);
    free(keys);
    return rc;
}

/* "--flag URL" or "--flag=URL" at argv[*i]: 1 taken, 0 not this flag, -1 missing value. */
static int url_flag(int argc, char **argv, int *i, const char *flag, const char **value)
{
    size_t n = strlen(flag);
    if (strncmp(argv[*i], flag, n) != 0 || (argv[*i][n] != '\0' && argv[*i][n] != '='))
        return 0;
    if (argv[*i][n] == '=') {
        *value = argv[*i] + n + 1;
        return 1;
    }
    if (*i + 1 >= argc)
        return -1;
    *value = argv[++*i];
    return 1;
}

int cmd_copy(config *cfg, int argc, char **argv)
{
    copy_request req = {NULL, NULL, 0, 1};
    for (int i = 1; i < argc; i++) {
        int r = 0;
        if (strcmp(argv[i], "--replace") == 0)
            req.replace = 1;
        else if (strcmp(argv[i], "--no-safety-backup") == 0)
            req.safety = 0;
        else if ((r = url_flag(argc, argv, &i, "--from", &req.from)) == 0 &&
                 (r = url_flag(argc, argv, &i, "--to", &req.to)) == 0)
            r = -2;
        if (r < 0) {
            fprintf(stderr, "musicgraph copy: %s '%s' (see musicgraph copy --help)\n",
                    r == -1 ? "this option needs a URL:" : "unexpected argument", argv[i]);
            return 2;
        }
    }
    if (!req.from || !req.to || !*req.from || !*req.to) {
        fprintf(stderr, "musicgraph copy: give the source and the target: --from URL --to URL (see musicgraph copy "
                        "--help)\n");
        return 2;
    }
    copy_result res;
    char err[WHY + 1024];
    if (copy_site(cfg, &req, &res, err, sizeof err) != 0) {
        fprintf(stderr, "musicgraph copy: %s\n", err);
        return 1;
    }
    char what[256];
    counts_text(&res.counts, what, sizeof what);
    printf("copied %s from %s to %s; sessions were not copied (everybody logs in again)\n", what, res.from, res.to);
    if (res.safety_path[0])
        printf("the data it replaced is in %s\n", res.safety_path);
    return 0;
}
