# Tests of `outpost devices list [--json]` and `devices revoke ID` on central, with devices
# enrolled through app/enrol.h as sync managers (tests/tools/envelope_tool.c enrol-as stands in
# for the enrolment endpoint), and the refusals of enrolment the CLI can see.
. "$(dirname "$0")/lib.sh"
TOOL="$BUILD_DIR/envelope_tool"
C="$WORK/c"; D1="$WORK/d1"; D2="$WORK/d2"
new_instance "$C" central
new_instance "$D1" device
new_instance "$D2" device

run "$OUTPOST" --data "$C" devices list
check "an empty list is fine" status_is 0
check "it has its header" contains "$OUT" "SYNC MANAGER"
run "$OUTPOST" --data "$C" devices list --json
check "an empty list in JSON is []" [ "$(printf '%s' "$OUT" | tr -d ' \n')" = "[]" ]

run_stdin "pw-sm" "$OUTPOST" --data "$C" users add --login sm-a --role sync-manager --org ORG-A
run_stdin "pw-sm" "$OUTPOST" --data "$C" users add --login sm-b --role sync-manager --org ORG-B
run_stdin "pw-sm" "$OUTPOST" --data "$C" users add --login pat --role proctor

run_stdin "wrong" "$TOOL" enrol-as "$C" "$D1" sm-a "Laptop A"
check "a wrong password does not enrol" status_not 0
check "and says so without naming which is wrong" contains "$ERR" "wrong login or password"
run_stdin "pw-sm" "$TOOL" enrol-as "$C" "$D1" pat "Laptop A"
check "a proctor does not enrol a device" contains "$ERR" "not a sync manager"

run_stdin "pw-sm" "$TOOL" enrol-as "$C" "$D1" sm-a "Laptop A"
check "a sync manager enrols a device" status_is 0
check "into their organisation" contains "$OUT" "ORG-A"
DEV1=${OUT%% *}
run_stdin "pw-sm" "$TOOL" enrol-as "$C" "$D2" sm-b "Laptop B"
DEV2=${OUT%% *}
check "the secret is stored only as a hash" [ "$(sql "$C" "SELECT count(*) FROM oauth_clients WHERE length(secret_hash) = 64")" = 2 ]

run "$OUTPOST" --data "$C" devices list
check "devices list shows both" contains "$OUT" "$DEV1"
check "with their labels" contains "$OUT" "Laptop B"
check "organisation and sync manager" contains "$OUT" "ORG-A"
check "and the sync manager's login" contains "$OUT" "sm-b"
check "never synced" contains "$OUT" "never"

run "$OUTPOST" --data "$C" devices list --json
check "devices list --json names the fields" contains "$OUT" '"sync_manager_login": "sm-a"'
check "with last_sync_at null" contains "$OUT" '"last_sync_at": null'
check "and not revoked" contains "$OUT" '"revoked": false'
check "with no sync report yet" contains "$OUT" '"software_version": null'
check "nor results waiting" contains "$OUT" '"pending_results": null'

run_stdin "pw-sm" "$TOOL" enrol-as "$C" "$D1" sm-a "Laptop A"
check "enrolling the same device again is refused" status_not 0
check "saying to revoke it first" contains "$ERR" "revoke it first"

run "$OUTPOST" --data "$C" devices revoke "$DEV1"
check "devices revoke succeeds" status_is 0
check "and says what it did" contains "$OUT" "revoked device $DEV1"
check "its client is revoked" [ "$(sql "$C" "SELECT count(*) FROM oauth_clients WHERE revoked_at IS NOT NULL")" = 1 ]
run "$OUTPOST" --data "$C" devices list --json
check "the revoked device is still listed, revoked" contains "$OUT" '"revoked": true'
run "$OUTPOST" --data "$C" devices revoke "$DEV1"
check "revoking again is fine" status_is 0

run "$OUTPOST" --data "$C" devices revoke not-a-uuid
check "a bad id is refused" status_not 0
check "saying it is not a device id" contains "$ERR" "not a device id"
run "$OUTPOST" --data "$C" devices revoke 00000000-0000-4000-8000-000000000000
check "an unknown device is refused" status_not 0
check "as unknown" contains "$ERR" "unknown device"
run "$OUTPOST" --data "$C" devices revoke
check "revoke without an id is a usage error" status_is 2

run_stdin "pw-sm" "$TOOL" enrol-as "$C" "$D1" sm-a "Laptop A again"
check "a revoked device enrols again" status_is 0
run "$OUTPOST" --data "$C" devices list
check "with its new label" contains "$OUT" "Laptop A again"

run "$OUTPOST" --data "$D1" devices list
check "devices list runs on central only" status_not 0

# throttling: five wrong passwords for one login, then even the right one waits
for i in 1 2 3 4 5; do run_stdin "wrong" "$TOOL" enrol-as "$C" "$D2" sm-b "Laptop B"; done
run_stdin "pw-sm" "$TOOL" enrol-as "$C" "$D2" sm-b "Laptop B"
check "after five failures the login is throttled" contains "$ERR" "too many failed attempts"
check "saying when to try again" contains "$ERR" "seconds"

# the token lifetime is a setting of outpost.json, checked at setup
write_setup "$WORK/lifetime.json" central
sed 's|"security": {|"security": {"oauth-token-lifetime-seconds": 5, |' "$WORK/lifetime.json" > "$WORK/short.json"
run "$OUTPOST" --data "$WORK/c-short" setup "$WORK/short.json"
check "a token lifetime under a minute is refused" status_not 0
check "naming its path" contains "$ERR" "configuration.security.oauth-token-lifetime-seconds"
sed 's|"security": {|"security": {"oauth-token-lifetime-seconds": 600, |' "$WORK/lifetime.json" > "$WORK/ten.json"
run "$OUTPOST" --data "$WORK/c-ten" setup "$WORK/ten.json"
check "ten minutes is accepted" status_is 0

finish
