# QTI conformance. First the project's own packages (tests/fixtures/qti/rule-*), one per
# test-level rule of QTI 2.1 that a test relies on; then the real TAO sample packages
# ($OUTPOST_SAMPLES/qti/tao, skipped when absent): every valid package imports, every invalid
# one is refused with a message naming the bad file inside the archive, and `qti run` scores
# correct, partly correct, wrong and empty answers as worked out by hand from the XML (see the
# comment before each group).
. "$(dirname "$0")/lib.sh"

item_is() { contains "$OUT" "\"$1\":{$2"; } # usage: item_is KEY 'OUTCOMES-PREFIX'

# usage: own_score FIXTURE RESPONSES-JSON - zips tests/fixtures/qti/FIXTURE and runs it
own_score() {
    [ -f "$WORK/$1.zip" ] ||
        sh "$OUTPOST_SOURCE/scripts/make-demo-package.sh" "$WORK/$1.zip" \
            "$OUTPOST_SOURCE/tests/fixtures/qti/$1"
    printf '%s' "$2" > "$WORK/responses.json"
    run "$OUTPOST" qti run -f "$WORK/$1.zip" --responses "$WORK/responses.json"
    OUT=$(printf '%s' "$OUT" | tr -d ' \n')
}

# variableMapping (QTI 2.1: the source "is treated as if it were declared with the name
# targetIdentifier during outcomeProcessing"). Q01 declares its score as "scoring" (2 for A,
# normalMaximum 2) mapped to SCORE; Q02 is a plain choice (SCORE 1 for A, normalMaximum 1).
own_score rule-variable-mapping '{"Q01": {"RESPONSE": "A"}, "Q02": {"RESPONSE": "A"}}'
check "variableMapping: the run succeeds" status_is 0
# TOTAL = 2 (Q01's scoring as SCORE) + 1; MAX = 2 + 1; DIRECT = Q01.SCORE = 2; no item has a
# variable "scoring" at test level any more, so sum(testVariables(scoring)) is NULL
check "variableMapping: the mapped score counts in testVariables, outcomeMaximum and Q01.SCORE" \
    contains "$OUT" '"test":{"TOTAL":3.0,"MAX":3.0,"DIRECT":2.0,"UNMAPPED":null}'
# the item's own result keeps its own name
check "variableMapping: the item reports its variable under its own name" \
    contains "$OUT" '"Q01":{"scoring":2.0'

# templateDefault: the item "sum" asks for N + 2 (N a template variable with no default;
# templateProcessing sets the correct response to N + 2). Q01 gives N = LEVEL (5): correct 7;
# Q02 gives N = LEVEL + Q01.SCORE, evaluated when Q02 starts (6 after a right Q01): correct 8.
own_score rule-template-default '{"Q01": {"RESPONSE": 7}, "Q02": {"RESPONSE": 8}}'
check "templateDefault: the run succeeds" status_is 0
check "templateDefault: N from the test's LEVEL makes 7 right" item_is Q01 '"SCORE":1.0'
check "templateDefault: N from LEVEL + Q01.SCORE makes 8 right" item_is Q02 '"SCORE":1.0'
check "templateDefault: TOTAL 2" contains "$OUT" '"TOTAL":2.0'
own_score rule-template-default '{"Q01": {"RESPONSE": 5}, "Q02": {"RESPONSE": 7}}'
# 5 is N itself, not N + 2 -> 0; Q01 wrong, so Q02's N is 5 + 0 and 7 is right -> 1
check "templateDefault: a wrong Q01 changes Q02's N" contains "$OUT" '"Q01":{"SCORE":0.0'
check "templateDefault: ... so that 7 answers Q02" item_is Q02 '"SCORE":1.0'

# A nonlinear part's own branchRule: P1 (nonlinear, Q01) branches to P3 when Q01.SCORE is 1,
# past P2 (Q02). Items and sections inside a nonlinear part have no branch rules here.
own_score rule-nonlinear-branch '{"Q01": {"RESPONSE": "A"}}'
check "nonlinear branchRule: a right Q01 skips test part P2" contains "$OUT" '"route":["Q01","Q03"]'
own_score rule-nonlinear-branch '{"Q01": {"RESPONSE": "B"}}'
check "nonlinear branchRule: a wrong Q01 goes on to P2" contains "$OUT" '"route":["Q01","Q02","Q03"]'

# An item selected three times (route keys R.1, R.2, R.3) in a simultaneous part: R.SCORE is
# the last instance submitted (QTI 2.1 variable); `qti run` submits in route order.
own_score rule-repeated-item '{"R.1": {"RESPONSE": "A"}, "R.2": {"RESPONSE": "B"}, "R.3": {"RESPONSE": "B"}}'
check "repeated item: the route keys are R.1, R.2, R.3" contains "$OUT" '"route":["R.1","R.2","R.3"]'
# R.3 (wrong, 0) was submitted last; R.1.SCORE names the first occurrence (right, 1)
check "repeated item: R.SCORE is the last submitted, R.1.SCORE the first" \
    contains "$OUT" '"test":{"LAST":0.0,"FIRST":1.0}'
own_score rule-repeated-item '{"R": {"RESPONSE": "B"}, "R.3": {"RESPONSE": "A"}}'
# "R" answers R.1 and R.2 (wrong); R.3 right and last -> 1
check "repeated item: \"R\" answers the occurrences without a key of their own" \
    contains "$OUT" '"test":{"LAST":1.0,"FIRST":0.0}'

# numberCorrect / numberIncorrect consider only items whose every response variable has a
# correct response: Q01 (a choice) counts; Q02 (a choice plus a free-text COMMENT without a
# correct response) never does, right or wrong, though match_correct still scores it.
own_score rule-number-correct '{"Q01": {"RESPONSE": "A"}, "Q02": {"RESPONSE": "A", "COMMENT": "easy"}}'
check "numberCorrect: a right item with a comment is not counted" contains "$OUT" '"test":{"NCORRECT":1,"NINCORRECT":0}'
check "numberCorrect: the commented item is still scored" item_is Q02 '"SCORE":1.0'
own_score rule-number-correct '{"Q01": {"RESPONSE": "B"}, "Q02": {"RESPONSE": "B", "COMMENT": "hard"}}'
check "numberIncorrect: a wrong item with a comment is not counted" contains "$OUT" '"test":{"NCORRECT":0,"NINCORRECT":1}'

# An item ref named Q04.1 beside Q04 (selected with replacement: keys Q04.1, Q04.2, ...).
own_score rule-key-clash '{}'
check "an item ref named like a route key is refused" status_is 1
check "the refusal names both item refs" contains "$ERR" \
    "rule-key-clash.zip: test.xml line 10: assessmentItemRef Q04.1: the identifier reads as the route key of occurrence 1 of item ref Q04"

# assessmentSectionRef: section SA is in sections/part-a.xml and refers to SB in
# sections/nested/part-b.xml; every href is relative to the file it is written in. Q01, Q02
# (in SA) and Q03 (in SB) are the same choice (A right). NSA = numberCorrect over SA, SB
# included.
own_score section-refs '{"Q01": {"RESPONSE": "A"}, "Q02": {"RESPONSE": "A"}, "Q03": {"RESPONSE": "B"}}'
check "section refs: the run succeeds" status_is 0
check "section refs: the referenced sections take their refs' place" contains "$OUT" '"route":["Q01","Q02","Q03"]'
check "section refs: TOTAL 2, one right answer inside SA and its nested SB" \
    contains "$OUT" '"test":{"TOTAL":2.0,"NSA":1}'
# A reference to a file the package lacks is refused, naming the test file and line.
mkdir -p "$WORK/sr-missing" && cp -r "$OUTPOST_SOURCE/tests/fixtures/qti/section-refs/." "$WORK/sr-missing/"
rm "$WORK/sr-missing/sections/nested/part-b.xml"
sed -i '/part-b.xml/d' "$WORK/sr-missing/imsmanifest.xml"
sh "$OUTPOST_SOURCE/scripts/make-demo-package.sh" "$WORK/sr-missing.zip" "$WORK/sr-missing"
run "$OUTPOST" qti run -f "$WORK/sr-missing.zip" --responses "$WORK/responses.json"
check "a section ref to a missing file is refused" status_is 1
check "the refusal names the referring file and line" contains "$ERR" \
    "sr-missing.zip: sections/part-a.xml line 6: assessmentSectionRef SB points to sections/nested/part-b.xml, which is not in the archive"

# Several tests in one package (two-tests: maths with M1 and M2, physics with F1, all the same
# choice, A right): each is scored on its own, chosen by its manifest resource.
own_score_test() { # usage: own_score_test FIXTURE TEST RESPONSES-JSON
    [ -f "$WORK/$1.zip" ] ||
        sh "$OUTPOST_SOURCE/scripts/make-demo-package.sh" "$WORK/$1.zip" \
            "$OUTPOST_SOURCE/tests/fixtures/qti/$1"
    printf '%s' "$3" > "$WORK/responses.json"
    run "$OUTPOST" qti run -f "$WORK/$1.zip" --test "$2" --responses "$WORK/responses.json"
    OUT=$(printf '%s' "$OUT" | tr -d ' \n')
}
own_score_test two-tests maths '{"M1": {"RESPONSE": "A"}, "M2": {"RESPONSE": "B"}}'
check "two tests: the first is scored on its own" contains "$OUT" '"route":["M1","M2"]'
check "two tests: maths TOTAL 1" contains "$OUT" '"test":{"TOTAL":1.0}'
own_score_test two-tests physics '{"F1": {"RESPONSE": "A"}}'
check "two tests: the second (QTI 2.2) is scored on its own" contains "$OUT" '"route":["F1"],'
check "two tests: physics TOTAL 1" contains "$OUT" '"test":{"TOTAL":1.0}'
run "$OUTPOST" qti run -f "$WORK/two-tests.zip" --responses "$WORK/responses.json"
check "two tests: qti run asks which" contains "$ERR" "the package holds 2 tests: maths (maths/test.xml), physics (physics/test.xml)"

# Links to pages the package lacks (links-outside) do not stop the test: it is scored, and
# each link is a warning.
own_score links-outside '{"Q01": {"RESPONSE": "A"}}'
check "links outside: the run succeeds" status_is 0
check "links outside: Q01 right scores 1" contains "$OUT" '"test":{"TOTAL":1.0}'
check "links outside: the links are warnings" contains "$ERR" 'outpost: warning: links-outside.zip: items/linked.xml line 18: the link to "../assets/legend.html" was made inert'

S="${OUTPOST_SAMPLES:-}/qti/tao"
[ -d "$S" ] || skip_rest "QTI conformance over the TAO samples (no samples)"
C="$WORK/c"
new_instance "$C" central

for f in basic/Basic basic/BasicNonLinear basic/BasicNonLinearOneAttempt basic/BasicSimultaneous \
         feedback/ModalItemsFeedbackTrue outcomeProcessing/SumScore misc/TestDefinitionInSubFolders \
         timing/BasicFullTimerStack skipping/SkippingAllowed skipping/SkippingNotAllowed \
         sharedStimulus/BasicSharedStimulus; do
    run "$OUTPOST" --data "$C" import-qti -f "$S/$f.zip"
    check "valid package $f imports" status_is 0
done
check "each valid package created one delivery" [ "$(sql "$C" 'SELECT count(*) FROM deliveries')" = 11 ]

# Invalid packages: the message must name the archive and the bad file inside it.
refused() { # usage: refused NAME EXPECTED-TEXT
    run "$OUTPOST" --data "$C" import-qti -f "$S/invalid/$1.zip"
    check "invalid package $1 is refused" status_is 1
    check "the refusal of $1 names the bad file ($2)" contains "$ERR" "$1.zip: $2"
}
refused InvalidArchive "not a valid zip archive"
refused MalformedXMLItemInTheMiddle "Q02/qti.xml line 8: malformed XML"
refused MalformedXMLTest "test.xml line 6: malformed XML"
refused MultipleMalformedXMLItem "Q02/qti.xml line 8: malformed XML"
refused MissingItemDependency "test.xml line 19: assessmentItemRef Q03 points to Q03/qti.xml"
refused NotValidableXMLTest "test.xml line 7: testPart: unknown attribute \"myAttribute\""
refused NotValidableXmlItem 'Q01/qti.xml: item Q01: responseDeclaration RESPONSE line 4: unknown attribute "myInvalidAttribute"'
refused WrongManifestFileItemHref "imsmanifest.xml line 8: resource Q01 points to Q01/qti.xml"
refused WrongManifestFileTestHref "imsmanifest.xml line 24: resource T01 points to wrong/path/to/test.xml"
check "no invalid package created a delivery" [ "$(sql "$C" 'SELECT count(*) FROM deliveries')" = 11 ]

# Scores. `qti run` prints indented JSON; squeeze it to match compactly.
score() { # usage: score PACKAGE RESPONSES-JSON
    printf '%s' "$2" > "$WORK/responses.json"
    run "$OUTPOST" qti run -f "$S/$1.zip" --responses "$WORK/responses.json"
    OUT=$(printf '%s' "$OUT" | tr -d ' \n')
}

# The three-item packages (Basic, BasicNonLinear, BasicNonLinearOneAttempt,
# BasicSimultaneous, TestDefinitionInSubFolders, BasicFullTimerStack, BasicSharedStimulus)
# share their items: single identifier choices with match_correct and SCORE (float, default
# 0); Q01's correct response is "tao", Q02's "lego", Q03's "turismo". A single choice cannot
# be partly correct. None of these tests declares a test outcome. KEY1..3 are the item refs.
three_items() { # usage: three_items PACKAGE KEY1 KEY2 KEY3
    pk=$1 k1=$2 k2=$3 k3=$4
    score "$pk" "{\"$k1\": {\"RESPONSE\": \"tao\"}, \"$k2\": {\"RESPONSE\": \"lego\"}, \"$k3\": {\"RESPONSE\": \"turismo\"}}"
    check "$pk: the run succeeds" status_is 0
    check "$pk: the route is $k1, $k2, $k3" contains "$OUT" "\"route\":[\"$k1\",\"$k2\",\"$k3\"]"
    # "tao" is Q01's correct response: match -> SCORE 1
    check "$pk: correct $k1 scores 1" item_is "$k1" '"SCORE":1.0,"completionStatus":"completed"'
    # "lego" is Q02's correct response -> 1
    check "$pk: correct $k2 scores 1" item_is "$k2" '"SCORE":1.0'
    # "turismo" is Q03's correct response -> 1
    check "$pk: correct $k3 scores 1" item_is "$k3" '"SCORE":1.0'
    check "$pk: the test declares no outcome" contains "$OUT" '"test":{}'
    score "$pk" "{\"$k1\": {\"RESPONSE\": \"drink\"}, \"$k2\": {\"RESPONSE\": \"cards\"}}"
    # "drink" is not "tao": match false -> else branch SCORE 0
    check "$pk: wrong $k1 scores 0" item_is "$k1" '"SCORE":0.0'
    # "cards" is not "lego" -> 0
    check "$pk: wrong $k2 scores 0" item_is "$k2" '"SCORE":0.0'
    # no response: match(NULL, turismo) is NULL, not true -> else branch SCORE 0
    check "$pk: empty $k3 scores 0" item_is "$k3" '"SCORE":0.0,"completionStatus":"completed"'
}
three_items basic/Basic Item-Q01 Item-Q02 Item-Q03
three_items basic/BasicNonLinear Q01 Q02 Q03
three_items basic/BasicNonLinearOneAttempt Q01 Q02 Q03
three_items basic/BasicSimultaneous Q01 Q02 Q03
three_items misc/TestDefinitionInSubFolders Q01 Q02 Q03
three_items timing/BasicFullTimerStack Q01 Q02 Q03
three_items sharedStimulus/BasicSharedStimulus Item-Q01 Item-Q02 Item-Q03

# SumScore: Q01, Q02, Q03 are single choices with correct responses rhinoceros, zebra, lion
# (match_correct, SCORE float default 0); TOTAL_SCORE = sum(testVariables(SCORE)).
score outcomeProcessing/SumScore '{"Q01": {"RESPONSE": "rhinoceros"}, "Q02": {"RESPONSE": "zebra"}, "Q03": {"RESPONSE": "lion"}}'
# 1 + 1 + 1
check "SumScore: all correct gives TOTAL_SCORE 3" contains "$OUT" '"test":{"TOTAL_SCORE":3.0}'
score outcomeProcessing/SumScore '{"Q01": {"RESPONSE": "rhinoceros"}, "Q02": {"RESPONSE": "zebra"}, "Q03": {"RESPONSE": "tiger"}}'
# partly correct test: 1 + 1 + 0 ("tiger" is not "lion")
check "SumScore: two of three correct gives TOTAL_SCORE 2" contains "$OUT" '"test":{"TOTAL_SCORE":2.0}'
# "tiger" is not Q03's "lion" -> 0
check "SumScore: the wrong one scores 0" item_is Q03 '"SCORE":0.0'
score outcomeProcessing/SumScore '{"Q01": {"RESPONSE": "quokka"}, "Q02": {"RESPONSE": "lion"}, "Q03": {"RESPONSE": "zebra"}}'
# 0 + 0 + 0: each answer is another item's animal or a wrong one
check "SumScore: all wrong gives TOTAL_SCORE 0" contains "$OUT" '"test":{"TOTAL_SCORE":0.0}'
score outcomeProcessing/SumScore '{}'
# three empty submissions: each SCORE 0 (match with NULL -> else), sum 0
check "SumScore: no answers gives TOTAL_SCORE 0" contains "$OUT" '"test":{"TOTAL_SCORE":0.0}'

# SkippingAllowed: linear, maxAttempts 1, allowSkipping true; every item match_correct.
# Q01 multiple {stormtrooper, yoda} (SCORE default 0); Q02 slider integer, default 0,
# correct 50; Q03 slider default 30, correct 80; Q04 choice default capitaine, correct occupe;
# Q05 slider no default, correct 60; Q06 choice correct triste (Q02..Q06 SCORE float without
# default: match_correct sets it either way); Q07 declares nothing.
score skipping/SkippingAllowed '{"Q01": {"RESPONSE": ["yoda", "stormtrooper"]}, "Q02": {"RESPONSE": 50}, "Q03": {"RESPONSE": 80}, "Q04": {"RESPONSE": "occupe"}, "Q05": {"RESPONSE": 60}, "Q06": {"RESPONSE": "triste"}}'
check "SkippingAllowed: all correct runs" status_is 0
# multiple compares as a set: {yoda, stormtrooper} = {stormtrooper, yoda} -> 1
check "SkippingAllowed: the correct set in another order scores 1" item_is Q01 '"SCORE":1.0'
# 50 = 50 -> 1
check "SkippingAllowed: Q02 50 scores 1" item_is Q02 '"SCORE":1.0'
# 80 = 80 -> 1
check "SkippingAllowed: Q03 80 scores 1" item_is Q03 '"SCORE":1.0'
# occupe = occupe -> 1
check "SkippingAllowed: Q04 occupe scores 1" item_is Q04 '"SCORE":1.0'
# 60 = 60 -> 1
check "SkippingAllowed: Q05 60 scores 1" item_is Q05 '"SCORE":1.0'
# triste = triste -> 1
check "SkippingAllowed: Q06 triste scores 1" item_is Q06 '"SCORE":1.0'
# no outcome declared, no responseProcessing: only the built-in completionStatus
check "SkippingAllowed: Q07 has no score" item_is Q07 '"completionStatus":"completed"}'
score skipping/SkippingAllowed '{"Q01": {"RESPONSE": ["yoda"]}, "Q02": {"RESPONSE": 40}, "Q03": {"RESPONSE": 30}, "Q04": {"RESPONSE": "capitaine"}, "Q05": {"RESPONSE": 100}, "Q06": {"RESPONSE": "joyeux"}}'
# partly correct: {yoda} is not the set {stormtrooper, yoda}; match_correct gives no part -> 0
check "SkippingAllowed: part of the correct set scores 0 under match_correct" item_is Q01 '"SCORE":0.0'
# 40 is not 50 -> 0
check "SkippingAllowed: Q02 40 scores 0" item_is Q02 '"SCORE":0.0'
# 30 (its default, accepted here) is not 80 -> 0
check "SkippingAllowed: Q03 its default 30 scores 0" item_is Q03 '"SCORE":0.0'
# capitaine (its default) is not occupe -> 0
check "SkippingAllowed: Q04 its default scores 0" item_is Q04 '"SCORE":0.0'
# 100 is not 60 -> 0
check "SkippingAllowed: Q05 100 scores 0" item_is Q05 '"SCORE":0.0'
# joyeux is not triste -> 0
check "SkippingAllowed: Q06 joyeux scores 0" item_is Q06 '"SCORE":0.0'
score skipping/SkippingAllowed '{}'
check "SkippingAllowed: skipping every item is accepted" status_is 0
# every response NULL: match(NULL, correct) is NULL -> else branch SCORE 0, for all six
check "SkippingAllowed: empty Q01 scores 0" item_is Q01 '"SCORE":0.0'
check "SkippingAllowed: empty Q05 scores 0" item_is Q05 '"SCORE":0.0'
check "SkippingAllowed: the route is all seven items" contains "$OUT" '"route":["Q01","Q02","Q03","Q04","Q05","Q06","Q07"]'

# SkippingNotAllowed: the same items with allowSkipping false. An empty response, or one
# equal to the declared default, is skipping (QTI 2.1 itemSessionControl): `qti run` stops
# with an error naming the item, as a candidate could not submit it. Q07 declares no response
# and needs none. Responses that differ from the default are scored as above.
NOSKIP_OK='"Q01": {"RESPONSE": ["stormtrooper", "yoda"]}, "Q02": {"RESPONSE": 50}, "Q03": {"RESPONSE": 80}, "Q04": {"RESPONSE": "occupe"}, "Q05": {"RESPONSE": 60}, "Q06": {"RESPONSE": "triste"}'
score skipping/SkippingNotAllowed "{$NOSKIP_OK}"
check "SkippingNotAllowed: answering every item runs" status_is 0
# each is its correct response -> 1
check "SkippingNotAllowed: Q01 correct scores 1" item_is Q01 '"SCORE":1.0'
check "SkippingNotAllowed: Q06 correct scores 1" item_is Q06 '"SCORE":1.0'
check "SkippingNotAllowed: Q07 without a response is passed" item_is Q07 '"completionStatus":"completed"}'
score skipping/SkippingNotAllowed '{"Q01": {"RESPONSE": ["kirk"]}, "Q02": {"RESPONSE": 40}, "Q03": {"RESPONSE": 70}, "Q04": {"RESPONSE": "habit"}, "Q05": {"RESPONSE": 0}, "Q06": {"RESPONSE": "heureux"}}'
check "SkippingNotAllowed: wrong but given answers run" status_is 0
# {kirk} is not {stormtrooper, yoda} -> 0
check "SkippingNotAllowed: Q01 wrong scores 0" item_is Q01 '"SCORE":0.0'
# 0 is a response for Q05 (no default) but not 60 -> 0
check "SkippingNotAllowed: Q05 0 (no default there) scores 0" item_is Q05 '"SCORE":0.0'
noskip() { # usage: noskip ITEM RESPONSES-JSON-MEMBERS WHY
    score skipping/SkippingNotAllowed "{$2}"
    check "SkippingNotAllowed: $3 refuses the run" status_is 1
    check "SkippingNotAllowed: the refusal names $1" contains "$ERR" "item $1: skipping is not allowed in test part TP01 (allowSkipping is false)"
}
noskip Q01 '"Q02": {"RESPONSE": 50}' "Q01 left out"
noskip Q01 '"Q01": {"RESPONSE": []}' "Q01 with an empty set"
noskip Q02 '"Q01": {"RESPONSE": ["yoda"]}, "Q02": {"RESPONSE": 0}' "Q02 at its default 0"
noskip Q03 '"Q01": {"RESPONSE": ["yoda"]}, "Q02": {"RESPONSE": 10}, "Q03": {"RESPONSE": 30}' "Q03 at its default 30"
noskip Q04 '"Q01": {"RESPONSE": ["yoda"]}, "Q02": {"RESPONSE": 10}, "Q03": {"RESPONSE": 10}, "Q04": {"RESPONSE": "capitaine"}' "Q04 at its default capitaine"
noskip Q05 '"Q01": {"RESPONSE": ["yoda"]}, "Q02": {"RESPONSE": 10}, "Q03": {"RESPONSE": 10}, "Q04": {"RESPONSE": "habit"}, "Q05": {"RESPONSE": null}' "Q05 null"
check "SkippingNotAllowed: nothing is printed for a refused run" [ -z "$OUT" ]

# ModalItemsFeedbackTrue: allowSkipping false; custom responseProcessing sets SCORE 1 and
# SHOW_FEEDBACK "correct" on a match with the correct response (tao, lego, turismo), else
# SCORE 0 and SHOW_FEEDBACK "incorrect".
score feedback/ModalItemsFeedbackTrue '{"Q01": {"RESPONSE": "tao"}, "Q02": {"RESPONSE": "socks"}, "Q03": {"RESPONSE": "turismo"}}'
# "tao" matches -> responseIf: SCORE 1, SHOW_FEEDBACK correct
check "ModalItemsFeedbackTrue: correct sets SHOW_FEEDBACK correct" item_is Q01 '"SCORE":1.0,"SHOW_FEEDBACK":"correct"'
# "socks" is not "lego" -> responseElse: SCORE 0, SHOW_FEEDBACK incorrect
check "ModalItemsFeedbackTrue: wrong sets SHOW_FEEDBACK incorrect" item_is Q02 '"SCORE":0.0,"SHOW_FEEDBACK":"incorrect"'
# Q03 declares SHOW_FEEDBACK first; "turismo" matches -> correct, 1
check "ModalItemsFeedbackTrue: outcomes in declaration order" item_is Q03 '"SHOW_FEEDBACK":"correct","SCORE":1.0'
score feedback/ModalItemsFeedbackTrue '{"Q01": {"RESPONSE": "tao"}, "Q02": {"RESPONSE": "lego"}}'
check "ModalItemsFeedbackTrue: an empty item is refused (allowSkipping false)" contains "$ERR" "item Q03: skipping is not allowed"

# A response of the wrong type names the item and the variable.
score basic/Basic '{"Item-Q01": {"RESPONSE": 42}}'
check "a response that does not fit is an error" status_is 1
check "the error names the item and the variable" contains "$ERR" "item Q01, response RESPONSE"

finish
