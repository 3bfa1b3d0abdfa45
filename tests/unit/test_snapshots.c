/*
 * test_snapshots.c — the snapshot publisher of src/server/snapshots.h: a
 * write is shown once a snapshot of its version is published; a rebuild
 * that fails (reads failing under it, as a busy or broken disk makes them)
 * is retried with backoff until one works, without a new write to prompt
 * it; writes still waiting after five failures are told, and rebuilding
 * goes on. Reads fail through the faulty VFS (faulty_vfs.h). No timing is
 * asserted: the tests wait for outcomes, bounded by a generous deadline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "faulty_vfs.h"
#include "fixtures.h"

#include "api/pages.h"
#include "graph/snapshot.h"
#include "server/snapshots.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];

static int setup_group(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "%s/mg-test-snapshots-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    char err[256];
    return mkdtemp(tmpdir) && pages_init(err, sizeof err) == 0 ? 0 : -1;
}

static int teardown_group(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void small_map(dataset *d)
{
    memset(d, 0, sizeof *d);
    add_genre(d, "metal", "Metal", GENRE_ROOT, "");
    add_genre(d, "heavy-metal", "Heavy metal", GENRE_INTERMEDIATE, "metal");
    add_genre(d, "thrash-metal", "Thrash metal", GENRE_LEAF, "heavy-metal");
    add_band(d, "metallica", "Metallica", "thrash-metal");
}

/* A fresh state directory with a migrated database holding small_map. */
static void fresh_state(config *cfg, char *url, size_t urllen)
{
    static int counter;
    static char dir[400];
    snprintf(dir, sizeof dir, "%s/state-%d", tmpdir, ++counter);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(url, urllen, "sqlite://%s/musicgraph.db", dir);
    store *s;
    char err[512];
    int applied;
    dataset d;
    small_map(&d);
    if (store_open(url, &s, err, sizeof err) != 0 || store_migrate(s, &applied, err, sizeof err) != 0 ||
        store_replace_all(s, &d, err, sizeof err) != 0)
        fail_msg("preparing the database: %s", err);
    store_close(s);
    dataset_free(&d);
    memset(cfg, 0, sizeof *cfg);
    cfg->state_dir = dir;
    cfg->database_url = url;
}

static int add_band_edit(const dataset *current, dataset *next, store_audit *audit, void *ctx)
{
    (void)current, (void)audit;
    add_band(next, ctx, "A band", "thrash-metal");
    return 0;
}

/* Another process's write: a new band, on a connection of its own. */
static int64_t write_band(const char *url, const char *id)
{
    store *s;
    char err[512];
    int64_t version;
    if (store_open(url, &s, err, sizeof err) != 0 || store_edit(s, add_band_edit, (void *)id, err, sizeof err) != 0 ||
        store_data_version(s, &version, err, sizeof err) != 0)
        fail_msg("writing: %s", err);
    store_close(s);
    return version;
}

static atomic_int shown_result = -1;

static void on_shown(void *arg, int shown)
{
    (void)arg;
    atomic_store(&shown_result, shown);
}

/* Waits (at most a minute) until the published snapshot has version. */
static int wait_for_version(int64_t version)
{
    for (int i = 0; i < 6000; i++) {
        graph_snapshot *g = graph_acquire();
        int64_t v = g ? graph_version(g) : -1;
        graph_release(g);
        if (v == version)
            return 1;
        usleep(10000);
    }
    return 0;
}

/* The publisher counts failures in a row and clears the count under its lock
 * a moment after the new snapshot is served: wait for that too. */
static int wait_for_no_failures(snapshots *s)
{
    for (int i = 0; i < 6000 && snapshots_failures(s) != 0; i++)
        usleep(10000);
    return snapshots_failures(s) == 0;
}

static int wait_for_answer(void)
{
    for (int i = 0; i < 6000 && atomic_load(&shown_result) < 0; i++)
        usleep(10000);
    return atomic_load(&shown_result);
}

static void test_a_write_is_answered_once_its_version_is_published(void **state)
{
    (void)state;
    config cfg;
    char url[512], err[512];
    fresh_state(&cfg, url, sizeof url);
    snapshots *s;
    assert_int_equal(snapshots_start(&cfg, &s, err, sizeof err), 0);
    int64_t version = write_band(url, "anthrax");
    atomic_store(&shown_result, -1);
    snapshots_show(s, version, on_shown, NULL);
    assert_int_equal(wait_for_answer(), 1);
    /* By the time the write is answered, its band is in the published map. */
    graph_snapshot *g = graph_acquire();
    size_t i;
    assert_true(graph_version(g) >= version);
    assert_true(graph_find_band(g, "anthrax", &i));
    graph_release(g);
    /* Asking for a version already shown answers at once. */
    atomic_store(&shown_result, -1);
    snapshots_show(s, version, on_shown, NULL);
    assert_int_equal(atomic_load(&shown_result), 1);
    snapshots_stop(s);
}

/* A rebuild that fails is tried again by itself, with no write to prompt it
 * (before issue 10 it waited for the next write). */
static void test_a_failed_rebuild_is_retried_until_it_works(void **state)
{
    (void)state;
    config cfg;
    char url[512], err[512];
    fresh_state(&cfg, url, sizeof url);
    snapshots *s;
    faulty_vfs_install();
    assert_int_equal(snapshots_start(&cfg, &s, err, sizeof err), 0);
    int64_t version = write_band(url, "slayer");
    int failed_before = atomic_load(&faulty_failures);
    faulty_vfs_fail_next(3);
    snapshots_poll(s);
    assert_true(wait_for_version(version));
    assert_true(atomic_load(&faulty_failures) > failed_before);
    assert_true(wait_for_no_failures(s));
    faulty_vfs_disarm();
    snapshots_stop(s);
}

/* Writes waiting to be shown are told after five failures in a row; the
 * publisher goes on trying, and catches up once reads work again. */
static void test_waiting_writes_give_up_but_rebuilding_goes_on(void **state)
{
    (void)state;
    config cfg;
    char url[512], err[512];
    fresh_state(&cfg, url, sizeof url);
    snapshots *s;
    faulty_vfs_install();
    assert_int_equal(snapshots_start(&cfg, &s, err, sizeof err), 0);
    int64_t version = write_band(url, "megadeth");
    atomic_store(&shown_result, -1);
    faulty_vfs_fail_from(1);
    snapshots_show(s, version, on_shown, NULL);
    assert_int_equal(wait_for_answer(), 0);
    assert_true(snapshots_failures(s) >= 5);
    faulty_vfs_disarm();
    assert_true(wait_for_version(version));
    assert_true(wait_for_no_failures(s));
    snapshots_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_write_is_answered_once_its_version_is_published),
        cmocka_unit_test(test_a_failed_rebuild_is_retried_until_it_works),
        cmocka_unit_test(test_waiting_writes_give_up_but_rebuilding_goes_on),
    };
    return cmocka_run_group_tests_name("snapshots", tests, setup_group, teardown_group) ? 1 : 0;
}
