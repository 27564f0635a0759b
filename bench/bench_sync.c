/*
 * bench_sync.c - synchronisation at the application level (no HTTP), one run:
 *
 *   central: one organisation (ORG-A) of N test takers (default 10,000), 50 proctors, 20 test
 *   centers and 20 deliveries of about 5 MB (real QTI packages, imported and encrypted as
 *   import-qti does), plus a second organisation (ORG-B) the device must never see; all made
 *   with the application's imports (import-users, import-testcenters, import-eligibilities).
 *   device: an instance enrolled with ORG-A's sync manager (app_enrol).
 *
 *   1. first sync: sync_changes_page + sync_apply_page until done, then every encrypted
 *      package copied (app_content_locate on central, a copy with fsync standing in for the
 *      download, hashed as it passes like http_download does, app_content_store_checked on the
 *      device). Limit, same run: the same rows
 *      (the JSON text the device stored) inserted with bare SQLite in one transaction, plus a
 *      bare copy (with fsync) of the same package bytes. Target: within 2x the limit.
 *   2. no-change sync: one page, nothing new (target under 50 ms).
 *   3. one-change sync: one test taker's label edited on central, then a sync.
 *   4. push of N results: envelopes sealed and signed as a device does, queued in the outbox,
 *      then sync_outbox_next_batch -> sync_results_push -> sync_outbox_apply_receipts until the
 *      outbox is empty (target at least 2,000 results/s). Limit, same run: verifying each
 *      envelope's signature with bare libsodium and inserting its bytes with bare SQLite, one
 *      transaction per batch.
 *
 * usage: bench_sync [TAKERS (10000)] [PACKAGE_MB (5)] [RESULTS (= TAKERS)]
 * Set BENCH_SYNC_KEEP=1 to keep the instances (their folder is printed).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zip.h>

#include "app/content.h"
#include "app/deliveries.h"
#include "app/enrol.h"
#include "app/imports.h"
#include "app/oauth.h"
#include "app/outbox.h"
#include "app/results.h"
#include "app/users.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/sha256.h"
#include "crypto/envelope.h"
#include "crypto/keys.h"
#include "crypto/sign.h"
#include "http/client.h"
#include "instance/config.h"
#include "instance/instance.h"
#include "store/synced.h"
#include "store/users.h"
#include "sync/page.h"
#include "sync/pull.h"
#include "sync/results_push.h"

#define CENTERS        20
#define PROCTORS       50
#define DELIVERIES     20
#define B_TAKERS       1000
#define B_CENTERS      5
#define B_PROCTORS     10
#define PAGE_LIMIT     1000
#define NOCHANGE_RUNS  30
#define ONECHANGE_RUNS 10

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this thread (user + system), seconds: robust when the machine is shared. */
static double cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const struct op_err *e)
{
    fprintf(stderr, "bench_sync: %s: %s\n", what, e ? e->msg : "failed");
    exit(1);
}

static void load(const char *when)
{
    double l[3];
    if (getloadavg(l, 3) == 3)
        printf("load average %s: %.2f %.2f %.2f\n", when, l[0], l[1], l[2]);
}

static void write_text(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "bench_sync: cannot write %s\n", path);
        exit(1);
    }
}

/* An instance made as `outpost setup` makes it (cheap password hashing: the users' password
 * cost is bench_import_users' subject, and it plays no part in a sync; the password policy
 * relaxed, for the short passwords of the bench's users). */
static struct instance *make_instance(const char *parent, const char *dir, const char *role)
{
    struct buf p = BUF_INIT;
    buf_printf(&p, "%s/setup-%s.json", parent, role);
    char json[1024];
    int n = snprintf(json, sizeof json,
                     "{\"role\": \"%s\", \"super-user\": {\"login\": \"admin\", \"password\":"
                     " \"admin-password\"}, \"configuration\": {\"global\": {\"url\":"
                     " \"http://127.0.0.1:8080/\", \"timezone\": \"UTC\", \"lang\": \"en-US\"},"
                     " \"persistences\": {\"default\": {\"driver\": \"sqlite\", \"path\":"
                     " \"outpost.db\"}}, \"security\": {\"password-hash\": {\"opslimit\": 1,"
                     " \"memlimit-kib\": 8, \"insecure-for-tests\": true}, \"password-policy\":"
                     " {\"min-length\": 1, \"refuse-login\": false, \"refuse-common\": false}}}}",
                     role);
    write_text(p.data, json, (size_t)n);
    chmod(p.data, 0600); /* it holds a password */
    struct setup_request req;
    struct op_err e = {0};
    if (setup_request_load(p.data, 0, &req, NULL, &e) != 0)
        die("setup file", &e);
    if (instance_create(dir, &req, &e) != 0)
        die("setup", &e);
    setup_request_free(&req);
    buf_free(&p);
    struct instance *inst;
    if (instance_open(dir, &inst, &e) != 0)
        die("open", &e);
    return inst;
}

/* A QTI package of one item showing one incompressible asset of `bytes` (seeded by `seed`). */
static void make_package(const char *path, int seed, size_t bytes)
{
    int err;
    zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!za) {
        fprintf(stderr, "bench_sync: cannot create %s\n", path);
        exit(1);
    }
    unsigned char *asset = malloc(bytes);
    uint64_t st = 0x9E3779B97F4A7C15ull * (uint64_t)(seed + 1);
    for (size_t k = 0; k < bytes; k++) {
        st = st * 6364136223846793005ull + 1442695040888963407ull;
        asset[k] = (unsigned char)(st >> 56);
    }
    char item[2048], test[1024], man[1024];
    snprintf(item, sizeof item,
             "<assessmentItem xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\" "
             "identifier=\"I1\" title=\"Item\" adaptive=\"false\" timeDependent=\"false\">"
             "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"single\" "
             "baseType=\"identifier\"><correctResponse><value>B</value></correctResponse>"
             "</responseDeclaration><outcomeDeclaration identifier=\"SCORE\" "
             "cardinality=\"single\" baseType=\"float\"><defaultValue><value>0</value>"
             "</defaultValue></outcomeDeclaration><itemBody><p><img src=\"../assets/big.bin\" "
             "alt=\"figure\"/></p><choiceInteraction responseIdentifier=\"RESPONSE\" "
             "maxChoices=\"1\"><prompt>Question %d?</prompt><simpleChoice identifier=\"A\">one"
             "</simpleChoice><simpleChoice identifier=\"B\">two</simpleChoice></choiceInteraction>"
             "</itemBody><responseProcessing template=\"http://www.imsglobal.org/question/"
             "qti_v2p1/rptemplates/match_correct\"/></assessmentItem>",
             seed);
    snprintf(test, sizeof test,
             "<assessmentTest xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\" "
             "identifier=\"T%d\" title=\"Test %d\"><testPart identifier=\"P\" "
             "navigationMode=\"nonlinear\" submissionMode=\"individual\">"
             "<assessmentSection identifier=\"S\" title=\"s\" visible=\"true\">"
             "<assessmentItemRef identifier=\"Q1\" href=\"items/i1.xml\"/>"
             "</assessmentSection></testPart></assessmentTest>",
             seed, seed);
    snprintf(man, sizeof man,
             "<manifest xmlns=\"http://www.imsglobal.org/xsd/imscp_v1p1\" identifier=\"B\">"
             "<resources><resource identifier=\"T\" type=\"imsqti_test_xmlv2p1\" "
             "href=\"test.xml\"><file href=\"test.xml\"/></resource><resource identifier=\"R1\" "
             "type=\"imsqti_item_xmlv2p1\" href=\"items/i1.xml\"><file href=\"items/i1.xml\"/>"
             "</resource></resources></manifest>");
    zip_file_add(za, "assets/big.bin", zip_source_buffer(za, asset, bytes, 0), 0);
    zip_file_add(za, "items/i1.xml", zip_source_buffer(za, item, strlen(item), 0), 0);
    zip_file_add(za, "test.xml", zip_source_buffer(za, test, strlen(test), 0), 0);
    zip_file_add(za, "imsmanifest.xml", zip_source_buffer(za, man, strlen(man), 0), 0);
    if (zip_close(za) != 0) {
        fprintf(stderr, "bench_sync: cannot write %s\n", path);
        exit(1);
    }
    free(asset);
}

static const char *USERS_HEADER = "Label,First Name,Last Name,Login,Mail,Password,"
                                  "Interface Language,Default language";

static void import_users(struct instance *c, const char *dir, const char *name, const char *role,
                         struct buf *csv)
{
    char *path = fs_join(dir, name);
    write_text(path, csv->data, csv->len);
    struct app_users_import_request req = {path, role, 0, 0, NULL, NULL};
    struct users_import_report r;
    struct op_err e = {0};
    if (app_imports_users(c, &req, &r, &e) != 0)
        die(name, &e);
    users_import_report_free(&r);
    free(path);
}

static void import_csv(struct instance *c, int centers, const char *name, struct buf *csv)
{
    struct app_import_request req = {name, csv->data, csv->len, 0};
    struct app_import_report r;
    struct op_err e = {0};
    int rc = centers ? app_imports_testcenters(c, &req, &r, &e)
                     : app_imports_eligibilities(c, &req, &r, &e);
    if (rc != 0) {
        import_problems_print(&r.problems, stderr);
        die(name, &e);
    }
    app_import_report_free(&r);
}

struct world {
    struct instance *central, *device;
    unsigned char pinned[KEY_PUBLIC_BYTES];
    char org[ENROL_ORG_MAX + 1];
    int takers;
    char (*taker_id)[UUID_STR_LEN];
    char delivery_id[DELIVERIES][UUID_STR_LEN];
    int64_t delivery_version[DELIVERIES];
    char first_taker_id[UUID_STR_LEN];
};

static void build_central(struct world *w, const char *dir, size_t package_bytes)
{
    struct instance *c = w->central;
    struct buf b = BUF_INIT;
    double t0 = now();
    /* users: ORG-A's and ORG-B's test takers, proctors, the two sync managers */
    buf_printf(&b, "%s\n", USERS_HEADER);
    for (int i = 0; i < w->takers; i++)
        buf_printf(&b,
                   "Taker A%05d,First%d,Last%d,ta%05d,ta%05d@school.example,pw-ta%05d,"
                   "en-US,en-US\n",
                   i, i, i, i, i, i);
    for (int i = 0; i < B_TAKERS; i++)
        buf_printf(&b, "Taker B%05d,First%d,Last%d,tb%05d,,pw-tb%05d,en-US,en-US\n", i, i, i, i, i);
    import_users(c, dir, "takers.csv", ROLE_TEST_TAKER, &b);
    buf_reset(&b);
    buf_printf(&b, "%s\n", USERS_HEADER);
    for (int i = 0; i < PROCTORS; i++)
        buf_printf(&b, "Proctor A%02d,P,A%02d,pa%02d,,pw-pa%02d,en-US,en-US\n", i, i, i, i);
    for (int i = 0; i < B_PROCTORS; i++)
        buf_printf(&b, "Proctor B%02d,P,B%02d,pb%02d,,pw-pb%02d,en-US,en-US\n", i, i, i, i);
    import_users(c, dir, "proctors.csv", ROLE_PROCTOR, &b);
    buf_reset(&b);
    buf_printf(&b, "%s,Organisation Id\n", USERS_HEADER);
    buf_printf(&b, "Sync A,S,A,sma,,pw-sma,en-US,en-US,ORG-A\n");
    buf_printf(&b, "Sync B,S,B,smb,,pw-smb,en-US,en-US,ORG-B\n");
    import_users(c, dir, "managers.csv", ROLE_SYNC_MANAGER, &b);
    double t_users = now() - t0;

    /* deliveries: real QTI packages, compiled and encrypted by the import */
    t0 = now();
    char *zip = fs_join(dir, "package.zip");
    struct op_err e = {0};
    for (int i = 0; i < DELIVERIES; i++) {
        make_package(zip, i, package_bytes);
        char label[32];
        snprintf(label, sizeof label, "Delivery %02d", i);
        const struct app_deliveries_import_in in = {zip, label, 1, 0, 0};
        struct delivery d;
        if (app_deliveries_import(c, &in, &d, &e) != 0)
            die("import-qti", &e);
        memcpy(w->delivery_id[i], d.id, UUID_STR_LEN);
        delivery_clear(&d);
    }
    unlink(zip);
    free(zip);
    double t_qti = now() - t0;

    /* centers: proctor p at center p % 20 (2 or 3 each); ORG-B: 5 centers, 2 proctors each */
    t0 = now();
    buf_reset(&b);
    buf_puts(&b, "Label,Organisation Id,Proctors\n");
    for (int c_ = 0; c_ < CENTERS; c_++) {
        buf_printf(&b, "Center A%02d,ORG-A,", c_);
        for (int p = c_; p < PROCTORS; p += CENTERS)
            buf_printf(&b, "%spa%02d", p == c_ ? "" : ";", p);
        buf_puts(&b, "\n");
    }
    for (int c_ = 0; c_ < B_CENTERS; c_++)
        buf_printf(&b, "Center B%02d,ORG-B,pb%02d;pb%02d\n", c_, 2 * c_, 2 * c_ + 1);
    import_csv(c, 1, "centers.csv", &b);
    /* eligibilities: the takers of center c (N/20 each) for deliveries c and c+1; ORG-B's
     * centers for deliveries 0 and 1 */
    buf_reset(&b);
    buf_puts(&b, "Test Center,Delivery,Test Takers\n");
    for (int c_ = 0; c_ < CENTERS; c_++)
        for (int k = 0; k < 2; k++) {
            buf_printf(&b, "Center A%02d,Delivery %02d,", c_, (c_ + k) % DELIVERIES);
            for (int i = c_; i < w->takers; i += CENTERS)
                buf_printf(&b, "%sta%05d", i == c_ ? "" : ";", i);
            buf_puts(&b, "\n");
        }
    for (int c_ = 0; c_ < B_CENTERS; c_++)
        for (int k = 0; k < 2; k++) {
            buf_printf(&b, "Center B%02d,Delivery %02d,", c_, k);
            for (int i = c_; i < B_TAKERS; i += B_CENTERS)
                buf_printf(&b, "%stb%05d", i == c_ ? "" : ";", i);
            buf_puts(&b, "\n");
        }
    import_csv(c, 0, "eligibilities.csv", &b);
    double t_centers = now() - t0;
    buf_free(&b);

    /* the ids the push needs */
    w->taker_id = calloc((size_t)w->takers, sizeof *w->taker_id);
    for (int i = 0; i < w->takers; i++) {
        char login[16];
        snprintf(login, sizeof login, "ta%05d", i);
        struct user u;
        memset(&u, 0, sizeof u);
        if (users_get_by_login(c->db, login, &u, &e) != 0)
            die("user", &e);
        memcpy(w->taker_id[i], u.id, UUID_STR_LEN);
        user_clear(&u);
    }
    printf("setup of central: users %.1f s, %d deliveries %.1f s, centers and eligibilities "
           "%.1f s\n",
           t_users, DELIVERIES, t_qti, t_centers);
}

static void enrol_device(struct world *w)
{
    struct op_err e = {0};
    struct app_enrol_request req;
    memset(&req, 0, sizeof req);
    req.login = "sma";
    req.password = "pw-sma";
    req.password_len = strlen(req.password);
    req.device_id = w->device->id;
    req.label = "bench device";
    char *keys = instance_path(w->device, "keys");
    struct key k;
    if (keys_load_device_signing(keys, &k, &e) != 0)
        die("device key", &e);
    free(keys);
    memcpy(req.signing_public_key, k.public_key, KEY_PUBLIC_BYTES);
    key_wipe(&k);
    struct app_enrol_out out;
    if (app_enrol(w->central, &req, "127.0.0.1", &out, &e) != 0)
        die("enrol", &e);
    snprintf(w->org, sizeof w->org, "%s", out.msg.org_id);
    memcpy(w->pinned, out.msg.signing_public_key, KEY_PUBLIC_BYTES);
    app_enrol_out_wipe(&out);
    if (sync_device_bind_org(w->device, w->org, &e) != 0)
        die("bind", &e);
}

#define PAGES_KEPT 256 /* the sizes of a pull's first pages, for the HTTP limit of phase 1c */

struct pull_stats {
    int pages;
    int records;
    size_t bytes;
    size_t page_len[PAGES_KEPT];
    double central_s, device_s, central_cpu, device_cpu;
    int64_t created, updated, deleted;
    int transactions; /* the device's: one a batch of pages */
};

/* Pages a device transaction applies, as `outpost sync` does (sync/run.c): at most
 * SYNC_APPLY_PAGES_MAX pages or SYNC_APPLY_BYTES_MAX bytes; OUTPOST_TEST_APPLY_PAGES=1 applies
 * one a transaction, as before batches (the same binary measures both). */
static int apply_pages_max(void)
{
    const char *t = getenv("OUTPOST_TEST_APPLY_PAGES");
    if (t && atoi(t) > 0 && atoi(t) <= SYNC_APPLY_PAGES_MAX)
        return atoi(t);
    return SYNC_APPLY_PAGES_MAX;
}

/* Pulls until the device is caught up: central builds each page; the device verifies and
 * holds it (sync_page_hold), and applies each batch of held pages in one transaction. */
static void pull(struct world *w, struct pull_stats *s)
{
    memset(s, 0, sizeof *s);
    struct op_err e = {0};
    struct synced_state st;
    if (sync_device_state(w->device, &st, &e) != 0)
        die("state", &e);
    int64_t cursor = st.cursor;
    int max = apply_pages_max();
    static struct sync_held_page held[SYNC_APPLY_PAGES_MAX];
    static struct sync_apply_report rep[SYNC_APPLY_PAGES_MAX];
    for (;;) {
        if (s->pages > 10000)
            die("pull", NULL);
        int n = 0;
        size_t held_bytes = 0;
        for (;;) {
            double t0 = now(), c0 = cpu();
            char *env;
            size_t len;
            if (sync_changes_page(w->central, w->org, cursor, PAGE_LIMIT, &env, &len, &e) != 0)
                die("changes page", &e);
            double t1 = now(), c1 = cpu();
            if (sync_page_hold((unsigned char *)env, len, w->pinned, &held[n], &e) != 0)
                die("hold page", &e);
            double t2 = now(), c2 = cpu();
            free(env);
            s->central_cpu += c1 - c0;
            s->device_cpu += c2 - c1;
            s->central_s += t1 - t0;
            s->device_s += t2 - t1;
            if (s->pages + n < PAGES_KEPT)
                s->page_len[s->pages + n] = len;
            s->bytes += len;
            held_bytes += held[n].len;
            n++;
            if (!held[n - 1].page.has_more || n >= max || held_bytes >= SYNC_APPLY_BYTES_MAX)
                break;
            cursor = held[n - 1].page.next;
        }
        double t0 = now(), c0 = cpu();
        if (sync_apply_pages(w->device, held, n, rep, &e) != 0)
            die("apply pages", &e);
        for (int i = 0; i < n; i++)
            sync_held_page_free(&held[i]);
        s->device_cpu += cpu() - c0;
        s->device_s += now() - t0;
        s->transactions++;
        const struct sync_apply_report *r = &rep[n - 1];
        for (int i = 0; i < n; i++) {
            s->pages++;
            s->records += rep[i].records;
            for (int k = 0; k < SYNC_ENT_COUNT; k++) {
                s->created += rep[i].counts[k].created;
                s->updated += rep[i].counts[k].updated;
                s->deleted += rep[i].counts[k].deleted;
            }
        }
        if (r->digest_mismatch)
            printf("  (digest mismatch: full resync)\n");
        if (!r->again)
            break;
        cursor = r->cursor;
    }
}

/* Copies `from` to `to` through a 64 KiB buffer, fsync'ed. */
static void copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0) {
        fprintf(stderr, "bench_sync: cannot copy %s to %s\n", from, to);
        exit(1);
    }
    static unsigned char buf[64 * 1024];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n) {
            fprintf(stderr, "bench_sync: short write to %s\n", to);
            exit(1);
        }
    if (fsync(out) != 0 || close(out) != 0)
        exit(1);
    close(in);
}

/* copy_file hashing the bytes as they pass (as http_download does while it receives) into
 * `sha`: the store then takes the file without reading it back (app_content_store_checked). */
static void copy_file_hashed(const char *from, const char *to, char sha[SHA256_HEX_LEN])
{
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0) {
        fprintf(stderr, "bench_sync: cannot copy %s to %s\n", from, to);
        exit(1);
    }
    static unsigned char buf[64 * 1024];
    struct sha256_stream hs;
    sha256_stream_init(&hs);
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0) {
        if (write(out, buf, (size_t)n) != n) {
            fprintf(stderr, "bench_sync: short write to %s\n", to);
            exit(1);
        }
        sha256_stream_update(&hs, buf, (size_t)n);
    }
    sha256_stream_final_hex(&hs, sha);
    if (fsync(out) != 0 || close(out) != 0)
        exit(1);
    close(in);
}

/* Every package of the synced deliveries, from central to the device. */
static double packages(struct world *w, uint64_t *bytes, char enc[DELIVERIES][SHA256_HEX_LEN])
{
    struct op_err e = {0};
    *bytes = 0;
    char *tmp = instance_path(w->device, "download.part");
    double t = 0;
    for (int i = 0; i < DELIVERIES; i++) {
        struct delivery_content dc;
        if (app_content_get(w->central, w->delivery_id[i], 0, &dc, &e) != 0)
            die("content", &e);
        memcpy(enc[i], dc.enc_sha256, SHA256_HEX_LEN);
        double t0 = now();
        char *path;
        uint64_t size;
        if (app_content_locate(w->central, dc.enc_sha256, &path, &size, &e) != 0)
            die("locate", &e);
        char got[SHA256_HEX_LEN];
        copy_file_hashed(path, tmp, got);
        if (strcmp(got, dc.enc_sha256) != 0) {
            fprintf(stderr, "bench_sync: package %s copied with the wrong bytes\n", dc.enc_sha256);
            exit(1);
        }
        if (app_content_store_checked(w->device, w->delivery_id[i], dc.version, dc.enc_sha256, tmp,
                                      &e) != 0)
            die("store downloaded", &e);
        t += now() - t0;
        *bytes += size;
        free(path);
    }
    free(tmp);
    return t;
}

/* The limit of the first sync: the rows the device holds, as JSON text, inserted with bare
 * SQLite (the device's schema and pragmas, one prepared INSERT, one transaction), and a bare
 * copy of the same package bytes with fsync. */
static void limit_first(struct world *w, const char *dir, char enc[DELIVERIES][SHA256_HEX_LEN],
                        double *t_rows, double *t_copy, int *rows)
{
    struct op_err e = {0};
    char *path = fs_join(dir, "bare.db");
    struct db *db;
    if (db_open(path, 1, &db, &e) != 0) /* the schema */
        die("bare db", &e);
    db_close(db);
    sqlite3 *dev = NULL, *s = NULL;
    char *devpath = instance_path(w->device, "outpost.db");
    if (sqlite3_open_v2(devpath, &dev, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_open_v2(path, &s, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        die("bare sqlite", NULL);
    free(devpath);
    /* the rows, read beforehand */
    sqlite3_stmt *q;
    sqlite3_prepare_v2(dev, "SELECT entity, id, version, data FROM synced_records", -1, &q, NULL);
    int cap = 1024, n = 0;
    struct row {
        char *entity, *id, *data;
        sqlite3_int64 version;
    } *r = malloc((size_t)cap * sizeof *r);
    while (sqlite3_step(q) == SQLITE_ROW) {
        if (n == cap)
            r = realloc(r, (size_t)(cap *= 2) * sizeof *r);
        r[n].entity = strdup((const char *)sqlite3_column_text(q, 0));
        r[n].id = strdup((const char *)sqlite3_column_text(q, 1));
        r[n].version = sqlite3_column_int64(q, 2);
        r[n].data = strdup((const char *)sqlite3_column_text(q, 3));
        n++;
    }
    sqlite3_finalize(q);
    sqlite3_close(dev);
    sqlite3_exec(s, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
    sqlite3_exec(s, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
    double t0 = now();
    sqlite3_exec(s, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    sqlite3_stmt *ins;
    sqlite3_prepare_v2(s,
                       "INSERT INTO synced_records (entity, id, version, data, generation)"
                       " VALUES (?1, ?2, ?3, ?4, 0)",
                       -1, &ins, NULL);
    for (int i = 0; i < n; i++) {
        sqlite3_bind_text(ins, 1, r[i].entity, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, r[i].id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 3, r[i].version);
        sqlite3_bind_text(ins, 4, r[i].data, -1, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE)
            die(sqlite3_errmsg(s), NULL);
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    if (sqlite3_exec(s, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        die(sqlite3_errmsg(s), NULL);
    *t_rows = now() - t0;
    sqlite3_close(s);
    for (int i = 0; i < n; i++) {
        free(r[i].entity);
        free(r[i].id);
        free(r[i].data);
    }
    free(r);
    *rows = n;
    free(path);
    char *to = fs_join(dir, "bare-copy");
    t0 = now();
    for (int i = 0; i < DELIVERIES; i++) {
        char *from;
        uint64_t size;
        if (app_content_locate(w->central, enc[i], &from, &size, &e) != 0)
            die("locate", &e);
        copy_file(from, to);
        free(from);
    }
    *t_copy = now() - t0;
    unlink(to);
    free(to);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void check_in_step(struct world *w)
{
    char mine[65], theirs[65];
    struct op_err e = {0};
    if (synced_digest(w->device->db, mine, &e) != 0 ||
        synced_feed_digest(w->central->db, w->org, theirs, &e) != 0)
        die("digest", &e);
    if (strcmp(mine, theirs) != 0) {
        fprintf(stderr, "bench_sync: the device is not in step with central\n");
        exit(1);
    }
}

/* ---- push ---- */

static double fill_outbox(struct world *w, int n, int *queued)
{
    struct op_err e = {0};
    char *ckeys = instance_path(w->central, "keys"), *dkeys = instance_path(w->device, "keys");
    struct key results, device;
    if (keys_results_current(ckeys, &results, &e) != 0 ||
        keys_load_device_signing(dkeys, &device, &e) != 0)
        die("keys", &e);
    free(ckeys);
    free(dkeys);
    const char *payload = "{\"score\": 7, \"items\": [\"i1\", \"i2\"]}";
    double t0 = now();
    int done = 0;
    while (done < n) {
        if (db_begin(w->device->db, &e) != 0)
            die("begin", &e);
        for (int k = 0; k < 1000 && done < n; k++, done++) {
            struct envelope_header h;
            memset(&h, 0, sizeof h);
            h.state = ENVELOPE_FINISHED;
            uuid_generate(h.result_id);
            uuid_generate(h.execution_id);
            int t = done % w->takers;
            memcpy(h.test_taker_id, w->taker_id[t], UUID_STR_LEN);
            memcpy(h.delivery_id, w->delivery_id[t % CENTERS], UUID_STR_LEN);
            memcpy(h.device_id, w->device->id, UUID_STR_LEN);
            h.started_at = 1700000000;
            h.ended_at = 1700003600;
            h.sealed_at = 1700003601;
            unsigned char *env;
            size_t len;
            if (envelope_seal(&h, (const unsigned char *)payload, strlen(payload),
                              results.public_key, &device, &env, &len, &e) != 0 ||
                app_outbox_add_in(w->device->db, w->device->id, env, len, &e) != 0)
                die("outbox", &e);
            free(env);
        }
        if (db_commit(w->device->db, &e) != 0)
            die("commit", &e);
    }
    key_wipe(&results);
    key_wipe(&device);
    *queued = done;
    return now() - t0;
}

struct push_stats {
    int batches, acknowledged, refused;
    size_t bytes;
    double next_s, central_s, receipts_s, total_s;
};

static void push(struct world *w, struct push_stats *s)
{
    memset(s, 0, sizeof *s);
    struct op_err e = {0};
    double t0 = now();
    for (;;) {
        double a = now();
        char *batch;
        size_t len;
        int count;
        if (sync_outbox_next_batch(w->device, APP_PUSH_MAX, 16u << 20, &batch, &len, &count, &e) !=
            0)
            die("next batch", &e);
        double b = now();
        s->next_s += b - a;
        if (!batch)
            break;
        char *receipts;
        size_t rlen;
        if (sync_results_push(w->central, w->device->id, (unsigned char *)batch, len, &receipts,
                              &rlen, &e) != 0)
            die("results push", &e);
        double c = now();
        struct app_outbox_report rep;
        if (sync_outbox_apply_receipts(w->device, (unsigned char *)receipts, rlen, w->pinned, &rep,
                                       &e) != 0)
            die("receipts", &e);
        s->receipts_s += now() - c;
        s->central_s += c - b;
        s->batches++;
        s->bytes += len;
        s->acknowledged += rep.acknowledged;
        s->refused += rep.refused;
        free(batch);
        free(receipts);
    }
    s->total_s = now() - t0;
}

/* The limit of the push: each envelope's signature checked with bare libsodium against the
 * device key, its bytes inserted with bare SQLite (WAL, synchronous = FULL), one transaction
 * per batch of APP_PUSH_MAX. */
static double limit_push(struct world *w, const char *dir, int *n_out)
{
    struct op_err e = {0};
    char *dkeys = instance_path(w->device, "keys");
    struct key device;
    if (keys_load_device_signing(dkeys, &device, &e) != 0)
        die("keys", &e);
    free(dkeys);
    sqlite3 *dev = NULL, *s = NULL;
    char *devpath = instance_path(w->device, "outpost.db");
    char *path = fs_join(dir, "bare-results.db");
    if (sqlite3_open_v2(devpath, &dev, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_open_v2(path, &s, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
        die("bare sqlite", NULL);
    free(devpath);
    free(path);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(dev, "SELECT result_id, envelope FROM result_outbox", -1, &q, NULL) !=
        SQLITE_OK)
        die(sqlite3_errmsg(dev), NULL);
    int cap = 1024, n = 0;
    struct env {
        char id[UUID_STR_LEN];
        unsigned char *b;
        size_t len;
    } *v = malloc((size_t)cap * sizeof *v);
    while (sqlite3_step(q) == SQLITE_ROW) {
        if (n == cap)
            v = realloc(v, (size_t)(cap *= 2) * sizeof *v);
        snprintf(v[n].id, sizeof v[n].id, "%s", (const char *)sqlite3_column_text(q, 0));
        v[n].len = (size_t)sqlite3_column_bytes(q, 1);
        v[n].b = malloc(v[n].len);
        memcpy(v[n].b, sqlite3_column_blob(q, 1), v[n].len);
        n++;
    }
    sqlite3_finalize(q);
    sqlite3_close(dev);
    sqlite3_exec(s, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
    sqlite3_exec(s, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
    sqlite3_exec(s, "CREATE TABLE results (id TEXT PRIMARY KEY, envelope BLOB NOT NULL)", NULL,
                 NULL, NULL);
    sqlite3_stmt *ins;
    sqlite3_prepare_v2(s, "INSERT INTO results (id, envelope) VALUES (?1, ?2)", -1, &ins, NULL);
    double t0 = now();
    for (int i = 0; i < n;) {
        sqlite3_exec(s, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        for (int k = 0; k < APP_PUSH_MAX && i < n; k++, i++) {
            size_t body = v[i].len - ENVELOPE_SIGNATURE_BYTES;
            if (sign_verify(SIGN_CONTEXT_RESULT_ENVELOPE, v[i].b, body, v[i].b + body,
                            device.public_key) != 0)
                die("bare verify", NULL);
            sqlite3_bind_text(ins, 1, v[i].id, -1, SQLITE_STATIC);
            sqlite3_bind_blob(ins, 2, v[i].b, (int)v[i].len, SQLITE_STATIC);
            if (sqlite3_step(ins) != SQLITE_DONE)
                die(sqlite3_errmsg(s), NULL);
            sqlite3_reset(ins);
        }
        if (sqlite3_exec(s, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            die(sqlite3_errmsg(s), NULL);
    }
    double t = now() - t0;
    sqlite3_finalize(ins);
    sqlite3_close(s);
    for (int i = 0; i < n; i++)
        free(v[i].b);
    free(v);
    key_wipe(&device);
    *n_out = n;
    return t;
}

/* ---- 5. HTTP: many devices doing no-change syncs at once against one `outpost serve` ---- */

#define HTTP_DEVICES       100
#define HTTP_SECONDS       5.0
#define HTTP_SERVE_THREADS "4"

struct http_dev {
    char token[OAUTH2_TOKEN_LEN];
};

struct http_run {
    const char *root;
    const char *path;            /* the request of every client */
    struct http_dev *devs;       /* NULL: no bearer (the bare server) */
    const unsigned char *pinned; /* NULL: no signature check */
    int thread, nthreads;
    double until;
    int ok, failed, throttled;
    char first_failure[160]; /* the first failure's status and message */
    double *lat;
    int nlat, cap;
};

static void *http_client_thread(void *arg)
{
    struct http_run *r = arg;
    struct http_client_options o;
    memset(&o, 0, sizeof o);
    o.root_url = r->root;
    o.max_attempts = 1;
    struct op_err e = {0};
    struct http_client *c = http_client_new(&o, &e);
    if (!c)
        die("http client", &e);
    int k = r->thread;
    while (now() < r->until) {
        if (r->devs && http_client_set_bearer(c, r->devs[k % HTTP_DEVICES].token, &e) != 0)
            die("bearer", &e);
        k += r->nthreads;
        struct http_reply rep;
        double t0 = now();
        int rc = http_get(c, r->path, &rep, &e);
        double dt = now() - t0;
        if (rc == 0 && rep.status == 200 && r->pinned) {
            unsigned char *body;
            size_t blen;
            if (sync_envelope_open((unsigned char *)rep.body.data, rep.body.len, r->pinned, &body,
                                   &blen, &e) != 0)
                die("page signature", &e);
            free(body);
        }
        if (rc == 0 && rep.status == 200) {
            r->ok++;
            if (r->nlat == r->cap)
                r->lat =
                    realloc(r->lat, (size_t)(r->cap = r->cap ? 2 * r->cap : 1024) * sizeof *r->lat);
            r->lat[r->nlat++] = dt;
        } else if (rc == 0 && rep.status == 429)
            r->throttled++;
        else {
            if (!r->failed++)
                snprintf(r->first_failure, sizeof r->first_failure, "%ld %.120s",
                         rc == 0 ? rep.status : 0L,
                         rc == 0 ? (rep.body.data ? rep.body.data : "") : e.msg);
        }
        http_reply_free(&rep);
    }
    http_client_free(c);
    return NULL;
}

struct http_result {
    double per_s, median_ms, p95_ms;
    int ok, failed, throttled;
    char first_failure[160];
};

/* N client threads for HTTP_SECONDS. */
static void http_load(const char *root, const char *path, struct http_dev *devs,
                      const unsigned char *pinned, int nthreads, struct http_result *out)
{
    struct http_run *runs = calloc((size_t)nthreads, sizeof *runs);
    pthread_t *tid = calloc((size_t)nthreads, sizeof *tid);
    double t0 = now();
    for (int i = 0; i < nthreads; i++) {
        runs[i].root = root;
        runs[i].path = path;
        runs[i].devs = devs;
        runs[i].pinned = pinned;
        runs[i].thread = i;
        runs[i].nthreads = nthreads;
        runs[i].until = t0 + HTTP_SECONDS;
        pthread_create(&tid[i], NULL, http_client_thread, &runs[i]);
    }
    memset(out, 0, sizeof *out);
    int n = 0;
    for (int i = 0; i < nthreads; i++) {
        pthread_join(tid[i], NULL);
        out->ok += runs[i].ok;
        out->failed += runs[i].failed;
        out->throttled += runs[i].throttled;
        if (runs[i].failed && !out->first_failure[0])
            memcpy(out->first_failure, runs[i].first_failure, sizeof out->first_failure);
        n += runs[i].nlat;
    }
    double elapsed = now() - t0;
    double *all = malloc((size_t)(n ? n : 1) * sizeof *all);
    int m = 0;
    for (int i = 0; i < nthreads; i++) {
        memcpy(all + m, runs[i].lat, (size_t)runs[i].nlat * sizeof *all);
        m += runs[i].nlat;
        free(runs[i].lat);
    }
    qsort(all, (size_t)n, sizeof *all, cmp_double);
    out->per_s = out->ok / elapsed;
    out->median_ms = n ? all[n / 2] * 1e3 : 0;
    out->p95_ms = n ? all[n * 95 / 100] * 1e3 : 0;
    free(all);
    free(runs);
    free(tid);
}

/* CPU seconds (user + system) process `pid` has used, from /proc. */
static double proc_cpu(pid_t pid)
{
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = '\0';
    const char *p = strrchr(line, ')'); /* after the command name */
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        die("no free port", NULL);
    close(fd);
    return ntohs(a.sin_port);
}

/* The bare server of the limit: libmicrohttpd with the flags and thread pool of `outpost
 * serve`, answering every request with the same bytes. */
struct bare_page {
    const char *data;
    size_t len;
};

static enum MHD_Result bare_answer(void *cls, struct MHD_Connection *conn, const char *url,
                                   const char *method, const char *version, const char *upload_data,
                                   size_t *upload_size, void **con_cls)
{
    (void)url, (void)method, (void)version, (void)upload_data, (void)upload_size, (void)con_cls;
    const struct bare_page *p = cls;
    struct MHD_Response *res =
        MHD_create_response_from_buffer(p->len, (void *)p->data, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(res, "Content-Type", "application/json");
    enum MHD_Result r = MHD_queue_response(conn, 200, res);
    MHD_destroy_response(res);
    return r;
}

/* The outpost binary: $OUTPOST, else next to this program. */
static char *outpost_binary(void)
{
    const char *env = getenv("OUTPOST");
    if (env)
        return strdup(env);
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 16);
    if (n <= 0)
        return NULL;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash)
        return NULL;
    strcpy(slash + 1, "outpost");
    return access(self, X_OK) == 0 ? strdup(self) : NULL;
}

static struct http_client *client_of(const char *root)
{
    struct op_err e = {0};
    struct http_client_options o;
    memset(&o, 0, sizeof o);
    o.root_url = root;
    o.max_attempts = 1;
    o.connect_timeout_ms = 500;
    struct http_client *c = http_client_new(&o, &e);
    if (!c)
        die("http client", &e);
    return c;
}

/* Starts `outpost serve` on the central `cdir` on a free loopback port (its root URL into
 * `root`, 80 bytes) and waits until it answers. */
static pid_t serve_start(const char *bin, const char *cdir, const char *log, char *root)
{
    int port = free_port();
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    snprintf(root, 80, "http://127.0.0.1:%d/", port);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(bin, bin, "--data", cdir, "serve", "--listen", listen, "--threads",
              HTTP_SERVE_THREADS, "--max-per-ip", "0", "--max-in-flight", "0", (char *)NULL);
        _exit(127);
    }
    struct op_err e = {0};
    struct http_client *c = client_of(root);
    int up = 0;
    for (int i = 0; i < 100 && !up; i++) {
        struct http_reply rep;
        if (http_get(c, "/api/v1/health", &rep, &e) == 0 && rep.status == 200)
            up = 1;
        else
            usleep(100000);
        http_reply_free(&rep);
    }
    http_client_free(c);
    if (!up) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        fprintf(stderr, "bench_sync: outpost serve did not answer (see %s)\n", log);
        exit(1);
    }
    return pid;
}

/* SIGTERM, then its exit status (-1 if it did not exit). */
static int serve_stop(pid_t pid)
{
    int status;
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The bare server of phase 1c's limit: /p/N answers page N's number of bytes, /k/N package
 * N's file. */
struct bare_set {
    int pages;
    const size_t *page_len;
    const char *zeros; /* the longest page's length */
    char **pkg;        /* DELIVERIES paths */
};

static enum MHD_Result bare_set_answer(void *cls, struct MHD_Connection *conn, const char *url,
                                       const char *method, const char *version,
                                       const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void)method, (void)version, (void)upload_data, (void)upload_size, (void)con_cls;
    const struct bare_set *b = cls;
    int i = atoi(url + 3);
    struct MHD_Response *res = NULL;
    if (strncmp(url, "/p/", 3) == 0 && i >= 0 && i < b->pages)
        res = MHD_create_response_from_buffer(b->page_len[i], (void *)b->zeros,
                                              MHD_RESPMEM_PERSISTENT);
    else if (strncmp(url, "/k/", 3) == 0 && i >= 0 && i < DELIVERIES) {
        int fd = open(b->pkg[i], O_RDONLY);
        struct stat st;
        if (fd >= 0 && fstat(fd, &st) == 0)
            res = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
        else if (fd >= 0)
            close(fd);
    }
    if (!res)
        return MHD_NO;
    enum MHD_Result r = MHD_queue_response(conn, 200, res);
    MHD_destroy_response(res);
    return r;
}

static double rusage_children_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* 1c. The first sync as a school runs it: `outpost sync` of a new device of the organisation
 * against `outpost serve`, over HTTP on loopback (the pages, every package downloaded and
 * checked, the push of nothing); the device registered and enrolled with the binary too.
 * Limit, same run: `curl` fetching the same number of bytes in the same requests (the pages,
 * then the packages into files, fsync'ed) from a bare libmicrohttpd, plus the bare insert of
 * the rows measured in phase 1. */
static void http_first_sync(struct world *w, const char *dir, const char *cdir,
                            const struct pull_stats *first, double t_rows_limit,
                            char enc[DELIVERIES][SHA256_HEX_LEN])
{
    char *bin = outpost_binary();
    if (!bin) {
        printf("\n1c. not measured (no outpost binary next to bench_sync; set OUTPOST)\n");
        return;
    }
    char *ddir = fs_join(dir, "device-http");
    instance_close(make_instance(dir, ddir, "device"));
    char root[80];
    char *log = fs_join(cdir, "serve-1c.log");
    pid_t pid = serve_start(bin, cdir, log, root);
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "'%s' --data '%s' register-central --root-url '%s' >/dev/null && echo pw-sma | '%s'"
             " --data '%s' enrol --login sma --password-stdin >/dev/null",
             bin, ddir, root, bin, ddir);
    if (system(cmd) != 0)
        die("register-central and enrol of the device of phase 1c", NULL);
    snprintf(cmd, sizeof cmd, "'%s' --data '%s' sync --json > '%s/sync.json'", bin, ddir, ddir);
    double s0 = proc_cpu(pid), d0 = rusage_children_cpu(), t0 = now();
    int rc = system(cmd);
    double t_sync = now() - t0, d_cpu = rusage_children_cpu() - d0, s_cpu = proc_cpu(pid) - s0;
    int status = serve_stop(pid);
    char *out = fs_join(ddir, "sync.json");
    json_t *j = json_load_file(out, 0, NULL);
    if (rc != 0 || !j)
        die("outpost sync of phase 1c (see its sync.json and serve-1c.log)", NULL);
    long long records = json_integer_value(json_object_get(j, "records"));
    long long pkgs = json_integer_value(json_object_get(j, "packages"));
    long long bytes = json_integer_value(json_object_get(j, "bytes"));
    json_decref(j);
    if (records != first->records || pkgs != DELIVERIES)
        die("phase 1c's sync did not receive what phase 1 did", NULL);

    /* the limit: the same requests from a bare server, with curl */
    struct op_err e = {0};
    size_t longest = 0;
    int pages = first->pages < PAGES_KEPT ? first->pages : PAGES_KEPT;
    for (int i = 0; i < pages; i++)
        if (first->page_len[i] > longest)
            longest = first->page_len[i];
    char *pkg[DELIVERIES];
    for (int i = 0; i < DELIVERIES; i++) {
        uint64_t size;
        if (app_content_locate(w->central, enc[i], &pkg[i], &size, &e) != 0)
            die("locate", &e);
    }
    struct bare_set b = {pages, first->page_len, calloc(1, longest ? longest : 1), pkg};
    int bport = free_port();
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC, (uint16_t)bport, NULL, NULL,
        bare_set_answer, &b, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)atoi(HTTP_SERVE_THREADS),
        MHD_OPTION_END);
    if (!d)
        die("bare server", NULL);
    struct buf c = BUF_INIT;
    buf_printf(&c, "curl -sS --fail");
    for (int i = 0; i < pages; i++)
        buf_printf(&c, " -o /dev/null http://127.0.0.1:%d/p/%d", bport, i);
    for (int i = 0; i < DELIVERIES; i++)
        buf_printf(&c, " -o '%s/bare-%d' http://127.0.0.1:%d/k/%d", dir, i, bport, i);
    t0 = now();
    rc = system(c.data);
    double t_curl = now() - t0;
    t0 = now();
    for (int i = 0; i < DELIVERIES; i++) {
        char f[4096];
        snprintf(f, sizeof f, "%s/bare-%d", dir, i);
        int fd = open(f, O_RDONLY);
        if (fd < 0 || fsync(fd) != 0)
            die("fsync of curl's download", NULL);
        close(fd);
        unlink(f);
    }
    double t_fsync = now() - t0;
    MHD_stop_daemon(d);
    if (rc != 0)
        die("curl of the limit of phase 1c", NULL);
    double t_limit = t_curl + t_fsync + t_rows_limit;
    printf("\n1c. the first sync for real: `outpost sync` of a third device against `outpost "
           "serve` over HTTP on loopback: %lld records, %lld packages, %.1f MB received: %.3f s "
           "(CPU: the device %.3f s, serve %.3f s; serve exited %d)\n",
           records, pkgs, bytes / 1e6, t_sync, d_cpu, s_cpu, status);
    printf("   limit: curl of the same %d pages and %d packages from bare libmicrohttpd %.3f s + "
           "fsync of the packages %.3f s + bare SQLite insert of the rows %.3f s = %.3f s: "
           "%.1fx the limit (target 2x)\n",
           pages, DELIVERIES, t_curl, t_fsync, t_rows_limit, t_limit, t_sync / t_limit);
    buf_free(&c);
    free((void *)b.zeros);
    for (int i = 0; i < DELIVERIES; i++)
        free(pkg[i]);
    free(out);
    free(log);
    free(ddir);
    free(bin);
}

static void http_phase(struct world *w, const char *cdir)
{
    char *bin = outpost_binary();
    if (!bin) {
        printf("\n5. HTTP: not measured (no outpost binary next to bench_sync; set OUTPOST)\n");
        return;
    }
    struct op_err e = {0};
    /* 100 devices enrolled through the application, each with a token */
    struct http_dev *devs = calloc(HTTP_DEVICES, sizeof *devs);
    double t0 = now();
    for (int i = 0; i < HTTP_DEVICES; i++) {
        struct app_enrol_request req;
        memset(&req, 0, sizeof req);
        char id[UUID_STR_LEN], label[32];
        uuid_generate(id);
        snprintf(label, sizeof label, "bench device %d", i);
        req.login = "sma";
        req.password = "pw-sma";
        req.password_len = strlen(req.password);
        req.device_id = id;
        req.label = label;
        unsigned char sk[crypto_sign_SECRETKEYBYTES];
        crypto_sign_keypair(req.signing_public_key, sk);
        struct app_enrol_out out;
        if (app_enrol(w->central, &req, "127.0.0.1", &out, &e) != 0)
            die("enrol", &e);
        struct oauth_token_request tr;
        memset(&tr, 0, sizeof tr);
        snprintf(tr.client_id, sizeof tr.client_id, "%s", out.msg.client_id);
        snprintf(tr.client_secret, sizeof tr.client_secret, "%s", out.msg.client_secret);
        app_enrol_out_wipe(&out);
        struct oauth_token_out tok;
        if (app_oauth_token(w->central, &tr, "127.0.0.1", &tok, &e) != 0)
            die("token", &e);
        snprintf(devs[i].token, sizeof devs[i].token, "%s", tok.access_token);
        sodium_memzero(&tok, sizeof tok);
        oauth2_token_request_wipe(&tr);
    }
    double t_enrol = now() - t0;
    struct synced_state st;
    if (sync_device_state(w->device, &st, &e) != 0)
        die("state", &e);
    char path[128];
    snprintf(path, sizeof path, "/api/v1/changes?since=%lld&limit=%d", (long long)st.cursor,
             PAGE_LIMIT);

    /* outpost serve on loopback */
    char root[80];
    char *log = fs_join(cdir, "serve.log");
    pid_t pid = serve_start(bin, cdir, log, root);
    struct http_client *c = client_of(root);
    /* one page, kept as the bare server's bytes */
    if (http_client_set_bearer(c, devs[0].token, &e) != 0)
        die("bearer", &e);
    struct http_reply page;
    if (http_get(c, path, &page, &e) != 0 || page.status != 200)
        die("GET changes", &e);
    http_client_free(c);

    int clients = HTTP_DEVICES;
    struct http_result r;
    double s0 = proc_cpu(pid), b0 = self_cpu();
    http_load(root, path, devs, w->pinned, clients, &r);
    double server_cpu = proc_cpu(pid) - s0, client_cpu = self_cpu() - b0;
    int status = serve_stop(pid);

    /* the limit: the same bytes from a bare libmicrohttpd server, same flags and threads */
    struct bare_page bp = {page.body.data, page.body.len};
    int bport = free_port();
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC, (uint16_t)bport, NULL, NULL,
        bare_answer, &bp, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)atoi(HTTP_SERVE_THREADS),
        MHD_OPTION_CONNECTION_LIMIT, 1000u, MHD_OPTION_END);
    if (!d)
        die("bare server", NULL);
    char broot[80];
    snprintf(broot, sizeof broot, "http://127.0.0.1:%d/", bport);
    struct http_result b;
    double c0 = self_cpu();
    http_load(broot, path, NULL, NULL, clients, &b);
    double bare_cpu = self_cpu() - c0; /* server and clients: one process */
    MHD_stop_daemon(d);

    printf("\n5. HTTP on loopback: %d devices (enrolled and given tokens through the app layer in "
           "%.1f s), each a client thread doing no-change syncs (GET %s, %zu bytes, signature "
           "checked) for %.0f s against one `outpost serve --threads %s`:\n",
           HTTP_DEVICES, t_enrol, path, page.body.len, HTTP_SECONDS, HTTP_SERVE_THREADS);
    printf("   %.0f no-change syncs/s (median %.1f ms, p95 %.1f ms; %d failed, %d answered 429) "
           "(target 300/s on 2 cores)\n",
           r.per_s, r.median_ms, r.p95_ms, r.failed, r.throttled);
    if (r.failed)
        printf("   first failure: %s\n", r.first_failure);
    printf(
        "   CPU per no-change sync: outpost serve %.2f ms, the clients %.2f ms; so 2 cores given "
        "to serve alone would answer about %.0f/s\n",
        r.ok ? server_cpu / r.ok * 1e3 : 0, r.ok ? client_cpu / r.ok * 1e3 : 0,
        server_cpu > 0 ? 2 * r.ok / server_cpu : 0);
    printf("   limit: the same bytes from bare libmicrohttpd, same client: %.0f/s (median %.1f "
           "ms, p95 %.1f ms; %d failed; server and clients %.2f ms of CPU a request): outpost is "
           "%.1fx slower\n",
           b.per_s, b.median_ms, b.p95_ms, b.failed, b.ok ? bare_cpu / b.ok * 1e3 : 0,
           b.per_s / (r.per_s > 0 ? r.per_s : 1));
    printf("   serve exited with status %d on SIGTERM (log: %s)\n", status, log);
    http_reply_free(&page);
    sodium_memzero(devs, HTTP_DEVICES * sizeof *devs);
    free(devs);
    free(log);
    free(bin);
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0)
        return 1;
    struct world w;
    memset(&w, 0, sizeof w);
    w.takers = argc > 1 ? atoi(argv[1]) : 10000;
    double mb = argc > 2 ? atof(argv[2]) : 5;
    int nresults = argc > 3 ? atoi(argv[3]) : w.takers;
    if (w.takers < CENTERS || mb <= 0 || nresults < 1) {
        fprintf(stderr, "usage: bench_sync [TAKERS >= 20] [PACKAGE_MB] [RESULTS]\n");
        return 2;
    }
    char tmpl[] = "/tmp/outpost-bench-sync.XXXXXX";
    char *dir = mkdtemp(tmpl);
    if (!dir)
        return 1;
    load("at the start");
    char *cdir = fs_join(dir, "central"), *ddir = fs_join(dir, "device");
    double t0 = now();
    w.central = make_instance(dir, cdir, "central");
    w.device = make_instance(dir, ddir, "device");
    build_central(&w, dir, (size_t)(mb * 1000 * 1000));
    enrol_device(&w);
    printf("setup: %.1f s in %s\n", now() - t0, dir);

    /* 1. first sync */
    struct pull_stats first;
    pull(&w, &first);
    uint64_t pbytes;
    char enc[DELIVERIES][SHA256_HEX_LEN];
    double t_pk = packages(&w, &pbytes, enc);
    check_in_step(&w);
    double t_rows_limit, t_copy_limit;
    int rows;
    limit_first(&w, dir, enc, &t_rows_limit, &t_copy_limit, &rows);
    double t_first = first.central_s + first.device_s + t_pk;
    double t_limit = t_rows_limit + t_copy_limit;
    printf("\n1. first sync of %s: %d records in %d pages (%.1f MB of signed pages, applied in "
           "%d device transactions), %d packages (%.1f MB)\n",
           w.org, first.records, first.pages, first.bytes / 1e6, first.transactions, DELIVERIES,
           pbytes / 1e6);
    printf("   records: central builds the pages %.3f s (CPU %.3f s), the device applies them "
           "%.3f s (CPU %.3f s) (created %lld)\n",
           first.central_s, first.central_cpu, first.device_s, first.device_cpu,
           (long long)first.created);
    printf("   packages: locate, copy with fsync, check and store %.3f s (%.0f MB/s)\n", t_pk,
           pbytes / 1e6 / t_pk);
    printf("   total %.3f s; limit %.3f s (bare SQLite insert of the %d rows %.3f s + bare copy "
           "of the packages %.3f s): %.1fx the limit (target 2x)\n",
           t_first, t_limit, rows, t_rows_limit, t_copy_limit, t_first / t_limit);

    /* 1b. a second device of the organisation, first sync of the records: central reuses the
     * sealed boxes it made for the first (sync_sealed) */
    {
        struct instance *first_device = w.device;
        char *d2dir = fs_join(dir, "device2");
        w.device = make_instance(dir, d2dir, "device");
        enrol_device(&w);
        struct pull_stats second;
        pull(&w, &second);
        check_in_step(&w);
        printf("\n1b. a second device's first sync (records only, %d pages): central builds the "
               "pages %.3f s (CPU %.3f s), the device applies them %.3f s (CPU %.3f s); records "
               "%.3f s against the limit's bare insert %.3f s: %.1fx\n",
               second.pages, second.central_s, second.central_cpu, second.device_s,
               second.device_cpu, second.central_s + second.device_s, t_rows_limit,
               (second.central_s + second.device_s) / t_rows_limit);
        instance_close(w.device);
        w.device = first_device;
        free(d2dir);
    }

    /* 1c. the same first sync over HTTP, as `outpost sync` runs it */
    http_first_sync(&w, dir, cdir, &first, t_rows_limit, enc);

    /* 2. no-change sync */
    double nc[NOCHANGE_RUNS], ncc[NOCHANGE_RUNS], ncd[NOCHANGE_RUNS], nccpu[NOCHANGE_RUNS],
        ncdcpu[NOCHANGE_RUNS], dgc[NOCHANGE_RUNS], dgd[NOCHANGE_RUNS];
    for (int i = 0; i < NOCHANGE_RUNS; i++) {
        struct pull_stats s;
        pull(&w, &s);
        if (s.records != 0 || s.pages != 1)
            die("a no-change sync changed something", NULL);
        nc[i] = s.central_s + s.device_s;
        ncc[i] = s.central_s;
        ncd[i] = s.device_s;
        nccpu[i] = s.central_cpu;
        ncdcpu[i] = s.device_cpu;
        /* what the scope digest alone costs, on each side */
        char hex[65];
        struct op_err de = {0};
        double a = now();
        if (synced_feed_digest(w.central->db, w.org, hex, &de) != 0)
            die("digest", &de);
        double b = now();
        if (synced_digest(w.device->db, hex, &de) != 0)
            die("digest", &de);
        dgc[i] = b - a;
        dgd[i] = now() - b;
    }
    double *sorts[] = {nc, ncc, ncd, nccpu, ncdcpu, dgc, dgd};
    for (size_t k = 0; k < sizeof sorts / sizeof sorts[0]; k++)
        qsort(sorts[k], NOCHANGE_RUNS, sizeof nc[0], cmp_double);
    int mid = NOCHANGE_RUNS / 2;
    printf("\n2. no-change sync (one page, nothing new), %d runs: median %.1f ms, fastest %.1f "
           "ms, slowest %.1f ms (target under 50 ms)\n",
           NOCHANGE_RUNS, nc[mid] * 1e3, nc[0] * 1e3, nc[NOCHANGE_RUNS - 1] * 1e3);
    printf("   medians: central %.1f ms (CPU %.1f ms), device %.1f ms (CPU %.1f ms); the scope "
           "digest alone: central %.1f ms, device %.1f ms\n",
           ncc[mid] * 1e3, nccpu[mid] * 1e3, ncd[mid] * 1e3, ncdcpu[mid] * 1e3, dgc[mid] * 1e3,
           dgd[mid] * 1e3);

    /* 3. one-change sync */
    double oc[ONECHANGE_RUNS];
    struct op_err e = {0};
    for (int i = 0; i < ONECHANGE_RUNS; i++) {
        struct user u;
        memset(&u, 0, sizeof u);
        if (users_get_by_id(w.central->db, w.taker_id[i], &u, &e) != 0)
            die("user", &e);
        char label[64];
        snprintf(label, sizeof label, "Renamed %d", i);
        struct user_changes ch;
        memset(&ch, 0, sizeof ch);
        ch.set = USER_SET_LABEL;
        ch.label = label;
        if (app_users_update(w.central, u.id, u.version, &ch, NULL, &e) != 0)
            die("edit", &e);
        user_clear(&u);
        struct pull_stats s;
        pull(&w, &s);
        if (s.updated != 1)
            die("a one-change sync did not update one record", NULL);
        oc[i] = s.central_s + s.device_s;
    }
    check_in_step(&w);
    qsort(oc, ONECHANGE_RUNS, sizeof oc[0], cmp_double);
    printf("\n3. one-change sync (a test taker's label edited on central), %d runs: median %.1f "
           "ms, fastest %.1f ms, slowest %.1f ms\n",
           ONECHANGE_RUNS, oc[ONECHANGE_RUNS / 2] * 1e3, oc[0] * 1e3, oc[ONECHANGE_RUNS - 1] * 1e3);

    /* 4. push */
    int queued;
    double t_fill = fill_outbox(&w, nresults, &queued);
    int nlimit;
    double t_push_limit = limit_push(&w, dir, &nlimit);
    struct push_stats ps;
    push(&w, &ps);
    if (ps.acknowledged != queued || ps.refused != 0)
        die("not every result was acknowledged", NULL);
    printf("\n4. push of %d results (%d batches, %.1f MB): %.3f s = %.0f results/s (target "
           "2,000/s)\n",
           queued, ps.batches, ps.bytes / 1e6, ps.total_s, queued / ps.total_s);
    printf("   device: next batch %.3f s, apply receipts %.3f s; central: decode, check, store, "
           "sign receipts %.3f s\n",
           ps.next_s, ps.receipts_s, ps.central_s);
    printf("   limit: bare verify + bare SQLite insert of the %d envelopes %.3f s (%.0f/s): %.1fx "
           "the limit\n",
           nlimit, t_push_limit, nlimit / t_push_limit, ps.total_s / t_push_limit);
    printf("   (before the push: sealing and queueing them on the device took %.3f s)\n", t_fill);

    if (!getenv("BENCH_SYNC_NO_HTTP"))
        http_phase(&w, cdir);

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("\npeak memory (ru_maxrss) %.1f MiB\n", ru.ru_maxrss / 1024.0);
    load("at the end");
    instance_close(w.central);
    instance_close(w.device);
    free(w.taker_id);
    free(cdir);
    free(ddir);
    if (getenv("BENCH_SYNC_KEEP"))
        printf("instances kept in %s\n", dir);
    else
        fs_remove_tree(dir);
    return 0;
}
