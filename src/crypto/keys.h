/*
 * keys.h - the long-lived keys of an instance, one file each in DIR/keys (folder 0700, files
 * 0600). A key file is never overwritten: it is created with link(2) from a private temporary
 * file, which fails if the name exists, so neither a re-run of setup nor two commands racing
 * can replace a key (TAO's SetupAsymmetricKeys did, making pending results unreadable).
 *
 * Central:
 *   results-NNNN.key   X25519 key pairs that results are sealed to; NNNN is a serial, the
 *                      highest is current; `keys rotate` adds one and keeps the older ones so
 *                      every result sealed to them still decrypts (envelopes name their key id)
 *   signing.key        Ed25519 key pair: what central signs for devices
 *   master.key         32 random bytes: the escrow key of user vaults (crypto/vault.h)
 *   results-<id>.key   a results key named by its id: a replacement made by setup-central
 *                      --replace-lost-key (so the lost key's name stays free), or a key
 *                      restored from a backup when its own name is taken
 *   master-<id>.key    an older master key restored beside master.key, for the escrow copies
 *                      made under it (a file's id must match its name)
 * Device:
 *   device-signing.key Ed25519 key pair: signs the result envelopes the device sends
 *
 * Key id: the first 8 bytes of BLAKE2b-256 of the public key, in hex (16 characters); for the
 * master key, of a BLAKE2b MAC of a fixed label under the key. Fingerprint (what a device pins
 * and what an operator compares): SHA-256 of the public key, in hex.
 *
 * File format (text, one "name value" per line, in this order):
 *     # Outpost key file: secret, keep mode 0600, never edit
 *     format 1
 *     kind results-x25519 | signing-ed25519 | master
 *     id <16 hex>
 *     serial <n>            (results keys only)
 *     created <ISO-8601 UTC>
 *     public <64 hex>       (not for the master key)
 *     secret <64 hex>       (X25519 secret key, Ed25519 seed, or the master key)
 * Loading opens the file once (O_NOFOLLOW: a symlink is refused) and checks the open file: a
 * regular file owned by this user, no group or other bits (as ssh does); then the format and
 * that the public key matches the secret one. A key folder others can enter is refused.
 */
#ifndef OUTPOST_CRYPTO_KEYS_H
#define OUTPOST_CRYPTO_KEYS_H

#include <stddef.h>

#include "base/err.h"
#include "base/ids.h"
#include "base/keysize.h" /* KEY_ID_BYTES, KEY_ID_HEX_LEN, KEY_PUBLIC_BYTES */

#define KEY_SECRET_BYTES        32 /* X25519 secret, Ed25519 seed, master key */
#define KEY_SIGN_SECRET_BYTES   64 /* Ed25519 secret key as libsodium uses it (seed || public) */
#define KEY_FINGERPRINT_HEX_LEN 65

enum key_kind { KEY_RESULTS, KEY_SIGNING, KEY_MASTER };

/* A loaded key. `secret` holds the X25519 secret key, the Ed25519 seed or the master key;
 * `sign_secret` the expanded Ed25519 secret key (signing keys only). Wipe with key_wipe. */
struct key {
    enum key_kind kind;
    char id[KEY_ID_HEX_LEN];
    int serial; /* results keys; 0 otherwise */
    char created[TIMESTAMP_STR_LEN];
    unsigned char public_key[KEY_PUBLIC_BYTES];
    unsigned char secret[KEY_SECRET_BYTES];
    unsigned char sign_secret[KEY_SIGN_SECRET_BYTES];
};

void key_wipe(struct key *k);

/* A struct key in sodium_malloc memory (guarded, locked, left out of core dumps), zeroed;
 * NULL when out of memory. For keys a command holds while it works (the master key during an
 * import, results keys during decryption); free with key_free, which wipes. */
struct key *key_new(void);
void key_free(struct key *k);

/* SHA-256 of the public key in lower-case hex. */
void key_fingerprint(const struct key *k, char out[KEY_FINGERPRINT_HEX_LEN]);

/* The key id of a public key (results and signing keys). */
void key_id_of_public(const unsigned char pk[KEY_PUBLIC_BYTES], char out[KEY_ID_HEX_LEN]);

/* What a setup run did, for its report. */
struct keys_setup_report {
    int created; /* number of key files created */
    int kept;    /* number of key files that existed and were left as they were */
};

/* setup-central / setup-device on the key folder `dir` (created 0700 if missing): creates
 * each missing key, keeps every existing one (and checks it loads). */
int keys_setup_central(const char *dir, struct keys_setup_report *rep, struct op_err *e);

/* keys_setup_central with a choice: `results_by_id` names the results key it makes (when the
 * folder has none) results-<id>.key, so that the lost key's own name stays free for its
 * backup (setup-central --replace-lost-key). Deciding whether a missing key may be replaced
 * at all is the caller's (instance/keycheck.h): this function creates whatever is missing. */
struct keys_setup_options {
    int results_by_id;
};
int keys_setup_central_with(const char *dir, const struct keys_setup_options *opt,
                            struct keys_setup_report *rep, struct op_err *e);
int keys_setup_device(const char *dir, struct keys_setup_report *rep, struct op_err *e);

/* Adds a new results key with the next serial; it becomes current. Fills *out (may be NULL). */
int keys_rotate_results(const char *dir, struct key *out, struct op_err *e);

/* Loads the current (highest-serial) results key; OP_ENOTFOUND if there is none. */
int keys_results_current(const char *dir, struct key *out, struct op_err *e);
/* Loads the results key with id `id`, going past key files that do not load. OP_ENOTFOUND,
 * naming the id, if no key file has it; OP_ESTATE, naming the files, if none of those that
 * load has it but some do not load (one of them may be the key). */
int keys_results_by_id(const char *dir, const char *id, struct key *out, struct op_err *e);

/* Calls fn for every results key, by serial ascending; the key is wiped after each call; a
 * non-zero return of fn stops the walk and is returned. A key file that cannot be loaded
 * (mode, damage, ...) is reported to on_problem with its path and the reason, and the walk goes
 * on, so that one bad file does not hide the others; with on_problem NULL, the walk stops
 * there and returns its error. */
typedef int (*keys_each_fn)(const struct key *k, void *ctx);
typedef void (*keys_problem_fn)(const char *path, const struct op_err *why, void *ctx);
int keys_results_each(const char *dir, keys_each_fn fn, keys_problem_fn on_problem, void *ctx,
                      struct op_err *e);

/* Loads central's signing key, the master key, the device signing key. */
int keys_load_central_signing(const char *dir, struct key *out, struct op_err *e);
int keys_load_master(const char *dir, struct key *out, struct op_err *e);
int keys_load_device_signing(const char *dir, struct key *out, struct op_err *e);

/* Master keys: master.key is current (new escrow copies use it); a master key restored from
 * a backup after a replacement took its name lives beside it as master-<id>.key, checked
 * against its id, so escrow copies made under it open again. keys_master_each calls fn for
 * each (wiped after each call); keys_load_master_by_id finds the one with `id`. */
int keys_master_each(const char *dir, keys_each_fn fn, void *ctx, struct op_err *e);
int keys_load_master_by_id(const char *dir, const char *id, struct key *out, struct op_err *e);

/* Loads one key file (exposed for tests and tools). */
int keys_load_file(const char *path, struct key *out, struct op_err *e);

#endif
