# Tests of `outpost import-qti`, `outpost deliveries list` and `outpost qti run` with the
# project's own demo package (demo/qti-test, zipped by scripts/make-demo-package.sh).
. "$(dirname "$0")/lib.sh"
lacks() { ! contains "$1" "$2"; }
C="$WORK/c"
new_instance "$C" central
DEMO="$WORK/demo.zip"
sh "$OUTPOST_SOURCE/scripts/make-demo-package.sh" "$DEMO"

run "$OUTPOST" --data "$C" import-qti -f "$DEMO"
check "the demo package imports" status_is 0
id1=$OUT
check "import-qti prints the delivery id" [ "$(sql "$C" "SELECT count(*) FROM deliveries WHERE id='$id1'")" = 1 ]
check "the delivery is labelled with the test title" [ "$(sql "$C" "SELECT label FROM deliveries WHERE id='$id1'")" = "Outpost demo test" ]
sha1=$(sql "$C" "SELECT package_sha256 FROM deliveries WHERE id='$id1'")
check "the compiled package is stored under its hash" [ -f "$C/packages/$sha1" ]
check "the stored file hashes to its name" [ "$(sha256sum "$C/packages/$sha1" | cut -d' ' -f1)" = "$sha1" ]

run "$OUTPOST" --data "$C" import-qti -f "$DEMO" --label "Demo again" --json
check "a second import with --json succeeds" status_is 0
check "--json prints the record" contains "$OUT" '"label": "Demo again"'
check "importing the same package twice gives the same hash" contains "$OUT" "\"package_sha256\": \"$sha1\""
check "one package file for both" [ "$(ls "$C/packages" | grep -vc '^enc$')" = 1 ]
check "each delivery has its own encrypted copy (bound to its id)" [ "$(ls "$C/packages/enc" | wc -l)" = 2 ]

run "$OUTPOST" --data "$C" deliveries list --json
check "deliveries list --json lists both" [ "$(printf '%s' "$OUT" | grep -c '"package_sha256"')" = 2 ]
run "$OUTPOST" --data "$C" deliveries list
check "deliveries list shows the hash" contains "$OUT" "$sha1"

# A bad package creates nothing.
before=$(sql "$C" 'SELECT count(*) FROM deliveries')
mkdir -p "$WORK/bad" && cp -r "$OUTPOST_SOURCE/demo/qti-test/." "$WORK/bad/"
printf '<assessmentItem identifier="x"><oops></assessmentItem>' > "$WORK/bad/items/planet.xml"
sh "$OUTPOST_SOURCE/scripts/make-demo-package.sh" "$WORK/bad.zip" "$WORK/bad"
run "$OUTPOST" --data "$C" import-qti -f "$WORK/bad.zip"
check "a package with a malformed item is refused" status_is 1
check "the refusal names the archive and the item file" contains "$ERR" "bad.zip: items/planet.xml line 1"
check "no delivery was created" [ "$(sql "$C" 'SELECT count(*) FROM deliveries')" = "$before" ]
check "no package was stored" [ "$(ls "$C/packages" | grep -vc '^enc$')" = 1 ]
check "and no encrypted copy" [ "$(ls -A "$C/packages/enc" | wc -l)" = 2 ]

run "$OUTPOST" --data "$C" import-qti -f "$WORK/none.zip"
check "a missing file is refused" status_is 1
run "$OUTPOST" --data "$C" import-qti
check "-f is required" status_is 2

# The size limit comes from configuration.limits.qti-package-max-bytes.
L="$WORK/limited"
write_setup "$WORK/limited.json" central
sed -i 's/"security"/"limits": {"qti-package-max-bytes": 2048},\n    "security"/' "$WORK/limited.json"
"$OUTPOST" --data "$L" setup "$WORK/limited.json" > /dev/null 2>&1
run "$OUTPOST" --data "$L" import-qti -f "$DEMO"
check "a package over the configured limit is refused" status_is 1
check "the refusal names the limit" contains "$ERR" "over the limit of 2048 bytes"
check "the refusal names the setting" contains "$ERR" "over the limit of 2048 bytes for a package (configuration.limits.qti-package-max-bytes)"

# A package of several tests (tests/fixtures/qti/two-tests: Maths, then Physics, as the
# manifest lists them) makes one delivery per test, all or none.
TWO="$WORK/two-tests.zip"
sh "$OUTPOST_SOURCE/scripts/make-demo-package.sh" "$TWO" "$OUTPOST_SOURCE/tests/fixtures/qti/two-tests"
before=$(sql "$C" 'SELECT count(*) FROM deliveries')
run "$OUTPOST" --data "$C" import-qti -f "$TWO"
check "a package of two tests imports" status_is 0
check "one line per delivery: id, tab, label" [ "$(printf '%s\n' "$OUT" | cut -f2 | tr '\n' ,)" = "Maths,Physics," ]
maths=$(printf '%s\n' "$OUT" | head -1 | cut -f1)
check "two deliveries were made" [ "$(sql "$C" 'SELECT count(*) FROM deliveries')" = $((before + 2)) ]
check "each line names its delivery" [ "$(sql "$C" "SELECT label FROM deliveries WHERE id='$maths'")" = Maths ]
check "each delivery has its own package (its test only)" \
    [ "$(sql "$C" "SELECT count(DISTINCT package_sha256) FROM deliveries WHERE label IN ('Maths','Physics')")" = 2 ]
run "$OUTPOST" --data "$C" import-qti -f "$TWO" --label "Term 1" --json
check "--json prints the deliveries" contains "$OUT" '"deliveries": ['
check "--json says it made new deliveries" contains "$OUT" '"new_version": false'
check "--json lists the warnings (none here)" contains "$OUT" '"warnings": []'
check "--label L names them \"L (1)\", \"L (2)\"" contains "$OUT" '"label": "Term 1 (1)"'
check "... in the manifest's order" contains "$OUT" '"label": "Term 1 (2)"'
check "one package file per test, the same as the first import's" \
    [ "$(sql "$C" "SELECT count(DISTINCT package_sha256) FROM deliveries WHERE label LIKE 'Term 1 (%' OR label IN ('Maths','Physics')")" = 2 ]
run "$OUTPOST" --data "$C" import-qti -f "$DEMO" --label "One test" --json
check "a package of one test gives a list of one" [ "$(printf '%s' "$OUT" | grep -c '"package_sha256"')" = 1 ]
check "... with the label as given" contains "$OUT" '"label": "One test"'
# All or none: the second test names an item the package lacks.
mkdir -p "$WORK/two-bad" && cp -r "$OUTPOST_SOURCE/tests/fixtures/qti/two-tests/." "$WORK/two-bad/"
sed -i 's|href="../items/choice.xml"/>|href="../items/none.xml"/>|' "$WORK/two-bad/physics/test.xml"
sh "$OUTPOST_SOURCE/scripts/make-demo-package.sh" "$WORK/two-bad.zip" "$WORK/two-bad"
before=$(sql "$C" 'SELECT count(*) FROM deliveries')
pkgs=$(ls "$C/packages/enc" | wc -l)
run "$OUTPOST" --data "$C" import-qti -f "$WORK/two-bad.zip"
check "a bad second test refuses the whole package" status_is 1
check "the refusal names the test file and line" contains "$ERR" "two-bad.zip: physics/test.xml line 8: assessmentItemRef F1 points to items/none.xml"
check "no delivery was made, not even the first test's" [ "$(sql "$C" 'SELECT count(*) FROM deliveries')" = "$before" ]
check "no encrypted copy was recorded" [ "$(sql "$C" 'SELECT count(*) FROM delivery_content')" = "$(sql "$C" 'SELECT count(*) FROM deliveries')" ]
run "$OUTPOST" --data "$C" deliveries update Maths -f "$TWO"
check "a delivery is not given a package of two tests" status_is 1
check "... saying why" contains "$ERR" "holds 2 tests (maths, physics)"

# Links to pages the package lacks (tests/fixtures/qti/links-outside): imported, each made
# inert with a warning naming the file and line; the link to a page of the package stays.
LINKS="$WORK/links-outside.zip"
sh "$OUTPOST_SOURCE/scripts/make-demo-package.sh" "$LINKS" "$OUTPOST_SOURCE/tests/fixtures/qti/links-outside"
run "$OUTPOST" --data "$C" import-qti -f "$LINKS"
check "a package with links to absent pages imports" status_is 0
check "a warning names the rubric's link to the web" contains "$ERR" \
    'outpost: warning: links-outside.zip: test.xml line 10: the link to "https://example.org/rules" was made inert'
check "a warning names the feedback's link to an absent file" contains "$ERR" \
    'links-outside.zip: test.xml line 15: the link to "results/more.html" was made inert (its text is kept): results/more.html is not in the archive'
check "a warning names the item's link to the web" contains "$ERR" \
    'links-outside.zip: items/linked.xml line 17: the link to "http://maps.example.com/europe" was made inert'
check "a warning names the item's link to an absent page" contains "$ERR" \
    'links-outside.zip: items/linked.xml line 18: the link to "../assets/legend.html" was made inert (its text is kept): assets/legend.html is not in the archive'
check "a warning names the modal feedback's mailto link" contains "$ERR" \
    'links-outside.zip: items/linked.xml line 28: the link to "mailto:teacher@example.org" was made inert'
check "the link to a page in the package gives no warning" lacks "$ERR" "about.html"
check "five warnings in all" [ "$(printf '%s\n' "$ERR" | grep -c 'outpost: warning:')" = 5 ]
check "stdout is the delivery id alone" [ "$(sql "$C" "SELECT count(*) FROM deliveries WHERE id='$OUT'")" = 1 ]
run "$OUTPOST" --data "$C" deliveries update "$OUT" -f "$LINKS" --label "Links again"
check "deliveries update -f takes a package with links to absent pages" status_is 0
check "... and warns the same way" contains "$ERR" \
    'outpost: warning: links-outside.zip: items/linked.xml line 18: the link to "../assets/legend.html" was made inert'
run "$OUTPOST" --data "$C" deliveries update "Links again" -f "$DEMO"
check "a package without such links gives no warning" lacks "$ERR" "warning"
# An absent picture (an asset the page needs to show) is still refused.
mkdir -p "$WORK/noimg" && cp -r "$OUTPOST_SOURCE/tests/fixtures/qti/links-outside/." "$WORK/noimg/"
rm "$WORK/noimg/assets/map.png" && sed -i '/map.png/d' "$WORK/noimg/imsmanifest.xml"
sh "$OUTPOST_SOURCE/scripts/make-demo-package.sh" "$WORK/noimg.zip" "$WORK/noimg"
run "$OUTPOST" --data "$C" import-qti -f "$WORK/noimg.zip"
check "an absent image is still refused" status_is 1
check "... naming the item and the image" contains "$ERR" "noimg.zip: items/linked.xml: uses assets/map.png, which is not in the archive"

# graphicGapMatch and positionObject (tests/browser/fixtures/graphic): imported; a gap image
# or the stage's picture the archive lacks, and a positionObjectInteraction out of its stage,
# refused naming the file (and the line).
GRAPHIC="$WORK/graphic.zip"
sh "$OUTPOST_SOURCE/scripts/make-demo-package.sh" "$GRAPHIC" "$OUTPOST_SOURCE/tests/browser/fixtures/graphic"
run "$OUTPOST" --data "$C" import-qti -f "$GRAPHIC" --label Pictures
check "a package of graphicGapMatch and positionObject imports" status_is 0
for img in fr campsite; do
    mkdir -p "$WORK/no-$img" && cp -r "$OUTPOST_SOURCE/tests/browser/fixtures/graphic/." "$WORK/no-$img/"
    rm "$WORK/no-$img/items/img/$img.png" && sed -i "/$img.png/d" "$WORK/no-$img/imsmanifest.xml"
    sh "$OUTPOST_SOURCE/scripts/make-demo-package.sh" "$WORK/no-$img.zip" "$WORK/no-$img"
    run "$OUTPOST" --data "$C" import-qti -f "$WORK/no-$img.zip"
    check "a package without $img.png is refused" status_is 1
    item=flags
    [ "$img" = campsite ] && item=camp
    check "... naming the item and the image" contains "$ERR" \
        "no-$img.zip: items/$item.xml: uses items/img/$img.png, which is not in the archive"
done
mkdir -p "$WORK/unstaged" && cp -r "$OUTPOST_SOURCE/tests/browser/fixtures/graphic/." "$WORK/unstaged/"
sed -i 's|<positionObjectStage>||; s|</positionObjectStage>||; /campsite.png/d' "$WORK/unstaged/items/camp.xml"
sh "$OUTPOST_SOURCE/scripts/make-demo-package.sh" "$WORK/unstaged.zip" "$WORK/unstaged"
run "$OUTPOST" --data "$C" import-qti -f "$WORK/unstaged.zip"
check "a positionObjectInteraction outside a positionObjectStage is refused" status_is 1
check "... naming the file and line" contains "$ERR" \
    "unstaged.zip: items/camp.xml line 25: item camp: positionObjectInteraction must be inside a positionObjectStage"
check "nothing of the refused packages was created" \
    [ "$(sql "$C" "SELECT count(*) FROM deliveries WHERE label LIKE 'Graphic%' OR label LIKE 'Pictures%'")" = 1 ]

D="$WORK/d"
new_instance "$D" device
run "$OUTPOST" --data "$D" import-qti -f "$DEMO"
check "import-qti is refused on a device" status_is 1

# qti run on the demo test. Hand-worked from the XML:
#  capital: match_correct, "paris" -> 1; primes: map_response +1 per prime, -1 per non-prime,
#  bounded [0,3]: {n2,n3,n7} -> 3, {n2,n4} -> 0, {n2,n3,n9} -> 1; planet: string mapping,
#  case-insensitive "Mars" -> 1; rivers: exact order 2, right first only 1; comment: 0.
#  TOTAL_SCORE = sum of SCORE; MAX_SCORE = sum of normalMaximum = 1+3+1+2+0 = 7;
#  NCORRECT = items whose responses match their correct responses.
squeeze() { OUT=$(printf '%s' "$OUT" | tr -d ' \n'); }
printf '%s' '{"capital": {"RESPONSE": "paris"}, "primes": {"RESPONSE": ["n2", "n3", "n7"]},
  "planet": {"RESPONSE": "mars"}, "rivers": {"RESPONSE": ["nile", "amazon", "danube"]},
  "comment": {"RESPONSE": "Nice test"}}' > "$WORK/right.json"
run "$OUTPOST" qti run -f "$DEMO" --responses "$WORK/right.json"
squeeze
check "qti run succeeds" status_is 0
check "the route is the document order" contains "$OUT" '"route":["capital","primes","planet","rivers","comment"]'
check "all right: primes scores 3" contains "$OUT" '"primes":{"SCORE":3.0'
check "all right: rivers scores 2" contains "$OUT" '"rivers":{"SCORE":2.0'
check "all right: case-insensitive Mars scores 1" contains "$OUT" '"planet":{"SCORE":1.0'
check "all right: TOTAL_SCORE 7, MAX_SCORE 7" contains "$OUT" '"test":{"TOTAL_SCORE":7.0,"MAX_SCORE":7.0,"NCORRECT":3}'
printf '%s' '{"capital": {"RESPONSE": "lyon"}, "primes": {"RESPONSE": ["n2", "n3", "n9"]},
  "rivers": {"RESPONSE": ["nile", "danube", "amazon"]}}' > "$WORK/partly.json"
run "$OUTPOST" qti run -f "$DEMO" --responses "$WORK/partly.json"
squeeze
check "partly: primes 2 primes and 1 non-prime scores 1" contains "$OUT" '"primes":{"SCORE":1.0'
check "partly: rivers with the first right scores 1" contains "$OUT" '"rivers":{"SCORE":1.0'
check "partly: TOTAL_SCORE 2" contains "$OUT" '"TOTAL_SCORE":2.0'
printf '%s' '{}' > "$WORK/empty.json"
run "$OUTPOST" qti run -f "$DEMO" --responses "$WORK/empty.json"
squeeze
check "empty: TOTAL_SCORE 0" contains "$OUT" '"TOTAL_SCORE":0.0'

printf '%s' '{"primes": {"RESPONSE": "n2"}, "capital": {"RESPONSE": ["paris"]}}' > "$WORK/badtype.json"
run "$OUTPOST" qti run -f "$DEMO" --responses "$WORK/badtype.json"
check "a response of the wrong cardinality is refused" status_is 1
check "the error names the item and the variable" contains "$ERR" "capital"
check "the error names the variable" contains "$ERR" "RESPONSE"
printf '%s' '{"nosuch": {"RESPONSE": "a"}}' > "$WORK/unknown.json"
run "$OUTPOST" qti run -f "$DEMO" --responses "$WORK/unknown.json"
check "an unknown item ref is refused" contains "$ERR" "nosuch is not an item ref"
run "$OUTPOST" qti run -f "$DEMO" --responses "$WORK/empty.json" --seed -3
check "a negative seed is a usage error" status_is 2

# A label a delivery has already: refused, naming it, nothing written; --label NEW makes a new
# delivery, --new-version the next version of that one (deliveries update -f's way).
before=$(sql "$C" 'SELECT count(*) FROM deliveries')
encs=$(ls "$C/packages/enc" | wc -l)
run "$OUTPOST" --data "$C" import-qti -f "$DEMO"
check "a second import under a taken label is refused" status_is 1
check "the refusal names the label and the delivery" \
    contains "$ERR" "outpost: a delivery is labelled \"Outpost demo test\" ($id1) already: a second delivery of the same label would make it ambiguous"
check "the refusal says what to do" \
    contains "$ERR" "give --label NEW to import it as a new delivery, or --new-version to make this package the next version of that delivery (as \`outpost deliveries update LABEL -f PACKAGE\` does)"
check "nothing was written" [ "$(sql "$C" 'SELECT count(*) FROM deliveries')" = "$before" ]
check "no encrypted copy either" [ "$(ls "$C/packages/enc" | wc -l)" = "$encs" ]
run "$OUTPOST" --data "$C" import-qti -f "$TWO"
check "a package of two tests whose labels are taken names both" \
    contains "$ERR" "deliveries are labelled \"Maths\" ($maths), \"Physics\" ("
run "$OUTPOST" --data "$C" import-qti -f "$DEMO" --new-version
check "--new-version with the package the delivery has changes nothing" status_is 0
check "... and says so" contains "$ERR" "nothing changed: delivery \"Outpost demo test\" ($id1) has this package and these settings already (version 1 stays; nothing was written)"
check "... printing the delivery's id" [ "$OUT" = "$id1" ]
run "$OUTPOST" --data "$C" import-qti -f "$LINKS" --label "Outpost demo test" --new-version --proctored no --json
check "--new-version with another package makes the delivery's next version" status_is 0
check "the same delivery, at version 2" contains "$OUT" "\"version\": 2"
check "--json says it was a new version" contains "$OUT" '"new_version": true'
check "--json says it changed" contains "$OUT" '"changed": true'
check "the setting given is changed" contains "$OUT" '"proctored_default": false'
check "--new-version says which version the delivery is at" contains "$ERR" "delivery \"Outpost demo test\" ($id1) is at version 2 now"
check "no delivery was added" [ "$(sql "$C" 'SELECT count(*) FROM deliveries')" = "$before" ]
check "deliveries versions lists both packages" \
    [ "$("$OUTPOST" --data "$C" deliveries versions "$id1" --json | grep -c '"package_sha256"')" -ge 3 ]
run "$OUTPOST" --data "$C" import-qti -f "$DEMO" --label "Nobody has this" --new-version
check "--new-version of a label no delivery has is refused" status_is 1
check "... saying so" contains "$ERR" "no delivery is labelled \"Nobody has this\""
run "$OUTPOST" --data "$C" import-qti -f "$TWO" --label "Outpost demo test" --new-version
check "--new-version of a package of two tests is refused" contains "$ERR" "holds 2 tests"
run "$OUTPOST" --data "$C" deliveries update "Demo again" --label "Outpost demo test"
check "deliveries update refuses another delivery's label" status_is 1
check "... naming it" contains "$ERR" "another delivery is labelled \"Outpost demo test\""

# What the sanitiser removes (tests/fixtures/qti/sanitised): imported, each removal a warning
# on stderr naming the file and line, and the same warnings in --json.
SAN="$WORK/sanitised.zip"
sh "$OUTPOST_SOURCE/scripts/make-demo-package.sh" "$SAN" "$OUTPOST_SOURCE/tests/fixtures/qti/sanitised"
run "$OUTPOST" --data "$C" import-qti -f "$SAN" --json
check "a package with unsafe content imports" status_is 0
check "a script is a warning naming the file and line" \
    contains "$ERR" "outpost: warning: sanitised.zip: items/unsafe.xml line 16: <script> was removed with its content: scripts do not run in a test"
check "an event handler is a warning" \
    contains "$ERR" "items/unsafe.xml line 18: the event handler onclick of <p> was removed"
check "a picture from outside is a warning" \
    contains "$ERR" "items/unsafe.xml line 19: the src \"http://tracker.example.com/pixel.gif\" of <img> was removed: it points out of the package"
check "an iframe is a warning" contains "$ERR" "items/unsafe.xml line 21: <iframe> was removed"
check "an object from outside is a warning" contains "$ERR" "items/unsafe.xml line 22: <object data=\"http://example.org/movie.swf\"> was replaced by its fallback content"
check "an event handler of a choice is a warning naming the element and attribute" \
    contains "$ERR" "items/unsafe.xml line 28: the event handler onclick of <simpleChoice> was removed: scripts do not run in a test (and 1 more in this file)"
check "... once for the two choices that have it" \
    [ "$(printf '%s\n' "$ERR" | grep -c 'onclick of <simpleChoice>')" = 1 ]
check "a choice's style is a warning" \
    contains "$ERR" "items/unsafe.xml line 29: the attribute style of <simpleChoice> was removed: inline styles are not kept"
check "styles of paragraphs are one warning, at the first, naming the url(...) and how many more" \
    contains "$ERR" "items/unsafe.xml line 31: the attribute style of <p> was removed: inline styles are not kept, and this one loads a file (url(...)); the item's stylesheets, files of the package, style it (and 2 more in this file)"
check "... said once" [ "$(printf '%s\n' "$ERR" | grep -c 'style of <p>')" = 1 ]
check "a data-* attribute is a warning" \
    contains "$ERR" "items/unsafe.xml line 33: the attribute data-serial of <p> was removed: data-* attributes are only read by scripts"
check "--json lists an attribute's warning with its file and line" \
    contains "$OUT" '"message": "sanitised.zip: items/unsafe.xml line 29: the attribute style of <simpleChoice> was removed: inline styles are not kept; the item'"'"'s stylesheets, files of the package, style it"'
check "a rubric block's handler names the test file" \
    contains "$ERR" "sanitised.zip: test.xml line 9: the event handler onmouseover of <p> was removed"
check "--json lists the warnings with their file" contains "$OUT" '"file": "items/unsafe.xml",'
check "... and line" contains "$OUT" '"line": 21,'
check "... and message" contains "$OUT" '"message": "sanitised.zip: items/unsafe.xml line 21: <iframe> was removed with its content: it would load another document"'
check "stdout holds the JSON only" [ "$(printf '%s' "$OUT" | head -c 1)" = "{" ]

# Delivery settings from import-qti.
run "$OUTPOST" --data "$C" import-qti -f "$DEMO" --label "Settings default" --json
check "a delivery is proctored by default" contains "$OUT" '"proctored_default": true'
check "a delivery allows unlimited executions by default" contains "$OUT" '"max_executions": 0'
run "$OUTPOST" --data "$C" import-qti -f "$DEMO" --label "Unproctored" --proctored no --max-executions 2 --json
check "--proctored no makes an unproctored delivery" contains "$OUT" '"proctored_default": false'
check "--max-executions is kept" contains "$OUT" '"max_executions": 2'
run "$OUTPOST" --data "$C" import-qti -f "$DEMO" --proctored maybe
check "--proctored takes only yes or no" status_is 2
run "$OUTPOST" --data "$C" import-qti -f "$DEMO" --max-executions -1
check "--max-executions refuses a negative number" status_is 2

finish
