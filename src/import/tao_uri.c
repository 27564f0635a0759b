/*
 * tao_uri.c - TAO's resource URIs where Outpost wants a name (see tao_uri.h).
 */
#include "import/tao_uri.h"

#include <string.h>
#include <strings.h>

int tao_uri_is(const char *s)
{
    size_t skip = strncasecmp(s, "https://", 8) == 0  ? 8
                  : strncasecmp(s, "http://", 7) == 0 ? 7
                                                      : 0;
    if (!skip || s[skip] == '\0' || s[skip] == '/' || s[skip] == '#')
        return 0; /* no host */
    const char *hash = strchr(s + skip, '#');
    return hash && hash[1] != '\0' && !strpbrk(s, " \t\r\n");
}

const char *tao_uri_advice(enum tao_uri_kind kind)
{
    switch (kind) {
    case TAO_URI_DELIVERY:
        return "name the delivery by its label or id (`outpost deliveries list`): a QTI package "
               "exported from TAO does not carry the URI of its TAO delivery, and the label "
               "given to import-qti (or the test's title) names it here";
    case TAO_URI_TEST_CENTER:
        return "name the test center by its organisation id, label or id (`outpost testcenters "
               "list`), as TAO's test-center CSV gives them";
    case TAO_URI_USER:
        return "name users by their login (`outpost users list`), the login column of TAO's "
               "user CSV";
    }
    return "";
}
