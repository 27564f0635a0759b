#!/bin/sh
# The Outpost demo: everything on this machine, in a temporary folder.
# usage: sh scripts/demo.sh PATH/TO/outpost
set -eu
OUTPOST=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/outpost-demo-XXXXXX)
central="$work/central"
device="$work/device"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() {
    printf '$ outpost'
    for a in "$@"; do
        case "$a" in *" "*) printf " '%s'" "$a" ;; *) printf ' %s' "$a" ;; esac
    done
    printf '\n'
    "$OUTPOST" "$@"
}

# The shipped setup files with a demo password (never use the shipped password for real).
sed 's/change-this-password/demo-admin-password/' "$here/config/central.setup.json" > "$work/central.json"
sed 's/change-this-password/demo-admin-password/' "$here/config/device.setup.json" > "$work/device.json"
chmod 600 "$work/central.json" "$work/device.json" # they hold a password: setup warns otherwise

step "1. Set up a central server and an offline device"
run --data "$central" setup "$work/central.json"
run --data "$device" setup "$work/device.json"

step "1B. Import test takers and proctors on central (TAO's ImportUsersCsv)"
run --data "$central" import-users -t test-taker -f "$here/demo/test-takers.csv"
run --data "$central" import-users -t proctor -f "$here/demo/proctors.csv"

step "1C. Import the school's sync manager, with its organisation id"
run --data "$central" import-users -t sync-manager -f "$here/demo/sync-managers.csv"

step "1B. A test center of the school's organisation, with its proctor"
run --data "$central" testcenters add --label "School 42 main building" --org school-42
run --data "$central" testcenters assign "School 42 main building" --proctor paula
run --data "$central" testcenters list

step "1B. Compile the demo QTI test package into a published delivery"
sh "$here/scripts/make-demo-package.sh" "$work/demo-test.zip"
run --data "$central" import-qti -f "$work/demo-test.zip" --label "Demo test"
run --data "$central" deliveries list

samples="$(cd "$here/.." && pwd)/shared/samples/qti/tao"
if [ -f "$samples/basic/Basic.zip" ]; then
    step "1B. Import a test package exported by TAO itself"
    run --data "$central" import-qti -f "$samples/basic/Basic.zip" --label "TAO Basic"
    run --data "$central" import-qti -f "$samples/invalid/MissingItemDependency.zip" || true
else
    echo "(no ../shared/samples here: skipping the import of TAO's own packages)"
fi

step "1B. Eligibility: which test takers may sit the demo test in the school's center"
run --data "$central" eligibilities set --center "School 42 main building" --delivery "Demo test" \
    --test-takers ada,alan,grace,edouard --proctored yes
run --data "$central" eligibilities list

step "1A. Central's keys: what a device pins (results are sealed to the results key)"
run --data "$central" keys show

step "Score a whole test session without a browser (Ada's answers)"
run qti run -f "$work/demo-test.zip" --responses "$here/demo/responses-ada.json"

step "A bad file is refused whole, with every bad row named"
printf 'Login,Password\nokay,pw1\n,pw2\nokay,pw3\n' > "$work/bad.csv"
run --data "$central" import-users -t test-taker -f "$work/bad.csv" || true

step "Users on central"
run --data "$central" users list

step "1A/1C/1D. Central serves its sync API; the device registers it, is enrolled, syncs"
# served_url LOG: the URL a `serve` started in the background says it listens on (10 s at
# most), or its log and exit 1.
served_url() {
    i=0
    while [ $i -lt 100 ]; do
        u=$(sed -n 's/.* listening on \(http:\/\/[^ ]*\) .*/\1/p' "$1" | head -n 1)
        [ -n "$u" ] && { echo "$u"; return 0; }
        sleep 0.1
        i=$((i + 1))
    done
    cat "$1" >&2
    return 1
}
"$OUTPOST" --data "$central" serve --listen 127.0.0.1:0 > "$work/serve.out" 2> "$work/serve.log" &
serve_pid=$!
url=$(served_url "$work/serve.log") || { kill $serve_pid 2> /dev/null; exit 1; }
trap 'kill $serve_pid 2> /dev/null' EXIT
pin=$("$OUTPOST" --data "$central" keys show --json | tr -d ' \n' |
    sed -n 's/.*"signing_key":{[^}]*"fingerprint_sha256":"\([0-9a-f]*\)".*/\1/p')
run --data "$device" register-central --root-url "$url" --pin "$pin"
printf '$ outpost --data %s enrol --login sam --password-stdin   (the sync manager of school-42)\n' "$device"
printf 'sam-secret-6\n' | "$OUTPOST" --data "$device" enrol --login sam --password-stdin --label "Demo laptop"
run --data "$device" sync
echo "What the device received (its synced records, per entity):"
sqlite3 "$device/outpost.db" "SELECT '  ' || entity || ': ' || count(*) FROM synced_records GROUP BY entity ORDER BY entity" 2> /dev/null ||
    run --data "$device" sync-history --limit 1
echo "  encrypted packages: $(ls "$device/packages/enc" 2> /dev/null | wc -l)"
run --data "$central" devices list

step "2A. The device serves its pages: a test taker sits the test, a proctor supervises"
"$OUTPOST" --data "$device" serve --listen 127.0.0.1:0 > "$work/device-serve.out" 2> "$work/device-serve.log" &
device_pid=$!
trap 'kill $serve_pid $device_pid 2> /dev/null' EXIT
durl=$(served_url "$work/device-serve.log") || exit 1
echo "The device serves on $durl; what follows is what its pages do, through the same API."

# api WHO METHOD PATH [JSON]: one call of the device's API as WHO (a cookie jar per person,
# with the CSRF token their login returned); the answer's body on stdout.
api() {
    who=$1 method=$2 path=$3
    csrf=$(cat "$work/$who.csrf" 2> /dev/null || true)
    curl -sS -b "$work/$who.jar" -c "$work/$who.jar" -X "$method" -H 'Content-Type: application/json' \
        -H "X-CSRF-Token: $csrf" ${4:+--data "$4"} "$durl$path"
}
login() { # WHO PASSWORD
    api "$1" POST /api/v1/session "{\"login\":\"$1\",\"password\":\"$2\"}" > "$work/$1.login"
    jq -r '.csrf // empty' "$work/$1.login" > "$work/$1.csrf"
    [ -s "$work/$1.csrf" ] || { echo "login of $1 failed: $(cat "$work/$1.login")"; exit 1; }
    echo "  $1 logged in as $(jq -r '.user.roles | join(", ")' "$work/$1.login")"
}
login ada ada-secret-1
api ada GET /api/v1/my/deliveries > "$work/deliveries.json"
delivery=$(jq -r '.deliveries[] | select(.label == "Demo test") | .delivery_id' "$work/deliveries.json" | head -n 1)
center=$(jq -r '.deliveries[] | select(.label == "Demo test") | .center_id' "$work/deliveries.json" | head -n 1)
echo "  ada may sit: $(jq -r '[.deliveries[].label] | join(", ")' "$work/deliveries.json")"
api ada POST /api/v1/executions "{\"delivery_id\":\"$delivery\",\"center_id\":\"$center\"}" > "$work/exec.json"
exec_id=$(jq -r '.execution.id' "$work/exec.json")
echo "  ada starts it: $(jq -r '.execution.state' "$work/exec.json") (the delivery is proctored)"
login paula paula-secret-5
version=$(api paula GET /api/v1/proctor/executions | jq -r ".executions[] | select(.id == \"$exec_id\") | .version")
api paula POST "/api/v1/proctor/executions/$exec_id/authorize" "{\"version\":$version}" > "$work/exec.json"
echo "  paula authorizes it: $(jq -r '.execution.state' "$work/exec.json")"
version=$(jq -r '.execution.version' "$work/exec.json")
api ada POST "/api/v1/executions/$exec_id/begin" "{\"version\":$version}" > "$work/exec.json"
echo "  ada begins: $(jq -r '.execution.state' "$work/exec.json")"
api ada GET "/api/v1/executions/$exec_id" > "$work/view.json"
while jq -e '.view.item_key' "$work/view.json" > /dev/null 2>&1; do
    key=$(jq -r '.view.item_key' "$work/view.json")
    item=$(jq -r '.view.item.identifier // .view.item_key' "$work/view.json")
    answer=$(jq -c --arg i "$item" '.[$i] // {}' "$here/demo/responses-ada.json")
    api ada POST "/api/v1/executions/$exec_id/responses" "{\"item_key\":\"$key\",\"responses\":$answer}" > /dev/null
    echo "  item $(($(jq -r '.view.position' "$work/view.json") + 1)) of $(jq -r '.view.item_count' "$work/view.json") ($item): answered $answer"
    if jq -e '.view.navigation.next' "$work/view.json" > /dev/null; then
        api ada POST "/api/v1/executions/$exec_id/move" "{\"item_key\":\"$key\",\"to\":\"next\"}" > "$work/view.json"
    else
        api ada POST "/api/v1/executions/$exec_id/finish" "{\"item_key\":\"$key\"}" > /dev/null
        break
    fi
done
if [ "$(api ada GET "/api/v1/executions/$exec_id" | jq -r '.execution.state')" != finished ]; then
    state=$(api ada POST "/api/v1/executions/$exec_id/finish" "{\"item_key\":\"$key\"}" | jq -r '.execution.state')
fi
echo "  the test is $(api ada GET "/api/v1/executions/$exec_id" | jq -r '.execution.state'): its result is sealed to central's results key, in the device's outbox"

step "2B. The sync manager syncs again: the sealed result goes to central"
run --data "$device" sync

step "3. Central decrypts the result: the scores"
run --data "$central" decrypt-results --all
run --data "$central" results list
result=$("$OUTPOST" --data "$central" results list --json | jq -r '.[0].id // .results[0].id')
printf '$ outpost --data %s results show %s | jq ...   (the whole result is JSON)\n' "$central" "$result"
"$OUTPOST" --data "$central" results show "$result" | jq -r '
    "  test score: \(.outcome.outcomes.TOTAL_SCORE) of \(.outcome.outcomes.MAX_SCORE) (\(.execution.state) in \(.outcome.duration) s)",
    (.outcome.route[] as $i | "    \($i): score \(.outcome.items[$i].outcomes.SCORE), answered \(.outcome.items[$i].responses.RESPONSE | tojson)"),
    "  audit log: \([.audit[] | .action] | join(" -> ")) (hash-chained)"'

cat > "$work/stop.sh" << STOP
#!/bin/sh
# Stops the demo's two servers.
kill $serve_pid $device_pid 2> /dev/null
STOP
trap - EXIT
if [ -n "${OUTPOST_DEMO_STOP:-}" ]; then
    kill $serve_pid $device_pid
    wait $serve_pid $device_pid 2> /dev/null
else
    step "Both servers keep running: try them in a browser"
    echo "  central:  $url/api/v1/health   (central's sync API; it has no web pages yet)"
    echo "  device:   $durl/    test takers ada / ada-secret-1, alan / alan-secret-2;"
    echo "                        proctor paula / paula-secret-5; sync manager sam / sam-secret-6"
    echo "  stop them with: sh $work/stop.sh"
fi

printf '\nThe demo instances are in %s (remove the folder when done).\n' "$work"
