#!/bin/sh
# pg_tmp.sh - a throw-away PostgreSQL server for the tests.
#
#   sh tests/tools/pg_tmp.sh start DIR   start a server, write its connection parameters in DIR
#   sh tests/tools/pg_tmp.sh env DIR     print PG* variables for psql: eval "$(... env DIR)"
#   sh tests/tools/pg_tmp.sh stop DIR    stop the server, remove its folder and DIR
#
# `start` runs initdb and pg_ctl from Debian's `postgresql` package (the newest
# /usr/lib/postgresql/*/bin, or $PG_BINDIR) in a new folder under ${TMPDIR:-/tmp} (short, so
# the Unix socket path fits, and reachable by the `postgres` user, which a build tree may not
# be). The server listens on 127.0.0.1 and on a socket in that folder, on a free port, and
# asks every client for a password (scram-sha-256, also on the socket). It has one database
# and one role, both `outpost`; the role may create databases (for tests that need a fresh
# one). initdb refuses to run as root: as root the server runs as the `postgres` system user,
# which owns its folder; otherwise it runs as the current user.
#
# DIR (created by `start`, removed by `stop`) then holds:
#   persistence.json  {"driver": "pgsql", "host", "port", "dbname", "user", "password-file"},
#                     the shape of setup.json's persistences.default
#   password          the role's password, alone (what "password-file" names)
#   pgpass, env       a libpq password file and the PG* variables `env` prints
#   root              the server's folder (data/, the socket, server.log)
# or, when no server can be started here, only
#   unavailable       why, in one line; `start` then exits 77 (a skipped test for CTest) and
#                     the tests that need the server must exit 77 too, never pass.
#
# `start` on a DIR that already holds a server (a run that never reached `stop`) stops that
# one first. Whatever fails during `start` stops what it started and removes its folder.
set -eu

usage() {
    echo "usage: pg_tmp.sh start|env|stop DIR" >&2
    exit 2
}
[ $# = 2 ] || usage
cmd=$1
dir=$2

say() { echo "pg_tmp: $*" >&2; }

# Skips: says why, in DIR/unavailable and on stderr, and exits 77.
unavailable() {
    say "no PostgreSQL server for the tests: $*"
    mkdir -p "$dir"
    echo "$*" > "$dir/unavailable"
    exit 77
}

# as_server CMD...: runs CMD as the user the server runs as, in the server's folder (the
# caller's working directory may be closed to that user).
as_server() {
    if [ "$(id -u)" = 0 ]; then
        if command -v runuser > /dev/null 2>&1; then
            (cd "$root" && runuser -u postgres -- "$@")
        else
            (cd "$root" && setpriv --reuid=postgres --regid=postgres --init-groups -- "$@")
        fi
    else
        (cd "$root" && "$@")
    fi
}

find_bindir() {
    if [ -n "${PG_BINDIR:-}" ]; then
        bindir=$PG_BINDIR
    else
        # the newest version installed: /usr/lib/postgresql/15/bin, ...
        bindir=$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -t/ -k5,5n | tail -n 1)
    fi
    for tool in initdb pg_ctl psql; do
        [ -x "$bindir/$tool" ] || return 1
    done
}

# A random port in 20000..59999 that nothing listens on yet (on TCP, IPv4 or IPv6). Another
# process may still take it before the server does: start_server then tries another.
pick_port() {
    while :; do
        n=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
        port=$((20000 + n % 40000))
        hex=$(printf '%04X' "$port")
        if ! cat /proc/net/tcp /proc/net/tcp6 2> /dev/null |
            awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }'; then
            return 0
        fi
    done
}

# Stops the server whose folder is $1 (if it runs) and removes the folder.
stop_root() {
    root=$1
    [ -n "$root" ] && [ -d "$root" ] || return 0
    pidfile=$root/data/postmaster.pid
    if [ -f "$pidfile" ]; then
        pid=$(head -n 1 "$pidfile")
        if find_bindir; then
            as_server "$bindir/pg_ctl" -D "$root/data" -m fast -w -t 30 stop > /dev/null 2>&1 ||
                as_server "$bindir/pg_ctl" -D "$root/data" -m immediate -w -t 10 stop > /dev/null 2>&1 ||
                true
        fi
        # Last resort: the postmaster this script started, by its id; its children end with it.
        if [ -n "$pid" ] && kill -0 "$pid" 2> /dev/null; then
            kill -9 "$pid" 2> /dev/null || true
            i=0
            while kill -0 "$pid" 2> /dev/null && [ $i -lt 50 ]; do
                sleep 0.1
                i=$((i + 1))
            done
        fi
    fi
    rm -rf "$root"
}

do_stop() {
    if [ -f "$dir/root" ]; then
        stop_root "$(cat "$dir/root")"
    fi
    rm -rf "$dir"
}

do_start() {
    do_stop # a server left by a run that never reached stop
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd) # persistence.json names files in it for any working directory

    find_bindir || unavailable "initdb, pg_ctl and psql not found in ${bindir:-/usr/lib/postgresql/*/bin} (install Debian's postgresql package: sh scripts/install-deps.sh)"
    if [ "$(id -u)" = 0 ] && ! id postgres > /dev/null 2>&1; then
        unavailable "running as root, and there is no 'postgres' system user to run the server as (initdb refuses root; install Debian's postgresql package)"
    fi

    root=$(mktemp -d "${TMPDIR:-/tmp}/outpost-pg.XXXXXX")
    # From here on, a failure stops the server and removes both folders.
    trap 'rc=$?; if [ $rc != 0 ] && [ $rc != 77 ]; then stop_root "$root"; rm -rf "$dir"; fi' EXIT
    trap 'exit 1' INT TERM HUP
    echo "$root" > "$dir/root"
    chmod 700 "$root"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$root"; fi

    umask 077
    admin_pw=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    user_pw=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    printf '%s\n' "$admin_pw" > "$root/admin-password"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$root/admin-password"; fi

    if ! as_server "$bindir/initdb" -D "$root/data" -U postgres --pwfile="$root/admin-password" \
        --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --no-locale --no-sync \
        > "$root/initdb.log" 2>&1; then
        say "initdb failed:"
        cat "$root/initdb.log" >&2
        exit 1
    fi
    cat >> "$root/data/postgresql.conf" << CONF
# pg_tmp.sh: a throw-away server for tests
listen_addresses = '127.0.0.1'
unix_socket_directories = '$root'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 16MB
max_connections = 50
password_encryption = 'scram-sha-256'
CONF

    tries=0
    while :; do
        pick_port
        if as_server "$bindir/pg_ctl" -D "$root/data" -l "$root/server.log" -o "-p $port" \
            -w -t 60 start > /dev/null 2>&1; then
            break
        fi
        tries=$((tries + 1))
        if grep -q "could not bind\|could not create any TCP/IP sockets\|already in use" \
            "$root/server.log" 2> /dev/null && [ $tries -lt 10 ]; then
            : > "$root/server.log"
            continue
        fi
        say "the server did not start:"
        cat "$root/server.log" >&2 || true
        exit 1
    done

    if ! PGPASSWORD=$admin_pw "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$root" -p "$port" \
        -U postgres -d postgres > "$root/psql.log" 2>&1 << SQL; then
CREATE ROLE outpost LOGIN CREATEDB PASSWORD '$user_pw';
GRANT pg_signal_backend TO outpost;
CREATE DATABASE outpost OWNER outpost;
SQL
        say "creating the role and database failed:"
        cat "$root/psql.log" >&2
        exit 1
    fi

    printf '%s\n' "$user_pw" > "$dir/password"
    printf '127.0.0.1:%s:*:outpost:%s\n' "$port" "$user_pw" > "$dir/pgpass"
    cat > "$dir/env" << ENV
PGHOST=127.0.0.1
PGPORT=$port
PGDATABASE=outpost
PGUSER=outpost
PGPASSFILE=$dir/pgpass
export PGHOST PGPORT PGDATABASE PGUSER PGPASSFILE
ENV
    cat > "$dir/persistence.json" << JSON
{"driver": "pgsql", "host": "127.0.0.1", "port": $port, "dbname": "outpost", "user": "outpost", "password-file": "$dir/password"}
JSON
    say "PostgreSQL $("$bindir/pg_ctl" --version | sed "s/.*(PostgreSQL) \([^ ]*\).*/\1/") on 127.0.0.1:$port (folder $root)"
}

case $cmd in
start)
    do_start
    ;;
stop)
    do_stop
    ;;
env)
    if [ -f "$dir/unavailable" ]; then
        say "no server: $(cat "$dir/unavailable")"
        exit 77
    fi
    [ -f "$dir/env" ] || {
        say "no server in $dir (run: pg_tmp.sh start $dir)"
        exit 1
    }
    cat "$dir/env"
    ;;
*)
    usage
    ;;
esac
