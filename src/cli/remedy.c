/* remedy.c - the CLI's words for the kinds of fix of base/err.h (see remedy.h). */
#include "cli/remedy.h"

#include <stdio.h>

#include "cli/cli.h"

const char *cli_remedy_advice(const struct op_err *e, char *out, size_t cap)
{
    out[0] = '\0';
    if (e->code == OP_EBUSY) {
        snprintf(out, cap, " (another outpost command is writing); try again");
        return out;
    }
    switch (e->remedy) {
    case OP_REMEDY_NONE:
        break;
    case OP_REMEDY_SKIP_INVALID:
        snprintf(out, cap,
                 " (fix the rows listed, or give --skip-invalid to import the valid "
                 "rows)");
        break;
    case OP_REMEDY_CSV_LIMIT:
        snprintf(out, cap, " (raise configuration.limits.csv-max-bytes, or split the file)");
        break;
    case OP_REMEDY_QTI_LIMIT:
        snprintf(out, cap, " (configuration.limits.qti-package-max-bytes)");
        break;
    case OP_REMEDY_REPARENT:
        snprintf(out, cap, " (testcenters update --parent or --no-parent) first");
        break;
    case OP_REMEDY_SETUP: {
        const char *dir = cli_data_dir();
        snprintf(out, cap,
                 "; create one with `outpost --data %s setup FILE.json` or point --data (or "
                 "OUTPOST_HOME) at one",
                 dir);
        break;
    }
    case OP_REMEDY_REPLACE_LOST_KEY:
        snprintf(out, cap,
                 " Only if a key is lost for good, run `outpost setup-central "
                 "--replace-lost-key`: it makes a new key, and what depends on the lost one can "
                 "never be opened again");
        break;
    case OP_REMEDY_RESTORE_RESULTS_KEY:
        snprintf(out, cap, " (`outpost setup-central` names the keys results depend on)");
        break;
    case OP_REMEDY_RESTORE_MASTER_KEY:
        snprintf(out, cap, "; `outpost setup-central` names the key id they need");
        break;
    case OP_REMEDY_SETUP_CENTRAL_KEYS:
        snprintf(out, cap, "; run `outpost setup-central`");
        break;
    case OP_REMEDY_SETUP_DEVICE_KEYS:
        snprintf(out, cap, "; run `outpost setup-device`");
        break;
    case OP_REMEDY_SHOW_KEYS:
        snprintf(out, cap, " (`outpost keys show`)");
        break;
    }
    return out;
}

const char *cli_error_text(const struct op_err *e, char *out, size_t cap)
{
    char advice[512];
    snprintf(out, cap, "%s%s", e->msg[0] ? e->msg : err_code_name(e->code),
             cli_remedy_advice(e, advice, sizeof advice));
    return out;
}
