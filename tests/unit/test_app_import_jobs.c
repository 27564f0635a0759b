/* test_app_import_jobs.c - background QTI imports (app/import_jobs.h): a job imports its
 * package in its own thread and its status tells the phase, the delivery or every problem;
 * the upload is removed whatever the outcome; another user sees no job. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "app/content.h"
#include "app/import_jobs.h"
#include "instance_fixture.h"
#include "qti_testzip.h"

struct fixture {
    struct instance *inst;
    char *tmp;
    struct import_jobs *jobs;
};

static int count(struct fixture *f, const char *sql)
{
    return (int)testutil_query_int(f->inst->db, sql);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->inst = fx_instance("central", &f->tmp);
    struct op_err e = {0};
    assert_int_equal(import_jobs_new(f->inst, 0, &f->jobs, &e), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    import_jobs_free(f->jobs);
    instance_close(f->inst);
    testutil_rmdir(f->tmp);
    free(f);
    return 0;
}

/* An upload folder holding `fixture` zipped (NULL: a file that is not a zip). */
static void upload(struct fixture *f, const char *fixture, char **dir, char **file)
{
    *dir = fs_join(f->inst->dir, "upload-1");
    struct op_err e = {0};
    assert_int_equal(fs_mkdir_p(*dir, 0700, &e), 0);
    *file = fs_join(*dir, "pkg.zip");
    if (fixture)
        assert_int_equal(testzip_fixture_zip(fixture, *file), 0);
    else
        free(testutil_write(*dir, "pkg.zip", "this is not a zip"));
}

/* Polls job `id` as `viewer` until it has ended (at most 60 s); its status. */
static json_t *wait_ended(struct fixture *f, const char *id, const char *viewer)
{
    for (int i = 0; i < 6000; i++) {
        json_t *s;
        struct op_err e = {0};
        if (import_jobs_status(f->jobs, id, viewer, &s, &e) != 0)
            fail_msg("status: %s", e.msg);
        if (strcmp(json_string_value(json_object_get(s, "state")), "running") != 0)
            return s;
        json_decref(s);
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    fail_msg("the import did not end");
    return NULL;
}

static void test_a_job_imports_its_package_and_removes_the_upload(void **state)
{
    struct fixture *f = *state;
    char *dir, *file;
    upload(f, "demo/qti-test", &dir, &file);
    const struct import_job_request r = {"u1", file, dir, "Demo.zip", "Maths", 0, 2, 0};
    char id[IMPORT_JOB_ID_LEN];
    struct op_err e = {0};
    assert_int_equal(import_jobs_start(f->jobs, &r, id, &e), 0);
    json_t *s = wait_ended(f, id, "u1");
    assert_string_equal(json_string_value(json_object_get(s, "state")), "done");
    assert_int_equal(json_integer_value(json_object_get(s, "percent")), 100);
    assert_int_equal(json_integer_value(json_object_get(s, "items_total")), 5);
    json_t *d = json_object_get(s, "delivery");
    assert_string_equal(json_string_value(json_object_get(d, "label")), "Maths");
    assert_int_equal(json_integer_value(json_object_get(d, "max_executions")), 2);
    assert_string_equal(json_string_value(json_object_get(s, "file")), "Demo.zip");
    assert_true(json_is_null(json_object_get(s, "error")));
    json_decref(s);
    assert_int_equal(count(f, "SELECT count(*) FROM deliveries"), 1);
    assert_false(fs_exists(dir)); /* the upload is gone */
    /* another user sees no such job */
    json_t *other;
    assert_int_equal(import_jobs_status(f->jobs, id, "u2", &other, &e), OP_ENOTFOUND);
    assert_int_equal(import_jobs_status(f->jobs, "nope", "u1", &other, &e), OP_ENOTFOUND);
    free(dir);
    free(file);
}

static void test_a_refused_package_fails_with_its_problems_and_creates_nothing(void **state)
{
    struct fixture *f = *state;
    char *dir, *file;
    upload(f, NULL, &dir, &file);
    const struct import_job_request r = {"u1", file, dir, "Broken.zip", NULL, 1, 0, 0};
    char id[IMPORT_JOB_ID_LEN];
    struct op_err e = {0};
    assert_int_equal(import_jobs_start(f->jobs, &r, id, &e), 0);
    json_t *s = wait_ended(f, id, "u1");
    assert_string_equal(json_string_value(json_object_get(s, "state")), "failed");
    assert_non_null(strstr(json_string_value(json_object_get(s, "error")), "Broken.zip"));
    json_t *problems = json_object_get(s, "problems");
    assert_int_equal(json_array_size(problems), 1);
    assert_non_null(
        strstr(json_string_value(json_object_get(json_array_get(problems, 0), "message")),
               "Broken.zip: not a valid zip archive"));
    assert_true(json_is_null(json_object_get(s, "delivery")));
    json_decref(s);
    assert_int_equal(count(f, "SELECT count(*) FROM deliveries"), 0);
    assert_false(fs_exists(dir));
    free(dir);
    free(file);
}

/* A package of two tests: the job lists both deliveries; a package with links to pages it
 * lacks: the job lists the warnings, with the name the user gave the file. */
static void test_a_job_lists_every_delivery_and_warning_of_its_package(void **state)
{
    struct fixture *f = *state;
    char *dir, *file;
    upload(f, "two-tests", &dir, &file);
    const struct import_job_request r = {"u1", file, dir, "Sciences.zip", NULL, 1, 0, 0};
    char id[IMPORT_JOB_ID_LEN];
    struct op_err e = {0};
    assert_int_equal(import_jobs_start(f->jobs, &r, id, &e), 0);
    json_t *s = wait_ended(f, id, "u1");
    assert_string_equal(json_string_value(json_object_get(s, "state")), "done");
    json_t *ds = json_object_get(s, "deliveries");
    assert_int_equal(json_array_size(ds), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ds, 0), "label")),
                        "Maths");
    assert_string_equal(json_string_value(json_object_get(json_array_get(ds, 1), "label")),
                        "Physics");
    /* "delivery" is the first, for a page that shows one */
    assert_true(json_equal(json_object_get(s, "delivery"), json_array_get(ds, 0)));
    assert_int_equal(json_integer_value(json_object_get(s, "items_total")), 3);
    assert_int_equal(json_array_size(json_object_get(s, "warnings")), 0);
    json_decref(s);
    assert_int_equal(count(f, "SELECT count(*) FROM deliveries"), 2);
    free(dir);
    free(file);

    upload(f, "links-outside", &dir, &file);
    const struct import_job_request r2 = {"u1", file, dir, "Geography.zip", NULL, 1, 0, 0};
    assert_int_equal(import_jobs_start(f->jobs, &r2, id, &e), 0);
    s = wait_ended(f, id, "u1");
    assert_string_equal(json_string_value(json_object_get(s, "state")), "done");
    json_t *ws = json_object_get(s, "warnings");
    assert_int_equal(json_array_size(ws), 5);
    json_t *w = json_array_get(ws, 3);
    assert_string_equal(json_string_value(json_object_get(w, "file")), "items/linked.xml");
    assert_int_equal(json_integer_value(json_object_get(w, "line")), 18);
    assert_non_null(strstr(json_string_value(json_object_get(w, "message")),
                           "Geography.zip: items/linked.xml line 18: the link to"));
    json_decref(s);
    assert_int_equal(count(f, "SELECT count(*) FROM deliveries"), 3);
    free(dir);
    free(file);
}

/* An upload folder DIR/uploads/name with one file, `age` seconds old. */
static char *leftover(struct fixture *f, const char *name, long age)
{
    char *root = fs_join(f->inst->dir, IMPORT_UPLOADS_DIR);
    char *dir = fs_join(root, name);
    struct op_err e = {0};
    assert_int_equal(fs_mkdir_p(dir, 0700, &e), 0);
    char *file = testutil_write(dir, "pkg.zip", "part of a package");
    struct timeval tv[2] = {{time(NULL) - age, 0}, {time(NULL) - age, 0}};
    assert_int_equal(utimes(file, tv), 0);
    assert_int_equal(utimes(dir, tv), 0);
    free(file);
    free(root);
    return dir;
}

static void test_prune_packages_removes_the_uploads_a_killed_server_left(void **state)
{
    struct fixture *f = *state;
    char *old = leftover(f, "old", 7200), *young = leftover(f, "young", 10);
    int removed = 0;
    struct op_err e = {0};
    assert_int_equal(app_content_sweep(f->inst, 3600, &removed, &e), 0);
    assert_int_equal(removed, 1);
    assert_false(fs_exists(old));
    assert_true(fs_exists(young)); /* may be an upload still running */
    free(old);
    free(young);
}

/* An upload folder `name` holding `fixture` zipped. */
static void upload_as(struct fixture *f, const char *name, const char *fixture, char **dir,
                      char **file)
{
    *dir = fs_join(f->inst->dir, name);
    struct op_err e = {0};
    assert_int_equal(fs_mkdir_p(*dir, 0700, &e), 0);
    *file = fs_join(*dir, "pkg.zip");
    assert_int_equal(testzip_fixture_zip(fixture, *file), 0);
}

/* Starts the import of `fixture` as u1 under `label` (NULL: the titles) and waits for it;
 * its status, its id in `id`, its upload's paths in *dir and *file (the caller frees). */
static json_t *import_as(struct fixture *f, const char *name, const char *fixture,
                         const char *label, char id[IMPORT_JOB_ID_LEN], char **dir, char **file)
{
    upload_as(f, name, fixture, dir, file);
    const struct import_job_request r = {"u1", *file, *dir, "Pkg.zip", label, 1, 0, 0};
    struct op_err e = {0};
    assert_int_equal(import_jobs_start(f->jobs, &r, id, &e), 0);
    return wait_ended(f, id, "u1");
}

static const char *str(json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

static void
test_an_import_refused_for_a_label_taken_runs_again_as_a_new_version_or_label(void **state)
{
    struct fixture *f = *state;
    char id[IMPORT_JOB_ID_LEN], again[IMPORT_JOB_ID_LEN], *dir, *file;
    struct op_err e = {0};
    json_t *s = import_as(f, "up-1", "demo/qti-test", "Maths", id, &dir, &file);
    assert_string_equal(str(s, "state"), "done");
    const char *maths = str(json_object_get(s, "delivery"), "id");
    char maths_id[64];
    snprintf(maths_id, sizeof maths_id, "%s", maths);
    assert_true(json_is_null(json_object_get(s, "label_taken")));
    json_decref(s);
    free(dir);
    free(file);

    /* another package under the label Maths: refused, the way on offered, the upload kept */
    s = import_as(f, "up-2", "links-outside", "Maths", id, &dir, &file);
    assert_string_equal(str(s, "state"), "failed");
    assert_non_null(strstr(str(s, "error"), "a delivery is labelled \"Maths\""));
    json_t *taken = json_object_get(s, "label_taken");
    assert_true(json_is_true(json_object_get(taken, "new_version")));
    json_t *l0 = json_array_get(json_object_get(taken, "labels"), 0);
    assert_string_equal(str(l0, "label"), "Maths");
    assert_string_equal(str(l0, "delivery"), maths_id);
    json_decref(s);
    assert_true(fs_exists(file));

    /* refusals: another user's import, neither or both ways */
    const struct import_job_retry as_version = {NULL, 1}, both = {"X", 1}, neither = {NULL, 0};
    assert_int_equal(import_jobs_retry(f->jobs, id, "u2", &as_version, again, &e), OP_ENOTFOUND);
    assert_int_equal(import_jobs_retry(f->jobs, id, "u1", &both, again, &e), OP_EINPUT);
    assert_int_equal(import_jobs_retry(f->jobs, id, "u1", &neither, again, &e), OP_EINPUT);
    assert_int_equal(import_jobs_retry(f->jobs, "0123", "u1", &as_version, again, &e),
                     OP_ENOTFOUND);
    assert_true(fs_exists(file));

    /* as a new version of Maths: its version 2, no second delivery, the upload gone */
    assert_int_equal(import_jobs_retry(f->jobs, id, "u1", &as_version, again, &e), 0);
    s = wait_ended(f, again, "u1");
    assert_string_equal(str(s, "state"), "done");
    assert_true(json_is_true(json_object_get(s, "new_version")));
    assert_true(json_is_true(json_object_get(s, "changed")));
    json_t *d = json_object_get(s, "delivery");
    assert_string_equal(str(d, "id"), maths_id);
    assert_string_equal(str(d, "label"), "Maths");
    assert_int_equal(json_integer_value(json_object_get(d, "version")), 2);
    json_decref(s);
    assert_int_equal(count(f, "SELECT count(*) FROM deliveries"), 1);
    assert_false(fs_exists(file));
    assert_false(fs_exists(dir));
    /* the refused import names its retry, and does not run a second time */
    assert_int_equal(import_jobs_status(f->jobs, id, "u1", &s, &e), 0);
    assert_string_equal(str(s, "retried_as"), again);
    assert_true(json_is_null(json_object_get(s, "label_taken")));
    json_decref(s);
    assert_int_equal(import_jobs_retry(f->jobs, id, "u1", &as_version, again, &e), OP_ECONFLICT);
    free(dir);
    free(file);

    /* two tests, the first titled Maths: no new version (a delivery has one test), another
     * label imports both */
    s = import_as(f, "up-3", "two-tests", NULL, id, &dir, &file);
    assert_string_equal(str(s, "state"), "failed");
    taken = json_object_get(s, "label_taken");
    assert_true(json_is_false(json_object_get(taken, "new_version")));
    json_decref(s);
    assert_int_equal(import_jobs_retry(f->jobs, id, "u1", &as_version, again, &e), OP_ECONFLICT);
    assert_non_null(strstr(e.msg, "several tests"));
    const struct import_job_retry as_term = {"Term 2", 0};
    assert_int_equal(import_jobs_retry(f->jobs, id, "u1", &as_term, again, &e), 0);
    s = wait_ended(f, again, "u1");
    assert_string_equal(str(s, "state"), "done");
    assert_true(json_is_false(json_object_get(s, "new_version")));
    json_t *ds = json_object_get(s, "deliveries");
    assert_int_equal(json_array_size(ds), 2);
    assert_string_equal(str(json_array_get(ds, 1), "label"), "Term 2 (2)");
    json_decref(s);
    assert_int_equal(count(f, "SELECT count(*) FROM deliveries"), 3);
    free(dir);
    free(file);

    /* a retry that hits a taken label again keeps the upload in turn */
    s = import_as(f, "up-4", "demo/qti-test", "Maths", id, &dir, &file);
    json_decref(s);
    const struct import_job_retry as_term2 = {"Term 2 (1)", 0};
    assert_int_equal(import_jobs_retry(f->jobs, id, "u1", &as_term2, again, &e), 0);
    s = wait_ended(f, again, "u1");
    assert_string_equal(str(s, "state"), "failed");
    assert_false(json_is_null(json_object_get(s, "label_taken")));
    json_decref(s);
    assert_true(fs_exists(file));
    /* ... until it is gone (swept): upload it again */
    assert_int_equal(unlink(file), 0);
    char third[IMPORT_JOB_ID_LEN];
    assert_int_equal(import_jobs_retry(f->jobs, again, "u1", &as_term, third, &e), OP_ENOTFOUND);
    assert_non_null(strstr(e.msg, "upload it again"));
    assert_false(fs_exists(dir));
    free(dir);
    free(file);

    /* an import refused for another reason has nothing to run again */
    char *bdir, *bfile;
    bdir = fs_join(f->inst->dir, "up-5");
    assert_int_equal(fs_mkdir_p(bdir, 0700, &e), 0);
    bfile = testutil_write(bdir, "pkg.zip", "this is not a zip");
    const struct import_job_request r = {"u1", bfile, bdir, "Broken.zip", NULL, 1, 0, 0};
    assert_int_equal(import_jobs_start(f->jobs, &r, id, &e), 0);
    s = wait_ended(f, id, "u1");
    assert_string_equal(str(s, "state"), "failed");
    assert_true(json_is_null(json_object_get(s, "label_taken")));
    json_decref(s);
    assert_int_equal(import_jobs_retry(f->jobs, id, "u1", &as_term, again, &e), OP_ECONFLICT);
    assert_false(fs_exists(bdir));
    free(bdir);
    free(bfile);
}

/* A refused upload kept for a retry goes when its job is forgotten (here: the table freed). */
static void test_a_kept_upload_goes_with_its_job(void **state)
{
    struct fixture *f = *state;
    char id[IMPORT_JOB_ID_LEN], *dir, *file;
    json_decref(import_as(f, "up-1", "demo/qti-test", "Maths", id, &dir, &file));
    free(dir);
    free(file);
    json_t *s = import_as(f, "up-2", "demo/qti-test", "Maths", id, &dir, &file);
    assert_string_equal(str(s, "state"), "failed");
    json_decref(s);
    assert_true(fs_exists(file));
    import_jobs_free(f->jobs);
    f->jobs = NULL;
    assert_false(fs_exists(dir));
    free(dir);
    free(file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_job_lists_every_delivery_and_warning_of_its_package,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_job_imports_its_package_and_removes_the_upload,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_refused_package_fails_with_its_problems_and_creates_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_prune_packages_removes_the_uploads_a_killed_server_left, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_an_import_refused_for_a_label_taken_runs_again_as_a_new_version_or_label, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_a_kept_upload_goes_with_its_job, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
