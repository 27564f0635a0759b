/*
 * cmd_sync.c - `outpost sync [--json]` (TAO's SynchronizeAll), on a device: one
 * synchronisation with central (sync/run.h). For cron and the systemd timer
 * (dist/systemd/outpost-sync.timer): exit 0 only when both the pull and the push succeeded.
 */
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "sync/run.h"

static const struct command_usage usage = {
    "outpost sync [--json]",
    "Synchronises this device with its central (enrol it first: `outpost enrol`): pulls the\n"
    "changes of its organisation (every page checked against central's pinned signing key),\n"
    "downloads the encrypted test packages it lacks (resuming a cut download), pushes the\n"
    "pending results and keeps central's signed receipts, takes a rotated results key, and\n"
    "reports the run to central. Each run is in `outpost sync-history`.\n"
    "One sync at a time: a second one is refused at once (\"a sync is already running (pid\n"
    "N)\"). Network faults, 429 and 503 are retried with backoff (Retry-After obeyed).\n"
    "Progress goes to standard error when it is a terminal.\n"
    "Exit status: 0 when pull and push both succeeded, 1 otherwise (the message says what to\n"
    "do; a central whose signing key changed stops the sync until the device is enrolled\n"
    "again), 2 for a usage error.\n"
    "--json fields: run_id, status, pull, push, counts {ENTITY: {created, updated, deleted}},\n"
    "pages, records, full_resyncs, packages, bytes, results_sent, results_acknowledged,\n"
    "results_refused, results_pending, results_key_changed, error (null).",
};

int cmd_sync(int argc, char **argv)
{
    int json = 0;
    const struct cli_option opts[] = {
        OPT_FLAG(0, "json", &json, "print the run's summary as JSON"),
        OPT_END(),
    };
    struct cli_run run;
    if (cli_start(&run, argc, argv, opts, &usage) != 0)
        return run.status;
    struct sync_run_options o = {.progress = isatty(STDERR_FILENO) ? stderr : NULL};
    struct sync_run_summary s;
    int rc = sync_run(run.inst, &o, &s, &run.e);
    if (s.run_id[0]) { /* a run was recorded: say what it did, even when it failed */
        if (json) {
            cli_print_json(sync_run_summary_json(&s));
        } else {
            printf("sync %s: %s\n", rc == 0 ? "done" : "failed", s.run_id);
            for (int i = 0; i < SYNC_ENT_COUNT; i++)
                printf("  %-12s %" PRId64 " created, %" PRId64 " updated, %" PRId64 " deleted\n",
                       sync_entity_name(i), s.counts[i].created, s.counts[i].updated,
                       s.counts[i].deleted);
            printf("  packages     %" PRId64 " downloaded (%" PRId64 " bytes received)\n",
                   s.packages, s.bytes);
            printf("  results      %" PRId64 " sent, %" PRId64 " acknowledged, %" PRId64
                   " refused, %" PRId64 " pending\n",
                   s.results_sent, s.results_acknowledged, s.results_refused, s.results_pending);
            if (s.results_key_changed)
                printf("  central's results key changed (signed by the pinned key): taken\n");
        }
    }
    return cli_end(&run, rc);
}
