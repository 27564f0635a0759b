/*
 * commands.h - the table of `outpost` commands. One line per command: its C name, the name a
 * user types, and a one-line summary for `outpost --help`. The code of command NAME is
 * cmd_NAME() in src/cli/cmd_NAME.c.
 */
#ifndef OUTPOST_CLI_COMMANDS_H
#define OUTPOST_CLI_COMMANDS_H

#define OUTPOST_COMMANDS(X)                                                                        \
    X(setup, "setup", "initialise a central server or an offline device from a JSON file")         \
    X(users, "users", "list, add and delete users; change a password")                             \
    X(import_qti, "import-qti", "import a QTI test package as a compiled, published delivery")     \
    X(deliveries, "deliveries", "list deliveries and their package hashes")                        \
    X(qti, "qti", "score a QTI test session without a browser (qti run)")

#define DECLARE_COMMAND(cname, name, summary) int cmd_##cname(int argc, char **argv);
OUTPOST_COMMANDS(DECLARE_COMMAND)
#undef DECLARE_COMMAND

#endif
