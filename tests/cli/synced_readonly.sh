# On a device, users, test centers, eligibilities and deliveries come from central by sync
# (docs/sync-protocol.md): every command that would change them is refused, saying so, and
# changes nothing.
. "$(dirname "$0")/lib.sh"
not_contains() { ! contains "$@"; }
D="$WORK/d"
new_instance "$D" device
before=$(sql "$D" "SELECT count(*) FROM synced_records")

run_stdin pw "$OUTPOST" --data "$D" users add --login ada --role test-taker
check "users add is refused on a device" status_is 1
check "saying the records come from central" contains "$ERR" "come from central by sync"
check "and are read-only" contains "$ERR" "read-only here"
run "$OUTPOST" --data "$D" users delete ada
check "users delete is refused on a device, saying why" contains "$ERR" "come from central by sync"
run "$OUTPOST" --data "$D" testcenters add --label School --org ORG-1
check "testcenters add is refused on a device" status_is 1
check "saying the records come from central" contains "$ERR" "come from central by sync"
run "$OUTPOST" --data "$D" testcenters delete School
check "testcenters delete is refused on a device, saying why" contains "$ERR" "come from central by sync"
run "$OUTPOST" --data "$D" eligibilities set --center X --delivery Y --test-takers t1
check "eligibilities set is refused on a device, saying why" contains "$ERR" "come from central by sync"
run "$OUTPOST" --data "$D" deliveries delete whatever
check "deliveries delete is refused on a device, saying why" contains "$ERR" "come from central by sync"
printf 'login,role\nada,test-taker\n' > "$WORK/u.csv"
run "$OUTPOST" --data "$D" import-users -t test-taker -f "$WORK/u.csv"
check "import-users is refused on a device, saying why" contains "$ERR" "from central by sync"
check "nothing changed" [ "$(sql "$D" "SELECT count(*) FROM synced_records")" = "$before" ]
check "no user was added" [ "$(sql "$D" "SELECT count(*) FROM users WHERE login = 'ada'")" = 0 ]

# a command about something else keeps the plain message
run "$OUTPOST" --data "$D" keys rotate
check "keys rotate says only where it runs" contains "$ERR" "runs on a central"
check "without the sync sentence" not_contains "$ERR" "come from central by sync"

finish
