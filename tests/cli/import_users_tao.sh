# TAO's own example users CSV ($OUTPOST_SAMPLES/users/tao-example.csv), imported as TAO
# documents it: refused as a whole for its last row, 2 users with --skip-invalid. Skipped
# (exit 77) when the samples are absent.
. "$(dirname "$0")/lib.sh"

SAMPLE="${OUTPOST_SAMPLES:-}/users/tao-example.csv"
[ -f "$SAMPLE" ] || skip_rest "TAO's example users CSV (no samples)"

T="$WORK/t"
new_instance "$T" central
run "$OUTPOST" --data "$T" import-users -t test-taker -f "$SAMPLE"
check "TAO's example is refused as a whole (its last row has no Login)" status_is 1
check "the refusal lists its last row" contains "$ERR" "tao-example.csv line 4: "
check "the refusal says the Login is missing" contains "$ERR" "missing Login"
check "nothing of TAO's example is stored" [ "$(sql "$T" "SELECT count(*) FROM users")" = 1 ]
run "$OUTPOST" --data "$T" import-users -t test-taker -f "$SAMPLE" --skip-invalid
check "with --skip-invalid TAO's example gives 2 users" contains "$OUT" "2 created"
check "those 2 users are stored" [ "$(sql "$T" "SELECT count(*) FROM users WHERE role='test-taker'")" = 2 ]

finish
