/* test_root_url.c - central's root URL (src/http/url.h): every trailing-slash form gives one
 * base, and what is not a root URL is refused with the reason. */
#include "testutil.h"

#include <string.h>

#include "http/url.h"

static void expect(const char *in, const char *want)
{
    char out[HTTP_URL_MAX];
    struct op_err e = {0};
    if (http_root_url_normalise(in, out, &e) != 0)
        fail_msg("%s: refused: %s", in, e.msg);
    if (strcmp(out, want) != 0)
        fail_msg("%s: gave %s, not %s", in, out, want);
}

static void refused(const char *in, const char *why)
{
    char out[HTTP_URL_MAX];
    struct op_err e = {0};
    if (http_root_url_normalise(in, out, &e) != OP_EINPUT)
        fail_msg("%s: accepted as %s", in, out);
    assert_string_equal(e.field, "root-url");
    if (!strstr(e.msg, why))
        fail_msg("%s: message \"%s\" lacks \"%s\"", in, e.msg, why);
}

static void test_root_url_trailing_slash_forms_give_one_base(void **state)
{
    (void)state;
    expect("https://central.example.org", "https://central.example.org");
    expect("https://central.example.org/", "https://central.example.org");
    expect("https://central.example.org//", "https://central.example.org");
    expect("HTTPS://Central.Example.ORG/", "https://central.example.org");
    expect("https://h/outpost/", "https://h/outpost");
    expect("https://h/outpost", "https://h/outpost");
    expect("https://h//outpost//", "https://h/outpost");
    expect("https://h/a/b/", "https://h/a/b");
    expect("http://127.0.0.1:8080/", "http://127.0.0.1:8080");
    expect("https://h:443/", "https://h");
    expect("http://h:80", "http://h");
    expect("https://h:8443", "https://h:8443");
    expect("https://[::1]:8443/x/", "https://[::1]:8443/x");
    expect("https://[::1]/", "https://[::1]");
}

static void test_root_url_refuses_what_is_not_a_root(void **state)
{
    (void)state;
    refused("ftp://central.example.org", "only https:// and http://");
    refused("file:///etc/passwd", "only https:// and http://");
    refused("central.example.org", "no scheme");
    refused("https://user:pw@central.example.org", "user name or password");
    refused("https://user@central.example.org/", "user name or password");
    refused("https://central.example.org/#top", "fragment");
    refused("https://central.example.org/?a=1", "query");
    refused("https://", "no host");
    refused("https:///path", "no host");
    refused("https://h:port/", "port is not a number");
    refused("https://h:0/", "between 1 and 65535");
    refused("https://h:70000/", "between 1 and 65535");
    refused("https://h/a/../b", "path segment");
    refused("https://h/./b", "path segment");
    refused("https://h x/", "space");
    refused("https://h/\x01", "control");
    refused("https://h\xc3\xa9/", "non-ASCII");
    refused("https://h!/", "host name");
    refused("https://[::1/", "IPv6");
    refused("http://]1[:::80", "outside an IPv6 address"); /* found by fuzz_root_url */
    refused("https://[::1]x/", "outside an IPv6 address");
    refused("https://::1/", "in brackets");
    refused("http://[::9]:::80/", "port is not a number"); /* found by fuzz_root_url */
    refused("", "empty");
    char longer[HTTP_URL_MAX + 10];
    memset(longer, 'a', sizeof longer);
    memcpy(longer, "https://h/", 10);
    longer[sizeof longer - 1] = '\0';
    refused(longer, "longer than");
}

static void test_root_url_host_and_scheme(void **state)
{
    (void)state;
    char host[64];
    http_root_url_host("https://h:8443/outpost", host, sizeof host);
    assert_string_equal(host, "h:8443");
    assert_int_equal(http_root_url_is_https("https://h"), 1);
    assert_int_equal(http_root_url_is_https("http://h"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_root_url_trailing_slash_forms_give_one_base),
        cmocka_unit_test(test_root_url_refuses_what_is_not_a_root),
        cmocka_unit_test(test_root_url_host_and_scheme),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
