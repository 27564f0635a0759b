/*
 * bench_content.c - cost of encrypting a delivery package as central does on import
 * (app_content_prepare: the clear package's hash checked, content_encrypt streamed into a
 * temporary file of packages/enc, fsync, SHA-256 of the encrypted bytes, rename), next to the
 * raw limit measured in the same run: a copy of the same bytes through the same temporary file,
 * fsync, hash and rename (packages_enc_write with a plain copy), and a bare copy with fsync and
 * no hash. Then opening it as a device does (content_decrypt) against reading it.
 * usage: bench_content [BYTES (default 5 MB)]
 */
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/fs.h"
#include "crypto/content.h"
#include "store/packages.h"

#define ROUNDS 5

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const struct op_err *e)
{
    fprintf(stderr, "bench_content: %s\n", e->msg);
    exit(1);
}

struct run {
    const char *clear;
    const unsigned char *key;
};

static int encrypt_into(FILE *out, void *ctx, struct op_err *e)
{
    struct run *r = ctx;
    FILE *in = fopen(r->clear, "rb");
    if (!in)
        return err_set(e, OP_EIO, "cannot read %s", r->clear);
    int rc = content_encrypt(in, out, r->key, "6e494831-8d38-4732-9a8a-6957d89748f2", e);
    fclose(in);
    return rc;
}

static int copy_into(FILE *out, void *ctx, struct op_err *e)
{
    struct run *r = ctx;
    FILE *in = fopen(r->clear, "rb");
    if (!in)
        return err_set(e, OP_EIO, "cannot read %s", r->clear);
    static unsigned char buf[64 * 1024];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, n, out);
    fclose(in);
    return 0;
}

/* A bare copy: read, write, fsync, rename; no hash. */
static void bare_copy(const char *from, const char *to)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%.4000s.tmp", to);
    FILE *in = fopen(from, "rb"), *out = fopen(tmp, "wb");
    static unsigned char buf[64 * 1024];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, n, out);
    fflush(out);
    fsync(fileno(out));
    fclose(out);
    fclose(in);
    rename(tmp, to);
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0)
        return 1;
    size_t size = argc > 1 ? (size_t)atol(argv[1]) : 5u * 1000 * 1000;
    if (size < 1)
        return 2;
    char dir[] = "/tmp/outpost-bench-content.XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    struct op_err e = {0};
    unsigned char *data = malloc(size);
    randombytes_buf(data, size);
    char sha[PACKAGE_SHA256_HEX], enc[PACKAGE_SHA256_HEX], copy[PACKAGE_SHA256_HEX];
    if (packages_put(dir, data, size, sha, &e) != 0)
        die(&e);
    char *clear = packages_path(dir, sha);
    unsigned char key[CONTENT_KEY_BYTES];
    content_key_generate(key);
    struct run r = {clear, key};
    double t_enc = 1e9, t_copy = 1e9, t_bare = 1e9, t_dec = 1e9, t_read = 1e9, t_hash = 1e9;
    uint64_t enc_size = 0, copy_size;
    char bare_to[4096];
    snprintf(bare_to, sizeof bare_to, "%s/bare", dir);
    for (int i = 0; i < ROUNDS; i++) {
        double t0 = now();
        char check[PACKAGE_SHA256_HEX];
        if (packages_file_sha256(clear, check, NULL, &e) != 0 ||
            packages_enc_write(dir, encrypt_into, &r, enc, &enc_size, &e) != 0)
            die(&e);
        double t1 = now();
        if (packages_enc_write(dir, copy_into, &r, copy, &copy_size, &e) != 0)
            die(&e);
        double t2 = now();
        bare_copy(clear, bare_to);
        double t3 = now();
        char *path = packages_enc_path(dir, enc);
        FILE *in = fopen(path, "rb"), *out = fopen("/dev/null", "wb");
        if (content_decrypt(in, out, key, "6e494831-8d38-4732-9a8a-6957d89748f2", &e) != 0)
            die(&e);
        fclose(in);
        fclose(out);
        double t4 = now();
        in = fopen(clear, "rb");
        static unsigned char buf[64 * 1024];
        while (fread(buf, 1, sizeof buf, in) > 0)
            ;
        fclose(in);
        double t5 = now();
        char h[PACKAGE_SHA256_HEX];
        if (packages_file_sha256(clear, h, NULL, &e) != 0)
            die(&e);
        double t6 = now();
        if (t6 - t5 < t_hash)
            t_hash = t6 - t5;
        free(path);
        if (t1 - t0 < t_enc)
            t_enc = t1 - t0;
        if (t2 - t1 < t_copy)
            t_copy = t2 - t1;
        if (t3 - t2 < t_bare)
            t_bare = t3 - t2;
        if (t4 - t3 < t_dec)
            t_dec = t4 - t3;
        if (t5 - t4 < t_read)
            t_read = t5 - t4;
    }
    double mb = (double)size / 1e6;
    printf("package of %.1f MB; encrypted %llu bytes (+%llu); fastest of %d runs\n", mb,
           (unsigned long long)enc_size, (unsigned long long)(enc_size - size), ROUNDS);
    printf("%-58s %8.1f ms %8.1f MB/s\n", "encrypt into packages/enc (check, encrypt, fsync, hash)",
           t_enc * 1e3, mb / t_enc);
    printf("%-58s %8.1f ms %8.1f MB/s  (encrypt is %.2fx)\n",
           "raw copy into packages/enc (copy, fsync, hash, rename)", t_copy * 1e3, mb / t_copy,
           t_enc / t_copy);
    printf("%-58s %8.1f ms %8.1f MB/s  (encrypt is %.2fx)\n", "bare copy (copy, fsync, rename)",
           t_bare * 1e3, mb / t_bare, t_enc / t_bare);
    printf("%-58s %8.1f ms %8.1f MB/s  (%.2fx the read)\n", "decrypt (device: content_decrypt)",
           t_dec * 1e3, mb / t_dec, t_dec / t_read);
    printf("%-58s %8.1f ms %8.1f MB/s\n", "bare read", t_read * 1e3, mb / t_read);
    printf("%-58s %8.1f ms %8.1f MB/s  (encrypt hashes twice, the copy once)\n",
           "SHA-256 of the file (packages_file_sha256)", t_hash * 1e3, mb / t_hash);
    free(clear);
    free(data);
    fs_remove_tree(dir);
    return 0;
}
