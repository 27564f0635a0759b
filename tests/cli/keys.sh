# Tests of setup-central, setup-device, keys show/rotate and the vault columns of users.
. "$(dirname "$0")/lib.sh"
C="$WORK/c"
D="$WORK/d"
new_instance "$C" central
new_instance "$D" device

check "setup created the three central key files" [ -f "$C/keys/results-0001.key" -a -f "$C/keys/signing.key" -a -f "$C/keys/master.key" ]
check "setup created the device signing key" [ -f "$D/keys/device-signing.key" ]
check "the key folder is 0700" [ "$(stat -c %a "$C/keys")" = 700 ]
for f in "$C"/keys/*.key "$D"/keys/*.key; do
    check "$(basename "$f") is 0600" [ "$(stat -c %a "$f")" = 600 ]
done

cat "$C"/keys/*.key > "$WORK/before"
cp "$C/keys/results-0001.key" "$WORK/results-0001.key"
run "$OUTPOST" --data "$C" setup-central
check "setup-central runs again" status_is 0
check "setup-central reports it kept the keys" contains "$OUT" "0 created, 3 kept"
cat "$C"/keys/*.key > "$WORK/after"
check "a re-run of setup-central keeps every key byte for byte" cmp -s "$WORK/before" "$WORK/after"

rm "$C/keys/signing.key"
run "$OUTPOST" --data "$C" setup-central --json
check "setup-central recreates only a missing key" contains "$OUT" '"created": 1'
check "and keeps the others" contains "$OUT" '"kept": 2'
check "the results key is still the first one" cmp -s "$C/keys/results-0001.key" "$WORK/results-0001.key"

run "$OUTPOST" --data "$D" setup-central
check "setup-central refuses a device" status_is 1
check "the refusal names the role" contains "$ERR" "runs on a central"
run "$OUTPOST" --data "$D" setup-device --json
check "setup-device runs again on a device" status_is 0
check "setup-device keeps the device key" contains "$OUT" '"kept": 1'

run "$OUTPOST" --data "$C" keys show --json
check "keys show --json works" status_is 0
first_id=$(printf '%s' "$OUT" | sed -n 's/.*"id": "\([0-9a-f]\{16\}\)".*/\1/p' | head -1)
check "keys show prints a 16-hex key id" [ -n "$first_id" ]
check "keys show prints a SHA-256 fingerprint" contains "$OUT" '"fingerprint_sha256"'
secret=$(sed -n 's/^secret //p' "$C/keys/results-0001.key")
check "keys show never prints a secret key" sh -c "! grep -q '$secret' '$WORK/out'"
master=$(sed -n 's/^secret //p' "$C/keys/master.key")
check "keys show never prints the master key" sh -c "! grep -q '$master' '$WORK/out'"

run "$OUTPOST" --data "$C" keys rotate
check "keys rotate adds a key" status_is 0
check "the rotated key is number 2" [ -f "$C/keys/results-0002.key" ]
check "the old results key is kept" [ -f "$C/keys/results-0001.key" ]
run "$OUTPOST" --data "$C" keys show --json
check "keys show lists both results keys" [ "$(printf '%s' "$OUT" | grep -c '"serial"')" = 2 ]
check "the new key is current" contains "$(printf '%s' "$OUT" | tr -d '\n ')" '"serial":2,"current":true'
run "$OUTPOST" --data "$D" keys rotate
check "keys rotate refuses a device" status_is 1
run "$OUTPOST" --data "$D" keys show
check "keys show on a device prints its signing key" contains "$OUT" "signing key"

chmod 644 "$C/keys/master.key"
run_stdin "pw-1" "$OUTPOST" --data "$C" users add --login eve --role test-taker
check "a key file readable by others is refused" status_is 1
check "the refusal says how to fix it" contains "$ERR" "chmod 600"
chmod 600 "$C/keys/master.key"

# A key file must be the file itself, not a symlink to one (checked on the opened file).
mv "$C/keys/master.key" "$WORK/master-elsewhere.key"
ln -s "$WORK/master-elsewhere.key" "$C/keys/master.key"
run "$OUTPOST" --data "$C" keys show
check "a symlinked key file is refused" status_is 1
check "the refusal says it is a symbolic link" contains "$ERR" "symbolic link"
rm "$C/keys/master.key"
mv "$WORK/master-elsewhere.key" "$C/keys/master.key"
chmod 755 "$C/keys"
run "$OUTPOST" --data "$C" keys show
check "a key folder readable by others is refused" status_is 1
check "the refusal says how to fix it" contains "$ERR" "chmod 700 $C/keys"
chmod 700 "$C/keys"

run_stdin "pw-1" "$OUTPOST" --data "$C" users add --login eve --role test-taker
check "users add gives the user a vault" [ -n "$(sql "$C" "SELECT vault_secret_wrapped FROM users WHERE login='eve'")" ]
check "users add escrows the vault key on central" [ -n "$(sql "$C" "SELECT vault_secret_escrow FROM users WHERE login='eve'")" ]
pk=$(sql "$C" "SELECT vault_public_key FROM users WHERE login='eve'")
wrapped=$(sql "$C" "SELECT vault_secret_wrapped FROM users WHERE login='eve'")
run_stdin "pw-2" "$OUTPOST" --data "$C" users passwd eve
check "users passwd on central works" status_is 0
check "users passwd keeps the vault key pair" [ "$(sql "$C" "SELECT vault_public_key FROM users WHERE login='eve'")" = "$pk" ]
check "users passwd re-wraps the vault" [ "$(sql "$C" "SELECT vault_secret_wrapped FROM users WHERE login='eve'")" != "$wrapped" ]
check "the super-user has a vault too" [ -n "$(sql "$C" "SELECT vault_public_key FROM users WHERE login='admin'")" ]

printf 'Label,Login,Password,Interface Language\nIan,ian,ian-pw-1,en-US\n' > "$WORK/u.csv"
run "$OUTPOST" --data "$C" import-users -t test-taker -f "$WORK/u.csv"
check "import-users gives the user a vault" [ -n "$(sql "$C" "SELECT vault_secret_wrapped FROM users WHERE login='ian'")" ]
check "import-users escrows the vault key" [ -n "$(sql "$C" "SELECT vault_secret_escrow FROM users WHERE login='ian'")" ]
ipk=$(sql "$C" "SELECT vault_public_key FROM users WHERE login='ian'")
printf 'Label,Login,Password,Interface Language\nIan,ian,ian-pw-2,en-US\n' > "$WORK/u.csv"
run "$OUTPOST" --data "$C" import-users -t test-taker -f "$WORK/u.csv"
check "a re-import keeps the vault key pair" [ "$(sql "$C" "SELECT vault_public_key FROM users WHERE login='ian'")" = "$ipk" ]

mv "$C/keys/master.key" "$WORK/master.key"
run "$OUTPOST" --data "$C" import-users -t test-taker -f "$WORK/u.csv"
check "import-users without the master key is refused" contains "$ERR" "master.key"
run_stdin "pw-3" "$OUTPOST" --data "$C" users passwd eve
check "a reset without the master key is refused" status_is 1
check "the refusal names the missing key file" contains "$ERR" "master.key"
mv "$WORK/master.key" "$C/keys/master.key"

# ---- a lost key: restore it, never replace it by accident ----
# The master key escrows eve's, ian's and admin's vault keys: when it is missing, the way out
# is to restore it, and setup-central makes a new one only when told the old one is lost.
master_id=$(sed -n 's/^id //p' "$C/keys/master.key")
cp -p "$C/keys/master.key" "$WORK/master-backup.key"
eve_pk=$(sql "$C" "SELECT vault_public_key FROM users WHERE login='eve'")
rm "$C/keys/master.key"
run_stdin "pw-4" "$OUTPOST" --data "$C" users passwd eve
check "a reset without the master key says to restore it from a backup" contains "$ERR" "restore it from a backup"
check "and does not send the operator to setup-central to make a new one" sh -c '! printf "%s" "$1" | grep -q "run \`outpost setup-central\`"' _ "$ERR"
run "$OUTPOST" --data "$C" setup-central
check "setup-central refuses to replace a master key that escrow copies depend on" status_is 1
check "the refusal names the key file" contains "$ERR" "$C/keys/master.key"
check "the refusal names the lost key's id" contains "$ERR" "$master_id"
check "the refusal says to restore it from a backup" contains "$ERR" "restore"
check "the refusal names the way to replace it" contains "$ERR" "--replace-lost-key"
check "the CLI names the replacement last" contains "$ERR" "and run again. Only if a key is lost for good, run \`outpost setup-central --replace-lost-key\`: it makes a new key"
check "the refusal says how many escrow copies depend on it" contains "$ERR" "3 users"
check "no new master key was made" [ ! -e "$C/keys/master.key" ]
run "$OUTPOST" --data "$C" setup-central --replace-lost-key
check "setup-central --replace-lost-key makes a new master key" status_is 0
check "it says what becomes unreadable" contains "$OUT$ERR" "3 escrow copies"
check "the new master key has another id" [ "$(sed -n 's/^id //p' "$C/keys/master.key")" != "$master_id" ]
ian_pk=$(sql "$C" "SELECT vault_public_key FROM users WHERE login='ian'")
run_stdin "pw-ian-3" "$OUTPOST" --data "$C" users passwd ian
check "after the replacement a reset of a user under the lost key works" status_is 0
check "and gives them a new key pair" [ "$(sql "$C" "SELECT vault_public_key FROM users WHERE login='ian'")" != "$ian_pk" ]
cp -p "$WORK/master-backup.key" "$C/keys/master-$master_id.key"
run "$OUTPOST" --data "$C" keys show
check "the old master key restored under its id is accepted" status_is 0
run_stdin "pw-5" "$OUTPOST" --data "$C" users passwd eve
check "a reset opens the escrow copy with the restored master key" status_is 0
check "and keeps eve's key pair" [ "$(sql "$C" "SELECT vault_public_key FROM users WHERE login='eve'")" = "$eve_pk" ]
cp -p "$WORK/master-backup.key" "$C/keys/master-0000000000000000.key"
run "$OUTPOST" --data "$C" keys show
check "a master key file under another key's id is refused" status_is 1
check "the refusal names the mismatch" contains "$ERR" "master-0000000000000000.key"
rm "$C/keys/master-0000000000000000.key"

# Results sealed to a results key that goes missing.
TOOL="$BUILD_DIR/envelope_tool"
R="$WORK/r"; RD="$WORK/rd"
new_instance "$R" central
new_instance "$RD" device
"$TOOL" enrol "$R" "$RD" > /dev/null
printf '{"score": 1}' > "$WORK/p.json"
"$TOOL" seal "$RD" "$R" "$WORK/e.bin" "$WORK/p.json" > /dev/null
run "$OUTPOST" --data "$R" results import -f "$WORK/e.bin"
rid=$(sed -n 's/^id //p' "$R/keys/results-0001.key")
mv "$R/keys/results-0001.key" "$WORK/results-0001.key"
run "$OUTPOST" --data "$R" decrypt-results --all
check "a result whose key is missing names the key id" contains "$OUT$ERR" "$rid"
check "and says to restore the key file" contains "$OUT$ERR" "restore"
check "and does not send the operator to setup-central" sh -c '! printf "%s" "$1" | grep -q "setup-central"' _ "$OUT$ERR"
run "$OUTPOST" --data "$R" setup-central
check "setup-central refuses to replace a results key that results depend on" status_is 1
check "the refusal names the results key id" contains "$ERR" "$rid"
check "the refusal names a file name to restore it under" contains "$ERR" "results-$rid.key"
check "the refusal counts the results sealed to it" contains "$ERR" "1 pending result"
check "no new results key was made" [ -z "$(ls "$R/keys" | grep '^results-')" ]
run "$OUTPOST" --data "$R" setup-central --replace-lost-key
check "setup-central --replace-lost-key makes a new results key" status_is 0
check "it says which results can no longer be decrypted" contains "$OUT$ERR" "1 pending result"
check "the replacement leaves the lost key's file name free" [ ! -e "$R/keys/results-0001.key" ]
mv "$WORK/results-0001.key" "$R/keys/results-0001.key"
run "$OUTPOST" --data "$R" decrypt-results --all
check "the lost key restored under its own name decrypts its results" contains "$OUT" "1 decrypted"
run "$OUTPOST" --data "$R" keys show --json
check "keys show lists the restored key and the replacement" [ "$(printf '%s' "$OUT" | grep -c '"serial"')" = 2 ]
# A master.key that is not the one the escrow copies are under (and was not declared lost):
# a reset refuses rather than silently make a new key pair.
r_master=$(sed -n 's/^id //p' "$R/keys/master.key")
cp -p "$C/keys/master.key" "$R/keys/master.key"
run_stdin "pw-admin-2" "$OUTPOST" --data "$R" users passwd admin
check "a reset under a master key that is missing (not given up) is refused" status_is 1
check "the refusal names the key id to restore" contains "$ERR" "$r_master"
check "a results key restored under its id is accepted" sh -c "mv '$R/keys/results-0001.key' '$R/keys/results-$rid.key' && '$OUTPOST' --data '$R' keys show > /dev/null"

finish
