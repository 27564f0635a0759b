# `outpost backup --to FILE` and `outpost restore FILE` (app/backup.h): one private archive
# taken while another command keeps writing, restored into an empty folder with nothing lost
# (every user committed before the backup began is there, and the users are a prefix of the
# writer's sequence: one snapshot); every refusal leaves the target folder as it was.
. "$(dirname "$0")/lib.sh"
C="$WORK/c"
new_instance "$C" central
run_stdin "pw-eve-1" "$OUTPOST" --data "$C" users add --login eve --role test-taker
sh "$OUTPOST_SOURCE/scripts/make-demo-package.sh" "$WORK/demo.zip"
"$OUTPOST" --data "$C" import-qti -f "$WORK/demo.zip" --label "Maths" > /dev/null 2>&1

# a writer adds w1, w2, ... one after the other while the backup runs (lib.sh)
start_writer "$C"
check "the writer writes" [ "$WRITTEN_BEFORE" -ge 5 ]
BEFORE=$WRITTEN_BEFORE
(umask 022 && "$OUTPOST" --data "$C" backup --to "$WORK/b.zip" > "$WORK/out" 2> "$WORK/err")
RC=$?; OUT=$(cat "$WORK/out"); ERR=$(cat "$WORK/err")
stop_writer
check "backup while another command writes succeeds" status_is 0
check "and every command of the writer succeeded meanwhile" [ "$WRITER_STATUS" = 0 ]
check "it says where and what" contains "$OUT" "backup written to $WORK/b.zip (mode 600)"
check "the archive is private even under umask 022" [ "$(stat -c %a "$WORK/b.zip")" = 600 ]
check "no temporary file is left beside it" [ "$(ls -A "$WORK" | grep -c '^\.outpost-backup')" = 0 ]
check "it holds the manifest, the database, the keys and the package" \
    sh -c "unzip -l '$WORK/b.zip' | grep -q outpost-backup.json && unzip -l '$WORK/b.zip' | grep -q ' outpost.db' && unzip -l '$WORK/b.zip' | grep -q keys/master.key && unzip -l '$WORK/b.zip' | grep -q packages/"

run "$OUTPOST" --data "$C" backup --to "$WORK/b.zip"
check "a backup never replaces a file" status_is 1
check "and says so" contains "$ERR" "exists already"

R="$WORK/restored"
run "$OUTPOST" --data "$R" restore "$WORK/b.zip"
check "restore into a new folder succeeds" status_is 0
check "it says everything was checked" contains "$OUT" "every file matched its SHA-256"
run "$OUTPOST" --data "$R" users list --json
LOGINS=$(printf '%s' "$OUT" | tr -d ' ' | grep -o '"login":"w[0-9]*"' | sed 's/.*"w\([0-9]*\)"/\1/' | sort -n)
N=$(printf '%s\n' "$LOGINS" | grep -c .)
check "every user written before the backup began is restored" [ "$N" -ge "$BEFORE" ]
check "the writer's users are one prefix: one snapshot, nothing half-written" \
    [ "$(printf '%s\n' "$LOGINS" | tail -1)" = "$N" ]
check "and the others too" contains "$OUT" '"eve"'
run "$OUTPOST" --data "$R" deliveries list
check "the delivery is restored" contains "$OUT" "Maths"
check "the keys are the same" [ "$("$OUTPOST" --data "$R" keys show --json)" = "$("$OUTPOST" --data "$C" keys show --json)" ]
check "the restored keys are private" [ "$(stat -c %a "$R/keys/master.key")" = 600 ]

mkdir "$WORK/full" && touch "$WORK/full/x"
run "$OUTPOST" --data "$WORK/full" restore "$WORK/b.zip"
check "restore into a folder that is not empty is refused" status_is 1
check "saying so" contains "$ERR" "not an empty folder"
check "and nothing is added" [ "$(ls -A "$WORK/full")" = x ]

# an archive changed after the backup: a key file's bytes
mkdir "$WORK/t" && (cd "$WORK/t" && unzip -q "$WORK/b.zip" keys/master.key && printf 'x' >> keys/master.key)
cp "$WORK/b.zip" "$WORK/t.zip" && (cd "$WORK/t" && zip -q "$WORK/t.zip" keys/master.key)
mkdir "$WORK/r2"
run "$OUTPOST" --data "$WORK/r2" restore "$WORK/t.zip"
check "a changed entry is refused" status_is 1
check "naming it" contains "$ERR" "keys/master.key: larger in the archive than its manifest says"
check "and the folder stays empty" [ -z "$(ls -A "$WORK/r2")" ]
# ... an entry added
cp "$WORK/b.zip" "$WORK/t2.zip" && (cd "$WORK/t" && zip -q "$WORK/t2.zip" keys/master.key && mv keys/master.key keys/extra.key && zip -q "$WORK/t2.zip" keys/extra.key)
run "$OUTPOST" --data "$WORK/r3" restore "$WORK/t2.zip"
check "an entry the manifest does not list is refused" contains "$ERR" "keys/extra.key, which its manifest does not list"
check "and the folder it made is gone" [ ! -e "$WORK/r3" ]
run "$OUTPOST" --data "$WORK/r4" restore "$WORK/demo.zip"
check "another zip file is refused" contains "$ERR" "not an Outpost backup"

# the key-missing runbook: a backup made without its master key restores nothing
mv "$C/keys/master.key" "$WORK/master.key.saved"
"$OUTPOST" --data "$C" backup --to "$WORK/nokey.zip" > /dev/null 2>&1
mv "$WORK/master.key.saved" "$C/keys/master.key"
run "$OUTPOST" --data "$WORK/r5" restore "$WORK/nokey.zip"
check "a central's backup without its master key is refused" status_is 1
check "naming the key" contains "$ERR" "master.key"
check "and leaving nothing" [ ! -e "$WORK/r5" ]
# ... and the runbook of docs/operations.md, run as written, brings it back from the older one
awk '$0 == "<!-- key-missing-commands -->" { on = 1; next } on && /^    / { print substr($0, 5); seen = 1; next } on && seen { exit }' \
    "$OUTPOST_SOURCE/docs/operations.md" |
    sed -e "s|DIR|$WORK/r6|g" -e "s|NEWER.zip|$WORK/nokey.zip|g" -e "s|OLDER.zip|$WORK/b.zip|g" \
        -e "s|^outpost |\"$OUTPOST\" |" > "$WORK/runbook.sh"
check "operations.md has the key-missing runbook" [ -s "$WORK/runbook.sh" ]
run sh -c "umask 022; . '$WORK/runbook.sh'"
check "the runbook runs" status_is 0
run_stdin "pw-eve-3" "$OUTPOST" --data "$WORK/r6" users passwd eve
check "and the master key opens the escrow copies again" status_is 0
check "the key it added is private" [ "$(stat -c %a "$WORK/r6/keys/master.key")" = 600 ]
finish
