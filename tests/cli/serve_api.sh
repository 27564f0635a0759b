# Tests of central's sync endpoints with the real binary (docs/protocol.md): a central set up
# with `outpost setup`, a sync manager imported, a delivery with its encrypted package at a
# test center of the sync manager's organisation; `outpost serve` on a free port; then curl
# through enrol -> token -> changes -> packages (Range) -> results (an envelope sealed by
# tests/tools/envelope_tool with the device's key) -> report, and `outpost devices list`
# shows the device with its last sync. On the pgsql run (pg/cli/serve_api), a second `serve`
# on the same PostgreSQL database takes every other request.
. "$(dirname "$0")/lib.sh"
TOOL="$BUILD_DIR/envelope_tool"
C="$WORK/c"; D="$WORK/d"
new_instance "$C" central
new_instance "$D" device

printf 'Login,Password,organisation id\nsm1,pw-sm-1,ORG-1\nsm2,pw-sm-2,ORG-2\n' > "$WORK/sm.csv"
run "$OUTPOST" --data "$C" import-users -t sync-manager -f "$WORK/sm.csv"
check "sync managers are imported" status_is 0
sh "$OUTPOST_SOURCE/scripts/make-demo-package.sh" "$WORK/demo.zip"
"$OUTPOST" --data "$C" import-qti -f "$WORK/demo.zip" --label Maths > /dev/null
"$OUTPOST" --data "$C" testcenters add --label School --org ORG-1 > /dev/null
printf 'pw\n' | "$OUTPOST" --data "$C" users add --login ada --role test-taker > /dev/null
"$OUTPOST" --data "$C" eligibilities set --center School --delivery Maths --test-takers ada > /dev/null
DELIVERY=$(sql "$C" "SELECT id FROM deliveries")
ADA=$(sql "$C" "SELECT id FROM users WHERE login = 'ada'")
ENC=$(sql "$C" "SELECT enc_sha256 FROM delivery_content")
check "the delivery has an encrypted package" [ -f "$C/packages/enc/$ENC" ]

# usage: start_serve NAME - `outpost serve` on a free port (log in $WORK/NAME.log); sets
# URL_<NAME> and PID_<NAME>
start_serve() {
    "$OUTPOST" --data "$C" serve --listen 127.0.0.1:0 > /dev/null 2> "$WORK/$1.log" &
    eval "PID_$1=\$!"
    i=0; u=
    while [ $i -lt 100 ] && [ -z "$u" ]; do
        u=$(sed -n 's/.* listening on \(http:\/\/[^ ]*\) .*/\1/p' "$WORK/$1.log")
        [ -n "$u" ] || sleep 0.1
        i=$((i + 1))
    done
    [ -n "$u" ] || { echo "FAIL: serve $1 did not start:"; cat "$WORK/$1.log"; exit 1; }
    eval "URL_$1=\$u"
}
start_serve one
URL_two=$URL_one
if on_pgsql; then
    start_serve two # a second server on the same database
    check "two servers listen on two ports" [ "$URL_one" != "$URL_two" ]
fi
# requests alternate between the servers (with one server, both are the same); the count is
# kept in a file, as $(url) runs in a subshell
echo 0 > "$WORK/turn"
url() {
    n=$(($(cat "$WORK/turn") + 1)); echo $n > "$WORK/turn"
    if [ $((n % 2)) = 0 ]; then echo "$URL_two"; else echo "$URL_one"; fi
}
# usage: json_field NAME - the string or number NAME of the JSON in $OUT
json_field() { printf '%s' "$OUT" | sed -n "s/.*\"$1\": *\"\{0,1\}\([^\",}]*\)\"\{0,1\}.*/\1/p"; }

# enrol
run "$OUTPOST" --data "$D" keys show --json
DEV=$(json_field instance_id)
PK=$(printf '%s' "$OUT" | sed -n 's/.*"public_key": "\([0-9a-f]*\)".*/\1/p' | head -1)
enrol_body() { printf '{"login":"sm1","password":"%s","device_id":"%s","label":"Laptop 1","signing_public_key":"%s"}' "$1" "$DEV" "$PK"; }
run curl -sS -i -X POST -H 'Content-Type: application/json' --data "$(enrol_body wrong)" "$(url)/api/v1/enrol"
check "enrol with a wrong password is 401" contains "$OUT" "HTTP/1.1 401"
run curl -sS -i -X POST -H 'Content-Type: application/json' --data "$(enrol_body pw-sm-1)" "$(url)/api/v1/enrol"
check "enrol is 201" contains "$OUT" "HTTP/1.1 201"
check "enrol is not cached" contains "$OUT" "Cache-Control: no-store"
check "enrol gives the organisation" contains "$OUT" '"org_id":"ORG-1"'
CLIENT=$(json_field client_id)
SECRET=$(json_field client_secret)
check "enrol gives a client id" [ -n "$CLIENT" ]
run curl -sS -i -X POST -H 'Content-Type: application/json' --data "$(enrol_body pw-sm-1)" "$(url)/api/v1/enrol"
check "enrolling again is 409" contains "$OUT" "HTTP/1.1 409"

# token, with HTTP Basic
run curl -sS -i -u "$CLIENT:wrong" -d grant_type=client_credentials "$(url)/api/v1/oauth/token"
check "a wrong secret is 401 invalid_client" contains "$OUT" '"error":"invalid_client"'
check "with WWW-Authenticate: Basic" contains "$OUT" 'WWW-Authenticate: Basic realm="outpost"'
run curl -sS -i -u "$CLIENT:$SECRET" -d grant_type=client_credentials "$(url)/api/v1/oauth/token"
check "token is 200" contains "$OUT" "HTTP/1.1 200"
check "token is not cached" contains "$OUT" "Pragma: no-cache"
TOKEN=$(json_field access_token)
check "a bearer token comes" [ -n "$TOKEN" ]
AUTH="Authorization: Bearer $TOKEN"

# changes
run curl -sS -i "$(url)/api/v1/changes?since=0"
check "changes without a token is 401" contains "$OUT" "HTTP/1.1 401"
check "with WWW-Authenticate: Bearer" contains "$OUT" 'WWW-Authenticate: Bearer realm="outpost"'
run curl -sS -i -H "$AUTH" "$(url)/api/v1/changes?since=0&limit=100"
check "changes is 200" contains "$OUT" "HTTP/1.1 200"
check "a signed page" contains "$OUT" 'Content-Type: application/vnd.outpost.signed-page'
check "its head names the key and the signature" contains "$OUT" 'outpost signed page v2 '
PAGE=$(printf '%s' "$OUT" | sed -n '/^outpost signed page v2 /{n;p;}')
check "the page is ORG-1's" contains "$PAGE" '"org":"ORG-1"'
check "it carries the delivery" contains "$PAGE" "$DELIVERY"

# packages, with Range
run curl -sS -H "$AUTH" -o "$WORK/pkg" -w '%{http_code}' "$(url)/api/v1/packages/$ENC"
check "the package is 200" [ "$OUT" = 200 ]
check "its bytes hash to its name" [ "$(sha256sum "$WORK/pkg" | cut -d' ' -f1)" = "$ENC" ]
head -c 100 "$WORK/pkg" > "$WORK/part"
run curl -sS -H "$AUTH" -C 100 -o "$WORK/rest" -w '%{http_code}' "$(url)/api/v1/packages/$ENC"
check "the rest from byte 100 is 206" [ "$OUT" = 206 ]
cat "$WORK/part" "$WORK/rest" > "$WORK/resumed"
check "resumed, it is the whole package" cmp -s "$WORK/resumed" "$WORK/pkg"
run curl -sS -i -H "$AUTH" "$(url)/api/v1/packages/$(printf '%064d' 0)"
check "an unknown package is 404" contains "$OUT" "HTTP/1.1 404"

# results: an envelope sealed with the device's key, pushed twice
printf '{"score": 1}' > "$WORK/payload.json"
run env OUTPOST_TOOL_NO_SCOPE=1 "$TOOL" seal "$D" "$C" "$WORK/env.bin" "$WORK/payload.json" finished "" "$DELIVERY" "$ADA"
check "an envelope is sealed" status_is 0
RID=$OUT
printf '{"format":"outpost results batch v1","device_id":"%s","results":[{"result_id":"%s","envelope":"%s"}]}' \
    "$DEV" "$RID" "$(base64 -w0 "$WORK/env.bin")" > "$WORK/batch.json"
for round in 1 2; do
    run curl -sS -i -H "$AUTH" -H 'Content-Type: application/json' --data-binary "@$WORK/batch.json" "$(url)/api/v1/results"
    check "results push $round is 200" contains "$OUT" "HTTP/1.1 200"
done
check "the result is stored once" [ "$(sql "$C" "SELECT count(*) FROM results")" -eq 1 ]

# report
NOW=$(date +%s)
REPORT=$(printf '{"started_at":"2026-12-06T08:00:00Z","ended_at":"2026-12-06T08:00:02Z","status":"ok","counts":{"user":{"created":1,"updated":0,"deleted":0}},"results_sent":1,"bytes":%s,"error":null,"software_version":"test-1","pending_results":0,"device_time":%s}' "$(stat -c %s "$WORK/pkg")" "$NOW")
run curl -sS -i -H "$AUTH" -H 'Content-Type: application/json' --data "$REPORT" "$(url)/api/v1/sync/report"
check "the report is 200" contains "$OUT" "HTTP/1.1 200"
check "it names the run" contains "$OUT" '"run_id":"'
run curl -sS -i -H "$AUTH" "$(url)/api/v1/keys"
check "keys is 200 with the signed results key" contains "$OUT" '"results_key_signature":"'

run "$OUTPOST" --data "$C" devices list --json
check "devices list shows the device" contains "$OUT" "$DEV"
check "with its last sync" sh -c "! printf '%s' \"\$1\" | grep -q '\"last_sync_at\": null'" _ "$OUT"
run "$OUTPOST" --data "$C" sync-history --json
check "central's sync history has the run" contains "$OUT" "$DEV"

# revoked: its token stops at once
run "$OUTPOST" --data "$C" devices revoke "$DEV"
run curl -sS -i -H "$AUTH" "$(url)/api/v1/changes"
check "a revoked device's token is 401 at once" contains "$OUT" 'error="invalid_token"'

if on_pgsql; then
    check "server two answered requests" grep -q 'status=200' "$WORK/two.log"
    kill -TERM "$PID_two"; wait "$PID_two"; RC=$?
    check "server two stops with status 0" status_is 0
fi
check "server one answered requests" grep -q 'status=200' "$WORK/one.log"
check "no secret in the access log" sh -c "! grep -q -e \"\$1\" -e \"\$2\" \"\$3\"" _ "$SECRET" "$TOKEN" "$WORK/one.log"
kill -TERM "$PID_one"; wait "$PID_one"; RC=$?
check "server one stops with status 0" status_is 0
finish
