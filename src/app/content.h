/*
 * content.h - encrypted delivery packages, both roles (docs/delivery-package.md, "The
 * encrypted package"; docs/security.md, "Content").
 *
 * Central: every delivery version whose compiled package changed (the import, an update with a
 * new package) gets an encrypted copy under a fresh random content key, written as a stream to
 * DIR/packages/enc/<sha256 of the encrypted bytes> BEFORE the transaction that records it
 * (store/delivery_content.h: hash, size, the key wrapped under the master key). A crash between
 * the two leaves an unreferenced file, which app_content_sweep removes; never a row without its
 * file. Recording a new copy gives the delivery's eligibilities a new version (and
 * app_content_ensure the delivery too), so devices get the new package and its sealed keys. The
 * HTTP doors call app_content_locate (GET /api/v1/packages/{sha256}) and app_content_sealed_key
 * (the pull pages), and nothing else.
 *
 * Device: a downloaded package is checked against its hash and moved into the same folder
 * (app_content_store_downloaded); a test taker's sealed content key opens it into a private
 * file for the runner (app_content_open_for); app_content_missing says what still has to be
 * fetched. The device never holds a content key in clear except while opening a package.
 */
#ifndef OUTPOST_APP_CONTENT_H
#define OUTPOST_APP_CONTENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/err.h"
#include "crypto/content.h"
#include "instance/instance.h"
#include "store/delivery_content.h"

/* ---- central ---- */

/* An encrypted copy made before its transaction (sodium_malloc memory: it holds the content
 * key). Made by app_content_prepare, recorded by app_content_record inside the caller's
 * db_write body (which may run more than once), freed (wiped) by app_content_new_free. */
struct app_content_new;

/* Encrypts the compiled package `package_sha256` (DIR/packages/<sha>, its hash checked) for
 * delivery `delivery_id` under a fresh content key into DIR/packages/enc, and loads the
 * current master key to wrap it. Memory stays bounded whatever the package's size. */
int app_content_prepare(struct instance *inst, const char *delivery_id, const char *package_sha256,
                        struct app_content_new **out, struct op_err *e);
/* Inside a transaction: wraps the key for (delivery_id, version) and inserts the row. */
int app_content_record(struct db *db, const struct app_content_new *n, const char *delivery_id,
                       int64_t version, struct op_err *e);
void app_content_new_free(struct app_content_new *n);
/* The hash of the compiled package an app_content_new encrypts. */
const char *app_content_new_package(const struct app_content_new *n);

/* Makes sure the current version of delivery `delivery_id` has its encrypted copy (deliveries
 * imported before encrypted packages existed, or whose package changed without one): encrypts
 * and records it when missing, does nothing otherwise. *made (may be NULL) is 1 when it made
 * one. OP_ENOTFOUND for an unknown delivery; a delivery without a package has nothing to do. */
int app_content_ensure(struct instance *inst, const char *delivery_id, int *made, struct op_err *e);
/* app_content_ensure for every delivery; *made counts those encrypted now. */
int app_content_ensure_all(struct instance *inst, int *made, struct op_err *e);

/* The encrypted package of delivery `delivery_id` at `version` (0: the current one): the row
 * of the greatest version <= `version`. OP_ENOTFOUND if there is none. */
int app_content_get(struct instance *inst, const char *delivery_id, int64_t version,
                    struct delivery_content *out, struct op_err *e);

/* Its public JSON form: enc_sha256, enc_size, since_version, package_sha256, master_key_id
 * (never the wrapped key). New reference. */
json_t *app_content_json(const struct delivery_content *c);

/* The content key of delivery `delivery_id` at `version` (0: current), unwrapped with the
 * master key it is under and sealed to a test taker's vault public key; the clear key is
 * wiped before return. Whether the test taker may have it (an eligibility) is the caller's
 * check. OP_ENOTFOUND for no such delivery or version; OP_ESTATE when the master key it is
 * under is missing; OP_ECRYPTO when the wrapped key does not open. */
int app_content_sealed_key(struct instance *central, const char *delivery_id, int64_t version,
                           const unsigned char user_vault_pk[VAULT_PUBLIC_BYTES],
                           unsigned char out[CONTENT_SEALED_KEY_BYTES], struct op_err *e);

/* The same for many test takers: the content key of delivery `delivery_id` at `version` (0:
 * current), unwrapped once (errors as app_content_sealed_key) into sodium_malloc memory that
 * app_content_key_free wipes; app_content_key_seal seals it to one vault public key;
 * app_content_key_row is the delivery_content row it came from. */
struct app_content_key;
int app_content_key_open(struct instance *central, const char *delivery_id, int64_t version,
                         struct app_content_key **out, struct op_err *e);
int app_content_key_seal(const struct app_content_key *k,
                         const unsigned char user_vault_pk[VAULT_PUBLIC_BYTES],
                         unsigned char out[CONTENT_SEALED_KEY_BYTES], struct op_err *e);
const struct delivery_content *app_content_key_row(const struct app_content_key *k);
void app_content_key_free(struct app_content_key *k);

/* For GET /api/v1/packages/{sha256}: the path (caller frees) and size of the encrypted
 * package `enc_sha256`, which must be one a delivery central holds refers to. OP_EINPUT for
 * something that is not a hash, OP_ENOTFOUND for a hash no delivery has (any other file in
 * the folder is never served), OP_ESTATE when the file is missing or of another size. */
int app_content_locate(struct instance *central, const char *enc_sha256, char **path,
                       uint64_t *size, struct op_err *e);

/* app_content_locate for a device of organisation `org_id` (from its credential): the package
 * must also be one of a delivery in that organisation's scope now (store/feed.h). A hash that
 * is malformed, unknown, or of a delivery outside the scope is one and the same OP_ENOTFOUND,
 * with one message that does not depend on which: a device learns nothing of other
 * organisations' packages. */
#define APP_CONTENT_NO_PACKAGE "no such package: ask for one a delivery of your organisation names"
int app_content_locate_in_org(struct instance *central, const char *org_id, const char *enc_sha256,
                              char **path, uint64_t *size, struct op_err *e);

/* Removes encrypted package files that no delivery refers to, and temporary files left by a
 * crash, older than `min_age` seconds (younger ones may belong to an import still running).
 * *removed counts. Central only. */
#define APP_CONTENT_SWEEP_MIN_AGE 3600
int app_content_sweep(struct instance *central, long min_age, int *removed, struct op_err *e);

/* ---- device ---- */

/* What a synchronised delivery version needs: its encrypted package's hash and size. */
struct app_content_ref {
    char delivery_id[UUID_STR_LEN];
    int64_t version;
    char enc_sha256[SHA256_HEX_LEN];
    uint64_t enc_size;
};

/* Takes a downloaded package into DIR/packages/enc: checks that `downloaded_path` hashes to
 * `enc_sha256` (OP_ECRYPTO and nothing moved if not: fetch it again), then moves it there.
 * Device only. */
int app_content_store_downloaded(struct instance *device, const char *delivery_id, int64_t version,
                                 const char *enc_sha256, const char *downloaded_path,
                                 struct op_err *e);
/* The same for a file the caller has just written and checked against `enc_sha256` itself
 * (http_download hashes while it receives and renames into place only a file that matched):
 * moved in without reading it back, so a device hashes each package once. */
int app_content_store_checked(struct instance *device, const char *delivery_id, int64_t version,
                              const char *enc_sha256, const char *downloaded_path,
                              struct op_err *e);

/* Opens the encrypted package `ref` with a sealed content key and the test taker's unwrapped
 * vault key pair, writing the compiled package to `out`. OP_ECRYPTO for a key sealed to
 * someone else, a key of another package, an altered file or a package of another delivery;
 * OP_ENOTFOUND when the package is not on the device. On failure `out` holds a prefix that
 * must be discarded (app_content_open_to_file does). The clear content key is wiped. */
int app_content_open_for(struct instance *device, const struct app_content_ref *ref,
                         const unsigned char *sealed_key, size_t sealed_len,
                         const unsigned char user_pk[VAULT_PUBLIC_BYTES],
                         const unsigned char user_sk[VAULT_SECRET_BYTES], FILE *out,
                         struct op_err *e);
/* app_content_open_for into a new private file (0600) at `out_path`, put in place by rename
 * only when the whole package verified; nothing is left there on failure. */
int app_content_open_to_file(struct instance *device, const struct app_content_ref *ref,
                             const unsigned char *sealed_key, size_t sealed_len,
                             const unsigned char user_pk[VAULT_PUBLIC_BYTES],
                             const unsigned char user_sk[VAULT_SECRET_BYTES], const char *out_path,
                             struct op_err *e);

/* Of the `n` packages `needed` (from the synchronised deliveries), those the device lacks
 * (absent, or of another size: a partial download), each hash once: *missing (caller frees)
 * gets *nmissing entries in the order of `needed`. A malformed hash is OP_EINPUT. */
int app_content_missing(struct instance *device, const struct app_content_ref *needed, size_t n,
                        struct app_content_ref **missing, size_t *nmissing, struct op_err *e);

#endif
