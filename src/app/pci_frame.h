/*
 * pci_frame.h - the document a Portable Custom Interaction runs in on the device's page
 * (docs/security.md, "Portable Custom Interactions"; docs/qti.md, "Portable Custom
 * Interactions").
 *
 * The take page shows each PCI in an <iframe sandbox="allow-scripts"> (no allow-same-origin:
 * the frame has an opaque origin, no cookie, no storage, no access to the page) whose document
 * is GET /api/v1/executions/{id}/pci/<entry module path>. That document holds, inline, the
 * page's shim (web/pci-frame.js: an AMD loader and qtiCustomInteractionContext, speaking the
 * page's message protocol), the shared libraries the PCI needs (src/qti/pci_libs.h: jQuery,
 * lodash, Handlebars, TAO's OAT/util modules, embedded in the binary) and the PCI's modules
 * read from the compiled package, each as a
 * <script> whose SHA-256 is listed in the document's Content-Security-Policy: no other script
 * runs, nothing is fetched (default-src 'none', connect-src 'none'), images and media only
 * from blob: and data: URLs the page hands over, and the CSP's own sandbox keeps the document
 * sandboxed even when opened alone.
 */
#ifndef OUTPOST_APP_PCI_FRAME_H
#define OUTPOST_APP_PCI_FRAME_H

#include <stddef.h>

#include "app/runner.h"
#include "base/buf.h"
#include "base/err.h"
#include "qti/pci.h"

/* What the frame's answer carries besides its CSP. */
#define PCI_FRAME_PERMISSIONS                                                                      \
    "camera=(), microphone=(), geolocation=(), display-capture=(), usb=(), serial=(), "            \
    "bluetooth=(), hid=(), payment=(), clipboard-read=(), screen-wake-lock=()"

/* Builds the frame document of `pci` into `html` and its Content-Security-Policy into `csp`
 * (both appended to). `shim` is the text of web/pci-frame.js. The modules are read from `p`;
 * a module the package lacks is OP_ENOTFOUND naming it. */
int pci_frame_build(const struct runner_package *p, const struct qti_pci *pci, const char *shim,
                    size_t shim_len, struct buf *html, struct buf *csp, struct op_err *e);

#endif
