/*
 * bench_import_users.c - `import-users` of N generated test takers (default 10,000) with the
 * default password cost (Argon2id m = 19 MiB, t = 2), against its two limits measured in the
 * same run:
 *   - hashing: one Argon2id derivation timed on one core (bare libsodium), times N, divided
 *     by the number of online CPUs: the import cannot hash faster than that;
 *   - writing: the same N rows inserted with bare SQLite (one prepared INSERT, one
 *     transaction, same schema and pragmas, no change feed): the write cannot be faster.
 * Prints total time, the time of each phase, and the peak memory (ru_maxrss) of the import.
 *
 * usage: bench_import_users [N]        (figures and how to run them: bench/README.md)
 */
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "auth/password.h"
#include "base/fs.h"
#include "base/ids.h"
#include "import/users_import.h"
#include "store/db.h"

#define HASH_SAMPLES 8

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss; /* KiB on Linux */
}

static void die(const char *what, const struct op_err *e)
{
    fprintf(stderr, "bench_import_users: %s: %s\n", what, e ? e->msg : "failed");
    exit(1);
}

/* A CSV of n test takers in TAO's format, written to `path`. */
static void write_csv(const char *path, int n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        die(path, NULL);
    fprintf(f, "Label,\"First Name\",\"Last Name\",Login,Mail,Password,\"Interface Language\", "
               "\"Default language\"\n");
    for (int i = 0; i < n; i++)
        fprintf(f,
                "Test taker %d,First%d,\"Last, %d\",tt%06d,tt%06d@example.org,pw-%08x-%d,en-US,"
                "en-US\n",
                i, i, i, i, i, (unsigned)randombytes_random(), i);
    fclose(f);
}

static struct db *open_db(const char *dir, const char *name)
{
    char *path = fs_join(dir, name);
    struct db *db;
    struct op_err e = {0};
    if (db_open(path, 1, &db, &e) != 0)
        die("db_open", &e);
    free(path);
    return db;
}

/* Seconds of one Argon2id derivation at `cost` on this thread (median of a few). */
static double one_hash_seconds(const struct password_cost *cost)
{
    double t[HASH_SAMPLES];
    unsigned char out[64], salt[crypto_pwhash_SALTBYTES] = {0};
    for (int i = 0; i < HASH_SAMPLES; i++) {
        double t0 = now();
        if (crypto_pwhash(out, sizeof out, "password", 8, salt, cost->opslimit,
                          (size_t)cost->memlimit_kib * 1024, crypto_pwhash_ALG_ARGON2ID13) != 0)
            die("crypto_pwhash", NULL);
        t[i] = now() - t0;
    }
    for (int i = 1; i < HASH_SAMPLES; i++) /* insertion sort, for the median */
        for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
            double x = t[j];
            t[j] = t[j - 1];
            t[j - 1] = x;
        }
    return t[HASH_SAMPLES / 2];
}

/* A bare SQLite connection to the database `name` in `dir`, which outpost created (so the
 * schema is the same), set up as the SQLite backend sets up its own (db_sqlite.c). */
static sqlite3 *open_bare(const char *dir, const char *name)
{
    db_close(open_db(dir, name));
    char *path = fs_join(dir, name);
    sqlite3 *s = NULL;
    if (sqlite3_open_v2(path, &s, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        die(sqlite3_errmsg(s), NULL);
    free(path);
    sqlite3_exec(s, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL", NULL, NULL, NULL);
    return s;
}

/* Seconds to insert n users with bare SQLite in one transaction. */
static double raw_insert_seconds(sqlite3 *s, int n)
{
    sqlite3_stmt *st;
    const char *sql = "INSERT INTO users (id, login, role, label, first_name, last_name, mail,"
                      " interface_lang, default_lang, org_id, password_hash, updated_at,"
                      " created_at, version) VALUES (?1, ?2, 'test-taker', ?3, ?4, ?5, ?6,"
                      " 'en-US', 'en-US', NULL, ?7, ?8, ?8, 1)";
    if (sqlite3_prepare_v2(s, sql, -1, &st, NULL) != SQLITE_OK)
        die(sqlite3_errmsg(s), NULL);
    /* A record of the real length, so the rows are as big as the import's. */
    const char *record = "$op-argon2id$v=1$m=19456,t=2$AAAAAAAAAAAAAAAAAAAAAA$"
                         "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    char id[UUID_STR_LEN], login[32], label[48], first[32], last[32], mail[48];
    char ts[TIMESTAMP_STR_LEN];
    double t0 = now();
    sqlite3_exec(s, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    for (int i = 0; i < n; i++) {
        uuid_generate(id);
        timestamp_now(ts);
        snprintf(login, sizeof login, "tt%06d", i);
        snprintf(label, sizeof label, "Test taker %d", i);
        snprintf(first, sizeof first, "First%d", i);
        snprintf(last, sizeof last, "Last, %d", i);
        snprintf(mail, sizeof mail, "tt%06d@example.org", i);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, login, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, label, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, first, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, last, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, mail, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, record, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 8, ts, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            die(sqlite3_errmsg(s), NULL);
        sqlite3_reset(st);
    }
    if (sqlite3_exec(s, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        die(sqlite3_errmsg(s), NULL);
    double t = now() - t0;
    sqlite3_finalize(st);
    return t;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    if (n <= 0 || sodium_init() < 0) {
        fprintf(stderr, "usage: bench_import_users [N]\n");
        return 2;
    }
    char tmpl[] = "/tmp/outpost-bench-import-XXXXXX";
    char *dir = mkdtemp(tmpl);
    if (!dir)
        die("mkdtemp", NULL);
    char *csv = fs_join(dir, "users.csv");
    write_csv(csv, n);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    struct password_cost cost = {PASSWORD_DEFAULT_OPSLIMIT, PASSWORD_DEFAULT_MEMLIMIT_KIB};

    /* The import, as `outpost import-users -t test-taker -f users.csv` runs it. */
    struct db *db = open_db(dir, "import.db");
    struct users_import_options opt = {
        .role = "test-taker", .max_bytes = 64u * 1024 * 1024, .cost = cost};
    struct users_import_report r;
    users_import_report_init(&r, csv);
    struct op_err e = {0};
    long rss_before = peak_rss_kib();
    double t0 = now();
    if (users_import_file(db, csv, &opt, &r, &e) != 0)
        die("import", &e);
    double total = now() - t0;
    long rss = peak_rss_kib();
    int created = r.created, workers = r.workers;
    double hash = r.hash_seconds, write = r.write_seconds;
    users_import_report_free(&r);
    db_close(db);

    /* The limits. */
    double one = one_hash_seconds(&cost);
    double hash_limit = one * n / (double)cores;
    sqlite3 *raw = open_bare(dir, "raw.db");
    double raw_write = raw_insert_seconds(raw, n);
    sqlite3_close(raw);

    printf("bench_import_users: %d test takers, Argon2id m=%llu KiB t=%llu, %ld online CPUs, "
           "%d hashing threads\n",
           created, (unsigned long long)cost.memlimit_kib, (unsigned long long)cost.opslimit, cores,
           workers);
    printf("  import total            %8.2f s   (%.0f users/s)\n", total, n / total);
    printf("    check (read, look up) %8.2f s\n", total - hash - write);
    printf("    hash passwords        %8.2f s   %5.1f%% of the total\n", hash, 100 * hash / total);
    printf("    write (1 transaction) %8.3f s   %5.1f%% of the total\n", write,
           100 * write / total);
    printf("  peak memory (ru_maxrss) %8.1f MiB (%.1f MiB before the import)\n", rss / 1024.0,
           rss_before / 1024.0);
    printf("  limit: hashing          %8.2f s   (one Argon2id %.1f ms on one core x %d / %ld "
           "CPUs); import hashing at %.0f%% of it\n",
           hash_limit, one * 1000, n, cores, 100 * hash_limit / hash);
    printf("  limit: bare SQLite      %8.3f s   (%d INSERTs, one transaction); import write "
           "%.1fx it\n",
           raw_write, n, write / raw_write);
    fs_remove_tree(dir);
    free(csv);
    return 0;
}
