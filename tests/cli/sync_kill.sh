# Crash tests of `outpost sync`: the device's sync is killed with SIGKILL at 20 or more points
# chosen by a seed (printed; set OUTPOST_KILL_SEED to replay a run), central changing and the
# device's outbox filling between kills, and central's `serve` is killed mid-request once.
# After each kill the next sync must end with the device's records equal to central's scope
# of its organisation (by the digest) and every result stored exactly once on central.
# The points: OUTPOST_TEST_KILL_AT (src/sync/run.h: after the token, after page N was held but
# not yet applied, after the batch of pages holding page N was applied, after a batch was sent
# and before its receipts are applied, after the receipts, after the keys,
# after the report), and kills after a random delay within a measured sync's duration.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fixtures/centers.sh"
. "$(dirname "$0")/fixtures/sync.sh"
TOOL="$BUILD_DIR/envelope_tool"
SEED=${OUTPOST_KILL_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
echo "seed $SEED (OUTPOST_KILL_SEED=$SEED replays this run)"
rand() { # usage: rand N - sets R to a number in [0, N) from the seed
    SEED=$(((SEED * 1103515245 + 12345) % 2147483648))
    R=$(((SEED / 65536) % $1))
}
C="$WORK/c"; D="$WORK/d"
new_instance "$C" central
new_instance "$D" device
org_fixture "$C"
start_serve "$C"
enrol_device "$D" sm-a
# pages of one record, applied two a transaction (sync/run.h): kills between a batch's pages
# (held-N) as well as after a batch (page-N)
export OUTPOST_TEST_PAGE_LIMIT=1 OUTPOST_TEST_APPLY_PAGES=2 OUTPOST_SYNC_MAX_ATTEMPTS=3
MATHS=$(sql "$C" "SELECT id FROM deliveries WHERE label = 'Maths'")
TA1=$(user_id "$C" ta1)
printf '{"score": 2}' > "$WORK/p.json"
: > "$WORK/ids"

start=$(date +%s%N)
run "$OUTPOST" --data "$D" sync
T_MS=$((($(date +%s%N) - start) / 1000000))
check "a first sync succeeds (${T_MS} ms)" status_is 0

STEPS="token held-1 held-2 page-2 held-3 page-3 batch-1 receipts-1 keys report delay"
NSTEPS=11
KILLS=0
DIGEST_OK=0
ONCE_OK=0
takers=ta1,ta2,ta3
ROUNDS=26
i=1
while [ $i -le $ROUNDS ]; do
    # central changes: a new test taker made eligible, a center renamed
    printf 'pw\n' | "$OUTPOST" --data "$C" users add --login "k$i" --role test-taker > /dev/null
    takers="$takers,k$i"
    "$OUTPOST" --data "$C" eligibilities set --center "A North" --delivery Maths --test-takers "$takers" > /dev/null
    "$OUTPOST" --data "$C" testcenters update "$(sql "$C" "SELECT label FROM test_centers WHERE label LIKE 'A South%'")" --label "A South $i" > /dev/null
    # the device's outbox: two more results
    rm -f "$WORK/r.bin"
    for n in 1 2; do
        OUTPOST_TOOL_NO_SCOPE=1 "$TOOL" seal "$D" "$C" "$WORK/r.bin" "$WORK/p.json" finished "" "$MATHS" "$TA1" >> "$WORK/ids"
    done
    "$TOOL" queue "$D" "$WORK/r.bin" > /dev/null
    rand $NSTEPS
    step=$(echo $STEPS | cut -d' ' -f$((R + 1)))
    if [ $i = 5 ]; then
        # central killed in the middle of a request: a sync in flight when serve dies
        "$OUTPOST" --data "$D" sync > /dev/null 2>&1 &
        spid=$!
        rand $((T_MS + 1))
        sleep "$(printf '0.%03d' $((R % 1000)))"
        kill -9 $SERVE_PID 2> /dev/null
        wait $SERVE_PID 2> /dev/null
        wait $spid 2> /dev/null
        echo "round $i: central's serve killed mid-sync (device sync status $?)"
        start_serve "$C"
    elif [ "$step" = delay ]; then
        rand $((T_MS / 2 + 1))
        "$OUTPOST" --data "$D" sync > /dev/null 2>&1 &
        spid=$!
        sleep "$(printf '%d.%03d' $((R / 1000)) $((R % 1000)))"
        kill -9 $spid 2> /dev/null
        wait $spid 2> /dev/null
        st=$?
        [ $st = 137 ] && KILLS=$((KILLS + 1))
        echo "round $i: killed after ${R} ms (status $st)"
    else
        OUTPOST_TEST_KILL_AT=$step "$OUTPOST" --data "$D" sync > /dev/null 2>&1
        st=$?
        [ $st = 137 ] && KILLS=$((KILLS + 1))
        echo "round $i: killed at $step (status $st)"
    fi
    run "$OUTPOST" --data "$D" sync
    if [ "$RC" != 0 ]; then
        echo "round $i: the sync after the kill failed: $ERR"
    elif [ "$(device_digest "$D")" = "$(central_digest "$C" ORG-A)" ]; then
        DIGEST_OK=$((DIGEST_OK + 1))
    else
        echo "round $i: the device's scope differs from central's"
    fi
    want=$(wc -l < "$WORK/ids")
    got=$(sql "$C" "SELECT count(*) FROM results WHERE device_id = '$(tr -d ' \n' < "$D/outpost.json" | sed -n 's/.*"instance_id":"\([^"]*\)".*/\1/p')'")
    if [ "$got" = "$want" ]; then
        ONCE_OK=$((ONCE_OK + 1))
    else
        echo "round $i: central has $got results of this device, $want were queued"
    fi
    i=$((i + 1))
done
check "the device's sync was killed at 20 points or more ($KILLS)" [ $KILLS -ge 20 ]
check "after every kill the next sync made the device equal to central's scope" [ $DIGEST_OK = $ROUNDS ]
check "after every kill every result is on central exactly once" [ $ONCE_OK = $ROUNDS ]
check "no result is pending on the device" [ "$(sqlite3 "$D/outpost.db" "SELECT count(*) FROM result_outbox WHERE status <> 'acknowledged'")" = 0 ]
missing=0
while read -r id; do
    [ "$(sql "$C" "SELECT count(*) FROM results WHERE id = '$id'")" = 1 ] || missing=$((missing + 1))
done < "$WORK/ids"
check "each result id is stored once" [ $missing = 0 ]
check "the device's database is intact" [ "$(db_intact "$D")" = ok ]
check "central's database is intact" [ "$(db_intact "$C")" = ok ]
run "$OUTPOST" --data "$D" sync-history --json
check "killed runs show as interrupted" contains "$OUT" '"status": "interrupted"'
stop_serve
finish
