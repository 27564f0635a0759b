#!/bin/sh
# Installs the Debian packages Outpost needs to build, test and run, and only those
# that are missing, so a second run is quick and needs no network. clang-tools: scan-build
# (make analyze); binutils: readelf (make hardening); postgresql: the tests' throw-away
# server (tests/tools/pg_tmp.sh: initdb, pg_ctl and the `postgres` user it runs as under root);
# libmicrohttpd-dev, libcurl4-gnutls-dev: `outpost serve` and the device's HTTP client (both on
# GnuTLS); libgnutls28-dev: serve's check of its certificate and key before it starts;
# nettle-dev: SHA-256 with the CPU's SHA extensions (every package is hashed before use); curl:
# the tests that talk to `serve` from outside; openssl: the self-signed certificate of the TLS
# test (tests/cli/serve.sh); jq: `make demo` reads the device API's answers as its pages would.
# libjs-jquery, libjs-lodash, libjs-handlebars: the shared libraries PCI frames are given,
# embedded in the binary at build time (src/qti/pci_libs.h, scripts/embed-pci-libs.cmake).
# libxml2-utils: xmllint validates the QTI XML export against IMS's schema (tests/cli/results_export.sh).
# chromium, fonts-dejavu-core, nodejs (with its npm): the browser tests
# (tests/browser, with playwright-core and axe-core from the npm registry per package.json).
set -eu
pkgs="build-essential cmake pkg-config clang clang-tools libclang-rt-14-dev binutils
      libsqlite3-dev sqlite3 libsodium-dev libjansson-dev libcsv-dev libxml2-dev libxml2-utils libzip-dev
      libcmocka-dev zip unzip tzdata procps libpq-dev postgresql
      libmicrohttpd-dev libcurl4-gnutls-dev libgnutls28-dev nettle-dev curl openssl jq
      libjs-jquery libjs-lodash libjs-handlebars
      chromium fonts-dejavu-core nodejs"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
command -v npm >/dev/null 2>&1 || missing="$missing npm"
# The browser tests' npm packages, exactly as package-lock.json pins them (npm ci), into
# ./node_modules, once.
npm_deps() {
    root=$(cd "$(dirname "$0")/.." && pwd)
    if command -v npm >/dev/null 2>&1 && [ ! -d "$root/node_modules/playwright-core" ]; then
        (cd "$root" && npm ci --no-audit --no-fund --silent) ||
            echo "install-deps: npm ci failed; the browser tests will be skipped" >&2
    fi
    return 0
}
[ -z "$missing" ] && { npm_deps; exit 0; }
if [ "$(id -u)" != 0 ]; then
    echo "install-deps: missing Debian packages:$missing" >&2
    echo "install-deps: run as root (or: sudo apt-get install$missing)" >&2
    exit 1
fi
echo "install-deps: installing$missing"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
npm_deps
