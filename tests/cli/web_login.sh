# The device's web login against a real central, both `outpost serve` processes on loopback
# (docs/web.md): a sync manager unknown to a device that is not enrolled logs in by the
# enrolment handshake (the device is then enrolled, as by `outpost enrol`); after a sync, test
# takers and the sync manager log in with their own passwords (their vaults open); wrong
# passwords get one answer; logout needs the CSRF token; an idle session ends.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fixtures/centers.sh"
. "$(dirname "$0")/fixtures/sync.sh"
C="$WORK/c"; D="$WORK/d"
new_instance "$C" central
new_instance "$D" device
org_fixture "$C"
start_serve "$C"
C_PID=$SERVE_PID
not_contains() { ! contains "$1" "$2"; }
stop_all() { kill -TERM $C_PID ${D_PID:-} ${D2_PID:-} ${D3_PID:-} 2> /dev/null; wait 2> /dev/null; lib_cleanup; }
trap stop_all EXIT
"$OUTPOST" --data "$D" register-central --root-url "$URL" > /dev/null 2>&1
SERVE_PORT=
start_serve "$D" --session-idle 2
D_PID=$SERVE_PID
DURL=$URL

# usage: login LOGIN PASSWORD - POST /api/v1/session; HEAD and BODY of the answer, the cookie
# in $WORK/jar
login() {
    curl -s -D "$WORK/head" -o "$WORK/body" -c "$WORK/jar" -H 'Content-Type: application/json' \
        --data "{\"login\": \"$1\", \"password\": \"$2\"}" "$DURL/api/v1/session"
    HEAD=$(cat "$WORK/head"); BODY=$(cat "$WORK/body")
}
csrf() { sed -n 's/.*"csrf":"\([^"]*\)".*/\1/p' "$WORK/body"; }

login sm-a wrong
check "a wrong password on a device not enrolled is refused" contains "$HEAD" "HTTP/1.1 401"
check "nothing enrolled" [ "$(sqlite3 "$D/outpost.db" "SELECT count(*) FROM meta WHERE key = 'enrol-client-id'")" = 0 ]
login sm-a pw-sm-a
check "a sync manager's first login enrols the device" contains "$HEAD" "HTTP/1.1 200"
check "saying so" contains "$BODY" '"device_enrolled":true'
check "as a sync manager" contains "$BODY" '"roles":["sync_manager"]'
check "with a strict cookie" contains "$HEAD" "HttpOnly; SameSite=Strict"
check "the device is enrolled" [ "$(sqlite3 "$D/outpost.db" "SELECT count(*) FROM meta WHERE key = 'enrol-client-id'")" = 1 ]
check "on central too" contains "$("$OUTPOST" --data "$C" devices list 2>&1)" "ORG-A"
run "$OUTPOST" --data "$D" sync
check "the enrolled device syncs" status_is 0

login ta1 pw-ta1
check "a test taker logs in with their own password" contains "$HEAD" "HTTP/1.1 200"
check "as a test taker" contains "$BODY" '"roles":["test_taker"]'
check "with their label from the sealed profile" contains "$BODY" '"label":"ta1"'
TOKEN=$(csrf)
run curl -s -o /dev/null -w '%{http_code}' -b "$WORK/jar" -X DELETE "$DURL/api/v1/session"
check "logout without the CSRF token is refused" [ "$OUT" = 403 ]
run curl -s -o /dev/null -w '%{http_code}' -b "$WORK/jar" "$DURL/api/v1/session"
check "and the session goes on" [ "$OUT" = 200 ]
run curl -s -o /dev/null -w '%{http_code}' -b "$WORK/jar" -H "X-CSRF-Token: $TOKEN" -X DELETE "$DURL/api/v1/session"
check "logout with it ends the session" [ "$OUT" = 204 ]
run curl -s -o /dev/null -w '%{http_code}' -b "$WORK/jar" "$DURL/api/v1/session"
check "which is gone" [ "$OUT" = 401 ]

login ta2 pw-ta1
check "another's password is refused" contains "$HEAD" "HTTP/1.1 401"
check "as wrong login or password" contains "$BODY" "wrong login or password"
login tb1 pw-tb1
check "a test taker of another organisation is unknown here" contains "$HEAD" "HTTP/1.1 401"
login sm-a pw-sm-a
check "the sync manager logs in from their synced vault" contains "$HEAD" "HTTP/1.1 200"
check "without enrolling again" not_contains "$BODY" "device_enrolled"

login pa1 pw-pa1
check "a proctor logs in" contains "$BODY" '"roles":["proctor"]'
sleep 4
run curl -s -o /dev/null -w '%{http_code}' -b "$WORK/jar" "$DURL/api/v1/session"
check "an idle session ends (--session-idle 2)" [ "$OUT" = 401 ]
check "and its end is logged" contains "$(cat "$WORK/serve.log")" "idle session"
# under TLS the session cookie is Secure too (the same device, a second server with a
# self-signed certificate)
if command -v openssl > /dev/null; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
        -days 1 -subj "/CN=127.0.0.1" > /dev/null 2>&1
    chmod 600 "$WORK/key.pem"
    SERVE_PORT=
    start_serve "$D" --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem"
    D3_PID=$SERVE_PID
    run curl -s -k -D - -o /dev/null -H 'Content-Type: application/json' \
        --data '{"login": "ta3", "password": "pw-ta3"}' "$URL/api/v1/session"
    check "over TLS the cookie is Secure" contains "$OUT" "HttpOnly; SameSite=Strict; Secure"
    kill -TERM $D3_PID 2> /dev/null
else
    echo "note: openssl is missing (scripts/install-deps.sh installs it): no TLS cookie check"
fi

# a device not enrolled whose central cannot be reached: the login says so (503, not a 500)
D2="$WORK/d2"
new_instance "$D2" device
"$OUTPOST" --data "$D2" register-central --root-url "http://127.0.0.1:9" > /dev/null 2>&1
SERVE_PORT=
export OUTPOST_SYNC_MAX_ATTEMPTS=1
start_serve "$D2"
D2_PID=$SERVE_PID
DURL=$URL
login sm-a pw-sm-a
check "a first login while central is unreachable is 503" contains "$HEAD" "HTTP/1.1 503"
check "saying central is unreachable" contains "$BODY" '"code":"central_unreachable"'
finish
