/*
 * test_release_store.c — what the release store refuses before it sends a
 * byte (src/ops/release_store.c, https_store.c): plain http://, a URL
 * holding credentials (never repeated in the message), a URL without a
 * host, another scheme, an unreadable CA file, and a credentials file that
 * is not USER:PASSWORD (its content never shown). The requests themselves
 * run against a real nginx in tests/e2e/deploy-agent.test.mjs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ops/release_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int refused(config *cfg, const char *url, char *err, size_t errlen)
{
    release_store *rs = NULL;
    int rc = release_store_open(cfg, url, &rs, err, errlen);
    release_store_close(rs);
    return rc != 0 && rs == NULL;
}

static void test_urls_refused(void **state)
{
    (void)state;
    config cfg = {0};
    char err[1024];
    assert_true(refused(&cfg, "http://releases.example.org/musicgraph/", err, sizeof err));
    assert_non_null(strstr(err, "https:// only"));
    assert_true(refused(&cfg, "https://publisher:s3cret-pw@releases.example.org/m/", err, sizeof err));
    assert_non_null(strstr(err, "MUSICGRAPH_RELEASE_STORE_AUTH_FILE"));
    assert_null(strstr(err, "s3cret-pw"));
    assert_true(refused(&cfg, "https:///musicgraph/", err, sizeof err));
    assert_non_null(strstr(err, "expected https://HOST[:PORT]/PATH/"));
    assert_true(refused(&cfg, "ftp://releases.example.org/m/", err, sizeof err));
    assert_non_null(strstr(err, "a directory, https://HOST/PATH/ or s3://BUCKET/PREFIX"));
}

static void test_files_refused(void **state)
{
    (void)state;
    char dir[] = "/tmp/mg-release-store-unit-XXXXXX", path[128], err[1024];
    assert_non_null(mkdtemp(dir));
    config cfg = {0};
    snprintf(path, sizeof path, "%s/missing.pem", dir);
    cfg.release_store_ca_file = path;
    assert_true(refused(&cfg, "https://releases.example.org/m/", err, sizeof err));
    assert_non_null(strstr(err, "MUSICGRAPH_RELEASE_STORE_CA_FILE: cannot read"));
    cfg.release_store_ca_file = NULL;

    snprintf(path, sizeof path, "%s/auth", dir);
    cfg.release_store_auth_file = path;
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("only-a-secret-token\n", f);
    fclose(f);
    assert_true(refused(&cfg, "https://releases.example.org/m/", err, sizeof err));
    assert_non_null(strstr(err, "the first line must be USER:PASSWORD"));
    assert_null(strstr(err, "only-a-secret-token"));

    f = fopen(path, "w");
    assert_non_null(f);
    fputs("publisher:pw:with:colons\n", f);
    fclose(f);
    release_store *rs = NULL;
    assert_int_equal(release_store_open(&cfg, "https://releases.example.org/m", &rs, err, sizeof err), 0);
    assert_string_equal(release_store_url(rs), "https://releases.example.org/m");
    release_store_close(rs);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urls_refused),
        cmocka_unit_test(test_files_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
