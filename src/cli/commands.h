/*
 * commands.h - the table of `outpost` commands. One line per command: its C name, the name a
 * user types, and a one-line summary for `outpost --help`. The code of command NAME is
 * cmd_NAME() in src/cli/cmd_NAME.c.
 */
#ifndef OUTPOST_CLI_COMMANDS_H
#define OUTPOST_CLI_COMMANDS_H

#define OUTPOST_COMMANDS(X)                                                                        \
    X(setup, "setup", "initialise a central server or an offline device from a JSON file")         \
    X(setup_central, "setup-central", "create the central keys that are missing")                  \
    X(setup_device, "setup-device", "create the device signing key if it is missing")              \
    X(users, "users", "list, add and delete users; change a password")                             \
    X(import_users, "import-users", "import users from a CSV file (TAO's ImportUsersCsv)")         \
    X(testcenters, "testcenters", "add, list, update and delete test centers; assign their staff") \
    X(import_testcenters, "import-testcenters", "test centers from a CSV file")                    \
    X(eligibilities, "eligibilities", "set, list and delete who may sit which delivery where")     \
    X(import_eligibilities, "import-eligibilities", "eligibilities from a CSV file")               \
    X(import_qti, "import-qti", "import a QTI test package as a compiled, published delivery")     \
    X(deliveries, "deliveries", "list, update and withdraw deliveries")                            \
    X(qti, "qti", "score a QTI test session without a browser (qti run)")                          \
    X(keys, "keys", "show public keys and fingerprints; rotate the results key")                   \
    X(devices, "devices", "list enrolled devices and revoke one (central)")                        \
    X(api_tokens, "api-tokens", "bearer tokens for scripts calling the backoffice API (central)")  \
    X(results, "results", "list, show and import result envelopes (central)")                      \
    X(decrypt_results, "decrypt-results", "decrypt the pending results on central")                \
    X(migrate_store, "migrate-store", "move a central from SQLite to PostgreSQL, verified")        \
    X(backup, "backup", "write one private archive of the instance while it runs")                 \
    X(restore, "restore", "restore an archive of `backup` into an empty data folder, checked")     \
    X(register_central, "register-central", "set the central server a device syncs with")          \
    X(enrol, "enrol", "enrol this device with its central as a sync manager")                      \
    X(sync, "sync", "synchronise this device with central (TAO's SynchronizeAll)")                 \
    X(sync_history, "sync-history", "list the latest synchronisations, newest first")              \
    X(serve, "serve", "run the HTTP server: the JSON API under /api/v1 (both roles)")

#define DECLARE_COMMAND(cname, name, summary) int cmd_##cname(int argc, char **argv);
OUTPOST_COMMANDS(DECLARE_COMMAND)
#undef DECLARE_COMMAND

#endif
