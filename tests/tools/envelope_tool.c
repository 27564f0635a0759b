/*
 * envelope_tool.c - a test tool standing in for the parts of a device and of enrolment that
 * other issues build (sync, the delivery runner): it enrols a device with a central, and seals
 * and signs result envelopes with a device's key as a device would. Used by tests/cli only.
 *
 *   envelope_tool enrol CENTRAL_DIR DEVICE_DIR [revoked]
 *   envelope_tool enrol-as CENTRAL_DIR DEVICE_DIR LOGIN LABEL   (password on stdin)
 *   envelope_tool queue DEVICE_DIR FILE
 *   envelope_tool seal DEVICE_DIR CENTRAL_DIR OUT_FILE PAYLOAD_FILE [finished|terminated]
 *                 [RESULT_ID [DELIVERY_ID [TEST_TAKER_ID]]]
 * `seal` appends the envelope to OUT_FILE and prints the result id. Central's results public
 * key is read from its key folder (a real device has it pinned from sync). Central accepts a
 * result only for a test taker eligible for its delivery in the device's organisation, so
 * `seal` also puts that eligibility (a test center of ORG-1, the delivery, the test taker) in
 * central's database, unless OUTPOST_TOOL_NO_SCOPE is set. OUTPOST_TOOL_EXECUTION_ID sets the
 * header's execution id (the one the payload's audit log is chained to). With
 * OUTPOST_TOOL_STRANGER_KEY set, the envelope is sealed to a random public key instead (a results
 * key central never had). `queue` puts the envelopes of a file in a device's outbox (app/outbox.h),
 * for `outpost sync` to push. `enrol-as` enrols through app/enrol.h as the sync manager LOGIN (as
 * the HTTP handler will) and prints the device id, the client id and the organisation.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/devices.h"
#include "app/enrol.h"
#include "app/outbox.h"
#include "base/fs.h"
#include "crypto/envelope.h"
#include "crypto/keys.h"
#include "instance/instance.h"

static int die(const struct op_err *e)
{
    fprintf(stderr, "envelope_tool: %s\n", e->msg);
    return 1;
}

static int enrol(const char *central, const char *device_dir, int revoked)
{
    struct op_err e = {0};
    struct instance *c, *d;
    if (instance_open(central, &c, &e) != 0 || instance_open(device_dir, &d, &e) != 0)
        return die(&e);
    char *keys = instance_path(d, "keys");
    struct key k;
    if (keys_load_device_signing(keys, &k, &e) != 0)
        return die(&e);
    free(keys);
    struct app_device_enrol_request req = {d->id, "test device", "ORG-1", NULL, {0}};
    memcpy(req.signing_public_key, k.public_key, KEY_PUBLIC_BYTES);
    key_wipe(&k);
    struct device dev;
    int rc = app_devices_enrol(c, &req, &dev, &e);
    device_clear(&dev);
    if (rc == 0 && revoked)
        rc = app_devices_revoke(c, d->id, &e);
    printf("%s\n", d->id);
    instance_close(c);
    instance_close(d);
    return rc ? die(&e) : 0;
}

static int enrol_as(const char *central, const char *device_dir, const char *login,
                    const char *label)
{
    struct op_err e = {0};
    struct instance *c, *d;
    if (instance_open(central, &c, &e) != 0 || instance_open(device_dir, &d, &e) != 0)
        return die(&e);
    char pw[256] = "";
    if (!fgets(pw, sizeof pw, stdin))
        pw[0] = '\0';
    pw[strcspn(pw, "\n")] = '\0';
    char *keys = instance_path(d, "keys");
    struct key k;
    if (keys_load_device_signing(keys, &k, &e) != 0)
        return die(&e);
    free(keys);
    struct app_enrol_request req = {login, pw, strlen(pw), d->id, label, {0}};
    memcpy(req.signing_public_key, k.public_key, KEY_PUBLIC_BYTES);
    key_wipe(&k);
    struct app_enrol_out out;
    int rc = app_enrol(c, &req, "127.0.0.1", &out, &e);
    if (rc == 0)
        printf("%s %s %s\n", out.msg.device_id, out.msg.client_id, out.msg.org_id);
    app_enrol_out_wipe(&out);
    sodium_memzero(pw, sizeof pw);
    instance_close(c);
    instance_close(d);
    return rc ? die(&e) : 0;
}

/* Makes `taker` eligible for `delivery` at a test center of ORG-1 on central (idempotent). */
static int ensure_scope(const char *central, const char *taker, const char *delivery,
                        struct op_err *e)
{
    struct instance *c;
    if (instance_open(central, &c, e) != 0)
        return e->code;
    /* each statement with the parameters it takes: ?1 = taker, ?2 = delivery (the same SQL on
     * both backends: ON CONFLICT DO NOTHING, not SQLite's INSERT OR IGNORE) */
    static const struct {
        const char *sql;
        int nparams;
    } steps[] = {
        {"INSERT INTO users (id, login, role, password_hash, created_at, updated_at)"
         " VALUES (?1, 'tool-' || ?1, 'test-taker', 'x', '2024-01-01T00:00:00Z',"
         " '2024-01-01T00:00:00Z') ON CONFLICT DO NOTHING",
         1},
        {"INSERT INTO test_centers (id, label, org_id, created_at, updated_at)"
         " VALUES ('tool-center', 'tool center', 'ORG-1', '2024-01-01T00:00:00Z',"
         " '2024-01-01T00:00:00Z') ON CONFLICT DO NOTHING",
         0},
        {"INSERT INTO deliveries (id, label, created_at, updated_at)"
         " VALUES (?2, 'tool delivery', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z') ON "
         "CONFLICT DO NOTHING",
         2},
        {"INSERT INTO eligibilities (id, center_id, delivery_id, created_at,"
         " updated_at) VALUES ('tool-' || ?2, 'tool-center', ?2, '2024-01-01T00:00:00Z',"
         " '2024-01-01T00:00:00Z') ON CONFLICT DO NOTHING",
         2},
        {"INSERT INTO eligibility_test_takers (eligibility_id, user_id)"
         " VALUES ('tool-' || ?2, ?1) ON CONFLICT DO NOTHING",
         2},
    };
    int rc = db_begin(c->db, e);
    for (size_t i = 0; rc == 0 && i < sizeof steps / sizeof steps[0]; i++) {
        struct db_stmt *st = db_stmt(c->db, steps[i].sql, e);
        if (!st) {
            rc = OP_EDB;
            break;
        }
        if (steps[i].nparams >= 1)
            db_bind_text(st, 1, taker);
        if (steps[i].nparams >= 2)
            db_bind_text(st, 2, delivery);
        rc = db_step_done(c->db, st, "scope", e);
    }
    if (rc == 0)
        rc = db_commit(c->db, e);
    else
        db_rollback(c->db);
    instance_close(c);
    return rc;
}

static int seal(int argc, char **argv)
{
    const char *device_dir = argv[2], *central = argv[3], *out = argv[4], *payload_file = argv[5];
    struct op_err e = {0};
    struct instance *d;
    if (instance_open(device_dir, &d, &e) != 0)
        return die(&e);
    char *dkeys = instance_path(d, "keys"), *ckeys = fs_join(central, "keys");
    struct key dk, rk;
    if (keys_load_device_signing(dkeys, &dk, &e) != 0 || keys_results_current(ckeys, &rk, &e) != 0)
        return die(&e);
    if (getenv("OUTPOST_TOOL_STRANGER_KEY")) /* a results key central never had */
        randombytes_buf(rk.public_key, sizeof rk.public_key);
    char *payload;
    size_t plen;
    if (fs_read_file(payload_file, ENVELOPE_MAX_PAYLOAD + 1024, &payload, &plen, &e) != 0)
        return die(&e);
    struct envelope_header h;
    memset(&h, 0, sizeof h);
    h.state =
        argc > 6 && strcmp(argv[6], "terminated") == 0 ? ENVELOPE_TERMINATED : ENVELOPE_FINISHED;
    if (argc > 7 && argv[7][0])
        snprintf(h.result_id, sizeof h.result_id, "%s", argv[7]);
    else
        uuid_generate(h.result_id);
    if (argc > 8 && argv[8][0])
        snprintf(h.delivery_id, sizeof h.delivery_id, "%s", argv[8]);
    else
        uuid_generate(h.delivery_id);
    if (argc > 9 && argv[9][0])
        snprintf(h.test_taker_id, sizeof h.test_taker_id, "%s", argv[9]);
    else
        uuid_generate(h.test_taker_id);
    uuid_generate(h.execution_id);
    const char *exec_id = getenv("OUTPOST_TOOL_EXECUTION_ID"); /* the payload's execution */
    if (exec_id && uuid_is_valid(exec_id))
        snprintf(h.execution_id, sizeof h.execution_id, "%s", exec_id);
    if (!getenv("OUTPOST_TOOL_NO_SCOPE") &&
        ensure_scope(central, h.test_taker_id, h.delivery_id, &e) != 0)
        return die(&e);
    memcpy(h.device_id, d->id, sizeof h.device_id);
    h.sealed_at = (int64_t)time(NULL);
    h.ended_at = h.sealed_at - 1;
    h.started_at = h.sealed_at - 3600;
    unsigned char *env;
    size_t len;
    int rc = envelope_seal(&h, (unsigned char *)payload, plen, rk.public_key, &dk, &env, &len, &e);
    key_wipe(&dk);
    key_wipe(&rk);
    free(payload);
    free(dkeys);
    free(ckeys);
    instance_close(d);
    if (rc != 0)
        return die(&e);
    FILE *f = fopen(out, "ab");
    if (!f || fwrite(env, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "envelope_tool: cannot write %s\n", out);
        return 1;
    }
    free(env);
    printf("%s\n", h.result_id);
    return 0;
}

/* Puts every envelope of FILE in the device's outbox, as the delivery runner will when an
 * execution ends; prints how many. */
static int queue(const char *device_dir, const char *file)
{
    struct op_err e = {0};
    struct instance *d;
    if (instance_open(device_dir, &d, &e) != 0)
        return die(&e);
    char *data;
    size_t len, off = 0;
    int n = 0;
    if (fs_read_file(file, 64u << 20, &data, &len, &e) != 0)
        return die(&e);
    while (off < len) {
        struct envelope env;
        size_t used = 0;
        if (envelope_parse_next((unsigned char *)data + off, len - off, &env, &used, &e) != 0 ||
            app_outbox_add(d, (unsigned char *)data + off, used, &e) != 0)
            return die(&e);
        off += used;
        n++;
    }
    free(data);
    instance_close(d);
    printf("%d\n", n);
    return 0;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0)
        return 1;
    if (argc >= 4 && strcmp(argv[1], "enrol") == 0)
        return enrol(argv[2], argv[3], argc > 4 && strcmp(argv[4], "revoked") == 0);
    if (argc == 6 && strcmp(argv[1], "enrol-as") == 0)
        return enrol_as(argv[2], argv[3], argv[4], argv[5]);
    if (argc >= 6 && strcmp(argv[1], "seal") == 0)
        return seal(argc, argv);
    if (argc == 4 && strcmp(argv[1], "queue") == 0)
        return queue(argv[2], argv[3]);
    fprintf(stderr, "usage: envelope_tool enrol CENTRAL DEVICE [revoked]\n"
                    "       envelope_tool enrol-as CENTRAL DEVICE LOGIN LABEL < PASSWORD\n"
                    "       envelope_tool seal DEVICE CENTRAL OUT PAYLOAD [STATE [RESULT_ID "
                    "[DELIVERY_ID [TEST_TAKER_ID]]]]\n"
                    "       envelope_tool queue DEVICE FILE\n");
    return 2;
}
