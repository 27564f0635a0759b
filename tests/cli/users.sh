# Tests of `outpost users`: add, list, passwd, delete, and passwords never on the command line.
. "$(dirname "$0")/lib.sh"
C="$WORK/c"
new_instance "$C" central

run_stdin "secret-pw-1" "$OUTPOST" --data "$C" users add --login alice --role test-taker --first-name Alice
check "users add reads the password from stdin" status_is 0
run "$OUTPOST" --data "$C" users list --role test-taker --json
check "the new user is listed as JSON" contains "$OUT" '"login": "alice"'
check "the JSON never holds a password" sh -c "! printf '%s' \"\$1\" | grep -q password" _ "$OUT"

run "$OUTPOST" --data "$C" users add --login bob --role test-taker
check "users add with no password is refused" status_is 1
check "the refusal says how to give one" contains "$ERR" "empty password"

run_stdin "pw" "$OUTPOST" --data "$C" users add --login carol --role sync-manager
check "a sync-manager needs an organisation" status_is 2
run_stdin "pw" "$OUTPOST" --data "$C" users add --login carol --role sync-manager --org ORG-1
check "a sync-manager with --org is added" status_is 0

run_stdin "pw" "$OUTPOST" --data "$C" users add --login dave --role wizard
check "an unknown role is refused" contains "$ERR" 'unknown role "wizard"'

run_stdin "pw" "$OUTPOST" --data "$C" users add --login alice --role test-taker
check "a duplicate login is refused" contains "$ERR" 'login "alice" already exists'

old=$(sql "$C" "SELECT password_hash FROM users WHERE login='alice'")
run_stdin "new-secret-2" "$OUTPOST" --data "$C" users passwd alice
check "users passwd changes the password" status_is 0
check "the stored hash changed" [ "$(sql "$C" "SELECT password_hash FROM users WHERE login='alice'")" != "$old" ]
check "the version was bumped" [ "$(sql "$C" "SELECT version FROM users WHERE login='alice'")" -ge 2 ]

run "$OUTPOST" --data "$C" users passwd alice extra
check "users passwd takes no password argument" status_is 2

run "$OUTPOST" --data "$C" users delete alice
check "users delete removes the user" status_is 0
check "alice is gone" [ -z "$(sql "$C" "SELECT 1 FROM users WHERE login='alice'")" ]
run "$OUTPOST" --data "$C" users delete admin
check "the super-user cannot be deleted" status_is 1
run "$OUTPOST" --data "$C" users delete nobody
check "deleting an unknown login names it" contains "$ERR" '"nobody"'

# ---- control characters: refused at the door, escaped on the way out ----
ESC=$(printf '\033')
NL='
'
run_stdin "pw" "$OUTPOST" --data "$C" users add --login "mallory${NL}admin" --role test-taker
check "users add with a newline in the login is refused" status_not 0
check "the refusal says why" contains "$ERR" "control character"
check "the refusal does not print the newline raw" sh -c "! printf '%s' \"\$1\" | grep -q '^admin'" _ "$ERR"
run_stdin "pw" "$OUTPOST" --data "$C" users add --login "$(printf 'c1\302\233x')" --role test-taker
check "users add with a C1 control (U+009B) in the login is refused" status_not 0
run_stdin "pw" "$OUTPOST" --data "$C" users add --login eve --role test-taker \
    --label "$(printf '\033]0;owned\007\033[2JEve')"
check "users add with an escape sequence in the label is refused" status_not 0
check "the refusal names the label" contains "$ERR" "label contains a control character"
check "the refusal prints no raw escape" sh -c "! printf '%s' \"\$1\" | grep -q \"\$2\"" _ "$ERR" "$ESC"
run_stdin "pw" "$OUTPOST" --data "$C" users add --login eve --role test-taker --first-name "$(printf 'E\tve')"
check "users add with a tab in the first name is refused" contains "$ERR" "first name contains a control character"
check "no such user is stored" [ "$(sql "$C" "SELECT count(*) FROM users WHERE login LIKE 'eve%' OR login LIKE 'mallory%'")" = 0 ]

# A label stored by an older version (or written into the database by hand) still holds an
# escape sequence: users list shows it escaped, never raw.
run_stdin "pw" "$OUTPOST" --data "$C" users add --login olddata --role test-taker
# (the control characters written literally: SQLite's char() is chr() on PostgreSQL)
sql "$C" "UPDATE users SET label = 'x$ESC]0;owned$(printf '\007')$ESC[2Jy$(printf '\302\233')' WHERE login = 'olddata'"
run "$OUTPOST" --data "$C" users list
check "users list of an old label with an escape sequence works" status_is 0
check "users list prints no raw ESC" sh -c "! printf '%s' \"\$1\" | grep -q \"\$2\"" _ "$OUT" "$ESC"
check "users list prints no raw BEL" sh -c "! printf '%s' \"\$1\" | grep -q \"\$2\"" _ "$OUT" "$(printf '\007')"
check "users list prints no raw C1 control" sh -c "! printf '%s' \"\$1\" | grep -q \"\$2\"" _ "$OUT" "$(printf '\302\233')"
check "users list shows the escape visibly" contains "$OUT" 'x\x1b]0;owned\x07\x1b[2Jy\u009b'
run "$OUTPOST" --data "$C" users list --json
check "users list --json escapes it, the C1 control included" \
    contains "$OUT" 'x\u001B]0;owned\u0007\u001B[2Jy\u009B'
check "users list --json prints no raw ESC" sh -c "! printf '%s' \"\$1\" | grep -q \"\$2\"" _ "$OUT" "$ESC"
check "users list --json prints no raw C1 control" sh -c "! printf '%s' \"\$1\" | grep -q \"\$2\"" _ "$OUT" "$(printf '\302\233')"

# ---- users passwd keeps the vault key pair; --new-keys replaces it ----
VAULT="$BUILD_DIR/vault_tool"
col() { sql "$C" "SELECT $1 FROM users WHERE login='kim'"; }
opened() { [ "$RC" = 0 ] && [ "$OUT" = "$1" ]; } # usage: opened PUBLIC - vault_tool gave that key
run_stdin "kim-pw-1" "$OUTPOST" --data "$C" users add --login kim --role test-taker
pk1=$(col vault_public_key) hash1=$(col password_hash) wrapped1=$(col vault_secret_wrapped)
run_stdin "kim-pw-1" "$VAULT" unlock "$C" kim
check "the new user's password opens their vault" opened "$pk1"

run_stdin "kim-pw-2" "$OUTPOST" --data "$C" users passwd kim
check "plain users passwd succeeds" status_is 0
check "plain users passwd keeps the key pair (documented)" [ "$(col vault_public_key)" = "$pk1" ]
run_stdin "kim-pw-1" "$VAULT" unlock "$C" kim "$hash1" "$wrapped1" "$pk1"
check "after plain passwd the old vault and old password still open the current key" \
    opened "$(col vault_public_key)"
pk2=$(col vault_public_key) hash2=$(col password_hash) wrapped2=$(col vault_secret_wrapped)
version2=$(col version)

run "$OUTPOST" --data "$C" users passwd --help
check "users passwd --help lists --new-keys" contains "$OUT" "--new-keys"
run_stdin "kim-pw-3" "$OUTPOST" --data "$C" users passwd --new-keys kim
check "users passwd --new-keys succeeds" status_is 0
check "users passwd --new-keys says the key pair is new" contains "$OUT" "new vault key pair"
check "the public key changed" [ "$(col vault_public_key)" != "$pk2" ]
check "the version was bumped so sync sends the new vault" [ "$(col version)" -gt "$version2" ]
run_stdin "kim-pw-2" "$VAULT" unlock "$C" kim "$hash2" "$wrapped2" "$pk2"
check "the old vault with the old password still opens, but only the old key" opened "$pk2"
check "the old vault with the old password no longer opens the current key" \
    [ "$OUT" != "$(col vault_public_key)" ]
run_stdin "kim-pw-1" "$VAULT" unlock "$C" kim "$hash1" "$wrapped1" "$pk1"
check "an older vault with its password opens no current key either" [ "$OUT" != "$(col vault_public_key)" ]
run_stdin "kim-pw-3" "$VAULT" unlock "$C" kim
check "the new password opens the new vault" opened "$(col vault_public_key)"
run_stdin "kim-pw-2" "$VAULT" unlock "$C" kim
check "the old password does not open the new vault" [ "$RC" != 0 ]
run "$VAULT" recover "$C" kim
check "escrow recovery gives the new key" opened "$(col vault_public_key)"
pk3=$(col vault_public_key)
run_stdin "kim-pw-4" "$OUTPOST" --data "$C" users passwd kim
check "a plain passwd after --new-keys keeps the new pair (escrow holds it)" \
    [ "$(col vault_public_key)" = "$pk3" ]

# users update: details, never the password; --lang a language tag everywhere
hash_before=$(col password_hash) version_before=$(col version)
run "$OUTPOST" --data "$C" users update kim --label "Kim Lee" --first-name Kim --mail kim@example.org --lang fr-CA
check "users update changes the details" status_is 0
check "and says so" contains "$OUT" "updated kim (version $((version_before + 1)))"
check "the label is changed" [ "$(col label)" = "Kim Lee" ]
check "the mail is changed" [ "$(col mail)" = "kim@example.org" ]
check "both languages are changed" [ "$(col interface_lang)/$(col default_lang)" = "fr-CA/fr-CA" ]
check "the password is not touched" [ "$(col password_hash)" = "$hash_before" ]
run "$OUTPOST" --data "$C" users update kim --mail ""
check "an empty value clears a detail" [ "$(col mail)" = "" ]
version_before=$(col version)
run "$OUTPOST" --data "$C" users update kim --label "Kim Lee" --first-name Kim --mail ""
check "an update to the values kim has already succeeds" status_is 0
check "and says nothing changed" contains "$OUT" "nothing changed: user kim already has these details (version $version_before stays; nothing was written)"
check "the version stays, so devices pull nothing again" [ "$(col version)" = "$version_before" ]
run "$OUTPOST" --data "$C" users update kim --label "Kim Lee" --first-name Kimberley
check "one field that differs is written" [ "$(col first_name)/$(col version)" = "Kimberley/$((version_before + 1))" ]
run "$OUTPOST" --data "$C" users update kim --first-name Kim
run "$OUTPOST" --data "$C" users update kim
check "users update with nothing to change is refused" status_is 1
check "naming what may change" contains "$ERR" "nothing to change: give --label"
run "$OUTPOST" --data "$C" users update kim --lang en_US
check "a language that is not a tag is refused" status_is 1
check "with the way to write it" contains "$ERR" '"en_US" is not a language tag: write it as en-US'
check "and nothing changes" [ "$(col interface_lang)" = "fr-CA" ]
run "$OUTPOST" --data "$C" users update kim --org ORG-9
check "an organisation on a test taker is refused" status_is 1
run "$OUTPOST" --data "$C" users update nobody --label X
check "an unknown login is refused" status_is 1
check "naming it" contains "$ERR" "nobody"
run_stdin "pw-lang-1" "$OUTPOST" --data "$C" users add --login lang1 --role test-taker --lang en_US
check "users add refuses a language that is not a tag too (a usage error)" status_is 2
check "before asking for a password" contains "$ERR" '"en_US" is not a language tag'
run_stdin "pw-lang-2" "$OUTPOST" --data "$C" users add --login lang2 --role test-taker --lang garbage!
check "and garbage" status_is 2

# --data after the command name, as operators type it
run "$OUTPOST" users list --data "$C"
check "--data after the command name is the data folder" contains "$OUT" "kim"
run "$OUTPOST" users update kim --data="$C" --label "Kim L."
check "--data=DIR after it too" [ "$(col label)" = "Kim L." ]
run "$OUTPOST" --data "$C" users list --data "$WORK/other"
check "two different data folders are refused" status_is 2
check "saying which" contains "$ERR" "--data is given twice ($C and $WORK/other)"

run "$OUTPOST" --data "$WORK/none" users list
check "a missing instance is a clear error" contains "$ERR" "no Outpost instance here"
check "the CLI says how to make one" contains "$ERR" "$WORK/none: no Outpost instance here; create one with \`outpost --data $WORK/none setup FILE.json\` or point --data (or OUTPOST_HOME) at one"

finish
