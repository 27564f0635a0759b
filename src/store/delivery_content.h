/*
 * delivery_content.h - the encrypted copies of deliveries' compiled packages (central): one row
 * per delivery version at which the package changed (the import is version 1; a label-only
 * change adds none), naming the encrypted file in the content-addressed store
 * (store/packages.h, DIR/packages/enc/<enc_sha256>) and holding its content key wrapped under
 * central's master key (crypto/content.h; never in clear). The content of version V of a
 * delivery is the row with the greatest version <= V. Rows of older versions are kept while
 * the delivery exists, so a device whose execution started on one can still fetch its
 * package; they go with the delivery (ON DELETE CASCADE).
 *
 * Writes run inside a transaction the caller opened. Nothing here is synchronised as such: a
 * device learns (enc_sha256, enc_size) with the delivery and its key sealed to each test taker.
 */
#ifndef OUTPOST_STORE_DELIVERY_CONTENT_H
#define OUTPOST_STORE_DELIVERY_CONTENT_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/ids.h"
#include "base/keysize.h"
#include "base/sha256.h"
#include "store/db.h"

#define DELIVERY_CONTENT_WRAPPED_MAX 128 /* bytes of a wrapped key the row can hold */

struct delivery_content {
    char delivery_id[UUID_STR_LEN];
    int64_t version; /* the delivery version from which this package is current */
    char package_sha256[SHA256_HEX_LEN]; /* the compiled (clear) package, store/packages.h */
    char enc_sha256[SHA256_HEX_LEN];     /* the encrypted file's name and hash */
    int64_t enc_size;
    unsigned char wrapped_key[DELIVERY_CONTENT_WRAPPED_MAX];
    size_t wrapped_len;
    char master_key_id[KEY_ID_HEX_LEN]; /* the master key the content key is wrapped under */
    char created_at[TIMESTAMP_STR_LEN];
};

/* Inserts *c (created_at filled now). OP_ECONFLICT if the delivery already has a row at that
 * version; OP_EINPUT for a malformed hash, size or key. */
int delivery_content_insert(struct db *db, struct delivery_content *c, struct op_err *e);

/* The content of delivery `delivery_id` at `version` (0: the latest row): the row with the
 * greatest version <= `version`. OP_ENOTFOUND (message set) when there is none. */
int delivery_content_get(struct db *db, const char *delivery_id, int64_t version,
                         struct delivery_content *out, struct op_err *e);

/* A row naming the encrypted file `enc_sha256` (the newest): OP_ENOTFOUND when no delivery
 * central holds refers to it. */
int delivery_content_find_enc(struct db *db, const char *enc_sha256, struct delivery_content *out,
                              struct op_err *e);

/* The package history of delivery `delivery_id`: fn for each of its rows, oldest version
 * first (wrapped keys included; a caller showing them leaves those out). A non-zero return
 * from fn stops and is returned. No row is an empty history, not an error. */
typedef int (*delivery_content_fn)(const struct delivery_content *c, void *ctx);
int delivery_content_history(struct db *db, const char *delivery_id, delivery_content_fn fn,
                             void *ctx, struct op_err *e);

#endif
