#!/bin/sh
# check-hardening.sh BINARY - fails unless BINARY (an optimised build of outpost) carries the
# hardening of a network daemon, read from the ELF file itself (readelf), not from the flags
# we believe we passed:
#   PIE            ELF type DYN (position-independent executable, so ASLR moves it)
#   full RELRO     a GNU_RELRO segment and BIND_NOW (the GOT is read-only after start-up)
#   stack canaries a call to __stack_chk_fail (-fstack-protector-strong)
#   _FORTIFY_SOURCE at least one fortified libc call (__*_chk, e.g. __snprintf_chk)
set -u
bin=${1:?usage: check-hardening.sh BINARY}
if [ ! -f "$bin" ]; then
    echo "hardening: $bin: no such file" >&2
    exit 1
fi
LC_ALL=C
export LC_ALL
failed=0
fail() {
    echo "hardening: $bin: $1" >&2
    failed=1
}
readelf -h "$bin" | grep -q 'Type:[[:space:]]*DYN' || fail "not a PIE (ELF type is not DYN)"
readelf -lW "$bin" | grep -q 'GNU_RELRO' || fail "no RELRO segment (link with -z relro)"
readelf -dW "$bin" | grep -Eq 'BIND_NOW|FLAGS.*[[:space:]]NOW' ||
    fail "no BIND_NOW: RELRO is partial (link with -z now)"
syms=$(readelf -W --dyn-syms "$bin")
echo "$syms" | grep -q '__stack_chk_fail' || fail "no stack protector (__stack_chk_fail)"
echo "$syms" | grep -v '__stack_chk_fail' | grep -Eq '__[a-z0-9_]+_chk(@|[[:space:]]|$)' ||
    fail "no fortified libc call (__*_chk): built without -D_FORTIFY_SOURCE and -O?"
[ "$failed" = 0 ] || exit 1
echo "hardening: $bin: PIE, full RELRO, stack protector, _FORTIFY_SOURCE"
