/* test_sync_bg.c - the sync button's background sync (sync/bg.h), against a real central
 * serving in this process: a press runs the sync and publishes its progress and outcome; a
 * second press returns the running sync; a sync of another process (cron's `outpost sync`,
 * here a child process holding the lock) is reported, not doubled; a failure keeps its
 * message; a server stopping cancels a sync cleanly. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app/sync_history.h"
#include "base/lockfile.h"
#include "syncbtn_fixture.h"
#include "sync/bg.h"
#include "sync/run.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void nap_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Reads until the sync is no longer running (at most `max_s` seconds). */
static void wait_done(struct sync_bg *bg, struct instance *inst, struct sync_bg_progress *p,
                      double max_s)
{
    double t0 = now_s();
    struct op_err e = {0};
    for (;;) {
        if (sync_bg_read(bg, inst, p, &e) != 0)
            fail_msg("sync_bg_read: %s", e.msg);
        if (!p->running)
            return;
        if (now_s() - t0 > max_s)
            fail_msg("the sync still runs after %.0f s (phase %s)", max_s, p->phase);
        nap_ms(20);
    }
}

/* The newest run of the device's history (a new reference). */
static json_t *newest_run(struct instance *inst)
{
    json_t *runs = NULL;
    struct op_err e = {0};
    if (app_sync_history(inst, NULL, 1, &runs, &e) != 0)
        fail_msg("history: %s", e.msg);
    json_t *r = json_incref(json_array_get(runs, 0));
    json_decref(runs);
    return r;
}

static int lock_held(struct instance *inst)
{
    char *path = instance_path(inst, SYNC_LOCK_FILE);
    int held = lockfile_is_held(path);
    free(path);
    return held;
}

static void test_press_runs_the_sync_and_publishes_its_outcome(void **state)
{
    (void)state;
    struct sbfx *f = sbfx_new();
    sbfx_enrol(f);
    sbfx_result(f);
    struct sync_bg *bg = NULL;
    struct op_err e = {0};
    assert_int_equal(sync_bg_new(f->device, &bg, &e), 0);
    struct sync_bg_progress p;
    /* nothing pressed, no run yet: nothing to show */
    assert_int_equal(sync_bg_read(bg, f->device, &p, &e), 0);
    assert_false(p.running);
    assert_int_equal(p.outcome, SYNC_BG_NONE);
    assert_string_equal(p.phase, "");

    int started = 0;
    assert_int_equal(sync_bg_start(bg, f->device, &p, &started, &e), 0);
    assert_true(started);
    assert_false(p.elsewhere);
    assert_int_equal(p.pid, (long)getpid());
    assert_true(p.started_at[0]);
    /* the press answers once the run holds the lock and is recorded */
    assert_true(p.run_id[0] || strcmp(p.phase, "failed") == 0);
    char run_id[UUID_STR_LEN];
    snprintf(run_id, sizeof run_id, "%s", p.run_id);

    wait_done(bg, f->device, &p, 60);
    if (p.outcome != SYNC_BG_OK)
        fail_msg("the sync failed: %s", p.error);
    assert_string_equal(p.phase, "done");
    assert_string_equal(p.run_id, run_id);
    assert_true(p.records > 0); /* the test center, the sync manager... */
    assert_true(p.bytes > 0);   /* what central sent */
    assert_int_equal(p.results_sent, 1);
    assert_string_equal(p.error, "");
    assert_true(p.ended_at[0]);
    assert_int_equal(lock_held(f->device), 0);

    /* the history says the same */
    json_t *r = newest_run(f->device);
    assert_string_equal(json_string_value(json_object_get(r, "id")), run_id);
    assert_string_equal(json_string_value(json_object_get(r, "status")), "ok");
    json_decref(r);

    /* JSON as the API answers it */
    json_t *j = sync_bg_progress_json(&p);
    assert_false(json_is_true(json_object_get(j, "running")));
    assert_string_equal(json_string_value(json_object_get(j, "outcome")), "ok");
    assert_true(json_is_null(json_object_get(j, "error")));
    assert_int_equal(json_integer_value(json_object_get(j, "results_sent")), 1);
    json_decref(j);

    /* pressed again: a new sync, not the old outcome */
    assert_int_equal(sync_bg_start(bg, f->device, &p, &started, &e), 0);
    assert_true(started);
    assert_string_not_equal(p.run_id, run_id);
    wait_done(bg, f->device, &p, 60);
    assert_int_equal(p.outcome, SYNC_BG_OK);
    assert_int_equal(p.results_sent, 0); /* acknowledged the first time */
    sync_bg_free(bg);
    sbfx_free(f);
}

/* A central that accepts and never answers: the sync hangs on the network, as it would on
 * a real fault, and stays running long enough to be pressed again and stopped. */
static void test_second_press_returns_the_running_sync_and_stop_cancels_it(void **state)
{
    (void)state;
    struct sbfx *f = sbfx_new();
    sbfx_enrol(f);
    sbfx_stall(f);
    sbfx_register(f, f->stall_url);
    struct sync_bg *bg = NULL;
    struct op_err e = {0};
    assert_int_equal(sync_bg_new(f->device, &bg, &e), 0);
    struct sync_bg_progress p, q;
    int started = 0;
    assert_int_equal(sync_bg_start(bg, f->device, &p, &started, &e), 0);
    assert_true(started);
    assert_true(p.running);
    assert_true(p.run_id[0]);
    assert_int_equal(lock_held(f->device), 1);

    /* the phase moves to the token request, where it waits on central */
    double t0 = now_s();
    do {
        assert_int_equal(sync_bg_read(bg, f->device, &q, &e), 0);
        nap_ms(20);
    } while (strcmp(q.phase, "token") != 0 && now_s() - t0 < 10);
    assert_string_equal(q.phase, "token");
    assert_true(q.running);

    /* pressed again, twice: the same sync, nothing new started or recorded */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(sync_bg_start(bg, f->device, &q, &started, &e), 0);
        assert_false(started);
        assert_true(q.running);
        assert_false(q.elsewhere);
        assert_string_equal(q.run_id, p.run_id);
    }
    json_t *runs = NULL;
    assert_int_equal(app_sync_history(f->device, NULL, 10, &runs, &e), 0);
    assert_int_equal(json_array_size(runs), 1);
    json_decref(runs);

    /* the server stops: the sync is cancelled at once, recorded failed, the lock free */
    t0 = now_s();
    sync_bg_stop(bg);
    double took = now_s() - t0;
    assert_true(took < 5);
    assert_int_equal(sync_bg_read(bg, f->device, &q, &e), 0);
    assert_false(q.running);
    assert_int_equal(q.outcome, SYNC_BG_FAILED);
    assert_string_equal(q.phase, "failed");
    assert_string_equal(q.error, SYNC_CANCELLED_MSG);
    assert_int_equal(lock_held(f->device), 0);
    json_t *r = newest_run(f->device);
    assert_string_equal(json_string_value(json_object_get(r, "id")), p.run_id);
    assert_string_equal(json_string_value(json_object_get(r, "status")), "failed");
    assert_string_equal(json_string_value(json_object_get(r, "error")), SYNC_CANCELLED_MSG);
    json_decref(r);
    /* and no press starts another */
    assert_int_equal(sync_bg_start(bg, f->device, &q, &started, &e), OP_EBUSY);
    assert_false(started);
    sync_bg_free(bg);
    sbfx_free(f);
}

/* Another process (cron's `outpost sync`) holds the lock and has recorded its run: a press
 * starts nothing and reports that sync, with the pid the lock file names. */
static void test_sync_of_another_process_is_reported(void **state)
{
    (void)state;
    char *dir;
    struct instance *dev = fx_instance("device", &dir);
    int go[2], done[2];
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(done), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        /* the "cron" sync: its own connection, the lock and a running run, until told */
        struct instance view = *dev;
        struct op_err ce = {0};
        struct app_sync_run run;
        if (instance_open_db(dev, &view.db, &ce) != 0 ||
            app_sync_run_begin(&view, NULL, &run, &ce) != 0)
            _exit(1);
        if (write(go[1], run.id, UUID_STR_LEN) != UUID_STR_LEN)
            _exit(1);
        char c;
        if (read(done[0], &c, 1) != 1)
            _exit(1);
        const struct app_sync_outcome oc = {0, NULL, 0, 0, "central refused the token"};
        int rc = app_sync_run_end(&view, &run, &oc, &ce);
        db_close(view.db);
        _exit(rc == 0 ? 0 : 1);
    }
    char run_id[UUID_STR_LEN];
    assert_int_equal(read(go[0], run_id, UUID_STR_LEN), UUID_STR_LEN);

    struct sync_bg *bg = NULL;
    struct op_err e = {0};
    assert_int_equal(sync_bg_new(dev, &bg, &e), 0);
    struct sync_bg_progress p;
    int started = 1;
    assert_int_equal(sync_bg_start(bg, dev, &p, &started, &e), 0);
    assert_false(started);
    assert_true(p.running);
    assert_true(p.elsewhere);
    assert_int_equal(p.pid, (long)child);
    assert_string_equal(p.run_id, run_id);
    assert_string_equal(p.phase, "running");
    assert_true(p.started_at[0]);
    json_t *j = sync_bg_progress_json(&p);
    assert_int_equal(json_integer_value(json_object_get(j, "pid")), (json_int_t)child);
    assert_true(json_is_true(json_object_get(j, "elsewhere")));
    json_decref(j);
    /* reading shows the same, and the press recorded nothing */
    assert_int_equal(sync_bg_read(bg, dev, &p, &e), 0);
    assert_true(p.running && p.elsewhere);
    assert_string_equal(p.run_id, run_id);
    json_t *runs = NULL;
    assert_int_equal(app_sync_history(dev, NULL, 10, &runs, &e), 0);
    assert_int_equal(json_array_size(runs), 1);
    json_decref(runs);

    /* the other sync ends, failed: its outcome and message are shown */
    assert_int_equal(write(done[1], "x", 1), 1);
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(sync_bg_read(bg, dev, &p, &e), 0);
    assert_false(p.running);
    assert_false(p.elsewhere);
    assert_int_equal(p.outcome, SYNC_BG_FAILED);
    assert_string_equal(p.run_id, run_id);
    assert_string_equal(p.error, "central refused the token");
    assert_true(p.ended_at[0]);
    close(go[0]);
    close(go[1]);
    close(done[0]);
    close(done[1]);
    sync_bg_free(bg);
    instance_close(dev);
    testutil_rmdir(dir);
}

/* A sync that fails keeps its message: central refuses connections. */
static void test_failure_outcome_keeps_its_message(void **state)
{
    (void)state;
    setenv("OUTPOST_SYNC_MAX_ATTEMPTS", "1", 1);
    struct sbfx *f = sbfx_new();
    struct sync_bg *bg = NULL;
    struct op_err e = {0};
    assert_int_equal(sync_bg_new(f->device, &bg, &e), 0);
    struct sync_bg_progress p;
    int started = 0;

    /* not enrolled: refused before any run is recorded, the message says what to do */
    assert_int_equal(sync_bg_start(bg, f->device, &p, &started, &e), 0);
    assert_true(started);
    wait_done(bg, f->device, &p, 10);
    assert_int_equal(p.outcome, SYNC_BG_FAILED);
    assert_non_null(strstr(p.error, "enrol"));

    /* enrolled, then central goes away */
    sbfx_enrol(f);
    char closed[64];
    sbfx_closed_url(closed, sizeof closed);
    sbfx_register(f, closed);
    assert_int_equal(sync_bg_start(bg, f->device, &p, &started, &e), 0);
    assert_true(started);
    char run_id[UUID_STR_LEN];
    snprintf(run_id, sizeof run_id, "%s", p.run_id);
    wait_done(bg, f->device, &p, 30);
    assert_int_equal(p.outcome, SYNC_BG_FAILED);
    assert_string_equal(p.phase, "failed");
    assert_string_equal(p.run_id, run_id);
    assert_non_null(strstr(p.error, "cannot connect"));
    json_t *r = newest_run(f->device);
    assert_string_equal(json_string_value(json_object_get(r, "status")), "failed");
    assert_string_equal(json_string_value(json_object_get(r, "error")), p.error);
    json_decref(r);
    json_t *j = sync_bg_progress_json(&p);
    assert_string_equal(json_string_value(json_object_get(j, "outcome")), "failed");
    assert_string_equal(json_string_value(json_object_get(j, "error")), p.error);
    json_decref(j);
    sync_bg_free(bg);
    sbfx_free(f);
    unsetenv("OUTPOST_SYNC_MAX_ATTEMPTS");
}

static void test_central_has_no_button(void **state)
{
    (void)state;
    char *dir;
    struct instance *c = fx_instance("central", &dir);
    struct sync_bg *bg = (struct sync_bg *)1;
    struct op_err e = {0};
    assert_int_equal(sync_bg_new(c, &bg, &e), OP_ESTATE);
    assert_null(bg);
    instance_close(c);
    testutil_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_press_runs_the_sync_and_publishes_its_outcome),
        cmocka_unit_test(test_second_press_returns_the_running_sync_and_stop_cancels_it),
        cmocka_unit_test(test_sync_of_another_process_is_reported),
        cmocka_unit_test(test_failure_outcome_keeps_its_message),
        cmocka_unit_test(test_central_has_no_button),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
