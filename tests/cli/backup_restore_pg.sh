# `outpost backup` and `outpost restore` of a central on PostgreSQL (app/backup.h): pg_dump
# takes the snapshot while another command keeps adding users, with the connection of the
# instance's settings and the password in a private password file (never on a command line);
# the archive is private, and restores into an empty folder and an empty database with every
# user, delivery and result found again; a database that is not empty, an archive changed
# after the backup, and a restored database without its keys are refused, the database left
# empty again. Runs as pg/cli/backup_restore_pg (the SQLite run skips: cli/backup_restore).
. "$(dirname "$0")/lib.sh"
if ! on_pgsql; then
    echo "skipped: the PostgreSQL run of this test is pg/cli/backup_restore_pg"
    exit 77
fi
TOOL="$BUILD_DIR/envelope_tool"
C="$WORK/c"; D="$WORK/d"
new_instance "$C" central
DB=$PG_DB
new_instance "$D" device
"$TOOL" enrol "$C" "$D" > /dev/null || { echo "FAIL: enrol"; exit 1; }
run_stdin "pw-eve-1" "$OUTPOST" --data "$C" users add --login eve --role test-taker
sh "$OUTPOST_SOURCE/scripts/make-demo-package.sh" "$WORK/demo.zip"
"$OUTPOST" --data "$C" import-qti -f "$WORK/demo.zip" --label "Maths" > /dev/null 2>&1
"$OUTPOST" --data "$C" import-qti -f "$WORK/demo.zip" --label "Physics" > /dev/null 2>&1
printf '{"score": 1}' > "$WORK/p1.json"
for i in 1 2 3; do "$TOOL" seal "$D" "$C" "$WORK/results.bin" "$WORK/p1.json" > /dev/null; done
"$OUTPOST" --data "$C" results import -f "$WORK/results.bin" > /dev/null
"$OUTPOST" --data "$C" decrypt-results --all > /dev/null
check "(three results on central)" [ "$(sql "$C" "SELECT count(*) FROM results")" = 3 ]

# a writer adds w1, w2, ... while the backup runs (lib.sh)
start_writer "$C"
check "the writer writes" [ "$WRITTEN_BEFORE" -ge 5 ]
BEFORE=$WRITTEN_BEFORE
# pg_dump's command line, seen from outside while it runs, must not hold the password
(while [ ! -f "$WORK/stop" ]; do ps -eo args | grep '[p]g_dump' >> "$WORK/ps.txt"; sleep 0.05; done) &
WATCH=$!
(umask 022 && "$OUTPOST" --data "$C" backup --to "$WORK/b.zip" > "$WORK/out" 2> "$WORK/err")
RC=$?; OUT=$(cat "$WORK/out"); ERR=$(cat "$WORK/err")
stop_writer; touch "$WORK/stop"; wait "$WATCH"
check "backup of a PostgreSQL central while another command writes succeeds" status_is 0
check "and every command of the writer succeeded meanwhile" [ "$WRITER_STATUS" = 0 ]
check "it says where and what" contains "$OUT" "backup written to $WORK/b.zip (mode 600)"
check "the archive is private even under umask 022" [ "$(stat -c %a "$WORK/b.zip")" = 600 ]
check "no temporary file is left beside it" [ "$(ls -A "$WORK" | grep -c '^\.outpost-backup')" = 0 ]
check "it holds the manifest, the dump, outpost.json, the keys and the packages" \
    sh -c "unzip -l '$WORK/b.zip' | grep -q outpost-backup.json && unzip -l '$WORK/b.zip' | grep -q ' outpost.pgdump' && unzip -l '$WORK/b.zip' | grep -q ' outpost.json' && unzip -l '$WORK/b.zip' | grep -q keys/master.key && unzip -l '$WORK/b.zip' | grep -q packages/"
check "its manifest says pgsql" sh -c "unzip -p '$WORK/b.zip' outpost-backup.json | grep -q '\"backend\": \"pgsql\"'"
password=$(cat "$OUTPOST_PG_DIR/password")
check "the archive holds no database password" sh -c "! unzip -p '$WORK/b.zip' | grep -a -q -F -- \"\$1\"" - "$password"
check "pg_dump's command line never held the password" sh -c "! grep -q -F -- \"\$1\" '$WORK/ps.txt'" - "$password"
USERS=$(sql "$C" "SELECT count(*) FROM users")
KEYS=$("$OUTPOST" --data "$C" keys show --json)

# without pg_dump: said plainly, nothing written
run env PATH=/nonexistent "$OUTPOST" --data "$C" backup --to "$WORK/nodump.zip"
check "a backup without pg_dump installed fails" status_is 1
check "saying what to install" contains "$ERR" "cannot run pg_dump"
check "and writes nothing" [ ! -e "$WORK/nodump.zip" ]

# restore: the damaged database is dropped and made again, empty; the folder moved away
mv "$C" "$WORK/c.damaged"
pg_q outpost "DROP DATABASE \"$DB\" WITH (FORCE)"
pg_q outpost "CREATE DATABASE \"$DB\""
run "$OUTPOST" --data "$C" restore "$WORK/b.zip"
check "restore into an empty folder and an empty database succeeds" status_is 0
check "it says everything was checked" contains "$OUT" "every file matched its SHA-256"
check "no dump is left in the folder" [ ! -e "$C/outpost.pgdump" ]
check "nor a temporary folder" [ "$(ls -A "$C" | grep -c '^\.outpost')" = 0 ]
run "$OUTPOST" --data "$C" users list --json
LOGINS=$(printf '%s' "$OUT" | tr -d ' ' | grep -o '"login":"w[0-9]*"' | sed 's/.*"w\([0-9]*\)"/\1/' | sort -n)
N=$(printf '%s\n' "$LOGINS" | grep -c .)
check "every user written before the backup began is restored" [ "$N" -ge "$BEFORE" ]
check "the writer's users are one prefix: one snapshot" [ "$(printf '%s\n' "$LOGINS" | tail -1)" = "$N" ]
check "and eve, and the super-user" sh -c 'printf "%s" "$1" | grep -q "\"eve\"" && printf "%s" "$1" | grep -q "\"admin\""' - "$OUT"
check "as many users as when the backup ended, or fewer (the writer went on)" [ "$(sql "$C" "SELECT count(*) FROM users")" -le "$USERS" ]
run "$OUTPOST" --data "$C" deliveries list
check "both deliveries are restored" sh -c 'printf "%s" "$1" | grep -q Maths && printf "%s" "$1" | grep -q Physics' - "$OUT"
run "$OUTPOST" --data "$C" results list --json
check "every result is restored, decrypted" [ "$(printf '%s' "$OUT" | grep -c '"status": "decrypted"')" = 3 ]
check "the keys are the same" [ "$("$OUTPOST" --data "$C" keys show --json)" = "$KEYS" ]
run "$OUTPOST" --data "$C" results show "$(sql "$C" "SELECT id FROM results ORDER BY id LIMIT 1")"
check "a restored result still decrypts with the restored keys" contains "$OUT" '"score": 1'

# refusals
run "$OUTPOST" --data "$WORK/r1" restore "$WORK/b.zip"
check "a restore into a database that is not empty is refused" status_is 1
check "saying what to do" contains "$ERR" "is not empty"
check "and the folder it made is gone" [ ! -e "$WORK/r1" ]
check "and the database keeps its records" [ "$(sql "$C" "SELECT count(*) FROM users WHERE login = 'eve'")" = 1 ]

mkdir "$WORK/t" && (cd "$WORK/t" && unzip -q "$WORK/b.zip" outpost.pgdump && printf 'x' >> outpost.pgdump)
cp "$WORK/b.zip" "$WORK/t.zip" && (cd "$WORK/t" && zip -q "$WORK/t.zip" outpost.pgdump)
pg_q outpost "DROP DATABASE \"$DB\" WITH (FORCE)"
pg_q outpost "CREATE DATABASE \"$DB\""
run "$OUTPOST" --data "$WORK/r2" restore "$WORK/t.zip"
check "a changed dump is refused" status_is 1
check "naming it" contains "$ERR" "outpost.pgdump: larger in the archive than its manifest says"
check "and the database is left empty" [ "$(pg_q "$DB" "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()")" = 0 ]

# an archive without the master key: refused after pg_restore, the database emptied again
mkdir "$WORK/nk" && (cd "$WORK/nk" && unzip -q "$WORK/b.zip")
rm "$WORK/nk/keys/master.key"
(cd "$WORK/nk" && jq '.files |= map(select(.name != "keys/master.key"))' outpost-backup.json > m.json &&
    mv m.json outpost-backup.json && zip -q -r -D "$WORK/nk.zip" .)
run "$OUTPOST" --data "$WORK/r3" restore "$WORK/nk.zip"
check "an archive whose data names a key it lacks is refused" status_is 1
check "naming the key" contains "$ERR" "master"
check "and the database is empty again" [ "$(pg_q "$DB" "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()")" = 0 ]
check "and the folder is gone" [ ! -e "$WORK/r3" ]
finish
