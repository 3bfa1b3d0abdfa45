/*
 * codec.c — dataset JSON reading and writing (see codec.h).
 */
#include "domain/codec.h"
#include "core/xalloc.h"

#include "core/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads an optional string member; NULL member or JSON null leaves *out NULL. */
static int read_string(const json_t *obj, const char *key, char **out, const char *entry, domain_errors *errs)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        domain_errors_add(errs, entry, key, "must be a string");
        return -1;
    }
    /* jansson accepts \u0000 inside strings; a C string cannot hold it. */
    if (strlen(json_string_value(v)) != json_string_length(v)) {
        domain_errors_add(errs, entry, key, "must not contain NUL characters");
        return -1;
    }
    *out = xstrdup(json_string_value(v));
    return 0;
}

/* Reads an optional array of strings; what names the items in the message. */
static int read_string_array(const json_t *obj, const char *key, const char *what, char ***out, size_t *n,
                             const char *entry, domain_errors *errs)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    *n = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v)) {
        domain_errors_add(errs, entry, key, "must be an array of %s", what);
        return -1;
    }
    size_t count = json_array_size(v);
    if (count == 0)
        return 0;
    char **items = xcalloc(count, sizeof *items);
    if (!items)
        return -1;
    for (size_t i = 0; i < count; i++) {
        json_t *item = json_array_get(v, i);
        if (!json_is_string(item) || strlen(json_string_value(item)) != json_string_length(item)) {
            domain_errors_add(errs, entry, key, "must be an array of %s", what);
            for (size_t j = 0; j < i; j++)
                free(items[j]);
            free(items);
            return -1;
        }
        items[i] = xstrdup(json_string_value(item));
    }
    *out = items;
    *n = count;
    return 0;
}

/* An optional string where "" means the same as null (forms send ""). */
static void read_optional_text(const json_t *obj, const char *key, char **out, const char *entry, domain_errors *errs)
{
    if (read_string(obj, key, out, entry, errs) == 0 && *out && !**out) {
        free(*out);
        *out = NULL;
    }
}

/* An optional year: a whole number, 0 (unknown) when null or absent. */
static void read_year(const json_t *obj, const char *key, int *out, const char *entry, domain_errors *errs)
{
    json_t *year = json_object_get(obj, key);
    *out = 0;
    if (!year || json_is_null(year))
        return;
    if (!json_is_integer(year) || json_integer_value(year) < -100000 || json_integer_value(year) > 100000)
        domain_errors_add(errs, entry, key, "must be a year (a whole number) or null");
    else if (json_integer_value(year) == 0)
        domain_errors_add(errs, entry, key, "must be between %d and %d", DOMAIN_YEAR_MIN, DOMAIN_YEAR_MAX);
    else
        *out = (int)json_integer_value(year);
}

/* A band's optional type: "person", "group", or unknown when null, "" or absent. */
static void read_band_type(const json_t *obj, band_type *out, const char *entry, domain_errors *errs)
{
    json_t *v = json_object_get(obj, "type");
    *out = BAND_TYPE_UNKNOWN;
    if (!v || json_is_null(v) || (json_is_string(v) && !*json_string_value(v)))
        return;
    if (!json_is_string(v) || band_type_parse(json_string_value(v), out) != 0)
        domain_errors_add(errs, entry, "type", "must be \"person\", \"group\" or null");
}

static int check_keys(const json_t *obj, const char *const *allowed, const char *entry, domain_errors *errs)
{
    const char *key;
    json_t *value;
    int bad = 0;
    json_object_foreach((json_t *)obj, key, value)
    {
        (void)value;
        int ok = 0;
        for (size_t i = 0; allowed[i]; i++)
            if (strcmp(key, allowed[i]) == 0)
                ok = 1;
        if (!ok) {
            domain_errors_add(errs, entry, key, "is not a known field");
            bad = 1;
        }
    }
    return bad ? -1 : 0;
}

static int read_links(const json_t *obj, genre *g, const char *entry, domain_errors *errs)
{
    json_t *v = json_object_get(obj, "links");
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v)) {
        domain_errors_add(errs, entry, "links", "must be an array of {\"to\", \"kind\"} objects");
        return -1;
    }
    size_t count = json_array_size(v);
    if (count == 0)
        return 0;
    g->links = xcalloc(count, sizeof *g->links);
    if (!g->links)
        return -1;
    for (size_t i = 0; i < count; i++) {
        json_t *item = json_array_get(v, i);
        static const char *const keys[] = {"to", "kind", NULL};
        if (!json_is_object(item) || check_keys(item, keys, entry, errs) != 0) {
            domain_errors_add(errs, entry, "links", "must be an array of {\"to\", \"kind\"} objects");
            return -1;
        }
        g->nlinks = i + 1;
        if (read_string(item, "to", &g->links[i].to, entry, errs) != 0 ||
            read_string(item, "kind", &g->links[i].kind, entry, errs) != 0)
            return -1;
        if (!g->links[i].kind)
            g->links[i].kind = xstrdup("influence");
    }
    return 0;
}

int codec_genre_from_json(const json_t *obj, genre *g, const char *entry, domain_errors *errs)
{
    static const char *const keys[] = {"id",          "name",  "type",    "parent",     "parents", "description",
                                       "origin_year", "links", "aliases", "former_ids", "region",  "defining",
                                       "children",    "bands", "family",  "x",          "y",       NULL};
    memset(g, 0, sizeof *g);
    if (!json_is_object(obj)) {
        domain_errors_add(errs, entry, "", "must be a JSON object");
        return -1;
    }
    size_t before = errs->count;
    check_keys(obj, keys, entry, errs);
    read_string(obj, "id", &g->id, entry, errs);
    read_string(obj, "name", &g->name, entry, errs);
    read_string(obj, "description", &g->description, entry, errs);
    read_string(obj, "parent", &g->parent, entry, errs);
    char *type = NULL;
    if (read_string(obj, "type", &type, entry, errs) == 0) {
        g->type = genre_type_parse(type);
        if (!type)
            domain_errors_add(errs, entry, "type", "is required (root, intermediate or leaf)");
    }
    free(type);
    read_string_array(obj, "parents", "ids", &g->parents, &g->nparents, entry, errs);
    read_year(obj, "origin_year", &g->origin_year, entry, errs);
    read_links(obj, g, entry, errs);
    read_string_array(obj, "aliases", "names", &g->aliases, &g->naliases, entry, errs);
    read_string_array(obj, "former_ids", "ids", &g->former_ids, &g->nformer_ids, entry, errs);
    read_optional_text(obj, "region", &g->region, entry, errs);
    read_string_array(obj, "defining", "band ids", &g->defining, &g->ndefining, entry, errs);
    /* A root with parents omitted is fine; a missing primary parent for a
     * single-parent genre is inferred, as the original editor did. */
    if (!g->parent && g->nparents == 1)
        g->parent = xstrdup(g->parents[0]);
    return errs->count == before ? 0 : -1;
}

int codec_band_from_json(const json_t *obj, band *b, const char *entry, domain_errors *errs)
{
    static const char *const keys[] = {"id",      "name",       "type",    "primary_genre", "genres",
                                       "aliases", "former_ids", "country", "active_from",   NULL};
    memset(b, 0, sizeof *b);
    if (!json_is_object(obj)) {
        domain_errors_add(errs, entry, "", "must be a JSON object");
        return -1;
    }
    size_t before = errs->count;
    check_keys(obj, keys, entry, errs);
    read_string(obj, "id", &b->id, entry, errs);
    read_string(obj, "name", &b->name, entry, errs);
    read_band_type(obj, &b->type, entry, errs);
    read_string(obj, "primary_genre", &b->primary_genre, entry, errs);
    read_string_array(obj, "genres", "ids", &b->genres, &b->ngenres, entry, errs);
    read_string_array(obj, "aliases", "names", &b->aliases, &b->naliases, entry, errs);
    read_string_array(obj, "former_ids", "ids", &b->former_ids, &b->nformer_ids, entry, errs);
    read_optional_text(obj, "country", &b->country, entry, errs);
    read_year(obj, "active_from", &b->active_from, entry, errs);
    return errs->count == before ? 0 : -1;
}

static void entry_label(char *out, size_t len, const char *kind, size_t index, const json_t *obj)
{
    json_t *id = json_is_object(obj) ? json_object_get(obj, "id") : NULL;
    if (id && json_is_string(id))
        snprintf(out, len, "%s %.60s", kind, json_string_value(id));
    else
        snprintf(out, len, "%s #%zu", kind, index + 1);
}

int codec_dataset_from_json(const json_t *root, dataset *out, domain_errors *errs)
{
    static const char *const top_keys[] = {"format", "format_version", "family", "genres", "bands", NULL};
    memset(out, 0, sizeof *out);
    size_t before = errs->count;
    json_t *format = json_object_get(root, "format");
    json_t *version = json_object_get(root, "format_version");
    json_t *genres = json_object_get(root, "genres");
    json_t *bands = json_object_get(root, "bands");
    if (!json_is_object(root)) {
        domain_errors_add(errs, "dataset", "", "must be a JSON object");
    } else if (!json_is_string(format) || strcmp(json_string_value(format), DATASET_FORMAT) != 0) {
        domain_errors_add(errs, "dataset", "format", "must be \"%s\"", DATASET_FORMAT);
    } else if (!json_is_integer(version) || json_integer_value(version) < DATASET_FORMAT_VERSION_MIN ||
               json_integer_value(version) > DATASET_FORMAT_VERSION) {
        domain_errors_add(errs, "dataset", "format_version", "must be %d to %d (the formats this program reads)",
                          DATASET_FORMAT_VERSION_MIN, DATASET_FORMAT_VERSION);
    } else if (json_object_get(root, "family") && !json_is_string(json_object_get(root, "family"))) {
        domain_errors_add(errs, "dataset", "family", "must be the id of the file's root genre");
    } else if (!json_is_array(genres) || (bands && !json_is_array(bands))) {
        domain_errors_add(errs, "dataset", "genres", "genres and bands must be arrays");
    } else if (check_keys(root, top_keys, "dataset", errs) != 0) {
        /* A misspelt "bands" would otherwise import a map without bands. */
    } else {
        char entry[80];
        for (size_t i = 0; i < json_array_size(genres); i++) {
            json_t *item = json_array_get(genres, i);
            entry_label(entry, sizeof entry, "genre", i, item);
            genre *g = dataset_add_genre(out);
            if (!g || codec_genre_from_json(item, g, entry, errs) != 0)
                continue;
        }
        for (size_t i = 0; i < json_array_size(bands); i++) {
            json_t *item = json_array_get(bands, i);
            entry_label(entry, sizeof entry, "band", i, item);
            band *b = dataset_add_band(out);
            if (!b || codec_band_from_json(item, b, entry, errs) != 0)
                continue;
        }
    }
    if (errs->count != before) {
        dataset_free(out);
        return -1;
    }
    return 0;
}

int codec_parse_dataset(const char *text, size_t len, dataset *out, domain_errors *errs)
{
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        domain_errors_add(errs, "dataset", "", "invalid JSON at line %d column %d: %s", jerr.line, jerr.column,
                          jerr.text);
        return -1;
    }
    int rc = codec_dataset_from_json(root, out, errs);
    json_decref(root);
    return rc;
}

static void write_ids(json_writer *w, char *const *ids, size_t n)
{
    jw_array_begin(w);
    for (size_t i = 0; i < n; i++)
        jw_string(w, ids[i]);
    jw_array_end(w);
}

static void write_year(json_writer *w, int year)
{
    if (year)
        jw_int(w, year);
    else
        jw_null(w);
}

/* Missing strings are written as null: whatever codec_parse_dataset accepted
 * (an entry without an id, say, before the rules refuse it) can be written. */
void codec_genre_json(json_writer *w, const genre *g)
{
    jw_object_begin(w);
    jw_key(w, "id");
    jw_string_or_null(w, g->id);
    jw_key(w, "name");
    jw_string_or_null(w, g->name);
    jw_key(w, "type");
    jw_string(w, genre_type_name(g->type));
    jw_key(w, "parent");
    jw_string_or_null(w, g->parent);
    jw_key(w, "parents");
    write_ids(w, g->parents, g->nparents);
    jw_key(w, "description");
    jw_string_or_null(w, g->description);
    jw_key(w, "origin_year");
    write_year(w, g->origin_year);
    jw_key(w, "links");
    jw_array_begin(w);
    for (size_t j = 0; j < g->nlinks; j++) {
        jw_object_begin(w);
        jw_key(w, "to");
        jw_string_or_null(w, g->links[j].to);
        jw_key(w, "kind");
        jw_string_or_null(w, g->links[j].kind);
        jw_object_end(w);
    }
    jw_array_end(w);
    jw_key(w, "aliases");
    write_ids(w, g->aliases, g->naliases);
    jw_key(w, "former_ids");
    write_ids(w, g->former_ids, g->nformer_ids);
    jw_key(w, "region");
    jw_string_or_null(w, g->region);
    jw_key(w, "defining");
    write_ids(w, g->defining, g->ndefining);
    jw_object_end(w);
}

void codec_band_json(json_writer *w, const band *b)
{
    jw_object_begin(w);
    jw_key(w, "id");
    jw_string_or_null(w, b->id);
    jw_key(w, "name");
    jw_string_or_null(w, b->name);
    jw_key(w, "type");
    jw_string_or_null(w, band_type_name(b->type));
    jw_key(w, "primary_genre");
    jw_string_or_null(w, b->primary_genre);
    jw_key(w, "genres");
    write_ids(w, b->genres, b->ngenres);
    jw_key(w, "aliases");
    write_ids(w, b->aliases, b->naliases);
    jw_key(w, "former_ids");
    write_ids(w, b->former_ids, b->nformer_ids);
    jw_key(w, "country");
    jw_string_or_null(w, b->country);
    jw_key(w, "active_from");
    write_year(w, b->active_from);
    jw_object_end(w);
}

void codec_dataset_json(json_writer *w, const dataset *d)
{
    jw_object_begin(w);
    jw_key(w, "format");
    jw_string(w, DATASET_FORMAT);
    jw_key(w, "format_version");
    jw_int(w, DATASET_FORMAT_VERSION);
    jw_key(w, "genres");
    jw_array_begin(w);
    for (size_t i = 0; i < d->ngenres; i++)
        codec_genre_json(w, &d->genres[i]);
    jw_array_end(w);
    jw_key(w, "bands");
    jw_array_begin(w);
    for (size_t i = 0; i < d->nbands; i++)
        codec_band_json(w, &d->bands[i]);
    jw_array_end(w);
    jw_object_end(w);
}

void codec_write_dataset(const dataset *d, buf *out)
{
    json_writer w;
    jw_init(&w, out);
    codec_dataset_json(&w, d);
    buf_putc(out, '\n');
}
