# Tests of the password policy (configuration.security.password-policy, docs/setup.md "The
# password policy"): on an instance whose setup file says nothing about it (the default),
# users add, users passwd, import-users and setup's own super-user refuse a short password,
# the login (backwards, in capitals) and a common password, each message naming the field or
# row and the rule, nothing stored; the policy's keys checked; an instance set up before the
# policy gets the default; a device keeps it for its super-user; relaxed explicitly, TAO's
# short example passwords are taken (TAO's own example CSV when the samples are present).
. "$(dirname "$0")/lib.sh"
SETUP_POLICY=default # lib.sh: the policy an operator gets by saying nothing
C="$WORK/c"
new_instance "$C" central
users() { sql "$C" "SELECT count(*) FROM users"; } # the super-user counts as one
add() { run_stdin "$2" "$OUTPOST" --data "$C" users add --login "$1" --role test-taker; }

check "outpost.json shows the policy in force" \
    [ "$(tr -d ' \n' < "$C/outpost.json" | grep -c '"password-policy":{"min-length":10,"refuse-common":true,"refuse-login":true}')" = 1 ]

# ---- users add ----
add ada "short-pw"
check "users add refuses a password under the minimum" status_is 1
check "the message names the field and the rule" \
    contains "$ERR" "password: shorter than 10 characters (password policy: min-length)"
add ada.lovelace "ADA.LOVELACE"
check "users add refuses the login as password, whatever its case" status_is 1
check "the message names the login rule" contains "$ERR" "the same as the login, or the login backwards (password policy: refuse-login)"
add ada.lovelace "ecalevol.ada"
check "users add refuses the login backwards" contains "$ERR" "refuse-login"
add ada.lovelace "Qwertyuiop"
check "users add refuses a common password" status_is 1
check "the message names the common rule" \
    contains "$ERR" "one of the 10000 most common passwords, which are guessed first (password policy: refuse-common)"
check "no message shows the password" sh -c '! grep -qi "qwertyuiop" "$1/err"' sh "$WORK"
check "nothing refused is stored" [ "$(users)" = 1 ]
add ada.lovelace "a-long-pass-phrase"
check "a password the policy accepts is taken" status_is 0

# ---- users passwd ----
run_stdin "1234567890" "$OUTPOST" --data "$C" users passwd ada.lovelace
check "users passwd refuses a common password" status_is 1
check "users passwd names the field and the rule" contains "$ERR" "password: one of the 10000 most common passwords"
run_stdin "ada.lovelace" "$OUTPOST" --data "$C" users passwd ada.lovelace
check "users passwd refuses the login" contains "$ERR" "refuse-login"
run_stdin "another-long-pass-phrase" "$OUTPOST" --data "$C" users passwd ada.lovelace
check "users passwd takes a password the policy accepts" status_is 0

# ---- import-users ----
printf 'Login,Password\nbob.b,bob-long-secret\ncarl,carl\ndora.d,D.ARODX-DORA.D\neve.e,E.EVE\nfay.f,password123\n' > "$WORK/in.csv"
run "$OUTPOST" --data "$C" import-users -t test-taker -f "$WORK/in.csv"
check "import-users refuses a file with rows the policy refuses" status_is 1
check "the short password's row is named with its rule" \
    contains "$ERR" "in.csv line 3: Password is shorter than 10 characters (password policy: min-length)"
check "the common password's row is named with its rule" \
    contains "$ERR" "in.csv line 6: Password is one of the 10000 most common passwords"
check "the login's row is named" contains "$ERR" "in.csv line 5: Password is shorter"
check "a row the policy accepts is not named" sh -c '! grep -q "line 2:\|line 4:" "$1/err"' sh "$WORK"
check "all or nothing: nothing is imported" [ "$(users)" = 2 ]
run "$OUTPOST" --data "$C" import-users -t test-taker -f "$WORK/in.csv" --json
check "--json lists the refused rows" contains "$OUT" '"line": 6'
printf 'Login,Password\ngrace.hopper,GRACE.HOPPER\n' > "$WORK/login.csv"
run "$OUTPOST" --data "$C" import-users -t test-taker -f "$WORK/login.csv"
check "import-users refuses the login as password" \
    contains "$ERR" "login.csv line 2: Password is the same as the login, or the login backwards (password policy: refuse-login)"
run "$OUTPOST" --data "$C" import-users -t test-taker -f "$WORK/in.csv" --skip-invalid
check "--skip-invalid imports the rows the policy accepts" contains "$OUT" "2 created"

# ---- setup: the super-user keeps the policy, and its keys are checked ----
write_setup "$WORK/s.json" central
sed 's|"login": "admin", "password": "admin-password"|"login": "admin", "password": "password123"|' "$WORK/s.json" > "$WORK/common.json"
chmod 600 "$WORK/common.json"
run "$OUTPOST" --data "$WORK/x1" setup "$WORK/common.json"
check "setup refuses a common super-user password" status_is 1
check "setup names the key and the rule" \
    contains "$ERR" "super-user.password: one of the 10000 most common passwords"
check "setup made nothing" [ ! -e "$WORK/x1" ]
sed 's|"login": "admin", "password": "admin-password"|"login": "administrator", "password": "ROTARTSINIMDA"|' "$WORK/s.json" > "$WORK/login.json"
chmod 600 "$WORK/login.json"
run "$OUTPOST" --data "$WORK/x2" setup "$WORK/login.json"
check "setup refuses the super-user's login backwards" contains "$ERR" "super-user.password: the same as the login, or the login backwards (password policy: refuse-login)"
policy_file() { # usage: policy_file FILE POLICY_JSON - the setup file with that policy
    sed "s|\"insecure-for-tests\": true}|\"insecure-for-tests\": true}, \"password-policy\": $2|" "$WORK/s.json" > "$1"
    chmod 600 "$1"
}
policy_file "$WORK/p1.json" '{"min-length": 0}'
run "$OUTPOST" --data "$WORK/x3" setup "$WORK/p1.json"
check "min-length 0 is refused, naming the key and the range" \
    contains "$ERR" "configuration.security.password-policy.min-length: must be a whole number from 1 to 128"
policy_file "$WORK/p2.json" '{"refuse-common": "no"}'
run "$OUTPOST" --data "$WORK/x4" setup "$WORK/p2.json"
check "a rule that is not true or false is refused" \
    contains "$ERR" "configuration.security.password-policy.refuse-common: must be true or false"
policy_file "$WORK/p3.json" '{"max-length": 20}'
run "$OUTPOST" --data "$WORK/x5" setup "$WORK/p3.json"
check "an unknown key of the policy is refused, naming the known ones" \
    contains "$ERR" "configuration.security.password-policy.max-length: unknown key (expected one of: min-length, refuse-login, refuse-common)"
policy_file "$WORK/p4.json" '{"min-length": 4}'
run "$OUTPOST" --data "$WORK/x6" setup "$WORK/p4.json"
check "a policy may be weaker, but the super-user still needs 8 characters" status_is 0
sed 's|"password": "admin-password"|"password": "adm-pw1"|' "$WORK/p4.json" > "$WORK/p5.json"
chmod 600 "$WORK/p5.json"
run "$OUTPOST" --data "$WORK/x7" setup "$WORK/p5.json"
check "the super-user's 8 characters hold whatever the policy" \
    contains "$ERR" "super-user.password: must be at least 8 characters"

# ---- an instance set up before the policy existed: the default applies ----
python3 - "$C/outpost.json" << 'PY'
import json, sys
with open(sys.argv[1]) as f:
    doc = json.load(f)
del doc["configuration"]["security"]["password-policy"]
with open(sys.argv[1], "w") as f:  # in place: the file keeps its mode 600
    json.dump(doc, f, indent=2)
PY
add old.setup "qwertyuiop"
check "an outpost.json without the policy gets the default" contains "$ERR" "refuse-common"

# ---- a device's super-user ----
D="$WORK/d"
new_instance "$D" device
run_stdin "1qaz2wsx3edc" "$OUTPOST" --data "$D" users passwd admin
check "a device's users passwd keeps the policy too" contains "$ERR" "refuse-common"

# ---- relaxed explicitly: TAO's short example passwords ----
SETUP_POLICY=relaxed
R="$WORK/r"
new_instance "$R" central
check "a relaxed policy is written as the setup file says" \
    [ "$(tr -d ' \n' < "$R/outpost.json" | grep -c '"password-policy":{"min-length":1,"refuse-common":false,"refuse-login":false}')" = 1 ]
run_stdin "kim1" "$OUTPOST" --data "$R" users add --login kim1 --role test-taker
check "relaxed, the login as a short password is taken (TAO's example)" status_is 0
printf 'Login,Password\nann5,ann5\nbob6,123456\n' > "$WORK/tao.csv"
run "$OUTPOST" --data "$R" import-users -t test-taker -f "$WORK/tao.csv"
check "relaxed, import-users takes TAO's short passwords" contains "$OUT" "2 created"
run "$OUTPOST" --data "$C" import-users -t test-taker -f "$WORK/tao.csv"
check "by default the same file is refused" status_is 1
check "by default both rows are named" contains "$ERR" "tao.csv line 3: Password is shorter"

SAMPLE="${OUTPOST_SAMPLES:-}/users/tao-example.csv"
[ -f "$SAMPLE" ] || skip_rest "TAO's example users CSV (no samples)"
run "$OUTPOST" --data "$C" import-users -t test-taker -f "$SAMPLE" --skip-invalid
check "by default none of TAO's example users is taken" contains "$OUT" "0 created, 0 updated"
check "TAO's example rows are named with the rule" \
    contains "$ERR" "tao-example.csv line 2: Password is shorter than 10 characters"
run "$OUTPOST" --data "$R" import-users -t test-taker -f "$SAMPLE" --skip-invalid
check "relaxed, TAO's example gives its 2 valid users" contains "$OUT" "2 created"

finish
