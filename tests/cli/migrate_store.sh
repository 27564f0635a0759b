# Tests of `outpost migrate-store --to pgsql CONF.json` on the tests' throw-away PostgreSQL
# server (the CTest fixture `pgserver`, OUTPOST_PG_DIR): a SQLite central with users, test
# centers and their staff, a delivery, eligibilities and results is moved to an empty
# database; every listing is the same afterwards, the row counts agree table by table, and
# the SQLite file is left as it was, a fallback that still works. Refused with nothing changed:
# a bad CONF.json, an unreachable server, a refused login, a database that is not empty, a
# device, an instance already on PostgreSQL. kill -9 at any moment leaves the SQLite instance
# working and the target either unused or refused until it is dropped and created again.
# Then the PostgreSQL backup and restore commands of docs/operations.md run as written.
# Skipped (77) when no server could be started.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fixtures/centers.sh"
: "${OUTPOST_PG_DIR:?OUTPOST_PG_DIR must name the pg_tmp.sh folder (run with ctest)}"
if [ -f "$OUTPOST_PG_DIR/unavailable" ]; then
    echo "skipped, no PostgreSQL server: $(cat "$OUTPOST_PG_DIR/unavailable")"
    exit 77
fi
eval "$(sh "$OUTPOST_SOURCE/tests/tools/pg_tmp.sh" env "$OUTPOST_PG_DIR")"
PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5n | tail -n 1)"
[ -n "$PGBIN" ] && PATH="$PGBIN:$PATH" # psql, pg_dump, pg_restore of the server's version
q() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -t -A -d "$1" -c "$2"; } # usage: q DATABASE SQL - one value
DB="outpost_ms_$$"
DATABASES=""
newdb() { # usage: newdb NAME - a new, empty database (dropped at the end)
    q outpost "DROP DATABASE IF EXISTS $1 WITH (FORCE)" && q outpost "CREATE DATABASE $1" ||
        { echo "FAIL: cannot create database $1"; exit 1; }
    DATABASES="$DATABASES $1"
}
cleanup() {
    for d in $DATABASES; do q outpost "DROP DATABASE IF EXISTS $d WITH (FORCE)"; done
    rm -rf "$WORK"
}
trap cleanup EXIT
conf() { # usage: conf FILE DBNAME [SED] - CONF.json for DBNAME, edited by SED
    sed -e "s|\"dbname\": \"outpost\"|\"dbname\": \"$2\"|" -e "${3:-}" "$OUTPOST_PG_DIR/persistence.json" > "$1"
}
# the SQLite database's content (not its bytes: a checkpoint may rewrite pages, never records)
dump() { sqlite3 "$1/outpost.db" .dump | sha256sum; }
fingerprint() { echo "$(dump "$1") $(sha256sum < "$1/outpost.json")"; }
TOOL="$BUILD_DIR/envelope_tool"

# ---- a central on SQLite with something in every table ----
C="$WORK/c"; D="$WORK/d"
new_instance "$C" central
new_instance "$D" device
{
    echo "Login,Password,First name,Label"
    i=0
    while [ $i -lt 300 ]; do printf 't%03d,pw-%03d,Zoë %d,Taker %d\n' $i $i $i $i; i=$((i + 1)); done
} > "$WORK/users.csv"
run "$OUTPOST" --data "$C" import-users -t test-taker -f "$WORK/users.csv"
check "(fixture) 300 test takers imported" status_is 0
add_user "$C" boss test-center-admin
add_user "$C" prof proctor
run_stdin "pw-sync" "$OUTPOST" --data "$C" users add --login sync --role sync-manager --org ORG-A
"$OUTPOST" --data "$C" testcenters add --label "Lycee Nord" --org ORG-A > /dev/null
"$OUTPOST" --data "$C" testcenters add --label "Annexe" --org ORG-A --parent "Lycee Nord" > /dev/null
"$OUTPOST" --data "$C" testcenters add --label "Sud" --org ORG-B > /dev/null
"$OUTPOST" --data "$C" testcenters assign "Lycee Nord" --admin boss > /dev/null
"$OUTPOST" --data "$C" testcenters assign "Lycee Nord" --proctor prof > /dev/null
sh "$OUTPOST_SOURCE/scripts/make-demo-package.sh" "$WORK/demo.zip"
run "$OUTPOST" --data "$C" import-qti -f "$WORK/demo.zip" --label "Maths"
check "(fixture) a delivery imported" status_is 0
run "$OUTPOST" --data "$C" eligibilities set --center "Lycee Nord" --delivery Maths --test-takers t001,t002,t003
check "(fixture) an eligibility set" status_is 0
run "$OUTPOST" --data "$C" eligibilities set --center Annexe --delivery Maths --test-takers t004 --proctored no
"$TOOL" enrol "$C" "$D" > /dev/null || { echo "FAIL: enrol"; exit 1; }
printf '{"score": 1}' > "$WORK/p1.json"
"$TOOL" seal "$D" "$C" "$WORK/batch.bin" "$WORK/p1.json" finished > /dev/null
"$TOOL" seal "$D" "$C" "$WORK/batch.bin" "$WORK/p1.json" terminated > /dev/null
run "$OUTPOST" --data "$C" results import -f "$WORK/batch.bin"
check "(fixture) two results imported" contains "$OUT" "2 stored"
run "$OUTPOST" --data "$C" keys rotate
"$TOOL" seal "$D" "$C" "$WORK/late.bin" "$WORK/p1.json" finished > /dev/null
"$OUTPOST" --data "$C" results import -f "$WORK/late.bin" > /dev/null
run "$OUTPOST" --data "$C" decrypt-results --all
check "(fixture) results decrypted" status_is 0

LISTINGS="users testcenters eligibilities deliveries results"
listings() { # usage: listings DIR TAG - every list command's JSON into $WORK/TAG.*
    for cmd in $LISTINGS; do "$OUTPOST" --data "$1" $cmd list --json > "$WORK/$2.$cmd" 2>&1; done
    "$OUTPOST" --data "$1" results quarantine --json > "$WORK/$2.quarantine" 2>&1
    "$OUTPOST" --data "$1" keys show --json > "$WORK/$2.keys" 2>&1
}
listings "$C" before
check "(the listings hold the fixtures)" grep -q t299 "$WORK/before.users"
check "(and the results)" grep -q decrypted "$WORK/before.results"
cp -a "$C" "$WORK/pristine" # for the kill -9 runs below
BEFORE=$(fingerprint "$C")
untouched() { [ "$(fingerprint "$C")" = "$BEFORE" ] && [ ! -e "$C/outpost.json.sqlite" ]; }

# ---- refused, with nothing changed ----
newdb "$DB"
conf "$WORK/pg.json" "$DB"
run "$OUTPOST" --data "$C" migrate-store "$WORK/pg.json"
check "without --to: a usage error" status_is 2
run "$OUTPOST" --data "$C" migrate-store --to mysql "$WORK/pg.json"
check "--to other than pgsql: a usage error" status_is 2
printf '{"driver": "pgsql", "host": ' > "$WORK/broken.json"
run "$OUTPOST" --data "$C" migrate-store --to pgsql "$WORK/broken.json"
check "a malformed CONF.json is refused" status_is 1
check "naming the file" contains "$ERR" "$WORK/broken.json line 1"
printf '{"driver": "sqlite", "path": "x.db"}' > "$WORK/sqlite.json"
run "$OUTPOST" --data "$C" migrate-store --to pgsql "$WORK/sqlite.json"
check "a CONF.json of another driver is refused" contains "$ERR" 'driver: must be "pgsql"'
conf "$WORK/pw.json" "$DB" 's|"user"|"password": "hunter2", "user"|'
run "$OUTPOST" --data "$C" migrate-store --to pgsql "$WORK/pw.json"
check "a password written in CONF.json is refused" contains "$ERR" "never written in the configuration"
conf "$WORK/nodb.json" "$DB" 's|"dbname": "[^"]*", ||'
run "$OUTPOST" --data "$C" migrate-store --to pgsql "$WORK/nodb.json"
check "a CONF.json without dbname is refused" status_is 1
check "naming the key" contains "$ERR" "dbname"
conf "$WORK/down.json" "$DB" 's|"host": "[^"]*"|"host": "127.0.0.1"|; s|"port": [0-9]*|"port": 1|'
run "$OUTPOST" --data "$C" migrate-store --to pgsql "$WORK/down.json"
check "an unreachable server is refused" status_is 1
check "saying so" contains "$ERR" "cannot reach the PostgreSQL server"
printf 'not-the-password\n' > "$WORK/wrong-pw"
chmod 600 "$WORK/wrong-pw"
conf "$WORK/wrongpw.json" "$DB" "s|\"password-file\": \"[^\"]*\"|\"password-file\": \"$WORK/wrong-pw\"|"
run "$OUTPOST" --data "$C" migrate-store --to pgsql "$WORK/wrongpw.json"
check "a refused login is refused" contains "$ERR" "PostgreSQL refused the login"
newdb "${DB}_other"
q "${DB}_other" "CREATE TABLE their_table (x integer)"
conf "$WORK/other.json" "${DB}_other"
run "$OUTPOST" --data "$C" migrate-store --to pgsql "$WORK/other.json"
check "another application's database is refused" status_is 1
check "saying it is not empty and not Outpost's" contains "$ERR" "not empty and holds no Outpost schema"
check "their table is untouched and alone" [ "$(q "${DB}_other" "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")" = 1 ]
run "$OUTPOST" --data "$D" migrate-store --to pgsql "$WORK/pg.json"
check "a device is refused" status_is 1
check "saying only a central moves" contains "$ERR" "only a central moves to PostgreSQL"
check "nothing was created in the target by any refusal" [ "$(q "$DB" "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")" = 0 ]
check "the SQLite instance is untouched by every refusal" untouched
run "$OUTPOST" --data "$C" users list
check "and works" contains "$OUT" t299

# a writer holding the SQLite database: migrate-store waits, then says busy and changes nothing.
# The writer holds the lock from before migrate-store starts until after it ended (fed through
# a FIFO): a fixed hold of 12 s, half a second before, was a race with the 10 s busy timeout
# when either command started late on a loaded machine.
mkfifo "$WORK/hold"
sqlite3 "$C/outpost.db" < "$WORK/hold" > /dev/null 2>&1 &
holder=$!
exec 4> "$WORK/hold"
echo "BEGIN IMMEDIATE;" >&4
i=0 # held once another writer is refused at once
while sqlite3 -cmd '.timeout 0' "$C/outpost.db" "BEGIN IMMEDIATE; ROLLBACK;" > /dev/null 2>&1 && [ $i -lt 100 ]; do
    sleep 0.1; i=$((i + 1))
done
run "$OUTPOST" --data "$C" migrate-store --to pgsql "$WORK/pg.json"
echo "ROLLBACK;" >&4
exec 4>&-
wait $holder
check "a source another command is writing to is refused" status_is 1
check "as busy, try again" contains "$ERR" "try again"
check "the target is still empty" [ "$(q "$DB" "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")" = 0 ]
check "the SQLite instance is untouched" untouched

# ---- the move ----
t0=$(date +%s%N)
run "$OUTPOST" --data "$C" migrate-store --to pgsql "$WORK/pg.json" --json
MOVE_MS=$((($(date +%s%N) - t0) / 1000000)) # how long a whole move takes here: kills below
check "migrate-store moves the central" status_is 0
printf '%s' "$OUT" > "$WORK/report.json"
check "it reports the SQLite file kept as the fallback" contains "$OUT" "\"sqlite_fallback\": \"$C/outpost.db\""
check "and the old outpost.json kept" contains "$OUT" "\"kept_config\": \"$C/outpost.json.sqlite\""
check "outpost.json now names PostgreSQL" grep -q '"driver": "pgsql"' "$C/outpost.json"
check "the old outpost.json is kept as it was" sh -c "[ \"\$(sha256sum < '$C/outpost.json.sqlite')\" = \"\$(sha256sum < '$WORK/pristine/outpost.json')\" ]"
check "the kept copy is private" [ "$(stat -c %a "$C/outpost.json.sqlite")" = 600 ]
check "the SQLite database holds the same records as before" [ "$(dump "$C")" = "$(dump "$WORK/pristine")" ]
tables=$(sqlite3 :memory: "SELECT json_extract(value, '\$.table') FROM json_each(readfile('$WORK/report.json'), '\$.tables')")
ntables=$(sqlite3 "$C/outpost.db" "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
check "(the report lists every table of the schema: $ntables)" [ "$(echo "$tables" | wc -l)" = "$ntables" ]
for t in $tables; do
    want=$(sqlite3 "$C/outpost.db" "SELECT count(*) FROM $t")
    got=$(q "$DB" "SELECT count(*) FROM $t")
    same=$(sqlite3 :memory: "SELECT count(*) FROM json_each(readfile('$WORK/report.json'), '\$.tables') WHERE json_extract(value, '\$.table') = '$t' AND json_extract(value, '\$.source_rows') = $want AND json_extract(value, '\$.target_rows') = $want AND json_extract(value, '\$.source_sha256') = json_extract(value, '\$.target_sha256')")
    check "table $t: $want rows in SQLite, $got in PostgreSQL, the report agrees with equal hashes" [ "$want" = "$got" -a "$same" = 1 ]
done
check "(users were moved, not only seeded)" [ "$(q "$DB" "SELECT count(*) FROM users")" -gt 300 ]
listings "$C" after
for l in $LISTINGS quarantine keys; do
    check "$l lists the same after the move" cmp -s "$WORK/before.$l" "$WORK/after.$l"
done
run "$OUTPOST" --data "$C" results show "$(sqlite3 "$C/outpost.db" "SELECT id FROM results ORDER BY id LIMIT 1")"
check "a decrypted result shows from PostgreSQL" contains "$OUT" '"score"'
run_stdin "pw-new" "$OUTPOST" --data "$C" users add --login newcomer --role test-taker
check "the moved central takes new records" status_is 0
check "into PostgreSQL" [ "$(q "$DB" "SELECT count(*) FROM users WHERE login = 'newcomer'")" = 1 ]
check "not into the SQLite file" [ "$(sqlite3 "$C/outpost.db" "SELECT count(*) FROM users WHERE login = 'newcomer'")" = 0 ]
run "$OUTPOST" --data "$C" migrate-store --to pgsql "$WORK/pg.json"
check "an instance already on PostgreSQL is refused" status_is 1
check "saying so" contains "$ERR" "already keeps its records in PostgreSQL"

# another SQLite central into the database that now holds this one: refused, with the remedy
C2="$WORK/c2"
new_instance "$C2" central
run "$OUTPOST" --data "$C2" migrate-store --to pgsql "$WORK/pg.json"
check "a database that holds an instance is refused" contains "$ERR" "already holds an Outpost instance"
check "with the remedy: drop and create it again" contains "$ERR" "dropdb NAME && createdb -O ROLE NAME"
check "which is not taken over" [ "$(q "$DB" "SELECT count(*) FROM users")" = $(($(sqlite3 "$C/outpost.db" "SELECT count(*) FROM users") + 1)) ]

# the fallback of docs/operations.md: the old outpost.json back in place
cp -a "$C" "$WORK/back"
mv "$WORK/back/outpost.json.sqlite" "$WORK/back/outpost.json"
listings "$WORK/back" fallback
check "the fallback instance lists what it held before the move" cmp -s "$WORK/before.users" "$WORK/fallback.users"

# ---- kill -9 at any moment ----
# Whatever step the kill hits, the SQLite instance keeps its records and works; the target is
# either unused (a new run succeeds) or refused with the remedy (dropped and created again, a
# new run succeeds); or the switch was done and the instance works on PostgreSQL. The kills
# fall at fractions of the time the move above took, so that they land in every step on a
# fast build as on a slow one.
n=0
for percent in 5 20 35 50 65 80 95; do
    n=$((n + 1))
    delay=$(awk -v ms=$MOVE_MS -v p=$percent 'BEGIN { printf "%.3f", ms * p / 100000 }')
    K="$WORK/k$n"
    cp -a "$WORK/pristine" "$K"
    newdb "${DB}_k$n"
    conf "$WORK/k.json" "${DB}_k$n"
    "$OUTPOST" --data "$K" migrate-store --to pgsql "$WORK/k.json" > /dev/null 2>&1 &
    pid=$!
    sleep $delay
    kill -9 $pid 2> /dev/null
    wait $pid 2> /dev/null
    check "kill after ${delay}s: the SQLite database holds the same records" [ "$(dump "$K")" = "$(dump "$WORK/pristine")" ]
    run "$OUTPOST" --data "$K" users list --json
    check "kill after ${delay}s: the instance works" cmp -s "$WORK/before.users" "$WORK/out"
    if grep -q '"driver": "pgsql"' "$K/outpost.json"; then
        echo "     (killed after the switch)"
        continue
    fi
    run "$OUTPOST" --data "$K" migrate-store --to pgsql "$WORK/k.json"
    if [ "$RC" != 0 ]; then
        echo "     (killed with the target in use; users in it: $(q "${DB}_k$n" "SELECT count(*) FROM users" 2>&1))"
        check "kill after ${delay}s: a new run is refused with the remedy" contains "$ERR" "drop the database and create it again"
        check "kill after ${delay}s: and leaves the SQLite instance as it was" [ "$(sha256sum < "$K/outpost.json")" = "$(sha256sum < "$WORK/pristine/outpost.json")" ]
        newdb "${DB}_k$n"
        run "$OUTPOST" --data "$K" migrate-store --to pgsql "$WORK/k.json"
    else
        echo "     (killed before the target was used)"
    fi
    check "kill after ${delay}s: then the move succeeds" status_is 0
    run "$OUTPOST" --data "$K" users list --json
    check "kill after ${delay}s: and lists the same users from PostgreSQL" cmp -s "$WORK/before.users" "$WORK/out"
done

# ---- the PostgreSQL backup and restore of docs/operations.md, as written ----
DOC="$OUTPOST_SOURCE/docs/operations.md"
commands() { # usage: commands MARKER - the indented lines after <!-- MARKER -->, for this test
    awk -v m="<!-- $1 -->" '$0 == m { on = 1; next } on && /^    / { print substr($0, 5); seen = 1; next } on && seen { exit }' "$DOC" |
        sed -e "s|PASSWORD_FILE|$OUTPOST_PG_DIR/password|g" -e "s|HOST|$PGHOST|g" -e "s|PORT|$PGPORT|g" \
            -e "s|ROLE|$PGUSER|g" -e "s|DBNAME|$DB|g" -e "s|DIR|$C|g" -e "s|/backup|$WORK/backup|g"
}
commands pg-backup-commands > "$WORK/pg-backup.sh"
commands pg-restore-commands | sed "s|$C|$WORK/restored|g" > "$WORK/pg-restore.sh"
check "operations.md has the PostgreSQL backup commands" grep -q pg_dump "$WORK/pg-backup.sh"
check "operations.md has the PostgreSQL restore commands" grep -q pg_restore "$WORK/pg-restore.sh"
mkdir -p "$WORK/backup"
run sh -c "umask 022; . '$WORK/pg-backup.sh'"
check "the documented PostgreSQL backup runs" status_is 0
B=$(find "$WORK/backup" -mindepth 1 -maxdepth 1 -type d | head -1)
others=$(find "$B" -perm /077 | wc -l)
check "nothing in the backup is open to group or others" [ -n "$B" -a "$others" = 0 ]
listings "$C" dumped
# the disaster: the database is lost, and so is the data folder
q outpost "DROP DATABASE $DB WITH (FORCE)"
q outpost "CREATE DATABASE $DB"
mv "$C" "$WORK/lost"
run sh -c "umask 022; B='$B'; . '$WORK/pg-restore.sh'"
check "the documented PostgreSQL restore runs" status_is 0
listings "$WORK/restored" restored
for l in $LISTINGS quarantine keys; do
    check "$l lists the same after the restore" cmp -s "$WORK/dumped.$l" "$WORK/restored.$l"
done
run_stdin "pw-after" "$OUTPOST" --data "$WORK/restored" users add --login after-restore --role test-taker
check "the restored central takes new records" status_is 0
run_stdin "pw-newcomer-2" "$OUTPOST" --data "$WORK/restored" users passwd newcomer
check "its master key opens the escrow copies" status_is 0

finish
