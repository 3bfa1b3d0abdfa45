/*
 * faulty_vfs.h — a SQLite VFS that fails reads on demand, for the C unit
 * tests (a disk error, a lock that will not come, in the middle of a scan).
 *
 * It is the default VFS with its files' xRead wrapped: a wrapped file keeps
 * the real one's layout (the VFS allocates the same size), only its method
 * table is a copy with xRead and xClose replaced. Installed as the default,
 * it serves every connection opened after. Two ways to fail:
 * faulty_vfs_fail_from(n) fails the n-th read from now and every one after
 * (until disarmed); faulty_vfs_fail_next(k) fails the next k reads, then
 * reads work again. The counters are atomic: the reading thread may be
 * another than the test's.
 */
#ifndef MG_TEST_FAULTY_VFS_H
#define MG_TEST_FAULTY_VFS_H

#include <sqlite3.h>
#include <stdatomic.h>

static sqlite3_vfs faulty_vfs, *faulty_real_vfs;
static atomic_int faulty_reads_until_failure = -1; /* -1: never fail */
static atomic_int faulty_failures_left;            /* fail_next: failures still to come */
static atomic_int faulty_failures;                 /* how many reads failed so far */
#define FAULTY_MAX_METHOD_TABLES 4
static const sqlite3_io_methods *faulty_real_methods[FAULTY_MAX_METHOD_TABLES];
static sqlite3_io_methods faulty_methods[FAULTY_MAX_METHOD_TABLES];

static inline const sqlite3_io_methods *faulty_real_of(sqlite3_file *f)
{
    for (int i = 0; i < FAULTY_MAX_METHOD_TABLES; i++)
        if (f->pMethods == &faulty_methods[i])
            return faulty_real_methods[i];
    return f->pMethods;
}

static inline int faulty_read(sqlite3_file *f, void *buf, int amount, sqlite3_int64 offset)
{
    int fail = 0;
    int left = atomic_load(&faulty_failures_left);
    while (left > 0 && !atomic_compare_exchange_weak(&faulty_failures_left, &left, left - 1))
        ;
    if (left > 0)
        fail = 1;
    int until = atomic_load(&faulty_reads_until_failure);
    if (until > 0)
        until = atomic_fetch_sub(&faulty_reads_until_failure, 1) - 1;
    if (until == 0)
        fail = 1;
    if (fail) {
        atomic_fetch_add(&faulty_failures, 1);
        return SQLITE_IOERR_READ;
    }
    return faulty_real_of(f)->xRead(f, buf, amount, offset);
}

static inline int faulty_close(sqlite3_file *f)
{
    const sqlite3_io_methods *m = faulty_real_of(f);
    f->pMethods = m;
    return m->xClose(f);
}

static inline int faulty_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
    (void)vfs;
    int rc = faulty_real_vfs->xOpen(faulty_real_vfs, name, f, flags, out_flags);
    if (rc != SQLITE_OK || !f->pMethods)
        return rc;
    int i;
    for (i = 0; i < FAULTY_MAX_METHOD_TABLES && faulty_real_methods[i] && faulty_real_methods[i] != f->pMethods; i++)
        ;
    assert_true(i < FAULTY_MAX_METHOD_TABLES);
    if (!faulty_real_methods[i]) {
        faulty_methods[i] = *f->pMethods;
        faulty_methods[i].xRead = faulty_read;
        faulty_methods[i].xClose = faulty_close;
        faulty_real_methods[i] = f->pMethods;
    }
    f->pMethods = &faulty_methods[i];
    return rc;
}

/* Makes the faulty VFS the default for every connection opened after. */
static inline void faulty_vfs_install(void)
{
    if (faulty_real_vfs)
        return;
    faulty_real_vfs = sqlite3_vfs_find(NULL);
    faulty_vfs = *faulty_real_vfs;
    faulty_vfs.zName = "faulty";
    faulty_vfs.xOpen = faulty_open;
    assert_int_equal(sqlite3_vfs_register(&faulty_vfs, 1), SQLITE_OK);
}

static inline void faulty_vfs_fail_from(int n) { atomic_store(&faulty_reads_until_failure, n); }
static inline void faulty_vfs_fail_next(int k) { atomic_store(&faulty_failures_left, k); }
static inline void faulty_vfs_disarm(void)
{
    atomic_store(&faulty_reads_until_failure, -1);
    atomic_store(&faulty_failures_left, 0);
}

#endif
