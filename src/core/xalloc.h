/*
 * xalloc.h — the one out-of-memory policy: allocation never fails.
 *
 * Every allocation of musicgraph goes through these. When the system has no
 * memory left, they write one line to stderr and abort(), as Redis
 * (zmalloc_oom_handler) and SQLite's shell do: a server that carried on
 * after a failed allocation would answer wrongly or crash later somewhere
 * unrelated, and systemd restarts an aborted process within a second. So
 * callers never test for NULL, and no code path exists that half-handles it.
 */
#ifndef MG_XALLOC_H
#define MG_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
/* Zeroed; nmemb * size may not overflow (aborts if it would). */
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t size);
/* nmemb elements of size bytes, overflow checked (like reallocarray). */
void *xreallocarray(void *p, size_t nmemb, size_t size);
/* NULL gives NULL (a missing optional string stays missing). */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Aborts with the out-of-memory message: for allocations made by libraries
 * (jansson, SQLite, h2o) that report failure rather than abort. */
void xalloc_fail(size_t size) __attribute__((noreturn));

#endif
