/*
 * fuzz_pci_modules.c - the code of a PCI is package content, hostile until checked:
 * qti_pci_check_loadable reads each module's text (UTF-8, size, the define([...])
 * dependencies it asks for, the shared libraries among them) and an IMS PCI's
 * primaryConfiguration (JSON whose paths name the files of modules listed without one), and
 * must refuse or accept any bytes without crashing, leaking or reading out of bounds. The
 * bytes are both the entry module of a PCI and its configuration; the PCI also lists a
 * library with its file, one named only in the configuration and one that is a shared
 * library (jquery_2_1_1).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qti/pci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char manifest[] =
    "<manifest xmlns=\"http://www.imsglobal.org/xsd/imscp_v1p1\" identifier=\"M\"><resources>"
    "<resource identifier=\"T\" type=\"imsqti_test_xmlv2p2\" href=\"test.xml\"/>"
    "</resources></manifest>";
static const char lib[] = "define('named', ['./entry'], function () {});";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct qti_file files[] = {
        {(char *)"imsmanifest.xml", (unsigned char *)manifest, sizeof manifest - 1},
        {(char *)"items/pci/lib.js", (unsigned char *)lib, sizeof lib - 1},
        {(char *)"items/pci/entry.js", (unsigned char *)data, size},
        {(char *)"items/pci/config.json", (unsigned char *)data, size},
    };
    struct qti_package *pkg = NULL;
    struct op_err e = {0};
    if (qti_package_from_files("fuzz.zip", files, sizeof files / sizeof *files, NULL, &pkg, &e))
        return 0;
    /* heap-allocated as qti_pci_parse makes it: the check resolves and drops modules */
    static const char *const paths[] = {"items/pci/lib.js", NULL, NULL, "items/pci/entry.js"};
    static const char *const ids[] = {"pci/lib", "pci/conf", "jquery_2_1_1", "pci/entry"};
    struct qti_pci *pci = calloc(1, sizeof *pci);
    const size_t n = sizeof ids / sizeof ids[0];
    if (!pci || !(pci->modules = calloc(n, sizeof *pci->modules)) ||
        !(pci->module_ids = calloc(n, sizeof *pci->module_ids)))
        abort();
    pci->type_identifier = strdup("fuzz");
    pci->config = strdup("items/pci/config.json");
    for (size_t i = 0; i < n; i++) {
        pci->modules[i] = paths[i] ? strdup(paths[i]) : NULL;
        pci->module_ids[i] = strdup(ids[i]);
    }
    pci->nmodules = n;
    qti_pci_check_loadable(pci, pkg, NULL, "items/fuzz.xml", &e);
    qti_pci_free(pci);
    qti_package_free(pkg);
    return 0;
}
