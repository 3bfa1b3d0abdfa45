/*
 * embedded.h — files compiled into the binary by tools/embed.c.
 *
 * Each table ends with an entry whose name is NULL. The bytes are followed by
 * a NUL so text files can be used as C strings.
 */
#ifndef MG_EMBEDDED_H
#define MG_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
    const char *name;
    const unsigned char *data;
    size_t len;
};

/* SQL migrations for SQLite, sorted by name (NNNN_name.sql). */
extern const struct embedded_file embedded_sqlite_migrations[];
/* The same for PostgreSQL: the same numbers, the same changes. */
extern const struct embedded_file embedded_postgres_migrations[];
/* Web assets: index.html template, app.js, style.css, graph libraries. */
extern const struct embedded_file embedded_web[];
/* The bundled dataset: one document per root family (data/families). */
extern const struct embedded_file embedded_dataset[];

const struct embedded_file *embedded_find(const struct embedded_file *table, const char *name);

#endif
