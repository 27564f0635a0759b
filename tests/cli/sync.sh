# Integration tests of synchronisation: a real central (`outpost serve` on loopback, SQLite or,
# as pg/cli/sync, PostgreSQL) and a real device as separate processes. The device registers
# central, enrols as a sync manager of ORG-A and syncs: it gets exactly ORG-A's records (its
# scope on central, nothing of ORG-B), edits and removals on central reach it, its encrypted
# package is downloaded (and resumed after a cut), results are stored once on central however
# often they are pushed, a result of a withdrawn eligibility is kept (quarantined), and a
# revoked device's sync stops with a clear message. tests/tools/envelope_tool stands in for the
# delivery runner that will seal results on the device.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fixtures/centers.sh"
. "$(dirname "$0")/fixtures/sync.sh"
TOOL="$BUILD_DIR/envelope_tool"
not_contains() { ! contains "$1" "$2"; }
C="$WORK/c"; D="$WORK/d"; D2="$WORK/d2"
new_instance "$C" central
new_instance "$D" device
new_instance "$D2" device
org_fixture "$C"
start_serve "$C"
export OUTPOST_SYNC_MAX_ATTEMPTS=2 # a central stopped on purpose fails fast

# --- enrolment ---
"$OUTPOST" --data "$D" register-central --root-url "$URL" > /dev/null 2>&1
run "$OUTPOST" --data "$D" sync
check "sync before enrol is refused" status_is 1
check "saying to enrol" contains "$ERR" "outpost enrol --login"

FPR=$("$OUTPOST" --data "$C" keys show --json | tr -d ' \n' | sed -n 's/.*"signing_key":{[^}]*"fingerprint_sha256":"\([0-9a-f]*\)".*/\1/p')
DEV=$(tr -d ' \n' < "$D/outpost.json" | sed -n 's/.*"instance_id":"\([^"]*\)".*/\1/p')
"$OUTPOST" --data "$D" register-central --root-url "$URL" --pin "$(printf '%064d' 0)" > /dev/null 2>&1
run_stdin "pw-sm-a" "$OUTPOST" --data "$D" enrol --login sm-a --password-stdin
check "a central whose key is not the pin is refused" status_is 1
check "naming the fingerprint central presented" contains "$ERR" "presented the signing key with fingerprint"
check "and where to check it" contains "$ERR" "outpost keys show"
check "nothing is stored" [ "$(sqlite3 "$D/outpost.db" "SELECT count(*) FROM meta WHERE key LIKE 'enrol-%'")" = 0 ]
check "no secret file either" [ ! -e "$D/keys/oauth-client.secret" ]
check "and how to enrol again" contains "$ERR" "outpost devices revoke $DEV"

run_stdin "wrong" "$OUTPOST" --data "$D2" enrol --login sm-a --password-stdin
check "enrol without register-central says to register" contains "$ERR" "register"
"$OUTPOST" --data "$D2" register-central --root-url "$URL/" > /dev/null 2>&1
run_stdin "wrong" "$OUTPOST" --data "$D2" enrol --login sm-a --password-stdin
check "a wrong password does not enrol" status_is 1
check "saying so" contains "$ERR" "wrong login or password"

# central enrolled the device before the device refused its key: revoke it there to enrol again
check "central's fingerprint was read" [ ${#FPR} = 64 ]
"$OUTPOST" --data "$C" devices revoke "$DEV" > /dev/null 2>&1
if [ -n "$FPR" ]; then
    "$OUTPOST" --data "$D" register-central --root-url "$URL" --pin "$FPR" > /dev/null 2>&1
else
    "$OUTPOST" --data "$D" register-central --root-url "$URL" > /dev/null 2>&1
fi
run_stdin "pw-sm-a" "$OUTPOST" --data "$D" enrol --login sm-a --password-stdin --label "Laptop A" --json
check "enrol succeeds with the right pin" status_is 0
check "in the sync manager's organisation" contains "$OUT" '"org_id": "ORG-A"'
check "trusting the pin" contains "$OUT" '"trust": "pin"'
SECRET_MODE=$(stat -c %a "$D/keys/oauth-client.secret" 2> /dev/null)
check "the client secret is in a 0600 file" [ "$SECRET_MODE" = 600 ]
SECRET=$(cat "$D/keys/oauth-client.secret")
check "never printed" not_contains "$OUT$ERR" "$SECRET"
check "never in the database" [ "$(sqlite3 "$D/outpost.db" "SELECT count(*) FROM meta WHERE value = '$SECRET'")" = 0 ]
run_stdin "pw-sm-a" "$OUTPOST" --data "$D" enrol --login sm-a --password-stdin
check "enrolling twice is refused" status_is 1
check "explaining --force" contains "$ERR" "--force"

# --- first sync: exactly ORG-A ---
run "$OUTPOST" --data "$D" sync --json
check "the first sync succeeds" status_is 0
check "its summary says ok" contains "$OUT" '"status": "ok"'
check "the device holds exactly ORG-A's scope" [ "$(device_scope "$D")" = "$(central_scope "$C" ORG-A)" ]
check "which is not empty" [ "$(device_scope "$D" | wc -l)" -ge 10 ]
check "the digests agree" [ "$(device_digest "$D")" = "$(central_digest "$C" ORG-A)" ]
leak=0
for id in $(user_id "$C" sm-b) $(user_id "$C" pb1) $(user_id "$C" tb1) $(user_id "$C" tb2) \
          $(center_id "$C" "B Centre") $(sql "$C" "SELECT id FROM deliveries WHERE label = 'Physics'"); do
    if [ "$(sqlite3 "$D/outpost.db" "SELECT count(*) FROM synced_records WHERE id = '$id'")" != 0 ]; then leak=1; fi
done
check "nothing of ORG-B reached the device" [ $leak = 0 ]
check "and no record names ORG-B" [ "$(sqlite3 "$D/outpost.db" "SELECT count(*) FROM synced_records WHERE data LIKE '%ORG-B%'")" = 0 ]
MATHS=$(sql "$C" "SELECT id FROM deliveries WHERE label = 'Maths'")
ENC=$(sql "$C" "SELECT enc_sha256 FROM delivery_content WHERE delivery_id = '$MATHS' ORDER BY version DESC LIMIT 1")
check "the delivery's encrypted package was downloaded" [ -n "$ENC" ] && [ -f "$D/packages/enc/$ENC" ]
check "and it is the one central holds" [ "$(sha256sum < "$D/packages/enc/$ENC" | cut -c1-64)" = "$ENC" ]
run "$OUTPOST" --data "$D" sync-history --json
check "the run is in the device's history" contains "$OUT" '"status": "ok"'
run "$OUTPOST" --data "$C" devices list --json
check "central recorded the device's report" contains "$OUT" '"last_sync_at": "'

run "$OUTPOST" --data "$D" sync --json
check "a second sync with nothing new succeeds" status_is 0
check "and changes nothing" contains "$OUT" '"created": 0'

# --- edits and removals on central ---
NORTH=$(center_id "$C" "A North")
"$OUTPOST" --data "$C" testcenters update "A North" --label "A Nord" > /dev/null
TA3=$(user_id "$C" ta3); PA2=$(user_id "$C" pa2)
run "$OUTPOST" --data "$C" eligibilities set --center "A Nord" --delivery Maths --test-takers ta1,ta2
check "ta3 is removed from the eligibility on central" status_is 0
"$OUTPOST" --data "$C" users delete pa2 > /dev/null
run "$OUTPOST" --data "$D" sync
check "a sync after edits succeeds" status_is 0
check "the renamed center is updated on the device" contains "$(sqlite3 "$D/outpost.db" "SELECT data FROM synced_records WHERE id = '$NORTH'")" "A Nord"
check "a test taker removed from the eligibility is gone" eval "! synced_has '$D' user '$TA3'"
check "the deleted proctor is gone" eval "! synced_has '$D' user '$PA2'"
check "the scopes are equal again" [ "$(device_scope "$D")" = "$(central_scope "$C" ORG-A)" ]

# --- results: pushed twice, stored once; a withdrawn eligibility is kept ---
TA1=$(user_id "$C" ta1); TA4=$(user_id "$C" ta4)
printf '{"score": 1}' > "$WORK/p.json"
r1=$(OUTPOST_TOOL_NO_SCOPE=1 "$TOOL" seal "$D" "$C" "$WORK/r.bin" "$WORK/p.json" finished "" "$MATHS" "$TA1")
r2=$(OUTPOST_TOOL_NO_SCOPE=1 "$TOOL" seal "$D" "$C" "$WORK/r.bin" "$WORK/p.json" terminated "" "$MATHS" "$TA1")
r3=$(OUTPOST_TOOL_NO_SCOPE=1 "$TOOL" seal "$D" "$C" "$WORK/r.bin" "$WORK/p.json" finished "" "$MATHS" "$TA4")
check "three envelopes queued" [ "$("$TOOL" queue "$D" "$WORK/r.bin")" = 3 ]
"$OUTPOST" --data "$C" eligibilities set --center "A South" --delivery Maths --test-takers "" > /dev/null
run "$OUTPOST" --data "$D" sync --json
check "the sync pushing results succeeds" status_is 0
check "it sent three" contains "$OUT" '"results_sent": 3'
check "all acknowledged" contains "$OUT" '"results_acknowledged": 3'
check "central stored each once" [ "$(sql "$C" "SELECT count(*) FROM results WHERE id IN ('$r1', '$r2', '$r3')")" = 3 ]
check "the result of the withdrawn eligibility is kept, quarantined" [ "$(sql "$C" "SELECT review FROM results WHERE id = '$r3'")" = quarantined ]
check "the device's outbox is acknowledged" [ "$(sqlite3 "$D/outpost.db" "SELECT count(*) FROM result_outbox WHERE status = 'acknowledged'")" = 3 ]
check "the signed receipts are kept" [ "$(sqlite3 "$D/outpost.db" "SELECT count(*) FROM outbox_receipts")" -ge 1 ]
# the receipts lost (as if the answer never came back): the same envelopes go again
sqlite3 "$D/outpost.db" "UPDATE result_outbox SET status = 'pending'"
run "$OUTPOST" --data "$D" sync --json
check "pushing the same results again succeeds" status_is 0
check "they are acknowledged again" contains "$OUT" '"results_acknowledged": 3'
check "central still has each once" [ "$(sql "$C" "SELECT count(*) FROM results WHERE id IN ('$r1', '$r2', '$r3')")" = 3 ]
run "$OUTPOST" --data "$C" results list --delivery Maths
check "results list takes a delivery's label" status_is 0
check "and shows the delivery's label" contains "$OUT" "Maths"
check "and the test taker's login" contains "$OUT" "ta1"

# --- a withdrawn delivery disappears ---
"$OUTPOST" --data "$C" deliveries delete Maths > /dev/null
run "$OUTPOST" --data "$D" sync
check "a sync after withdrawing the delivery succeeds" status_is 0
check "the withdrawn delivery is gone" eval "! synced_has '$D' delivery '$MATHS'"
check "with its eligibilities" [ "$(sqlite3 "$D/outpost.db" "SELECT count(*) FROM synced_records WHERE entity = 'eligibility'")" = 0 ]
check "the scopes are equal" [ "$(device_scope "$D")" = "$(central_scope "$C" ORG-A)" ]

# --- a package download cut half-way resumes ---
"$OUTPOST" --data "$C" import-qti -f "$WORK/maths.zip" --label Chemistry > /dev/null
"$OUTPOST" --data "$C" eligibilities set --center "A Nord" --delivery Chemistry --test-takers ta1 > /dev/null
CHEM=$(sql "$C" "SELECT id FROM deliveries WHERE label = 'Chemistry'")
ENC2=$(sql "$C" "SELECT enc_sha256 FROM delivery_content WHERE delivery_id = '$CHEM' ORDER BY version DESC LIMIT 1")
# the cut: the first half of the package in DEST.part, as a connection lost there leaves it
# (a package this small arrives in one write, so a kill cannot land inside it reliably)
mkdir -p "$D/packages/download"
ENCSIZE=$(wc -c < "$C/packages/enc/$ENC2")
head -c $((ENCSIZE / 2)) "$C/packages/enc/$ENC2" > "$D/packages/download/$ENC2.part"
run "$OUTPOST" --data "$D" sync
check "the next sync succeeds" status_is 0
check "the package is complete and verified" [ "$(sha256sum < "$D/packages/enc/$ENC2" | cut -c1-64)" = "$ENC2" ]
check "the download resumed with a range (206)" contains "$(cat "$WORK/serve.log")" "path=/api/v1/packages/$ENC2 status=206"
check "no partial file is left" [ ! -e "$D/packages/download/$ENC2.part" ]

# --- a second sync at once is refused ---
python3 - "$D/sync.lock" << 'PY' &
import fcntl, os, sys, time
f = open(sys.argv[1], "a+"); fcntl.flock(f, fcntl.LOCK_EX); f.seek(0); f.truncate(); f.write(str(os.getpid())); f.flush(); time.sleep(5)
PY
HOLDER=$!
i=0
while [ "$(cat "$D/sync.lock" 2> /dev/null)" != "$HOLDER" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
run "$OUTPOST" --data "$D" sync
check "a sync while another runs is refused" status_is 1
check "saying one is running, with its pid" contains "$ERR" "a sync is already running (pid $HOLDER)"
wait $HOLDER

# --- a page signed by another key than the pinned one ---
PINNED=$(sqlite3 "$D/outpost.db" "SELECT value FROM meta WHERE key = 'central-signing-key'")
sqlite3 "$D/outpost.db" "UPDATE meta SET value = '$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')' WHERE key = 'central-signing-key'"
"$OUTPOST" --data "$C" testcenters update "A Nord" --label "A Nord 2" > /dev/null
run "$OUTPOST" --data "$D" sync
check "a page not signed by the pinned key stops the sync" status_is 1
check "saying what to check" contains "$ERR" "is not signed by the central signing key this device pinned"
check "and where" contains "$ERR" "outpost keys show"
check "nothing of it was applied" contains "$(sqlite3 "$D/outpost.db" "SELECT data FROM synced_records WHERE id = '$NORTH'")" '"A Nord"'
sqlite3 "$D/outpost.db" "UPDATE meta SET value = '$PINNED' WHERE key = 'central-signing-key'"
run "$OUTPOST" --data "$D" sync
check "with the right key pinned again the sync succeeds" status_is 0

# --- revocation ---
"$OUTPOST" --data "$C" devices revoke "$DEV" > /dev/null
run "$OUTPOST" --data "$D" sync
check "a revoked device's sync fails" status_is 1
check "saying the device was revoked" contains "$ERR" "revoked"
check "and what to do" contains "$ERR" "enrol"

stop_serve
finish
