# Tests of `outpost import-testcenters`: the CSV format, updates by label, organisation moves,
# all-or-nothing with every bad row listed, --skip-invalid, --json, and files that are not CSV.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fixtures/centers.sh"
C="$WORK/c"
new_instance "$C" central
add_user "$C" boss test-center-admin
add_user "$C" boss2 test-center-admin
add_user "$C" proc proctor
add_user "$C" proc2 proctor
add_user "$C" t1 test-taker
"$OUTPOST" --data "$C" testcenters add --label "Old School" --org ORG-Z > /dev/null
OLD=$(center_id "$C" "Old School")
imp() { run "$OUTPOST" --data "$C" import-testcenters "$@"; }
ncenters() { sql "$C" "SELECT count(*) FROM test_centers"; }
staff() { # staff LABEL DUTY -> logins, sorted, comma-separated
    sql_list "$C" "SELECT u.login FROM test_center_staff s
        JOIN users u ON u.id = s.user_id JOIN test_centers c ON c.id = s.center_id
        WHERE c.label = '$1' AND s.duty = '$2' ORDER BY u.login"
}

# ---- a good file ----
cat > "$WORK/centers.csv" <<'CSV'
Label,Organisation Id,Parent,Administrators,Proctors
Region North,ORG-R,,boss,
"Lycee Nord",ORG-A,Region North,boss;boss2,proc proc2
Annexe,ORG-A,Lycee Nord,,"proc;
proc2"
Old School,ORG-A,,,
CSV
imp -f "$WORK/centers.csv"
check "a good file is imported" status_is 0
check "the summary counts created and updated centers" contains "$OUT" "3 created, 1 updated, 0 unchanged"
check "a parent named on an earlier line is linked" \
    [ "$(sql "$C" "SELECT p.label FROM test_centers c JOIN test_centers p ON p.id = c.parent_id WHERE c.label = 'Lycee Nord'")" = "Region North" ]
check "administrators separated by ';' are assigned" [ "$(staff "Lycee Nord" admin)" = boss,boss2 ]
check "proctors separated by spaces are assigned" [ "$(staff "Lycee Nord" proctor)" = proc,proc2 ]
check "a quoted cell over two lines is one list" [ "$(staff Annexe proctor)" = proc,proc2 ]
check "an existing center (same label) is updated, not duplicated" \
    [ "$(sql "$C" "SELECT count(*) FROM test_centers WHERE label = 'Old School'")" = 1 ]
check "its organisation changed" [ "$(sql "$C" "SELECT org_id FROM test_centers WHERE id = '$OLD'")" = ORG-A ]
check "the old organisation's feed has its tombstone" [ "$(feed_state "$C" ORG-Z test-center "$OLD")" = tombstone ]
check "the new organisation's feed has it" [ "$(feed_state "$C" ORG-A test-center "$OLD")" = live ]

imp -f "$WORK/centers.csv"
check "importing the same file again changes nothing" contains "$OUT" "0 created, 0 updated, 4 unchanged"
check "and bumps no version" [ "$(sql "$C" "SELECT version FROM test_centers WHERE id = '$OLD'")" = 2 ]

imp -f "$WORK/centers.csv" --json
check "--json prints a summary" contains "$OUT" '"imported": true'
check "--json counts unchanged rows" contains "$OUT" '"unchanged": 4'

# Header names: any case, trimmed, either spelling, any order; BOM and CRLF.
printf '\357\273\277 organization ID ,  LABEL \r\nORG-A,Case Center\r\n' > "$WORK/case.csv"
imp -f "$WORK/case.csv"
check "header names are case-insensitive and trimmed, BOM and CRLF accepted" status_is 0
check "the row was read by header name" [ "$(sql "$C" "SELECT org_id FROM test_centers WHERE label = 'Case Center'")" = ORG-A ]

# An absent optional column leaves the property alone; an empty cell clears it.
printf 'Label,Organisation Id\nLycee Nord,ORG-A\n' > "$WORK/noparent.csv"
imp -f "$WORK/noparent.csv"
check "an absent Parent column keeps the parent" \
    [ -n "$(sql "$C" "SELECT parent_id FROM test_centers WHERE label = 'Lycee Nord'")" ]
check "an absent Administrators column keeps the staff" [ "$(staff "Lycee Nord" admin)" = boss,boss2 ]
printf 'Label,Organisation Id,Administrators\nLycee Nord,ORG-A,\n' > "$WORK/noadmins.csv"
imp -f "$WORK/noadmins.csv"
check "an empty Administrators cell removes the administrators" [ -z "$(staff "Lycee Nord" admin)" ]

# Moving a center moves its eligibilities and test takers between organisations.
add_delivery "$C" 11111111-1111-4111-8111-111111111111 Maths 1
"$OUTPOST" --data "$C" eligibilities set --center Annexe --delivery Maths --test-takers t1 > /dev/null
T1=$(user_id "$C" t1)
check "the test taker is in ORG-A's feed" [ "$(feed_state "$C" ORG-A user "$T1")" = live ]
printf 'Label,Organisation Id\nAnnexe,ORG-B\n' > "$WORK/move.csv"
imp -f "$WORK/move.csv"
check "an organisation change is imported" contains "$OUT" "1 updated"
check "the test taker left ORG-A's feed" [ "$(feed_state "$C" ORG-A user "$T1")" = tombstone ]
check "the test taker entered ORG-B's feed" [ "$(feed_state "$C" ORG-B user "$T1")" = live ]
check "the delivery moved too" [ "$(feed_state "$C" ORG-B delivery 11111111-1111-4111-8111-111111111111)" = live ]
check "the proctors moved too" [ "$(feed_state "$C" ORG-B user "$(user_id "$C" proc)")" = live ]

# ---- a file with bad rows: nothing imported, every bad row listed ----
"$OUTPOST" --data "$C" testcenters add --label Twin --org ORG-T > /dev/null
"$OUTPOST" --data "$C" testcenters add --label Twin --org ORG-T > /dev/null 2>&1
"$OUTPOST" --data "$C" testcenters add --label Dual --org ORG-T > /dev/null
"$OUTPOST" --data "$C" testcenters add --label Dual --org ORG-T > /dev/null 2>&1
cat > "$WORK/bad.csv" <<'CSV'
Label,Organisation Id,Parent,Administrators,Proctors
Good One,ORG-A,,,
,ORG-A,,,
No Org,,,,
Staffed,ORG-A,,proc,
Staffed2,ORG-A,,,t1 ghost
Good One,ORG-B,,,
Orphan,ORG-A,Nowhere,,
Early,ORG-A,Late,,
Late,ORG-A,,,
Twin,ORG-A,,,
Child,ORG-A,Twin,,
Self,ORG-A,Self,,
Kid,ORG-A,No Org,,
Kid2,ORG-A,Dual,,
CSV
n=$(ncenters)
imp -f "$WORK/bad.csv"
check "a file with bad rows is refused" status_is 1
check "nothing was imported" [ "$(ncenters)" = "$n" ]
check "the error says nothing was imported" contains "$ERR" "nothing was imported"
check "the CLI says how to import the valid rows" contains "$ERR" "problems; nothing was imported (fix the rows listed, or give --skip-invalid to import the valid rows)"
check "missing Label" contains "$ERR" "bad.csv line 3: missing Label"
check "missing Organisation Id" contains "$ERR" "bad.csv line 4: missing Organisation Id"
check "wrong role for an administrator" contains "$ERR" 'bad.csv line 5: Administrators: "proc" is a proctor, not a test-center-admin'
check "wrong role for a proctor" contains "$ERR" 'bad.csv line 6: Proctors: "t1" is a test-taker, not a proctor'
check "unknown login" contains "$ERR" 'bad.csv line 6: Proctors: no user with login "ghost"'
check "duplicate row in the file" contains "$ERR" 'bad.csv line 7: test center "Good One" is already on line 2'
check "unknown parent" contains "$ERR" 'bad.csv line 8: Parent: no test center with id or label "Nowhere"'
check "parent defined later" contains "$ERR" 'bad.csv line 9: Parent "Late" is on line 10, after this one'
check "label shared by existing centers" contains "$ERR" 'bad.csv line 11: 2 test centers are labelled "Twin"'
check "parent on a bad line" contains "$ERR" 'bad.csv line 12: Parent "Twin" is the test center on line 11, which has problems'
check "ambiguous parent" contains "$ERR" 'bad.csv line 15: Parent: 2 test centers are labelled "Dual"'
check "own parent" contains "$ERR" 'bad.csv line 13: a test center cannot be its own parent'
check "parent on a bad line further down" contains "$ERR" 'bad.csv line 14: Parent "No Org" is the test center on line 4, which has problems'
check "valid rows are not listed" sh -c '! printf "%s" "$1" | grep -q "line 2:\|line 10:"' _ "$ERR"

imp -f "$WORK/bad.csv" --json
check "--json with bad rows still fails" status_is 1
check "--json says nothing was imported" contains "$OUT" '"imported": false'
check "--json lists the problems with their lines" contains "$OUT" '"line": 13'

imp -f "$WORK/bad.csv" --skip-invalid
check "--skip-invalid imports the valid rows" status_is 0
check "the valid rows were created" [ "$(ncenters)" = $((n + 2)) ]
check "the summary counts the skipped rows" contains "$OUT" "2 created, 0 updated, 0 unchanged; 12 invalid rows skipped"
check "the invalid rows are still listed" contains "$ERR" "bad.csv line 3: missing Label"

# ---- a cycle through existing centers ----
printf 'Label,Organisation Id,Parent\nRegion North,ORG-R,Annexe\n' > "$WORK/cycle.csv"
imp -f "$WORK/cycle.csv"
check "a parent cycle is refused" status_is 1
check "the cycle is explained on its line" contains "$ERR" 'cycle.csv line 2: test center "Annexe" is a sub-center of "Region North"'
check "the refused cycle left the parent alone" \
    [ -z "$(sql "$C" "SELECT parent_id FROM test_centers WHERE label = 'Region North'")" ]

# ---- files that are not usable ----
printf 'Label,Proctors\nX,proc\n' > "$WORK/nocol.csv"
imp -f "$WORK/nocol.csv"
check "a missing column is refused" status_is 1
check "the missing column is named on line 1, as import-users does" contains "$ERR" 'nocol.csv line 1: missing column "Organisation Id" (it is required)'
printf 'Label,Organisation Id,Proctor\nX,ORG-A,proc\n' > "$WORK/typo.csv"
imp -f "$WORK/typo.csv"
check "an unknown column is refused, not ignored" contains "$ERR" 'typo.csv line 1: unknown column "Proctor" (the columns are: Label, '
printf '\n\nLabel,Organisation Id,Proctor\nX,ORG-A,proc\n' > "$WORK/typo3.csv"
imp -f "$WORK/typo3.csv"
check "a header after blank lines is named by its real line" contains "$ERR" 'typo3.csv line 3: unknown column "Proctor"'
printf 'Label,Organisation Id,label\nX,ORG-A,Y\n' > "$WORK/twice.csv"
imp -f "$WORK/twice.csv"
check "a column given twice is refused" contains "$ERR" 'twice.csv line 1: column "label" appears twice (columns 1 and 3)'
printf 'Label,Organisation Id\n\000\001\002\377garbage\n' > "$WORK/garbage.csv"
imp -f "$WORK/garbage.csv"
check "binary garbage is refused" status_is 1
check "binary garbage gets a clear error" contains "$ERR" "binary data"
printf 'Label,Organisation Id\n\377\376x,ORG-A\n' > "$WORK/latin.csv"
imp -f "$WORK/latin.csv"
check "text that is not UTF-8 is refused" contains "$ERR" "UTF-8"
: > "$WORK/empty.csv"
imp -f "$WORK/empty.csv"
check "an empty file is refused" contains "$ERR" "empty file"
imp -f "$WORK/missing.csv"
check "a missing file is named" contains "$ERR" "missing.csv"
imp
check "-f is required" status_is 2
check "no failed import changed anything" [ "$(ncenters)" = $((n + 2)) ]

# Over the size limit: an instance whose limit is 1 KiB.
S="$WORK/small"
write_setup "$WORK/small.json" central
sed -i 's/"security"/"limits": {"csv-max-bytes": 1024},\n    "security"/' "$WORK/small.json"
"$OUTPOST" --data "$S" setup "$WORK/small.json" > /dev/null 2>&1
{ echo "Label,Organisation Id"; i=0; while [ $i -lt 100 ]; do echo "Center $i,ORG-A"; i=$((i + 1)); done; } > "$WORK/big.csv"
run "$OUTPOST" --data "$S" import-testcenters -f "$WORK/big.csv"
check "a file over the size limit is refused" status_is 1
check "the refusal names the limit" contains "$ERR" "over the limit of 1024 bytes"
check "the refusal names the setting to raise" contains "$ERR" "configuration.limits.csv-max-bytes"
check "the CLI's advice follows the limit" contains "$ERR" "over the limit of 1024 bytes (raise configuration.limits.csv-max-bytes, or split the file)"
check "nothing was imported from it" [ "$(sql "$S" "SELECT count(*) FROM test_centers")" = 0 ]

D="$WORK/d"
new_instance "$D" device
run "$OUTPOST" --data "$D" import-testcenters -f "$WORK/centers.csv"
check "import-testcenters refuses to run on a device" contains "$ERR" "runs on a central"

finish
