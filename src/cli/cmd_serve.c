/*
 * cmd_serve.c - `outpost serve`: runs the HTTP server (http/server.h) on the instance, central
 * or device, until SIGTERM or SIGINT, then stops gracefully (requests in flight finish, within
 * a bound) and exits 0. The server, its limits and its access log are src/http; this file
 * parses the options, opens the instance and waits for the signal.
 */
#include <errno.h>
#include <pthread.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/version.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "app/content.h"
#include "app/oauth.h"
#include "http/server.h"
#include "http/websession.h"

#define SERVE_CLEANUP_EVERY_S 600 /* app_oauth_cleanup, from the main thread */

static const struct command_usage usage = {
    "outpost serve --listen ADDRESS:PORT [--tls-cert FILE --tls-key FILE] [--threads N]\n"
    "              [--max-connections N] [--max-per-ip N] [--timeout SECONDS]\n"
    "              [--max-body-kib N] [--max-header-kib N] [--max-in-flight N]\n"
    "              [--session-idle SECONDS] [--max-sessions N]",
    "Serves the instance over HTTP (HTTPS with --tls-cert and --tls-key): the JSON API under\n"
    "/api/v1 on a central or a device. ADDRESS:PORT is e.g. 127.0.0.1:8080, [::1]:8080 or\n"
    "0.0.0.0:443; port 0 takes a free port. One line per request goes to the log on stderr\n"
    "(never a password, token or body). SIGTERM or SIGINT stops it: it stops accepting\n"
    "connections, lets the requests in flight finish (10 s at most) and exits 0.\n"
    "Limits: a connection idle for --timeout seconds is closed, and a request body that takes\n"
    "longer than that in all is cut; bodies over --max-body-kib are answered 413, request\n"
    "headers over --max-header-kib 431; --max-connections at once, --max-per-ip of them from\n"
    "one address; beyond --max-in-flight requests in flight per thread, a request is answered\n"
    "429 with Retry-After: 1 at once instead of waiting (overload).\n"
    "On a device, people log in to the web pages (POST /api/v1/session): a web session unused\n"
    "for --session-idle seconds ends (default 900) and its key is wiped; at most\n"
    "--max-sessions are open at once (default 1024). docs/web.md.\n"
    "On a central server it first encrypts the packages of deliveries that lack one, and every\n"
    "10 minutes deletes expired and revoked tokens. The sync endpoints: docs/protocol.md.\n"
    "On a device, a sync manager's button (POST /api/v1/sync) runs `outpost sync` in the\n"
    "background, under the same lock; SIGTERM cancels it at a safe point, recorded as failed\n"
    "(docs/operations.md, \"The sync button\").\n"
    "docs/operations.md, \"Running the server\".",
};

/* An int option in [min, max], or a usage error naming it. */
static int check_range(const char *name, int v, int min, int max, int *status)
{
    if (v >= min && v <= max)
        return 0;
    *status = options_usage_error(&usage, "--%s: %d is out of range (%d to %d)", name, v, min, max);
    return -1;
}

#define ROLE_DEFAULT INT_MIN

int cmd_serve(int argc, char **argv)
{
    const char *listen_addr = NULL, *cert = NULL, *key = NULL;
    /* ROLE_DEFAULT: the role's default, once the instance is open */
    int threads = ROLE_DEFAULT, max_conn = ROLE_DEFAULT;
    int max_per_ip = HTTP_DEFAULT_MAX_PER_IP, timeout = HTTP_DEFAULT_TIMEOUT_S;
    int body_kib = HTTP_DEFAULT_MAX_BODY_KIB, header_kib = HTTP_DEFAULT_MAX_HEADER_KIB;
    int in_flight = HTTP_DEFAULT_MAX_IN_FLIGHT;
    int session_idle = WEBSESSION_DEFAULT_IDLE_S, max_sessions = WEBSESSION_DEFAULT_MAX;
    const struct cli_option opts[] = {
        OPT_STRING(0, "listen", &listen_addr, "ADDRESS:PORT", "where to listen (required)"),
        OPT_STRING(0, "tls-cert", &cert, "FILE", "PEM certificate chain: serve HTTPS"),
        OPT_STRING(0, "tls-key", &key, "FILE", "PEM private key of the certificate"),
        OPT_INT(0, "threads", &threads, "N",
                "worker threads (default 4 on a central, 16 on a device)"),
        OPT_INT(0, "max-connections", &max_conn, "N",
                "open connections at once (default 256 on a central, 768 on a device)"),
        OPT_INT(0, "max-per-ip", &max_per_ip, "N",
                "open connections from one address (default 64; 0: no limit)"),
        OPT_INT(0, "timeout", &timeout, "SECONDS",
                "idle time before a connection is closed, and the longest a request body may "
                "take (default 30)"),
        OPT_INT(0, "max-body-kib", &body_kib, "N", "largest request body in KiB (default 16384)"),
        OPT_INT(0, "max-header-kib", &header_kib, "N",
                "largest request line and headers in KiB (default 16)"),
        OPT_INT(0, "max-in-flight", &in_flight, "N",
                "requests in flight per thread before 429 (default 16; 0: no limit)"),
        OPT_INT(0, "session-idle", &session_idle, "SECONDS",
                "a web session unused this long ends (default 900)"),
        OPT_INT(0, "max-sessions", &max_sessions, "N", "web sessions at once (default 1024)"),
        OPT_END(),
    };
    int status;
    if (options_parse_exact(argc, argv, opts, &usage, 0, NULL, &status) != 0)
        return status;
    if (!listen_addr)
        return options_usage_error(&usage, "give --listen ADDRESS:PORT (e.g. 127.0.0.1:8080)");
    if (!cert != !key)
        return options_usage_error(&usage, "give both --tls-cert and --tls-key, or neither");
    if ((threads != ROLE_DEFAULT &&
         check_range("threads", threads, 1, HTTP_MAX_THREADS, &status) != 0) ||
        (max_conn != ROLE_DEFAULT &&
         check_range("max-connections", max_conn, 1, 100000, &status) != 0) ||
        check_range("max-per-ip", max_per_ip, 0, max_conn == ROLE_DEFAULT ? 100000 : max_conn,
                    &status) != 0 ||
        check_range("timeout", timeout, 1, 3600, &status) != 0 ||
        check_range("max-body-kib", body_kib, 1, HTTP_MAX_BODY_KIB, &status) != 0 ||
        check_range("max-header-kib", header_kib, 1, HTTP_MAX_HEADER_KIB, &status) != 0 ||
        check_range("max-in-flight", in_flight, 0, HTTP_MAX_IN_FLIGHT, &status) != 0 ||
        check_range("session-idle", session_idle, 1, WEBSESSION_MAX_IDLE_S, &status) != 0 ||
        check_range("max-sessions", max_sessions, 1, WEBSESSION_MAX_MAX, &status) != 0)
        return status;

    struct http_server_options o;
    http_server_options_default(&o);
    o.listen = listen_addr;
    o.tls_cert = cert;
    o.tls_key = key;
    o.max_per_ip = (unsigned)max_per_ip;
    o.timeout_s = (unsigned)timeout;
    o.max_body = (size_t)body_kib * 1024;
    o.max_header = (size_t)header_kib * 1024;
    o.max_in_flight = (unsigned)in_flight;
    o.session_idle_s = (unsigned)session_idle;
    o.max_sessions = (unsigned)max_sessions;

    struct cli_run run;
    if (cli_open(&run) != 0)
        return run.status;
    /* A device's test takers each hold a connection while they sit a test, and a login's
     * password hash keeps its thread for a while: with 4 threads, the answers of every
     * connection bound to that thread wait behind it (bench_runner: p99 of answer-and-next
     * 242 ms with 4 threads, 12 ms with 16, 300 test takers). */
    int device = run.inst->role == ROLE_DEVICE;
    if (threads == ROLE_DEFAULT)
        threads = device ? HTTP_DEVICE_DEFAULT_THREADS : HTTP_DEFAULT_THREADS;
    if (max_conn == ROLE_DEFAULT)
        max_conn = device ? HTTP_DEVICE_DEFAULT_MAX_CONNECTIONS : HTTP_DEFAULT_MAX_CONNECTIONS;
    if (max_per_ip > max_conn) {
        cli_end(&run, 0);
        return options_usage_error(&usage, "--max-per-ip: %d is more than --max-connections (%d)",
                                   max_per_ip, max_conn);
    }
    o.threads = (unsigned)threads;
    o.max_connections = (unsigned)max_conn;

    /* The signals that stop the server are taken by sigwait below: blocked before the
     * server's threads start, so that they inherit the mask and none of them takes one. A
     * client that goes away mid-answer must not kill the process (SIGPIPE). */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    int central = run.inst->role == ROLE_CENTRAL;
    if (central) {
        /* deliveries imported before encrypted packages, or left without one by a crash */
        int made = 0;
        int erc = app_content_ensure_all(run.inst, &made, &run.e);
        if (erc != 0)
            return cli_end(&run, erc);
        if (made)
            log_info("serve: encrypted the packages of %d deliveries", made);
    }

    struct http_server *srv = NULL;
    int rc = http_server_start(run.inst, &o, &srv, &run.e);
    if (rc != 0)
        return cli_end(&run, rc);
    log_info("serve: outpost %s %s listening on %s (%u threads)", OUTPOST_VERSION,
             instance_role_name(run.inst->role), http_server_url(srv), o.threads);

    /* This thread waits for the stop signal, and meanwhile cleans up expired tokens on the
     * instance's own connection (the server's threads have theirs), never in a request. */
    int sig = 0;
    for (;;) {
        struct timespec wait = {SERVE_CLEANUP_EVERY_S, 0};
        sig = sigtimedwait(&stop, NULL, &wait);
        if (sig == SIGTERM || sig == SIGINT)
            break;
        if (sig < 0 && errno == EAGAIN && central) {
            struct op_err ce;
            err_clear(&ce);
            int64_t n = 0;
            if (app_oauth_cleanup(run.inst, &n, &ce) != 0)
                log_warn("serve: token cleanup: %s", ce.msg);
            else if (n)
                log_info("serve: token cleanup: %lld expired or revoked tokens deleted",
                         (long long)n);
        }
    }
    log_info("serve: %s received: stopping (requests in flight may take %d s to finish)",
             sig == SIGTERM ? "SIGTERM" : "SIGINT", HTTP_DEFAULT_STOP_GRACE_MS / 1000);
    int cut = http_server_stop(srv);
    if (cut)
        log_warn("serve: %d request(s) still running after %d s were cut", cut,
                 HTTP_DEFAULT_STOP_GRACE_MS / 1000);
    log_info("serve: stopped");
    return cli_end(&run, 0);
}
