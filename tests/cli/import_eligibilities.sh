# Tests of `outpost import-eligibilities`: the CSV format, replacing lists, the change feed,
# all-or-nothing with every bad row listed, --skip-invalid, --json, and unusable files.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fixtures/centers.sh"
C="$WORK/c"
new_instance "$C" central
for u in t1 t2 t3; do add_user "$C" $u test-taker; done
add_user "$C" proc proctor
MATHS=11111111-1111-4111-8111-111111111111
PHYS=22222222-2222-4222-8222-222222222222
add_delivery "$C" $MATHS Maths 1
add_delivery "$C" $PHYS Physics 0
add_delivery "$C" 33333333-3333-4333-8333-333333333333 Dup 1
add_delivery "$C" 44444444-4444-4444-8444-444444444444 Dup 1
"$OUTPOST" --data "$C" testcenters add --label "Lycee Nord" --org ORG-A > /dev/null
"$OUTPOST" --data "$C" testcenters add --label Sud --org ORG-B > /dev/null
"$OUTPOST" --data "$C" testcenters add --label Twin --org ORG-T > /dev/null
"$OUTPOST" --data "$C" testcenters add --label Twin --org ORG-T > /dev/null 2>&1
NORD=$(center_id "$C" "Lycee Nord")
SUD=$(center_id "$C" Sud)
imp() { run "$OUTPOST" --data "$C" import-eligibilities "$@"; }
elig() { sql "$C" "SELECT $1 FROM eligibilities WHERE center_id = '$2' AND delivery_id = '$3'"; }
takers() { # takers CENTER_ID DELIVERY_ID -> logins, sorted, comma-separated
    sql_list "$C" "SELECT u.login FROM eligibility_test_takers t
        JOIN users u ON u.id = t.user_id JOIN eligibilities e ON e.id = t.eligibility_id
        WHERE e.center_id = '$1' AND e.delivery_id = '$2' ORDER BY u.login"
}

# ---- a good file ----
cat > "$WORK/elig.csv" <<CSV
Test Center,Delivery,Test Takers,Proctored
Lycee Nord,Maths,t1;t2,
Lycee Nord,Physics,t1 t3,yes
$SUD,$MATHS,t3,No
CSV
imp -f "$WORK/elig.csv"
check "a good file is imported" status_is 0
check "the summary counts created eligibilities" contains "$OUT" "3 created, 0 updated, 0 unchanged"
check "test takers separated by ';' are in" [ "$(takers "$NORD" $MATHS)" = t1,t2 ]
check "test takers separated by spaces are in" [ "$(takers "$NORD" $PHYS)" = t1,t3 ]
check "centers and deliveries may be given by id" [ "$(takers "$SUD" $MATHS)" = t3 ]
check "an empty Proctored cell takes the delivery's default" [ "$(elig proctored "$NORD" $MATHS)" = 1 ]
check "Proctored yes overrides the default" [ "$(elig proctored "$NORD" $PHYS)" = 1 ]
check "Proctored No (any case) is read" [ "$(elig proctored "$SUD" $MATHS)" = 0 ]
check "the test takers are in their organisation's feed" \
    [ "$(feed_state "$C" ORG-B user "$(user_id "$C" t3)")" = live ]

imp -f "$WORK/elig.csv"
check "importing the same file again changes nothing" contains "$OUT" "0 created, 0 updated, 3 unchanged"
check "and bumps no version" [ "$(elig version "$NORD" $MATHS)" = 1 ]

# Replacing a list; a test taker removed from the organisation's only eligibility leaves.
printf 'test center , DELIVERY,test takers\nSud,Maths,t1\nLycee Nord,Maths,t2\n' > "$WORK/replace.csv"
imp -f "$WORK/replace.csv"
check "existing eligibilities have their lists replaced" contains "$OUT" "0 created, 2 updated, 0 unchanged"
check "the new list is stored" [ "$(takers "$SUD" $MATHS)" = t1 ]
check "the version is bumped" [ "$(elig version "$SUD" $MATHS)" = 2 ]
check "without a Proctored column the setting is kept" [ "$(elig proctored "$SUD" $MATHS)" = 0 ]
check "the removed test taker gets a tombstone in that organisation" \
    [ "$(feed_state "$C" ORG-B user "$(user_id "$C" t3)")" = tombstone ]
check "a test taker still in another eligibility of the organisation stays" \
    [ "$(feed_state "$C" ORG-A user "$(user_id "$C" t1)")" = live ]

imp -f "$WORK/replace.csv" --json
check "--json prints a summary" contains "$OUT" '"imported": true'
check "--json counts unchanged rows" contains "$OUT" '"unchanged": 2'

printf 'Test Center,Delivery,Test Takers\nSud,Maths,t1|t2\n' > "$WORK/pipes.csv"
imp -f "$WORK/pipes.csv"
check "logins separated by '|' as in TAO's files are read" [ "$(takers "$SUD" $MATHS)" = t1,t2 ]

# ---- a file with bad rows: nothing imported, every bad row listed ----
cat > "$WORK/bad.csv" <<CSV
Test Center,Delivery,Test Takers,Proctored
Lycee Nord,Maths,t1,maybe
Nowhere,Maths,t1,
Lycee Nord,Chemistry,t1,
Twin,Maths,t1,
Lycee Nord,Dup,t1,
Lycee Nord,Physics,proc ghost,
,Maths,t1,
Lycee Nord,,t1,
Sud,Physics,t1;t2,
Sud,$PHYS,t3,
CSV
before=$(sql_list "$C" "SELECT id || ':' || version FROM eligibilities ORDER BY id")
imp -f "$WORK/bad.csv"
check "a file with bad rows is refused" status_is 1
check "nothing was imported" [ "$(sql_list "$C" "SELECT id || ':' || version FROM eligibilities ORDER BY id")" = "$before" ]
check "the error says nothing was imported" contains "$ERR" "nothing was imported"
check "bad yes/no" contains "$ERR" 'bad.csv line 2: Proctored must be yes or no, not "maybe"'
check "unknown center" contains "$ERR" 'bad.csv line 3: Test Center: no test center with id or label "Nowhere"'
check "unknown delivery" contains "$ERR" 'bad.csv line 4: Delivery: no delivery with id or label "Chemistry"'
check "ambiguous center" contains "$ERR" 'bad.csv line 5: Test Center: 2 test centers are labelled "Twin"'
check "ambiguous delivery" contains "$ERR" 'bad.csv line 6: Delivery: 2 deliveries are labelled "Dup"'
check "wrong role" contains "$ERR" 'bad.csv line 7: Test Takers: "proc" is a proctor, not a test-taker'
check "unknown login" contains "$ERR" 'bad.csv line 7: Test Takers: no user with login "ghost"'
check "missing Test Center" contains "$ERR" "bad.csv line 8: missing Test Center"
check "missing Delivery" contains "$ERR" "bad.csv line 9: missing Delivery"
check "duplicate pair in the file, by label or id" contains "$ERR" 'bad.csv line 11: the eligibility of test center "Sud" for delivery "'"$PHYS"'" is already on line 10'
check "valid rows are not listed" sh -c '! printf "%s" "$1" | grep -q "line 10:"' _ "$ERR"

# A value quoted back in a problem can hold an escape sequence: the operator's terminal gets
# it escaped, never raw (every import's problems, and every error message, go through
# text_escape).
printf 'Test Center,Delivery,Test Takers,Proctored\nSud,Maths,t1,"\033]0;owned\007\033[2J"\n"No\033[5mwhere",Maths,t1,yes\n' > "$WORK/esc.csv"
imp -f "$WORK/esc.csv"
check "a file with escape sequences in its values is refused" status_is 1
check "the refusal shows the escape visibly" contains "$ERR" 'not "\x1b]0;owned\x07\x1b[2J"'
check "the refusal prints no raw ESC" sh -c "! printf '%s' \"\$1\" | grep -q \"\$2\"" _ "$ERR" "$(printf '\033')"

imp -f "$WORK/bad.csv" --json
check "--json with bad rows fails" status_is 1
check "--json says nothing was imported" contains "$OUT" '"imported": false'
check "--json lists the problems" contains "$OUT" '"line": 11'

imp -f "$WORK/bad.csv" --skip-invalid
check "--skip-invalid imports the valid rows" status_is 0
check "the summary counts the skipped rows" contains "$OUT" "1 created, 0 updated, 0 unchanged; 9 invalid rows skipped"
check "the valid row was imported" [ "$(takers "$SUD" $PHYS)" = t1,t2 ]

# ---- files that are not usable ----
printf 'Test Center,Delivery\nSud,Maths\n' > "$WORK/nocol.csv"
imp -f "$WORK/nocol.csv"
check "a missing column is refused" status_is 1
check "the missing column is named on line 1, as import-users does" contains "$ERR" 'nocol.csv line 1: missing column "Test Takers" (it is required)'
printf 'Test Center,Delivery,Test Takers,Proctor\nSud,Maths,t1,yes\n' > "$WORK/typo.csv"
imp -f "$WORK/typo.csv"
check "an unknown column is refused" contains "$ERR" 'typo.csv line 1: unknown column "Proctor" (the columns are: '
printf 'Test Center,Delivery,Test Takers,delivery\nSud,Maths,t1,Maths\n' > "$WORK/twice.csv"
imp -f "$WORK/twice.csv"
check "a column given twice is refused" status_is 1
check "it is named with its two places" contains "$ERR" 'twice.csv line 1: column "delivery" appears twice (columns 2 and 4)'
head -c 3000 /dev/urandom > "$WORK/garbage.csv"
printf '\000' >> "$WORK/garbage.csv"
imp -f "$WORK/garbage.csv"
check "binary garbage is refused" status_is 1
check "binary garbage gets one clear error" sh -c 'printf "%s" "$1" | grep -q "binary data\|UTF-8"' _ "$ERR"
S="$WORK/small"
write_setup "$WORK/small.json" central
sed -i 's/"security"/"limits": {"csv-max-bytes": 1024},\n    "security"/' "$WORK/small.json"
"$OUTPOST" --data "$S" setup "$WORK/small.json" > /dev/null 2>&1
{ echo "Test Center,Delivery,Test Takers"; i=0; while [ $i -lt 100 ]; do echo "Center $i,Maths,t1"; i=$((i + 1)); done; } > "$WORK/big.csv"
run "$OUTPOST" --data "$S" import-eligibilities -f "$WORK/big.csv"
check "a file over the size limit is refused" contains "$ERR" "over the limit of 1024 bytes"
imp
check "-f is required" status_is 2

D="$WORK/d"
new_instance "$D" device
run "$OUTPOST" --data "$D" import-eligibilities -f "$WORK/elig.csv"
check "import-eligibilities refuses to run on a device" contains "$ERR" "runs on a central"

finish
