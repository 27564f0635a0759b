#!/bin/sh
# Builds a QTI content package (zip) from a fixture folder, e.g. the demo test:
#   sh scripts/make-demo-package.sh OUT.zip [FOLDER]
# FOLDER defaults to demo/qti-test. Entries are added in sorted order without extra
# attributes (-X) or folder entries (-D), so the zip lists the same files each time.
set -eu
out=${1:?usage: make-demo-package.sh OUT.zip [FOLDER]}
src=${2:-$(dirname "$0")/../demo/qti-test}
case "$out" in /*) ;; *) out="$(pwd)/$out" ;; esac
rm -f "$out"
cd "$src"
find . -type f | LC_ALL=C sort | sed 's|^\./||' | zip -q -X -D "$out" -@
