# No secret on a command line (ps) or in what outpost prints (its log is stdout and stderr):
# passwords go in through stdin or the terminal, key files are never echoed.
. "$(dirname "$0")/lib.sh"
TOOL="$BUILD_DIR/envelope_tool"
C="$WORK/c"; D="$WORK/d"
LOG="$WORK/all.log"
: > "$LOG"
logrun() { "$@" >> "$LOG" 2>&1 < /dev/null; }
logrun_stdin() { text=$1; shift; printf '%s\n' "$text" | "$@" >> "$LOG" 2>&1; }

write_setup "$WORK/central.json" central
write_setup "$WORK/device.json" device
logrun "$OUTPOST" --data "$C" setup "$WORK/central.json"
logrun "$OUTPOST" --data "$D" setup "$WORK/device.json"
logrun "$OUTPOST" --data "$C" setup-central
logrun "$OUTPOST" --data "$C" setup-central --json
logrun "$OUTPOST" --data "$D" setup-device --json
logrun "$OUTPOST" --data "$C" keys show
logrun "$OUTPOST" --data "$C" keys show --json
logrun "$OUTPOST" --data "$C" keys rotate --json
logrun "$OUTPOST" --data "$D" keys show --json

PW1="Tr0ub4dor-first-$$"
PW2="correct-horse-second-$$"
# While `users add` waits for its password, its command line and `ps` must not hold one.
# It must not be able to dump core either: with core files allowed by the shell (ulimit -c
# unlimited), the command still sets its own limit to 0 and makes itself non-dumpable.
mkfifo "$WORK/pw"
(ulimit -c unlimited 2> /dev/null; exec "$OUTPOST" --data "$C" users add --login tina --role test-taker) < "$WORK/pw" >> "$LOG" 2>&1 &
pid=$!
exec 3> "$WORK/pw"   # opening the FIFO lets the command start and block on read
# it is waiting once it has set its own core limit, the first thing outpost does (a second was
# not always enough for it to get there under the sanitizers and a loaded machine)
i=0
until grep -q '^Max core file size *0 *0 ' "/proc/$pid/limits" 2> /dev/null || [ $i -ge 150 ]; do sleep 0.1; i=$((i + 1)); done
cmdline=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)
check "the waiting command is visible" contains "$cmdline" "users add"
check "its command line holds no password" sh -c "! printf '%s' \"\$1\" | grep -q -- \"\$2\"" _ "$cmdline" "$PW1"
check "the waiting command cannot write a core file" sh -c "grep -q '^Max core file size *0 *0 ' /proc/$pid/limits"
ps -eo args > "$WORK/ps.txt"
check "ps shows no password" sh -c "! grep -q -- '$PW1' '$WORK/ps.txt'"
printf '%s\n' "$PW1" >&3
exec 3>&-
wait $pid
RC=$?
check "users add with the password from the FIFO succeeds" status_is 0

logrun_stdin "$PW2" "$OUTPOST" --data "$C" users passwd tina
logrun_stdin "wrong" "$OUTPOST" --data "$C" users passwd nobody
logrun "$OUTPOST" --data "$C" users list --json
"$TOOL" enrol "$C" "$D" > /dev/null
printf '{"score": 5}' > "$WORK/p.json"
"$TOOL" seal "$D" "$C" "$WORK/e.bin" "$WORK/p.json" > /dev/null
logrun "$OUTPOST" --data "$C" results import -f "$WORK/e.bin" --json
logrun "$OUTPOST" --data "$C" decrypt-results --all --json
logrun "$OUTPOST" --data "$C" results list --json

check "the log is not empty" [ -s "$LOG" ]
for pw in "$PW1" "$PW2" admin-password; do
    check "no password in the output ($pw)" sh -c "! grep -q -- '$pw' '$LOG'"
done
DBFILE=$(db_file "$C") # the database file, or on PostgreSQL a dump of the database
check "(the database's content is at hand)" [ -s "$DBFILE" ]
check "(and holds tina's row)" grep -q tina "$DBFILE"
for f in "$C"/keys/*.key "$D"/keys/*.key; do
    s=$(sed -n 's/^secret //p' "$f")
    check "the secret of $(basename "$f") is never printed" sh -c "! grep -qi -- '$s' '$LOG'"
    check "the secret of $(basename "$f") is not in the database" sh -c "! grep -qi -- '$s' '$DBFILE'"
done
check "no password is stored in clear" sh -c "! grep -rq -- '$PW2' '$C' '$DBFILE'"
wrapped=$(sql "$C" "SELECT vault_secret_wrapped FROM users WHERE login='tina'")
escrow=$(sql "$C" "SELECT vault_secret_escrow FROM users WHERE login='tina'")
check "the wrapped vault key is never printed" sh -c "! grep -q -- '$wrapped' '$LOG'"
check "the escrow copy is never printed" sh -c "! grep -q -- '$escrow' '$LOG'"

finish
