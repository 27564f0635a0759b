# Tests of `outpost import-qti`, `outpost deliveries list` and `outpost qti run` with the
# project's own demo package (demo/qti-test, zipped by scripts/make-demo-package.sh).
. "$(dirname "$0")/lib.sh"
C="$WORK/c"
new_instance "$C" central
DEMO="$WORK/demo.zip"
sh "$OUTPOST_SOURCE/scripts/make-demo-package.sh" "$DEMO"

run "$OUTPOST" --data "$C" import-qti -f "$DEMO"
check "the demo package imports" status_is 0
id1=$OUT
check "import-qti prints the delivery id" [ "$(sql "$C" "SELECT count(*) FROM deliveries WHERE id='$id1'")" = 1 ]
check "the delivery is labelled with the test title" [ "$(sql "$C" "SELECT label FROM deliveries WHERE id='$id1'")" = "Outpost demo test" ]
sha1=$(sql "$C" "SELECT package_sha256 FROM deliveries WHERE id='$id1'")
check "the compiled package is stored under its hash" [ -f "$C/packages/$sha1" ]
check "the stored file hashes to its name" [ "$(sha256sum "$C/packages/$sha1" | cut -d' ' -f1)" = "$sha1" ]

run "$OUTPOST" --data "$C" import-qti -f "$DEMO" --label "Demo again" --json
check "a second import with --json succeeds" status_is 0
check "--json prints the record" contains "$OUT" '"label": "Demo again"'
check "importing the same package twice gives the same hash" contains "$OUT" "\"package_sha256\": \"$sha1\""
check "one package file for both" [ "$(ls "$C/packages" | grep -vc '^enc$')" = 1 ]
check "each delivery has its own encrypted copy (bound to its id)" [ "$(ls "$C/packages/enc" | wc -l)" = 2 ]

run "$OUTPOST" --data "$C" deliveries list --json
check "deliveries list --json lists both" [ "$(printf '%s' "$OUT" | grep -c '"package_sha256"')" = 2 ]
run "$OUTPOST" --data "$C" deliveries list
check "deliveries list shows the hash" contains "$OUT" "$sha1"

# A bad package creates nothing.
before=$(sql "$C" 'SELECT count(*) FROM deliveries')
mkdir -p "$WORK/bad" && cp -r "$OUTPOST_SOURCE/demo/qti-test/." "$WORK/bad/"
printf '<assessmentItem identifier="x"><oops></assessmentItem>' > "$WORK/bad/items/planet.xml"
sh "$OUTPOST_SOURCE/scripts/make-demo-package.sh" "$WORK/bad.zip" "$WORK/bad"
run "$OUTPOST" --data "$C" import-qti -f "$WORK/bad.zip"
check "a package with a malformed item is refused" status_is 1
check "the refusal names the archive and the item file" contains "$ERR" "bad.zip: items/planet.xml line 1"
check "no delivery was created" [ "$(sql "$C" 'SELECT count(*) FROM deliveries')" = "$before" ]
check "no package was stored" [ "$(ls "$C/packages" | grep -vc '^enc$')" = 1 ]
check "and no encrypted copy" [ "$(ls -A "$C/packages/enc" | wc -l)" = 2 ]

run "$OUTPOST" --data "$C" import-qti -f "$WORK/none.zip"
check "a missing file is refused" status_is 1
run "$OUTPOST" --data "$C" import-qti
check "-f is required" status_is 2

# The size limit comes from configuration.limits.qti-package-max-bytes.
L="$WORK/limited"
write_setup "$WORK/limited.json" central
sed -i 's/"security"/"limits": {"qti-package-max-bytes": 2048},\n    "security"/' "$WORK/limited.json"
"$OUTPOST" --data "$L" setup "$WORK/limited.json" > /dev/null 2>&1
run "$OUTPOST" --data "$L" import-qti -f "$DEMO"
check "a package over the configured limit is refused" status_is 1
check "the refusal names the limit" contains "$ERR" "over the limit of 2048 bytes"
check "the refusal names the setting" contains "$ERR" "over the limit of 2048 bytes for a package (configuration.limits.qti-package-max-bytes)"

D="$WORK/d"
new_instance "$D" device
run "$OUTPOST" --data "$D" import-qti -f "$DEMO"
check "import-qti is refused on a device" status_is 1

# qti run on the demo test. Hand-worked from the XML:
#  capital: match_correct, "paris" -> 1; primes: map_response +1 per prime, -1 per non-prime,
#  bounded [0,3]: {n2,n3,n7} -> 3, {n2,n4} -> 0, {n2,n3,n9} -> 1; planet: string mapping,
#  case-insensitive "Mars" -> 1; rivers: exact order 2, right first only 1; comment: 0.
#  TOTAL_SCORE = sum of SCORE; MAX_SCORE = sum of normalMaximum = 1+3+1+2+0 = 7;
#  NCORRECT = items whose responses match their correct responses.
squeeze() { OUT=$(printf '%s' "$OUT" | tr -d ' \n'); }
printf '%s' '{"capital": {"RESPONSE": "paris"}, "primes": {"RESPONSE": ["n2", "n3", "n7"]},
  "planet": {"RESPONSE": "mars"}, "rivers": {"RESPONSE": ["nile", "amazon", "danube"]},
  "comment": {"RESPONSE": "Nice test"}}' > "$WORK/right.json"
run "$OUTPOST" qti run -f "$DEMO" --responses "$WORK/right.json"
squeeze
check "qti run succeeds" status_is 0
check "the route is the document order" contains "$OUT" '"route":["capital","primes","planet","rivers","comment"]'
check "all right: primes scores 3" contains "$OUT" '"primes":{"SCORE":3.0'
check "all right: rivers scores 2" contains "$OUT" '"rivers":{"SCORE":2.0'
check "all right: case-insensitive Mars scores 1" contains "$OUT" '"planet":{"SCORE":1.0'
check "all right: TOTAL_SCORE 7, MAX_SCORE 7" contains "$OUT" '"test":{"TOTAL_SCORE":7.0,"MAX_SCORE":7.0,"NCORRECT":3}'
printf '%s' '{"capital": {"RESPONSE": "lyon"}, "primes": {"RESPONSE": ["n2", "n3", "n9"]},
  "rivers": {"RESPONSE": ["nile", "danube", "amazon"]}}' > "$WORK/partly.json"
run "$OUTPOST" qti run -f "$DEMO" --responses "$WORK/partly.json"
squeeze
check "partly: primes 2 primes and 1 non-prime scores 1" contains "$OUT" '"primes":{"SCORE":1.0'
check "partly: rivers with the first right scores 1" contains "$OUT" '"rivers":{"SCORE":1.0'
check "partly: TOTAL_SCORE 2" contains "$OUT" '"TOTAL_SCORE":2.0'
printf '%s' '{}' > "$WORK/empty.json"
run "$OUTPOST" qti run -f "$DEMO" --responses "$WORK/empty.json"
squeeze
check "empty: TOTAL_SCORE 0" contains "$OUT" '"TOTAL_SCORE":0.0'

printf '%s' '{"primes": {"RESPONSE": "n2"}, "capital": {"RESPONSE": ["paris"]}}' > "$WORK/badtype.json"
run "$OUTPOST" qti run -f "$DEMO" --responses "$WORK/badtype.json"
check "a response of the wrong cardinality is refused" status_is 1
check "the error names the item and the variable" contains "$ERR" "capital"
check "the error names the variable" contains "$ERR" "RESPONSE"
printf '%s' '{"nosuch": {"RESPONSE": "a"}}' > "$WORK/unknown.json"
run "$OUTPOST" qti run -f "$DEMO" --responses "$WORK/unknown.json"
check "an unknown item ref is refused" contains "$ERR" "nosuch is not an item ref"
run "$OUTPOST" qti run -f "$DEMO" --responses "$WORK/empty.json" --seed -3
check "a negative seed is a usage error" status_is 2

# Delivery settings from import-qti.
run "$OUTPOST" --data "$C" import-qti -f "$DEMO" --label "Settings default" --json
check "a delivery is proctored by default" contains "$OUT" '"proctored_default": true'
check "a delivery allows unlimited executions by default" contains "$OUT" '"max_executions": 0'
run "$OUTPOST" --data "$C" import-qti -f "$DEMO" --label "Unproctored" --proctored no --max-executions 2 --json
check "--proctored no makes an unproctored delivery" contains "$OUT" '"proctored_default": false'
check "--max-executions is kept" contains "$OUT" '"max_executions": 2'
run "$OUTPOST" --data "$C" import-qti -f "$DEMO" --proctored maybe
check "--proctored takes only yes or no" status_is 2
run "$OUTPOST" --data "$C" import-qti -f "$DEMO" --max-executions -1
check "--max-executions refuses a negative number" status_is 2

finish
