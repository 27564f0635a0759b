/*
 * syncbtn_fixture.h - a real central serving on loopback in this process and a real device
 * registered with it (and, on request, enrolled by its sync manager), for the tests of the
 * sync button (sync/bg.h) and of the readiness panel (app/readiness.h). Also a "stalled
 * central": a listening socket that accepts and never answers, the network fault a device
 * meets when central hangs. Static functions, included by test_sync_bg.c and
 * test_app_readiness.c.
 */
#ifndef OUTPOST_TESTS_SYNCBTN_FIXTURE_H
#define OUTPOST_TESTS_SYNCBTN_FIXTURE_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app/central.h"
#include "app/outbox.h"
#include "app/testcenters.h"
#include "app/users.h"
#include "crypto/keys.h"
#include "envelope_fixture.h"
#include "http/server.h"
#include "instance_fixture.h"
#include "sync/enrol.h"

#define SBFX_PW "sync-manager-password"

struct sbfx {
    struct instance *central, *device;
    char *central_dir, *device_dir;
    struct http_server *srv;
    char url[128];
    int stall_fd; /* the stalled central's listening socket, or -1 */
    char stall_url[64];
};

/* Points the device at `url` (register-central without the check). */
static inline void sbfx_register(struct sbfx *f, const char *url)
{
    struct op_err e = {0};
    struct app_central_request rq = {.root_url = url, .no_check = 1};
    struct app_central out;
    if (app_central_register(f->device, &rq, &out, &e) != 0)
        fail_msg("register-central: %s", e.msg);
}

/* A central with a sync manager "sm" of ORG-1 and a test center of ORG-1, serving on a free
 * loopback port, and a device registered with it. */
static inline struct sbfx *sbfx_new(void)
{
    struct sbfx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->stall_fd = -1;
    f->central = fx_instance("central", &f->central_dir);
    f->device = fx_instance("device", &f->device_dir);
    struct op_err e = {0};
    struct app_user_new u = {"sm", "sync-manager", "ORG-1", NULL, NULL, NULL, NULL, NULL};
    if (app_users_add(f->central, &u, SBFX_PW, strlen(SBFX_PW), NULL, &e) != 0)
        fail_msg("app_users_add: %s", e.msg);
    struct app_center_new c = {"Center 1", "ORG-1", NULL};
    struct test_center tc;
    memset(&tc, 0, sizeof tc);
    if (app_testcenters_add(f->central, &c, &tc, NULL, &e) != 0)
        fail_msg("app_testcenters_add: %s", e.msg);
    test_center_clear(&tc);
    struct http_server_options o;
    http_server_options_default(&o);
    o.listen = "127.0.0.1:0";
    o.threads = 2;
    if (http_server_start(f->central, &o, &f->srv, &e) != 0)
        fail_msg("http_server_start: %s", e.msg);
    snprintf(f->url, sizeof f->url, "%s", http_server_url(f->srv));
    sbfx_register(f, f->url);
    return f;
}

/* Enrols the device with central, as `outpost enrol --login sm` does. */
static inline void sbfx_enrol(struct sbfx *f)
{
    struct op_err e = {0};
    struct sync_enrol_request rq = {.login = "sm", .password = SBFX_PW};
    struct sync_enrolment en;
    if (sync_enrol(f->device, &rq, &en, &e) != 0)
        fail_msg("sync_enrol: %s", e.msg);
}

/* Queues one sealed result of the device in its outbox (sealed to central's results key). */
static inline void sbfx_result(struct sbfx *f)
{
    struct op_err e = {0};
    struct key results, dev;
    char *keys = instance_path(f->central, "keys");
    assert_int_equal(keys_results_current(keys, &results, &e), 0);
    free(keys);
    keys = instance_path(f->device, "keys");
    assert_int_equal(keys_load_device_signing(keys, &dev, &e), 0);
    free(keys);
    struct envelope_header h = envfx_header(f->device->id);
    size_t len;
    unsigned char *env = envfx_seal(&h, PAYLOAD, &results, &dev, &len);
    if (app_outbox_add(f->device, env, len, &e) != 0)
        fail_msg("outbox: %s", e.msg);
    free(env);
    key_wipe(&results);
    key_wipe(&dev);
}

/* Opens the stalled central: a loopback socket that accepts connections (the kernel's
 * backlog does) and never answers. Its URL in f->stall_url. */
static inline void sbfx_stall(struct sbfx *f)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s, 16), 0);
    socklen_t al = sizeof a;
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
    f->stall_fd = s;
    snprintf(f->stall_url, sizeof f->stall_url, "http://127.0.0.1:%u", ntohs(a.sin_port));
}

/* A loopback URL where nothing listens (connection refused). */
static inline void sbfx_closed_url(char *out, size_t cap)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t al = sizeof a;
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
    snprintf(out, cap, "http://127.0.0.1:%u", ntohs(a.sin_port));
    close(s); /* bound, never listened: the port is free and refuses */
}

static inline void sbfx_free(struct sbfx *f)
{
    if (!f)
        return;
    if (f->stall_fd >= 0)
        close(f->stall_fd);
    http_server_stop(f->srv);
    instance_close(f->central);
    instance_close(f->device);
    testutil_rmdir(f->central_dir);
    testutil_rmdir(f->device_dir);
    free(f);
}

#endif
