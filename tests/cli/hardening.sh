# Tests of scripts/check-hardening.sh, the gate `make hardening` runs on the optimised outpost
# binary: a program built with the project's hardening flags passes; built without each one
# in turn, it fails naming what is missing.
. "$(dirname "$0")/lib.sh"
CHECK="$OUTPOST_SOURCE/scripts/check-hardening.sh"
CC=${CC:-cc}

cat > "$WORK/p.c" <<'C'
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv)
{
    char b[64];
    snprintf(b, sizeof b, "%s:%d", argv[0], argc); /* fortified: __snprintf_chk */
    printf("%s\n", b);                            /* and __printf_chk */
    return (int)strlen(b);
}
C
HARD="-O2 -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE"
build() { # usage: build OUT CFLAGS LDFLAGS
    $CC $2 "$WORK/p.c" -o "$WORK/$1" $3 > "$WORK/cc.err" 2>&1
}

build hard "$HARD" "-pie -Wl,-z,relro,-z,now"
run sh "$CHECK" "$WORK/hard"
check "a program built with the hardening flags passes" status_is 0

build nopie "-O2 -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fno-PIE" "-no-pie -Wl,-z,relro,-z,now"
run sh "$CHECK" "$WORK/nopie"
check "without PIE it fails" status_is 1
check "naming PIE" contains "$ERR" "not a PIE"

build lazy "$HARD" "-pie -Wl,-z,relro,-z,lazy"
run sh "$CHECK" "$WORK/lazy"
check "with partial RELRO (no BIND_NOW) it fails" status_is 1
check "naming BIND_NOW" contains "$ERR" "no BIND_NOW"

build norelro "$HARD" "-pie -Wl,-z,norelro,-z,lazy"
run sh "$CHECK" "$WORK/norelro"
check "without RELRO it fails" status_is 1
check "naming RELRO" contains "$ERR" "no RELRO segment"

build nossp "-O2 -fno-stack-protector -D_FORTIFY_SOURCE=2 -fPIE" "-pie -Wl,-z,relro,-z,now"
run sh "$CHECK" "$WORK/nossp"
check "without the stack protector it fails" status_is 1
check "naming the stack protector" contains "$ERR" "no stack protector"

build nofortify "-O2 -fstack-protector-strong -U_FORTIFY_SOURCE -fPIE" "-pie -Wl,-z,relro,-z,now"
run sh "$CHECK" "$WORK/nofortify"
check "without _FORTIFY_SOURCE it fails" status_is 1
check "naming the fortified calls" contains "$ERR" "no fortified libc call"

run sh "$CHECK" "$WORK/missing"
check "a missing binary fails" status_is 1

finish
