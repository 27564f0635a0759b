/*
 * pci_libs.h - the shared libraries Outpost gives a Portable Custom Interaction's frame.
 *
 * TAO's PCIs ask, in their define([...]), for libraries that TAO's delivery provides and its
 * exports do not carry: jQuery (IMSGlobal/jquery_2_1_1, taoQtiItem/portableLib/jquery_2_1_1),
 * lodash, Handlebars and TAO's small OAT/util modules (event, EventMgr, html, xml, math,
 * tooltip, tpl, asset), under the ids TAO's two generations of PCIs use. This table is the one
 * place that says which ids Outpost provides and with which file: the import check
 * (qti_pci_check_loadable) takes a dependency on one of them instead of refusing it, and the
 * frame (src/app/pci_frame.c) inlines the files a PCI needs, by hash, before its own modules.
 *
 * A file is either a library of Debian (jQuery, lodash, Handlebars, read from
 * /usr/share/javascript at build time) or one of Outpost's own modules (pcilib/), written to
 * the API TAO's PCIs call; scripts/embed-pci-libs.cmake puts their bytes in the binary.
 */
#ifndef OUTPOST_QTI_PCI_LIBS_H
#define OUTPOST_QTI_PCI_LIBS_H

#include <stddef.h>

#define QTI_PCI_LIB_MAX_IDS  8
#define QTI_PCI_LIB_MAX_DEPS 4

struct qti_pci_lib {
    const char *file;                       /* its key: a file of the embedded table */
    const char *ids[QTI_PCI_LIB_MAX_IDS];   /* the AMD ids it answers to (NULL-ended) */
    const char *deps[QTI_PCI_LIB_MAX_DEPS]; /* files it needs (NULL-ended) */
    const char *origin;                     /* for docs/qti.md: where it comes from */
};

/* The library answering to the AMD id `id`, or NULL when Outpost provides none. */
const struct qti_pci_lib *qti_pci_lib_by_id(const char *id);

/* The library whose file key is `file`, or NULL. */
const struct qti_pci_lib *qti_pci_lib_by_file(const char *file);

/* The bytes of a library's file (NUL-terminated, *len without the NUL), or NULL when this
 * build lacks it. Defined in the generated source of scripts/embed-pci-libs.cmake. */
const unsigned char *qti_pci_lib_source(const char *file, size_t *len);

#endif
