/*
 * fuzz_pci_modules.c - the code of a PCI is package content, hostile until checked:
 * qti_pci_check_loadable reads each module's text (UTF-8, size, the define([...])
 * dependencies it asks for) and must refuse or accept any bytes without crashing, leaking or
 * reading out of bounds. The bytes are the entry module of a PCI that also lists a library.
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
    };
    struct qti_package *pkg = NULL;
    struct op_err e = {0};
    if (qti_package_from_files("fuzz.zip", files, sizeof files / sizeof *files, NULL, &pkg, &e))
        return 0;
    char *modules[] = {(char *)"items/pci/lib.js", (char *)"items/pci/entry.js"};
    char *ids[] = {(char *)"pci/lib", (char *)"pci/entry"};
    struct qti_pci pci;
    memset(&pci, 0, sizeof pci);
    pci.type_identifier = (char *)"fuzz";
    pci.nmodules = 2;
    pci.modules = modules;
    pci.module_ids = ids;
    qti_pci_check_loadable(&pci, pkg, NULL, "items/fuzz.xml", &e);
    for (size_t i = 0; i < pci.nlibs; i++) /* the shared libraries a define asked for */
        free(pci.libs[i]);
    free(pci.libs);
    qti_package_free(pkg);
    return 0;
}
