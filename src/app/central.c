/* central.c - registering the central server on a device (see central.h). */
#include "app/central.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/version.h"
#include "http/client.h"
#include "store/meta.h"

int app_central_normalise_pin(const char *in, char out[SHA256_HEX_LEN], struct op_err *e)
{
    out[0] = '\0';
    size_t n = 0;
    for (const char *p = in ? in : ""; *p; p++) {
        if (*p == ':')
            continue;
        if (!isxdigit((unsigned char)*p) || n >= SHA256_HEX_LEN - 1) {
            out[0] = '\0';
            goto bad;
        }
        out[n++] = (char)tolower((unsigned char)*p);
    }
    out[n] = '\0';
    if (n == SHA256_HEX_LEN - 1)
        return 0;
bad:
    out[0] = '\0';
    return err_set_field(e, OP_EINPUT, "pin",
                         "the pin is not a SHA-256 fingerprint: give the 64 hex digits (colons "
                         "allowed) that `keys show` prints for central's signing key on central");
}

/* GET /api/v1/health, short: a device being set up must not hang on a network it is not on. */
static void check_health(const struct app_central *c, struct app_central *out)
{
    struct http_client_options o = {.root_url = c->root_url,
                                    .ca_file = c->ca_file[0] ? c->ca_file : NULL,
                                    .connect_timeout_ms = 5000,
                                    .total_timeout_ms = 10000,
                                    .max_response_bytes = 64 * 1024,
                                    .user_agent = OUTPOST_USER_AGENT,
                                    .max_attempts = 2,
                                    .backoff_base_ms = 200};
    struct op_err he = {0};
    out->checked = 1;
    struct http_client *hc = http_client_new(&o, &he);
    struct http_reply r = {0};
    if (hc && http_get(hc, "/api/v1/health", &r, &he) == 0) {
        if (r.status == 200)
            out->reachable = 1;
        else
            snprintf(out->warning, sizeof out->warning,
                     "central %s answered %ld to GET /api/v1/health: is the root URL that of an "
                     "Outpost central (with its path prefix, if any)?",
                     c->root_url, r.status);
    } else {
        snprintf(out->warning, sizeof out->warning, "%s", he.msg);
    }
    http_reply_free(&r);
    http_client_free(hc);
}

/* db_write body: the three settings, each set or removed. */
static int store_central(struct db *db, void *arg, struct op_err *e)
{
    const struct app_central *c = arg;
    int rc = meta_set(db, META_CENTRAL_ROOT_URL, c->root_url, e);
    if (rc == 0)
        rc = c->pin[0] ? meta_set(db, META_CENTRAL_PIN, c->pin, e)
                       : meta_delete(db, META_CENTRAL_PIN, e);
    if (rc == 0)
        rc = c->ca_file[0] ? meta_set(db, META_CENTRAL_CA_FILE, c->ca_file, e)
                           : meta_delete(db, META_CENTRAL_CA_FILE, e);
    return rc;
}

int app_central_register(struct instance *inst, const struct app_central_request *req,
                         struct app_central *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = instance_require_role(inst, ROLE_DEVICE, "register-central", e);
    if (rc != 0)
        return rc;
    if ((rc = http_root_url_normalise(req->root_url, out->root_url, e)) != 0)
        return rc;
    if (req->pin && (rc = app_central_normalise_pin(req->pin, out->pin, e)) != 0)
        return rc;
    if (req->ca_file) {
        char abs[PATH_MAX];
        if (!req->ca_file[0] || !realpath(req->ca_file, abs) || access(abs, R_OK) != 0)
            return err_set_field(e, OP_EINPUT, "ca-file",
                                 "CA file %s: cannot be read (give a PEM file of the CA that "
                                 "signed central's certificate)",
                                 req->ca_file);
        if (strlen(abs) >= sizeof out->ca_file)
            return err_set_field(e, OP_EINPUT, "ca-file", "CA file %s: path too long",
                                 req->ca_file);
        snprintf(out->ca_file, sizeof out->ca_file, "%s", abs);
    }
    if (!req->no_check)
        check_health(out, out);
    return db_write(inst->db, store_central, out, e);
}

int app_central_get(struct instance *inst, struct app_central *out, struct op_err *e)
{
    memset(out, 0, sizeof *out);
    int rc = instance_require_role(inst, ROLE_DEVICE, "the central server's settings", e);
    if (rc != 0)
        return rc;
    char *v = NULL;
    if ((rc = meta_get(inst->db, META_CENTRAL_ROOT_URL, &v, e)) != 0)
        return rc == OP_ENOTFOUND ? err_set(e, OP_ENOTFOUND,
                                            "no central server is registered on this device: "
                                            "register its root URL first")
                                  : rc;
    snprintf(out->root_url, sizeof out->root_url, "%s", v);
    free(v);
    rc = meta_get(inst->db, META_CENTRAL_PIN, &v, e);
    if (rc == 0)
        snprintf(out->pin, sizeof out->pin, "%s", v);
    free(v);
    v = NULL;
    if (rc != 0 && rc != OP_ENOTFOUND)
        return rc;
    rc = meta_get(inst->db, META_CENTRAL_CA_FILE, &v, e);
    if (rc == 0)
        snprintf(out->ca_file, sizeof out->ca_file, "%s", v);
    free(v);
    if (rc != 0 && rc != OP_ENOTFOUND)
        return rc;
    err_clear(e);
    return 0;
}

json_t *app_central_json(const struct app_central *c, int with_check)
{
    json_t *o = json_pack("{s:s, s:s?, s:s?}", "root_url", c->root_url, "signing_key_pin",
                          c->pin[0] ? c->pin : NULL, "ca_file", c->ca_file[0] ? c->ca_file : NULL);
    if (o && with_check) {
        json_object_set_new(o, "checked", json_boolean(c->checked));
        json_object_set_new(o, "reachable", json_boolean(c->reachable));
        json_object_set_new(o, "warning", c->warning[0] ? json_string(c->warning) : json_null());
    }
    return o;
}
