# The sync manager's big button on a device (docs/api.md "Sync manager", docs/operations.md
# "The sync button"), against a real central, both `outpost serve` processes on loopback: a
# press starts the sync in the device server's background and the progress is polled to its
# outcome; a second press while it runs returns the running sync (central is held with
# SIGSTOP so that the sync waits on it); cron's `outpost sync` holding the lock is shown as
# running, started by its pid, and no second sync starts; only a sync manager's session may
# press (CSRF token needed), a proctor or a test taker gets 403; history and readiness; a
# server stopped during a sync cancels it cleanly (recorded failed, lock released, the next
# sync completes).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fixtures/centers.sh"
. "$(dirname "$0")/fixtures/sync.sh"
C="$WORK/c"; D="$WORK/d"
new_instance "$C" central
new_instance "$D" device
org_fixture "$C"
start_serve "$C"
C_PID=$SERVE_PID
CRON_PID=
stop_all() {
    kill -CONT $C_PID 2> /dev/null
    kill -TERM $C_PID ${D_PID:-} ${CRON_PID:-} 2> /dev/null
    wait 2> /dev/null
    lib_cleanup
}
trap stop_all EXIT
"$OUTPOST" --data "$D" register-central --root-url "$URL" > /dev/null 2>&1
SERVE_PORT=
start_serve "$D"
D_PID=$SERVE_PID
DURL=$URL

# usage: login LOGIN - POST /api/v1/session with the fixture's password; the cookie in
# $WORK/jar-LOGIN, the CSRF token in $CSRF
login() {
    curl -s -o "$WORK/body" -c "$WORK/jar-$1" -H 'Content-Type: application/json' \
        --data "{\"login\": \"$1\", \"password\": \"pw-$1\"}" "$DURL/api/v1/session"
    CSRF=$(sed -n 's/.*"csrf":"\([^"]*\)".*/\1/p' "$WORK/body")
}
# usage: api LOGIN METHOD PATH [CSRF] - the status in $CODE, the body in $BODY
api() {
    CODE=$(curl -s -o "$WORK/body" -w '%{http_code}' -b "$WORK/jar-$1" -X "$2" \
        ${4:+-H "X-CSRF-Token: $4"} "$DURL$3")
    BODY=$(cat "$WORK/body")
}
# usage: field NAME - the scalar member NAME of $BODY ("..." unquoted), first occurrence
field() { printf '%s' "$BODY" | sed -n "s/.*\"$1\":\(\"[^\"]*\"\|[^,}]*\).*/\1/p" | head -n 1 | tr -d '"'; }
# usage: poll_done LOGIN - GET /api/v1/sync until it no longer runs (60 s at most)
poll_done() {
    pd_i=0
    while [ $pd_i -lt 600 ]; do
        api "$1" GET /api/v1/sync
        [ "$(field running)" = false ] && return 0
        sleep 0.1
        pd_i=$((pd_i + 1))
    done
    return 1
}
runs() { sqlite3 "$D/outpost.db" "SELECT count(*) FROM sync_runs"; }

api nobody GET /api/v1/sync
check "no session: 401" [ "$CODE" = 401 ]

login sm-a # enrols the device (web login's handshake)
SM_CSRF=$CSRF
check "the sync manager logs in" [ -n "$SM_CSRF" ]
api sm-a GET /api/v1/sync
check "nothing synced yet: no outcome" contains "$BODY" '"running":false'
check "and no outcome" [ "$(field outcome)" = null ]
api sm-a POST /api/v1/sync
check "a press without the CSRF token is refused" [ "$CODE" = 403 ]
check "as csrf" contains "$BODY" '"csrf"'
check "and starts nothing" [ "$(runs)" = 0 ]

# the first sync, pressed twice while central is held
kill -STOP $C_PID
api sm-a POST /api/v1/sync "$SM_CSRF"
check "the press starts a sync: 202" [ "$CODE" = 202 ]
check "running" contains "$BODY" '"running":true'
check "not already running" contains "$BODY" '"already_running":false'
RUN1=$(field run_id)
check "its run is recorded" [ -n "$RUN1" -a "$RUN1" != null ]
check "by this server" [ "$(field pid)" = "$D_PID" ]
api sm-a POST /api/v1/sync "$SM_CSRF"
check "a second press: 200" [ "$CODE" = 200 ]
check "already running" contains "$BODY" '"already_running":true'
check "the same sync" [ "$(field run_id)" = "$RUN1" ]
check "one run only" [ "$(runs)" = 1 ]
api sm-a GET /api/v1/sync
check "the progress shows it running" contains "$BODY" '"running":true'
check "waiting for its token" [ "$(field phase)" = token ]
kill -CONT $C_PID
check "the sync ends" poll_done sm-a
check "well" [ "$(field outcome)" = ok ]
check "phase done" [ "$(field phase)" = done ]
check "the same run" [ "$(field run_id)" = "$RUN1" ]
check "records received" [ "$(field records)" -gt 0 ]
check "bytes received" [ "$(field bytes)" -gt 0 ]
check "an end time" [ "$(field ended_at)" != null ]
check "recorded ok" [ "$(sqlite3 "$D/outpost.db" "SELECT status FROM sync_runs WHERE id = '$RUN1'")" = ok ]

# who may press
login pa1
PA_CSRF=$CSRF
api pa1 GET /api/v1/sync
check "a proctor may not see the sync: 403" [ "$CODE" = 403 ]
api pa1 POST /api/v1/sync "$PA_CSRF"
check "nor press: 403" [ "$CODE" = 403 ]
login ta1
api ta1 POST /api/v1/sync "$CSRF"
check "nor a test taker: 403" [ "$CODE" = 403 ]
for p in /api/v1/sync/history /api/v1/readiness; do
    api ta1 GET $p
    check "nor read $p: 403" [ "$CODE" = 403 ]
done
check "nothing started by them" [ "$(runs)" = 1 ]

# cron's `outpost sync` holds the lock (central held, so it waits on it). It starts a second
# after the button's last sync at least: the history dates runs to the second, and within one
# second the page cannot tell which of two runs came last (sync/bg.c; a known limit, noted)
sleep 1
kill -STOP $C_PID
"$OUTPOST" --data "$D" sync > "$WORK/cron.out" 2>&1 &
CRON_PID=$!
i=0
while [ "$(sqlite3 "$D/outpost.db" "SELECT count(*) FROM sync_runs WHERE status = 'running'")" != 1 ] && [ $i -lt 100 ]; do
    sleep 0.1; i=$((i + 1))
done
api sm-a POST /api/v1/sync "$SM_CSRF"
check "a press while cron syncs: 200" [ "$CODE" = 200 ]
check "already running" contains "$BODY" '"already_running":true'
check "elsewhere" contains "$BODY" '"elsewhere":true'
check "started by cron's pid" [ "$(field pid)" = "$CRON_PID" ]
CRON_RUN=$(field run_id)
check "cron's run" [ "$CRON_RUN" = "$(sqlite3 "$D/outpost.db" "SELECT id FROM sync_runs WHERE status = 'running'")" ]
check "no second sync" [ "$(runs)" = 2 ]
api sm-a GET /api/v1/sync
check "the progress shows cron's sync running" contains "$BODY" '"running":true'
check "by its pid" [ "$(field pid)" = "$CRON_PID" ]
kill -CONT $C_PID
wait $CRON_PID
RC=$?
CRON_PID=
check "cron's sync completes" status_is 0
api sm-a GET /api/v1/sync
check "then its outcome is shown" [ "$(field outcome)" = ok ]
check "of its run" [ "$(field run_id)" = "$CRON_RUN" ]
check "not running" contains "$BODY" '"running":false'

# history and readiness
api sm-a GET /api/v1/sync/history
check "the history: 200" [ "$CODE" = 200 ]
check "both runs, newest first" [ "$(printf '%s' "$BODY" | grep -o '"status":"ok"' | wc -l)" = 2 ]
api sm-a "GET" "/api/v1/sync/history?limit=1"
check "?limit=1: one run" [ "$(printf '%s' "$BODY" | grep -o '"status":"ok"' | wc -l)" = 1 ]
api sm-a GET "/api/v1/sync/history?limit=0"
check "?limit=0 is refused" [ "$CODE" = 400 ]
api sm-a GET /api/v1/readiness
check "readiness: 200" [ "$CODE" = 200 ]
check "central reachable" contains "$BODY" '"reachable":true'
check "at the registered URL" contains "$BODY" "\"url\":\"$(sqlite3 "$D/outpost.db" "SELECT value FROM meta WHERE key = 'central-root-url'")"
check "no results waiting" [ "$(field results_waiting)" = 0 ]
check "disk space" [ "$(field free_bytes)" -gt 0 ]
check "the last sync" contains "$BODY" "\"last_sync\":{"

# the server stops during a sync: cancelled, recorded, lock released
kill -STOP $C_PID
api sm-a POST /api/v1/sync "$SM_CSRF"
check "a third press starts a sync" [ "$CODE" = 202 ]
RUN3=$(field run_id)
T0=$(date +%s)
kill -TERM $D_PID
wait $D_PID
RC=$?
D_PID=
check "the device server stops cleanly (exit 0)" status_is 0
check "within seconds" [ $(($(date +%s) - T0)) -lt 10 ]
check "the run is recorded failed" [ "$(sqlite3 "$D/outpost.db" "SELECT status FROM sync_runs WHERE id = '$RUN3'")" = failed ]
check "as stopped with the server" contains "$(sqlite3 "$D/outpost.db" "SELECT error FROM sync_runs WHERE id = '$RUN3'")" "server is stopping"
check "the database is intact" db_intact "$D"
kill -CONT $C_PID
run "$OUTPOST" --data "$D" sync
check "the lock is free: the next sync completes" status_is 0
finish
