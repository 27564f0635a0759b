# Tests of import-testcenters and import-eligibilities with the columns of TAO's own CSV files
# (taoTestCenter's importers, with taoOffline's organisation id): "label", "organisation id",
# "administrators", "proctors" and "sub centers" (labels separated by '|'); "test center"
# given by an organisation id, "delivery", "test takers" and "is proctored" (1 or 0).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fixtures/centers.sh"
C="$WORK/c"
new_instance "$C" central
for u in t1 t2 t3; do add_user "$C" $u test-taker; done
add_user "$C" boss test-center-admin
add_user "$C" proc1 proctor
add_user "$C" proc2 proctor
MATHS=11111111-1111-4111-8111-111111111111
add_delivery "$C" $MATHS Maths 1
"$OUTPOST" --data "$C" testcenters add --label "Old Annexe" --org ORG-OLD > /dev/null
parent_of() { sql "$C" "SELECT coalesce(p.label, '') FROM test_centers c LEFT JOIN test_centers p ON p.id = c.parent_id WHERE c.label = '$1'"; }

# ---- TAO's test-center file: sub centers listed on the parent, before or after it ----
cat > "$WORK/tao-centers.csv" <<'CSV'
label,organisation id,administrators,proctors,sub centers
Lycee Hugo annexe,ORG-HUGO,,proc2,
Lycee Hugo,ORG-HUGO,boss,proc1|proc2,Lycee Hugo annexe|Hugo Gym|Old Annexe
Hugo Gym,ORG-HUGO,,,
CSV
run "$OUTPOST" --data "$C" import-testcenters -f "$WORK/tao-centers.csv"
check "TAO's test-center CSV is imported" status_is 0
check "all three rows are created" contains "$OUT" "3 created"
check "a sub center on an earlier row gets the parent" [ "$(parent_of "Lycee Hugo annexe")" = "Lycee Hugo" ]
check "a sub center on a later row gets the parent" [ "$(parent_of "Hugo Gym")" = "Lycee Hugo" ]
check "a sub center already in the database gets the parent" [ "$(parent_of "Old Annexe")" = "Lycee Hugo" ]
check "the parent itself has none" [ "$(parent_of "Lycee Hugo")" = "" ]
run "$OUTPOST" --data "$C" testcenters list --json
check "administrators and proctors separated by | are assigned" \
    [ "$(printf '%s' "$OUT" | jq -r '.[] | select(.label == "Lycee Hugo") | (.proctors | join(","))')" = "proc1,proc2" ]

run "$OUTPOST" --data "$C" import-testcenters -f "$WORK/tao-centers.csv"
check "importing it again changes nothing" contains "$OUT" "0 created, 0 updated, 3 unchanged"

# sub centers that cannot be: each is a problem of the row that lists them, all listed at once
cat > "$WORK/bad-subs.csv" <<'CSV'
label,organisation id,parent,sub centers
Self,ORG-X,,Self
Ghost parent,ORG-X,,Nowhere
Kid,ORG-X,Elsewhere,
Elsewhere,ORG-X,,
Claims kid,ORG-X,,Kid
Twin A,ORG-X,,Shared
Twin B,ORG-X,,Shared
Shared,ORG-X,,
CSV
run "$OUTPOST" --data "$C" import-testcenters -f "$WORK/bad-subs.csv"
check "a file with bad sub centers is refused" status_is 1
check "its own sub-center" contains "$ERR" "bad-subs.csv line 2: Sub Centers: a test center cannot be its own sub-center"
check "an unknown sub-center" contains "$ERR" "bad-subs.csv line 3: Sub Centers: no test center"
check "a sub-center whose Parent says otherwise" contains "$ERR" "bad-subs.csv line 6: Sub Centers: \"Kid\" names another parent, \"Elsewhere\", on line 4"
check "a sub-center of two rows" contains "$ERR" "bad-subs.csv line 8: Sub Centers: \"Shared\" is already a sub-center of \"Twin A\" (line 7)"
check "nothing was imported" [ "$(sql "$C" "SELECT count(*) FROM test_centers WHERE org_id = 'ORG-X'")" = 0 ]

# ---- TAO's eligibility file: the center by its organisation id, is proctored 1/0 ----
"$OUTPOST" --data "$C" testcenters add --label Solo --org ORG-SOLO > /dev/null
SOLO=$(center_id "$C" Solo)
cat > "$WORK/tao-elig.csv" <<CSV
test center,delivery,test takers,is proctored
ORG-SOLO,$MATHS,t1|t2,0
Lycee Hugo,Maths,t3,1
CSV
run "$OUTPOST" --data "$C" import-eligibilities -f "$WORK/tao-elig.csv"
check "TAO's eligibility CSV is imported" status_is 0
check "both rows are created" contains "$OUT" "2 created"
check "an organisation id names its only center" \
    [ "$(sql "$C" "SELECT count(*) FROM eligibilities WHERE center_id = '$SOLO' AND delivery_id = '$MATHS'")" = 1 ]
check "is proctored 0 is not proctored" \
    [ "$(sql "$C" "SELECT proctored FROM eligibilities WHERE center_id = '$SOLO'")" = 0 ]
check "is proctored 1 is proctored" \
    [ "$(sql "$C" "SELECT e.proctored FROM eligibilities e JOIN test_centers c ON c.id = e.center_id WHERE c.label = 'Lycee Hugo'")" = 1 ]
check "test takers separated by | are in" \
    [ "$(sql "$C" "SELECT count(*) FROM eligibility_test_takers t JOIN eligibilities e ON e.id = t.eligibility_id WHERE e.center_id = '$SOLO'")" = 2 ]

cat > "$WORK/bad-elig.csv" <<CSV
test center,delivery,test takers,is proctored
ORG-HUGO,$MATHS,t1,1
ORG-SOLO,$MATHS,t1,maybe
CSV
run "$OUTPOST" --data "$C" import-eligibilities -f "$WORK/bad-elig.csv"
check "an organisation id of several centers, and a bad is proctored, are refused" status_is 1
check "the organisation id of several centers is named" contains "$ERR" "bad-elig.csv line 2: Test Center: no test center with id or label \"ORG-HUGO\", and 3 test centers have it as organisation id"
check "the bad is proctored is named" contains "$ERR" "bad-elig.csv line 3: is proctored must be 1 or 0 (or yes or no), not \"maybe\""

# ---- TAO's URIs: Outpost keeps none; each is named with what names the record instead ----
cat > "$WORK/uris.csv" <<CSV
test center,delivery,test takers,is proctored
https://tao.example.org/ontologies/tao.rdf#i1700000000001,Maths,t1,1
Solo,https://tao.example.org/ontologies/tao.rdf#i1700000000002,t1,1
Solo,Maths,t1|https://tao.example.org/ontologies/tao.rdf#i1700000000003,1
CSV
N=$(sql "$C" "SELECT count(*) FROM eligibilities")
run "$OUTPOST" --data "$C" import-eligibilities -f "$WORK/uris.csv"
check "an eligibility file naming records by TAO URIs is refused" status_is 1
check "a test center's URI: what names it instead" \
    contains "$ERR" "uris.csv line 2: Test Center: \"https://tao.example.org/ontologies/tao.rdf#i1700000000001\" is a TAO URI, and Outpost keeps none: name the test center by its organisation id, label or id (\`outpost testcenters list\`), as TAO's test-center CSV gives them"
check "a delivery's URI: what names it instead" \
    contains "$ERR" "uris.csv line 3: Delivery: \"https://tao.example.org/ontologies/tao.rdf#i1700000000002\" is a TAO URI, and Outpost keeps none: name the delivery by its label or id (\`outpost deliveries list\`): a QTI package exported from TAO does not carry the URI of its TAO delivery"
check "a test taker's URI: what names them instead" \
    contains "$ERR" "uris.csv line 4: Test Takers: \"https://tao.example.org/ontologies/tao.rdf#i1700000000003\" is a TAO URI, and Outpost keeps none: name users by their login (\`outpost users list\`), the login column of TAO's user CSV"
check "nothing was imported" [ "$(sql "$C" "SELECT count(*) FROM eligibilities")" = "$N" ]
run "$OUTPOST" --data "$C" eligibilities set --center Solo --delivery "https://tao.example.org/ontologies/tao.rdf#i1700000000002" --test-takers t1
check "eligibilities set refuses a delivery's URI the same way" contains "$ERR" "is a TAO URI, and Outpost keeps none: name the delivery by its label or id"
# the administrators and proctors of TAO's test-center file are logins too
printf 'label,organisation id,proctors\nUri Centre,ORG-URI,http://tao.example.org/tao.rdf#i9\n' > "$WORK/uri-centers.csv"
run "$OUTPOST" --data "$C" import-testcenters -f "$WORK/uri-centers.csv"
check "a proctor's URI in a test-center file is refused the same way" \
    contains "$ERR" "uri-centers.csv line 2: Proctors: \"http://tao.example.org/tao.rdf#i9\" is a TAO URI, and Outpost keeps none: name users by their login"

printf 'test center,delivery,test takers,is proctored,proctored\nSolo,Maths,t1,1,yes\n' > "$WORK/both.csv"
run "$OUTPOST" --data "$C" import-eligibilities -f "$WORK/both.csv"
check "is proctored and Proctored together are refused" status_is 1
check "saying why" contains "$ERR" "columns \"Proctored\" and \"is proctored\" say the same; keep one"

finish
