# Tests of `outpost results export` on central: the CSV (RFC 4180, CRLF, formulas neutralised,
# the figures of `results list` / the results tab) and the QTI XML (a ZIP of documents that
# xmllint validates against IMS's imsqti_result_v2p1.xsd), with envelopes sealed by a device's
# key (tests/tools/envelope_tool.c stands in for the device).
. "$(dirname "$0")/lib.sh"
TOOL="$BUILD_DIR/envelope_tool"
XSD="$OUTPOST_SOURCE/tests/fixtures/qti-results/imsqti_result_v2p1.xsd"
command -v xmllint > /dev/null || { echo "SKIP: xmllint is missing (apt-get install libxml2-utils)"; exit 77; }
C="$WORK/c"; D="$WORK/d"
new_instance "$C" central
new_instance "$D" device
"$TOOL" enrol "$C" "$D" > /dev/null || { echo "FAIL: enrol"; exit 1; }
DELIVERY=11111111-2222-4333-8444-555555555555
T1=aaaaaaaa-0000-4000-8000-000000000011
T2=aaaaaaaa-0000-4000-8000-000000000012

# a result as the device seals it (docs/api.md, "The sealed result")
payload() { # usage: payload FILE SCORE NOTE RESPONSE
    printf '{"format":"outpost result v1","execution":{"id":"x","center_id":"tool-center","state":"finished"},"session":null,"outcome":{"format":1,"test":"maths","outcomes":{"SCORE_TOTAL":%s,"SCORE_TOTAL_MAX":4,"NOTE":"%s"},"route":["i1"],"items":{"i1":{"identifier":"item-1","responses":{"RESPONSE":"%s"},"outcomes":{"SCORE":%s}}}},"audit":[]}' \
        "$2" "$3" "$4" "$2" > "$1"
}
payload "$WORK/p1.json" 3 "=cmd|' /C calc'!A0" "choice_a"
payload "$WORK/p2.json" 1.5 "fine, \\\"quoted\\\"" "+33 6 12"
r1=$("$TOOL" seal "$D" "$C" "$WORK/in.bin" "$WORK/p1.json" finished "" "$DELIVERY" "$T1")
r2=$("$TOOL" seal "$D" "$C" "$WORK/in.bin" "$WORK/p2.json" terminated "" "$DELIVERY" "$T2")
run "$OUTPOST" --data "$C" results import -f "$WORK/in.bin"
check "two results are received" contains "$OUT" "2 stored"
run "$OUTPOST" --data "$C" decrypt-results --all
check "and decrypted" contains "$OUT" "2 decrypted"

run "$OUTPOST" --data "$C" results export --delivery "tool delivery" --format csv
check "export --format csv writes to standard output" status_is 0
check "the CSV has its header row" contains "$OUT" "result_id,execution_id,test_taker_login,test_taker_label,test_center,device,started_at,ended_at,state,status,review,score,max_score,NOTE,SCORE_TOTAL,SCORE_TOTAL_MAX"
check "a formula is neutralised by a leading quote" contains "$OUT" ",'=cmd|' /C calc'!A0,"
check "a cell with a comma and quotes is quoted, its quotes doubled" contains "$OUT" '"fine, ""quoted"""'
check "the scores are numbers as the tab shows them" contains "$OUT" ",3,4,"
check "and a fraction keeps its figures" contains "$OUT" ",1.5,4,"
"$OUTPOST" --data "$C" results export --delivery "$DELIVERY" --format csv > "$WORK/raw.csv" 2> /dev/null
check "every line ends in CRLF (3 lines, 3 CR)" [ "$(tr -cd '\r' < "$WORK/raw.csv" | wc -c)" = 3 ] && [ "$(wc -l < "$WORK/raw.csv")" = 3 ]

run "$OUTPOST" --data "$C" results export --delivery "$DELIVERY" --format csv --out "$WORK/out.csv"
check "--out writes the file and says how many results" contains "$ERR" "2 results exported to"
check "the file is the same as the standard output" cmp -s "$WORK/out.csv" "$WORK/raw.csv"
check "the file is private (mode 600)" [ "$(stat -c %a "$WORK/out.csv")" = 600 ]
run "$OUTPOST" --data "$C" results export --delivery "$DELIVERY" --format csv --state terminated
check "the filters of the tab apply" [ "$(printf '%s\n' "$OUT" | wc -l)" = 2 ]

run "$OUTPOST" --data "$C" results export --delivery "$DELIVERY" --format qti-xml --out "$WORK/r.zip"
check "export --format qti-xml writes a ZIP" status_is 0
mkdir "$WORK/xml"
unzip -q "$WORK/r.zip" -d "$WORK/xml"
check "one document per result" [ -f "$WORK/xml/$r1.xml" ] && [ -f "$WORK/xml/$r2.xml" ]
run xmllint --noout --schema "$XSD" "$WORK/xml/$r1.xml" "$WORK/xml/$r2.xml"
check "each validates against IMS's imsqti_result_v2p1.xsd" status_is 0
check "and holds the score" grep -q '<outcomeVariable identifier="SCORE_TOTAL" cardinality="single" baseType="integer"><value>3</value>' "$WORK/xml/$r1.xml"
run "$OUTPOST" --data "$C" results export --result "$r2" --out "$WORK/one.xml"
run xmllint --noout --schema "$XSD" "$WORK/one.xml"
check "export --result writes one document that validates" status_is 0

run "$OUTPOST" --data "$C" results export --delivery "$DELIVERY" --format xlsx --out "$WORK/bad"
check "an unknown format is a usage error" status_is 2
check "naming the formats" contains "$ERR" "csv or qti-xml"
run "$OUTPOST" --data "$C" results export --delivery "no such test" --format csv --out "$WORK/none.csv"
check "an unknown delivery is refused" status_is 1
check "and nothing is written" [ ! -e "$WORK/none.csv" ] && [ -z "$(ls "$WORK" | grep 'none.csv')" ]
run "$OUTPOST" --data "$C" results export --delivery "$DELIVERY" --format csv --from 2026-13-01
check "a bad date names the option" contains "$ERR" "from"
finish
