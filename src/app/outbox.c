/*
 * outbox.c - the device's outbox (see outbox.h). The envelope is parsed when it is queued,
 * so that only well-formed envelopes of this device ever leave it; central checks them again
 * (it trusts nothing a device sends).
 */
#include "app/outbox.h"

#include <stdlib.h>
#include <string.h>

#include "app/results.h"
#include "base/sha256.h"
#include "crypto/envelope.h"

int app_outbox_add_in(struct db *db, const char *device_id, const unsigned char *envelope,
                      size_t len, struct op_err *e)
{
    struct envelope env;
    struct op_err why = {0};
    if (envelope_parse(envelope, len, &env, &why) != 0)
        return err_set(e, OP_EINPUT, "outbox: %s", why.msg);
    if (strcmp(env.h.device_id, device_id) != 0)
        return err_set(e, OP_EINPUT,
                       "outbox: result %s names device %s, not this device (%s); not queued",
                       env.h.result_id, env.h.device_id, device_id);
    char sha[SHA256_HEX_LEN];
    envelope_sha256(&env, sha);
    return outbox_add(db, env.h.result_id, envelope, len, sha, e);
}

struct add_one {
    const char *device_id;
    const unsigned char *envelope;
    size_t len;
};

static int add_body(struct db *db, void *ctx, struct op_err *e)
{
    const struct add_one *a = ctx;
    return app_outbox_add_in(db, a->device_id, a->envelope, a->len, e);
}

int app_outbox_add(struct instance *device, const unsigned char *envelope, size_t len,
                   struct op_err *e)
{
    int rc = instance_require_role(device, ROLE_DEVICE, "queuing a result", e);
    if (rc != 0)
        return rc;
    struct add_one a = {device->id, envelope, len};
    return db_write(device->db, add_body, &a, e);
}

int app_outbox_next_batch(struct instance *device, int max_count, size_t max_bytes,
                          struct outbox_item **items, int *n, struct op_err *e)
{
    *items = NULL;
    *n = 0;
    int rc = instance_require_role(device, ROLE_DEVICE, "pushing results", e);
    if (rc != 0)
        return rc;
    if (max_count < 1 || max_count > APP_PUSH_MAX)
        return err_set(e, OP_EINPUT, "a batch holds 1 to %d results, not %d", APP_PUSH_MAX,
                       max_count);
    return outbox_pending(device->db, max_count, max_bytes, items, n, e);
}

struct mark_run {
    const struct outbox_receipt *receipts;
    int n;
    const char *text;
    struct app_outbox_report got;
};

static int mark_body(struct db *db, void *ctx, struct op_err *e)
{
    struct mark_run *m = ctx;
    memset(&m->got, 0, sizeof m->got);
    char id[SHA256_HEX_LEN];
    sha256_hex(m->text, strlen(m->text), id);
    int rc = outbox_keep_receipts(db, id, m->text, e);
    for (int i = 0; rc == 0 && i < m->n; i++) {
        int applied;
        rc = outbox_apply(db, &m->receipts[i], id, &applied, e);
        if (rc != 0)
            break;
        if (!applied)
            m->got.ignored++;
        else if (m->receipts[i].status == OUTBOX_REFUSED)
            m->got.refused++;
        else
            m->got.acknowledged++;
    }
    return rc;
}

int app_outbox_mark(struct instance *device, const struct outbox_receipt *receipts, int n,
                    const char *receipts_text, struct app_outbox_report *report, struct op_err *e)
{
    memset(report, 0, sizeof *report);
    int rc = instance_require_role(device, ROLE_DEVICE, "applying receipts", e);
    if (rc != 0)
        return rc;
    struct mark_run m = {receipts, n, receipts_text ? receipts_text : "", {0}};
    rc = db_write(device->db, mark_body, &m, e);
    if (rc == 0)
        *report = m.got;
    return rc;
}

int app_outbox_counts(struct instance *device, struct outbox_counts *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = instance_require_role(device, ROLE_DEVICE, "counting the outbox", e);
    return rc ? rc : outbox_count(device->db, out, e);
}
