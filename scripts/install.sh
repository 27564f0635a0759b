#!/bin/sh
# install.sh - `make install`: the binary, the systemd units, the man page and the documents,
# under DESTDIR/PREFIX (defaults /usr/local; the Debian package uses PREFIX=/usr).
#   sh scripts/install.sh BUILD_DIR
# The units name the binary where it is installed (PREFIX/bin/outpost). Nothing here creates
# users or data folders: the package's postinst does (dist/debian/postinst), or the operator
# by docs/setup.md.
set -eu
BUILD=${1:?usage: install.sh BUILD_DIR}
PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN="$DESTDIR$PREFIX/bin"
UNITS="$DESTDIR$PREFIX/lib/systemd/system"
MAN="$DESTDIR$PREFIX/share/man/man1"
DOC="$DESTDIR$PREFIX/share/doc/outpost"
install -d -m 0755 "$BIN" "$UNITS" "$MAN" "$DOC"
install -m 0755 "$BUILD/outpost" "$BIN/outpost"
for u in "$SRC"/dist/systemd/*; do
    sed -e "s|/usr/bin/outpost|$PREFIX/bin/outpost|g" \
        -e "s|file:/usr/share/doc/outpost/|file:$PREFIX/share/doc/outpost/|g" "$u" > "$UNITS/$(basename "$u")"
    chmod 0644 "$UNITS/$(basename "$u")"
done
sh "$SRC/scripts/make-man.sh" "$BUILD/outpost" | gzip -9n > "$MAN/outpost.1.gz"
chmod 0644 "$MAN/outpost.1.gz"
install -m 0644 "$SRC/README.md" "$SRC"/docs/*.md "$DOC/"
echo "installed outpost under $DESTDIR$PREFIX"
