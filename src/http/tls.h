/*
 * tls.h - the certificate and key of `outpost serve --tls-cert F --tls-key F`, read and checked
 * before the server starts, so that a wrong file is refused with a message naming it rather
 * than by a TLS handshake that fails for every client later.
 */
#ifndef OUTPOST_HTTP_TLS_H
#define OUTPOST_HTTP_TLS_H

#include "base/err.h"

#define HTTP_TLS_FILE_MAX (1024 * 1024)

struct http_tls {
    char *cert_pem; /* malloc'ed, NUL-terminated */
    char *key_pem;  /* fs_read_secret's guarded memory, wiped by http_tls_free */
};

/* Reads the PEM certificate chain `cert_path` and private key `key_path` and checks with
 * GnuTLS that both parse and that the key is the certificate's. Refuses a missing, unreadable
 * or oversized file, a symbolic link for the key, and a pair that does not match, naming the
 * file. */
int http_tls_load(const char *cert_path, const char *key_path, struct http_tls *out,
                  struct op_err *e);

/* Wipes the key and frees both; `t` is then empty. */
void http_tls_free(struct http_tls *t);

#endif
