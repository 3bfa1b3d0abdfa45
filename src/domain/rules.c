/*
 * rules.c — the data rules (see rules.h).
 *
 * Cycle detection is an iterative depth-first search with three colours over
 * the parent edges, so a deep hierarchy cannot overflow the stack; the error
 * names the genres on the cycle so a curator can see which link to remove.
 */
#include "domain/rules.h"
#include "core/xalloc.h"

#include "core/buf.h"
#include "core/strmap.h"
#include "core/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void domain_errors_add(domain_errors *e, const char *entry, const char *field, const char *fmt, ...)
{
    if (e->count >= DOMAIN_ERRORS_MAX) {
        e->dropped++;
        return;
    }
    if (e->count == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 8;
        domain_error *items = xrealloc(e->items, cap * sizeof *items);
        if (!items)
            return;
        e->items = items;
        e->cap = cap;
    }
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    domain_error *item = &e->items[e->count++];
    item->entry = xstrdup(entry ? entry : "");
    item->field = xstrdup(field ? field : "");
    item->message = xstrdup(message);
}

int domain_errors_full(const domain_errors *e) { return e->count >= DOMAIN_ERRORS_MAX; }

void domain_errors_free(domain_errors *e)
{
    for (size_t i = 0; i < e->count; i++) {
        free(e->items[i].entry);
        free(e->items[i].field);
        free(e->items[i].message);
    }
    free(e->items);
    memset(e, 0, sizeof *e);
}

void domain_errors_first(const domain_errors *e, char *out, size_t len)
{
    if (e->count == 0) {
        if (len)
            out[0] = '\0';
        return;
    }
    const domain_error *d = &e->items[0];
    snprintf(out, len, "%s: %s: %s", d->entry, d->field, d->message);
}

int domain_id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > DOMAIN_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return 0;
    }
    return 1;
}

void domain_slugify(const char *name, char *out, size_t outlen)
{
    if (outlen == 0)
        return;
    buf folded = BUF_INIT;
    text_fold(name ? name : "", &folded);
    const char *s = buf_cstr(&folded);
    size_t limit = outlen - 1 < DOMAIN_ID_MAX ? outlen - 1 : DOMAIN_ID_MAX;
    size_t o = 0;
    int dash = 0;
    for (; *s; s++) {
        char c = *s;
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            size_t need = dash && o > 0 ? 2 : 1;
            if (o + need > limit)
                break;
            if (need == 2)
                out[o++] = '-';
            out[o++] = c;
            dash = 0;
        } else {
            dash = 1;
        }
    }
    out[o] = '\0';
    buf_free(&folded);
}

/* ISO 3166-1 alpha-2 codes in use (the list of /usr/share/zoneinfo/iso3166.tab)
 * and XK (Kosovo), sorted, two letters each. */
static const char countries[] = "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZ"
                                "CACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFKFMFOFR"
                                "GAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHMHNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJP"
                                "KEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLRLSLTLULVLYMAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMT"
                                "MUMVMWMXMYMZNANCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPMPNPRPSPTPWPYQARERORSRURW"
                                "SASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZUAUG"
                                "UMUSUYUZVAVCVEVGVIVNVUWFWSXKYEYTZAZMZW";

int domain_country_valid(const char *code)
{
    if (!code || strlen(code) != 2)
        return 0;
    size_t lo = 0, hi = (sizeof countries - 1) / 2;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strncmp(countries + 2 * mid, code, 2);
        if (c == 0)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static void check_id(const char *entry, const char *field, const char *id, domain_errors *errs)
{
    if (!id || !*id)
        domain_errors_add(errs, entry, field, "is required");
    else if (strlen(id) > DOMAIN_ID_MAX)
        domain_errors_add(errs, entry, field, "must be at most %d characters", DOMAIN_ID_MAX);
    else if (!domain_id_valid(id))
        domain_errors_add(errs, entry, field, "may contain only lowercase letters a-z, digits and '-'");
}

static void check_text(const char *entry, const char *field, const char *s, size_t max, int required,
                       domain_errors *errs)
{
    if (!s || !*s) {
        if (required)
            domain_errors_add(errs, entry, field, "is required");
        return;
    }
    if (!text_utf8_valid(s, strlen(s)))
        domain_errors_add(errs, entry, field, "must be valid UTF-8");
    else if (text_has_control(s))
        domain_errors_add(errs, entry, field, "must not contain control characters");
    else if (text_utf8_length(s) > max)
        domain_errors_add(errs, entry, field, "must be at most %zu characters", max);
}

/* Description allows newlines and tabs (paragraphs), no other control (text.h). */
static void check_description(const char *entry, const char *s, domain_errors *errs)
{
    if (!s || !*s)
        return;
    if (!text_utf8_valid(s, strlen(s))) {
        domain_errors_add(errs, entry, "description", "must be valid UTF-8");
        return;
    }
    if (text_has_control_except_layout(s)) {
        domain_errors_add(errs, entry, "description", "must not contain control characters");
        return;
    }
    if (text_utf8_length(s) > DOMAIN_DESCRIPTION_MAX)
        domain_errors_add(errs, entry, "description", "must be at most %d characters", DOMAIN_DESCRIPTION_MAX);
}

/* Aliases follow the name rules, are listed once and differ from the name
 * (compared as search keys: "AC/DC" and "ac/dc" are the same name). Too many
 * are refused before any is compared: the comparison is quadratic. */
static void check_aliases(const char *entry, const char *name, char *const *aliases, size_t n, domain_errors *errs)
{
    if (n > DOMAIN_ALIASES_MAX) {
        domain_errors_add(errs, entry, "aliases", "at most %d aliases", DOMAIN_ALIASES_MAX);
        return;
    }
    buf keys = BUF_INIT, own = BUF_INIT;
    size_t *at = xcalloc(n ? n : 1, sizeof *at);
    text_fold(name && text_utf8_valid(name, strlen(name)) ? name : "", &own);
    for (size_t i = 0; i < n; i++) {
        size_t before = errs->count + errs->dropped;
        check_text(entry, "aliases", aliases[i], DOMAIN_NAME_MAX, 1, errs);
        at[i] = keys.len;
        if (errs->count + errs->dropped == before)
            text_fold(aliases[i], &keys);
        buf_append(&keys, "", 1);
        if (errs->count + errs->dropped != before)
            continue;
        const char *key = keys.data + at[i];
        if (strcmp(key, buf_cstr(&own)) == 0) {
            domain_errors_add(errs, entry, "aliases", "'%s' is the name itself", aliases[i]);
            continue;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(key, keys.data + at[j]) == 0) {
                domain_errors_add(errs, entry, "aliases", "'%s' is listed twice", aliases[i]);
                break;
            }
    }
    free(at);
    buf_free(&keys);
    buf_free(&own);
}

/* The first id listed a second time, found through a hash map: linear. */
static int has_duplicate(char *const *v, size_t n, size_t *dup)
{
    strmap seen;
    int found = 0;
    if (strmap_init(&seen, n) != 0)
        return 0;
    for (size_t i = 0; i < n && !found; i++) {
        if (!v[i])
            continue;
        if (strmap_get(&seen, v[i], NULL)) {
            *dup = i;
            found = 1;
        } else {
            strmap_put(&seen, v[i], i);
        }
    }
    strmap_free(&seen);
    return found;
}

/* 1 when a list is short enough to check id by id (else one error says so). */
static int list_bounded(const char *entry, const char *field, size_t n, domain_errors *errs)
{
    if (n <= DOMAIN_REFS_MAX)
        return 1;
    domain_errors_add(errs, entry, field, "lists %zu ids; at most %d are allowed", n, DOMAIN_REFS_MAX);
    return 0;
}

static int contains(char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] && s && strcmp(v[i], s) == 0)
            return 1;
    return 0;
}

static void entry_name(char *out, size_t len, const char *kind, const char *id)
{
    snprintf(out, len, "%s %s", kind, id && *id ? id : "(no id)");
}

/* Former ids are ids, listed once, not the entry's own. */
static void check_former_ids(const char *entry, const char *id, char *const *former, size_t n, domain_errors *errs)
{
    size_t dup;
    if (n > DOMAIN_FORMER_IDS_MAX)
        domain_errors_add(errs, entry, "former_ids", "at most %d former ids", DOMAIN_FORMER_IDS_MAX);
    for (size_t i = 0; i < n; i++) {
        if (!domain_id_valid(former[i]))
            domain_errors_add(errs, entry, "former_ids", "'%s' is not a valid id (lowercase a-z, digits and '-')",
                              former[i] ? former[i] : "");
        else if (id && strcmp(former[i], id) == 0)
            domain_errors_add(errs, entry, "former_ids", "'%s' is the current id", former[i]);
    }
    if (has_duplicate(former, n, &dup))
        domain_errors_add(errs, entry, "former_ids", "'%s' is listed twice", former[dup]);
}

void domain_check_genre(const genre *g, domain_errors *errs)
{
    char entry[80];
    entry_name(entry, sizeof entry, "genre", g->id);
    check_id(entry, "id", g->id, errs);
    check_text(entry, "name", g->name, DOMAIN_NAME_MAX, 1, errs);
    check_description(entry, g->description, errs);
    if (g->origin_year != 0 && (g->origin_year < DOMAIN_YEAR_MIN || g->origin_year > DOMAIN_YEAR_MAX))
        domain_errors_add(errs, entry, "origin_year", "must be between %d and %d", DOMAIN_YEAR_MIN, DOMAIN_YEAR_MAX);
    if (g->type == GENRE_TYPE_INVALID) {
        domain_errors_add(errs, entry, "type", "must be root, intermediate or leaf");
    } else if (g->type == GENRE_ROOT) {
        if (g->nparents > 0 || g->parent)
            domain_errors_add(errs, entry, "parents", "a root genre has no parents");
    } else {
        if (g->nparents == 0)
            domain_errors_add(errs, entry, "parents", "a %s genre needs at least one parent", genre_type_name(g->type));
        if (!g->parent || !*g->parent)
            domain_errors_add(errs, entry, "parent", "the primary parent is required");
        else if (!contains(g->parents, g->nparents, g->parent))
            domain_errors_add(errs, entry, "parent", "the primary parent '%s' must be one of the parents", g->parent);
    }
    size_t dup;
    int parents_ok = list_bounded(entry, "parents", g->nparents, errs);
    for (size_t i = 0; parents_ok && i < g->nparents; i++) {
        if (!domain_id_valid(g->parents[i]))
            domain_errors_add(errs, entry, "parents", "'%s' is not a valid genre id",
                              g->parents[i] ? g->parents[i] : "");
        else if (g->id && strcmp(g->parents[i], g->id) == 0)
            domain_errors_add(errs, entry, "parents", "a genre cannot be its own parent");
    }
    if (parents_ok && has_duplicate(g->parents, g->nparents, &dup))
        domain_errors_add(errs, entry, "parents", "'%s' is listed twice", g->parents[dup]);
    int links_ok = list_bounded(entry, "links", g->nlinks, errs);
    for (size_t i = 0; links_ok && i < g->nlinks; i++) {
        const genre_link *l = &g->links[i];
        if (!l->kind || strcmp(l->kind, "influence") != 0)
            domain_errors_add(errs, entry, "links", "link kind must be 'influence'");
        if (!domain_id_valid(l->to))
            domain_errors_add(errs, entry, "links", "'%s' is not a valid genre id", l->to ? l->to : "");
        else if (g->id && strcmp(l->to, g->id) == 0)
            domain_errors_add(errs, entry, "links", "a genre cannot influence itself");
        for (size_t j = 0; j < i; j++)
            if (l->to && g->links[j].to && strcmp(l->to, g->links[j].to) == 0 && l->kind && g->links[j].kind &&
                strcmp(l->kind, g->links[j].kind) == 0) {
                domain_errors_add(errs, entry, "links", "the link to '%s' is listed twice", l->to);
                break;
            }
    }
    check_aliases(entry, g->name, g->aliases, g->naliases, errs);
    check_former_ids(entry, g->id, g->former_ids, g->nformer_ids, errs);
    check_text(entry, "region", g->region, DOMAIN_NAME_MAX, 0, errs);
    if (g->ndefining > DOMAIN_DEFINING_MAX)
        domain_errors_add(errs, entry, "defining", "at most %d defining bands", DOMAIN_DEFINING_MAX);
    for (size_t i = 0; i < g->ndefining; i++)
        if (!domain_id_valid(g->defining[i]))
            domain_errors_add(errs, entry, "defining", "'%s' is not a valid band id",
                              g->defining[i] ? g->defining[i] : "");
    if (has_duplicate(g->defining, g->ndefining, &dup))
        domain_errors_add(errs, entry, "defining", "'%s' is listed twice", g->defining[dup]);
}

void domain_check_band(const band *b, domain_errors *errs)
{
    char entry[80];
    entry_name(entry, sizeof entry, "band", b->id);
    check_id(entry, "id", b->id, errs);
    check_text(entry, "name", b->name, DOMAIN_NAME_MAX, 1, errs);
    size_t dup;
    if (b->ngenres == 0)
        domain_errors_add(errs, entry, "genres", "a band needs at least one genre");
    int genres_ok = list_bounded(entry, "genres", b->ngenres, errs);
    for (size_t i = 0; genres_ok && i < b->ngenres; i++)
        if (!domain_id_valid(b->genres[i]))
            domain_errors_add(errs, entry, "genres", "'%s' is not a valid genre id", b->genres[i] ? b->genres[i] : "");
    if (genres_ok && has_duplicate(b->genres, b->ngenres, &dup))
        domain_errors_add(errs, entry, "genres", "'%s' is listed twice", b->genres[dup]);
    if (!b->primary_genre || !*b->primary_genre)
        domain_errors_add(errs, entry, "primary_genre", "is required");
    else if (!contains(b->genres, b->ngenres, b->primary_genre))
        domain_errors_add(errs, entry, "primary_genre", "the primary genre '%s' must be one of the band's genres",
                          b->primary_genre);
    check_aliases(entry, b->name, b->aliases, b->naliases, errs);
    check_former_ids(entry, b->id, b->former_ids, b->nformer_ids, errs);
    if (b->country && !domain_country_valid(b->country))
        domain_errors_add(errs, entry, "country",
                          "'%.20s' is not an ISO 3166-1 country code (two capital letters, such as US, GB or BR)",
                          b->country);
    if (b->active_from != 0 && (b->active_from < DOMAIN_YEAR_MIN || b->active_from > DOMAIN_YEAR_MAX))
        domain_errors_add(errs, entry, "active_from", "must be a year between %d and %d", DOMAIN_YEAR_MIN,
                          DOMAIN_YEAR_MAX);
}

/* Reports one cycle found from start, following parent edges; colour: 0 new, 1 on stack, 2 done. */
static int find_cycles(const dataset *d, const strmap *index, domain_errors *errs)
{
    size_t n = d->ngenres;
    unsigned char *colour = xcalloc(n ? n : 1, 1);
    size_t *stack = xmalloc((n ? n : 1) * sizeof *stack);
    size_t *next_edge = xcalloc(n ? n : 1, sizeof *next_edge);
    if (!colour || !stack || !next_edge) {
        free(colour), free(stack), free(next_edge);
        return -1;
    }
    int found = 0;
    for (size_t start = 0; start < n && !found; start++) {
        if (colour[start])
            continue;
        size_t depth = 0;
        stack[depth++] = start;
        colour[start] = 1;
        while (depth > 0 && !found) {
            size_t v = stack[depth - 1];
            const genre *g = &d->genres[v];
            if (next_edge[v] >= g->nparents) {
                colour[v] = 2;
                depth--;
                continue;
            }
            size_t w;
            const char *pid = g->parents[next_edge[v]++];
            if (!pid || !strmap_get(index, pid, &w))
                continue;
            if (colour[w] == 1) {
                /* The cycle is the stack from w to v, closed by v -> w. */
                buf path = BUF_INIT;
                size_t from = 0;
                while (stack[from] != w)
                    from++;
                for (size_t i = from; i < depth; i++)
                    buf_printf(&path, "%s -> ", d->genres[stack[i]].id);
                buf_puts(&path, d->genres[w].id);
                char entry[80];
                entry_name(entry, sizeof entry, "genre", d->genres[w].id);
                domain_errors_add(errs, entry, "parents", "the parent links form a cycle: %s", buf_cstr(&path));
                buf_free(&path);
                found = 1;
            } else if (colour[w] == 0) {
                colour[w] = 1;
                stack[depth++] = w;
            }
        }
    }
    free(colour), free(stack), free(next_edge);
    return found;
}

/* Former ids of one kind: none is a current id, none is claimed twice.
 * current indexes the current ids; kind is "genre" or "band". */
static int check_former_unique(const char *kind, size_t n, char **(*former_of)(const dataset *, size_t, size_t *),
                               const char *(*id_of)(const dataset *, size_t), const dataset *d, const strmap *current,
                               domain_errors *errs)
{
    strmap claimed;
    if (strmap_init(&claimed, 16) != 0)
        return -1;
    char entry[80];
    for (size_t i = 0; i < n; i++) {
        size_t count, other;
        char **former = former_of(d, i, &count);
        entry_name(entry, sizeof entry, kind, id_of(d, i));
        for (size_t j = 0; j < count; j++) {
            if (!domain_id_valid(former[j]))
                continue;
            if (strmap_get(current, former[j], NULL))
                domain_errors_add(errs, entry, "former_ids", "'%s' is the id of another %s; a former id must be free",
                                  former[j], kind);
            else if (strmap_get(&claimed, former[j], &other) && other != i)
                domain_errors_add(errs, entry, "former_ids", "'%s' is already a former id of %s %s", former[j], kind,
                                  id_of(d, other));
            else if (strmap_put(&claimed, former[j], i) != 0) {
                strmap_free(&claimed);
                return -1;
            }
        }
    }
    strmap_free(&claimed);
    return 0;
}

static char **genre_former(const dataset *d, size_t i, size_t *n)
{
    *n = d->genres[i].nformer_ids;
    return d->genres[i].former_ids;
}
static char **band_former(const dataset *d, size_t i, size_t *n)
{
    *n = d->bands[i].nformer_ids;
    return d->bands[i].former_ids;
}
static const char *genre_id_at(const dataset *d, size_t i) { return d->genres[i].id ? d->genres[i].id : "(no id)"; }
static const char *band_id_at(const dataset *d, size_t i) { return d->bands[i].id ? d->bands[i].id : "(no id)"; }

/* 1 when genre from is target or descends from it. mark/stamp: a visited set
 * reused across calls (a fresh stamp per call), which also stops the walk on
 * a parent cycle (reported elsewhere). */
static int descends_from(const dataset *d, const strmap *index, size_t from, size_t target, unsigned *mark,
                         unsigned stamp, size_t *stack)
{
    size_t depth = 0;
    stack[depth++] = from;
    mark[from] = stamp;
    while (depth > 0) {
        size_t v = stack[--depth];
        if (v == target)
            return 1;
        const genre *g = &d->genres[v];
        for (size_t j = 0; j < g->nparents; j++) {
            size_t p;
            if (g->parents[j] && strmap_get(index, g->parents[j], &p) && mark[p] != stamp) {
                mark[p] = stamp;
                stack[depth++] = p;
            }
        }
    }
    return 0;
}

/* Defining bands exist and carry the genre, or one of its sub-genres. */
static int check_defining(const dataset *d, const strmap *genres, const strmap *bands, domain_errors *errs)
{
    size_t n = d->ngenres ? d->ngenres : 1;
    unsigned *mark = calloc(n, sizeof *mark);
    size_t *stack = malloc(n * sizeof *stack);
    if (!mark || !stack) {
        free(mark), free(stack);
        return -1;
    }
    unsigned stamp = 0;
    char entry[80];
    for (size_t i = 0; i < d->ngenres; i++) {
        const genre *g = &d->genres[i];
        entry_name(entry, sizeof entry, "genre", g->id);
        for (size_t j = 0; j < g->ndefining; j++) {
            size_t bi;
            if (!domain_id_valid(g->defining[j]))
                continue;
            if (!strmap_get(bands, g->defining[j], &bi)) {
                domain_errors_add(errs, entry, "defining", "the band '%s' does not exist", g->defining[j]);
                continue;
            }
            const band *b = &d->bands[bi];
            int carries = 0;
            for (size_t k = 0; k < b->ngenres && !carries; k++) {
                size_t gk;
                if (b->genres[k] && strmap_get(genres, b->genres[k], &gk))
                    carries = descends_from(d, genres, gk, i, mark, ++stamp, stack);
            }
            if (!carries)
                domain_errors_add(errs, entry, "defining",
                                  "the band '%s' does not list this genre or one of its sub-genres among its genres",
                                  g->defining[j]);
        }
    }
    free(mark), free(stack);
    return 0;
}

size_t domain_check_dataset(const dataset *d, domain_errors *errs)
{
    size_t before = errs->count;
    strmap genres, bands;
    if (strmap_init(&genres, d->ngenres) != 0 || strmap_init(&bands, d->nbands) != 0) {
        domain_errors_add(errs, "dataset", "", "out of memory");
        strmap_free(&genres);
        return errs->count - before;
    }
    char entry[80];
    for (size_t i = 0; i < d->ngenres; i++) {
        const genre *g = &d->genres[i];
        domain_check_genre(g, errs);
        if (g->id && strmap_get(&genres, g->id, NULL)) {
            entry_name(entry, sizeof entry, "genre", g->id);
            domain_errors_add(errs, entry, "id", "the id '%s' is used by another genre", g->id);
        } else if (g->id) {
            strmap_put(&genres, g->id, i);
        }
    }
    for (size_t i = 0; i < d->ngenres; i++) {
        const genre *g = &d->genres[i];
        entry_name(entry, sizeof entry, "genre", g->id);
        /* Lists over the bound were reported by domain_check_genre. */
        for (size_t j = 0; g->nparents <= DOMAIN_REFS_MAX && j < g->nparents; j++)
            if (g->parents[j] && domain_id_valid(g->parents[j]) && !strmap_get(&genres, g->parents[j], NULL))
                domain_errors_add(errs, entry, "parents", "the parent '%s' does not exist", g->parents[j]);
        for (size_t j = 0; g->nlinks <= DOMAIN_REFS_MAX && j < g->nlinks; j++)
            if (g->links[j].to && domain_id_valid(g->links[j].to) && !strmap_get(&genres, g->links[j].to, NULL))
                domain_errors_add(errs, entry, "links", "the linked genre '%s' does not exist", g->links[j].to);
    }
    for (size_t i = 0; i < d->nbands; i++) {
        const band *b = &d->bands[i];
        domain_check_band(b, errs);
        entry_name(entry, sizeof entry, "band", b->id);
        if (b->id && strmap_get(&bands, b->id, NULL))
            domain_errors_add(errs, entry, "id", "the id '%s' is used by another band", b->id);
        else if (b->id)
            strmap_put(&bands, b->id, i);
        for (size_t j = 0; b->ngenres <= DOMAIN_REFS_MAX && j < b->ngenres; j++)
            if (b->genres[j] && domain_id_valid(b->genres[j]) && !strmap_get(&genres, b->genres[j], NULL))
                domain_errors_add(errs, entry, "genres", "the genre '%s' does not exist", b->genres[j]);
        size_t pg;
        if (b->primary_genre && strmap_get(&genres, b->primary_genre, &pg) && d->genres[pg].type != GENRE_LEAF)
            domain_errors_add(errs, entry, "primary_genre", "the primary genre '%s' must be a leaf genre, not %s",
                              b->primary_genre, genre_type_name(d->genres[pg].type));
    }
    if (find_cycles(d, &genres, errs) < 0 ||
        check_former_unique("genre", d->ngenres, genre_former, genre_id_at, d, &genres, errs) != 0 ||
        check_former_unique("band", d->nbands, band_former, band_id_at, d, &bands, errs) != 0 ||
        check_defining(d, &genres, &bands, errs) != 0)
        domain_errors_add(errs, "dataset", "", "out of memory");
    strmap_free(&genres);
    strmap_free(&bands);
    return errs->count - before;
}

int domain_genre_delete_blockers(const dataset *d, const char *id, const char ***genres, size_t *ngenres,
                                 const char ***bands, size_t *nbands)
{
    *genres = xcalloc(d->ngenres + 1, sizeof **genres);
    *bands = xcalloc(d->nbands + 1, sizeof **bands);
    *ngenres = *nbands = 0;
    if (!*genres || !*bands) {
        free(*genres), free(*bands);
        *genres = *bands = NULL;
        return -1;
    }
    for (size_t i = 0; i < d->ngenres; i++)
        if (d->genres[i].parent && strcmp(d->genres[i].parent, id) == 0)
            (*genres)[(*ngenres)++] = d->genres[i].id;
    for (size_t i = 0; i < d->nbands; i++)
        if (d->bands[i].primary_genre && strcmp(d->bands[i].primary_genre, id) == 0)
            (*bands)[(*nbands)++] = d->bands[i].id;
    return 0;
}
