# Tests of `outpost users`: add, list, passwd, delete, and passwords never on the command line.
. "$(dirname "$0")/lib.sh"
C="$WORK/c"
new_instance "$C" central

run_stdin "secret-pw-1" "$OUTPOST" --data "$C" users add --login alice --role test-taker --first-name Alice
check "users add reads the password from stdin" status_is 0
run "$OUTPOST" --data "$C" users list --role test-taker --json
check "the new user is listed as JSON" contains "$OUT" '"login": "alice"'
check "the JSON never holds a password" sh -c "! printf '%s' \"\$1\" | grep -q password" _ "$OUT"

run "$OUTPOST" --data "$C" users add --login bob --role test-taker
check "users add with no password is refused" status_is 1
check "the refusal says how to give one" contains "$ERR" "empty password"

run_stdin "pw" "$OUTPOST" --data "$C" users add --login carol --role sync-manager
check "a sync-manager needs an organisation" status_is 2
run_stdin "pw" "$OUTPOST" --data "$C" users add --login carol --role sync-manager --org ORG-1
check "a sync-manager with --org is added" status_is 0

run_stdin "pw" "$OUTPOST" --data "$C" users add --login dave --role wizard
check "an unknown role is refused" contains "$ERR" 'unknown role "wizard"'

run_stdin "pw" "$OUTPOST" --data "$C" users add --login alice --role test-taker
check "a duplicate login is refused" contains "$ERR" 'login "alice" already exists'

old=$(sql "$C" "SELECT password_hash FROM users WHERE login='alice'")
run_stdin "new-secret-2" "$OUTPOST" --data "$C" users passwd alice
check "users passwd changes the password" status_is 0
check "the stored hash changed" [ "$(sql "$C" "SELECT password_hash FROM users WHERE login='alice'")" != "$old" ]
check "the version was bumped" [ "$(sql "$C" "SELECT version FROM users WHERE login='alice'")" -ge 2 ]

run "$OUTPOST" --data "$C" users passwd alice extra
check "users passwd takes no password argument" status_is 2

run "$OUTPOST" --data "$C" users delete alice
check "users delete removes the user" status_is 0
check "alice is gone" [ -z "$(sql "$C" "SELECT 1 FROM users WHERE login='alice'")" ]
run "$OUTPOST" --data "$C" users delete admin
check "the super-user cannot be deleted" status_is 1
run "$OUTPOST" --data "$C" users delete nobody
check "deleting an unknown login names it" contains "$ERR" '"nobody"'

run "$OUTPOST" --data "$WORK/none" users list
check "a missing instance is a clear error" contains "$ERR" "no Outpost instance here"

finish
