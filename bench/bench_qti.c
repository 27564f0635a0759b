/*
 * bench_qti.c - QTI import and scoring cost.
 *
 * 1. Import: a generated package of 1,000 items (single choice, match_correct, each showing
 *    one image) and 5 MB of incompressible assets is read, checked and compiled
 *    (qti_load + qti_compile), against the raw cost of opening the same zip with libzip and
 *    reading every entry, in the same run.
 * 2. Scoring: item sessions per second (new session, submit a response, response processing,
 *    read the outcomes) on a compiled item, against the raw cost of parsing the response JSON.
 * Peak memory is the process's maximum resident set size after each phase.
 *
 *   build/bench_qti [ITEMS] [ASSET_MB]
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <zip.h>

#include "qti/compile.h"
#include "qti/item_session.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static char *item_xml(int i, int asset)
{
    char *s = malloc(2048);
    snprintf(s, 2048,
             "<assessmentItem xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\" "
             "identifier=\"I%04d\" title=\"Item %d\" adaptive=\"false\" timeDependent=\"false\">"
             "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"single\" "
             "baseType=\"identifier\"><correctResponse><value>B</value></correctResponse>"
             "</responseDeclaration><outcomeDeclaration identifier=\"SCORE\" "
             "cardinality=\"single\" baseType=\"float\"><defaultValue><value>0</value>"
             "</defaultValue></outcomeDeclaration><itemBody><p><img src=\"../assets/a%02d.bin\" "
             "alt=\"figure\"/></p><choiceInteraction responseIdentifier=\"RESPONSE\" "
             "maxChoices=\"1\"><prompt>Question %d?</prompt><simpleChoice identifier=\"A\">one"
             "</simpleChoice><simpleChoice identifier=\"B\">two</simpleChoice><simpleChoice "
             "identifier=\"C\">three</simpleChoice></choiceInteraction></itemBody>"
             "<responseProcessing template=\"http://www.imsglobal.org/question/qti_v2p1/"
             "rptemplates/match_correct\"/></assessmentItem>",
             i, i, asset, i);
    return s;
}

/* Writes the package; returns its size. Everything handed to libzip stays alive until
 * zip_close, so the buffers are freed after it. */
static long make_package(const char *path, int nitems, int asset_mb)
{
    int err;
    zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!za)
        exit(1);
    int nassets = 50;
    size_t asset_len = (size_t)asset_mb * 1024 * 1024 / (size_t)nassets;
    char **keep = calloc((size_t)(nitems + nassets + 2), sizeof *keep);
    int nk = 0;
    struct buf man = BUF_INIT, test = BUF_INIT;
    buf_puts(&man, "<manifest xmlns=\"http://www.imsglobal.org/xsd/imscp_v1p1\" identifier=\"B\">"
                   "<resources><resource identifier=\"T\" type=\"imsqti_test_xmlv2p1\" "
                   "href=\"test.xml\"><file href=\"test.xml\"/></resource>");
    buf_puts(&test, "<assessmentTest xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\" "
                    "identifier=\"BENCH\" title=\"Bench\"><testPart identifier=\"P\" "
                    "navigationMode=\"nonlinear\" submissionMode=\"individual\">"
                    "<assessmentSection identifier=\"S\" title=\"s\" visible=\"true\">");
    uint64_t st = 42;
    for (int a = 0; a < nassets; a++) {
        unsigned char *d = malloc(asset_len);
        for (size_t k = 0; k < asset_len; k++) {
            st = st * 6364136223846793005ull + 1442695040888963407ull;
            d[k] = (unsigned char)(st >> 56);
        }
        char name[64];
        snprintf(name, sizeof name, "assets/a%02d.bin", a);
        zip_file_add(za, name, zip_source_buffer(za, d, asset_len, 0), 0);
        keep[nk++] = (char *)d;
    }
    for (int i = 0; i < nitems; i++) {
        char name[64];
        snprintf(name, sizeof name, "items/i%04d.xml", i);
        char *x = item_xml(i, i % nassets);
        zip_file_add(za, name, zip_source_buffer(za, x, strlen(x), 0), 0);
        keep[nk++] = x;
        buf_printf(&man,
                   "<resource identifier=\"R%04d\" type=\"imsqti_item_xmlv2p1\" "
                   "href=\"%s\"><file href=\"%s\"/></resource>",
                   i, name, name);
        buf_printf(&test, "<assessmentItemRef identifier=\"Q%04d\" href=\"%s\"/>", i, name);
    }
    buf_puts(&man, "</resources></manifest>");
    buf_puts(&test, "</assessmentSection></testPart></assessmentTest>");
    zip_file_add(za, "imsmanifest.xml", zip_source_buffer(za, man.data, man.len, 0), 0);
    zip_file_add(za, "test.xml", zip_source_buffer(za, test.data, test.len, 0), 0);
    if (zip_close(za) != 0)
        exit(1);
    for (int i = 0; i < nk; i++)
        free(keep[i]);
    free(keep);
    buf_free(&man);
    buf_free(&test);
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    return size;
}

/* The raw limit: open with libzip and read every entry. */
static size_t raw_unzip(const char *path)
{
    int err;
    zip_t *za = zip_open(path, ZIP_RDONLY, &err);
    size_t total = 0;
    char buf[65536];
    for (zip_int64_t i = 0; i < zip_get_num_entries(za, 0); i++) {
        zip_file_t *f = zip_fopen_index(za, (zip_uint64_t)i, 0);
        zip_int64_t r;
        while ((r = zip_fread(f, buf, sizeof buf)) > 0)
            total += (size_t)r;
        zip_fclose(f);
    }
    zip_discard(za);
    return total;
}

int main(int argc, char **argv)
{
    int nitems = argc > 1 ? atoi(argv[1]) : 1000;
    int asset_mb = argc > 2 ? atoi(argv[2]) : 5;
    char path[] = "/tmp/outpost-bench-qti-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    long size = make_package(path, nitems, asset_mb);
    printf("package: %d items, %d MB assets, %.1f MB zip\n", nitems, asset_mb, size / 1e6);

    long rss0 = peak_kib();
    double t0 = now_s();
    size_t raw = raw_unzip(path);
    double t_raw = now_s() - t0;
    long rss_raw = peak_kib();
    printf("raw unzip (libzip, all entries):  %8.3f s   %.1f MB read   peak RSS %ld MiB\n", t_raw,
           raw / 1e6, rss_raw / 1024);

    struct op_err e = {0};
    struct qti_loaded *l;
    struct buf out = BUF_INIT;
    t0 = now_s();
    if (qti_load(path, NULL, &l, &e) != 0 || qti_compile(l, &out, &e) != 0) {
        fprintf(stderr, "import failed: %s\n", e.msg);
        return 1;
    }
    double t_imp = now_s() - t0;
    long rss_imp = peak_kib();
    printf("import (read, check, compile):   %8.3f s   %.1f MB out    peak RSS %ld MiB "
           "(%.1fx raw time)\n",
           t_imp, out.len / 1e6, rss_imp / 1024, t_imp / t_raw);
    (void)rss0;

    /* Scoring throughput on the compiled first item. */
    struct qti_loaded *dev;
    if (qti_delivery_load((const unsigned char *)out.data, out.len, &dev, &e) != 0) {
        fprintf(stderr, "load failed: %s\n", e.msg);
        return 1;
    }
    const struct qti_item *item = dev->items[0].item;
    const char *resp = "{\"RESPONSE\": \"B\"}";
    int n = 20000;
    t0 = now_s();
    for (int i = 0; i < n; i++) {
        json_error_t je;
        json_t *r = json_loads(resp, 0, &je);
        json_decref(r);
    }
    double t_json = now_s() - t0;
    t0 = now_s();
    double sum = 0;
    for (int i = 0; i < n; i++) {
        json_error_t je;
        json_t *r = json_loads(resp, 0, &je);
        struct qti_item_session *s;
        struct qti_submit_opts o = {0, 1.0};
        if (qti_item_session_new(item, (uint64_t)i, &s, &e) != 0 ||
            qti_item_session_submit(s, r, &o, NULL, &e) != 0) {
            fprintf(stderr, "scoring failed: %s\n", e.msg);
            return 1;
        }
        const struct qti_value *v = qti_item_session_variable(s, "SCORE");
        sum += v ? v->items[0].u.f : 0;
        qti_item_session_free(s);
        json_decref(r);
    }
    double t_score = now_s() - t0;
    printf("scoring: %d item sessions in %.3f s = %.0f sessions/s (raw JSON parse of the "
           "response alone: %.0f/s); score sum %.0f\n",
           n, t_score, n / t_score, n / t_json, sum);
    qti_loaded_free(dev);
    qti_loaded_free(l);
    buf_free(&out);
    unlink(path);
    return 0;
}
