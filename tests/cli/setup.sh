# Tests of `outpost setup`: a central and a device from JSON, and every kind of bad input.
. "$(dirname "$0")/lib.sh"
SETUP_POLICY=default # setup as an operator runs it: the default password policy

write_setup "$WORK/central.json" central
run "$OUTPOST" --data "$WORK/c" setup "$WORK/central.json"
check "setup creates a central" status_is 0
check "setup prints the role" contains "$OUT" "central"
check "the instance file is private" [ "$(stat -c %a "$WORK/c/outpost.json")" = 600 ]
check "the database is private" [ "$(stat -c %a "$WORK/c/outpost.db")" = 600 ]
check "the database is in WAL mode" [ "$(sql "$WORK/c" 'PRAGMA journal_mode')" = wal ]
check "the super-user exists" [ "$(sql "$WORK/c" "SELECT role FROM users WHERE login='admin'")" = super-user ]
check "the password is not stored in clear" [ -z "$(sql "$WORK/c" "SELECT 1 FROM users WHERE password_hash LIKE '%admin-password%'")" ]
check "nothing stores the password in clear" sh -c "! grep -r -q admin-password '$WORK/c'"

check "the central super-user's vault key is escrowed" [ "$(sql "$WORK/c" "SELECT length(vault_secret_escrow) > 0 FROM users WHERE login='admin'")" = 1 ]
pk=$(sql "$WORK/c" "SELECT vault_public_key FROM users WHERE login='admin'")
run_stdin "another-admin-password" "$OUTPOST" --data "$WORK/c" users passwd admin
check "the super-user's password can be changed" status_is 0
check "a password change keeps the super-user's key pair" [ "$(sql "$WORK/c" "SELECT vault_public_key FROM users WHERE login='admin'")" = "$pk" ]

# The setup file holds the super-user's password in clear: one that others can read is
# reported (setup still runs: the operator may be in the middle of a scripted install).
chmod 644 "$WORK/central.json"
run "$OUTPOST" --data "$WORK/w1" setup "$WORK/central.json"
check "a setup file readable by others still sets up" status_is 0
check "a setup file readable by others draws a warning naming the file" contains "$ERR" "$WORK/central.json"
check "the warning says how to fix it" contains "$ERR" "chmod 600 $WORK/central.json"
chmod 600 "$WORK/central.json"
run "$OUTPOST" --data "$WORK/w2" setup "$WORK/central.json"
check "a private setup file draws no warning" [ -z "$ERR" ]

# The database holds password verifiers and decrypted results: one readable by others is
# refused with the fix.
chmod 644 "$WORK/w1/outpost.db"
run "$OUTPOST" --data "$WORK/w1" users list
check "a database readable by others is refused" status_is 1
check "the refusal names the database and the fix" contains "$ERR" "chmod 600 $WORK/w1/outpost.db"
chmod 600 "$WORK/w1/outpost.db"
run "$OUTPOST" --data "$WORK/w1" users list
check "once private again the database opens" status_is 0

before=$(sha256sum "$WORK/c/outpost.db" | cut -c1-64)
run "$OUTPOST" --data "$WORK/c" setup "$WORK/central.json"
check "a second setup on the same folder is refused" status_is 1
check "the refusal says why" contains "$ERR" "already an Outpost instance"
check "the second setup changed nothing" [ "$(sha256sum "$WORK/c/outpost.db" | cut -c1-64)" = "$before" ]

write_setup "$WORK/device.json" device
run "$OUTPOST" --data "$WORK/d" setup "$WORK/device.json"
check "setup creates a device" status_is 0
run "$OUTPOST" --data "$WORK/d" users list --json
check "a device lists its super-user as JSON" contains "$OUT" '"role": "super-user"'

mkdir -p "$WORK/notempty" && touch "$WORK/notempty/file"
run "$OUTPOST" --data "$WORK/notempty" setup "$WORK/central.json"
check "setup refuses a non-empty folder" status_is 1
check "the non-empty folder is kept" [ -f "$WORK/notempty/file" ]

mkdir -p "$WORK/empty"
run "$OUTPOST" --data "$WORK/empty" setup "$WORK/central.json"
check "setup accepts an empty folder" status_is 0

printf '{"role": "central", "super-user": ' > "$WORK/broken.json"
run "$OUTPOST" --data "$WORK/x1" setup "$WORK/broken.json"
check "malformed JSON is refused" status_is 1
check "malformed JSON names the file and line" contains "$ERR" "broken.json line 1"
check "a refused setup leaves no folder" [ ! -e "$WORK/x1" ]

sed 's/"role": "central"/"role": "satellite"/' "$WORK/central.json" > "$WORK/role.json"
run "$OUTPOST" --data "$WORK/x2" setup "$WORK/role.json"
check "an unknown role is refused" contains "$ERR" 'role: unknown role "satellite"'

sed 's|"timezone": "UTC"|"timezone": "Mars/Base"|' "$WORK/central.json" > "$WORK/tz.json"
run "$OUTPOST" --data "$WORK/x3" setup "$WORK/tz.json"
check "an unknown time zone names its JSON path" contains "$ERR" 'configuration.global.timezone: unknown time zone "Mars/Base"'

sed 's|"timezone": "UTC"|"timzone": "UTC"|' "$WORK/central.json" > "$WORK/typo.json"
run "$OUTPOST" --data "$WORK/x4" setup "$WORK/typo.json"
check "a misspelt key is refused" contains "$ERR" "configuration.global.timzone: unknown key"

sed 's|"driver": "sqlite"|"driver": "oracle"|' "$WORK/central.json" > "$WORK/drv.json"
run "$OUTPOST" --data "$WORK/x5" setup "$WORK/drv.json"
check "an unknown driver is refused" contains "$ERR" 'configuration.persistences.default.driver: "oracle"'

# PostgreSQL with nothing listening (127.0.0.1, port 1): setup says it cannot reach the server,
# shows no password, and makes nothing (no folder, no temporary folder, no database file). A
# real server: tests/cli/setup_pgsql.sh.
printf 'db-secret-in-file\n' > "$WORK/db-password" && chmod 600 "$WORK/db-password"
sed "s|\"driver\": \"sqlite\", \"path\": \"outpost.db\"|\"driver\": \"pgsql\", \"host\": \"127.0.0.1\", \"port\": 1, \"dbname\": \"outpost\", \"user\": \"outpost\", \"password-file\": \"$WORK/db-password\"|" \
    "$WORK/central.json" > "$WORK/pg.json" && chmod 600 "$WORK/pg.json"
check "(the pgsql setup file names the driver)" contains "$(cat "$WORK/pg.json")" '"driver": "pgsql"'
before_pg=$(ls -A "$WORK")
PGPASSWORD=db-secret-in-env run "$OUTPOST" --data "$WORK/pg" setup "$WORK/pg.json"
check "setup with an unreachable pgsql server fails" status_is 1
check "the failure says the server cannot be reached and what to check" contains "$ERR" \
    'cannot reach the PostgreSQL server'
check "the failure shows no password" sh -c "! printf '%s' \"\$1\" | grep -q secret" - "$ERR$OUT"
check "a failed pgsql setup leaves no instance folder" [ ! -e "$WORK/pg" ]
check "a failed pgsql setup leaves no temporary folder or file" [ "$(ls -A "$WORK")" = "$before_pg" ]
mkdir "$WORK/pg-empty"
run "$OUTPOST" --data "$WORK/pg-empty" setup "$WORK/pg.json"
check "pgsql into an empty folder fails the same way" contains "$ERR" 'cannot reach the PostgreSQL server'
check "the empty folder stays empty" [ -z "$(ls -A "$WORK/pg-empty")" ]
sed 's|"dbname": "outpost"|"dbname": "outpost", "path": "outpost.db"|' "$WORK/pg.json" > "$WORK/pgpath.json"
run "$OUTPOST" --data "$WORK/x15" setup "$WORK/pgpath.json"
check "path under pgsql is refused naming the key" contains "$ERR" 'configuration.persistences.default.path: only for the "sqlite" driver'
sed 's|"port": 1,|"port": 70000,|' "$WORK/pg.json" > "$WORK/pgport.json"
run "$OUTPOST" --data "$WORK/x16" setup "$WORK/pgport.json"
check "a port out of range is refused naming it" contains "$ERR" "pgport.json: configuration.persistences.default.port: must be a whole number from 1 to 65535"
sed 's|"driver": "sqlite", "path": "outpost.db"|"driver": "sqlite", "host": "db.example.org"|' "$WORK/central.json" > "$WORK/sqlhost.json"
run "$OUTPOST" --data "$WORK/x17" setup "$WORK/sqlhost.json"
check "host under sqlite is refused naming the key" contains "$ERR" 'configuration.persistences.default.host: only for the "pgsql" driver'
check "refused pgsql keys leave no folders" sh -c '[ ! -e "$1" ] && [ ! -e "$2" ] && [ ! -e "$3" ]' - "$WORK/x15" "$WORK/x16" "$WORK/x17"

sed 's|"password": "admin-password"|"password": ""|' "$WORK/central.json" > "$WORK/nopw.json"
run "$OUTPOST" --data "$WORK/x6" setup "$WORK/nopw.json"
check "an empty super-user password is refused" contains "$ERR" "super-user.password"

# Weak Argon2id costs: refused unless the file says they are for tests only.
sed 's|"security": {"password-hash": {"opslimit": 1, "memlimit-kib": 8, "insecure-for-tests": true}}|"security": {"password-hash": {"opslimit": 1, "memlimit-kib": 8}}|' "$WORK/central.json" > "$WORK/weak.json"
run "$OUTPOST" --data "$WORK/x11" setup "$WORK/weak.json"
check "a weak password cost is refused" status_is 1
check "the refusal names the JSON path" contains "$ERR" "configuration.security.password-hash.opslimit"
check "the refusal names the way out for tests" contains "$ERR" "insecure-for-tests"
check "a refused weak cost leaves no folder" [ ! -e "$WORK/x11" ]
sed 's|"opslimit": 1, "memlimit-kib": 8}}|"opslimit": 2, "memlimit-kib": 8}}|' "$WORK/weak.json" > "$WORK/weakmem.json"
run "$OUTPOST" --data "$WORK/x12" setup "$WORK/weakmem.json"
check "too little memory is refused, naming its path" contains "$ERR" "configuration.security.password-hash.memlimit-kib"
sed 's|"opslimit": 1, "memlimit-kib": 8}}|"opslimit": 2, "memlimit-kib": 19456}}|' "$WORK/weak.json" > "$WORK/okcost.json"
run "$OUTPOST" --data "$WORK/x13" setup "$WORK/okcost.json"
check "the default cost written out is accepted" status_is 0
sed 's|"insecure-for-tests": true|"insecure-for-tests": "yes"|' "$WORK/central.json" > "$WORK/flagtype.json"
run "$OUTPOST" --data "$WORK/x14" setup "$WORK/flagtype.json"
check "insecure-for-tests must be a boolean" contains "$ERR" "configuration.security.password-hash.insecure-for-tests: must be true or false"

run "$OUTPOST" --data "$WORK/x10" setup "$OUTPOST_SOURCE/config/central.setup.json"
check "the shipped example password is refused" contains "$ERR" "super-user.password: still the example password"
check "a refused setup leaves no folder behind" [ ! -e "$WORK/x10" ]

run "$OUTPOST" --data "$WORK/x7" setup "$WORK/missing.json"
check "a missing setup file is a clear error" contains "$ERR" "missing.json"

run "$OUTPOST" --data "$WORK/x8" setup
check "setup without a file is a usage error" status_is 2

head -c 4096 /dev/urandom > "$WORK/garbage.json"
run "$OUTPOST" --data "$WORK/x9" setup "$WORK/garbage.json"
check "binary garbage is refused" status_is 1

# a relative database path with sub-folders: the folders are made; one leaving DIR is refused
sed 's|"path": *"[^"]*"|"path": "db/main/outpost.db"|' "$WORK/central.json" > "$WORK/sub.json" && chmod 600 "$WORK/sub.json"
run "$OUTPOST" --data "$WORK/sub" setup "$WORK/sub.json"
check "a database path with sub-folders works" status_is 0
check "the database is there" [ -f "$WORK/sub/db/main/outpost.db" ]
check "its folders are private" [ "$(stat -c %a "$WORK/sub/db/main")" = 700 ]
run "$OUTPOST" --data "$WORK/sub" users list
check "and the instance opens" status_is 0
sed 's|"path": *"[^"]*"|"path": "../elsewhere.db"|' "$WORK/central.json" > "$WORK/up.json" && chmod 600 "$WORK/up.json"
run "$OUTPOST" --data "$WORK/up" setup "$WORK/up.json"
check "a relative path leaving the folder is refused" status_is 1
check "saying so" contains "$ERR" '"../elsewhere.db" leaves the data folder'
check "and nothing is made" [ ! -e "$WORK/up" ] && [ ! -e "$WORK/elsewhere.db" ]

# the service user: DIR exists, empty, owned by it; its parent belongs to root
if [ "$(id -u)" = 0 ] && id nobody > /dev/null 2>&1; then
    chmod 711 "$WORK"
    mkdir -m 755 "$WORK/svc" && mkdir -m 700 "$WORK/svc/data" && chown nobody "$WORK/svc/data"
    cp "$WORK/central.json" "$WORK/svc/setup.json" && chmod 644 "$WORK/svc/setup.json"
    as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
    run as_nobody "$OUTPOST" --data "$WORK/svc/data" setup "$WORK/svc/setup.json"
    check "setup as the service user in its empty folder, parent not writable, works" status_is 0
    names_no_tmp() { case "$OUT$ERR" in *.outpost-setup-*) return 1 ;; *) return 0 ;; esac; }
    check "no temporary folder is named" names_no_tmp
    check "everything in it belongs to the service user" [ -z "$(find "$WORK/svc/data" ! -user nobody)" ]
    check "nothing is left beside it" [ "$(ls -A "$WORK/svc")" = "$(printf 'data\nsetup.json')" ]
    run as_nobody "$OUTPOST" --data "$WORK/svc/data" users list
    check "the service user opens it" status_is 0
    run "$OUTPOST" --data "$WORK/svc/data" users list
    check "root working on the service user's instance is refused" status_is 1
    check "naming the user to run as" contains "$ERR" "belongs to the user nobody: run outpost as that user"
    check "root created nothing there" [ -z "$(find "$WORK/svc/data" ! -user nobody)" ]
    mkdir -m 700 "$WORK/svc/data2" && chown nobody "$WORK/svc/data2"
    run "$OUTPOST" --data "$WORK/svc/data2" setup "$WORK/svc/setup.json"
    check "root setting up the service user's folder is refused" status_is 1
    check "and leaves it empty" [ -z "$(ls -A "$WORK/svc/data2")" ]
    mkdir -m 555 "$WORK/svc/ro" && chown nobody "$WORK/svc/ro"
    run as_nobody "$OUTPOST" --data "$WORK/svc/ro" setup "$WORK/svc/setup.json"
    check "a folder the user cannot write is refused" status_is 1
    check "naming the folder, not a temporary one" contains "$ERR" "$WORK/svc/ro: cannot write in it"
else
    echo "skip the service-user checks: they need root and the user nobody"
fi

run "$OUTPOST" --help
check "outpost --help lists setup" contains "$OUT" "setup"
run "$OUTPOST" setup --help
check "setup --help explains the command" contains "$OUT" "never overwrites"

run "$OUTPOST" --data "$WORK/c" frobnicate
check "an unknown command is a usage error" status_is 2

finish
