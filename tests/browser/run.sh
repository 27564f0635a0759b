# run.sh - runs one browser test, tests/browser/NAME.test.mjs (CTest's browser/NAME).
#
# A test whose source holds the line "// @world central+device" runs in a world of real
# servers, made as tests/cli/sync.sh makes its own: a central (`outpost serve` on loopback)
# with the organisations of tests/cli/fixtures/centers.sh's org_fixture (sync managers sm-a
# and sm-b, proctors pa1 pa2 pb1, test takers ta1..ta4 tb1 tb2, every password "pw-" and the
# login, the delivery Maths with its package and eligibilities), and a device registered with
# that central but NOT enrolled (a sync manager's first login enrols it), served too. The test
# gets, in its environment:
#   OUTPOST_CENTRAL_URL, OUTPOST_DEVICE_URL    where the two servers listen
#   OUTPOST_CENTRAL_DIR, OUTPOST_DEVICE_DIR    their data folders (for `outpost --data DIR ...`)
#   OUTPOST_WORLD                              a JSON file: the same, with the logins by role,
#                                              and the device server's pid file (lib.mjs's
#                                              restartDevice() stops and starts it again)
# Both servers are stopped when the test ends, whatever its outcome (the device's by the pid
# its file names then).
#
# A test whose source holds the line "// @world central" (central's backoffice) gets only the
# central of that world, served, with besides: the test-center administrators tca (of "A
# North", which has the sub-center "A North Annex") and tcb (of "B Centre"), password "pw-"
# and the login; the super-user "admin", password "admin-password". OUTPOST_CENTRAL_URL,
# OUTPOST_CENTRAL_DIR and OUTPOST_WORLD (central and logins) as above. Other tests run alone.
#
# Skipped (77) with a clear message when chromium, node or the npm packages are missing.
# Environment (CTest sets it): OUTPOST, OUTPOST_SOURCE, BUILD_DIR, OUTPOST_ARTIFACTS.
TEST_FILE=$1
: "${OUTPOST_SOURCE:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${BUILD_DIR:=$OUTPOST_SOURCE/build}"
: "${OUTPOST:=$BUILD_DIR/outpost}"
: "${OUTPOST_ARTIFACTS:=$BUILD_DIR/browser-artifacts}"
export OUTPOST OUTPOST_SOURCE BUILD_DIR OUTPOST_ARTIFACTS
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
    echo "SKIP: $CHROMIUM is missing (scripts/install-deps.sh installs Debian's chromium)"
    exit 77
fi
if ! command -v node > /dev/null 2>&1; then
    echo "SKIP: node is missing (scripts/install-deps.sh installs nodejs)"
    exit 77
fi
if [ ! -d "$OUTPOST_SOURCE/node_modules/playwright-core" ] || [ ! -d "$OUTPOST_SOURCE/node_modules/axe-core" ]; then
    echo "SKIP: playwright-core or axe-core missing in node_modules (run: npm ci, as scripts/install-deps.sh does)"
    exit 77
fi
WORLD=
grep -q '^// @world central+device' "$TEST_FILE" && WORLD=central+device
[ -z "$WORLD" ] && grep -q '^// @world central *$' "$TEST_FILE" && WORLD=central
if [ -z "$WORLD" ]; then
    exec node "$TEST_FILE"
fi

. "$OUTPOST_SOURCE/tests/cli/lib.sh"
. "$OUTPOST_SOURCE/tests/cli/fixtures/centers.sh"
. "$OUTPOST_SOURCE/tests/cli/fixtures/sync.sh"
C="$WORK/central"; D="$WORK/device"
C_PID=; D_PID=
stop_world() {
    # the device's server may have been restarted by the test (lib.mjs restartDevice)
    [ -s "$WORK/device.pid" ] && D_PID=$(cat "$WORK/device.pid")
    [ -n "$D_PID" ] && kill -TERM "$D_PID" 2> /dev/null
    i=0
    while [ -n "$D_PID" ] && kill -0 "$D_PID" 2> /dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    [ -n "$C_PID" ] && kill -TERM "$C_PID" 2> /dev/null
    wait 2> /dev/null
    mkdir -p "$OUTPOST_ARTIFACTS"
    cp "$WORK/serve.log" "$OUTPOST_ARTIFACTS/$(basename "$TEST_FILE" .test.mjs)-servers.log" 2> /dev/null
    # under the sanitizers (build-asan) a server's report fails the test, whatever the pages saw
    if grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$WORK/serve.log" 2> /dev/null; then
        echo "FAIL: a server reported a sanitizer error (see $(basename "$TEST_FILE" .test.mjs)-servers.log):"
        grep -E -A 12 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$WORK/serve.log" | head -n 60
        lib_cleanup
        exit 1
    fi
    lib_cleanup
}
trap stop_world EXIT
new_instance "$C" central
org_fixture "$C"
if [ "$WORLD" = central ]; then
    # central's backoffice: its administrators, and a sub-center
    for u in tca tcb; do
        printf 'pw-%s\n' "$u" | "$OUTPOST" --data "$C" users add --login "$u" --role test-center-admin > /dev/null ||
            { echo "FAIL: fixture: user $u"; exit 1; }
    done
    "$OUTPOST" --data "$C" testcenters add --label "A North Annex" --org ORG-A --parent "A North" > /dev/null &&
        "$OUTPOST" --data "$C" testcenters assign "A North" --admin tca > /dev/null &&
        "$OUTPOST" --data "$C" testcenters assign "B Centre" --admin tcb > /dev/null ||
        { echo "FAIL: fixture: backoffice centers"; exit 1; }
    start_serve "$C"
    C_PID=$SERVE_PID
    cat > "$WORK/world.json" <<JSON
{
  "central": {"url": "$URL", "dir": "$C"},
  "work": "$WORK",
  "outpost": "$OUTPOST",
  "password": "pw-LOGIN",
  "super_user": {"login": "admin", "password": "admin-password"},
  "logins": {
    "test_center_admin": ["tca", "tcb"], "sync_manager": ["sm-a", "sm-b"],
    "proctor": ["pa1", "pa2", "pb1"], "test_taker": ["ta1", "ta2", "ta3", "ta4", "tb1", "tb2"]
  }
}
JSON
    OUTPOST_CENTRAL_URL=$URL OUTPOST_CENTRAL_DIR=$C OUTPOST_WORLD="$WORK/world.json" node "$TEST_FILE"
    exit $?
fi
new_instance "$D" device
start_serve "$C"
C_PID=$SERVE_PID
CENTRAL_URL=$URL
"$OUTPOST" --data "$D" register-central --root-url "$CENTRAL_URL" > "$WORK/register.out" 2>&1 ||
    { echo "FAIL: register-central:"; cat "$WORK/register.out"; exit 1; }
SERVE_PORT=
start_serve "$D"
D_PID=$SERVE_PID
echo "$D_PID" > "$WORK/device.pid"
DEVICE_URL=$URL
# both servers log into $WORK/serve.log (kept as an artifact)
cat > "$WORK/world.json" <<JSON
{
  "central": {"url": "$CENTRAL_URL", "dir": "$C"},
  "device": {"url": "$DEVICE_URL", "dir": "$D", "pid_file": "$WORK/device.pid", "log": "$WORK/serve.log"},
  "work": "$WORK",
  "outpost": "$OUTPOST",
  "password": "pw-LOGIN",
  "logins": {
    "sync_manager": ["sm-a"], "other_org_sync_manager": ["sm-b"],
    "proctor": ["pa1", "pa2"], "test_taker": ["ta1", "ta2", "ta3", "ta4"],
    "other_org_test_taker": ["tb1", "tb2"]
  }
}
JSON
OUTPOST_CENTRAL_URL=$CENTRAL_URL OUTPOST_DEVICE_URL=$DEVICE_URL OUTPOST_CENTRAL_DIR=$C \
    OUTPOST_DEVICE_DIR=$D OUTPOST_WORLD="$WORK/world.json" node "$TEST_FILE"
exit $?
