# QTI conformance over the real TAO sample packages ($OUTPOST_SAMPLES/qti/tao): every valid
# package imports, every invalid one is refused with a message naming the bad file inside the
# archive, and `qti run` scores correct, partly correct, wrong and empty answers as worked out
# by hand from the XML (see the comment before each group).
. "$(dirname "$0")/lib.sh"
S="${OUTPOST_SAMPLES:-}/qti/tao"
if [ ! -d "$S" ]; then
    echo "SKIP: QTI conformance (no samples)"
    exit 0
fi
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

# Basic: three single-choice items scored with match_correct (SCORE float, default 0); Q01's
# correct response is "tao", Q02's "lego": a match gives SCORE 1, anything else (another
# choice, no response) 0. The test declares no outcome.
score basic/Basic '{"Item-Q01": {"RESPONSE": "tao"}, "Item-Q02": {"RESPONSE": "cards"}}'
check "Basic: the run succeeds" status_is 0
check "Basic: the route is the three items in order" contains "$OUT" '"route":["Item-Q01","Item-Q02","Item-Q03"]'
check "Basic: correct answer to Q01 scores 1" contains "$OUT" '"Item-Q01":{"SCORE":1.0'
check "Basic: wrong answer to Q02 scores 0" contains "$OUT" '"Item-Q02":{"SCORE":0.0'
check "Basic: empty answer to Q03 scores 0" contains "$OUT" '"Item-Q03":{"SCORE":0.0'
check "Basic: the test declares no outcome" contains "$OUT" '"test":{}'

# SumScore: Q01, Q02, Q03 are single choices with correct responses rhinoceros, zebra, lion
# (match_correct, SCORE 0 or 1); TOTAL_SCORE = sum(testVariables(SCORE)) = number correct.
score outcomeProcessing/SumScore '{"Q01": {"RESPONSE": "rhinoceros"}, "Q02": {"RESPONSE": "zebra"}, "Q03": {"RESPONSE": "lion"}}'
check "SumScore: all correct gives TOTAL_SCORE 3" contains "$OUT" '"test":{"TOTAL_SCORE":3.0}'
score outcomeProcessing/SumScore '{"Q01": {"RESPONSE": "rhinoceros"}, "Q02": {"RESPONSE": "zebra"}, "Q03": {"RESPONSE": "tiger"}}'
check "SumScore: two of three correct gives TOTAL_SCORE 2" contains "$OUT" '"test":{"TOTAL_SCORE":2.0}'
check "SumScore: the wrong one scores 0" contains "$OUT" '"Q03":{"SCORE":0.0'
score outcomeProcessing/SumScore '{"Q01": {"RESPONSE": "quokka"}, "Q02": {"RESPONSE": "lion"}, "Q03": {"RESPONSE": "zebra"}}'
check "SumScore: all wrong gives TOTAL_SCORE 0" contains "$OUT" '"test":{"TOTAL_SCORE":0.0}'
score outcomeProcessing/SumScore '{}'
check "SumScore: no answers gives TOTAL_SCORE 0" contains "$OUT" '"test":{"TOTAL_SCORE":0.0}'

# SkippingAllowed Q01: multiple identifier, correct {stormtrooper, yoda}, match_correct: the
# whole set in any order scores 1, a part of it (partly correct) 0, as match compares sets.
score skipping/SkippingAllowed '{"Q01": {"RESPONSE": ["yoda", "stormtrooper"]}}'
check "SkippingAllowed: the correct set in another order scores 1" contains "$OUT" '"Q01":{"SCORE":1.0'
score skipping/SkippingAllowed '{"Q01": {"RESPONSE": ["yoda"]}}'
check "SkippingAllowed: part of the correct set scores 0 under match_correct" contains "$OUT" '"Q01":{"SCORE":0.0'
# Q02: single integer, correct 50.
score skipping/SkippingAllowed '{"Q02": {"RESPONSE": 50}}'
check "SkippingAllowed: integer 50 scores 1" contains "$OUT" '"Q02":{"SCORE":1.0'

# ModalItemsFeedbackTrue Q01: custom responseProcessing sets SCORE 1 and SHOW_FEEDBACK
# "correct" for "tao", else SCORE 0 and SHOW_FEEDBACK "incorrect".
score feedback/ModalItemsFeedbackTrue '{"Q01": {"RESPONSE": "tao"}, "Q02": {"RESPONSE": "x"}}'
check "ModalItemsFeedbackTrue: correct sets SHOW_FEEDBACK correct" contains "$OUT" '"Q01":{"SCORE":1.0,"SHOW_FEEDBACK":"correct"'
check "ModalItemsFeedbackTrue: wrong sets SHOW_FEEDBACK incorrect" contains "$OUT" '"Q02":{"SCORE":0.0,"SHOW_FEEDBACK":"incorrect"'

# A response of the wrong type names the item and the variable.
score basic/Basic '{"Item-Q01": {"RESPONSE": 42}}'
check "a response that does not fit is an error" status_is 1
check "the error names the item and the variable" contains "$ERR" "RESPONSE"
check "the error names the item" contains "$ERR" "Q01"

finish
