# Tests of `outpost testcenters update`: label, organisation and parent changes, the change
# feed when a center moves between organisations, --json, and the bad input.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fixtures/centers.sh"
C="$WORK/c"
new_instance "$C" central
add_user "$C" boss test-center-admin
add_user "$C" proc proctor
add_user "$C" t1 test-taker
add_user "$C" t2 test-taker
MATHS=11111111-1111-4111-8111-111111111111
PHYS=22222222-2222-4222-8222-222222222222
add_delivery "$C" $MATHS Maths 1
add_delivery "$C" $PHYS Physics 0
tc() { "$OUTPOST" --data "$C" "$@" > /dev/null 2>&1 || { echo "FAIL: fixture: $*"; exit 1; }; }
tc testcenters add --label Region --org ORG-R
tc testcenters add --label Lycee --org ORG-A --parent Region
tc testcenters add --label Annexe --org ORG-A --parent Lycee
tc testcenters add --label Other --org ORG-A
REGION=$(center_id "$C" Region)
LYCEE=$(center_id "$C" Lycee)
ANNEXE=$(center_id "$C" Annexe)
# Lycee holds boss, proc, t1 and t2 and the only eligibility for Maths; Other also holds proc
# and t2 (through Physics), so those stay in ORG-A when Lycee leaves it.
tc testcenters assign Lycee --admin boss
tc testcenters assign Lycee --proctor proc
tc testcenters assign Other --proctor proc
tc eligibilities set --center Lycee --delivery Maths --test-takers t1,t2
tc eligibilities set --center Other --delivery Physics --test-takers t2
EL=$(sql "$C" "SELECT id FROM eligibilities WHERE center_id = '$LYCEE'")
BOSS=$(user_id "$C" boss)
PROC=$(user_id "$C" proc)
T1=$(user_id "$C" t1)
T2=$(user_id "$C" t2)
version() { sql "$C" "SELECT version FROM test_centers WHERE id = '$1'"; }
feed_rows() { sql "$C" "SELECT count(*) || '/' || max(seq) FROM sync_feed"; }

# ---- label ----
V=$(version "$LYCEE")
run "$OUTPOST" --data "$C" testcenters update Lycee --label "Lycee Hugo"
check "update --label" status_is 0
check "update names the center and its new version" \
    contains "$OUT" "updated test center \"Lycee Hugo\" ($LYCEE), version $((V + 1))"
check "update prints the label change" contains "$OUT" 'label: "Lycee" -> "Lycee Hugo"'
check "update prints only what changed" sh -c '! printf "%s" "$1" | grep -q -e organisation -e parent:' _ "$OUT"
check "the label is stored" [ "$(sql "$C" "SELECT label FROM test_centers WHERE id = '$LYCEE'")" = "Lycee Hugo" ]
check "the version went up by one" [ "$(version "$LYCEE")" = $((V + 1)) ]
check "the feed row of the center carries the new version" \
    [ "$(sql "$C" "SELECT version FROM sync_feed WHERE org_id = 'ORG-A' AND entity_id = '$LYCEE'")" = $((V + 1)) ]

# ---- nothing to change ----
BEFORE=$(feed_rows)
run "$OUTPOST" --data "$C" testcenters update "$LYCEE" --label "Lycee Hugo" --org ORG-A --parent Region
check "the current values again succeed" status_is 0
check "and say nothing changed" contains "$OUT" "nothing changed"
check "and keep the version" [ "$(version "$LYCEE")" = $((V + 1)) ]
check "and write nothing to the feed" [ "$(feed_rows)" = "$BEFORE" ]
run "$OUTPOST" --data "$C" testcenters update "Lycee Hugo"
check "update without a change to make is a usage error" status_is 2
check "the usage error says what to give" contains "$ERR" "nothing to change: give --label, --org, --parent or --no-parent"

# ---- bad input ----
run "$OUTPOST" --data "$C" testcenters update Nowhere --label X
check "an unknown center is refused" status_is 1
check "the refusal names it" contains "$ERR" 'no test center with id or label "Nowhere"'
run "$OUTPOST" --data "$C" testcenters update "Lycee Hugo" --parent Nowhere
check "an unknown parent is refused" status_is 1
check "the refusal names the parent" contains "$ERR" '--parent: no test center with id or label "Nowhere"'
run "$OUTPOST" --data "$C" testcenters update Region --parent Annexe
check "a parent that makes a cycle is refused" status_is 1
check "the refusal explains the cycle" \
    contains "$ERR" 'test center "Annexe" is a sub-center of "Region", so it cannot be its parent (that would make a cycle)'
run "$OUTPOST" --data "$C" testcenters update Region --parent Region
check "a center cannot be its own parent" contains "$ERR" 'test center "Region" cannot be its own parent'
run "$OUTPOST" --data "$C" testcenters update Region --label ""
check "an empty label is refused" status_is 1
check "the refusal says a label is needed" contains "$ERR" "needs a label"
run "$OUTPOST" --data "$C" testcenters update Region --label 0b5b3c2e-8a4f-4d7e-9c1a-2f3e4d5c6b7a
check "a label that looks like an id is refused" status_is 1
check "the refusal says why" contains "$ERR" "looks like an id"
run "$OUTPOST" --data "$C" testcenters update Region --label " Region"
check "a label with a leading space is refused" contains "$ERR" "no leading or trailing space"
run "$OUTPOST" --data "$C" testcenters update Region --org ""
check "an empty organisation id is refused" contains "$ERR" "needs an organisation id"
run "$OUTPOST" --data "$C" testcenters update Region --parent Annexe --no-parent
check "--parent with --no-parent is a usage error" status_is 2
run "$OUTPOST" --data "$C" testcenters update --label X
check "update without CENTER is a usage error" status_is 2
run "$OUTPOST" --data "$C" testcenters update Region Other --label X
check "update with two CENTERs is a usage error" status_is 2
check "the refused updates changed nothing" \
    [ "$(sql "$C" "SELECT label || ':' || org_id || ':' || coalesce(parent_id, '-') || ':' || version
                  FROM test_centers WHERE id = '$REGION'")" = "Region:ORG-R:-:1" ]
check "and wrote nothing to the feed" [ "$(feed_rows)" = "$BEFORE" ]

# ---- parent ----
run "$OUTPOST" --data "$C" testcenters update Annexe --no-parent
check "update --no-parent" status_is 0
check "prints the parent change" contains "$OUT" 'parent: "Lycee Hugo" -> none'
check "the parent is cleared" [ -z "$(sql "$C" "SELECT parent_id FROM test_centers WHERE id = '$ANNEXE'")" ]
run "$OUTPOST" --data "$C" testcenters update Annexe --parent "$REGION"
check "update --parent by id" status_is 0
check "prints the new parent by label" contains "$OUT" 'parent: none -> "Region"'
check "the parent is stored by id" [ "$(sql "$C" "SELECT parent_id FROM test_centers WHERE id = '$ANNEXE'")" = "$REGION" ]
run "$OUTPOST" --data "$C" testcenters update Region --parent Other
check "a parent from the other branch of the tree is fine" status_is 0
tc testcenters update Region --no-parent

# ---- organisation: the center and what it holds move between feeds ----
MAXSEQ=$(sql "$C" "SELECT max(seq) FROM sync_feed")
run "$OUTPOST" --data "$C" testcenters update "Lycee Hugo" --org ORG-B
check "update --org" status_is 0
check "prints the organisation change" contains "$OUT" "organisation: ORG-A -> ORG-B"
check "the organisation is stored" [ "$(sql "$C" "SELECT org_id FROM test_centers WHERE id = '$LYCEE'")" = ORG-B ]
check "old organisation: a tombstone for the center" [ "$(feed_state "$C" ORG-A test-center "$LYCEE")" = tombstone ]
check "old organisation: a tombstone for its eligibility" [ "$(feed_state "$C" ORG-A eligibility "$EL")" = tombstone ]
check "old organisation: a tombstone for the delivery only it named" [ "$(feed_state "$C" ORG-A delivery $MATHS)" = tombstone ]
check "old organisation: a tombstone for a test taker only it held" [ "$(feed_state "$C" ORG-A user "$T1")" = tombstone ]
check "old organisation: a tombstone for its administrator" [ "$(feed_state "$C" ORG-A user "$BOSS")" = tombstone ]
check "old organisation keeps a test taker another center holds" [ "$(feed_state "$C" ORG-A user "$T2")" = live ]
check "old organisation keeps a proctor another center holds" [ "$(feed_state "$C" ORG-A user "$PROC")" = live ]
check "old organisation keeps the sub-center (its organisation is its own)" \
    [ "$(feed_state "$C" ORG-A test-center "$ANNEXE")" = live ]
for what in "test-center center $LYCEE" "eligibility eligibility $EL" "delivery delivery $MATHS" \
    "user t1 $T1" "user t2 $T2" "user boss $BOSS" "user proc $PROC"; do
    set -- $what
    check "new organisation: $2 is live" [ "$(feed_state "$C" ORG-B "$1" "$3")" = live ]
done
check "the old organisation has exactly those 5 tombstones" \
    [ "$(sql "$C" "SELECT count(*) FROM sync_feed WHERE org_id = 'ORG-A' AND deleted = 1")" = 5 ]
check "all 5 after the position its devices had reached" \
    [ "$(sql "$C" "SELECT count(*) FROM sync_feed WHERE org_id = 'ORG-A' AND deleted = 1 AND seq > $MAXSEQ")" = 5 ]

run "$OUTPOST" --data "$C" testcenters update "Lycee Hugo" --org ORG-A
check "moving back" status_is 0
check "moving back makes the center live again in the old organisation" \
    [ "$(feed_state "$C" ORG-A test-center "$LYCEE")" = live ]
check "and its test takers" [ "$(feed_state "$C" ORG-A user "$T1")" = live ]
check "and leaves tombstones in the other" [ "$(feed_state "$C" ORG-B user "$T1")" = tombstone ]

# ---- several changes at once, --json ----
run "$OUTPOST" --data "$C" testcenters update "Lycee Hugo" --label Lycee --org ORG-C --no-parent --json
check "update --json" status_is 0
printf '%s' "$OUT" > "$WORK/update.json"
check "update --json prints one object with the new values" \
    [ "$(sqlite3 :memory: "SELECT json_extract(readfile('$WORK/update.json'), '\$.label', '\$.org_id', '\$.parent_id')")" = '["Lycee","ORG-C",null]' ]
run "$OUTPOST" --data "$C" testcenters list --json
printf '%s' "$OUT" > "$WORK/list.json"
check "update --json prints the center exactly as list --json does" \
    [ "$(sqlite3 :memory: "SELECT json(value) = json(readfile('$WORK/update.json'))
                           FROM json_each(readfile('$WORK/list.json'))
                           WHERE json_extract(value, '\$.id') = '$LYCEE'")" = 1 ]

# ---- a shared label ----
run "$OUTPOST" --data "$C" testcenters update Other --label Lycee
check "a label another center has is allowed" status_is 0
check "with a note that ids are now needed" contains "$ERR" '2 test centers are now labelled "Lycee"'
run "$OUTPOST" --data "$C" testcenters update Lycee --org ORG-D
check "a shared label no longer finds a center" status_is 1
check "the refusal lists the ids" contains "$ERR" "$LYCEE"

# ---- on a device ----
D="$WORK/d"
new_instance "$D" device
run "$OUTPOST" --data "$D" testcenters update X --label Y
check "update refuses to run on a device" status_is 1
check "the refusal says it runs on central" contains "$ERR" "runs on a central"

finish
