# Tests of `outpost serve`: a central and a device made by `outpost setup` each serve GET
# /api/v1/health (curl), over plain HTTP and over TLS with a self-signed certificate; SIGTERM
# stops the server with exit status 0; bad options, a missing certificate, a key that is not
# the certificate's, a bad address and a port in use are refused; the access log has one line
# per request and no secret from the query string.
. "$(dirname "$0")/lib.sh"

not_contains() { ! contains "$1" "$2"; }

new_instance "$WORK/central" central
new_instance "$WORK/device" device

# usage: start_serve DIR ARGS... - starts `outpost serve --listen 127.0.0.1:0 ARGS` on DIR in
# the background (log in $WORK/serve.log, pid in SERVE_PID) and waits for its "listening on"
# line; sets URL (or fails the test)
start_serve() {
    sdir=$1; shift
    # emptied here, before the server starts: the server's own redirection empties it only
    # once its process runs, and the loop below could read the last server's "listening on"
    : > "$WORK/serve.log"
    "$OUTPOST" --data "$sdir" serve --listen 127.0.0.1:0 "$@" > "$WORK/serve.out" 2> "$WORK/serve.log" &
    SERVE_PID=$!
    URL=
    i=0
    while [ $i -lt 100 ]; do
        URL=$(sed -n 's/.* listening on \(https*:\/\/[^ ]*\) .*/\1/p' "$WORK/serve.log")
        [ -n "$URL" ] && return 0
        kill -0 $SERVE_PID 2> /dev/null || break
        sleep 0.1
        i=$((i + 1))
    done
    echo "FAIL: serve did not start:"; cat "$WORK/serve.log"
    exit 1
}

# usage: stop_serve - SIGTERM, then the exit status in RC
stop_serve() {
    kill -TERM $SERVE_PID
    wait $SERVE_PID
    RC=$?
    OUT=$(cat "$WORK/serve.out")
    ERR=$(cat "$WORK/serve.log")
}

for role in central device; do
    start_serve "$WORK/$role"
    run curl -sS -i "$URL/api/v1/health?since=1&access_token=hunter2"
    check "$role: health answers 200" contains "$OUT" "HTTP/1.1 200"
    check "$role: health names the role" contains "$OUT" "\"role\":\"$role\""
    check "$role: health has the version and schema" contains "$OUT" '"version":"'
    check "$role: the answer carries its request id" contains "$OUT" "X-Request-Id: "
    run curl -sS -i "$URL/api/v1/none"
    check "$role: an unknown path is 404 in JSON" contains "$OUT" '"code":"not_found"'
    stop_serve
    check "$role: SIGTERM stops serve with status 0" status_is 0
    check "$role: the access log has the request" contains "$ERR" "method=GET path=/api/v1/health?since=1&access_token=* status=200"
    check "$role: the access log hides the token" not_contains "$ERR" "hunter2"
    check "$role: the stop is logged" contains "$ERR" "serve: stopped"
done

# TLS with a self-signed certificate
if command -v openssl > /dev/null; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
        -days 2 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" > /dev/null 2>&1
    chmod 600 "$WORK/key.pem"
    start_serve "$WORK/central" --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem"
    check "TLS: serve says https" contains "$URL" "https://127.0.0.1:"
    run curl -sS --cacert "$WORK/cert.pem" "$URL/api/v1/health"
    check "TLS: health over HTTPS, certificate verified" contains "$OUT" '"status":"ok"'
    http_url=$(echo "$URL" | sed 's/^https:/http:/')
    run curl -sS --max-time 5 "$http_url/api/v1/health"
    check "TLS: plain HTTP on the TLS port gets no answer" not_contains "$OUT" '"status":"ok"'
    stop_serve
    check "TLS: SIGTERM stops serve with status 0" status_is 0

    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/other.pem" -out "$WORK/other-cert.pem" \
        -days 2 -subj "/CN=other" > /dev/null 2>&1
    chmod 600 "$WORK/other.pem"
    run "$OUTPOST" --data "$WORK/central" serve --listen 127.0.0.1:0 --tls-cert "$WORK/cert.pem" --tls-key "$WORK/other.pem"
    check "a key that is not the certificate's is refused" status_is 1
    check "the refusal says so" contains "$ERR" "the key is not the certificate's"
else
    echo "SKIP: openssl is missing (scripts/install-deps.sh installs it): no TLS checks"
fi

run "$OUTPOST" --data "$WORK/central" serve --listen 127.0.0.1:0 --tls-cert "$WORK/nope.pem" --tls-key "$WORK/nope-key.pem"
check "a missing certificate is refused" status_is 1
check "the refusal names the file" contains "$ERR" "TLS certificate: $WORK/nope.pem: cannot open"

run "$OUTPOST" --data "$WORK/central" serve --listen 127.0.0.1:0 --tls-cert "$WORK/nope.pem"
check "a certificate without its key is a usage error" status_is 2

run "$OUTPOST" --data "$WORK/central" serve
check "serve without --listen is a usage error" status_is 2
check "it asks for --listen" contains "$ERR" "--listen"

run "$OUTPOST" --data "$WORK/central" serve --listen localhost
check "an address without a port is refused" status_is 1
check "the refusal shows the form" contains "$ERR" "expected ADDRESS:PORT"

run "$OUTPOST" --data "$WORK/central" serve --listen 127.0.0.1:0 --threads 0
check "--threads 0 is a usage error" status_is 2

start_serve "$WORK/central"
port=${URL##*:}
run "$OUTPOST" --data "$WORK/device" serve --listen "127.0.0.1:$port"
check "a port in use is refused" status_is 1
check "the refusal says the port is in use" contains "$ERR" "the port is in use"
stop_serve

run "$OUTPOST" --data "$WORK/nothing" serve --listen 127.0.0.1:0
check "serve without an instance is refused" status_is 1

finish
