# Tests of `outpost api-tokens create|list|revoke` on central (docs/api.md, "Backoffice:
# bearer tokens"): a token acts as its backoffice user on the API under /api/v1/admin (curl
# against a real `outpost serve`), only its hash is stored, list never shows it, revoke stops
# it at once; refused for users who may not use the backoffice, and on a device.
. "$(dirname "$0")/lib.sh"
C="$WORK/c"; D="$WORK/d"
new_instance "$C" central
new_instance "$D" device
run_stdin "pw-x" "$OUTPOST" --data "$C" users add --login tca --role test-center-admin
run_stdin "pw-x" "$OUTPOST" --data "$C" users add --login pat --role proctor

run "$OUTPOST" --data "$C" api-tokens create --login tca --label "nightly export" --expires-days 30
check "api-tokens create succeeds" status_is 0
TOKEN=$(printf '%s\n' "$OUT" | head -n 1)
check "it prints the token on the first line" [ ${#TOKEN} = 43 ]
check "and says it is shown once" contains "$ERR" "shown only this once"
check "only its hash is stored" [ "$(sql "$C" "SELECT count(*) FROM api_tokens WHERE token_hash <> '$TOKEN' AND length(token_hash) = 64")" = 1 ]

run "$OUTPOST" --data "$C" api-tokens create --login pat
check "a proctor gets no API token" status_not 0
check "saying why" contains "$ERR" "backoffice users"
run "$OUTPOST" --data "$C" api-tokens create --login nobody
check "an unknown login gets none" status_not 0
run "$OUTPOST" --data "$C" api-tokens create --login tca --expires-days 5000
check "--expires-days is bounded" status_is 2
run "$OUTPOST" --data "$C" api-tokens create
check "--login is required" status_is 2
run "$OUTPOST" --data "$D" api-tokens create --login admin
check "a device has no API tokens" status_not 0

run "$OUTPOST" --data "$C" api-tokens create --login admin --json
check "--json prints the token once" contains "$OUT" '"token": "'
check "that never expires" contains "$OUT" '"expires_at": null'

run "$OUTPOST" --data "$C" api-tokens list
check "api-tokens list lists both" contains "$OUT" "nightly export"
check "never the token itself" sh -c "! printf '%s' \"\$1\" | grep -q -e \"\$2\"" _ "$OUT" "$TOKEN"
run "$OUTPOST" --data "$C" api-tokens list --login tca --json
check "list --login --json names the fields" contains "$OUT" '"login": "tca"'
check "and the state" contains "$OUT" '"state": "live"'
ID=$(sql "$C" "SELECT t.id FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE u.login = 'tca'")

"$OUTPOST" --data "$C" serve --listen 127.0.0.1:0 > /dev/null 2> "$WORK/serve.log" &
PID=$!
i=0; URL=
while [ $i -lt 100 ] && [ -z "$URL" ]; do
    URL=$(sed -n 's/.* listening on \(http:\/\/[^ ]*\) .*/\1/p' "$WORK/serve.log")
    [ -n "$URL" ] || sleep 0.1
    i=$((i + 1))
done
check "serve starts" [ -n "$URL" ]
run curl -sS -i -H "Authorization: Bearer $TOKEN" "$URL/api/v1/admin/me"
check "the token acts as its user" contains "$OUT" '"login":"tca"'
check "with 200" contains "$OUT" "HTTP/1.1 200"
run curl -sS -i "$URL/api/v1/admin/me"
check "no token, no session: 401" contains "$OUT" "HTTP/1.1 401"

run "$OUTPOST" --data "$C" api-tokens revoke "$ID"
check "api-tokens revoke succeeds" status_is 0
check "and says so" contains "$OUT" "revoked api token $ID"
run curl -sS -i -H "Authorization: Bearer $TOKEN" "$URL/api/v1/admin/me"
check "a revoked token is 401 at once" contains "$OUT" 'error="invalid_token"'
run "$OUTPOST" --data "$C" api-tokens revoke "$ID"
check "revoking again is fine" status_is 0
check "saying it was revoked already" contains "$OUT" "revoked already"
run "$OUTPOST" --data "$C" api-tokens revoke not-a-uuid
check "a bad id is refused" status_not 0
run "$OUTPOST" --data "$C" api-tokens list --json
check "the revoked token is listed as such" contains "$OUT" '"state": "revoked"'

check "no token in the access log" sh -c "! grep -q -e \"\$1\" \"\$2\"" _ "$TOKEN" "$WORK/serve.log"
kill -TERM "$PID"; wait "$PID"; RC=$?
check "serve stops with status 0" status_is 0
finish
