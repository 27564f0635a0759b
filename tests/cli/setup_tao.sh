# Tests of `outpost setup` with TAO's own setup file (tao/scripts/taoSetup's seed file): the
# fixtures in tests/cli/fixtures/tao are read as they are, their database taken from
# configuration.generis.persistences, every key Outpost does not use listed once in one
# warning, the role taken from postInstall or --role; and every problem of a file (TAO's or
# ours) listed at once, each naming its JSON path. On the PostgreSQL run (pg/cli/setup_tao),
# the central's pdo_pgsql persistence, with its password in the file, sets up a central on the
# test server.
. "$(dirname "$0")/lib.sh"
FIX="$OUTPOST_SOURCE/tests/cli/fixtures/tao"

# usage: tao_file FROM TO JQ-FILTER - a copy of fixture FROM, changed by the jq filter, mode 600
tao_file() {
    jq "$3" "$FIX/$1" > "$2" && chmod 600 "$2"
}

# ---- the device file, as it is ----
tao_file device.setup.json "$WORK/device.json" .
run "$OUTPOST" --data "$WORK/d" setup "$WORK/device.json"
check "TAO's device setup.json sets up, as it is" status_is 0
check "its role comes from postInstall's SetupClientServer" contains "$OUT" "device"
check "the keys not used are reported in one warning" [ "$(printf '%s\n' "$ERR" | grep -c 'ignored')" = 1 ]
check "the warning says what it is" contains "$ERR" "keys of TAO's setup file Outpost does not use, ignored:"
for key in seed extensions postInstall configuration.global.mode configuration.global.session_name \
    configuration.generis.persistences.options.persistences.cache configuration.generis.persistences.class; do
    check "the warning names $key" contains "$ERR" "$key"
done
check "the warning names no key Outpost uses" sh -c '! printf "%s" "$1" | grep -q -e "global.url" -e "global.timezone" -e "persistences.default"' - "$ERR"
check "pdo_sqlite's path is the database file" [ -f "$WORK/d/box.db" ]
conf=$(cat "$WORK/d/outpost.json")
check "outpost.json keeps the driver as ours" contains "$conf" '"driver": "sqlite"'
check "outpost.json keeps nothing of TAO's other keys" sh -c '! grep -q -e generis -e session_name -e instance_name -e seed "$1"' - "$WORK/d/outpost.json"
check "the time zone and language are TAO's" sh -c 'grep -q "Europe/Paris" "$1" && grep -q "fr-FR" "$1"' - "$WORK/d/outpost.json"
run "$OUTPOST" --data "$WORK/d" users list --json
check "the super-user is TAO's" contains "$OUT" '"box-admin"'

# the same with --json: the ignored keys are in the document too
tao_file device.setup.json "$WORK/device2.json" .
run "$OUTPOST" --data "$WORK/d2" setup --json "$WORK/device2.json"
check "setup --json of a TAO file works" status_is 0
check "setup --json lists the ignored keys" [ "$(printf '%s' "$OUT" | jq '.ignored | length')" = 13 ]

# ---- the central file: pdo_pgsql (PostgreSQL run) or, on the SQLite run, pdo_sqlite ----
if on_pgsql; then
    new_pg_database
    pg_conf="$OUTPOST_PG_DIR/persistence.json"
    host=$(jq -r .host "$pg_conf")
    port=$(jq -r .port "$pg_conf")
    user=$(jq -r .user "$pg_conf")
    password=$(cat "$OUTPOST_PG_DIR/password")
    tao_file central.setup.json "$WORK/central.json" \
        ".configuration.generis.persistences.default |= (.host = \"$host\" | .port = $port | .dbname = \"$PG_DB\" | .user = \"$user\" | .password = \"$password\")"
    run "$OUTPOST" --data "$WORK/c" setup "$WORK/central.json"
    check "TAO's central setup.json with pdo_pgsql sets up a central on PostgreSQL" status_is 0
    check "its role comes from postInstall's SetupCentralServer" contains "$OUT" "central"
    check "the password is kept in the instance's own password file" [ "$(cat "$WORK/c/db-password")" = "$password" ]
    check "that file is private (600)" [ "$(stat -c %a "$WORK/c/db-password")" = 600 ]
    check "outpost.json names the file, by an absolute path" grep -q "\"password-file\": \"/.*/c/db-password\"" "$WORK/c/outpost.json"
    check "outpost.json holds no password" sh -c '! grep -q -F -- "$1" "$2"' - "$password" "$WORK/c/outpost.json"
    check "outpost.json says pgsql" grep -q '"driver": "pgsql"' "$WORK/c/outpost.json"
    check "setup's output shows no database password" sh -c "! printf '%s' \"\$1\" | grep -q -F -- \"\$2\"" - "$OUT$ERR" "$password"
    check "the warning lists the other persistences" contains "$ERR" "configuration.generis.persistences.keyValueResult"
    check "and TAO's log service and taoSync's configuration" sh -c 'printf "%s" "$1" | grep -q "configuration.generis.log" && printf "%s" "$1" | grep -q "configuration.taoSync"' - "$ERR"
    run "$OUTPOST" --data "$WORK/c" users list --json
    check "a later command connects with the kept password" status_is 0
    check "the super-user has TAO's first name, last name and mail" \
        [ "$(pg_q "$PG_DB" "SELECT first_name || ' ' || last_name || ' ' || mail FROM users WHERE login = 'district-admin'")" = "Claire Muller claire.muller@district.example" ]
    # its backup keeps the password file, and restores in place
    run "$OUTPOST" --data "$WORK/c" backup --to "$WORK/tao.zip"
    check "a backup of it works" status_is 0
    check "and holds the kept password file" sh -c "unzip -l '$WORK/tao.zip' | grep -q ' db-password\$'"
    mv "$WORK/c" "$WORK/c.old"
    pg_q outpost "DROP DATABASE \"$PG_DB\" WITH (FORCE)" && pg_q outpost "CREATE DATABASE \"$PG_DB\""
    run "$OUTPOST" --data "$WORK/c" restore "$WORK/tao.zip"
    check "it restores in place into the empty database, with its password file" status_is 0
    check "the restored password file is private" [ "$(stat -c %a "$WORK/c/db-password")" = 600 ]
    run "$OUTPOST" --data "$WORK/c" users list --json
    check "and the restored central has TAO's super-user" contains "$OUT" '"district-admin"'
else
    tao_file central.setup.json "$WORK/central.json" \
        '.configuration.generis.persistences.default = {"driver": "pdo_sqlite", "dbname": "central.db", "user": "tao", "password": "x"}'
    run "$OUTPOST" --data "$WORK/c" setup "$WORK/central.json"
    check "TAO's central setup.json (pdo_sqlite) sets up a central" status_is 0
    check "its role comes from postInstall's SetupCentralServer" contains "$OUT" "central"
    check "pdo_sqlite's dbname names the file when there is no path" [ -f "$WORK/c/central.db" ]
    check "a SQLite database's user and password are listed as ignored" sh -c 'printf "%s" "$1" | grep -q "persistences.default.user" && printf "%s" "$1" | grep -q "persistences.default.password"' - "$ERR"
    check "no password file is written for SQLite" [ ! -e "$WORK/c/db-password" ]
    check "the super-user has TAO's first name, last name and mail" \
        [ "$(sqlite3 "$WORK/c/central.db" "SELECT first_name || ' ' || last_name || ' ' || mail FROM users WHERE login = 'district-admin'")" = "Claire Muller claire.muller@district.example" ]
fi

# TAO's "dbal" form, with a read replica: the master is the database
tao_file device.setup.json "$WORK/dbal.json" \
    '.configuration.generis.persistences.options.persistences.default = {"driver": "dbal", "connection": {"driver": "pdo_sqlite", "path": "dbal.db", "wrapperClass": "X"}}'
run "$OUTPOST" --data "$WORK/dbal" setup "$WORK/dbal.json"
check "TAO's dbal persistence is read" status_is 0
check "its connection's path is the database" [ -f "$WORK/dbal/dbal.db" ]
check "its wrapperClass is listed as ignored" contains "$ERR" "default.connection.wrapperClass"

# ---- the role ----
tao_file device.setup.json "$WORK/norole.json" 'del(.postInstall)'
run "$OUTPOST" --data "$WORK/nr" setup "$WORK/norole.json"
check "a TAO file that does not say its role is refused" status_is 1
check "the message says how to give it" contains "$ERR" "role: missing"
check "naming --role" contains "$ERR" "--role central or --role device"
check "nothing is left" [ ! -e "$WORK/nr" ]
run "$OUTPOST" --data "$WORK/nr" setup --role device "$WORK/norole.json"
check "--role device sets it up" status_is 0
check "as a device" contains "$OUT" "device"
run "$OUTPOST" --data "$WORK/nr2" setup --role central "$WORK/device.json"
check "--role that contradicts postInstall is refused" status_is 1
check "naming both" contains "$ERR" "role: the file says device (postInstall) and --role says central"
run "$OUTPOST" --data "$WORK/nr3" setup --role boss "$WORK/device.json"
check "an unknown --role is a usage error" status_is 2

# ---- every problem at once ----
tao_file device.setup.json "$WORK/bad.json" \
    '.configuration.global.timezone = "Mars/Base" | .configuration.global.lang = "fr_FR" | .configuration.global.url = "school-box" | ."super-user".password = "admin" | .configuration.generis.persistences.options.persistences.default = {"driver": "pdo_mysql", "host": "localhost", "dbname": "tao", "user": "tao", "password": "tao"}'
run "$OUTPOST" --data "$WORK/bad" setup "$WORK/bad.json"
check "a TAO file with five problems is refused" status_is 1
check "its url problem is listed" contains "$ERR" "bad.json: configuration.global.url: \"school-box\" is not an http:// or https:// URL"
check "its time zone problem is listed" contains "$ERR" "bad.json: configuration.global.timezone: unknown time zone \"Mars/Base\""
check "its language problem is listed" contains "$ERR" "bad.json: configuration.global.lang: \"fr_FR\" is not a language tag"
check "its password problem is listed" contains "$ERR" "bad.json: super-user.password: must be at least 8 characters"
check "its driver problem is listed, with the path where TAO has it" contains "$ERR" \
    "bad.json: configuration.generis.persistences.options.persistences.default.driver: \"pdo_mysql\" (MySQL) is not a database Outpost runs on"
check "the last line counts them" contains "$ERR" "bad.json: 5 problems (listed above); nothing was set up"
check "each problem is on a line of its own" [ "$(printf '%s\n' "$ERR" | grep -v warning | grep -c '^outpost: .*bad.json: ')" = 6 ]
check "nothing is left" [ ! -e "$WORK/bad" ]

# Outpost's own format stays strict (a typo is an error), and lists every problem too
write_setup "$WORK/own.json" device
jq '.configuration.global.timzone = "UTC" | .configuration.limits = {"csv-max-byte": 5} | .role = "box"' "$WORK/own.json" > "$WORK/own2.json"
chmod 600 "$WORK/own2.json"
run "$OUTPOST" --data "$WORK/own" setup "$WORK/own2.json"
check "our own file with three problems is refused" status_is 1
check "the typo in global is listed" contains "$ERR" "configuration.global.timzone: unknown key (expected one of: url, timezone, lang)"
check "the typo in limits is listed" contains "$ERR" "configuration.limits.csv-max-byte: unknown key"
check "the bad role is listed" contains "$ERR" "role: unknown role \"box\""
check "no key is reported as ignored in our own file" sh -c '! printf "%s" "$1" | grep -q ignored' - "$ERR"
check "the last line counts them" contains "$ERR" "own2.json: 3 problems (listed above)"

# one problem: one line, as before
jq '.configuration.global.timezone = "Mars/Base"' "$WORK/own.json" > "$WORK/own3.json"
chmod 600 "$WORK/own3.json"
run "$OUTPOST" --data "$WORK/own3" setup "$WORK/own3.json"
check "a file with one problem says it on one line" [ "$ERR" = "outpost: $WORK/own3.json: configuration.global.timezone: unknown time zone \"Mars/Base\" (use an IANA name such as \"Europe/Luxembourg\" or \"UTC\")" ]

# a file naming two databases (ours and TAO's) is refused
tao_file device.setup.json "$WORK/two.json" '.configuration.persistences = {"default": {"driver": "sqlite"}}'
run "$OUTPOST" --data "$WORK/two" setup "$WORK/two.json"
check "a TAO file that also has our persistences is refused" status_is 1
check "naming both" contains "$ERR" "configuration.persistences: two databases named (and configuration.generis.persistences): keep one"

finish
