/*
 * pci_frame.c - the sandboxed document of a Portable Custom Interaction (see pci_frame.h).
 */
#include "app/pci_frame.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

#include "qti/pci_libs.h"
#include "qti/xhtml.h"

/* Appends `s` (len bytes) as the text of an inline <script> and its hash source
 * ('sha256-...') to `csp`. "</script" and "<!--" would end the element or change how HTML
 * reads it: they become "<\/script" and "<\!--", the same text inside a JavaScript string,
 * comment or regular expression, the only places a module can hold them. The hash is of the
 * text as written. */
static int add_script(struct buf *html, struct buf *csp, const char *attrs, const char *s,
                      size_t len)
{
    struct buf text = BUF_INIT;
    size_t i = 0;
    while (i < len) {
        if (s[i] == '<' && i + 8 <= len && strncasecmp(s + i, "</script", 8) == 0) {
            buf_append(&text, "<\\/", 3);
            i += 2;
        } else if (s[i] == '<' && i + 4 <= len && strncmp(s + i, "<!--", 4) == 0) {
            buf_append(&text, "<\\!", 3);
            i += 2;
        } else {
            buf_append(&text, s + i, 1);
            i++;
        }
    }
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)(text.data ? text.data : ""), text.len);
    char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, h, sizeof h, sodium_base64_VARIANT_ORIGINAL);
    buf_printf(csp, " 'sha256-%s'", b64);
    buf_printf(html, "<script%s>", attrs);
    if (text.len)
        buf_append(html, text.data, text.len);
    buf_puts(html, "</script>\n");
    buf_free(&text);
    return 0;
}

int pci_frame_build(const struct runner_package *p, const struct qti_pci *pci, const char *shim,
                    size_t shim_len, struct buf *html, struct buf *csp, struct op_err *e)
{
    if (pci->nmodules == 0)
        return err_set(e, OP_ENOTFOUND, "PCI %s has no module", pci->type_identifier);
    buf_puts(csp, "default-src 'none'; script-src");
    buf_puts(html, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                   "<meta name=\"referrer\" content=\"no-referrer\"><title>");
    qti_xhtml_escape(html, pci->type_identifier);
    buf_puts(html, "</title>\n");
    /* the PCI's stylesheets (the item's, TAO's), inline: the frame loads nothing; a url() in
     * them that is not data: stays unloaded (img-src, font-src) */
    for (size_t i = 0; i < pci->nstyles; i++) {
        const unsigned char *data;
        size_t len;
        const char *type;
        if (runner_package_asset(p, pci->styles[i], &data, &len, &type, e) < 0)
            return err_prefix(e, "PCI %s, stylesheet %s", pci->type_identifier, pci->styles[i]);
        buf_puts(html, "<style>");
        for (size_t k = 0; k < len; k++) {
            /* "</style" would end the element: "<\/style" reads the same in a CSS string */
            if (data[k] == '<' && k + 7 <= len &&
                strncasecmp((const char *)data + k, "</style", 7) == 0) {
                buf_puts(html, "<\\/");
                k++;
            } else {
                buf_append(html, (const char *)data + k, 1);
            }
        }
        buf_puts(html, "</style>\n");
    }
    buf_puts(html, "</head>\n<body data-entry=\"");
    qti_xhtml_escape(html, pci->module_ids[pci->nmodules - 1]);
    buf_puts(html, "\" data-type=\"");
    qti_xhtml_escape(html, pci->type_identifier);
    buf_puts(html, "\" data-version=\"");
    buf_puts(html, pci->version ? "1" : "0");
    buf_puts(html, "\"><div id=\"pci-root\"></div>\n");
    add_script(html, csp, "", shim, shim_len);
    /* the shared libraries it needs (src/qti/pci_libs.h), before its own modules, so that a
     * library's id is answered by Outpost's file first */
    for (size_t i = 0; i < pci->nlibs; i++) {
        const struct qti_pci_lib *lib = qti_pci_lib_by_file(pci->libs[i]);
        size_t len = 0;
        const unsigned char *src = lib ? qti_pci_lib_source(lib->file, &len) : NULL;
        if (!src)
            return err_set(e, OP_ENOTFOUND,
                           "PCI %s needs the shared library %s, which this build does not hold",
                           pci->type_identifier, pci->libs[i]);
        struct buf attrs = BUF_INIT;
        buf_puts(&attrs, " data-module=\"");
        qti_xhtml_escape(&attrs, lib->ids[0]);
        buf_puts(&attrs, "\" data-aliases=\"");
        for (size_t k = 1; k < QTI_PCI_LIB_MAX_IDS && lib->ids[k]; k++) {
            if (k > 1)
                buf_puts(&attrs, " ");
            qti_xhtml_escape(&attrs, lib->ids[k]);
        }
        buf_puts(&attrs, "\"");
        add_script(html, csp, attrs.data, (const char *)src, len);
        buf_free(&attrs);
    }
    for (size_t i = 0; i < pci->nmodules; i++) {
        const unsigned char *data;
        size_t len;
        const char *type;
        if (runner_package_asset(p, pci->modules[i], &data, &len, &type, e) < 0)
            return err_prefix(e, "PCI %s, module %s", pci->type_identifier, pci->module_ids[i]);
        struct buf attrs = BUF_INIT;
        buf_puts(&attrs, " data-module=\"");
        qti_xhtml_escape(&attrs, pci->module_ids[i]);
        buf_puts(&attrs, "\"");
        add_script(html, csp, attrs.data, (const char *)data, len);
        buf_free(&attrs);
    }
    buf_puts(html, "</body></html>\n");
    /* no fetch, no XHR, no socket, no form, no frame, no worker; styles inline only (a PCI
     * styles its own markup), images, media and fonts only from what the page hands over */
    buf_puts(csp, "; style-src 'unsafe-inline'; img-src blob: data:; media-src blob: data:; "
                  "font-src data:; connect-src 'none'; frame-src 'none'; child-src 'none'; "
                  "worker-src 'none'; manifest-src 'none'; object-src 'none'; form-action 'none'; "
                  "base-uri 'none'; frame-ancestors 'self'; sandbox allow-scripts");
    return 0;
}
