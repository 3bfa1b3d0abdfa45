/*
 * test_postgres.c — unit tests of src/store with the PostgreSQL backend,
 * each test on its own database of the cluster MUSICGRAPH_TEST_PG names
 * (postgres://USER:PASSWORD@HOST:PORT, started by tests/run). Without it,
 * the tests that need a server are skipped (cmocka counts and names them).
 *
 * Covered: connection errors that name the database and never the
 * password (no server needed); migrations applied once, refused for a
 * newer schema with the version it needs, and for changed SQL; a map
 * written and read back field by field; a cycle refused by the database
 * when the domain rules are bypassed, leaving map and version as they were;
 * a connection killed by the server opened again by the next call,
 * with its prepared statements prepared anew; restored
 * users moving the id sequence; login attempts in order; the last admin.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fixtures.h"

#include "store/store.h"
#include "store/postgres_internal.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------- helpers */

static const char *cluster(void)
{
    const char *base = getenv("MUSICGRAPH_TEST_PG");
    return base && *base ? base : NULL;
}

#define NEEDS_CLUSTER()                                                                                                \
    do {                                                                                                               \
        if (!cluster())                                                                                                \
            skip();                                                                                                    \
    } while (0)

/* Runs statement on url as the cluster's superuser; returns the first value (malloc'd) or NULL. */
static char *admin(const char *url, const char *statement, int must_work)
{
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("connect %s: %s", url, PQerrorMessage(c));
    PGresult *r = PQexec(c, statement);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK;
    if (must_work && !ok)
        fail_msg("%s: %s", statement, PQerrorMessage(c));
    char *v = ok && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 ? strdup(PQgetvalue(r, 0, 0)) : NULL;
    PQclear(r);
    PQfinish(c);
    return v;
}

static long long admin_int(const char *url, const char *query)
{
    char *v = admin(url, query, 1);
    assert_non_null(v);
    long long n = atoll(v);
    free(v);
    return n;
}

/* A fresh database on the cluster; url receives its URL. */
static void fresh_database(char *url, size_t len)
{
    static int counter;
    char name[64], maint[512], create[128];
    snprintf(name, sizeof name, "mgunit_%d_%d", (int)getpid(), ++counter);
    snprintf(maint, sizeof maint, "%s/postgres", cluster());
    snprintf(create, sizeof create, "CREATE DATABASE %s", name);
    free(admin(maint, create, 1));
    snprintf(url, len, "%s/%s", cluster(), name);
}

static store *open_url(const char *url)
{
    char err[512] = "";
    store *s;
    if (store_open(url, &s, err, sizeof err) != 0)
        fail_msg("store_open: %s", err);
    assert_string_equal(store_backend(s), "postgresql");
    return s;
}

static store *fresh_store(char *url, size_t len)
{
    fresh_database(url, len);
    store *s = open_url(url);
    int applied = 0;
    char err[512] = "";
    if (store_migrate(s, &applied, err, sizeof err) != 0)
        fail_msg("migrate: %s", err);
    assert_int_equal(applied, 6);
    return s;
}

static void small_map(dataset *d)
{
    memset(d, 0, sizeof *d);
    add_genre(d, "rock", "Rock", GENRE_ROOT, "");
    add_genre(d, "metal", "Metal", GENRE_ROOT, "");
    genre *hm = add_genre(d, "heavy-metal", "Heavy metal", GENRE_INTERMEDIATE, "rock,metal");
    set_str(&hm->parent, "metal"); /* the primary is not the first parent */
    hm->origin_year = 1968;
    genre *t = add_genre(d, "thrash-metal", "Thrash metal", GENRE_LEAF, "heavy-metal");
    set_str(&t->description, "Fast \"and\" loud.\n\xc3\xbcmlauts");
    add_link(t, "rock", "influence");
    t = dataset_find_genre(d, "thrash-metal");
    set_list(&t->aliases, &t->naliases, "thrash,speed/thrash");
    set_list(&t->former_ids, &t->nformer_ids, "thrash-music");
    set_list(&t->defining, &t->ndefining, "metallica");
    band *m = add_band(d, "metallica", "Metallica", "thrash-metal");
    set_str(&m->country, "US");
    m->active_from = 1981;
    m->type = BAND_GROUP;
}

/* ------------------------------------------------------------------ tests */

static void test_connection_errors_name_the_database_never_the_password(void **state)
{
    (void)state;
    char err[1024] = "";
    store *s = NULL;
    assert_int_equal(store_open("postgres://ann:Secret-Pw-42@127.0.0.1:1/dbz", &s, err, sizeof err), -1);
    assert_null(s);
    assert_non_null(strstr(err, "database \"dbz\" on 127.0.0.1:1"));
    assert_null(strstr(err, "Secret-Pw"));
    assert_null(strchr(err, '\n'));
    /* A malformed URL: libpq quotes the bad part back; the password is scrubbed. */
    assert_int_equal(store_open("postgresql://ann:Pw%zzSecret@127.0.0.1:1/dbz", &s, err, sizeof err), -1);
    assert_null(strstr(err, "Secret"));
    assert_null(strstr(err, "%zz"));
}

static void test_migrations_run_once_and_refuse_a_newer_schema(void **state)
{
    (void)state;
    NEEDS_CLUSTER();
    char url[512], err[1024] = "";
    store *s = fresh_store(url, sizeof url);
    int applied = -1;
    assert_int_equal(store_migrate(s, &applied, err, sizeof err), 0);
    assert_int_equal(applied, 0);
    store_migration *list;
    size_t n, unknown;
    assert_int_equal(store_migrations(s, &list, &n, &unknown, err, sizeof err), 0);
    assert_int_equal(n, 6);
    assert_int_equal(unknown, 0);
    for (size_t i = 0; i < n; i++)
        assert_true(list[i].applied && list[i].checksum_ok);
    assert_string_equal(list[2].name, "0003_aliases");
    assert_string_equal(list[3].name, "0004_acme");
    assert_string_equal(list[4].name, "0005_backup_keys");
    assert_string_equal(list[5].name, "0006_band_types");
    free(list);
    free(admin(url, "INSERT INTO schema_migrations VALUES ('0042_later', 'x', '2030-01-01T00:00:00Z', '7.1.0')", 1));
    assert_int_equal(store_migrate(s, &applied, err, sizeof err), -1);
    assert_non_null(strstr(err, "0042_later"));
    assert_non_null(strstr(err, "run musicgraph 7.1.0 or newer"));
    free(admin(url, "DELETE FROM schema_migrations WHERE name = '0042_later'", 1));
    free(admin(url, "UPDATE schema_migrations SET checksum = 'tampered' WHERE name = '0002_accounts'", 1));
    assert_int_equal(store_migrate(s, &applied, err, sizeof err), -1);
    assert_non_null(strstr(err, "0002_accounts was applied with different SQL"));
    store_close(s);
}

static void test_a_map_written_reads_back_the_same(void **state)
{
    (void)state;
    NEEDS_CLUSTER();
    char url[512], err[1024] = "";
    store *s = fresh_store(url, sizeof url);
    dataset d, back;
    small_map(&d);
    int64_t v0, v1;
    assert_int_equal(store_data_version(s, &v0, err, sizeof err), 0);
    assert_int_equal(store_replace_all(s, &d, err, sizeof err), 0);
    assert_int_equal(store_load(s, &back, &v1, err, sizeof err), 0);
    assert_int_equal(v1, v0 + 1);
    assert_int_equal(back.ngenres, 4);
    assert_int_equal(back.nbands, 1);
    const genre *hm = dataset_find_genre(&back, "heavy-metal");
    assert_string_equal(hm->parent, "metal");
    assert_int_equal(hm->nparents, 2);
    assert_string_equal(hm->parents[0], "rock"); /* position order, not alphabetical */
    assert_int_equal(hm->origin_year, 1968);
    assert_null(hm->description);
    const genre *t = dataset_find_genre(&back, "thrash-metal");
    assert_string_equal(t->description, "Fast \"and\" loud.\n\xc3\xbcmlauts");
    assert_int_equal(t->nlinks, 1);
    assert_string_equal(t->links[0].to, "rock");
    assert_int_equal(t->naliases, 2);
    assert_string_equal(t->aliases[1], "speed/thrash");
    assert_string_equal(t->former_ids[0], "thrash-music");
    assert_string_equal(t->defining[0], "metallica");
    const band *m = dataset_find_band(&back, "metallica");
    assert_string_equal(m->country, "US");
    assert_int_equal(m->active_from, 1981);
    assert_int_equal(m->type, BAND_GROUP);
    int empty = 1;
    assert_int_equal(store_is_empty(s, &empty, err, sizeof err), 0);
    assert_int_equal(empty, 0);
    dataset_free(&d);
    dataset_free(&back);
    store_close(s);
}

/* An edit that skips the domain rules: heavy-metal under its own child. */
static int make_cycle(const dataset *current, dataset *next, store_audit *audit, void *ctx)
{
    (void)current, (void)audit, (void)ctx;
    genre *hm = dataset_find_genre(next, "heavy-metal");
    set_list(&hm->parents, &hm->nparents, "rock,metal,thrash-metal");
    return 0;
}

static int make_root_parented(const dataset *current, dataset *next, store_audit *audit, void *ctx)
{
    (void)current, (void)audit, (void)ctx;
    genre *rock = dataset_find_genre(next, "rock");
    set_list(&rock->parents, &rock->nparents, "metal");
    return 0;
}

static void test_the_database_refuses_a_cycle_when_the_rules_are_bypassed(void **state)
{
    (void)state;
    NEEDS_CLUSTER();
    char url[512], err[1024] = "";
    store *s = fresh_store(url, sizeof url);
    dataset d;
    small_map(&d);
    assert_int_equal(store_replace_all(s, &d, err, sizeof err), 0);
    int64_t before, after;
    assert_int_equal(store_data_version(s, &before, err, sizeof err), 0);
    assert_int_equal(store_edit(s, make_cycle, NULL, err, sizeof err), MG_ERR_CONFLICT);
    assert_non_null(strstr(err, "own ancestor"));
    assert_int_equal(store_edit(s, make_root_parented, NULL, err, sizeof err), MG_ERR_CONFLICT);
    assert_non_null(strstr(err, "root genre has no parents"));
    assert_int_equal(store_data_version(s, &after, err, sizeof err), 0);
    assert_int_equal(after, before);
    assert_int_equal(admin_int(url, "SELECT count(*) FROM genre_parents WHERE genre_id = 'heavy-metal'"), 2);
    dataset_free(&d);
    store_close(s);
}

static void test_a_connection_the_server_ended_is_opened_again(void **state)
{
    (void)state;
    NEEDS_CLUSTER();
    char url[512], err[1024] = "";
    store *s = fresh_store(url, sizeof url);
    int64_t v;
    assert_int_equal(store_data_version(s, &v, err, sizeof err), 0);
    assert_int_equal(admin_int(url, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                    "WHERE application_name = 'musicgraph' AND datname = current_database()"),
                     1);
    /* The call that finds the connection gone fails, saying so; the next one reconnects. */
    int rc = store_data_version(s, &v, err, sizeof err);
    if (rc != 0)
        assert_non_null(strstr(err, "connection"));
    assert_int_equal(store_data_version(s, &v, err, sizeof err), 0);
    store_close(s);
}

/* Statements with parameters are prepared once per connection and run by
 * name; a connection opened again prepares them anew (its session knows
 * none of the old names). */
static void test_statements_are_prepared_once_and_again_after_a_reconnect(void **state)
{
    (void)state;
    NEEDS_CLUSTER();
    char url[512], err[1024] = "";
    store *s = fresh_store(url, sizeof url);
    store_user u;
    int found = -1;
    int64_t prepared_before, prepared_after;
    assert_int_equal(
        pg_int(pg(s), "SELECT count(*) FROM pg_prepared_statements", 0, NULL, &prepared_before, err, sizeof err), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(store_user_by_name(s, "nobody", &u, &found, err, sizeof err), 0);
        assert_int_equal(found, 0);
    }
    assert_int_equal(
        pg_int(pg(s), "SELECT count(*) FROM pg_prepared_statements", 0, NULL, &prepared_after, err, sizeof err), 0);
    assert_int_equal(prepared_after, prepared_before + 1);
    assert_int_equal(admin_int(url, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                    "WHERE application_name = 'musicgraph' AND datname = current_database()"),
                     1);
    if (store_user_by_name(s, "nobody", &u, &found, err, sizeof err) != 0)
        assert_non_null(strstr(err, "connection"));
    err[0] = '\0';
    assert_int_equal(store_user_by_name(s, "nobody", &u, &found, err, sizeof err), 0);
    assert_string_equal(err, "");
    store_close(s);
}

static void test_restored_users_move_the_id_sequence(void **state)
{
    (void)state;
    NEEDS_CLUSTER();
    char url[512], err[1024] = "";
    store *s = fresh_store(url, sizeof url);
    store_dump_t d;
    memset(&d, 0, sizeof d);
    store_user users[2];
    memset(users, 0, sizeof users);
    for (int i = 0; i < 2; i++) {
        users[i].id = i == 0 ? 5 : 7;
        snprintf(users[i].username, sizeof users[i].username, "user%d", i);
        snprintf(users[i].email, sizeof users[i].email, "u%d@example.org", i);
        snprintf(users[i].password_hash, sizeof users[i].password_hash, "h");
        snprintf(users[i].created_at, sizeof users[i].created_at, "2024-01-01T00:00:00Z");
    }
    users[0].is_admin = 1;
    d.users = users;
    d.nusers = 2;
    d.has_users = 1;
    assert_int_equal(store_restore(s, &d, STORE_RESTORE_USERS, NULL, NULL, err, sizeof err), 0);
    store_user u;
    memset(&u, 0, sizeof u);
    snprintf(u.username, sizeof u.username, "newer");
    snprintf(u.email, sizeof u.email, "newer@example.org");
    snprintf(u.password_hash, sizeof u.password_hash, "h");
    assert_int_equal(store_user_create(s, &u, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(u.id, 8);
    /* Emails are unique whatever their case, as in SQLite. */
    snprintf(u.username, sizeof u.username, "other");
    snprintf(u.email, sizeof u.email, "NEWER@example.org");
    assert_int_equal(store_user_create(s, &u, NULL, NULL, err, sizeof err), MG_ERR_CONFLICT);
    store_close(s);
}

static int demote(const store_user *before, store_user *after, store_audit *audit, void *ctx)
{
    (void)before, (void)audit, (void)ctx;
    after->is_admin = 0;
    return 0;
}

static void test_the_last_admin_stays_and_attempts_count_in_order(void **state)
{
    (void)state;
    NEEDS_CLUSTER();
    char url[512], err[1024] = "";
    store *s = fresh_store(url, sizeof url);
    store_user u;
    memset(&u, 0, sizeof u);
    snprintf(u.username, sizeof u.username, "boss");
    snprintf(u.email, sizeof u.email, "boss@example.org");
    snprintf(u.password_hash, sizeof u.password_hash, "h");
    u.is_admin = 1;
    assert_int_equal(store_user_create(s, &u, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(store_user_edit(s, u.id, demote, NULL, NULL, err, sizeof err), MG_ERR_CONFLICT);
    assert_string_equal(err, "the last admin cannot be demoted or disabled");
    int64_t admins;
    assert_int_equal(store_admin_count(s, &admins, err, sizeof err), 0);
    assert_int_equal(admins, 1);

    const char *keys[] = {"user:ann", "pair:ann|10.0.0.1"};
    int64_t first[2], second[2], count, oldest;
    assert_int_equal(store_attempts_add(s, keys, 2, 1000, 0, first, err, sizeof err), 0);
    assert_int_equal(store_attempts_add(s, keys, 2, 2000, 0, second, err, sizeof err), 0);
    assert_true(second[0] > first[0] && second[1] > first[1]);
    assert_int_equal(store_attempts_count(s, keys[0], 0, first[0], &count, &oldest, err, sizeof err), 0);
    assert_int_equal(count, 1);
    assert_int_equal(store_attempts_count(s, keys[1], 1500, 0, &count, &oldest, err, sizeof err), 0);
    assert_int_equal(count, 1);
    assert_int_equal(oldest, 2000);
    assert_int_equal(store_attempts_remove(s, second, 2, err, sizeof err), 0);
    assert_int_equal(store_attempts_count(s, keys[0], 0, 0, &count, &oldest, err, sizeof err), 0);
    assert_int_equal(count, 1);
    store_close(s);
}

/* A whole map goes in with COPY (postgres_copy.c): every character a text
 * can hold comes back as it was, and the database's own rules still refuse
 * a map that breaks them, leaving the old one. */
static void test_a_whole_map_written_with_copy_keeps_text_and_rules(void **state)
{
    (void)state;
    NEEDS_CLUSTER();
    char url[512], err[1024] = "";
    store *s = fresh_store(url, sizeof url);
    dataset d, back;
    small_map(&d);
    const char *text = "tab\there, back\\slash \\N, CR\r, LF\n, \\t literally, ümlauts";
    genre *t = dataset_find_genre(&d, "thrash-metal");
    set_str(&t->description, text);
    set_str(&t->region, "Bay\tArea\\");
    assert_int_equal(store_replace_all(s, &d, err, sizeof err), 0);
    int64_t v;
    assert_int_equal(store_load(s, &back, &v, err, sizeof err), 0);
    assert_string_equal(dataset_find_genre(&back, "thrash-metal")->description, text);
    assert_string_equal(dataset_find_genre(&back, "thrash-metal")->region, "Bay\tArea\\");
    assert_null(dataset_find_genre(&back, "rock")->region);
    dataset_free(&back);
    /* The domain rules bypassed: a cycle, written whole. */
    genre *hm = dataset_find_genre(&d, "heavy-metal");
    set_list(&hm->parents, &hm->nparents, "rock,metal,thrash-metal");
    assert_int_equal(store_replace_all(s, &d, err, sizeof err), MG_ERR_CONFLICT);
    assert_non_null(strstr(err, "own ancestor"));
    assert_int_equal(admin_int(url, "SELECT count(*) FROM genre_parents WHERE genre_id = 'heavy-metal'"), 2);
    dataset_free(&d);
    store_close(s);
}

/* The public keys that signed backups (fixtures.h). */
static void test_backup_keys_are_recorded_once(void **state)
{
    (void)state;
    NEEDS_CLUSTER();
    char url[512];
    store *s = fresh_store(url, sizeof url);
    check_backup_keys_recorded_once(s);
    store_close(s);
}

/* An account and its audit entry in one transaction (fixtures.h). */
static void test_a_user_is_created_with_its_audit_entry(void **state)
{
    (void)state;
    NEEDS_CLUSTER();
    char url[512];
    store *s = fresh_store(url, sizeof url);
    check_user_created_with_its_audit(s);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connection_errors_name_the_database_never_the_password),
        cmocka_unit_test(test_migrations_run_once_and_refuse_a_newer_schema),
        cmocka_unit_test(test_a_map_written_reads_back_the_same),
        cmocka_unit_test(test_the_database_refuses_a_cycle_when_the_rules_are_bypassed),
        cmocka_unit_test(test_a_connection_the_server_ended_is_opened_again),
        cmocka_unit_test(test_statements_are_prepared_once_and_again_after_a_reconnect),
        cmocka_unit_test(test_restored_users_move_the_id_sequence),
        cmocka_unit_test(test_the_last_admin_stays_and_attempts_count_in_order),
        cmocka_unit_test(test_a_whole_map_written_with_copy_keeps_text_and_rules),
        cmocka_unit_test(test_backup_keys_are_recorded_once),
        cmocka_unit_test(test_a_user_is_created_with_its_audit_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
