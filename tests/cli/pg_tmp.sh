# pg_tmp.sh - the tests' throw-away PostgreSQL server (tests/tools/pg_tmp.sh): start gives a
# server that asks for the role's password, stop leaves no postgres process and no folder,
# a second start on a forgotten folder replaces its server, a missing PostgreSQL is a skip
# (77) that says why, and a failure half-way through start cleans up what it started.
. "$OUTPOST_SOURCE/tests/cli/lib.sh"
PGTMP="$OUTPOST_SOURCE/tests/tools/pg_tmp.sh"
chmod 755 "$WORK" # the fake bin folder below must be reachable by the `postgres` user

# pids of a postmaster and of its children (empty when it is gone)
server_procs() { ps -eo pid=,ppid= | awk -v p="$1" '$1 == p || $2 == p { print $1 }'; }
# processes whose command line names FOLDER
procs_naming() { ps -eo pid=,args= | grep -F "$1" | grep -v grep || true; }

run sh "$PGTMP" start "$WORK/pg"
if [ "$RC" = 77 ]; then
    echo "skipped: $ERR"
    exit 77
fi
check "start succeeds" status_is 0
root=$(cat "$WORK/pg/root")
pid=$(head -n 1 "$root/data/postmaster.pid")
bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -t/ -k5,5n | tail -n 1)
check "start says where the server listens" contains "$ERR" "on 127.0.0.1:"
check "start writes the persistence for setup.json" \
    contains "$(cat "$WORK/pg/persistence.json")" '"driver": "pgsql"'
check "the postmaster runs" kill -0 "$pid"
if [ "$(id -u)" = 0 ]; then
    check "as root, the server runs as the postgres user" \
        [ "$(ps -o user= -p "$pid" | tr -d ' ')" = postgres ]
fi

run sh -c "eval \"\$(sh '$PGTMP' env '$WORK/pg')\" && '$bindir/psql' -X -A -t -w -c 'SELECT current_user'"
check "env gives psql the role and its password" [ "$RC:$OUT" = "0:outpost" ]
run sh -c "eval \"\$(sh '$PGTMP' env '$WORK/pg')\" && PGPASSFILE=/nonexistent '$bindir/psql' -X -w -c 'SELECT 1'"
check "without the password the server refuses" contains "$ERR" "no password supplied"

# a second start on the same folder (a run that never reached stop) replaces the server
run sh "$PGTMP" start "$WORK/pg"
check "start on a folder with a server succeeds" status_is 0
check "start stopped the earlier server" [ -z "$(server_procs "$pid")" ]
check "start removed the earlier server's folder" [ ! -e "$root" ]
root=$(cat "$WORK/pg/root")
pid=$(head -n 1 "$root/data/postmaster.pid")
check "the new postmaster runs" kill -0 "$pid"

run sh "$PGTMP" stop "$WORK/pg"
check "stop succeeds" status_is 0
check "stop leaves neither the postmaster nor its children" [ -z "$(server_procs "$pid")" ]
check "stop leaves no process using the server's folder" [ -z "$(procs_naming "$root")" ]
check "stop removes the server's folder" [ ! -e "$root" ]
check "stop removes the parameters folder" [ ! -e "$WORK/pg" ]
run sh "$PGTMP" stop "$WORK/pg"
check "stop with nothing to stop succeeds" status_is 0

# no PostgreSQL: a skip that says why, never a pass
run env PG_BINDIR=/nonexistent sh "$PGTMP" start "$WORK/none"
check "start without PostgreSQL exits 77" status_is 77
check "and says why" contains "$ERR" "initdb, pg_ctl and psql not found in /nonexistent"
check "and writes it where the tests look" \
    contains "$(cat "$WORK/none/unavailable")" "install Debian's postgresql package"
run sh "$PGTMP" env "$WORK/none"
check "env without a server exits 77" status_is 77
run sh "$PGTMP" stop "$WORK/none"
check "stop after a skip removes the folder" [ ! -e "$WORK/none" ]

# a failure half-way (psql cannot create the role): start fails, and stops what it started
mkdir -p "$WORK/bin" "$WORK/tmp"
chmod 755 "$WORK/bin" "$WORK/tmp"
ln -s "$bindir/initdb" "$bindir/pg_ctl" "$WORK/bin/"
printf '#!/bin/sh\necho "psql: broken on purpose" >&2\nexit 1\n' > "$WORK/bin/psql"
chmod 755 "$WORK/bin/psql"
run env PG_BINDIR="$WORK/bin" TMPDIR="$WORK/tmp" sh "$PGTMP" start "$WORK/broken"
check "a failing start fails (neither passes nor skips)" status_is 1
check "and says what failed" contains "$ERR" "psql: broken on purpose"
check "and leaves no process using its folder" [ -z "$(procs_naming "$WORK/tmp/")" ]
check "and removes the server's folder" [ -z "$(ls "$WORK/tmp")" ]
check "and removes the parameters folder" [ ! -e "$WORK/broken" ]

finish
