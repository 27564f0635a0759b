# The backup and restore procedure of docs/operations.md, run literally: the commands between
# its "backup-commands" / "restore-commands" markers, with DIR and /backup pointed at this
# test's folders. The copies must be private (they hold password verifiers, wrapped vaults and
# the keys), even when the shell's umask is the usual 022; and a restored copy that others can
# read is refused.
. "$(dirname "$0")/lib.sh"
DOC="$OUTPOST_SOURCE/docs/operations.md"
C="$WORK/c"
new_instance "$C" central
run_stdin "pw-eve-1" "$OUTPOST" --data "$C" users add --login eve --role test-taker
mkdir -p "$WORK/backup"

# usage: commands MARKER - the indented lines after <!-- MARKER --> up to the first blank line
# that follows them, made to act on this test's folders.
commands() {
    awk -v m="<!-- $1 -->" '$0 == m { on = 1; next } on && /^    / { print substr($0, 5); seen = 1; next } on && seen { exit }' "$DOC" |
        sed -e "s|DIR|$C|g" -e "s|/backup|$WORK/backup|g"
}
commands backup-commands > "$WORK/backup.sh"
commands restore-commands | sed "s|$C|$WORK/restored|g" > "$WORK/restore.sh"
check "operations.md has the backup commands" [ -s "$WORK/backup.sh" ]
check "operations.md has the restore commands" [ -s "$WORK/restore.sh" ]
check "the documented backup sets a private umask" grep -q "umask 077" "$WORK/backup.sh"

run sh -c "umask 022; . '$WORK/backup.sh'"
check "the documented backup runs" status_is 0
B=$(find "$WORK/backup" -mindepth 1 -maxdepth 1 -type d | head -1)
check "it makes one dated folder" [ -n "$B" ]
check "the backup folder is private" [ "$(stat -c %a "$B")" = 700 ]
check "the database copy is private" [ "$(stat -c %a "$B/outpost.db")" = 600 ]
check "the database copy holds the users" [ "$(sqlite3 "$B/outpost.db" "SELECT count(*) FROM users")" = 2 ]
check "the key folder copy is private" [ "$(stat -c %a "$B/keys")" = 700 ]
for f in "$B"/keys/*.key "$B/outpost.json"; do
    check "$(basename "$f") in the backup is private" [ "$(stat -c %a "$f")" = 600 ]
done
others=$(find "$B" -perm /077 | wc -l)
check "nothing in the backup is open to group or others" [ "$others" = 0 ]

run sh -c "umask 022; B='$B'; . '$WORK/restore.sh'"
check "the documented restore runs" status_is 0
run "$OUTPOST" --data "$WORK/restored" users list
check "the restored instance opens" status_is 0
check "and has its users" contains "$OUT" "eve"
run_stdin "pw-eve-2" "$OUTPOST" --data "$WORK/restored" users passwd eve
check "its master key opens the escrow copies" status_is 0

# A restore by a tool that does not keep modes (a copy from a backup system that stored the
# files 0644, a folder made under umask 022) gives a copy others can read: refused.
cp -a "$B" "$WORK/careless"
chmod 755 "$WORK/careless" "$WORK/careless/keys"
chmod 644 "$WORK/careless/outpost.db" "$WORK/careless"/keys/*.key
run "$OUTPOST" --data "$WORK/careless" users list
check "a restored database readable by others is refused" status_is 1
check "the refusal gives the fix" contains "$ERR" "chmod 600 $WORK/careless/outpost.db"
chmod 600 "$WORK/careless/outpost.db"
run "$OUTPOST" --data "$WORK/careless" keys show
check "a restored key folder readable by others is refused" status_is 1
check "the refusal gives its fix" contains "$ERR" "chmod 700 $WORK/careless/keys"
chmod 700 "$WORK/careless/keys"
run "$OUTPOST" --data "$WORK/careless" keys show
check "a restored key file readable by others is refused" status_is 1
check "the refusal names the file and the fix" contains "$ERR" "chmod 600 $WORK/careless/keys/"
chmod 600 "$WORK/careless"/keys/*.key
run "$OUTPOST" --data "$WORK/careless" keys show
check "once private again the restored instance opens" status_is 0

# The backup command of the old documentation made a copy everyone could read.
(umask 022; sqlite3 "$C/outpost.db" ".backup $WORK/old-way.db")
check "(the old way, sqlite3 .backup under umask 022, gives mode 644)" [ "$(stat -c %a "$WORK/old-way.db")" = 644 ]

finish
