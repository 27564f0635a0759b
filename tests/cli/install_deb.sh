# The Debian package, installed on this machine (dpkg -i) as docs/setup.md says: the service
# user and its folders, a central set up and served as that user (the unit's own command line,
# with runuser, where systemd does not run), a backup, everything removed, the restore, every
# user, delivery and result found again; an upgrade (the same package again) keeps the data
# and migrates it as the service user; removing the package keeps data and keys. It changes the
# machine (a package, a user, /var/lib/outpost), so it runs only as root, and only when no
# other outpost package or data folder is there; it removes what it made at the end.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_rest "installing the package needs root"
command -v dpkg-deb > /dev/null && command -v runuser > /dev/null || skip_rest "no dpkg-deb or runuser"
if dpkg-query -W outpost > /dev/null 2>&1 || [ -e /var/lib/outpost ] || [ -e /etc/outpost ]; then
    skip_rest "an outpost package or /var/lib/outpost is already on this machine"
fi
had_user=0
getent passwd outpost > /dev/null && had_user=1
cleanup_machine() {
    dpkg --purge outpost > /dev/null 2>&1 || true
    rm -rf /var/lib/outpost /etc/outpost
    [ "$had_user" = 1 ] || { userdel outpost 2> /dev/null; groupdel outpost 2> /dev/null; } || true
}
trap 'cleanup_machine; rm -rf "$WORK"' EXIT

run sh "$OUTPOST_SOURCE/scripts/make-deb.sh" "$(dirname "$OUTPOST")" "$WORK/outpost.deb"
check "make-deb builds the package" status_is 0
depends=$(dpkg-deb -f "$WORK/outpost.deb" Depends)
check "it depends on libc6 (found by its /lib path)" sh -c 'case "$1" in *libc6*) ;; *) exit 1 ;; esac' - "$depends"
check "and on libsodium23" sh -c 'case "$1" in *libsodium23*) ;; *) exit 1 ;; esac' - "$depends"
run dpkg -i "$WORK/outpost.deb"
check "dpkg -i installs it" status_is 0
check "the binary is installed" [ -x /usr/bin/outpost ]
check "the units are installed" [ -f /usr/lib/systemd/system/outpost-serve.service ]
check "and name the installed binary" grep -q "ExecStart=/usr/bin/outpost --data /var/lib/outpost" /usr/lib/systemd/system/outpost-serve.service
check "the manual is installed" [ -f /usr/share/man/man1/outpost.1.gz ]
check "the system user exists" getent passwd outpost
check "/var/lib/outpost belongs to it, mode 700" [ "$(stat -c '%U %a' /var/lib/outpost)" = "outpost 700" ]
check "/etc/outpost is root's, readable by the group" [ "$(stat -c '%U %G %a' /etc/outpost)" = "root outpost 750" ]

as_svc() { runuser -u outpost -- "$@"; }
write_setup /etc/outpost/setup.json central
chgrp outpost /etc/outpost/setup.json && chmod 640 /etc/outpost/setup.json
run as_svc /usr/bin/outpost --data /var/lib/outpost setup /etc/outpost/setup.json
check "setup as the service user in /var/lib/outpost works" status_is 0
check "every file belongs to the service user" [ -z "$(find /var/lib/outpost ! -user outpost)" ]
printf 'pw-eve-1\n' | as_svc /usr/bin/outpost --data /var/lib/outpost users add --login eve --role test-taker > /dev/null
sh "$OUTPOST_SOURCE/scripts/make-demo-package.sh" "$WORK/demo.zip"
cp "$WORK/demo.zip" /etc/outpost/demo.zip && chgrp outpost /etc/outpost/demo.zip && chmod 640 /etc/outpost/demo.zip
run as_svc /usr/bin/outpost --data /var/lib/outpost import-qti -f /etc/outpost/demo.zip --label Maths
check "a delivery is imported" status_is 0
run /usr/bin/outpost --data /var/lib/outpost users list
check "root is told to run as the service user" contains "$ERR" "belongs to the user outpost"

# the unit's command line, as the unit's user, on a free port and without TLS
CMD=$(sed -n 's/^ExecStart=//p' /usr/lib/systemd/system/outpost-serve.service)
check "the unit names the data folder and serve" contains "$CMD" "/usr/bin/outpost --data /var/lib/outpost serve"
runuser -u outpost -- /usr/bin/outpost --data /var/lib/outpost serve --listen 127.0.0.1:0 > "$WORK/serve.out" 2> "$WORK/serve.log" &
SERVE=$!
URL=""
for _ in $(seq 1 100); do
    URL=$(sed -n 's/.* listening on \(https*:\/\/[^ ]*\) .*/\1/p' "$WORK/serve.log")
    [ -n "$URL" ] && break
    sleep 0.1
done
check "serve as the service user answers" sh -c "curl -fsS '${URL%/}/api/v1/health' > /dev/null"
check "and runs as the user outpost" [ -n "$(pgrep -u outpost -x outpost)" ]
kill "$SERVE" 2> /dev/null; pkill -u outpost -x outpost 2> /dev/null; wait "$SERVE" 2> /dev/null

# backup, remove everything, restore
install -d -m 0700 -o outpost -g outpost "$WORK/bk"
chmod 711 "$WORK"
run as_svc /usr/bin/outpost --data /var/lib/outpost backup --to "$WORK/bk/outpost.zip"
check "backup as the service user" status_is 0
rm -rf /var/lib/outpost && install -d -m 0700 -o outpost -g outpost /var/lib/outpost
run as_svc /usr/bin/outpost --data /var/lib/outpost restore "$WORK/bk/outpost.zip"
check "restore into the emptied folder" status_is 0
run as_svc /usr/bin/outpost --data /var/lib/outpost users list
check "the users are back" contains "$OUT" "eve"
run as_svc /usr/bin/outpost --data /var/lib/outpost deliveries list
check "the deliveries are back" contains "$OUT" "Maths"

# an upgrade: the same package again; the data stays and opens
run dpkg -i "$WORK/outpost.deb"
check "installing it again (an upgrade) works" status_is 0
run as_svc /usr/bin/outpost --data /var/lib/outpost users list
check "and keeps the data" contains "$OUT" "eve"

# removing it keeps data and keys
run dpkg -r outpost
check "dpkg -r removes it" status_is 0
check "the binary is gone" [ ! -e /usr/bin/outpost ]
check "the data stays" [ -f /var/lib/outpost/outpost.json ]
check "the keys stay" [ -f /var/lib/outpost/keys/master.key ]
run dpkg --purge outpost
check "even a purge keeps them" [ -f /var/lib/outpost/keys/master.key ]
check "and says so" contains "$ERR" "are kept"
finish
