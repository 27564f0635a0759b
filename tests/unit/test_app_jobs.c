/* test_app_jobs.c - the table of background jobs (app/jobs.h) with a kind of its own, whose
 * jobs wait until the test lets them end: at most running_max run at once (then OP_EBUSY),
 * only their owner sees them, ended ones are forgotten past `keep`, a failure's error is the
 * kind's when it gives one, and freeing the table waits for the running jobs. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/jobs.h"
#include "instance_fixture.h"

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static int gate_open;

struct fake {
    int fail;        /* run returns OP_EINPUT */
    int own_error;   /* ended gives its own error text */
    int *freed;      /* counts free_data */
    int db_was_open; /* run got a connected instance */
};

static int fake_run(struct job *j, struct instance *inst, struct op_err *e)
{
    struct fake *f = job_data(j);
    f->db_was_open = inst->db != NULL;
    for (;;) {
        pthread_mutex_lock(&gate_lock);
        int open = gate_open;
        pthread_mutex_unlock(&gate_lock);
        if (open)
            break;
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    jobs_lock(j);
    job_set_phase(j, "finishing");
    jobs_unlock(j);
    return f->fail ? err_set(e, OP_EINPUT, "the fake failed at /server/path") : 0;
}

static void fake_ended(struct job *j, int rc, const struct op_err *e)
{
    (void)e;
    struct fake *f = job_data(j);
    if (rc != 0 && f->own_error)
        job_set_error(j, strdup("the fake failed at its name"));
}

static void fake_status(const struct job *j, json_t *o)
{
    const struct fake *f = job_data(j);
    json_object_set_new(o, "db_was_open", json_boolean(f->db_was_open));
}

static int fake_percent(const struct job *j)
{
    (void)j;
    return 42;
}

static void fake_free(void *data)
{
    struct fake *f = data;
    (*f->freed)++;
    free(f);
}

static const struct jobs_kind fake_kind = {
    .what = "fake job",
    .running_max = 2,
    .keep = 2,
    .run = fake_run,
    .ended = fake_ended,
    .status = fake_status,
    .percent = fake_percent,
    .free_data = fake_free,
};

struct fixture {
    struct instance *inst;
    char *tmp;
    struct jobs *jobs;
    int freed;
};

static void set_gate(int open)
{
    pthread_mutex_lock(&gate_lock);
    gate_open = open;
    pthread_mutex_unlock(&gate_lock);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->inst = fx_instance("central", &f->tmp);
    struct op_err e = {0};
    assert_int_equal(jobs_new(&fake_kind, f->inst, 0, &f->jobs, &e), 0);
    set_gate(0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    set_gate(1);
    jobs_free(f->jobs);
    instance_close(f->inst);
    testutil_rmdir(f->tmp);
    free(f);
    return 0;
}

static struct fake *fake(struct fixture *f, int fail, int own_error)
{
    struct fake *k = calloc(1, sizeof *k);
    k->fail = fail;
    k->own_error = own_error;
    k->freed = &f->freed;
    return k;
}

static json_t *status_of(struct fixture *f, const char *id, const char *viewer)
{
    json_t *s = NULL;
    struct op_err e = {0};
    assert_int_equal(jobs_status(f->jobs, id, viewer, &s, &e), 0);
    return s;
}

static const char *state_of(json_t *s)
{
    return json_string_value(json_object_get(s, "state"));
}

/* Polls job `id` until it has ended (at most 30 s); its status. */
static json_t *wait_ended(struct fixture *f, const char *id)
{
    for (int i = 0; i < 3000; i++) {
        json_t *s = status_of(f, id, "owner");
        if (strcmp(state_of(s), "running") != 0)
            return s;
        json_decref(s);
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    fail_msg("the job did not end");
    return NULL;
}

static void test_at_most_running_max_run_and_only_their_owner_sees_them(void **state)
{
    struct fixture *f = *state;
    char a[JOB_ID_LEN], b[JOB_ID_LEN], c[JOB_ID_LEN];
    struct op_err e = {0};
    assert_int_equal(jobs_start(f->jobs, "owner", fake(f, 0, 0), "starting", a, &e), 0);
    assert_int_equal(jobs_start(f->jobs, "owner", fake(f, 0, 0), "starting", b, &e), 0);
    struct fake *third = fake(f, 0, 0);
    assert_int_equal(jobs_start(f->jobs, "owner", third, "starting", c, &e), OP_EBUSY);
    assert_string_equal(c, "");
    assert_non_null(strstr(e.msg, "at most 2 at once"));
    assert_int_equal(f->freed, 0); /* the caller keeps its data on failure */
    fake_free(third);

    json_t *s = status_of(f, a, "owner");
    assert_string_equal(state_of(s), "running");
    assert_int_equal(json_integer_value(json_object_get(s, "percent")), 42);
    assert_true(json_is_null(json_object_get(s, "ended_at")));
    json_decref(s);
    json_t *none = NULL;
    assert_int_equal(jobs_status(f->jobs, a, "someone else", &none, &e), OP_ENOTFOUND);
    assert_null(none);
    assert_int_equal(jobs_status(f->jobs, "nope", "owner", &none, &e), OP_ENOTFOUND);

    set_gate(1);
    s = wait_ended(f, a);
    assert_string_equal(state_of(s), "done");
    assert_string_equal(json_string_value(json_object_get(s, "phase")), "done");
    assert_int_equal(json_integer_value(json_object_get(s, "percent")), 100);
    assert_true(json_is_true(json_object_get(s, "db_was_open")));
    assert_true(json_is_null(json_object_get(s, "error")));
    json_decref(s);
    json_decref(wait_ended(f, b));
    /* both ended: a new one may start */
    assert_int_equal(jobs_start(f->jobs, "owner", fake(f, 0, 0), "starting", c, &e), 0);
}

static void test_a_failure_says_why_in_the_kinds_words_when_it_gives_them(void **state)
{
    struct fixture *f = *state;
    set_gate(1);
    char a[JOB_ID_LEN], b[JOB_ID_LEN];
    struct op_err e = {0};
    assert_int_equal(jobs_start(f->jobs, "owner", fake(f, 1, 0), "starting", a, &e), 0);
    assert_int_equal(jobs_start(f->jobs, "owner", fake(f, 1, 1), "starting", b, &e), 0);
    json_t *s = wait_ended(f, a);
    assert_string_equal(state_of(s), "failed");
    assert_string_equal(json_string_value(json_object_get(s, "phase")), "failed");
    assert_string_equal(json_string_value(json_object_get(s, "error")),
                        "the fake failed at /server/path");
    json_decref(s);
    s = wait_ended(f, b);
    assert_string_equal(json_string_value(json_object_get(s, "error")),
                        "the fake failed at its name");
    json_decref(s);
}

static void test_ended_jobs_past_keep_are_forgotten_oldest_first(void **state)
{
    struct fixture *f = *state;
    set_gate(1);
    char id[4][JOB_ID_LEN];
    struct op_err e = {0};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(jobs_start(f->jobs, "owner", fake(f, 0, 0), "starting", id[i], &e), 0);
        json_decref(wait_ended(f, id[i]));
    }
    /* the fourth start forgot the first (keep 2: the second and the third stayed) */
    json_t *s = NULL;
    assert_int_equal(jobs_status(f->jobs, id[0], "owner", &s, &e), OP_ENOTFOUND);
    assert_int_equal(f->freed, 1);
    for (int i = 1; i < 4; i++)
        json_decref(status_of(f, id[i], "owner"));
}

static void test_freeing_the_table_waits_for_its_running_jobs(void **state)
{
    struct fixture *f = *state;
    char a[JOB_ID_LEN];
    struct op_err e = {0};
    assert_int_equal(jobs_start(f->jobs, "owner", fake(f, 0, 0), "starting", a, &e), 0);
    set_gate(1);
    jobs_free(f->jobs); /* joins the job: its data is freed after it ran */
    f->jobs = NULL;
    assert_int_equal(f->freed, 1);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_at_most_running_max_run_and_only_their_owner_sees_them),
        T(test_a_failure_says_why_in_the_kinds_words_when_it_gives_them),
        T(test_ended_jobs_past_keep_are_forgotten_oldest_first),
        T(test_freeing_the_table_waits_for_its_running_jobs),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
