# Tests of results import, results list/show and decrypt-results on central, with envelopes
# sealed and signed by a device's key (tests/tools/envelope_tool.c stands in for the device).
. "$(dirname "$0")/lib.sh"
TOOL="$BUILD_DIR/envelope_tool"
not_contains() { ! contains "$1" "$2"; }
C="$WORK/c"; D="$WORK/d"; D2="$WORK/d2"; D3="$WORK/d3"
new_instance "$C" central
new_instance "$D" device
new_instance "$D2" device
new_instance "$D3" device
"$TOOL" enrol "$C" "$D" > /dev/null || { echo "FAIL: enrol"; exit 1; }
"$TOOL" enrol "$C" "$D3" revoked > /dev/null || { echo "FAIL: enrol revoked"; exit 1; }

printf '{"score": 1, "note": "first"}' > "$WORK/p1.json"
printf '{"score": 2}' > "$WORK/p2.json"
printf 'not json at all' > "$WORK/bad.json"
DELIVERY=11111111-2222-4333-8444-555555555555
r1=$("$TOOL" seal "$D" "$C" "$WORK/batch.bin" "$WORK/p1.json" finished "" "$DELIVERY")
r2=$("$TOOL" seal "$D" "$C" "$WORK/batch.bin" "$WORK/p2.json" terminated)
r3=$("$TOOL" seal "$D" "$C" "$WORK/batch.bin" "$WORK/p2.json")
check "the tool sealed three envelopes" [ -n "$r1" -a -n "$r2" -a -n "$r3" ]

run "$OUTPOST" --data "$C" results import -f "$WORK/batch.bin"
check "results import stores a file of three envelopes" contains "$OUT" "3 stored, 0 already received, 0 refused"
run "$OUTPOST" --data "$C" results import -f "$WORK/batch.bin"
check "importing the same envelopes again is accepted" status_is 0
check "and stores nothing twice" contains "$OUT" "0 stored, 3 already received"
check "three results are stored" [ "$(sql "$C" "SELECT count(*) FROM results")" = 3 ]
run "$OUTPOST" --data "$C" results list --json
check "results list --json shows them pending" [ "$(printf '%s' "$OUT" | grep -c '"status": "pending"')" = 3 ]
check "a terminated result is flagged" contains "$OUT" '"state": "terminated"'
check "the result JSON is not stored in clear before decryption" [ -z "$(sql "$C" "SELECT 1 FROM results WHERE result_json IS NOT NULL")" ]

# key rotation: a new result goes to the new key, the old ones still decrypt
run "$OUTPOST" --data "$C" keys rotate
r4=$("$TOOL" seal "$D" "$C" "$WORK/new.bin" "$WORK/p2.json")
run "$OUTPOST" --data "$C" results import -f "$WORK/new.bin"
check "an envelope sealed to the rotated key is stored" contains "$OUT" "1 stored"
check "it names the new key" [ "$(sql "$C" "SELECT key_id FROM results WHERE id='$r4'")" != "$(sql "$C" "SELECT key_id FROM results WHERE id='$r1'")" ]

run "$OUTPOST" --data "$C" decrypt-results --delivery "$DELIVERY"
check "decrypt-results --delivery decrypts only that delivery" contains "$OUT" "1 decrypted"
run "$OUTPOST" --data "$C" decrypt-results --delivery "No such delivery"
check "decrypt-results --delivery of an unknown label is refused" status_is 1
check "naming it and where to look" contains "$ERR" 'no delivery "No such delivery" (give its id or label: outpost deliveries list)'
run "$OUTPOST" --data "$C" results list --delivery "No such delivery"
check "results list --delivery of an unknown label is refused too" contains "$ERR" 'no delivery "No such delivery"'
run "$OUTPOST" --data "$C" decrypt-results --all
check "decrypt-results --all decrypts the rest" contains "$OUT" "3 decrypted, 0 damaged"
check "decrypt-results exits 0 when all went well" status_is 0
run "$OUTPOST" --data "$C" results show "$r1"
check "an old result still decrypts after keys rotate" contains "$OUT" '"note": "first"'
run "$OUTPOST" --data "$C" decrypt-results --all --json
check "decrypt-results is idempotent" contains "$OUT" '"decrypted": 0'
check "the envelopes are kept next to the results" [ "$(sql "$C" "SELECT count(*) FROM results WHERE length(envelope) > 0 AND result_json IS NOT NULL")" = 4 ]

# refusals, each with its reason
cp "$WORK/new.bin" "$WORK/flip.bin"
printf '\377' | dd of="$WORK/flip.bin" bs=1 seek=150 conv=notrunc 2>/dev/null
run "$OUTPOST" --data "$C" results import -f "$WORK/flip.bin"
check "a flipped byte is refused" status_is 1
check "the refusal says the signature does not verify" contains "$ERR" "signature does not verify"

head -c 200 "$WORK/new.bin" > "$WORK/short.bin"
run "$OUTPOST" --data "$C" results import -f "$WORK/short.bin"
check "a truncated envelope is refused" status_is 1
check "the refusal says truncated" contains "$ERR" "truncated"
: > "$WORK/empty.bin"
run "$OUTPOST" --data "$C" results import -f "$WORK/empty.bin"
check "an empty file is a clear error" contains "$ERR" "empty file"
printf 'garbage' > "$WORK/garbage.bin"
run "$OUTPOST" --data "$C" results import -f "$WORK/garbage.bin"
check "a file of something else is refused" contains "$ERR" "truncated"
head -c 300 /dev/urandom > "$WORK/random.bin"
run "$OUTPOST" --data "$C" results import -f "$WORK/random.bin"
check "random bytes are refused as not an envelope" contains "$ERR" "bad magic"

"$TOOL" seal "$D2" "$C" "$WORK/unknown.bin" "$WORK/p2.json" > /dev/null
run "$OUTPOST" --data "$C" results import -f "$WORK/unknown.bin"
check "an envelope from an unknown device is refused" contains "$ERR" "unknown device"
"$TOOL" seal "$D3" "$C" "$WORK/revoked.bin" "$WORK/p2.json" > /dev/null
run "$OUTPOST" --data "$C" results import -f "$WORK/revoked.bin"
check "an envelope from a revoked device is refused" contains "$ERR" "is revoked"

# a valid signature does not let a device file results outside its organisation's scope
OUTPOST_TOOL_NO_SCOPE=1 "$TOOL" seal "$D" "$C" "$WORK/scope.bin" "$WORK/p2.json" > /dev/null
run "$OUTPOST" --data "$C" results import -f "$WORK/scope.bin"
check "an envelope for a test taker not eligible in the device's organisation is refused" status_is 1
check "the refusal names the organisation" contains "$ERR" "not eligible for delivery"
check "and nothing is stored" [ "$(sql "$C" "SELECT count(*) FROM results WHERE test_taker_id NOT IN (SELECT id FROM users)")" = 0 ]
"$TOOL" seal "$D" "$C" "$WORK/conflict.bin" "$WORK/p2.json" finished "$r1" > /dev/null
run "$OUTPOST" --data "$C" results import -f "$WORK/conflict.bin"
check "another envelope under a known result id is refused" status_is 1
check "and held for review" contains "$ERR" "held for review by an operator"
check "the import says it is in quarantine" contains "$OUT" "1 held in quarantine"
check "the first envelope is kept" [ "$(sql "$C" "SELECT status FROM results WHERE id='$r1'")" = decrypted ]
check "the other copy is kept in quarantine, not dropped" [ "$(sql "$C" "SELECT reason FROM results_quarantine WHERE result_id='$r1'")" = "other content" ]


# one damaged envelope does not stop the others
r5=$("$TOOL" seal "$D" "$C" "$WORK/mixed.bin" "$WORK/bad.json")
r6=$("$TOOL" seal "$D" "$C" "$WORK/mixed.bin" "$WORK/p1.json")
run "$OUTPOST" --data "$C" results import -f "$WORK/mixed.bin"
run "$OUTPOST" --data "$C" decrypt-results --all
check "decrypt-results reports the damaged result by id, on stderr" contains "$ERR" "outpost: damaged $r5"
check "and decrypts the others" contains "$OUT" "1 decrypted, 1 damaged"
check "decrypt-results exits 1 when a result is damaged" status_is 1
check "the damaged result is marked" [ "$(sql "$C" "SELECT status FROM results WHERE id='$r5'")" = damaged ]
check "the good one is decrypted" [ "$(sql "$C" "SELECT status FROM results WHERE id='$r6'")" = decrypted ]
run "$OUTPOST" --data "$C" results list --status damaged
check "results list --status damaged shows it" contains "$OUT" "$r5"

# a result id belongs to the device that first sent it: another device of the organisation
# cannot take it over, and its refusal says nothing of the stored result
D4="$WORK/d4"
new_instance "$D4" device
d4=$("$TOOL" enrol "$C" "$D4")
"$TOOL" seal "$D4" "$C" "$WORK/takeover.bin" "$WORK/p2.json" finished "$r2" > /dev/null
d1=$(sql "$C" "SELECT device_id FROM results WHERE id='$r2'")
run "$OUTPOST" --data "$C" results import -f "$WORK/takeover.bin"
check "another device's envelope under a known result id is refused" status_is 1
check "the operator's log says whose the id is" contains "$ERR" "the id belongs to device $d1"
run "$OUTPOST" --data "$C" results import -f "$WORK/takeover.bin" --json
check "the refusal meant for the sender is an ordinary one" contains "$OUT" "\"reason\": \"result $r2: refused; the envelope is held for review by an operator\""
check "that does not name the device the id belongs to" not_contains "$OUT" "$d1"
check "the stored result is still the first device's" [ "$(sql "$C" "SELECT device_id FROM results WHERE id='$r2'")" != "$d4" ]
check "the other device's copy is held" [ "$(sql "$C" "SELECT reason FROM results_quarantine WHERE result_id='$r2' AND device_id='$d4'")" = "other device" ]
run "$OUTPOST" --data "$C" results import -f "$WORK/takeover.bin"
check "sending it again changes nothing" [ "$(sql "$C" "SELECT count(*) FROM results_quarantine WHERE result_id='$r2'")" = 1 ]
# the impostor first: the genuine copy is refused but held, never lost
r_first=$("$TOOL" seal "$D4" "$C" "$WORK/impostor.bin" "$WORK/p2.json")
"$TOOL" seal "$D" "$C" "$WORK/genuine.bin" "$WORK/p1.json" finished "$r_first" > /dev/null
run "$OUTPOST" --data "$C" results import -f "$WORK/impostor.bin"
run "$OUTPOST" --data "$C" results import -f "$WORK/genuine.bin"
check "a genuine copy after an impostor's is refused" status_is 1
check "but kept in quarantine" [ "$(sql "$C" "SELECT count(*) FROM results_quarantine WHERE result_id='$r_first' AND length(envelope) = $(wc -c < "$WORK/genuine.bin")")" = 1 ]
run "$OUTPOST" --data "$C" results quarantine
check "results quarantine lists the held copies" contains "$OUT" "$r_first"
check "with why they are held" contains "$OUT" "other device"
run "$OUTPOST" --data "$C" results quarantine --json
check "results quarantine --json names whose the id is" contains "$OUT" "\"owner_device_id\": \"$d4\""
run "$OUTPOST" --data "$C" results list --json
check "results list --json counts the held copies of a result" contains "$OUT" '"quarantined": 1'
run "$OUTPOST" --data "$D" results quarantine
check "results quarantine refuses a device" contains "$ERR" "runs on a central"

# central remembers the ids of its results keys: an envelope sealed to a key it never had is
# refused at intake, one sealed to a key it had whose file is lost is stored and waits
check "setup and keys rotate recorded the results keys" [ "$(sql "$C" "SELECT count(*) FROM results_keys WHERE serial IS NOT NULL")" = 2 ]
OUTPOST_TOOL_STRANGER_KEY=1 "$TOOL" seal "$D" "$C" "$WORK/stranger.bin" "$WORK/p2.json" > /dev/null
run "$OUTPOST" --data "$C" results import -f "$WORK/stranger.bin"
check "an envelope sealed to a results key central never had is refused" status_is 1
check "the refusal says central never had the key" contains "$ERR" "which central never had"
check "the CLI says how to see the current key" contains "$ERR" "the device must seal to central's current results key (\`outpost keys show\`)"
check "and nothing is stored for it" [ "$(sql "$C" "SELECT count(*) FROM results WHERE key_id NOT IN (SELECT id FROM results_keys)")" = 0 ]
r_lost=$("$TOOL" seal "$D" "$C" "$WORK/lost.bin" "$WORK/p2.json")
mv "$C/keys/results-0002.key" "$WORK/"
run "$OUTPOST" --data "$C" results import -f "$WORK/lost.bin"
check "an envelope sealed to a known key whose file is lost is stored" contains "$OUT" "1 stored"
run "$OUTPOST" --data "$C" decrypt-results --all
check "and waits for the key file" contains "$ERR" "waiting for key $r_lost"
mv "$WORK/results-0002.key" "$C/keys/"
run "$OUTPOST" --data "$C" decrypt-results --all
check "it decrypts once the key file is restored" [ "$(sql "$C" "SELECT status FROM results WHERE id='$r_lost'")" = decrypted ]

# a missing results key leaves the result pending until the key is back
r7=$("$TOOL" seal "$D" "$C" "$WORK/later.bin" "$WORK/p2.json")
run "$OUTPOST" --data "$C" results import -f "$WORK/later.bin"
mv "$C/keys/results-0002.key" "$WORK/"
run "$OUTPOST" --data "$C" decrypt-results --all
check "a result whose key is missing is reported" contains "$ERR" "waiting for key $r7"
check "and stays pending" [ "$(sql "$C" "SELECT status FROM results WHERE id='$r7'")" = pending ]
mv "$WORK/results-0002.key" "$C/keys/"
run "$OUTPOST" --data "$C" decrypt-results --all
check "it decrypts once the key is restored" contains "$OUT" "1 decrypted"

# an old results key file that does not load (readable by others) does not stop the others
r8=$("$TOOL" seal "$D" "$C" "$WORK/r8.bin" "$WORK/p2.json")
run "$OUTPOST" --data "$C" results import -f "$WORK/r8.bin"
chmod 644 "$C/keys/results-0001.key"
run "$OUTPOST" --data "$C" decrypt-results --all
check "a result sealed to a key that loads is decrypted although another key file does not load" contains "$OUT" "1 decrypted"
check "the key file that does not load is reported" contains "$ERR" "outpost: key file does not load $C/keys/results-0001.key"
check "with what to do" contains "$ERR" "chmod 600"
check "decrypt-results exits 1 when a key file does not load" status_is 1
check "the result is decrypted" [ "$(sql "$C" "SELECT status FROM results WHERE id='$r8'")" = decrypted ]
run "$OUTPOST" --data "$C" decrypt-results --all --json
check "--json names the key file" contains "$OUT" '"bad_keys": 1'
chmod 600 "$C/keys/results-0001.key"

run "$OUTPOST" --data "$C" decrypt-results
check "decrypt-results needs --all or --delivery" status_is 2
run "$OUTPOST" --data "$C" decrypt-results --all --delivery "$DELIVERY"
check "decrypt-results refuses both" status_is 2
run "$OUTPOST" --data "$D" decrypt-results --all
check "decrypt-results refuses a device" contains "$ERR" "runs on a central"
run "$OUTPOST" --data "$D" results import -f "$WORK/batch.bin"
check "results import refuses a device" contains "$ERR" "runs on a central"
run "$OUTPOST" --data "$C" results import
check "results import needs -f" status_is 2
run "$OUTPOST" --data "$C" results show 00000000-0000-4000-8000-000000000000
check "results show of an unknown id is a clear error" contains "$ERR" "not decrypted"

# a file of many envelopes is read one envelope at a time; garbage in the middle stops the
# reading there with the byte offset, after storing what came before
: > "$WORK/many.bin"
i=0
while [ $i -lt 12 ]; do
    "$TOOL" seal "$D" "$C" "$WORK/many.bin" "$WORK/p1.json" > /dev/null || echo "FAIL: seal $i"
    i=$((i + 1))
done
cat "$WORK/many.bin" "$WORK/many.bin" "$WORK/many.bin" > "$WORK/many3.bin"
run "$OUTPOST" --data "$C" results import -f "$WORK/many3.bin"
check "a file of 36 envelopes is imported whole" contains "$OUT" "12 stored, 24 already received, 0 refused"
check "and exits 0" status_is 0
"$TOOL" seal "$D" "$C" "$WORK/mid1.bin" "$WORK/p1.json" > /dev/null
r_after=$("$TOOL" seal "$D" "$C" "$WORK/mid2.bin" "$WORK/p2.json")
first_len=$(wc -c < "$WORK/mid1.bin")
{ cat "$WORK/mid1.bin"; printf 'garbage between envelopes'; cat "$WORK/mid2.bin"; } > "$WORK/mid.bin"
run "$OUTPOST" --data "$C" results import -f "$WORK/mid.bin"
check "garbage between envelopes is refused" status_is 1
check "after storing the envelope before it" contains "$OUT" "1 stored, 0 already received, 1 refused"
check "the refusal names the byte where the garbage starts" contains "$ERR" "byte $first_len: not an Outpost result envelope (bad magic); the rest of the file is skipped"
check "the envelope after the garbage is not stored" [ -z "$(sql "$C" "SELECT 1 FROM results WHERE id='$r_after'")" ]
run "$OUTPOST" --data "$C" results import -f "$WORK/mid.bin" --json
check "--json gives the offset of the garbage" contains "$OUT" "\"offset\": $first_len"
run "$OUTPOST" --data "$C" results import -f "$WORK"
check "a folder is refused as not a regular file" contains "$ERR" "not a regular file"
run "$OUTPOST" --data "$C" results import -f "$WORK/no-such.bin"
check "a missing file is a clear error" contains "$ERR" "cannot open"

finish
