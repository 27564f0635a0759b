#!/bin/sh
# make-deb.sh - `make deb`: a Debian package of the built tree, with dpkg-deb alone.
#   sh scripts/make-deb.sh BUILD_DIR OUT.deb
# Its dependencies are the Debian packages that hold the shared libraries the binary names
# (objdump's NEEDED, found with ldd and dpkg -S), each at least the version installed here.
set -eu
BUILD=${1:?usage: make-deb.sh BUILD_DIR OUT.deb}
OUT=${2:?usage: make-deb.sh BUILD_DIR OUT.deb}
SRC=$(cd "$(dirname "$0")/.." && pwd)
STAGE=$(mktemp -d "${TMPDIR:-/tmp}/outpost-deb-XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
DESTDIR="$STAGE" PREFIX=/usr sh "$SRC/scripts/install.sh" "$BUILD" > /dev/null
VERSION=$("$BUILD/outpost" --version | sed 's/^outpost //')
ARCH=$(dpkg --print-architecture)
# the libraries the binary names itself (NEEDED), not what they load in turn
needed=$(objdump -p "$BUILD/outpost" | awk '$1 == "NEEDED" { print $2 }')
deps=$(for n in $needed; do ldd "$BUILD/outpost" | awk -v n="$n" '$1 == n && $3 ~ /^\// { print $3 }'; done | while read -r lib; do
    real=$(readlink -f "$lib")
    # dpkg knows some files only by their /lib path (merged /usr): libc6, zlib1g, libgcc-s1.
    # A pipeline's status is cut's, so the fallback is chosen on an empty answer, not on $?.
    pkg=$(dpkg -S "$real" 2> /dev/null | head -1 | cut -d: -f1)
    [ -n "$pkg" ] || pkg=$(dpkg -S "$lib" 2> /dev/null | head -1 | cut -d: -f1)
    [ -n "$pkg" ] || continue
    ver=$(dpkg-query -W -f='${Version}' "$pkg" 2> /dev/null) || continue
    echo "$pkg (>= $ver)"
done | sort -u | paste -sd, - | sed 's/,/, /g')
chmod 0755 "$STAGE"
install -d -m 0755 "$STAGE/DEBIAN"
size=$(du -sk "$STAGE" | cut -f1)
cat > "$STAGE/DEBIAN/control" <<CONTROL
Package: outpost
Version: $VERSION
Architecture: $ARCH
Maintainer: Outpost maintainers <outpost@localhost>
Installed-Size: $size
Depends: $deps, passwd, util-linux
Section: education
Priority: optional
Homepage: https://localhost/outpost
Description: offline test delivery: central server and offline device
 Outpost delivers QTI tests where the internet is not. One binary has two roles: a central
 server holding users, test centers, eligibilities, deliveries and results, and an offline
 device that synchronises what its organisation needs and delivers tests with no connection.
 The package installs the binary, its systemd units (not enabled), the manual and the
 documents, and makes the system user outpost with /var/lib/outpost.
CONTROL
for s in postinst prerm postrm; do
    install -m 0755 "$SRC/dist/debian/$s" "$STAGE/DEBIAN/$s"
done
dpkg-deb --root-owner-group --build "$STAGE" "$OUT" > /dev/null
echo "$OUT: outpost $VERSION ($ARCH)"
