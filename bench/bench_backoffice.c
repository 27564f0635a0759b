/*
 * bench_backoffice.c - the central backoffice at size (issue 13): a central with USERS users
 * and RESULTS results of one delivery, served by `outpost serve` on loopback, and the time to
 * first byte of its filtered list pages, each against its limits measured in the same run:
 *
 *   world: a fresh central (SQLite) filled through the store's own functions, as the imports
 *   and the intake write them: USERS users (users_insert, one pre-computed password record:
 *   Argon2id is bench_import_users' subject) of every role, labels drawn from 40 first and 40
 *   last names; one delivery; DEVICES devices of one organisation, each with RUNS sync runs;
 *   RESULTS result rows (results_insert, as `results import` and the intake file an envelope,
 *   then results_set_decrypted with a result document as a device seals it, for nine in ten).
 *
 *   For each page (QUERIES below): the users page (search + role filter, a middle page by
 *   keyset), the results tab of the delivery (filtered, a middle page), the devices page and
 *   the sync history (a middle page):
 *     app   the application function in this process (what the handler calls), median;
 *     http  GET over one keep-alive connection: time to first byte, median and p95 of SAMPLES,
 *           and the whole answer;
 *     bare  the limits: the same query with bare SQLite (sqlite3_prepare once, step the page,
 *           on the same file), and a bare HTTP answer of the same server (GET /api/v1/health:
 *           no session, no database).
 *   Memory: the server's VmRSS idle after start, after the requests, and its peak (VmHWM).
 *
 * usage: bench_backoffice [USERS (100000) [RESULTS (100000)]]
 * BENCH_BO_KEEP=1 keeps the world (its folder is printed). The `outpost` binary is the one
 * next to this program.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sodium.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app/apitokens.h"
#include "app/backoffice.h"
#include "app/bo_devices.h"
#include "app/bo_users.h"
#include "app/results_view.h"
#include "base/fs.h"
#include "base/sha256.h"
#include "instance/instance.h"
#include "instance/config.h"
#include "store/db.h"
#include "store/deliveries.h"
#include "store/devices.h"
#include "store/results.h"
#include "store/sync_runs.h"
#include "store/testcenters.h"
#include "store/users.h"

#define SAMPLES  40
#define DEVICES  100
#define RUNS     100 /* per device: 10,000 runs */
#define ORG      "org-bench"
#define PASSWORD "bench-super-user-password"
#define HASH     "$op-argon2id$v=1$m=8,t=1$AAAAAAAAAAAAAAAAAAAAAA$x"

static const char *const FIRST[] = {
    "Ada",   "Alan",   "Grace",  "Edsger",   "Barbara",   "Donald",   "Frances",  "John",
    "Karen", "Leslie", "Linus",  "Margaret", "Niklaus",   "Radia",    "Ken",      "Dennis",
    "Shafi", "Silvio", "Tim",    "Vint",     "Whitfield", "Yukihiro", "Guido",    "Bjarne",
    "Anita", "Adele",  "Hedy",   "Joan",     "Katherine", "Mary",     "Sophie",   "Lynn",
    "Jean",  "Ruth",   "Evelyn", "Irma",     "Betty",     "Marlyn",   "Kathleen", "Ida"};
static const char *const LAST[] = {
    "Lovelace",  "Turing",  "Hopper",     "Dijkstra", "Liskov",      "Knuth",      "Allen",
    "McCarthy",  "Jones",   "Lamport",    "Torvalds", "Hamilton",    "Wirth",      "Perlman",
    "Thompson",  "Ritchie", "Goldwasser", "Micali",   "Berners-Lee", "Cerf",       "Diffie",
    "Matsumoto", "Rossum",  "Stroustrup", "Borg",     "Goldberg",    "Lamarr",     "Clarke",
    "Johnson",   "Keller",  "Wilson",     "Conway",   "Bartik",      "Teitelbaum", "Holberton",
    "Wescoff",   "Snyder",  "Antonelli",  "Booth",    "Rhodes"};
#define NAMES 40

static int n_users = 100000, n_results = 100000;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static pid_t server_pid; /* the `outpost serve` running, stopped by die() too */

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_backoffice: %s: %s\n", what, msg);
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
    }
    exit(1);
}

static void check(int rc, const char *what, const struct op_err *e)
{
    if (rc != 0)
        die(what, e->msg);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The median and the p95 of v[0..n-1] (sorted in place). */
static void stats(double *v, int n, double *median, double *p95)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    *median = v[n / 2];
    *p95 = v[(n * 95 + 99) / 100 - 1];
}

/* ---- The world ---- */

struct world {
    int pg;          /* 1: central on PostgreSQL (the PG* server), 0: on SQLite */
    PGconn *bare_pg; /* the bare libpq connection of the limits (pg only) */
    char *dir, *data, *db_file;
    struct instance *inst;
    char super_id[UUID_STR_LEN];
    struct bo_caller super;       /* the super-user, as the backoffice's handlers load them */
    char token[OAUTH2_TOKEN_LEN]; /* an API token of the super-user */
    char delivery_id[UUID_STR_LEN];
    char center_id[UUID_STR_LEN];
    char device_ids[DEVICES][UUID_STR_LEN];
    char (*taker_ids)[UUID_STR_LEN];
    int n_takers;
};

#define PG_DBNAME "bench_backoffice"

/* Runs `sql` on the PG* server's maintenance database (creating or dropping ours). */
static void pg_admin(const char *sql)
{
    PGconn *c = PQconnectdb("dbname=postgres");
    if (PQstatus(c) != CONNECTION_OK)
        die("PostgreSQL", PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        die(sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

/* The persistence of setup.json: SQLite, or our database on the PG* server (its password in
 * the file `password` beside PGPASSFILE, as tests/tools/pg_tmp.sh leaves them). */
static void persistence(const struct world *w, char *out, size_t cap)
{
    if (!w->pg) {
        snprintf(out, cap, "{\"driver\": \"sqlite\", \"path\": \"outpost.db\"}");
        return;
    }
    char pwfile[4096];
    snprintf(pwfile, sizeof pwfile, "%s", getenv("PGPASSFILE"));
    char *slash = strrchr(pwfile, '/');
    if (slash)
        snprintf(slash + 1, sizeof pwfile - (size_t)(slash + 1 - pwfile), "password");
    snprintf(out, cap,
             "{\"driver\": \"pgsql\", \"host\": \"%s\", \"port\": %s, \"dbname\": \"" PG_DBNAME
             "\", \"user\": \"%s\", \"password-file\": \"%s\"}",
             getenv("PGHOST"), getenv("PGPORT") ? getenv("PGPORT") : "5432",
             getenv("PGUSER") ? getenv("PGUSER") : "outpost", pwfile);
}

static void make_central(struct world *w)
{
    char tmpl[] = "/tmp/outpost-bench-bo.XXXXXX";
    if (!mkdtemp(tmpl))
        die("mkdtemp", strerror(errno));
    w->dir = strdup(tmpl);
    w->data = fs_join(w->dir, "central");
    if (w->pg) {
        pg_admin("DROP DATABASE IF EXISTS " PG_DBNAME);
        pg_admin("CREATE DATABASE " PG_DBNAME);
    }
    char pers[8192];
    persistence(w, pers, sizeof pers);
    char *setup = fs_join(w->dir, "setup.json");
    FILE *f = fopen(setup, "w");
    if (!f)
        die(setup, strerror(errno));
    fprintf(f,
            "{\"role\": \"central\", \"super-user\": {\"login\": \"admin\", \"password\": "
            "\"" PASSWORD "\"}, \"configuration\": {\"global\": {\"url\": "
            "\"https://central.example.org/\", \"timezone\": \"UTC\", \"lang\": \"en-US\"}, "
            "\"persistences\": {\"default\": %s}}}\n",
            pers);
    fclose(f);
    chmod(setup, 0600);
    struct op_err e = {0};
    struct setup_request req;
    check(setup_request_load(setup, 0, &req, NULL, &e), "setup.json", &e);
    check(instance_create(w->data, &req, &e), "setup", &e);
    setup_request_free(&req);
    free(setup);
    check(instance_open(w->data, &w->inst, &e), "open", &e);
    w->db_file = fs_join(w->data, "outpost.db");
    struct user su;
    check(users_get_by_login(w->inst->db, "admin", &su, &e), "super-user", &e);
    memcpy(w->super_id, su.id, UUID_STR_LEN);
    user_clear(&su);
    check(app_bo_caller_load(w->inst, w->super_id, &w->super, &e), "caller", &e);
    const struct app_apitoken_new tn = {"admin", 0, "bench"};
    struct api_token t;
    check(app_apitokens_create(w->inst, &tn, &t, w->token, &e), "api token", &e);
}

/* Role of user i: 2% proctors, 1% test-center administrators, 1% sync managers, the rest test
 * takers. */
static const char *role_of(int i)
{
    switch (i % 100) {
    case 0:
    case 1:
        return ROLE_PROCTOR;
    case 2:
        return ROLE_TEST_CENTER_ADMIN;
    case 3:
        return ROLE_SYNC_MANAGER;
    default:
        return ROLE_TEST_TAKER;
    }
}

static void fill_users(struct world *w)
{
    struct op_err e = {0};
    w->taker_ids = calloc((size_t)n_users, sizeof *w->taker_ids);
    double t0 = now();
    check(db_begin(w->inst->db, &e), "begin", &e);
    for (int i = 0; i < n_users; i++) {
        char login[32], label[96], mail[64];
        const char *first = FIRST[(i / 7) % NAMES], *last = LAST[(i / 3) % NAMES];
        snprintf(login, sizeof login, "user%06d", i);
        snprintf(label, sizeof label, "%s %s", first, last);
        snprintf(mail, sizeof mail, "user%06d@example.org", i);
        struct user u;
        memset(&u, 0, sizeof u);
        u.login = login;
        u.label = label;
        u.first_name = (char *)first;
        u.last_name = (char *)last;
        u.mail = mail;
        u.role = (char *)role_of(i);
        u.org_id = strcmp(u.role, ROLE_SYNC_MANAGER) == 0 ? (char *)ORG : NULL;
        u.password_hash = (char *)HASH;
        check(users_insert(w->inst->db, &u, &e), "users_insert", &e);
        if (strcmp(u.role, ROLE_TEST_TAKER) == 0)
            memcpy(w->taker_ids[w->n_takers++], u.id, UUID_STR_LEN);
    }
    check(db_commit(w->inst->db, &e), "commit", &e);
    printf("world: %d users (users_insert, one transaction) in %.1f s\n", n_users, now() - t0);
}

static void fill_devices(struct world *w)
{
    struct op_err e = {0};
    double t0 = now();
    check(db_begin(w->inst->db, &e), "begin", &e);
    struct delivery d;
    memset(&d, 0, sizeof d);
    d.label = (char *)"Bench test";
    check(deliveries_insert(w->inst->db, &d, &e), "delivery", &e);
    memcpy(w->delivery_id, d.id, UUID_STR_LEN);
    struct test_center c;
    memset(&c, 0, sizeof c);
    c.label = (char *)"Bench centre";
    c.org_id = (char *)ORG;
    check(testcenters_insert(w->inst->db, &c, &e), "center", &e);
    memcpy(w->center_id, c.id, UUID_STR_LEN);
    for (int i = 0; i < DEVICES; i++) {
        struct device dev;
        memset(&dev, 0, sizeof dev);
        uuid_generate(dev.id);
        char label[32];
        snprintf(label, sizeof label, "Laptop %03d", i);
        dev.label = label;
        dev.org_id = (char *)ORG;
        randombytes_buf(dev.signing_public_key, sizeof dev.signing_public_key);
        check(devices_insert(w->inst->db, &dev, &e), "device", &e);
        memcpy(w->device_ids[i], dev.id, UUID_STR_LEN);
        check(devices_report_sync(w->inst->db, dev.id, "0.13.0", i % 5, i % 7 - 3,
                                  "2026-12-06T08:00:00Z", &e),
              "report", &e);
        for (int r = 0; r < RUNS; r++) {
            char id[UUID_STR_LEN], at[TIMESTAMP_STR_LEN];
            uuid_generate(id);
            timestamp_format((time_t)1795000000 + (time_t)r * 3600 * 6 + i * 60, at);
            check(sync_runs_insert(w->inst->db, id, dev.id, at, &e), "run", &e);
            check(sync_runs_finish(w->inst->db, id, r % 10 == 3 ? "failed" : "ok", at,
                                   "{\"users\":{\"created\":1,\"updated\":2,\"deleted\":0}}", r % 4,
                                   20000 + r, r % 10 == 3 ? "central unreachable" : NULL, &e),
                  "run", &e);
        }
    }
    check(db_commit(w->inst->db, &e), "commit", &e);
    printf("world: 1 delivery, %d devices, %d sync runs in %.1f s\n", DEVICES, DEVICES * RUNS,
           now() - t0);
}

/* The result document a device seals (docs/api.md, "The sealed result"), cut to what the
 * results tab reads: the execution and the runner's outcomes. */
static char *result_doc(const struct world *w, const char *id, const char *exec, const char *taker,
                        const char *device, const char *state, int64_t start, int64_t end,
                        int score)
{
    json_t *doc = json_pack(
        "{s:s, s:{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:i, s:i, s:I, s:I, s:s}, s:n,"
        " s:{s:i, s:s, s:{s:i, s:i, s:i}, s:I, s:I}, s:[]}",
        "format", "outpost result v1", "execution", "id", exec, "delivery_id", w->delivery_id,
        "delivery_version", 1, "test_taker_id", taker, "center_id", w->center_id, "device_id",
        device, "state", state, "position", 9, "item_count", 10, "started_at", (json_int_t)start,
        "ended_at", (json_int_t)end, "result_id", id, "session", "outcome", "format", 1, "test",
        "bench", "outcomes", "SCORE", score, "MAX_SCORE", 10, "NCORRECT", score, "started_at",
        (json_int_t)start, "ended_at", (json_int_t)end, "audit");
    char *s = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(doc);
    return s;
}

static void fill_results(struct world *w)
{
    struct op_err e = {0};
    double t0 = now();
    unsigned char envelope[512];
    char key_id[KEY_ID_HEX_LEN];
    memset(key_id, 'a', sizeof key_id - 1);
    key_id[sizeof key_id - 1] = '\0';
    check(db_begin(w->inst->db, &e), "begin", &e);
    for (int i = 0; i < n_results; i++) {
        char id[UUID_STR_LEN], exec[UUID_STR_LEN];
        uuid_generate(id);
        uuid_generate(exec);
        randombytes_buf(envelope, sizeof envelope);
        const char *taker = w->taker_ids[i % w->n_takers];
        const char *device = w->device_ids[i % DEVICES];
        const char *state = i % 10 == 7 ? "terminated" : "finished";
        int64_t start = 1795000000 + (int64_t)i * 30, end = start + 1200 + i % 600;
        struct result_new r = {.id = id,
                               .execution_id = exec,
                               .delivery_id = w->delivery_id,
                               .test_taker_id = taker,
                               .device_id = device,
                               .key_id = key_id,
                               .state = state,
                               .started_at = start,
                               .ended_at = end,
                               .sealed_at = end,
                               .envelope = envelope,
                               .envelope_len = sizeof envelope};
        sha256_hex(envelope, sizeof envelope, r.envelope_sha256);
        enum results_outcome out;
        check(results_insert(w->inst->db, &r, &out, NULL, NULL, &e), "results_insert", &e);
        if (i % 10 != 9) { /* nine in ten decrypted */
            char *doc = result_doc(w, id, exec, taker, device, state, start, end, i % 11);
            check(results_set_decrypted(w->inst->db, id, doc, &e), "decrypted", &e);
            /* what decrypt-results records beside it: the outcomes and the center */
            check(app_results_summarise(w->inst->db, id, doc, &e), "summarise", &e);
            free(doc);
        }
        if (i % 10000 == 9999) {
            check(db_commit(w->inst->db, &e), "commit", &e);
            check(db_begin(w->inst->db, &e), "begin", &e);
        }
    }
    check(db_commit(w->inst->db, &e), "commit", &e);
    printf("world: %d results of one delivery (results_insert, then results_set_decrypted and "
           "app_results_summarise for 9 in 10, as "
           "decrypt-results) in %.1f s\n",
           n_results, now() - t0);
}

/* ---- The server ---- */

struct server {
    pid_t pid;
    struct sockaddr_in addr;
    char *log;
};

static char *outpost_binary(void)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        die("readlink", strerror(errno));
    self[n] = '\0';
    *strrchr(self, '/') = '\0';
    return fs_join(self, "outpost");
}

static void serve_start(struct world *w, struct server *s)
{
    s->log = fs_join(w->dir, "serve.log");
    char *bin = outpost_binary();
    s->pid = fork();
    if (s->pid == 0) {
        int fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 2);
        execl(bin, bin, "--data", w->data, "serve", "--listen", "127.0.0.1:0", (char *)NULL);
        _exit(127);
    }
    free(bin);
    server_pid = s->pid;
    for (int i = 0; i < 300; i++) {
        usleep(100000);
        FILE *f = fopen(s->log, "r");
        char line[1024];
        while (f && fgets(line, sizeof line, f)) {
            char *p = strstr(line, "listening on http://127.0.0.1:");
            if (p) {
                fclose(f);
                memset(&s->addr, 0, sizeof s->addr);
                s->addr.sin_family = AF_INET;
                s->addr.sin_port =
                    htons((uint16_t)atoi(p + strlen("listening on http://127.0.0.1:")));
                inet_pton(AF_INET, "127.0.0.1", &s->addr.sin_addr);
                return;
            }
        }
        if (f)
            fclose(f);
    }
    die("serve", "the server did not say where it listens (see serve.log)");
}

static void serve_stop(struct server *s)
{
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
    server_pid = 0;
}

/* VmRSS or VmHWM of the server, in MiB. */
static double server_mem(const struct server *s, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)s->pid);
    FILE *f = fopen(path, "r");
    double kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, strlen(field)) == 0)
            kib = atof(line + strlen(field) + 1);
    if (f)
        fclose(f);
    return kib / 1024.0;
}

/* ---- A keep-alive HTTP/1.1 client ---- */

struct conn {
    int fd;
    const struct server *srv;
    char auth[512]; /* a header line ("Cookie: ...\r\nX-CSRF-Token: ...\r\n") or "" */
};

static int conn_open(struct conn *c, const struct server *s)
{
    c->srv = s;
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return connect(c->fd, (const struct sockaddr *)&s->addr, sizeof s->addr);
}

/* One request; *ttfb is the time from the request written to its first byte read, *total to
 * the last. Returns the status; *body (may be NULL) gets the body (caller frees). */
static int request(struct conn *c, const char *method, const char *path, const char *body,
                   double *ttfb, double *total, char **out)
{
    char head[2048];
    size_t blen = body ? strlen(body) : 0;
    int hl =
        snprintf(head, sizeof head,
                 "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n%s%s"
                 "Content-Length: %zu\r\n\r\n",
                 method, path, c->auth, blen ? "Content-Type: application/json\r\n" : "", blen);
    double t0 = now();
    if (write(c->fd, head, (size_t)hl) != hl || (blen && write(c->fd, body, blen) != (ssize_t)blen))
        die("request", strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    double first = 0;
    long clen = -1;
    char *eoh = NULL;
    for (;;) {
        if (cap - len < 8192)
            buf = realloc(buf, cap *= 2);
        ssize_t n = read(c->fd, buf + len, cap - len - 1);
        if (n <= 0)
            die("response", n == 0 ? "connection closed" : strerror(errno));
        if (!first)
            first = now();
        len += (size_t)n;
        buf[len] = '\0';
        if (!eoh && (eoh = strstr(buf, "\r\n\r\n"))) {
            char *cl = strcasestr(buf, "\r\nContent-Length:");
            clen = cl && cl < eoh ? atol(cl + 17) : 0;
        }
        if (eoh && (long)(len - (size_t)(eoh + 4 - buf)) >= clen)
            break;
    }
    *ttfb = first - t0;
    *total = now() - t0;
    int status = atoi(buf + 9);
    if (out)
        *out = strdup(eoh + 4);
    /* the session cookie of a login */
    char *ck = strcasestr(buf, "\r\nSet-Cookie: outpost_session=");
    if (ck && ck < eoh) {
        char *end = strpbrk(ck + 14, ";\r");
        snprintf(c->auth, sizeof c->auth, "Cookie: %.*s\r\n", (int)(end - (ck + 14)), ck + 14);
    }
    free(buf);
    return status;
}

/* ---- The pages ---- */

/* A page measured three ways. `path` is the HTTP request (NULL: no endpoint on main yet);
 * app() runs the application function; `sql` with its binds is the bare limit. */
struct query {
    const char *name;
    char path[1024];
    void (*app)(struct world *w, const struct query *q);
    char sql[2048];
    char sql2[2048];       /* a second statement of the same answer (a count), or "" */
    const char *binds[12]; /* ?1 .. ?nbinds; NULL binds NULL, digits bind a number */
    int nbinds;
    int limit_binds; /* the last bind is an integer: the page size + 1 */
    /* filled by prepare(): */
    char after[128];
    int search; /* the results tab: by test taker, not by status */
};

static double time_app(struct world *w, const struct query *q)
{
    double v[SAMPLES];
    for (int i = 0; i < SAMPLES; i++) {
        double t0 = now();
        q->app(w, q);
        v[i] = now() - t0;
    }
    double med, p95;
    stats(v, SAMPLES, &med, &p95);
    return med;
}

static double time_bare_pg(const struct world *w, const struct query *q, int which, int *rows);

static int all_digits(const char *v)
{
    if (!v || !*v)
        return 0;
    for (; *v; v++)
        if (*v < '0' || *v > '9')
            return 0;
    return 1;
}

/* As the store binds: NULL, a number (a LIMIT), or text. */
static void bind_sqlite(sqlite3_stmt *st, int idx, const char *v)
{
    if (!v)
        sqlite3_bind_null(st, idx);
    else if (all_digits(v))
        sqlite3_bind_int64(st, idx, atoll(v));
    else
        sqlite3_bind_text(st, idx, v, -1, SQLITE_STATIC);
}

/* The bare limit: the statements of `which` (1: sql, 2: sql2, 3: both) prepared once with
 * bare SQLite on the same file (or bare libpq), stepped SAMPLES times; the median. */
static double time_bare(const struct world *w, const struct query *q, int which, int *rows)
{
    if (w->pg)
        return time_bare_pg(w, q, which, rows);
    sqlite3 *db;
    if (sqlite3_open_v2(w->db_file, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        die("sqlite3_open", w->db_file);
    sqlite3_stmt *st[2] = {NULL, NULL};
    const char *sql[2] = {which & 1 ? q->sql : "", which & 2 ? q->sql2 : ""};
    for (int k = 0; k < 2; k++)
        if (sql[k][0] && sqlite3_prepare_v2(db, sql[k], -1, &st[k], NULL) != SQLITE_OK)
            die("bare SQL", sqlite3_errmsg(db));
    double v[SAMPLES];
    for (int i = 0; i < SAMPLES; i++) {
        double t0 = now();
        for (int k = 0; k < 2; k++) {
            if (!st[k])
                continue;
            for (int b = 0; b < q->nbinds && b < sqlite3_bind_parameter_count(st[k]); b++)
                bind_sqlite(st[k], b + 1, q->binds[b]);
            int n = 0;
            while (sqlite3_step(st[k]) == SQLITE_ROW) {
                for (int c = 0; c < sqlite3_column_count(st[k]); c++)
                    (void)sqlite3_column_text(st[k], c);
                n++;
            }
            sqlite3_reset(st[k]);
            if (k == 0)
                *rows = n;
        }
        v[i] = now() - t0;
    }
    for (int k = 0; k < 2; k++)
        sqlite3_finalize(st[k]);
    sqlite3_close(db);
    double med, p95;
    stats(v, SAMPLES, &med, &p95);
    return med;
}

/* The same SQL for libpq: ?N becomes $N. */
static void pg_sql(const char *in, char *out, size_t cap)
{
    size_t j = 0;
    for (size_t i = 0; in[i] && j + 1 < cap; i++)
        out[j++] = in[i] == '?' && in[i + 1] >= '1' && in[i + 1] <= '9' ? '$' : in[i];
    out[j] = '\0';
}

/* The bare PostgreSQL limit: the statements prepared once on a libpq connection of its own,
 * executed SAMPLES times, every value read; the median. */
static double time_bare_pg(const struct world *w, const struct query *q, int which, int *rows)
{
    PGconn *c = w->bare_pg;
    const char *sql[2] = {which & 1 ? q->sql : "", which & 2 ? q->sql2 : ""};
    char name[2][16];
    int nparams[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        if (!sql[k][0])
            continue;
        char text[4096];
        pg_sql(sql[k], text, sizeof text);
        for (const char *d = strchr(text, '$'); d; d = strchr(d + 1, '$'))
            if (atoi(d + 1) > nparams[k])
                nparams[k] = atoi(d + 1);
        static int seq;
        snprintf(name[k], sizeof name[k], "b%d", ++seq);
        /* typed as the values are: a number (a LIMIT) bigint, anything else text */
        Oid types[12];
        for (int b = 0; b < nparams[k] && b < 12; b++)
            types[b] = b < q->nbinds && all_digits(q->binds[b]) ? 20 : 25;
        PGresult *r = PQprepare(c, name[k], text, nparams[k], types);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            die("bare SQL (PostgreSQL)", PQerrorMessage(c));
        PQclear(r);
    }
    double v[SAMPLES];
    for (int i = 0; i < SAMPLES; i++) {
        double t0 = now();
        for (int k = 0; k < 2; k++) {
            if (!sql[k][0])
                continue;
            PGresult *r = PQexecPrepared(c, name[k], nparams[k], q->binds, NULL, NULL, 0);
            if (PQresultStatus(r) != PGRES_TUPLES_OK)
                die("bare query (PostgreSQL)", PQerrorMessage(c));
            int n = PQntuples(r), cols = PQnfields(r);
            for (int row = 0; row < n; row++)
                for (int col = 0; col < cols; col++)
                    (void)PQgetvalue(r, row, col);
            if (k == 0)
                *rows = n;
            PQclear(r);
        }
        v[i] = now() - t0;
    }
    double med, p95;
    stats(v, SAMPLES, &med, &p95);
    return med;
}

static void time_http(struct conn *c, const char *path, double *med, double *p95, double *tot,
                      size_t *bytes)
{
    double v[SAMPLES], t[SAMPLES], ttfb, total;
    /* a fresh keep-alive connection: the server closes one left idle (while the app and the
     * bare limits were timed) */
    close(c->fd);
    if (conn_open(c, c->srv) != 0)
        die("connect", strerror(errno));
    for (int i = 0; i < SAMPLES; i++) {
        char *body = NULL;
        int status = request(c, "GET", path, NULL, &ttfb, &total, &body);
        if (status != 200) {
            fprintf(stderr, "GET %s: %d %s\n", path, status, body ? body : "");
            die("http", "a page was not answered 200");
        }
        *bytes = strlen(body);
        free(body);
        v[i] = ttfb;
        t[i] = total;
    }
    stats(v, SAMPLES, med, p95);
    double tp95;
    stats(t, SAMPLES, tot, &tp95);
}

/* ---- The devices page and the sync history (app/bo_devices.h) ---- */

static void app_devices(struct world *w, const struct query *q)
{
    json_t *out;
    struct op_err e = {0};
    struct app_bo_devices_query dq = {.after = q->after[0] ? q->after : NULL, .limit = 50};
    check(app_bo_devices_list(w->inst, &w->super, &dq, &out, &e), "devices", &e);
    json_decref(out);
}

static void app_runs(struct world *w, const struct query *q)
{
    json_t *out;
    struct op_err e = {0};
    struct app_bo_runs_query rq = {.status = "failed", .after = q->after, .limit = 50};
    check(app_bo_sync_runs_list(w->inst, &w->super, &rq, &out, &e), "runs", &e);
    json_decref(out);
}

/* Walks `pages` pages of the runs through the app to find where the middle page starts. */
static void runs_middle(struct world *w, struct query *q, int pages)
{
    q->after[0] = '\0';
    for (int p = 0; p < pages; p++) {
        json_t *out;
        struct op_err e = {0};
        struct app_bo_runs_query rq = {
            .status = "failed", .after = q->after[0] ? q->after : NULL, .limit = 50};
        check(app_bo_sync_runs_list(w->inst, &w->super, &rq, &out, &e), "runs", &e);
        const char *next = json_string_value(json_object_get(out, "next"));
        if (!next)
            die("runs", "fewer pages than expected");
        snprintf(q->after, sizeof q->after, "%s", next);
        json_decref(out);
    }
}

/* ---- Logging in, the users page and the results tab ---- */

/* The super-user's API token on connection c (docs/api.md, "Bearer tokens for scripts"). */
static int bench_login(struct world *w, struct conn *c)
{
    snprintf(c->auth, sizeof c->auth, "Authorization: Bearer %s\r\n", w->token);
    return 1;
}

/* ---- Main ---- */

static void report(struct world *w, struct conn *c, struct query *q, double bare_http)
{
    int rows = 0;
    const char *bare_name = w->pg ? "bare libpq " : "bare SQLite"; /* the same width */
    double app = q->app ? time_app(w, q) : -1;
    double bare = q->sql[0] ? time_bare(w, q, 3, &rows) : -1;
    printf("\n%s\n", q->name);
    if (app >= 0)
        printf("  app function (in process), median      %8.2f ms\n", app * 1e3);
    if (q->path[0] && c) {
        double med, p95, tot;
        size_t bytes;
        time_http(c, q->path, &med, &p95, &tot, &bytes);
        printf("  HTTP %s\n", q->path);
        printf("  HTTP time to first byte, median / p95  %8.2f / %.2f ms (whole answer %.2f ms, "
               "%zu bytes)\n",
               med * 1e3, p95 * 1e3, tot * 1e3, bytes);
        if (bare_http > 0)
            printf("  limit: bare HTTP answer (health)        %8.2f ms -> page is %.1fx\n",
                   bare_http * 1e3, med / bare_http);
    } else {
        printf("  HTTP: no endpoint on main yet (app function measured instead)\n");
    }
    if (bare >= 0 && q->sql2[0]) {
        int n;
        double page = time_bare(w, q, 1, &n), count = time_bare(w, q, 2, &n);
        printf("  limit: %s, the page (%d rows)    %8.2f ms\n", bare_name, rows, page * 1e3);
        printf("  limit: %s, its total (count)    %8.2f ms\n", bare_name, count * 1e3);
        printf("  limit: %s, page and total       %8.2f ms\n", bare_name, bare * 1e3);
    } else if (bare >= 0) {
        printf("  limit: %s, same page (%d rows)  %8.2f ms\n", bare_name, rows, bare * 1e3);
    }
    if (bare > 0 && app > 0)
        printf("  app / %s                        %8.1fx\n", bare_name, app / bare);
}

/* ---- The results tab (app/results_view.h) ---- */

static const char *results_status = "decrypted", *results_state = "finished";

static void app_results(struct world *w, const struct query *q)
{
    json_t *out;
    struct op_err e = {0};
    struct app_results_query rq = {.delivery = w->delivery_id};
    if (q->search) {
        rq.search = "lovelace";
    } else {
        rq.status = results_status;
        rq.state = results_state;
    }
    check(app_results_page(w->inst, &rq, q->after[0] ? q->after : NULL, 50, &out, &e), "results",
          &e);
    json_decref(out);
}

/* The key of the row that ends the page before the middle one of the filtered results: its
 * (started_at, id) into started and id, read through the store's statements (either backend). */
static void results_middle(const struct world *w, char started[TIMESTAMP_STR_LEN],
                           char id[UUID_STR_LEN], int *total)
{
    struct op_err e = {0};
    struct db *db = w->inst->db;
    struct db_stmt *st = db_stmt(db,
                                 "SELECT count(*) FROM results WHERE delivery_id = ?1"
                                 " AND status = ?2 AND state = ?3",
                                 &e);
    if (!st)
        die("count", e.msg);
    const char *f[] = {w->delivery_id, results_status, results_state};
    db_bind_texts(st, 1, f, 3);
    if (db_step(st) != DB_ROW)
        die("count", "no row");
    *total = db_column_int(st, 0);
    db_stmt_done(db, st);
    st = db_stmt(db,
                 "SELECT started_at, id FROM results WHERE delivery_id = ?1 AND status = ?2"
                 " AND state = ?3 ORDER BY started_at DESC, id DESC LIMIT 1 OFFSET ?4",
                 &e);
    if (!st)
        die("middle", e.msg);
    db_bind_texts(st, 1, f, 3);
    db_bind_int(st, 4, (*total / 2 / 50) * 50 - 1);
    if (db_step(st) != DB_ROW)
        die("middle", "no row");
    db_column_copy(st, 0, started, TIMESTAMP_STR_LEN);
    db_column_copy(st, 1, id, UUID_STR_LEN);
    db_stmt_done(db, st);
}

/* The statements of the tab, as store/results_view.c runs them (results_view_read and
 * results_view_count), with their binds: ?1 delivery, ?2 center, ?3 status, ?4 state, ?5 from,
 * ?6 to, ?7 search pattern, ?8 administrator, ?9 ?10 the key, ?11 the page size + 1. */
#define RESULTS_TAB_COLS                                                                           \
    "SELECT r.id, r.execution_id, r.delivery_id, r.test_taker_id, r.device_id, r.key_id,"          \
    " r.state, r.started_at, r.ended_at, r.sealed_at, r.envelope_sha256, r.status, r.problem,"     \
    " r.received_at, r.decrypted_at, (SELECT count(*) FROM results_quarantine q"                   \
    "  WHERE q.result_id = r.id), r.review, r.review_reason, u.login, u.label, r.center_id,"       \
    " c.label, d.label, r.outcomes_json FROM results r"                                            \
    " LEFT JOIN users u ON u.id = r.test_taker_id"                                                 \
    " LEFT JOIN test_centers c ON c.id = r.center_id"                                              \
    " LEFT JOIN devices d ON d.id = r.device_id"
#define RESULTS_TAB_FILTERS                                                                        \
    " WHERE r.delivery_id = ?1"                                                                    \
    " AND (?2 IS NULL OR r.center_id = ?2)"                                                        \
    " AND (?3 IS NULL OR r.status = ?3 OR r.review = ?3)"                                          \
    " AND (?4 IS NULL OR r.state = ?4)"                                                            \
    " AND (?5 IS NULL OR r.started_at >= ?5)"                                                      \
    " AND (?6 IS NULL OR r.started_at < ?6)"                                                       \
    " AND (?7 IS NULL OR r.test_taker_id IN (SELECT id FROM users"                                 \
    "  WHERE lower(login) LIKE ?7 ESCAPE '\\' OR lower(COALESCE(label, '')) LIKE ?7 ESCAPE '\\'))" \
    " AND (?8 IS NULL OR r.center_id IN (WITH RECURSIVE sc(id) AS (SELECT center_id"               \
    "  FROM test_center_staff WHERE user_id = ?8 AND duty = 'admin' UNION SELECT tc.id"            \
    "  FROM test_centers tc JOIN sc ON tc.parent_id = sc.id) SELECT id FROM sc))"

static void results_sql(struct query *q)
{
    snprintf(q->sql, sizeof q->sql, "%s",
             RESULTS_TAB_COLS RESULTS_TAB_FILTERS " AND (r.started_at, r.id) < (?9, ?10)"
                                                  " ORDER BY r.started_at DESC, r.id DESC"
                                                  " LIMIT ?11");
    snprintf(q->sql2, sizeof q->sql2, "%s", "SELECT count(*) FROM results r" RESULTS_TAB_FILTERS);
}

static void bench_results(struct world *w, struct conn *c, double bare_http)
{
    static char started[TIMESTAMP_STR_LEN], id[UUID_STR_LEN];
    int total;
    results_middle(w, started, id, &total);
    struct query mid = {.app = app_results, .nbinds = 11};
    const char *mid_binds[] = {w->delivery_id,
                               NULL,
                               results_status,
                               results_state,
                               NULL,
                               NULL,
                               NULL,
                               NULL,
                               started,
                               id,
                               "51"};
    memcpy(mid.binds, mid_binds, sizeof mid_binds);
    char name[256];
    snprintf(name, sizeof name,
             "results tab: %s and %s results of the delivery (%d of %d), middle page (50)",
             results_status, results_state, total, n_results);
    mid.name = name;
    snprintf(mid.after, sizeof mid.after, "%s,%s", started, id);
    results_sql(&mid);
    mid.sql2[0] = '\0'; /* a page after the first carries no total (app_results_page) */
    snprintf(mid.path, sizeof mid.path,
             "/api/v1/admin/results?delivery=%s&status=%s&state=%s&limit=50&after=%s",
             w->delivery_id, results_status, results_state, mid.after);
    report(w, c, &mid, bare_http);

    struct query search = {.app = app_results, .nbinds = 11, .search = 1};
    const char *search_binds[] = {w->delivery_id, NULL, NULL, NULL, NULL, NULL,
                                  "%lovelace%",   NULL, "~",  "",   "51"};
    memcpy(search.binds, search_binds, sizeof search_binds);
    search.name = "results tab: a test taker searched by name (\"lovelace\"), first page (50)";
    results_sql(&search);
    snprintf(search.path, sizeof search.path,
             "/api/v1/admin/results?delivery=%s&search=lovelace&limit=50", w->delivery_id);
    report(w, c, &search, bare_http);
}

/* ---- The users page (app/bo_users.h) ---- */

#define USERS_SEARCH "hopper" /* a last name: 1 user in 40 */

static void app_users(struct world *w, const struct query *q)
{
    json_t *out;
    struct op_err e = {0};
    struct app_bo_users_query uq = {USERS_SEARCH, ROLE_TEST_TAKER, q->after[0] ? q->after : NULL,
                                    50};
    check(app_bo_users_list(w->inst, &w->super, &uq, &out, &e), "users", &e);
    json_decref(out);
}

static void bench_users(struct world *w, struct conn *c, double bare_http)
{
    /* the middle page: walk half of the pages through the app */
    struct query users = {.app = app_users, .nbinds = 4};
    int pages = 0;
    char after[128] = "";
    for (;;) {
        json_t *out;
        struct op_err e = {0};
        struct app_bo_users_query uq = {USERS_SEARCH, ROLE_TEST_TAKER, after[0] ? after : NULL, 50};
        check(app_bo_users_list(w->inst, &w->super, &uq, &out, &e), "users", &e);
        const char *next = json_string_value(json_object_get(out, "next"));
        pages++;
        if (next)
            snprintf(after, sizeof after, "%s", next);
        json_decref(out);
        if (!next)
            break;
    }
    memset(after, 0, sizeof after);
    for (int p = 0; p < pages / 2; p++) {
        json_t *out;
        struct op_err e = {0};
        struct app_bo_users_query uq = {USERS_SEARCH, ROLE_TEST_TAKER, after[0] ? after : NULL, 50};
        check(app_bo_users_list(w->inst, &w->super, &uq, &out, &e), "users", &e);
        snprintf(after, sizeof after, "%s", json_string_value(json_object_get(out, "next")));
        json_decref(out);
    }
    snprintf(users.after, sizeof users.after, "%s", after);
    char name[256];
    snprintf(name, sizeof name,
             "users page: test takers searched by name (\"" USERS_SEARCH "\"), middle page (%d of "
             "%d, 50 a page)",
             pages / 2 + 1, pages);
    users.name = name;
    snprintf(users.path, sizeof users.path,
             "/api/v1/admin/users?q=" USERS_SEARCH "&role=" ROLE_TEST_TAKER "&limit=50&after=%s",
             users.after);
    /* the store's own statement (store/users.c, users_search_page: everyone, by role) */
    snprintf(users.sql, sizeof users.sql, "%s",
             "SELECT id, login, role, label, first_name, last_name, mail, interface_lang,"
             " default_lang, org_id, password_hash, version, created_at, updated_at,"
             " vault_public_key, vault_secret_wrapped, vault_secret_escrow FROM users"
             " WHERE role = ?4 AND login > ?1"
             " AND (?2 IS NULL OR lower(login) LIKE ?2 ESCAPE '\\'"
             " OR lower(coalesce(label, '')) LIKE ?2 ESCAPE '\\'"
             " OR lower(coalesce(first_name, '')) LIKE ?2 ESCAPE '\\'"
             " OR lower(coalesce(last_name, '')) LIKE ?2 ESCAPE '\\')"
             " ORDER BY login LIMIT ?3");
    const char *binds[] = {users.after, "%" USERS_SEARCH "%", "51", ROLE_TEST_TAKER};
    memcpy(users.binds, binds, sizeof binds);
    report(w, c, &users, bare_http);
}

static void bench_users_results(struct world *w, struct conn *c, double bare_http)
{
    bench_users(w, c, bare_http);
    bench_results(w, c, bare_http);
}

/* One world on one backend, every page measured. */
static void run(int pg)
{
    struct world w;
    memset(&w, 0, sizeof w);
    w.pg = pg;
    printf("\n==== central on %s\n", pg ? "PostgreSQL (the PG* server)" : "SQLite");
    make_central(&w);
    fill_users(&w);
    fill_devices(&w);
    fill_results(&w);

    if (pg) {
        char conninfo[128];
        snprintf(conninfo, sizeof conninfo, "dbname=%s", PG_DBNAME);
        w.bare_pg = PQconnectdb(conninfo);
        if (PQstatus(w.bare_pg) != CONNECTION_OK)
            die("PostgreSQL", PQerrorMessage(w.bare_pg));
    }
    struct server s;
    serve_start(&w, &s);
    double idle = server_mem(&s, "VmRSS:");
    struct conn c;
    if (conn_open(&c, &s) != 0)
        die("connect", strerror(errno));
    c.auth[0] = '\0';

    /* the bare HTTP answer: no session, no database */
    double v[SAMPLES], p95, tot, bare_http;
    size_t bytes;
    time_http(&c, "/api/v1/health", &bare_http, &p95, &tot, &bytes);
    (void)v;
    printf("\nlimit: bare HTTP answer, GET /api/v1/health: time to first byte median %.2f ms, p95 "
           "%.2f ms\n",
           bare_http * 1e3, p95 * 1e3);

    int logged_in = bench_login(&w, &c);

    struct query devices = {.name = "devices page (first page of 50, every device)",
                            .app = app_devices};
    snprintf(devices.path, sizeof devices.path, "/api/v1/admin/devices?limit=50");
    /* the store's own statement (store/devices.c), bound as devices_overview_page binds it */
    snprintf(devices.sql, sizeof devices.sql, "%s",
             TESTCENTERS_ADMIN_SCOPE_CTE
             " SELECT d.label, d.id, d.org_id, u.login, d.enrolled_at, d.last_sync_at, d.revoked,"
             " d.software_version, d.pending_results, d.clock_offset_seconds,"
             " (SELECT r.status FROM sync_runs r WHERE r.device_id = d.id"
             "  ORDER BY r.started_at DESC, r.id DESC LIMIT 1)"
             " FROM devices d LEFT JOIN users u ON u.id = d.sync_manager_id"
             " WHERE (?1 IS NULL OR d.org_id IN (SELECT c.org_id FROM test_centers c"
             " WHERE c.id IN (SELECT id FROM scope))) AND (?2 IS NULL OR d.org_id = ?2)"
             " AND (d.label, d.id) > (?3, ?4) ORDER BY d.label, d.id LIMIT ?5");
    const char *devices_binds[] = {NULL, NULL, "", "", "51"};
    memcpy(devices.binds, devices_binds, sizeof devices_binds);
    devices.nbinds = 5;
    report(&w, logged_in ? &c : NULL, &devices, bare_http);

    struct query runs = {.name = "sync history: failed runs of every device, middle page (11th "
                                 "of 20, 50 a page)",
                         .app = app_runs};
    runs_middle(&w, &runs, 10);
    struct sync_run_row mid;
    struct op_err e = {0};
    check(sync_runs_get(w.inst->db, runs.after, &mid, &e), "run", &e);
    snprintf(runs.path, sizeof runs.path, "/api/v1/admin/sync-runs?status=failed&limit=50&after=%s",
             runs.after);
    /* the store's own statement (store/sync_runs.c, sync_runs_page: the filters given only)
     * and its binds */
    snprintf(runs.sql, sizeof runs.sql, "%s",
             "SELECT r.id, r.device_id, r.started_at, r.ended_at, r.status, r.counts,"
             " r.results_sent, r.bytes, r.error, d.label, d.org_id FROM sync_runs r"
             " LEFT JOIN devices d ON d.id = r.device_id WHERE r.status = ?1 AND"
             " (r.started_at, r.id) < (?2, ?3) ORDER BY r.started_at DESC, r.id DESC LIMIT ?4");
    static char mid_started[TIMESTAMP_STR_LEN], mid_id[UUID_STR_LEN];
    memcpy(mid_started, mid.run.started_at, sizeof mid_started);
    memcpy(mid_id, mid.run.id, sizeof mid_id);
    const char *runs_binds[] = {"failed", mid_started, mid_id, "51"};
    memcpy(runs.binds, runs_binds, sizeof runs_binds);
    runs.nbinds = 4;
    sync_run_row_clear(&mid);
    report(&w, logged_in ? &c : NULL, &runs, bare_http);

    bench_users_results(&w, logged_in ? &c : NULL, bare_http);

    printf("\nserver memory: idle after start %.1f MiB, after the requests %.1f MiB, peak (VmHWM) "
           "%.1f MiB\n",
           idle, server_mem(&s, "VmRSS:"), server_mem(&s, "VmHWM:"));
    close(c.fd);
    serve_stop(&s);
    app_bo_caller_clear(&w.super);
    instance_close(w.inst);
    if (w.bare_pg)
        PQfinish(w.bare_pg);
    if (pg && !getenv("BENCH_BO_KEEP"))
        pg_admin("DROP DATABASE IF EXISTS " PG_DBNAME);
    if (getenv("BENCH_BO_KEEP")) {
        printf("world kept in %s\n", w.dir);
    } else {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", w.dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", w.dir);
    }
}

int main(int argc, char **argv)
{
    if (argc > 1)
        n_users = atoi(argv[1]);
    if (argc > 2)
        n_results = atoi(argv[2]);
    if (n_users < 1000 || n_results < 1000)
        die("usage", "bench_backoffice [USERS >= 1000 [RESULTS >= 1000]]");
    if (sodium_init() < 0)
        die("sodium_init", "failed");
    setvbuf(stdout, NULL, _IOLBF, 0);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    double load[3] = {0};
    getloadavg(load, 3);
    printf("bench_backoffice: %d users, %d results; %ld CPUs, load average %.1f\n", n_users,
           n_results, cpus, load[0]);
    run(0);
    if (getenv("PGHOST") && getenv("PGPASSFILE"))
        run(1);
    else
        printf("\nPostgreSQL: not measured (no PG* server: bench/run.sh starts one with "
               "tests/tools/pg_tmp.sh)\n");
    return 0;
}
