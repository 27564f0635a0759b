# Tests of `outpost setup` with "driver": "pgsql" on the tests' throw-away PostgreSQL server
# (the CTest fixture `pgserver`, OUTPOST_PG_DIR): a central is set up on an empty database and
# the next commands use it; the database password is in no file of the instance and in no
# output; a database already holding an instance, or another application's tables, is
# refused. Skipped (77) when no server could be started.
. "$(dirname "$0")/lib.sh"
pg_server_init
q() { pg_q "$@"; } # usage: q DATABASE SQL - one value
DB="outpost_cli_$$"
q outpost "CREATE DATABASE $DB" || { echo "FAIL: cannot create database $DB"; exit 1; }
trap 'q outpost "DROP DATABASE IF EXISTS $DB WITH (FORCE)"; q outpost "DROP DATABASE IF EXISTS ${DB}_other WITH (FORCE)"; rm -rf "$WORK"' EXIT

# setup.json with the server's persistence, naming the new database
persistence=$(sed "s|\"dbname\": \"outpost\"|\"dbname\": \"$DB\"|" "$OUTPOST_PG_DIR/persistence.json")
write_setup "$WORK/sqlite.json" central
awk -v p="$persistence" '{ sub(/\{"driver": "sqlite", "path": "outpost.db"\}/, p); print }' \
    "$WORK/sqlite.json" > "$WORK/pg.json"
chmod 600 "$WORK/pg.json"
check "(the setup file names the pgsql driver)" contains "$(cat "$WORK/pg.json")" '"driver": "pgsql"'

run "$OUTPOST" --data "$WORK/c" setup "$WORK/pg.json"
check "setup creates a central on an empty PostgreSQL database" status_is 0
check "setup prints the role" contains "$OUT" "central"
check "no database file is made in the data folder" [ ! -e "$WORK/c/outpost.db" ]
check "the schema is in the database" [ "$(q "$DB" 'SELECT max(version) > 0 FROM schema_migrations')" = t ]
check "the super-user is in the database" [ "$(q "$DB" "SELECT role FROM users WHERE login = 'admin'")" = super-user ]
password=$(cat "$OUTPOST_PG_DIR/password")
check "the instance keeps the password file's name, not the password" \
    sh -c "! grep -r -q -F -- \"\$1\" \"\$2\"" - "$password" "$WORK/c"
check "setup's output shows no database password" sh -c "! printf '%s' \"\$1\" | grep -q -F -- \"\$2\"" - "$OUT$ERR" "$password"

run_stdin "secret-pw-1" "$OUTPOST" --data "$WORK/c" users add --login alice --role test-taker --first-name Alice
check "users add works on PostgreSQL" status_is 0
run "$OUTPOST" --data "$WORK/c" users list --json
check "users list works on PostgreSQL" status_is 0
check "it lists the new user" contains "$OUT" '"alice"'
check "and the super-user" contains "$OUT" '"admin"'
run_stdin "secret-pw-2" "$OUTPOST" --data "$WORK/c" users add --login alice --role test-taker
check "a second alice is refused" status_is 1
check "with the same message as on SQLite, not a raw database one" contains "$ERR" 'login "alice" already exists'
check "alice is there once" [ "$(q "$DB" "SELECT count(*) FROM users WHERE login = 'alice'")" = 1 ]

run "$OUTPOST" --data "$WORK/c2" setup "$WORK/pg.json"
check "setup on a database that already holds an instance is refused" status_is 1
check "the refusal says so" contains "$ERR" "already holds an Outpost instance"
check "and leaves no instance folder" [ ! -e "$WORK/c2" ]

q outpost "CREATE DATABASE ${DB}_other"
q "${DB}_other" "CREATE TABLE their_table (x integer)"
sed "s|\"dbname\": \"$DB\"|\"dbname\": \"${DB}_other\"|" "$WORK/pg.json" > "$WORK/other.json"
chmod 600 "$WORK/other.json"
run "$OUTPOST" --data "$WORK/c3" setup "$WORK/other.json"
check "setup on another application's database is refused" status_is 1
check "the refusal says it is not empty and not Outpost's" contains "$ERR" "not empty and holds no Outpost schema"
check "their table is untouched and alone" [ "$(q "${DB}_other" "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")" = 1 ]

finish
