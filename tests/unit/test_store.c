/*
 * test_store.c — unit tests of src/store with the SQLite backend, each test
 * on its own database file in a temporary directory.
 *
 * Covered: URL handling in store_open; migrations (applied once, listed
 * with their state, refused when the database was migrated with different
 * SQL or by a newer binary — tampering is done with sqlite3 directly, the
 * way an operator or a newer version would leave the file); replace_all and
 * load giving back the same map field by field, parent order included;
 * the data version counter; a replace_all that breaks a database constraint
 * (bypassing the domain rules) failing whole and leaving the previous map;
 * is_empty; the outcomes of edits and account writes (declined, conflict)
 * as the negative codes of core/errors.h; login attempts counted in order;
 * a change of a user writing only what it changes; restore refusing when
 * the data changed since it was read; reads failing mid-scan (a VFS that
 * fails on demand) ending in an error, never in a short map.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "faulty_vfs.h"
#include "fixtures.h"

#include "domain/model.h"
#include "domain/rules.h"
#include "store/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[256];

/* ---------------------------------------------------------------- helpers */

/* A map that exercises every column: multiple parents whose order is not
 * alphabetical, a secondary primary parent, links, NULL and set optionals. */
static void base_dataset(dataset *d)
{
    memset(d, 0, sizeof *d);
    add_genre(d, "rock", "Rock", GENRE_ROOT, "");
    add_genre(d, "metal", "Metal", GENRE_ROOT, "");
    genre *hr = add_genre(d, "hard-rock", "Hard rock", GENRE_INTERMEDIATE, "rock");
    hr->origin_year = 1965;
    genre *hm = add_genre(d, "heavy-metal", "Heavy metal", GENRE_INTERMEDIATE, "rock,metal,hard-rock");
    set_str(&hm->parent, "metal"); /* the primary is not the first parent */
    genre *t = add_genre(d, "thrash-metal", "Thrash metal", GENRE_LEAF, "heavy-metal");
    t->origin_year = 1981;
    set_str(&t->description, "Fast \"and\" loud.\nSecond paragraph \xe2\x80\x94 with \xc3\xbcmlauts.");
    add_link(t, "rock", "influence");
    add_link(t, "hard-rock", "influence");
    add_genre(d, "grunge", "Grunge", GENRE_LEAF, "rock");
    add_genre(d, "nwobhm", "NWOBHM", GENRE_LEAF, "heavy-metal,hard-rock");
    /* Adding entries moves the arrays: look the genres up again. */
    t = dataset_find_genre(d, "thrash-metal");
    hm = dataset_find_genre(d, "heavy-metal");
    set_list(&t->aliases, &t->naliases, "thrash,speed/thrash");
    set_list(&t->former_ids, &t->nformer_ids, "thrash,thrash-music");
    set_str(&t->region, "San Francisco Bay Area \xe2\x80\x94 United States");
    set_list(&t->defining, &t->ndefining, "motorhead,metallica"); /* not alphabetical */
    set_list(&hm->defining, &hm->ndefining, "motorhead");
    band *metallica = add_band(d, "metallica", "Metallica", "thrash-metal");
    set_str(&metallica->country, "US");
    metallica->active_from = 1981;
    add_band(d, "nirvana", "Nirvana", "grunge,rock");
    band *motorhead = add_band(d, "motorhead", "Mot\xc3\xb6rhead", "nwobhm,thrash-metal,hard-rock,rock");
    set_list(&motorhead->aliases, &motorhead->naliases, "Bastard,Lemmy and co");
    set_list(&motorhead->former_ids, &motorhead->nformer_ids, "bastard");
    set_str(&motorhead->country, "GB");
}

static void open_path(const char *path, store **s)
{
    char url[600], err[512] = "";
    snprintf(url, sizeof url, "sqlite://%s", path);
    if (store_open(url, s, err, sizeof err) != 0)
        fail_msg("store_open(%s): %s", url, err);
    assert_string_equal(store_backend(*s), "sqlite");
}

/* A fresh, migrated database; path receives its file name. */
static store *fresh_store(char *path, size_t pathlen)
{
    static int counter;
    snprintf(path, pathlen, "%s/db-%d.sqlite", tmpdir, ++counter);
    store *s;
    open_path(path, &s);
    int applied = 0;
    char err[512] = "";
    if (store_migrate(s, &applied, err, sizeof err) != 0)
        fail_msg("migrate: %s", err);
    assert_true(applied >= 1);
    return s;
}

static void sql(const char *path, const char *statement)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, statement, NULL, NULL, &msg) != SQLITE_OK) {
        char copy[300];
        snprintf(copy, sizeof copy, "%s", msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(db);
        fail_msg("%s: %s", statement, copy);
    }
    sqlite3_close(db);
}

static long long sql_int(const char *path, const char *query)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, query, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void assert_opt_string_equal(const char *a, const char *b)
{
    if (!a || !b)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

static void assert_same_list(char *const *a, size_t na, char *const *b, size_t nb)
{
    assert_int_equal(na, nb);
    for (size_t j = 0; j < na; j++)
        assert_string_equal(a[j], b[j]);
}

/* Same map: same entries (the store returns them by id), every field equal,
 * the order of parents, links and band genres preserved. */
static void assert_same_map(const dataset *want, const dataset *got)
{
    assert_int_equal(want->ngenres, got->ngenres);
    assert_int_equal(want->nbands, got->nbands);
    for (size_t i = 0; i < want->ngenres; i++) {
        const genre *x = &want->genres[i];
        const genre *y = dataset_find_genre(got, x->id);
        if (!y)
            fail_msg("genre %s is missing", x->id);
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->type, y->type);
        assert_opt_string_equal(x->parent, y->parent);
        assert_int_equal(x->nparents, y->nparents);
        for (size_t j = 0; j < x->nparents; j++)
            assert_string_equal(x->parents[j], y->parents[j]);
        assert_opt_string_equal(x->description, y->description);
        assert_int_equal(x->origin_year, y->origin_year);
        assert_int_equal(x->nlinks, y->nlinks);
        for (size_t j = 0; j < x->nlinks; j++) {
            assert_string_equal(x->links[j].to, y->links[j].to);
            assert_string_equal(x->links[j].kind, y->links[j].kind);
        }
        assert_same_list(x->aliases, x->naliases, y->aliases, y->naliases);
        assert_same_list(x->former_ids, x->nformer_ids, y->former_ids, y->nformer_ids);
        assert_opt_string_equal(x->region, y->region);
        assert_same_list(x->defining, x->ndefining, y->defining, y->ndefining);
    }
    for (size_t i = 0; i < want->nbands; i++) {
        const band *x = &want->bands[i];
        const band *y = dataset_find_band(got, x->id);
        if (!y)
            fail_msg("band %s is missing", x->id);
        assert_string_equal(x->name, y->name);
        assert_string_equal(x->primary_genre, y->primary_genre);
        assert_same_list(x->genres, x->ngenres, y->genres, y->ngenres);
        assert_same_list(x->aliases, x->naliases, y->aliases, y->naliases);
        assert_same_list(x->former_ids, x->nformer_ids, y->former_ids, y->nformer_ids);
        assert_opt_string_equal(x->country, y->country);
        assert_int_equal(x->active_from, y->active_from);
        assert_int_equal(x->type, y->type);
    }
}

static void replace_ok(store *s, const dataset *d)
{
    char err[512] = "";
    if (store_replace_all(s, d, err, sizeof err) != 0)
        fail_msg("replace_all: %s", err);
}

static void load_ok(store *s, dataset *d)
{
    char err[512] = "";
    if (store_load(s, d, NULL, err, sizeof err) != 0)
        fail_msg("load: %s", err);
}

static int64_t version_of(store *s)
{
    int64_t v = -1;
    char err[512] = "";
    if (store_data_version(s, &v, err, sizeof err) != 0)
        fail_msg("data_version: %s", err);
    return v;
}

static int empty_of(store *s)
{
    int empty = -1;
    char err[512] = "";
    if (store_is_empty(s, &empty, err, sizeof err) != 0)
        fail_msg("is_empty: %s", err);
    return empty;
}

/* ---------------------------------------------------------------- opening */

static void test_open_rejects_unusable_urls(void **state)
{
    (void)state;
    store *s = (store *)1;
    char err[512];
    err[0] = '\0';
    assert_int_not_equal(store_open("mysql://localhost/x", &s, err, sizeof err), 0);
    assert_null(s);
    assert_non_null(strstr(err, "unsupported database URL"));
    err[0] = '\0';
    assert_int_not_equal(store_open("sqlite://", &s, err, sizeof err), 0);
    assert_non_null(strstr(err, "names no file"));
    err[0] = '\0';
    assert_int_not_equal(store_open("sqlite:///nonexistent-dir/sub/x.db", &s, err, sizeof err), 0);
    assert_non_null(strstr(err, "/nonexistent-dir/sub/x.db"));
}

static void test_open_accepts_both_sqlite_url_forms(void **state)
{
    (void)state;
    char path[512], url[600], err[512] = "";
    store *s;
    snprintf(path, sizeof path, "%s/forms.sqlite", tmpdir);
    snprintf(url, sizeof url, "sqlite:%s", path); /* without "//" */
    assert_int_equal(store_open(url, &s, err, sizeof err), 0);
    store_close(s);
    assert_int_equal(access(path, F_OK), 0);
}

/* ---------------------------------------------------------------- migrations */

static void test_migrations_on_a_new_database_are_all_pending(void **state)
{
    (void)state;
    char path[512], err[512] = "";
    snprintf(path, sizeof path, "%s/pending.sqlite", tmpdir);
    store *s;
    open_path(path, &s);
    store_migration *list = NULL;
    size_t n = 0, unknown = 9;
    assert_int_equal(store_migrations(s, &list, &n, &unknown, err, sizeof err), 0);
    assert_true(n >= 1);
    assert_int_equal(unknown, 0);
    assert_string_equal(list[0].name, "0001_init");
    for (size_t i = 0; i < n; i++)
        assert_false(list[i].applied);
    free(list);
    store_close(s);
}

static void test_migrate_applies_every_migration_once(void **state)
{
    (void)state;
    char path[512], err[512] = "";
    snprintf(path, sizeof path, "%s/once.sqlite", tmpdir);
    store *s;
    open_path(path, &s);
    store_migration *list = NULL;
    size_t n = 0, unknown = 0;
    assert_int_equal(store_migrations(s, &list, &n, &unknown, err, sizeof err), 0);
    free(list);

    int applied = -1;
    assert_int_equal(store_migrate(s, &applied, err, sizeof err), 0);
    assert_int_equal(applied, (int)n);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM schema_migrations"), (long long)n);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM schema_migrations WHERE name = '0001_init'"), 1);

    /* The second run has nothing to do. */
    applied = -1;
    assert_int_equal(store_migrate(s, &applied, err, sizeof err), 0);
    assert_int_equal(applied, 0);
    store_close(s);

    /* Nor does a run from another connection (the next start of the server). */
    open_path(path, &s);
    applied = -1;
    assert_int_equal(store_migrate(s, &applied, err, sizeof err), 0);
    assert_int_equal(applied, 0);

    assert_int_equal(store_migrations(s, &list, &n, &unknown, err, sizeof err), 0);
    assert_int_equal(unknown, 0);
    for (size_t i = 0; i < n; i++) {
        assert_true(list[i].applied);
        assert_true(list[i].checksum_ok);
        assert_true(strlen(list[i].applied_at) >= 19); /* 2024-01-01T00:00:00Z */
    }
    free(list);
    store_close(s);
}

static void test_migrate_refuses_when_a_checksum_differs(void **state)
{
    (void)state;
    char path[512], err[512] = "";
    store *s = fresh_store(path, sizeof path);
    store_close(s);
    long long rows = sql_int(path, "SELECT count(*) FROM schema_migrations");
    sql(path, "UPDATE schema_migrations SET checksum = 'tampered' WHERE name = '0001_init'");

    open_path(path, &s);
    store_migration *list = NULL;
    size_t n = 0, unknown = 0;
    assert_int_equal(store_migrations(s, &list, &n, &unknown, err, sizeof err), 0);
    assert_true(list[0].applied);
    assert_false(list[0].checksum_ok);
    free(list);

    int applied = -1;
    err[0] = '\0';
    assert_int_not_equal(store_migrate(s, &applied, err, sizeof err), 0);
    assert_int_equal(applied, 0);
    assert_non_null(strstr(err, "0001_init"));
    assert_non_null(strstr(err, "different SQL"));
    store_close(s);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM schema_migrations"), rows);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM schema_migrations WHERE checksum = 'tampered'"), 1);
}

static void test_migrate_refuses_a_migration_it_does_not_know(void **state)
{
    (void)state;
    char path[512], err[512] = "";
    store *s = fresh_store(path, sizeof path);
    store_close(s);
    sql(path, "INSERT INTO schema_migrations (name, checksum, applied_at) "
              "VALUES ('9999_from_the_future', 'abc', '2099-01-01T00:00:00Z')");

    open_path(path, &s);
    store_migration *list = NULL;
    size_t n = 0, unknown = 0;
    assert_int_equal(store_migrations(s, &list, &n, &unknown, err, sizeof err), 0);
    assert_int_equal(unknown, 1);
    free(list);

    int applied = -1;
    err[0] = '\0';
    assert_int_not_equal(store_migrate(s, &applied, err, sizeof err), 0);
    assert_int_equal(applied, 0);
    assert_non_null(strstr(err, "does not know"));
    store_close(s);
}

static void test_migrate_refusal_applies_nothing_else(void **state)
{
    (void)state;
    /* A record with a problem and pending migrations: the refusal must come
     * before anything runs, so no table of any migration appears. */
    static const char *const records[] = {
        "INSERT INTO schema_migrations VALUES ('9999_from_the_future', 'abc', '2099-01-01T00:00:00Z')",
        "INSERT INTO schema_migrations VALUES ('0001_init', 'tampered', '2024-01-01T00:00:00Z')",
    };
    for (size_t i = 0; i < 2; i++) {
        char path[512], err[512] = "", setup[400];
        snprintf(path, sizeof path, "%s/refusal-%zu.sqlite", tmpdir, i);
        snprintf(setup, sizeof setup,
                 "CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, checksum TEXT NOT NULL, "
                 "applied_at TEXT NOT NULL); %s",
                 records[i]);
        sql(path, setup);
        store *s;
        open_path(path, &s);
        int applied = -1;
        assert_int_not_equal(store_migrate(s, &applied, err, sizeof err), 0);
        assert_int_equal(applied, 0);
        store_close(s);
        assert_int_equal(sql_int(path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                       "name <> 'schema_migrations'"),
                         0);
        assert_int_equal(sql_int(path, "SELECT count(*) FROM schema_migrations"), 1);
    }
}

/* ---------------------------------------------------------------- the map */

static void test_new_database_is_empty_at_version_zero(void **state)
{
    (void)state;
    char path[512];
    store *s = fresh_store(path, sizeof path);
    assert_int_equal(empty_of(s), 1);
    assert_int_equal(version_of(s), 0);
    dataset d;
    load_ok(s, &d);
    assert_int_equal(d.ngenres, 0);
    assert_int_equal(d.nbands, 0);
    dataset_free(&d);
    store_close(s);
}

static void test_replace_all_then_load_gives_the_same_map(void **state)
{
    (void)state;
    char path[512];
    store *s = fresh_store(path, sizeof path);
    dataset want, got;
    base_dataset(&want);
    replace_ok(s, &want);
    load_ok(s, &got);
    assert_same_map(&want, &got);
    /* The store gives genres in id order. */
    for (size_t i = 1; i < got.ngenres; i++)
        assert_true(strcmp(got.genres[i - 1].id, got.genres[i].id) < 0);
    assert_string_equal(dataset_find_genre(&got, "heavy-metal")->parents[0], "rock");
    assert_string_equal(dataset_find_genre(&got, "heavy-metal")->parent, "metal");
    assert_int_equal(empty_of(s), 0);
    dataset_free(&got);

    /* And what another connection reads is the same. */
    store *other;
    open_path(path, &other);
    load_ok(other, &got);
    assert_same_map(&want, &got);
    dataset_free(&got);
    store_close(other);

    dataset_free(&want);
    store_close(s);
}

static void test_replace_all_replaces_everything(void **state)
{
    (void)state;
    char path[512];
    store *s = fresh_store(path, sizeof path);
    dataset first, second, got;
    base_dataset(&first);
    replace_ok(s, &first);

    memset(&second, 0, sizeof second);
    add_genre(&second, "jazz", "Jazz", GENRE_ROOT, "");
    add_genre(&second, "bebop", "Bebop", GENRE_LEAF, "jazz");
    add_band(&second, "bird", "Charlie Parker", "bebop");
    replace_ok(s, &second);
    load_ok(s, &got);
    assert_same_map(&second, &got);
    assert_null(dataset_find_genre(&got, "rock"));
    dataset_free(&got);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM genre_parents"), 1);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM genre_links"), 0);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM band_genres"), 1);

    /* Replacing with nothing empties the map. */
    dataset none = {0};
    replace_ok(s, &none);
    assert_int_equal(empty_of(s), 1);
    load_ok(s, &got);
    assert_int_equal(got.ngenres + got.nbands, 0);
    dataset_free(&got);

    dataset_free(&first);
    dataset_free(&second);
    store_close(s);
}

static void test_data_version_increments_with_every_write(void **state)
{
    (void)state;
    char path[512];
    store *s = fresh_store(path, sizeof path);
    store *other;
    open_path(path, &other);
    dataset d;
    base_dataset(&d);
    assert_int_equal(version_of(s), 0);
    replace_ok(s, &d);
    assert_int_equal(version_of(s), 1);
    assert_int_equal(version_of(other), 1); /* visible across connections */
    replace_ok(other, &d);
    assert_int_equal(version_of(s), 2);
    replace_ok(s, &d);
    assert_int_equal(version_of(other), 3);
    dataset_free(&d);
    store_close(other);
    store_close(s);
}

/* One way to break a database constraint while passing C structures the
 * domain rules would refuse; applied to a copy of the base map. */
typedef void (*breaker)(dataset *d);

static void break_primary_genre_not_leaf(dataset *d) { add_band(d, "ac-dc", "AC/DC", "hard-rock"); }

static void break_missing_parent(dataset *d) { add_genre(d, "orphan", "Orphan", GENRE_LEAF, "no-such-genre"); }

static void break_missing_band_genre(dataset *d)
{
    band *b = add_band(d, "ghost", "Ghost", "grunge,no-such-genre");
    (void)b;
}

static void break_root_with_parent(dataset *d)
{
    add_genre(d, "new-root", "New root", GENRE_ROOT, "rock");
    set_str(&d->genres[d->ngenres - 1].parent, NULL);
}

static void break_primary_parent_not_among_parents(dataset *d)
{
    genre *g = dataset_find_genre(d, "grunge");
    set_str(&g->parent, "metal");
}

static void break_primary_genre_not_among_genres(dataset *d)
{
    set_str(&dataset_find_band(d, "nirvana")->primary_genre, "thrash-metal");
}

static void break_self_parent(dataset *d) { add_genre(d, "loop", "Loop", GENRE_INTERMEDIATE, "rock,loop"); }

static void break_bad_id(dataset *d) { add_genre(d, "Bad Id", "Bad", GENRE_LEAF, "rock"); }

static void break_long_name(dataset *d)
{
    char name[102];
    memset(name, 'n', 101);
    name[101] = '\0';
    set_str(&dataset_find_genre(d, "grunge")->name, name);
}

static void break_duplicate_id(dataset *d) { add_genre(d, "grunge", "Grunge twice", GENRE_LEAF, "rock"); }

static void break_year(dataset *d) { dataset_find_genre(d, "grunge")->origin_year = 3000; }

static void break_bad_type(dataset *d) { dataset_find_genre(d, "grunge")->type = GENRE_TYPE_INVALID; }

static void break_self_link(dataset *d) { add_link(dataset_find_genre(d, "grunge"), "grunge", "influence"); }

static void break_former_id_is_current(dataset *d)
{
    genre *g = dataset_find_genre(d, "grunge");
    set_list(&g->former_ids, &g->nformer_ids, "nwobhm");
}

static void break_former_id_twice(dataset *d)
{
    genre *g = dataset_find_genre(d, "grunge");
    set_list(&g->former_ids, &g->nformer_ids, "thrash");
}

static void break_band_former_id_is_current(dataset *d)
{
    band *b = dataset_find_band(d, "nirvana");
    set_list(&b->former_ids, &b->nformer_ids, "metallica");
}

static void break_six_defining(dataset *d)
{
    genre *g = dataset_find_genre(d, "rock");
    set_list(&g->defining, &g->ndefining, "b1,b2,b3,b4,b5,b6");
    for (int i = 1; i <= 6; i++) {
        char id[8];
        snprintf(id, sizeof id, "b%d", i);
        add_band(d, id, id, "grunge");
    }
}

static void break_defining_unknown_band(dataset *d)
{
    genre *g = dataset_find_genre(d, "grunge");
    set_list(&g->defining, &g->ndefining, "pearl-jam");
}

static void break_country_lowercase(dataset *d) { set_str(&dataset_find_band(d, "nirvana")->country, "us"); }

static void break_active_from(dataset *d) { dataset_find_band(d, "nirvana")->active_from = 999; }

static void break_long_alias(dataset *d)
{
    char alias[102];
    memset(alias, 'a', 101);
    alias[101] = '\0';
    band *b = dataset_find_band(d, "nirvana");
    set_list(&b->aliases, &b->naliases, alias);
}

static void test_replace_all_refused_by_a_constraint_changes_nothing(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        breaker fn;
    } cases[] = {
        {"band primary genre not a leaf", break_primary_genre_not_leaf},
        {"parent does not exist", break_missing_parent},
        {"band genre does not exist", break_missing_band_genre},
        {"root with a parent", break_root_with_parent},
        {"primary parent not among parents", break_primary_parent_not_among_parents},
        {"primary genre not among genres", break_primary_genre_not_among_genres},
        {"self parent", break_self_parent},
        {"id with capitals and a space", break_bad_id},
        {"name of 101 characters", break_long_name},
        {"duplicate genre id", break_duplicate_id},
        {"origin year 3000", break_year},
        {"invalid type", break_bad_type},
        {"self link", break_self_link},
        {"former id that is a current id", break_former_id_is_current},
        {"former id of two genres", break_former_id_twice},
        {"band former id that is a current id", break_band_former_id_is_current},
        {"six defining bands", break_six_defining},
        {"defining band that does not exist", break_defining_unknown_band},
        {"lowercase country code", break_country_lowercase},
        {"active from 999", break_active_from},
        {"alias of 101 characters", break_long_alias},
    };
    char path[512];
    store *s = fresh_store(path, sizeof path);
    dataset base;
    base_dataset(&base);
    replace_ok(s, &base);
    int64_t version = version_of(s);

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dataset bad, got;
        assert_int_equal(dataset_copy(&bad, &base), 0);
        cases[i].fn(&bad);
        char err[512] = "";
        int rc = store_replace_all(s, &bad, err, sizeof err);
        if (rc == 0)
            fail_msg("replace_all accepted: %s", cases[i].what);
        if (!err[0])
            fail_msg("no error message for: %s", cases[i].what);
        if (getenv("MG_TEST_VERBOSE"))
            print_message("%s -> %s\n", cases[i].what, err);
        /* All or nothing: the previous map is intact, the version unchanged. */
        load_ok(s, &got);
        assert_same_map(&base, &got);
        dataset_free(&got);
        assert_int_equal(version_of(s), version);
        dataset_free(&bad);
    }
    /* And the connection is still usable for a good write. */
    replace_ok(s, &base);
    assert_int_equal(version_of(s), version + 1);
    dataset_free(&base);
    store_close(s);
}

static void test_leaf_constraint_names_the_problem(void **state)
{
    (void)state;
    char path[512], err[512] = "";
    store *s = fresh_store(path, sizeof path);
    dataset d;
    base_dataset(&d);
    break_primary_genre_not_leaf(&d);
    assert_int_not_equal(store_replace_all(s, &d, err, sizeof err), 0);
    assert_non_null(strstr(err, "leaf"));
    assert_int_equal(empty_of(s), 1);
    assert_int_equal(version_of(s), 0);
    dataset_free(&d);
    store_close(s);
}

static char *repeat(const char *unit, size_t n)
{
    size_t ul = strlen(unit);
    char *s = malloc(ul * n + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * ul, unit, ul);
    s[ul * n] = '\0';
    return s;
}

static void test_database_accepts_everything_the_rules_accept(void **state)
{
    (void)state;
    /* The constraints are the second line of defence, not a stricter first
     * one: a map at every limit of the domain rules must be storable. */
    char path[512];
    store *s = fresh_store(path, sizeof path);
    dataset d;
    base_dataset(&d);
    genre *g = dataset_find_genre(&d, "grunge");
    g->origin_year = DOMAIN_YEAR_MIN;
    dataset_find_genre(&d, "rock")->origin_year = DOMAIN_YEAR_MAX;
    char *name = repeat("\xc3\xb6", DOMAIN_NAME_MAX); /* 100 characters, 200 bytes */
    set_str(&g->name, name);
    char *desc = repeat("\xc3\xa9", DOMAIN_DESCRIPTION_MAX);
    set_str(&g->description, desc);
    char *long_id = repeat("z", DOMAIN_ID_MAX);
    band *b = add_band(&d, long_id, name, "grunge");
    /* Every list at its longest, every optional at its limits. */
    b->aliases = calloc(DOMAIN_ALIASES_MAX, sizeof *b->aliases);
    for (int i = 0; i < DOMAIN_ALIASES_MAX; i++) {
        /* 100 characters each, all different: a letter and 99 times ö. */
        char *tail = repeat("\xc3\xb6", DOMAIN_NAME_MAX - 1);
        b->aliases[i] = malloc(strlen(tail) + 2);
        b->aliases[i][0] = "ABCDEFGHIJKLMNPQRSTUVWXYZ"[i]; /* no O: Oöö… folds like the name */
        strcpy(b->aliases[i] + 1, tail);
        free(tail);
    }
    b->naliases = DOMAIN_ALIASES_MAX;
    b->former_ids = calloc(DOMAIN_FORMER_IDS_MAX, sizeof *b->former_ids);
    for (int i = 0; i < DOMAIN_FORMER_IDS_MAX; i++) {
        b->former_ids[i] = repeat("y", DOMAIN_ID_MAX);
        b->former_ids[i][0] = (char)('a' + i);
    }
    b->nformer_ids = DOMAIN_FORMER_IDS_MAX;
    set_str(&b->country, "XK");
    b->active_from = DOMAIN_YEAR_MIN;
    dataset_find_band(&d, "nirvana")->active_from = DOMAIN_YEAR_MAX;
    set_str(&g->region, name);
    set_list(&g->defining, &g->ndefining, "nirvana");
    genre *rock = dataset_find_genre(&d, "rock");
    set_list(&rock->defining, &rock->ndefining, "nirvana,metallica,motorhead,nirvana-2,placeholder");
    set_str(&rock->defining[4], long_id);
    add_band(&d, "nirvana-2", "Nirvana (UK)", "grunge");
    domain_errors errs = {0};
    domain_check_dataset(&d, &errs);
    for (size_t i = 0; i < errs.count; i++)
        print_message("%s: %s: %s\n", errs.items[i].entry, errs.items[i].field, errs.items[i].message);
    assert_int_equal(errs.count, 0);
    domain_errors_free(&errs);
    replace_ok(s, &d);
    dataset got;
    load_ok(s, &got);
    assert_same_map(&d, &got);
    dataset_free(&got);
    free(name), free(desc), free(long_id);
    dataset_free(&d);
    store_close(s);
}

static void test_is_empty_counts_genres_and_bands(void **state)
{
    (void)state;
    char path[512];
    store *s = fresh_store(path, sizeof path);
    assert_int_equal(empty_of(s), 1);
    dataset d = {0};
    add_genre(&d, "solo", "Solo", GENRE_ROOT, "");
    replace_ok(s, &d);
    assert_int_equal(empty_of(s), 0);
    dataset_free(&d);
    store_close(s);
}

static void test_a_database_before_0003_loads_and_migrates_keeping_its_map(void **state)
{
    (void)state;
    /* A database last migrated by a version without 0003: the automatic
     * backup before migrating reads it with the old schema. */
    char path[512], err[512] = "";
    store *s = fresh_store(path, sizeof path);
    dataset d = {0};
    add_genre(&d, "rock", "Rock", GENRE_ROOT, "");
    add_genre(&d, "grunge", "Grunge", GENRE_LEAF, "rock");
    add_band(&d, "nirvana", "Nirvana", "grunge,rock");
    replace_ok(s, &d);
    store_close(s);
    sql(path, "DROP TABLE genre_aliases; DROP TABLE band_aliases; DROP TABLE genre_former_ids; "
              "DROP TABLE band_former_ids; DROP TABLE genre_defining; DROP TRIGGER IF EXISTS genres_id_not_former; "
              "DROP TRIGGER IF EXISTS bands_id_not_former; ALTER TABLE genres DROP COLUMN region; "
              "ALTER TABLE bands DROP COLUMN country; ALTER TABLE bands DROP COLUMN active_from; "
              "DROP TABLE acme_state; DROP TABLE backup_keys; ALTER TABLE bands DROP COLUMN type; "
              "DELETE FROM schema_migrations WHERE name IN ('0003_aliases', '0004_acme', '0005_backup_keys', "
              "'0006_band_types')");
    open_path(path, &s);
    dataset got;
    load_ok(s, &got);
    assert_same_map(&d, &got);
    dataset_free(&got);
    store_dump_t dump;
    assert_int_equal(store_dump(s, &dump, err, sizeof err), 0);
    assert_string_equal(dump.schema_version, "0002_accounts");
    assert_same_map(&d, &dump.map);
    store_dump_free(&dump);

    int applied = 0;
    assert_int_equal(store_migrate(s, &applied, err, sizeof err), 0);
    assert_int_equal(applied, 4);
    load_ok(s, &got);
    assert_same_map(&d, &got);
    dataset_free(&got);
    /* The new columns and tables now take the new fields. */
    set_str(&d.bands[0].country, "US");
    d.bands[0].active_from = 1987;
    d.bands[0].type = BAND_GROUP;
    set_list(&d.genres[1].defining, &d.genres[1].ndefining, "nirvana");
    replace_ok(s, &d);
    load_ok(s, &got);
    assert_same_map(&d, &got);
    dataset_free(&got);
    dataset_free(&d);
    store_close(s);
}

static int setup_group(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "%s/mg-test-store-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_group(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* store_edit_fn callbacks: decline, break a database constraint, add a band. */
static int decline(const dataset *current, dataset *next, store_audit *audit, void *ctx)
{
    (void)current, (void)next, (void)audit, (void)ctx;
    return MG_ERR_DECLINED;
}

static int edit_with(const dataset *current, dataset *next, store_audit *audit, void *ctx)
{
    (void)current, (void)audit;
    ((breaker)ctx)(next);
    return 0;
}

static void add_a_band(dataset *d) { add_band(d, "dri", "D.R.I.", "thrash-metal"); }

/* The outcomes callers tell apart are negative codes of core/errors.h. */
static void test_store_outcomes_follow_the_return_code_convention(void **state)
{
    (void)state;
    char path[512], err[512] = "";
    store *s = fresh_store(path, sizeof path);
    dataset base;
    base_dataset(&base);
    replace_ok(s, &base);
    int64_t version = version_of(s);
    assert_int_equal(store_edit(s, decline, NULL, err, sizeof err), MG_ERR_DECLINED);
    assert_int_equal(store_edit(s, edit_with, (void *)break_primary_genre_not_leaf, err, sizeof err), MG_ERR_CONFLICT);
    assert_true(err[0] != '\0');
    assert_int_equal(version_of(s), version);
    assert_int_equal(store_edit(s, edit_with, (void *)add_a_band, err, sizeof err), MG_OK);
    assert_int_equal(version_of(s), version + 1);
    store_user u;
    memset(&u, 0, sizeof u);
    snprintf(u.username, sizeof u.username, "ann");
    snprintf(u.email, sizeof u.email, "ann@example.org");
    snprintf(u.password_hash, sizeof u.password_hash, "not-a-real-hash");
    assert_int_equal(store_user_create(s, &u, NULL, NULL, err, sizeof err), MG_OK);
    assert_int_equal(store_user_create(s, &u, NULL, NULL, err, sizeof err), MG_ERR_CONFLICT);
    assert_string_equal(err, "the username or email is already taken");
    dataset_free(&base);
    store_close(s);
}

/* ---------------------------------------------------------- failing reads */

/* A map of a few hundred rows per table: its scans cross many pages. */
static void big_dataset(dataset *d)
{
    base_dataset(d);
    char id[32], name[64];
    for (int i = 0; i < 300; i++) {
        snprintf(id, sizeof id, "leaf-%03d", i);
        snprintf(name, sizeof name, "Leaf genre number %d with a longer name", i);
        add_genre(d, id, name, GENRE_LEAF, i % 2 ? "heavy-metal,hard-rock" : "hard-rock");
    }
    for (int i = 0; i < 1500; i++) {
        char band_id[32], genres[64];
        snprintf(band_id, sizeof band_id, "band-%04d", i);
        snprintf(name, sizeof name, "Band number %d of the failing-read test", i);
        snprintf(genres, sizeof genres, "leaf-%03d,leaf-%03d", i % 300, (i + 1) % 300);
        add_band(d, band_id, name, genres);
    }
}

/* store_load and store_dump, with a read failing anywhere in them, either
 * fail or give the whole map: never a part of it taken for the whole. */
static void test_a_read_error_mid_scan_is_an_error_not_a_short_map(void **state)
{
    (void)state;
    char path[512], err[512];
    store *s = fresh_store(path, sizeof path);
    dataset want;
    big_dataset(&want);
    replace_ok(s, &want);
    store_close(s);
    faulty_vfs_install();
    int failed = 0, whole = 0;
    for (int n = 1; n < 400; n += 3) {
        open_path(path, &s);
        dataset got;
        faulty_vfs_fail_from(n);
        int rc = store_load(s, &got, NULL, err, sizeof err);
        faulty_vfs_disarm();
        if (rc == 0) {
            whole++;
            assert_int_equal(got.ngenres, want.ngenres);
            assert_int_equal(got.nbands, want.nbands);
            size_t links = 0;
            for (size_t i = 0; i < got.nbands; i++)
                links += got.bands[i].ngenres;
            assert_int_equal(links, 2 * 1500 + 1 + 2 + 4);
            dataset_free(&got);
        } else {
            failed++;
            assert_non_null(strstr(err, "reading the map"));
        }
        store_close(s);

        open_path(path, &s);
        store_dump_t dump;
        faulty_vfs_fail_from(n);
        rc = store_dump(s, &dump, err, sizeof err);
        faulty_vfs_disarm();
        if (rc == 0) {
            assert_int_equal(dump.map.nbands, want.nbands);
            assert_int_equal(dump.counts.bands, (int64_t)want.nbands);
            store_dump_free(&dump);
        }
        store_close(s);
    }
    /* Both outcomes happened: the failure hit scans, and short loads ended too. */
    assert_true(failed > 10);
    assert_true(whole > 0);
    dataset_free(&want);
}

/* ---------------------------------------------------------- login attempts */

static void test_attempts_count_in_order_and_are_forgotten(void **state)
{
    (void)state;
    char path[512], err[512] = "";
    store *s = fresh_store(path, sizeof path);
    const char *keys[] = {"pair:ann|10.0.0.1", "user:ann"};
    int64_t first[2], second[2], count, oldest;
    assert_int_equal(store_attempts_add(s, keys, 2, 1000, 0, first, err, sizeof err), 0);
    assert_int_equal(store_attempts_add(s, keys, 2, 2000, 0, second, err, sizeof err), 0);
    assert_true(second[0] > first[0] && second[1] > first[1]);
    assert_int_equal(store_attempts_count(s, keys[0], 0, 0, &count, &oldest, err, sizeof err), 0);
    assert_int_equal(count, 2);
    assert_int_equal(oldest, 1000);
    /* Up to the first attempt's id: its place among the others. */
    assert_int_equal(store_attempts_count(s, keys[0], 0, first[0], &count, &oldest, err, sizeof err), 0);
    assert_int_equal(count, 1);
    /* The window: only attempts after since count. */
    assert_int_equal(store_attempts_count(s, keys[1], 1500, 0, &count, &oldest, err, sizeof err), 0);
    assert_int_equal(count, 1);
    assert_int_equal(oldest, 2000);
    /* A successful login forgets its own attempt, nothing else. */
    assert_int_equal(store_attempts_remove(s, second, 2, err, sizeof err), 0);
    assert_int_equal(store_attempts_count(s, keys[0], 0, 0, &count, &oldest, err, sizeof err), 0);
    assert_int_equal(count, 1);
    /* Adding forgets attempts older than the window. */
    int64_t third[1];
    assert_int_equal(store_attempts_add(s, keys, 1, 9000, 5000, third, err, sizeof err), 0);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM login_attempts"), 1);
    store_close(s);
}

/* ---------------------------------------------------------- users */

typedef struct user_change {
    const char *password_hash;
    int disabled; /* -1 unchanged */
} user_change;

static int change_user(const store_user *before, store_user *after, store_audit *audit, void *ctx)
{
    const user_change *c = ctx;
    (void)before;
    if (c->password_hash)
        snprintf(after->password_hash, sizeof after->password_hash, "%s", c->password_hash);
    if (c->disabled >= 0)
        after->disabled = c->disabled;
    snprintf(audit->action, sizeof audit->action, "update");
    snprintf(audit->entity_type, sizeof audit->entity_type, "user");
    audit->entity_id = strdup("x");
    return 0;
}

/* The lost update of issue 10: a password change that read the account
 * before another admin disabled it must not enable it again. */
static void test_a_user_edit_writes_only_what_it_changes(void **state)
{
    (void)state;
    char path[512], err[512] = "";
    store *s = fresh_store(path, sizeof path);
    store_user u;
    memset(&u, 0, sizeof u);
    snprintf(u.username, sizeof u.username, "ann");
    snprintf(u.email, sizeof u.email, "ann@example.org");
    snprintf(u.password_hash, sizeof u.password_hash, "old-hash");
    assert_int_equal(store_user_create(s, &u, NULL, NULL, err, sizeof err), 0);
    sql(path, "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at) "
              "VALUES ('t', 1, 'c', 0, 0, 9999999999)");
    /* Meanwhile, somebody else disabled the account (another connection). */
    sql(path, "UPDATE users SET disabled = 1 WHERE username = 'ann'");
    user_change password_only = {"new-hash", -1};
    store_user after;
    assert_int_equal(store_user_edit(s, u.id, change_user, &password_only, &after, err, sizeof err), 0);
    assert_string_equal(after.password_hash, "new-hash");
    assert_int_equal(sql_int(path, "SELECT disabled FROM users WHERE username = 'ann'"), 1);
    assert_int_equal(sql_int(path, "SELECT password_hash = 'new-hash' FROM users WHERE username = 'ann'"), 1);
    /* A new password ends the sessions; the audit entry is in the same transaction. */
    assert_int_equal(sql_int(path, "SELECT count(*) FROM sessions"), 0);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM audit_log WHERE entity_type = 'user'"), 1);
    assert_int_equal(store_user_edit(s, 999, change_user, &password_only, NULL, err, sizeof err), MG_ERR_NOT_FOUND);
    store_close(s);
}

/* ---------------------------------------------------------- restore guard */

static void test_restore_refuses_when_the_data_changed_since_it_was_read(void **state)
{
    (void)state;
    char path[512], err[512] = "";
    store *s = fresh_store(path, sizeof path);
    dataset base;
    base_dataset(&base);
    replace_ok(s, &base);
    store_dump_t read, replacement;
    assert_int_equal(store_dump(s, &read, err, sizeof err), 0);
    assert_int_equal(store_dump(s, &replacement, err, sizeof err), 0);
    /* Unchanged: the restore goes through. */
    assert_int_equal(store_restore(s, &replacement, STORE_RESTORE_ALL, &read, NULL, err, sizeof err), 0);
    store_dump_free(&read);
    assert_int_equal(store_dump(s, &read, err, sizeof err), 0);
    int64_t version = version_of(s);
    /* An account changed after the read (no data version bump): refused. */
    sql(path, "INSERT INTO users (username, email, password_hash) VALUES ('bob', 'bob@example.org', 'h')");
    assert_int_equal(store_restore(s, &replacement, STORE_RESTORE_ALL, &read, NULL, err, sizeof err), MG_ERR_CONFLICT);
    assert_non_null(strstr(err, "changed while this command ran"));
    assert_int_equal(version_of(s), version);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM users"), 1);
    /* The map changed: refused too. */
    store_dump_free(&read);
    assert_int_equal(store_dump(s, &read, err, sizeof err), 0);
    sql(path, "UPDATE data_version SET version = version + 1");
    assert_int_equal(store_restore(s, &replacement, STORE_RESTORE_ALL, &read, NULL, err, sizeof err), MG_ERR_CONFLICT);
    store_dump_free(&read);
    store_dump_free(&replacement);
    dataset_free(&base);
    store_close(s);
}

/* The public keys that signed backups (fixtures.h). */
static void test_backup_keys_are_recorded_once(void **state)
{
    (void)state;
    char path[512];
    store *s = fresh_store(path, sizeof path);
    check_backup_keys_recorded_once(s);
    store_close(s);
}

/* An account and its audit entry in one transaction (fixtures.h). */
static void test_a_user_is_created_with_its_audit_entry(void **state)
{
    (void)state;
    char path[512];
    store *s = fresh_store(path, sizeof path);
    check_user_created_with_its_audit(s);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_rejects_unusable_urls),
        cmocka_unit_test(test_open_accepts_both_sqlite_url_forms),
        cmocka_unit_test(test_migrations_on_a_new_database_are_all_pending),
        cmocka_unit_test(test_migrate_applies_every_migration_once),
        cmocka_unit_test(test_migrate_refuses_when_a_checksum_differs),
        cmocka_unit_test(test_migrate_refuses_a_migration_it_does_not_know),
        cmocka_unit_test(test_migrate_refusal_applies_nothing_else),
        cmocka_unit_test(test_new_database_is_empty_at_version_zero),
        cmocka_unit_test(test_replace_all_then_load_gives_the_same_map),
        cmocka_unit_test(test_replace_all_replaces_everything),
        cmocka_unit_test(test_data_version_increments_with_every_write),
        cmocka_unit_test(test_replace_all_refused_by_a_constraint_changes_nothing),
        cmocka_unit_test(test_leaf_constraint_names_the_problem),
        cmocka_unit_test(test_database_accepts_everything_the_rules_accept),
        cmocka_unit_test(test_is_empty_counts_genres_and_bands),
        cmocka_unit_test(test_a_database_before_0003_loads_and_migrates_keeping_its_map),
        cmocka_unit_test(test_store_outcomes_follow_the_return_code_convention),
        cmocka_unit_test(test_attempts_count_in_order_and_are_forgotten),
        cmocka_unit_test(test_a_user_edit_writes_only_what_it_changes),
        cmocka_unit_test(test_restore_refuses_when_the_data_changed_since_it_was_read),
        /* Last: it makes a failing VFS the default. */
        cmocka_unit_test(test_a_read_error_mid_scan_is_an_error_not_a_short_map),
        cmocka_unit_test(test_backup_keys_are_recorded_once),
        cmocka_unit_test(test_a_user_is_created_with_its_audit_entry),
    };
    return cmocka_run_group_tests_name("store", tests, setup_group, teardown_group) ? 1 : 0;
}
