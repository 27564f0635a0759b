# Tests of the encrypted delivery packages on the command line: import-qti makes one,
# `deliveries show` names it, `deliveries update -f` makes a new one and keeps the old,
# `deliveries encrypt` makes those of older deliveries, `deliveries prune-packages` removes
# the unused ones (app/content.h).
. "$(dirname "$0")/lib.sh"
C="$WORK/c"
new_instance "$C" central
sh "$OUTPOST_SOURCE/scripts/make-demo-package.sh" "$WORK/demo.zip"
sh "$OUTPOST_SOURCE/scripts/make-demo-package.sh" "$WORK/other.zip" \
    "$OUTPOST_SOURCE/tests/fixtures/qti/rule-number-correct"
run "$OUTPOST" --data "$C" import-qti -f "$WORK/demo.zip" --label "Maths"
check "import-qti makes a delivery" status_is 0

ENC=$(sql "$C" "SELECT enc_sha256 FROM delivery_content")
check "the import records one encrypted package" [ "$(sql "$C" "SELECT count(*) FROM delivery_content")" = 1 ]
check "its file is in packages/enc under its hash" [ -f "$C/packages/enc/$ENC" ]
check "the file's bytes hash to its name" [ "$(sha256sum "$C/packages/enc/$ENC" | cut -d' ' -f1)" = "$ENC" ]
check "the encrypted file is private" [ "$(stat -c %a "$C/packages/enc/$ENC")" = 600 ]
check "it is not the compiled package" [ "$ENC" != "$(sql "$C" "SELECT package_sha256 FROM deliveries")" ]
check "no temporary file is left" [ -z "$(ls -A "$C/packages/enc" | grep '^\.tmp-' || true)" ]

run "$OUTPOST" --data "$C" deliveries show Maths --json
check "deliveries show succeeds" status_is 0
check "deliveries show --json gives the encrypted hash" contains "$OUT" "\"enc_sha256\": \"$ENC\""
check "and its size" contains "$OUT" "\"enc_size\": $(stat -c %s "$C/packages/enc/$ENC")"
check "but never the wrapped key" sh -c "! printf '%s' \"\$1\" | grep -q wrapped" _ "$OUT"
run "$OUTPOST" --data "$C" deliveries show Maths
check "deliveries show prints the encrypted hash" contains "$OUT" "encrypted sha-256 $ENC"

run "$OUTPOST" --data "$C" deliveries update Maths -f "$WORK/other.zip" --json
check "deliveries update -f succeeds" status_is 0
check "the delivery has a new version" contains "$OUT" '"version": 2'
check "a new encrypted package is recorded, the old one kept" [ "$(sql "$C" "SELECT count(*) FROM delivery_content")" = 2 ]
NEW=$(sql "$C" "SELECT enc_sha256 FROM delivery_content WHERE version = 2")
check "under another hash" [ "$NEW" != "$ENC" ]
check "both files are there" test -f "$C/packages/enc/$ENC" -a -f "$C/packages/enc/$NEW"
run "$OUTPOST" --data "$C" deliveries show Maths --json
check "deliveries show gives the new one" contains "$OUT" "\"enc_sha256\": \"$NEW\""
run "$OUTPOST" --data "$C" deliveries update Maths -f "$WORK/none.zip"
check "a missing package is refused" status_is 1
check "and changes nothing" [ "$(sql "$C" "SELECT version FROM deliveries")" = 2 ]

# A delivery from before encrypted packages, and an orphan file (a crash before the commit).
sql "$C" "DELETE FROM delivery_content WHERE version = 2" > /dev/null
run "$OUTPOST" --data "$C" deliveries show Maths --json
check "a delivery without its copy shows null" contains "$OUT" '"encrypted_package": null'
run "$OUTPOST" --data "$C" deliveries prune-packages
check "prune-packages keeps young files" contains "$OUT" "removed 0 unused package files"
run "$OUTPOST" --data "$C" deliveries prune-packages --min-age 0
check "prune-packages --min-age 0 removes the unreferenced file" contains "$OUT" "removed 1 unused"
check "the referenced file stays" [ -f "$C/packages/enc/$ENC" ]
check "the unreferenced one is gone" [ ! -e "$C/packages/enc/$NEW" ]
run "$OUTPOST" --data "$C" deliveries encrypt
check "deliveries encrypt makes the missing copy" contains "$OUT" "encrypted the packages of 1 deliveries"
run "$OUTPOST" --data "$C" deliveries encrypt
check "running it again does nothing" contains "$OUT" "encrypted the packages of 0 deliveries"

D="$WORK/d"
new_instance "$D" device
run "$OUTPOST" --data "$D" deliveries encrypt
check "deliveries encrypt is refused on a device" contains "$ERR" "runs on a central"
run "$OUTPOST" --data "$D" deliveries prune-packages
check "prune-packages is refused on a device" contains "$ERR" "runs on a central"

finish
