/* tls.c - the server's certificate and key, checked before it starts (see tls.h). */
#include "http/tls.h"

#include <gnutls/gnutls.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs.h"

int http_tls_load(const char *cert_path, const char *key_path, struct http_tls *out,
                  struct op_err *e)
{
    memset(out, 0, sizeof *out);
    size_t cert_len = 0, key_len = 0;
    if (fs_read_file(cert_path, HTTP_TLS_FILE_MAX, &out->cert_pem, &cert_len, e) != 0)
        return err_prefix(e, "TLS certificate");
    if (fs_read_secret(key_path, HTTP_TLS_FILE_MAX, FS_NOFOLLOW, "TLS key", &out->key_pem, &key_len,
                       NULL, e) != 0) {
        err_prefix(e, "TLS key");
        http_tls_free(out);
        return OP_EINPUT;
    }
    gnutls_certificate_credentials_t cred;
    if (gnutls_certificate_allocate_credentials(&cred) != GNUTLS_E_SUCCESS) {
        http_tls_free(out);
        return err_set(e, OP_ENOMEM, "TLS: out of memory");
    }
    gnutls_datum_t c = {(unsigned char *)out->cert_pem, (unsigned)cert_len};
    gnutls_datum_t k = {(unsigned char *)out->key_pem, (unsigned)key_len};
    int g = gnutls_certificate_set_x509_key_mem(cred, &c, &k, GNUTLS_X509_FMT_PEM);
    gnutls_certificate_free_credentials(cred);
    if (g < 0) {
        const char *why = gnutls_strerror(g);
        if (g == GNUTLS_E_CERTIFICATE_KEY_MISMATCH)
            err_set(e, OP_EINPUT,
                    "TLS certificate %s and key %s: the key is not the "
                    "certificate's (%s)",
                    cert_path, key_path, why);
        else
            err_set(e, OP_EINPUT,
                    "TLS certificate %s and key %s: not a PEM certificate chain "
                    "and its private key (%s)",
                    cert_path, key_path, why);
        http_tls_free(out);
        return OP_EINPUT;
    }
    return 0;
}

void http_tls_free(struct http_tls *t)
{
    free(t->cert_pem);
    if (t->key_pem)
        fs_secret_free(t->key_pem);
    t->cert_pem = t->key_pem = NULL;
}
