#!/bin/sh
# runner_world.sh - the world of bench_runner: a central and a device on loopback, TAKERS test
# takers of one test center (default password cost, as a school would have it), the demo QTI
# test (5 items, linear) eligible for all of them and not proctored, the device enrolled and
# synced, then the device's `outpost serve` left running.
# usage: sh bench/runner_world.sh OUTPOST WORKDIR TAKERS
# Prints on its last lines: "url URL", "pid PID" (the device's server), "central_pid PID", and
# writes WORKDIR/logins (LOGIN PASSWORD per line) and WORKDIR/answers.json.
set -eu
OUTPOST=$1; work=$2; n=$3
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$work"
sed 's/change-this-password/bench-admin-password/' "$here/config/central.setup.json" > "$work/central.json"
sed 's/change-this-password/bench-admin-password/' "$here/config/device.setup.json" > "$work/device.json"
chmod 600 "$work/central.json" "$work/device.json"
"$OUTPOST" --data "$work/central" setup "$work/central.json" > /dev/null
"$OUTPOST" --data "$work/device" setup "$work/device.json" > /dev/null

{
    echo 'Label,First Name,Last Name,Login,Mail,Password,Interface Language,Default language'
    i=1
    while [ $i -le "$n" ]; do
        echo "Taker $i,Taker,$i,taker$i,,bench-pass-$i-x,en-US,en-US"
        i=$((i + 1))
    done
} > "$work/takers.csv"
awk -F, 'NR > 1 { print $4, $6 }' "$work/takers.csv" > "$work/logins"
printf 'Label,First Name,Last Name,Login,Mail,Password,Interface Language,Default language,Organisation Id\nBench sync,Sam,Sync,bench-sm,,bench-sm-pass,en-US,en-US,bench-org\n' > "$work/sm.csv"
"$OUTPOST" --data "$work/central" import-users -t test-taker -f "$work/takers.csv" > /dev/null
"$OUTPOST" --data "$work/central" import-users -t sync-manager -f "$work/sm.csv" > /dev/null
"$OUTPOST" --data "$work/central" testcenters add --label "Bench centre" --org bench-org > /dev/null
sh "$here/scripts/make-demo-package.sh" "$work/test.zip" > /dev/null
"$OUTPOST" --data "$work/central" import-qti -f "$work/test.zip" --label "Bench test" > /dev/null
"$OUTPOST" --data "$work/central" deliveries update "Bench test" --max-executions 0 > /dev/null
cut -d' ' -f1 "$work/logins" | paste -sd, > "$work/takers.list"
"$OUTPOST" --data "$work/central" eligibilities set --center "Bench centre" --delivery "Bench test" \
    --test-takers "$(cat "$work/takers.list")" --proctored no > /dev/null
cp "$here/demo/responses-ada.json" "$work/answers.json"

serve_wait() { # LOG -> URL
    i=0
    while [ $i -lt 200 ]; do
        u=$(sed -n 's/.* listening on \(http:\/\/[^ ]*\) .*/\1/p' "$1" | head -n 1)
        if [ -n "$u" ]; then echo "$u"; return 0; fi
        sleep 0.1; i=$((i + 1))
    done
    cat "$1" >&2; return 1
}
"$OUTPOST" --data "$work/central" serve --listen 127.0.0.1:0 > /dev/null 2> "$work/central.log" &
cpid=$!
curl_url=$(serve_wait "$work/central.log")
"$OUTPOST" --data "$work/device" register-central --root-url "$curl_url" > /dev/null 2>&1
printf 'bench-sm-pass\n' | "$OUTPOST" --data "$work/device" enrol --login bench-sm --password-stdin > /dev/null
"$OUTPOST" --data "$work/device" sync > /dev/null
# every simulated test taker comes from 127.0.0.1: no per-address limit, room for all
"$OUTPOST" --data "$work/device" serve --listen 127.0.0.1:0 --max-per-ip 0 \
    > /dev/null 2> "$work/device.log" &
dpid=$!
durl=$(serve_wait "$work/device.log")
echo "url $durl"
echo "pid $dpid"
echo "central_pid $cpid"
