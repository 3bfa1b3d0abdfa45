/*
 * errors.h — the one return-code convention of musicgraph.
 *
 * A function that can fail returns 0 on success and a negative value from
 * this enum otherwise, with a one-line message in the caller's err/errlen
 * buffer. MG_ERR (-1) is a plain failure (I/O, the database, memory); the
 * others are outcomes a caller may want to answer differently, so a caller
 * that only cares whether it worked tests rc != 0. Predicates (…_valid,
 * is_…, has_…, a lookup's "found") return 1 or 0 and cannot fail.
 */
#ifndef MG_ERRORS_H
#define MG_ERRORS_H

enum mg_err {
    MG_OK = 0,
    MG_ERR = -1,           /* failed; the message says why */
    MG_ERR_CONFLICT = -2,  /* refused for a reason a user can act on: a duplicate, the last admin, a constraint */
    MG_ERR_DECLINED = -3,  /* the caller's own callback declined (store_edit) */
    MG_ERR_EXISTS = -4,    /* the name is taken (a file published without replacing) */
    MG_ERR_NOT_FOUND = -5, /* there is none: no such file, no manifest, no backup yet */
};

#endif
