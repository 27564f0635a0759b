/* remedy.c - the CLI's words for the kinds of fix of base/err.h (see remedy.h). */
#include "cli/remedy.h"

#include <stdio.h>

#include "cli/cli.h"

/* The advice for each remedy, printed right after the message (OP_REMEDY_SETUP's names the
 * data folder in use: SETUP_ADVICE). */
#define SETUP_ADVICE                                                                               \
    "; create one with `outpost --data %s setup FILE.json` or point --data (or OUTPOST_HOME) at "  \
    "one"
static const char *const advice_of[] = {
    [OP_REMEDY_NONE] = "",
    [OP_REMEDY_SKIP_INVALID] =
        " (fix the rows listed, or give --skip-invalid to import the valid rows)",
    [OP_REMEDY_CSV_LIMIT] = " (raise configuration.limits.csv-max-bytes, or split the file)",
    [OP_REMEDY_QTI_LIMIT] = " (configuration.limits.qti-package-max-bytes)",
    [OP_REMEDY_REPARENT] = " (testcenters update --parent or --no-parent) first",
    [OP_REMEDY_REPLACE_LOST_KEY] =
        " Only if a key is lost for good, run `outpost setup-central --replace-lost-key`: it "
        "makes a new key, and what depends on the lost one can never be opened again",
    [OP_REMEDY_RESTORE_RESULTS_KEY] = " (`outpost setup-central` names the keys results depend "
                                      "on)",
    [OP_REMEDY_RESTORE_MASTER_KEY] = "; `outpost setup-central` names the key id they need",
    [OP_REMEDY_SETUP_CENTRAL_KEYS] = "; run `outpost setup-central`",
    [OP_REMEDY_SETUP_DEVICE_KEYS] = "; run `outpost setup-device`",
    [OP_REMEDY_SHOW_KEYS] = " (`outpost keys show`)",
    [OP_REMEDY_PG_NEW_DATABASE] =
        "; migrate-store moves into an empty database only: drop the database and create it "
        "again, empty (as the postgres user: `dropdb NAME && createdb -O ROLE NAME`), then run "
        "migrate-store again (docs/operations.md)",
    [OP_REMEDY_LABEL_TAKEN] =
        "; give --label NEW to import it as a new delivery, or --new-version to make this "
        "package the next version of that delivery (as `outpost deliveries update LABEL -f "
        "PACKAGE` does)",
};
_Static_assert(sizeof advice_of / sizeof *advice_of == OP_REMEDY_COUNT,
               "every remedy has its advice (or NULL, and a case of its own below)");

const char *cli_remedy_advice(const struct op_err *e, char *out, size_t cap)
{
    out[0] = '\0';
    if (e->code == OP_EBUSY) /* always "try again", whatever set the code */
        snprintf(out, cap, " (another outpost command is writing); try again");
    else if (e->code == OP_ETHROTTLED) /* always "wait", with the time when it is known */
        snprintf(out, cap,
                 e->retry_after > 0 ? "; try again in %d seconds"
                                    : "; wait a few minutes and try again",
                 e->retry_after);
    else if (e->remedy == OP_REMEDY_SETUP)
        snprintf(out, cap, SETUP_ADVICE, cli_data_dir());
    else if ((unsigned)e->remedy < sizeof advice_of / sizeof *advice_of && advice_of[e->remedy])
        snprintf(out, cap, "%s", advice_of[e->remedy]);
    return out;
}

const char *cli_error_text(const struct op_err *e, char *out, size_t cap)
{
    char advice[512];
    snprintf(out, cap, "%s%s", e->msg[0] ? e->msg : err_code_name(e->code),
             cli_remedy_advice(e, advice, sizeof advice));
    return out;
}
