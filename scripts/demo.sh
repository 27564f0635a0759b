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
run() { printf '$ outpost %s\n' "$*"; "$OUTPOST" "$@"; }

# The shipped setup files with a demo password (never use the shipped password for real).
sed 's/change-this-password/demo-admin-password/' "$here/config/central.setup.json" > "$work/central.json"
sed 's/change-this-password/demo-admin-password/' "$here/config/device.setup.json" > "$work/device.json"

step "1. Set up a central server and an offline device"
run --data "$central" setup "$work/central.json"
run --data "$device" setup "$work/device.json"

step "1B. Import test takers and proctors on central (TAO's ImportUsersCsv)"
run --data "$central" import-users -t test-taker -f "$here/demo/test-takers.csv"
run --data "$central" import-users -t proctor -f "$here/demo/proctors.csv"

step "1C. Import the school's sync manager, with its organisation id"
run --data "$central" import-users -t sync-manager -f "$here/demo/sync-managers.csv"

step "A bad file is refused whole, with every bad row named"
printf 'Login,Password\nokay,pw1\n,pw2\nokay,pw3\n' > "$work/bad.csv"
run --data "$central" import-users -t test-taker -f "$work/bad.csv" || true

step "Users on central"
run --data "$central" users list

printf '\nThe demo instances are in %s (remove the folder when done).\n' "$work"
