/*
 * bench_runner.c - test takers answering at once against one device, through the runner API
 * (docs/api.md) on loopback, as the browser pages do:
 *
 *   world: bench/runner_world.sh makes a central and a device, TAKERS test takers (default
 *   password cost) eligible for the demo test (5 items, linear, not proctored), enrols and
 *   syncs the device and leaves its `outpost serve` running.
 *
 *   1. idle memory of the device's server (VmRSS) before any request.
 *   2. 50 simultaneous logins (POST /api/v1/session) at the default password cost: wall time
 *      of the whole burst and per-login p50/p99.
 *   3. every test taker logged in (the rest of them), then all at once, each taking the test
 *      as a person does: a pause to read and answer (THINK_SECONDS on average, uniform from
 *      0 to twice that), then answer (POST .../responses) and move to the next item (POST
 *      .../move; .../finish after the last). One sample = answer + next, as a test taker
 *      pressing "next" waits for both: p50/p99 (the target) and requests per second.
 *   3b. saturation: the same test takers with no pause at all for ROUND_SECONDS (new
 *      executions as they finish; the delivery allows any number): the most the device
 *      answers, and the latency of a queue.
 *   A 503 (the database busy past the server's short wait) is tried again after 200 ms, as
 *   the pages do, and counted.
 *   4. peak (VmHWM) and idle-after memory of the server.
 *   Limit, same run and same connections: GET /api/v1/health (no database, no session) from
 *   the same number of clients; what the server costs with nothing to do.
 *
 * Clients are raw sockets with HTTP/1.1 keep-alive (one connection per test taker), so the
 * figures are the server's, not a client library's.
 *
 * usage: bench_runner [TAKERS (300)]            builds the world in a temporary folder
 *        bench_runner URL PID LOGINS ANSWERS    against a running device
 * Set BENCH_RUNNER_KEEP=1 to keep the world (its folder is printed).
 * Targets (issue 12): p99 under 50 ms for answer-and-next; idle server under 30 MB.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LOGIN_BURST    50
#define ROUNDS         3
#define ROUND_SECONDS  20.0
#define THINK_SECONDS  5.0
#define HEALTH_SECONDS 3.0
#define MAX_RESPONSE   (8u << 20)

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void fail(const char *what)
{
    fprintf(stderr, "bench_runner: %s\n", what);
    exit(1);
}

/* ---- a keep-alive HTTP/1.1 client over one socket ---- */

struct conn {
    int fd;
    struct sockaddr_in addr;
    char cookie[256]; /* "outpost_session=..." */
    char csrf[160];
    char *in; /* bytes read past the last response */
    size_t in_len, in_cap;
};

struct reply {
    int status;
    char *body; /* NUL-terminated, owned by the caller */
    size_t len;
};

static int conn_open(struct conn *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0)
        return -1;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&c->addr, sizeof c->addr) != 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    c->in_len = 0;
    return 0;
}

static int fill(struct conn *c)
{
    if (c->in_cap - c->in_len < 16384) {
        c->in_cap = c->in_cap ? 2 * c->in_cap : 65536;
        if (c->in_cap > MAX_RESPONSE)
            return -1;
        c->in = realloc(c->in, c->in_cap);
    }
    ssize_t n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len - 1);
    if (n <= 0)
        return -1;
    c->in_len += (size_t)n;
    c->in[c->in_len] = '\0';
    return 0;
}

/* The value of header `name` (case-insensitive) in the header block [h, end), or NULL. */
static const char *header(const char *h, const char *end, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    for (const char *p = h; p && p < end;) {
        const char *eol = strstr(p, "\r\n");
        if (!eol || eol > end)
            eol = end;
        if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            *vlen = (size_t)(eol - v);
            return v;
        }
        p = eol + 2;
    }
    return NULL;
}

/* One request and its answer; reconnects once if the server had closed the connection. */
static int request(struct conn *c, const char *method, const char *path, const char *body,
                   struct reply *r)
{
    char head[1024];
    size_t blen = body ? strlen(body) : 0;
    int hl =
        snprintf(head, sizeof head,
                 "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n"
                 "%s%s%s%s%s%s%s"
                 "Content-Length: %zu\r\n\r\n",
                 method, path, c->cookie[0] ? "Cookie: " : "", c->cookie,
                 c->cookie[0] ? "\r\n" : "", c->csrf[0] ? "X-CSRF-Token: " : "", c->csrf,
                 c->csrf[0] ? "\r\n" : "", blen ? "Content-Type: application/json\r\n" : "", blen);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (c->fd < 0 && conn_open(c) != 0)
            return -1;
        int ok = write(c->fd, head, (size_t)hl) == hl &&
                 (blen == 0 || write(c->fd, body, blen) == (ssize_t)blen);
        const char *eoh = NULL;
        while (ok && !(c->in_len && (eoh = strstr(c->in, "\r\n\r\n"))))
            ok = fill(c) == 0;
        if (!ok) {
            close(c->fd);
            c->fd = -1;
            if (attempt == 0 && c->in_len == 0)
                continue;
            return -1;
        }
        r->status = atoi(c->in + 9);
        size_t vl = 0;
        const char *v = header(c->in, eoh, "Content-Length", &vl);
        size_t clen = v ? strtoul(v, NULL, 10) : 0;
        const char *ck = header(c->in, eoh, "Set-Cookie", &vl);
        if (ck) {
            size_t n = strcspn(ck, ";\r");
            if (n < sizeof c->cookie) {
                memcpy(c->cookie, ck, n);
                c->cookie[n] = '\0';
            }
        }
        const char *conn_hdr = header(c->in, eoh, "Connection", &vl);
        int closing = conn_hdr && strncasecmp(conn_hdr, "close", 5) == 0;
        size_t hdr = (size_t)(eoh - c->in) + 4;
        while (c->in_len < hdr + clen)
            if (fill(c) != 0) {
                close(c->fd);
                c->fd = -1;
                return -1;
            }
        r->body = malloc(clen + 1);
        memcpy(r->body, c->in + hdr, clen);
        r->body[clen] = '\0';
        r->len = clen;
        memmove(c->in, c->in + hdr + clen, c->in_len - hdr - clen);
        c->in_len -= hdr + clen;
        c->in[c->in_len] = '\0';
        if (closing) {
            close(c->fd);
            c->fd = -1;
        }
        return 0;
    }
    return -1;
}

/* As a page does: a 503 (database busy) is tried again after a short pause, and counted. */
static int busy_retries;
static pthread_mutex_t busy_lock = PTHREAD_MUTEX_INITIALIZER;

static json_t *request_json(struct conn *c, const char *method, const char *path, json_t *body,
                            int *status)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    struct reply r = {0};
    int rc;
    for (int tries = 0;; tries++) {
        rc = request(c, method, path, text, &r);
        if (rc != 0 || r.status != 503 || tries == 5)
            break;
        free(r.body);
        r.body = NULL;
        pthread_mutex_lock(&busy_lock);
        busy_retries++;
        pthread_mutex_unlock(&busy_lock);
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    free(text);
    json_decref(body);
    *status = rc == 0 ? r.status : 0;
    json_t *j = rc == 0 ? json_loadb(r.body, r.len, 0, NULL) : NULL;
    free(r.body);
    return j;
}

/* ---- samples ---- */

struct samples {
    double *v;
    size_t n, cap;
};

static void add(struct samples *s, double x)
{
    if (s->n == s->cap)
        s->v = realloc(s->v, (s->cap = s->cap ? 2 * s->cap : 256) * sizeof *s->v);
    s->v[s->n++] = x;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(struct samples *s, int p)
{
    if (!s->n)
        return 0;
    qsort(s->v, s->n, sizeof *s->v, cmp_double);
    size_t i = (s->n * (size_t)p + 99) / 100;
    return s->v[i ? i - 1 : 0] * 1e3;
}

static void merge(struct samples *into, struct samples *from)
{
    for (size_t i = 0; i < from->n; i++)
        add(into, from->v[i]);
    free(from->v);
    memset(from, 0, sizeof *from);
}

/* ---- the server's memory ---- */

static long status_kib(int pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    size_t fl = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, fl) == 0 && line[fl] == ':')
            kib = strtol(line + fl + 1, NULL, 10);
    if (f)
        fclose(f);
    return kib;
}

/* ---- one test taker ---- */

struct taker {
    struct conn c;
    char login[64], password[128];
    json_t *answers; /* shared, read only */
    double barrier;  /* start time */
    int phase;       /* 0 login, 1 test, 2 health */
    double until;
    double think; /* mean seconds between two items (0: none) */
    unsigned seed;
    int logged_in, rounds, failures, requests;
    char first_failure[200];
    struct samples lat;
};

static void failure(struct taker *t, const char *what, int status, json_t *j)
{
    if (!t->failures++) {
        json_t *m = j ? json_object_get(j, "message") : NULL;
        snprintf(t->first_failure, sizeof t->first_failure, "%s: %d %s", what, status,
                 json_is_string(m) ? json_string_value(m) : "");
    }
}

static void wait_until(double when)
{
    double d = when - now();
    if (d > 0) {
        struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

static int login(struct taker *t)
{
    int st;
    t->c.cookie[0] = t->c.csrf[0] = '\0';
    double t0 = now();
    json_t *j =
        request_json(&t->c, "POST", "/api/v1/session",
                     json_pack("{s:s,s:s}", "login", t->login, "password", t->password), &st);
    t->requests++;
    const char *csrf = json_string_value(json_object_get(j, "csrf"));
    if (st != 200 || !csrf || strlen(csrf) >= sizeof t->c.csrf) {
        failure(t, "login", st, j);
        json_decref(j);
        return -1;
    }
    add(&t->lat, now() - t0);
    snprintf(t->c.csrf, sizeof t->c.csrf, "%s", csrf);
    json_decref(j);
    t->logged_in = 1;
    return 0;
}

/* The answer for the view's item: answers.json maps item identifiers to response objects. */
static json_t *answer_for(struct taker *t, json_t *view)
{
    json_t *item = json_object_get(view, "item");
    const char *id = json_string_value(json_object_get(item, "identifier"));
    const char *key = json_string_value(json_object_get(view, "item_key"));
    json_t *a = id ? json_object_get(t->answers, id) : NULL;
    if (!a && key)
        a = json_object_get(t->answers, key);
    return a ? a : json_object();
}

/* One execution from start to finish; 0 done, 1 the delivery allows no more, -1 failed. */
static int sit_test(struct taker *t, const char *delivery, const char *center)
{
    int st;
    json_t *j =
        request_json(&t->c, "POST", "/api/v1/executions",
                     json_pack("{s:s,s:s}", "delivery_id", delivery, "center_id", center), &st);
    t->requests++;
    if (st == 409 || st == 403) {
        json_decref(j);
        return 1;
    }
    const char *id = json_string_value(json_object_get(json_object_get(j, "execution"), "id"));
    if ((st != 201 && st != 200) || !id) {
        failure(t, "start", st, j);
        json_decref(j);
        return -1;
    }
    char base[192];
    snprintf(base, sizeof base, "/api/v1/executions/%s", id);
    json_decref(j);
    json_t *got = request_json(&t->c, "GET", base, NULL, &st);
    t->requests++;
    json_t *view = json_incref(json_object_get(got, "view"));
    json_decref(got);
    char path[256];
    while (view && json_is_object(view) && !json_is_true(json_object_get(view, "ended"))) {
        if (t->think > 0) { /* reading and answering the item */
            double d = t->think * 2.0 * (double)rand_r(&t->seed) / RAND_MAX;
            struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
            nanosleep(&ts, NULL);
        }
        const char *key = json_string_value(json_object_get(view, "item_key"));
        if (!key) {
            failure(t, "view", st, view);
            json_decref(view);
            return -1;
        }
        char item_key[128];
        snprintf(item_key, sizeof item_key, "%s", key);
        json_t *a = answer_for(t, view);
        double t0 = now();
        snprintf(path, sizeof path, "%s/responses", base);
        j = request_json(&t->c, "POST", path,
                         json_pack("{s:s,s:O}", "item_key", item_key, "responses", a), &st);
        t->requests++;
        if (st != 200) {
            failure(t, "respond", st, j);
            json_decref(j);
            json_decref(view);
            return -1;
        }
        json_decref(j);
        json_t *nav = json_object_get(view, "navigation");
        int has_next = json_is_true(json_object_get(nav, "next"));
        json_decref(view);
        view = NULL;
        snprintf(path, sizeof path, "%s/%s", base, has_next ? "move" : "finish");
        j = has_next
                ? request_json(&t->c, "POST", path,
                               json_pack("{s:s,s:s}", "item_key", item_key, "to", "next"), &st)
                : request_json(&t->c, "POST", path, json_pack("{s:s}", "item_key", item_key), &st);
        t->requests++;
        if (st != 200) {
            failure(t, has_next ? "move" : "finish", st, j);
            json_decref(j);
            return -1;
        }
        add(&t->lat, now() - t0);
        view = has_next ? json_incref(json_object_get(j, "view")) : NULL;
        json_decref(j);
    }
    json_decref(view);
    return 0;
}

static void *taker_thread(void *arg)
{
    struct taker *t = arg;
    wait_until(t->barrier);
    if (t->phase == 0) {
        login(t);
        return NULL;
    }
    if (t->phase == 2) {
        while (now() < t->until) {
            double t0 = now();
            struct reply r = {0};
            if (request(&t->c, "GET", "/api/v1/health", NULL, &r) != 0 || r.status != 200) {
                failure(t, "health", r.status, NULL);
                free(r.body);
                return NULL;
            }
            free(r.body);
            t->requests++;
            add(&t->lat, now() - t0);
        }
        return NULL;
    }
    int st;
    json_t *j = request_json(&t->c, "GET", "/api/v1/my/deliveries", NULL, &st);
    t->requests++;
    json_t *d = json_array_get(json_object_get(j, "deliveries"), 0);
    const char *delivery = json_string_value(json_object_get(d, "delivery_id"));
    const char *center = json_string_value(json_object_get(d, "center_id"));
    if (st != 200 || !delivery || !center) {
        failure(t, "my deliveries", st, j);
        json_decref(j);
        return NULL;
    }
    char dl[128], ce[128];
    snprintf(dl, sizeof dl, "%s", delivery);
    snprintf(ce, sizeof ce, "%s", center);
    json_decref(j);
    while (t->think > 0 ? t->rounds < 1 : (t->rounds < ROUNDS || now() < t->until)) {
        int rc = sit_test(t, dl, ce);
        if (rc != 0)
            break;
        t->rounds++;
        if (now() >= t->until)
            break;
    }
    return NULL;
}

struct phase_result {
    double wall;
    struct samples lat;
    int failures, requests, rounds, busy;
    char first_failure[200];
};

static void run_phase(struct taker *t, int from, int to, int phase, double seconds, double think,
                      struct phase_result *out)
{
    int n = to - from;
    busy_retries = 0;
    pthread_t *tid = calloc((size_t)n, sizeof *tid);
    double start = now() + 0.5; /* every thread ready before the first request */
    for (int i = 0; i < n; i++) {
        t[from + i].phase = phase;
        t[from + i].barrier = start;
        t[from + i].until = start + seconds;
        t[from + i].think = think;
        t[from + i].seed = (unsigned)(from + i) * 2654435761u;
        if (pthread_create(&tid[i], NULL, taker_thread, &t[from + i]) != 0)
            fail("pthread_create");
    }
    memset(out, 0, sizeof *out);
    for (int i = 0; i < n; i++) {
        pthread_join(tid[i], NULL);
        struct taker *k = &t[from + i];
        merge(&out->lat, &k->lat);
        out->failures += k->failures;
        out->requests += k->requests;
        out->rounds += k->rounds;
        if (k->failures && !out->first_failure[0])
            memcpy(out->first_failure, k->first_failure, sizeof out->first_failure);
        k->failures = k->requests = k->rounds = 0;
        k->first_failure[0] = '\0';
    }
    out->wall = now() - start;
    out->busy = busy_retries;
    free(tid);
}

static void load(const char *when)
{
    double l[3];
    if (getloadavg(l, 3) == 3)
        printf("load average %s: %.2f\n", when, l[0]);
}

/* Percentiles of the ms= of the access log's answers and moves so far: what the server
 * spent on each request, without the wait for a worker thread or the clients' own scheduling. */
static void server_times(const char *dir)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "awk '/access/ && /responses|move|finish/ && / status=200 / { for (i = 1; i <= NF; "
             "i++) if ($i ~ /^ms=/) print substr($i, 4) + 0 }' '%s/w/device.log' | sort -n | "
             "awk '{ a[NR] = $1 } END { if (NR) { j = int(NR * 0.99) + 1; if (j > NR) j = NR; "
             "printf \"  server time per answer or move (access log, %%d requests): p50 %%.1f ms, "
             "p99 %%.1f ms, max %%.1f ms\\n\", NR, a[int(NR * 0.5) + 1], a[j], a[NR] } }'",
             dir);
    fflush(stdout);
    if (system(cmd) != 0)
        fprintf(stderr, "could not read the server's access log\n");
}

/* Builds the world with bench/runner_world.sh; fills url and pid. */
static void make_world(const char *self, int takers, char *dir, size_t dirlen, char *url,
                       size_t urllen, int *pid, int *central_pid)
{
    char outpost[4096], script[4096], cmd[12288];
    ssize_t len = readlink("/proc/self/exe", outpost, sizeof outpost - 16);
    if (len <= 0)
        fail("cannot find the outpost binary beside this program");
    outpost[len] = '\0';
    char *slash = strrchr(outpost, '/');
    strcpy(slash ? slash + 1 : outpost, "outpost");
    (void)self;
    snprintf(script, sizeof script, "%s/bench/runner_world.sh", OUTPOST_SOURCE_DIR);
    snprintf(dir, dirlen, "/tmp/outpost-bench-runner-XXXXXX");
    if (!mkdtemp(dir))
        fail("mkdtemp");
    snprintf(cmd, sizeof cmd, "sh '%s' '%s' '%s/w' %d", script, outpost, dir, takers);
    printf("building the world (%d test takers at the default password cost)...\n", takers);
    fflush(stdout);
    double t0 = now();
    FILE *p = popen(cmd, "r");
    char line[512];
    *pid = *central_pid = 0;
    url[0] = '\0';
    while (p && fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "url ", 4) == 0)
            snprintf(url, urllen, "%.250s", line + 4);
        else if (strncmp(line, "pid ", 4) == 0)
            *pid = atoi(line + 4);
        else if (strncmp(line, "central_pid ", 12) == 0)
            *central_pid = atoi(line + 12);
    }
    if (!p || pclose(p) != 0 || !url[0] || !*pid)
        fail("runner_world.sh failed (see above)");
    printf("world ready in %.1f s: %s/w\n", now() - t0, dir);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    int takers = 300, pid = 0, central_pid = 0;
    char dir[256] = "", url[256], logins[512], answers_path[512];
    if (argc == 5) {
        snprintf(url, sizeof url, "%s", argv[1]);
        pid = atoi(argv[2]);
        snprintf(logins, sizeof logins, "%s", argv[3]);
        snprintf(answers_path, sizeof answers_path, "%s", argv[4]);
    } else {
        if (argc == 2)
            takers = atoi(argv[1]);
        if (takers < LOGIN_BURST)
            fail("usage: bench_runner [TAKERS >= 50] | bench_runner URL PID LOGINS ANSWERS");
        make_world(argv[0], takers, dir, sizeof dir, url, sizeof url, &pid, &central_pid);
        snprintf(logins, sizeof logins, "%s/w/logins", dir);
        snprintf(answers_path, sizeof answers_path, "%s/w/answers.json", dir);
    }
    int port = 0;
    if (sscanf(url, "http://127.0.0.1:%d", &port) != 1)
        fail("the URL must be http://127.0.0.1:PORT");
    json_t *answers = json_load_file(answers_path, 0, NULL);
    if (!answers)
        fail("cannot read the answers file");

    struct taker *t = calloc((size_t)takers, sizeof *t);
    FILE *f = fopen(logins, "r");
    int n = 0;
    while (f && n < takers && fscanf(f, "%63s %127s", t[n].login, t[n].password) == 2)
        n++;
    if (f)
        fclose(f);
    if (n < LOGIN_BURST)
        fail("not enough logins");
    takers = n;
    for (int i = 0; i < n; i++) {
        t[i].c.fd = -1;
        t[i].c.addr.sin_family = AF_INET;
        t[i].c.addr.sin_port = htons((uint16_t)port);
        t[i].c.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        t[i].answers = answers;
    }

    load("at start");
    sleep(1);
    long idle_kib = status_kib(pid, "VmRSS");
    printf("\nserver idle before any request: RSS %.1f MiB\n", idle_kib / 1024.0);

    struct phase_result health, burst, rest, paced, test;
    run_phase(t, 0, n, 2, HEALTH_SECONDS, 0, &health);
    printf("limit: GET /api/v1/health from %d clients for %.0f s: %.0f req/s, p50 %.2f ms, "
           "p99 %.2f ms%s%s\n",
           n, HEALTH_SECONDS, health.requests / health.wall, pct(&health.lat, 50),
           pct(&health.lat, 99), health.failures ? ", FAILED: " : "", health.first_failure);

    run_phase(t, 0, LOGIN_BURST, 0, 0, 0, &burst);
    printf("%d simultaneous logins: all done in %.2f s, per login p50 %.0f ms, p99 %.0f ms%s%s\n",
           LOGIN_BURST, burst.wall, pct(&burst.lat, 50), pct(&burst.lat, 99),
           burst.failures ? ", FAILED: " : "", burst.first_failure);
    run_phase(t, LOGIN_BURST, n, 0, 0, 0, &rest);
    printf("the other %d logins: %.2f s%s%s\n", n - LOGIN_BURST, rest.wall,
           rest.failures ? ", FAILED: " : "", rest.first_failure);
    long after_login_kib = status_kib(pid, "VmRSS");

    run_phase(t, 0, n, 1, 0, THINK_SECONDS, &paced);
    printf("\n%d test takers at once, each taking the test (%.0f s on average per item, 0 to "
           "%.0f):\n  answer + next: %zu samples, p50 %.2f ms, p99 %.2f ms (target p99 < 50 ms: "
           "%s); %.0f requests/s over %.1f s; %d tests finished; %d answers of 503 tried "
           "again%s%s\n",
           n, THINK_SECONDS, 2 * THINK_SECONDS, paced.lat.n, pct(&paced.lat, 50),
           pct(&paced.lat, 99),
           !paced.lat.n               ? "no samples"
           : pct(&paced.lat, 99) < 50 ? "met"
                                      : "MISSED",
           paced.requests / paced.wall, paced.wall, paced.rounds, paced.busy,
           paced.failures ? ", FAILED: " : "", paced.first_failure);
    if (dir[0]) /* the server's own time for the same requests, from its access log */
        server_times(dir);
    run_phase(t, 0, n, 1, ROUND_SECONDS, 0, &test);
    printf("saturation: the same %d with no pause at all for %.0f s:\n  answer + next: %zu "
           "samples, p50 %.2f ms, p99 %.2f ms; %.0f requests/s; %d tests finished; %d answers "
           "of 503 tried again%s%s\n",
           n, ROUND_SECONDS, test.lat.n, pct(&test.lat, 50), pct(&test.lat, 99),
           test.requests / test.wall, test.rounds, test.busy, test.failures ? ", FAILED: " : "",
           test.first_failure);
    sleep(2);
    long peak_kib = status_kib(pid, "VmHWM"), after_kib = status_kib(pid, "VmRSS");
    printf("server memory: idle %.1f MiB before (target < 30 MB: %s), %.1f MiB with %d "
           "sessions open, peak %.1f MiB, %.1f MiB idle after\n",
           idle_kib / 1024.0, idle_kib * 1024.0 < 30e6 ? "met" : "MISSED", after_login_kib / 1024.0,
           n, peak_kib / 1024.0, after_kib / 1024.0);
    load("at end");

    for (int i = 0; i < n; i++) {
        if (t[i].c.fd >= 0)
            close(t[i].c.fd);
        free(t[i].c.in);
        free(t[i].lat.v);
    }
    free(t);
    free(health.lat.v);
    free(burst.lat.v);
    free(rest.lat.v);
    free(test.lat.v);
    free(paced.lat.v);
    json_decref(answers);
    if (dir[0]) {
        kill(pid, SIGTERM);
        if (central_pid)
            kill(central_pid, SIGTERM);
        sleep(1);
        if (getenv("BENCH_RUNNER_KEEP"))
            printf("kept: %s\n", dir);
        else {
            char cmd[512];
            snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
            if (system(cmd) != 0)
                fprintf(stderr, "could not remove %s\n", dir);
        }
    }
    int failed =
        health.failures || burst.failures || rest.failures || paced.failures || test.failures;
    return failed ? 1 : 0;
}
