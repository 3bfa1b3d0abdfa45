/*
 * test_assets.c — the web UI's static files (src/api/assets.h): hashed
 * names, ES module imports rewritten to them, preload tags, and the
 * mistakes that must stop the server at start (an import of a missing
 * file, a cycle).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "api/assets.h"

#include <stdio.h>
#include <string.h>

#define FILE_OF(name, text)                                                                                            \
    {                                                                                                                  \
        name, (const unsigned char *)(text), sizeof(text) - 1                                                          \
    }

static char err[256];

/* The url of name, which must exist, as a C string in a static buffer. */
static const char *url_of(const char *name)
{
    const char *url = assets_url(name, strlen(name));
    if (!url)
        fail_msg("no asset %s", name);
    return url;
}

static void test_imports_point_at_hashed_names_that_cover_their_imports(void **state)
{
    (void)state;
    const struct embedded_file v1[] = {
        FILE_OF("index.html", "<p>@@MODULE:app.js@@</p>"),
        FILE_OF("app.js", "import { h } from './dom.js';\nimport './side.js';\nh(\"from './x.js'\");\n"),
        FILE_OF("dom.js", "export const h = 1;\n"),
        FILE_OF("side.js", "import {\n  h,\n} from \"./dom.js\";\nconsole.log(h);\n"),
        FILE_OF("lib.min.js", "var a=\"from './nothing.js'\";"),
        {0, 0, 0},
    };
    assert_int_equal(assets_init(v1, err, sizeof err), 0);
    char app1[128], dom[128], side[128];
    strcpy(app1, url_of("app.js"));
    strcpy(dom, url_of("dom.js"));
    strcpy(side, url_of("side.js"));
    assert_null(assets_url("index.html", 10)); /* a template, not an asset */
    assert_non_null(assets_url("lib.min.js", 10));
    assert_true(strncmp(dom, "/assets/dom.", 12) == 0 && strlen(dom) == strlen("/assets/dom.01234567.js"));

    buf tags = BUF_INIT;
    assets_module_tags("app.js", 6, &tags);
    /* Each import preloaded once (dom.js is reached twice), then the entry. */
    char want[1024];
    snprintf(want, sizeof want,
             "<link rel=\"modulepreload\" href=\"%s\">\n<link rel=\"modulepreload\" href=\"%s\">\n"
             "<script type=\"module\" src=\"%s\"></script>",
             dom, side, app1);
    assert_string_equal(buf_cstr(&tags), want);
    buf_free(&tags);
    assets_free();

    /* A change in dom.js renames dom.js and every module that imports it. */
    const struct embedded_file v2[] = {
        FILE_OF("app.js", "import { h } from './dom.js';\nimport './side.js';\nh(\"from './x.js'\");\n"),
        FILE_OF("dom.js", "export const h = 2;\n"),
        FILE_OF("side.js", "import { h } from \"./dom.js\";\nconsole.log(h);\n"),
        {0, 0, 0},
    };
    assert_int_equal(assets_init(v2, err, sizeof err), 0);
    assert_string_not_equal(url_of("dom.js"), dom);
    assert_string_not_equal(url_of("side.js"), side);
    assert_string_not_equal(url_of("app.js"), app1);
    assets_free();
}

static void test_a_missing_import_or_a_cycle_stops_the_start(void **state)
{
    (void)state;
    const struct embedded_file missing[] = {
        FILE_OF("app.js", "import { h } from './gone.js';\n"),
        {0, 0, 0},
    };
    assert_int_equal(assets_init(missing, err, sizeof err), -1);
    assert_non_null(strstr(err, "gone.js"));
    assert_null(assets_url("app.js", 6));

    const struct embedded_file cycle[] = {
        FILE_OF("a.js", "import './b.js';\n"),
        FILE_OF("b.js", "import './c.js';\n"),
        FILE_OF("c.js", "import './a.js';\n"),
        {0, 0, 0},
    };
    assert_int_equal(assets_init(cycle, err, sizeof err), -1);
    assert_non_null(strstr(err, "cycle"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_imports_point_at_hashed_names_that_cover_their_imports),
        cmocka_unit_test(test_a_missing_import_or_a_cycle_stops_the_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
