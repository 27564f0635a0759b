/* test_qti_package.c - reading IMS content packages: limits, unsafe archives, the manifest. */
#include "testutil.h"

#include <string.h>

#include "qti/package.h"
#include "qti_testzip.h"

static char *tmp;

static int setup(void **state)
{
    (void)state;
    tmp = testutil_tmpdir();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    testutil_rmdir(tmp);
    return 0;
}

static char *tmp_path(const char *name)
{
    char *p = malloc(4096);
    snprintf(p, 4096, "%s/%s", tmp, name);
    return p;
}

static const char manifest_ok[] =
    "<?xml version=\"1.0\"?>\n"
    "<manifest xmlns=\"http://www.imsglobal.org/xsd/imscp_v1p1\" identifier=\"M\">\n"
    "<resources>\n"
    "<resource identifier=\"T\" type=\"imsqti_test_xmlv2p1\" href=\"test.xml\">\n"
    "<file href=\"test.xml\"/></resource>\n"
    "</resources></manifest>\n";
static const char test_xml[] = "<assessmentTest identifier=\"T\" title=\"t\"/>";

/* Opens an archive made of `ents`; returns the rc and leaves the message in *e. */
static int open_entries(const struct testzip_entry *ents, int n, const struct qti_limits *lim,
                        struct qti_package **p, struct op_err *e)
{
    char *path = tmp_path("t.zip");
    assert_int_equal(testzip_write(path, ents, n), 0);
    int rc = qti_package_open(path, lim, p, e);
    free(path);
    return rc;
}

static void expect_refused(const struct testzip_entry *ents, int n, const struct qti_limits *lim,
                           const char *needle)
{
    struct qti_package *p = NULL;
    struct op_err e = {0};
    int rc = open_entries(ents, n, lim, &p, &e);
    if (rc == 0) {
        qti_package_free(p);
        fail_msg("accepted an archive that should be refused (%s)", needle);
    }
    assert_null(p);
    if (!strstr(e.msg, needle))
        fail_msg("message \"%s\" does not contain \"%s\"", e.msg, needle);
    assert_non_null(strstr(e.msg, "t.zip: "));
}

static void test_package_reads_demo_manifest_and_files(void **state)
{
    (void)state;
    char *zip = tmp_path("demo.zip");
    assert_int_equal(testzip_fixture_zip("demo/qti-test", zip), 0);
    struct qti_package *p;
    struct op_err e = {0};
    if (qti_package_open(zip, NULL, &p, &e) != 0)
        fail_msg("%s", e.msg);
    assert_string_equal(p->name, "demo.zip");
    assert_non_null(p->manifest.test);
    assert_string_equal(p->manifest.test->identifier, "T-DEMO");
    assert_string_equal(p->manifest.test->href, "test.xml");
    assert_int_equal(p->manifest.test->qti_version, 21);
    const struct qti_resource *r = qti_manifest_resource(&p->manifest, "planet");
    assert_non_null(r);
    assert_int_equal(r->kind, QTI_RES_ITEM);
    assert_int_equal(r->nfiles, 2);
    assert_string_equal(r->files[1], "assets/planet.svg");
    assert_int_equal(qti_manifest_resource(&p->manifest, "styles")->kind, QTI_RES_CONTENT);
    const struct qti_file *f = qti_package_find(p, "items/capital.xml");
    assert_non_null(f);
    assert_non_null(strstr((const char *)f->data, "assessmentItem"));
    assert_null(qti_package_find(p, "items/none.xml"));
    qti_package_free(p);
    free(zip);
}

static void test_package_refuses_archive_over_size_limit(void **state)
{
    (void)state;
    struct qti_limits lim;
    qti_limits_default(&lim);
    lim.max_archive_bytes = 100;
    struct testzip_entry ents[] = {{"imsmanifest.xml", manifest_ok, sizeof manifest_ok - 1, 0},
                                   {"test.xml", test_xml, sizeof test_xml - 1, 0}};
    expect_refused(ents, 2, &lim, "over the limit of 100 bytes");
}

static void test_package_refuses_entry_climbing_out_of_archive(void **state)
{
    (void)state;
    struct testzip_entry ents[] = {{"imsmanifest.xml", manifest_ok, sizeof manifest_ok - 1, 0},
                                   {"../../etc/evil.xml", test_xml, sizeof test_xml - 1, 0}};
    expect_refused(ents, 2, NULL, "../../etc/evil.xml: unsafe entry name: path climbs out");
}

static void test_package_refuses_absolute_entry(void **state)
{
    (void)state;
    struct testzip_entry ents[] = {{"imsmanifest.xml", manifest_ok, sizeof manifest_ok - 1, 0},
                                   {"/tmp/evil.xml", test_xml, sizeof test_xml - 1, 0}};
    expect_refused(ents, 2, NULL, "/tmp/evil.xml: unsafe entry name: absolute path");
}

static void test_package_refuses_backslash_entry(void **state)
{
    (void)state;
    struct testzip_entry ents[] = {{"imsmanifest.xml", manifest_ok, sizeof manifest_ok - 1, 0},
                                   {"..\\evil.xml", test_xml, sizeof test_xml - 1, 0}};
    expect_refused(ents, 2, NULL, "backslash");
}

static void test_package_refuses_nul_in_entry_name(void **state)
{
    (void)state;
    struct testzip_entry ents[] = {{"imsmanifest.xml", manifest_ok, sizeof manifest_ok - 1, 0},
                                   {"test.xml", test_xml, sizeof test_xml - 1, 0},
                                   {"evilXname.xml", test_xml, sizeof test_xml - 1, 0}};
    char *path = tmp_path("t.zip");
    assert_int_equal(testzip_write(path, ents, 3), 0);
    /* Replace the X by a NUL in both the local and the central header. */
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf, f);
    int patched = 0;
    for (size_t i = 0; i + 13 <= n; i++)
        if (memcmp(buf + i, "evilXname.xml", 13) == 0) {
            buf[i + 4] = 0;
            patched++;
        }
    assert_int_equal(patched, 2);
    rewind(f);
    assert_int_equal(fwrite(buf, 1, n, f), n);
    fclose(f);
    struct qti_package *p = NULL;
    struct op_err e = {0};
    assert_int_not_equal(qti_package_open(path, NULL, &p, &e), 0);
    assert_non_null(strstr(e.msg, "NUL"));
    free(path);
}

static void test_package_refuses_symlink_entry(void **state)
{
    (void)state;
    struct testzip_entry ents[] = {{"imsmanifest.xml", manifest_ok, sizeof manifest_ok - 1, 0},
                                   {"test.xml", test_xml, sizeof test_xml - 1, 0},
                                   {"passwd", "/etc/passwd", 11, 1}};
    expect_refused(ents, 3, NULL, "passwd: symbolic links are not allowed");
}

static void test_package_refuses_duplicate_entry(void **state)
{
    (void)state;
    struct testzip_entry ents[] = {{"imsmanifest.xml", manifest_ok, sizeof manifest_ok - 1, 0},
                                   {"test.xml", test_xml, sizeof test_xml - 1, 0},
                                   {"./test.xml", test_xml, sizeof test_xml - 1, 0}};
    expect_refused(ents, 3, NULL, "test.xml: the archive holds this file twice");
}

static void test_package_refuses_zip_bomb_by_ratio(void **state)
{
    (void)state;
    size_t big = 16 * 1024 * 1024;
    char *zeros = calloc(1, big);
    struct testzip_entry ents[] = {{"imsmanifest.xml", manifest_ok, sizeof manifest_ok - 1, 0},
                                   {"test.xml", test_xml, sizeof test_xml - 1, 0},
                                   {"bomb.bin", zeros, big, 0}};
    expect_refused(ents, 3, NULL, "bomb.bin: compression ratio over 200:1 (zip bomb?)");
    free(zeros);
}

static void test_package_refuses_total_uncompressed_size_over_limit(void **state)
{
    (void)state;
    struct qti_limits lim;
    qti_limits_default(&lim);
    lim.max_total_bytes = 200;
    struct testzip_entry ents[] = {{"imsmanifest.xml", manifest_ok, sizeof manifest_ok - 1, 0},
                                   {"test.xml", test_xml, sizeof test_xml - 1, 0}};
    expect_refused(ents, 2, &lim, "expands to more than 200 bytes");
}

static void test_package_refuses_too_many_entries(void **state)
{
    (void)state;
    struct qti_limits lim;
    qti_limits_default(&lim);
    lim.max_entries = 1;
    struct testzip_entry ents[] = {{"imsmanifest.xml", manifest_ok, sizeof manifest_ok - 1, 0},
                                   {"test.xml", test_xml, sizeof test_xml - 1, 0}};
    expect_refused(ents, 2, &lim, "2 entries, over the limit of 1");
}

static void test_package_refuses_file_that_is_not_a_zip(void **state)
{
    (void)state;
    char *path = testutil_write(tmp, "t.zip", "this is not a zip archive at all");
    struct qti_package *p = NULL;
    struct op_err e = {0};
    assert_int_not_equal(qti_package_open(path, NULL, &p, &e), 0);
    assert_non_null(strstr(e.msg, "t.zip: not a valid zip archive"));
    free(path);
}

static void test_package_refuses_archive_without_manifest(void **state)
{
    (void)state;
    struct testzip_entry ents[] = {{"test.xml", test_xml, sizeof test_xml - 1, 0}};
    expect_refused(ents, 1, NULL, "no imsmanifest.xml");
}

static void test_package_refuses_manifest_pointing_nowhere(void **state)
{
    (void)state;
    static const char m[] =
        "<manifest xmlns=\"http://www.imsglobal.org/xsd/imscp_v1p1\"><resources>\n"
        "<resource identifier=\"T\" type=\"imsqti_test_xmlv2p1\" href=\"test.xml\">\n"
        "<file href=\"test.xml\"/><file href=\"wrong/qti.xml\"/></resource>\n"
        "</resources></manifest>";
    struct testzip_entry ents[] = {{"imsmanifest.xml", m, sizeof m - 1, 0},
                                   {"test.xml", test_xml, sizeof test_xml - 1, 0}};
    expect_refused(ents, 2, NULL,
                   "imsmanifest.xml line 3: resource T lists wrong/qti.xml, which is not in "
                   "the archive");
}

static void test_package_refuses_resource_href_missing_from_archive(void **state)
{
    (void)state;
    static const char m[] =
        "<manifest xmlns=\"http://www.imsglobal.org/xsd/imscp_v1p1\"><resources>\n"
        "<resource identifier=\"T\" type=\"imsqti_test_xmlv2p1\" href=\"to/test.xml\"/>\n"
        "</resources></manifest>";
    struct testzip_entry ents[] = {{"imsmanifest.xml", m, sizeof m - 1, 0},
                                   {"test.xml", test_xml, sizeof test_xml - 1, 0}};
    expect_refused(ents, 2, NULL, "imsmanifest.xml line 2: resource T points to to/test.xml");
}

static void test_package_refuses_unknown_qti_version(void **state)
{
    (void)state;
    static const char m[] =
        "<manifest xmlns=\"http://www.imsglobal.org/xsd/imscp_v1p1\"><resources>\n"
        "<resource identifier=\"T\" type=\"imsqti_test_xmlv2p1\" href=\"test.xml\"/>\n"
        "<resource identifier=\"I\" type=\"imsqti_item_xmlv3p0\" href=\"test.xml\"/>\n"
        "</resources></manifest>";
    struct testzip_entry ents[] = {{"imsmanifest.xml", m, sizeof m - 1, 0},
                                   {"test.xml", test_xml, sizeof test_xml - 1, 0}};
    expect_refused(ents, 2, NULL,
                   "imsmanifest.xml line 3: resource I has type imsqti_item_xmlv3p0: unknown "
                   "QTI version");
}

static void test_package_refuses_malformed_manifest_with_line(void **state)
{
    (void)state;
    static const char m[] = "<manifest>\n<resources>\n<resource identifier=\"T\">\n</manifest>";
    struct testzip_entry ents[] = {{"imsmanifest.xml", m, sizeof m - 1, 0}};
    expect_refused(ents, 1, NULL, "imsmanifest.xml line 4: malformed XML: ");
}

static void test_package_refuses_entity_declarations(void **state)
{
    (void)state;
    static const char m[] = "<?xml version=\"1.0\"?>\n<!DOCTYPE m [\n<!ENTITY a \"aaaa\">\n]>\n"
                            "<manifest>&a;</manifest>";
    struct testzip_entry ents[] = {{"imsmanifest.xml", m, sizeof m - 1, 0}};
    expect_refused(ents, 1, NULL, "imsmanifest.xml line 3: the document declares entities");
}

static void test_package_refuses_dependency_on_undeclared_resource(void **state)
{
    (void)state;
    static const char m[] =
        "<manifest xmlns=\"http://www.imsglobal.org/xsd/imscp_v1p1\"><resources>\n"
        "<resource identifier=\"T\" type=\"imsqti_test_xmlv2p1\" href=\"test.xml\">\n"
        "<dependency identifierref=\"Q9\"/></resource>\n"
        "</resources></manifest>";
    struct testzip_entry ents[] = {{"imsmanifest.xml", m, sizeof m - 1, 0},
                                   {"test.xml", test_xml, sizeof test_xml - 1, 0}};
    expect_refused(ents, 2, NULL, "resource T depends on Q9, which the manifest does not declare");
}

static void test_package_refuses_package_without_test(void **state)
{
    (void)state;
    static const char m[] =
        "<manifest xmlns=\"http://www.imsglobal.org/xsd/imscp_v1p1\"><resources>\n"
        "<resource identifier=\"I\" type=\"imsqti_item_xmlv2p2\" href=\"test.xml\"/>\n"
        "</resources></manifest>";
    struct testzip_entry ents[] = {{"imsmanifest.xml", m, sizeof m - 1, 0},
                                   {"test.xml", test_xml, sizeof test_xml - 1, 0}};
    expect_refused(ents, 2, NULL, "no assessmentTest resource");
}

static void test_path_resolve_follows_dotdot_inside_archive_only(void **state)
{
    (void)state;
    char *out;
    struct op_err e = {0};
    assert_int_equal(qti_path_resolve("path/to/test/test.xml", "../../../Q01/qti.xml", &out, &e),
                     0);
    assert_string_equal(out, "Q01/qti.xml");
    free(out);
    assert_int_equal(qti_path_resolve("test.xml", "./Q01/./qti.xml#x", &out, &e), 0);
    assert_string_equal(out, "Q01/qti.xml");
    free(out);
    assert_int_equal(qti_path_resolve("items/a.xml", "img/my%20pic.png", &out, &e), 0);
    assert_string_equal(out, "items/img/my pic.png");
    free(out);
    assert_int_not_equal(qti_path_resolve("items/a.xml", "../../x.png", &out, &e), 0);
    assert_non_null(strstr(e.msg, "climbs out"));
    assert_int_not_equal(qti_path_resolve("a.xml", "/etc/passwd", &out, &e), 0);
    assert_int_not_equal(qti_path_resolve("a.xml", "http://evil/x.png", &out, &e), 0);
    assert_int_not_equal(qti_path_resolve("a.xml", "file:///etc/passwd", &out, &e), 0);
    assert_int_not_equal(qti_path_resolve("a.xml", "a%2F..%2F..%2Fx", &out, &e), 0);
}

/* "%2e%2e" is "..": decoded before resolving, never after (a lookup of "a/../../x" would
 * find nothing today, but the resolved path must never climb). */
static void test_path_resolve_decodes_percent_escapes_before_resolving_dotdot(void **state)
{
    (void)state;
    char *out = NULL;
    struct op_err e = {0};
    int rc = qti_path_resolve(NULL, "a/%2e%2e/%2e%2e/x", &out, &e);
    if (rc == 0)
        fail_msg("resolved to \"%s\"", out);
    assert_non_null(strstr(e.msg, "climbs out"));
    rc = qti_path_resolve("items/q.xml", "%2E%2e/%2e%2E/%2e%2e/etc/passwd", &out, &e);
    if (rc == 0)
        fail_msg("resolved to \"%s\"", out);
    /* exactly like "..", and "%2e" like "." */
    struct {
        const char *base, *dots, *escaped;
    } same[] = {
        {"items/q.xml", "../img/a.png", "%2e%2e/img/a.png"},
        {"items/q.xml", "../img/a.png", ".%2E/img/a.png"},
        {"a/b/c/t.xml", "../../x/./y.png", "%2e%2e/%2E%2E/x/%2e/y.png"},
        {"a/b/t.xml", "x/../../y.png", "x/%2e%2e/%2e%2e/y.png"},
        {"t.xml", "../y.png", "%2e%2e/y.png"},
        {NULL, "a/../b.png", "a/%2e%2e/b.png"},
        {NULL, "a/../..", "a/%2e%2e/%2e%2e"},
        {"a/t.xml", "..", "%2e%2e"},
        {"a/t.xml", "../my%20pic.png", "%2e%2e/my%20pic.png"},
    };
    for (size_t k = 0; k < sizeof same / sizeof same[0]; k++) {
        char *o1 = NULL, *o2 = NULL;
        struct op_err e1 = {0}, e2 = {0};
        int r1 = qti_path_resolve(same[k].base, same[k].dots, &o1, &e1);
        int r2 = qti_path_resolve(same[k].base, same[k].escaped, &o2, &e2);
        if (r1 != r2 || (o1 && (!o2 || strcmp(o1, o2) != 0)))
            fail_msg("%s: \"%s\" gives %d \"%s\", \"%s\" gives %d \"%s\"", same[k].base,
                     same[k].dots, r1, o1 ? o1 : e1.msg, same[k].escaped, r2, o2 ? o2 : e2.msg);
        free(o1);
        free(o2);
    }
    /* an escaped separator is still refused, not decoded into one */
    assert_int_not_equal(qti_path_resolve("a.xml", "x%2f..%2f..%2fy", &out, &e), 0);
    assert_int_not_equal(qti_path_resolve("a.xml", "x%5c..%5cy", &out, &e), 0);
    assert_int_not_equal(qti_path_resolve("a.xml", "x%00y", &out, &e), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_package_reads_demo_manifest_and_files, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_package_refuses_archive_over_size_limit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_package_refuses_entry_climbing_out_of_archive, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_package_refuses_absolute_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_package_refuses_backslash_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_package_refuses_nul_in_entry_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_package_refuses_symlink_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_package_refuses_duplicate_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_package_refuses_zip_bomb_by_ratio, setup, teardown),
        cmocka_unit_test_setup_teardown(test_package_refuses_total_uncompressed_size_over_limit,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_package_refuses_too_many_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_package_refuses_file_that_is_not_a_zip, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_package_refuses_archive_without_manifest, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_package_refuses_manifest_pointing_nowhere, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_package_refuses_resource_href_missing_from_archive,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_package_refuses_unknown_qti_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_package_refuses_malformed_manifest_with_line, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_package_refuses_entity_declarations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_package_refuses_dependency_on_undeclared_resource,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_package_refuses_package_without_test, setup, teardown),
        cmocka_unit_test(test_path_resolve_follows_dotdot_inside_archive_only),
        cmocka_unit_test(test_path_resolve_decodes_percent_escapes_before_resolving_dotdot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
