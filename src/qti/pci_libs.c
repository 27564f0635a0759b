/*
 * pci_libs.c - the table of shared libraries a PCI's frame is given (see pci_libs.h).
 *
 * Each row names the ids TAO's PCIs ask for: "taoQtiItem/portableLib/..." (TAO 3.2 and
 * later, IMS PCI 1.0 and TAO's own form), the legacy aliases TAO still registers for older
 * PCIs ("IMSGlobal/jquery_2_1_1", "OAT/util/..."), and the bare ids an IMS export maps in its
 * configuration file ("jquery_2_1_1"). The first id is the one the frame's <script> carries
 * (data-module), the others its aliases (data-aliases).
 */
#include "qti/pci_libs.h"

#include <string.h>

#define TAO "taoQtiItem/portableLib/"

static const struct qti_pci_lib libs[] = {
    {"jquery",
     {TAO "jquery_2_1_1", "IMSGlobal/jquery_2_1_1", "jquery_2_1_1", "jquery", NULL},
     {NULL},
     "jQuery, Debian's libjs-jquery"},
    {"lodash",
     {TAO "lodash", "OAT/lodash", "lodash", NULL},
     {NULL},
     "lodash, Debian's libjs-lodash"},
    {"handlebars-upstream",
     {"outpost/handlebars-upstream", NULL},
     {NULL},
     "Handlebars, Debian's libjs-handlebars"},
    {"handlebars",
     {TAO "handlebars", "OAT/handlebars", "handlebars", NULL},
     {"handlebars-upstream", NULL},
     "Outpost: Handlebars' own parser, templates run without eval"},
    {"OAT/util/EventMgr", {TAO "OAT/util/EventMgr", "OAT/util/EventMgr", NULL}, {NULL}, "Outpost"},
    {"OAT/util/event",
     {TAO "OAT/util/event", "OAT/util/event", NULL},
     {"OAT/util/EventMgr", NULL},
     "Outpost"},
    {"OAT/util/xml", {TAO "OAT/util/xml", "OAT/util/xml", NULL}, {NULL}, "Outpost"},
    {"mathJax", {"mathJax", NULL}, {NULL}, "Outpost: none (MathML is shown by the browser)"},
    {"OAT/util/math",
     {TAO "OAT/util/math", "OAT/util/math", NULL},
     {"jquery", NULL},
     "Outpost (MathML is shown by the browser)"},
    {"jquery.qtip",
     {TAO "jquery.qtip", "OAT/jquery.qtip", NULL},
     {"jquery", NULL},
     "Outpost: the part of qTip2's API TAO's PCIs use"},
    {"OAT/util/tooltip",
     {TAO "OAT/util/tooltip", "OAT/util/tooltip", NULL},
     {"jquery", "jquery.qtip", NULL},
     "Outpost"},
    {"OAT/util/html",
     {TAO "OAT/util/html", "OAT/util/html", NULL},
     {"OAT/util/xml", "OAT/util/math", "OAT/util/tooltip", NULL},
     "Outpost"},
    {"OAT/util/tpl",
     {TAO "OAT/util/tpl", "OAT/util/tpl", NULL},
     {"jquery", "handlebars", NULL},
     "Outpost"},
    {"OAT/util/asset", {TAO "OAT/util/asset", "OAT/util/asset", NULL}, {"jquery", NULL}, "Outpost"},
    {"promise",
     {TAO "es6-promise", TAO "OAT/promise", "OAT/promise", NULL},
     {NULL},
     "Outpost: the browser's own Promise"},
};

const struct qti_pci_lib *qti_pci_lib_by_id(const char *id)
{
    for (size_t i = 0; id && i < sizeof libs / sizeof libs[0]; i++)
        for (size_t k = 0; k < QTI_PCI_LIB_MAX_IDS && libs[i].ids[k]; k++)
            if (strcmp(libs[i].ids[k], id) == 0)
                return &libs[i];
    return NULL;
}

const struct qti_pci_lib *qti_pci_lib_by_file(const char *file)
{
    for (size_t i = 0; file && i < sizeof libs / sizeof libs[0]; i++)
        if (strcmp(libs[i].file, file) == 0)
            return &libs[i];
    return NULL;
}
