# Tests of `outpost import-users`: the TAO format and RFC 4180 details, every refusal a user
# can hit, all or nothing, --skip-invalid, --json, updates, and kill -9 during hashing and
# inside the write transaction. The fixtures are written here from TAO's documented format.
. "$(dirname "$0")/lib.sh"
C="$WORK/c"
new_instance "$C" central

users() { sql "$C" "SELECT count(*) FROM users"; } # the super-user counts as one
csv() { printf "$@" > "$WORK/in.csv"; }            # usage: csv FORMAT [ARGS] - writes in.csv
import() { run "$OUTPOST" --data "$C" import-users "$@"; }
lacks() { ! contains "$1" "$2"; }

# A setup.json with its own password cost and CSV limit. usage: setup_with FILE OPS MEM CSVMAX
setup_with() {
    persistence central # lib.sh: a new database on the pgsql run
    cat > "$1" <<JSON
{
  "role": "central",
  "super-user": {"login": "admin", "password": "admin-password"},
  "configuration": {
    "global": {"url": "http://127.0.0.1:8080/", "timezone": "UTC", "lang": "en-US"},
    "persistences": {"default": $PERSISTENCE},
    "security": {"password-hash": {"opslimit": $2, "memlimit-kib": $3, "insecure-for-tests": true},
                 $RELAXED_POLICY},
    "limits": {"csv-max-bytes": $4}
  }
}
JSON
}

# ---- the TAO format ----
TAO_HEADER='Label,"First Name","Last Name",Login,Mail,Password,"Interface Language", "Default language"'
csv '%s\n%s\n%s\n' "$TAO_HEADER" \
    'Ann,"Ann B",Bee,ann,ann@example.org,pw-ann,en-US,en-US' \
    'Carl,Carl,"Dee, Jr.",carl,carl@example.org,pw-carl,fr-FR,de'
import -t test-taker -f "$WORK/in.csv"
check "a file with TAO's header is imported" status_is 0
check "the summary counts the new users" contains "$OUT" "2 created, 0 updated"
check "both users are stored" [ "$(users)" = 3 ]
check "the quoted Default language column is read" \
    [ "$(sql "$C" "SELECT default_lang FROM users WHERE login='carl'")" = de ]
check "a quoted field keeps its comma" \
    [ "$(sql "$C" "SELECT last_name FROM users WHERE login='carl'")" = "Dee, Jr." ]
check "the role is the one given with -t" \
    [ "$(sql "$C" "SELECT role FROM users WHERE login='ann'")" = test-taker ]
check "the password is stored as an Argon2id record" \
    contains "$(sql "$C" "SELECT password_hash FROM users WHERE login='ann'")" '$op-argon2id$'
check "the password is not stored in clear" \
    [ -z "$(sql "$C" "SELECT 1 FROM users WHERE password_hash LIKE '%pw-ann%'")" ]

# ---- RFC 4180 details: BOM, CRLF, quotes, newlines, other order and case ----
csv '\357\273\277login,PASSWORD, first name ,label\r\n"bom",pw1,"Line1",x\r\n"q""uote",pw2,"a ""b"", c",y\r\n'
import -t test-taker -f "$WORK/in.csv"
check "a UTF-8 BOM, CRLF, other order and case are accepted" status_is 0
check "doubled quotes become one quote" \
    [ "$(sql "$C" "SELECT first_name FROM users WHERE login='q\"uote'")" = 'a "b", c' ]
check "the BOM is not part of the first column name" \
    [ "$(sql "$C" "SELECT label FROM users WHERE login='bom'")" = x ]

csv 'Login,Password\nnolabel,pw\n'
import -t proctor -f "$WORK/in.csv"
check "Label defaults to the login" [ "$(sql "$C" "SELECT label FROM users WHERE login='nolabel'")" = nolabel ]

# ---- refusals of the whole file ----
before=$(users)
csv 'Label,Mail,Password\nx,x@example.org,pw\n'
import -t test-taker -f "$WORK/in.csv"
check "a file without a Login column is refused" status_is 1
check "the refusal names the missing Login column" contains "$ERR" "in.csv line 1: missing column Login"

csv 'Label,Login\nx,x\n'
import -t test-taker -f "$WORK/in.csv"
check "a file without a Password column is refused" status_is 1
check "the refusal names the missing Password column" contains "$ERR" "missing column Password"

csv 'Login,Password,Mial\nx,pw,x@example.org\n'
import -t test-taker -f "$WORK/in.csv"
check "an unknown column is refused" status_is 1
check "the refusal names the unknown column" contains "$ERR" 'unknown column "Mial"'

csv 'Login,Password\nsm,pw\n'
import -t sync-manager -f "$WORK/in.csv"
check "a sync-manager file without organisation id is refused" status_is 1
check "the refusal names the organisation id column" contains "$ERR" 'missing column "organisation id"'

csv 'Login,Password,organisation id\nsm1,pw,ORG-1\nsm2,pw,\n'
import -t sync-manager -f "$WORK/in.csv"
check "a sync-manager row without organisation id is refused" contains "$ERR" "in.csv line 3: missing organisation id"
check "nothing of a refused file is stored" [ "$(users)" = "$before" ]

csv 'Login,Password\nx,"unclosed\ny,pw\n'
import -t test-taker -f "$WORK/in.csv"
check "an unclosed quote is refused, not read as one long field" status_is 1
check "the refusal names the line of the open quote" contains "$ERR" 'in.csv line 2: a quoted field is not closed'

csv 'Login,Password\nx,a"b\n'
import -t test-taker -f "$WORK/in.csv"
check "a stray quote is refused" contains "$ERR" "in.csv line 2: a stray quote"

import -t wizard -f "$WORK/in.csv"
check "an unknown role is a usage error" status_is 2
check "the error names the role" contains "$ERR" 'unknown role "wizard"'

: > "$WORK/in.csv"
import -t test-taker -f "$WORK/in.csv"
check "an empty file is refused" status_is 1
check "the refusal says the file is empty" contains "$ERR" "empty file"

csv 'Login,Password\n'
import -t test-taker -f "$WORK/in.csv"
check "a file with a header only is refused" contains "$ERR" "no users"

head -c 100000 /dev/urandom > "$WORK/in.csv"
import -t test-taker -f "$WORK/in.csv"
check "binary garbage is refused" status_is 1
check "the refusal says it is not text" sh -c 'case "$1" in *"binary data"*|*"not valid UTF-8"*) exit 0;; esac; exit 1' _ "$ERR"
check "nothing of the refusals was stored" [ "$(users)" = "$before" ]

import -f "$WORK/in.csv"
check "a missing -t is a usage error" status_is 2
check "the usage error says what is required" contains "$ERR" "-t ROLE and -f FILE are required"

import -t test-taker -f "$WORK/missing.csv"
check "a missing file is a clear error" contains "$ERR" "missing.csv"

# ---- control characters: a CSV file must not carry terminal escapes into an operator's
# terminal (users list prints labels and logins) ----
ESC=$(printf '\033')
csv 'Login,Password,Label,First Name,Mail\nesc,pw,"\033]0;owned\007\033[2JEve",Eve,e@example.org\nnl,pw,Nl,"Line1\r\nLine2",n@example.org\n"c1\302\233x",pw,C1,C,c@example.org\ntab,pw,Tab,T,"t\t@example.org"\nfine,pw,Fine,F,f@example.org\n'
import -t test-taker -f "$WORK/in.csv"
check "a file with an escape sequence in a label is refused" status_is 1
check "the refusal names the line and the field of the escape" \
    contains "$ERR" "in.csv line 2: field Label contains a control character"
check "a quoted newline in a name is refused (the row starts on line 3)" \
    contains "$ERR" "in.csv line 3: field First Name contains a control character"
check "a C1 control (U+009B) in a login is refused" \
    contains "$ERR" "in.csv line 5: field Login contains a control character"
check "a tab in a mail address is refused" \
    contains "$ERR" "in.csv line 6: field Mail contains a control character"
check "the refusal prints no raw escape character" lacks "$ERR" "$ESC"
check "nothing of the refused file is stored" [ -z "$(sql "$C" "SELECT 1 FROM users WHERE login IN ('esc','fine')")" ]
csv 'Login,Password,Default language\ncl,pw,"en\033[2J"\n'
import -t test-taker -f "$WORK/in.csv"
check "an escape in a language column is refused as a control character" \
    contains "$ERR" "in.csv line 2: field Default language contains a control character"
check "the language refusal does not echo the escape" lacks "$ERR" "$ESC"

# ---- bad rows: all or nothing ----
csv 'Login,Password,Default language\ngood,pw,en\ndup,pw,en\n,pw,en\nnopw,,en\ndup,pw2,en\nbadlang,pw,english!\nshort\nadmin,pw,en\n'
import -t test-taker -f "$WORK/in.csv"
check "a file with invalid rows is refused" status_is 1
check "a duplicate login names both lines" contains "$ERR" 'in.csv line 3: login "dup" appears more than once (lines 3 and 6)'
check "the second line of the duplicate is listed too" contains "$ERR" "in.csv line 6: login \"dup\""
check "a missing login is listed" contains "$ERR" "in.csv line 4: missing Login"
check "an empty password is listed" contains "$ERR" "in.csv line 5: empty Password"
check "a bad language tag is listed" contains "$ERR" 'in.csv line 7: Default language "english!" is not a language tag'
check "a short row is listed" contains "$ERR" "in.csv line 8: 1 field where the header has 3"
check "the super-user's login is refused" contains "$ERR" "in.csv line 9: login \"admin\" is the super-user's"
check "the summary says nothing was imported" contains "$ERR" "nothing imported"
check "the CLI says how to import the valid rows" contains "$ERR" "7 invalid rows; nothing imported (fix the rows listed, or give --skip-invalid to import the valid rows)"
check "no row of the refused file is stored" [ -z "$(sql "$C" "SELECT 1 FROM users WHERE login='good'")" ]

import -t test-taker -f "$WORK/in.csv" --skip-invalid
check "--skip-invalid imports the valid rows" status_is 0
check "--skip-invalid says how many were skipped" contains "$OUT" "1 created, 0 updated, 7 invalid rows skipped"
check "--skip-invalid still lists the bad rows" contains "$ERR" "in.csv line 5: empty Password"
check "the valid row is stored" [ "$(sql "$C" "SELECT count(*) FROM users WHERE login='good'")" = 1 ]
check "no duplicate row is stored" [ -z "$(sql "$C" "SELECT 1 FROM users WHERE login='dup'")" ]

import -t test-taker -f "$WORK/in.csv" --skip-invalid --json
check "--json prints the counts" contains "$OUT" '"updated": 1'
check "--json lists the invalid rows with line and message" contains "$OUT" '"line": 5'
printf '%s' "$OUT" > "$WORK/out.json"
check "--json output is one JSON document with the counts" [ "$(sqlite3 :memory: \
    "SELECT json_valid(j) || ' ' || json_extract(j, '\$.created') || ' ' || json_extract(j, '\$.skipped')
     || ' ' || json_array_length(j, '\$.invalid') FROM (SELECT CAST(readfile('$WORK/out.json') AS TEXT) AS j)")" = "1 0 7 7" ]

import -t test-taker -f "$WORK/in.csv" --json
check "--json on a refused file exits 1" status_is 1
check "--json on a refused file still prints the invalid rows" contains "$OUT" '"invalid": ['

# ---- progress: shown in place on a terminal only ----
{ echo "Login,Password"; i=0; while [ $i -lt 30 ]; do echo "p$i,password$i"; i=$((i + 1)); done; } > "$WORK/progress.csv"
script -qec "\"$OUTPOST\" --data \"$C\" import-users -t test-taker -f \"$WORK/progress.csv\"" /dev/null > "$WORK/tty.out" 2>&1
check "on a terminal the hashing progress is shown" grep -q "hashing passwords: 30/30" "$WORK/tty.out"
check "the progress is rewritten in place" grep -q "$(printf '\rhashing passwords: ')" "$WORK/tty.out"
import -t test-taker -f "$WORK/progress.csv"
check "without a terminal no progress is printed" lacks "$ERR" "hashing passwords"

# ---- updates and roles ----
old_hash=$(sql "$C" "SELECT password_hash FROM users WHERE login='ann'")
old_version=$(sql "$C" "SELECT version FROM users WHERE login='ann'")
csv 'Login,Password,Mail\nann,new-pw,new@example.org\nzed,pw,zed@example.org\n'
import -t test-taker -f "$WORK/in.csv"
check "an existing login is updated and a new one created" contains "$OUT" "1 created, 1 updated"
check "the update changes the mail" [ "$(sql "$C" "SELECT mail FROM users WHERE login='ann'")" = new@example.org ]
check "the update changes the password" [ "$(sql "$C" "SELECT password_hash FROM users WHERE login='ann'")" != "$old_hash" ]
check "the update bumps the version" [ "$(sql "$C" "SELECT version FROM users WHERE login='ann'")" -gt "$old_version" ]
check "a column absent from the file keeps its value" \
    [ "$(sql "$C" "SELECT first_name FROM users WHERE login='ann'")" = "Ann B" ]

csv 'Login,Password\nnolabel,pw\n'
import -t test-taker -f "$WORK/in.csv"
check "an existing login with another role is refused" status_is 1
check "the refusal says which role and what to do" \
    contains "$ERR" 'login "nolabel" exists as a proctor; import it with -t proctor or delete it first'
check "the role was not changed" [ "$(sql "$C" "SELECT role FROM users WHERE login='nolabel'")" = proctor ]

# ---- size limit ----
L="$WORK/limited"
setup_with "$WORK/setup-limited.json" 1 8 1024
run "$OUTPOST" --data "$L" setup "$WORK/setup-limited.json"
check "an instance with a 1024-byte CSV limit is set up" status_is 0
{ echo "Login,Password"; i=0; while [ $i -lt 100 ]; do echo "user$i,password$i"; i=$((i + 1)); done; } > "$WORK/big.csv"
run "$OUTPOST" --data "$L" import-users -t test-taker -f "$WORK/big.csv"
check "a file over the limit is refused" status_is 1
check "the refusal names the limit and the setting" \
    sh -c 'case "$1" in *"limit of 1024 bytes"*"configuration.limits.csv-max-bytes"*) exit 0;; esac; exit 1' _ "$ERR"
check "nothing of it is stored" [ "$(sql "$L" "SELECT count(*) FROM users")" = 1 ]

# ---- a device does not import users ----
D="$WORK/d"
new_instance "$D" device
csv 'Login,Password\nx,pw\n'
run "$OUTPOST" --data "$D" import-users -t test-taker -f "$WORK/in.csv"
check "import-users on a device is refused" status_is 1
check "the refusal says users come by sync" contains "$ERR" "by sync"

# ---- kill -9 during hashing and inside the write transaction ----
# A slow password cost, so that hashing lasts a few seconds.
K="$WORK/k"
setup_with "$WORK/setup-slow.json" 32 4096 1048576
run "$OUTPOST" --data "$K" setup "$WORK/setup-slow.json"
check "an instance with a slow password cost is set up" status_is 0
{ echo "Login,Password"; i=0; while [ $i -lt 120 ]; do echo "k$i,password$i"; i=$((i + 1)); done; } > "$WORK/kill.csv"
kusers() { sql "$K" "SELECT count(*) FROM users"; }

"$OUTPOST" --data "$K" import-users -t test-taker -f "$WORK/kill.csv" > /dev/null 2> "$WORK/kill.err" &
pid=$!
hashing=0
n=0
while [ $n -lt 400 ] && kill -0 $pid 2> /dev/null; do
    # The hashing threads exist only while passwords are hashed.
    if [ "$(ls /proc/$pid/task 2> /dev/null | wc -l)" -gt 1 ]; then hashing=1; break; fi
    sleep 0.05; n=$((n + 1))
done
kill -9 $pid 2> /dev/null
wait $pid 2> /dev/null
check "the import was killed while hashing (worker threads running)" [ "$hashing" = 1 ]
check "after a kill during hashing no user of the file is stored" [ "$(kusers)" = 1 ]
check "the database is intact after a kill during hashing" [ "$(db_intact "$K")" = ok ]

# Inside the transaction: a file large enough that its write transaction outgrows SQLite's
# page cache, killed once it holds the write lock and has written to the WAL (lib.sh). On
# PostgreSQL, killed at its first write: a file of a fifth of the size is enough.
W="$WORK/w"
new_instance "$W" central
wusers() { sql "$W" "SELECT count(*) FROM users"; }
NW=20000
if on_pgsql; then NW=4000; fi
{ echo "Login,Password,Label"; i=0; while [ $i -lt $NW ]; do echo "w$i,password$i,Test taker number $i"; i=$((i + 1)); done; } > "$WORK/kill.csv"
kill_in_write_transaction "$W" "$OUTPOST" --data "$W" import-users -t test-taker -f "$WORK/kill.csv"
check "the import was killed inside its write transaction" [ "$KILLED" = 1 ]
check "after a kill inside the transaction no user of the file is stored" [ "$(wusers)" = 1 ]
check "the database is intact after a kill inside the transaction" [ "$(db_intact "$W")" = ok ]

run "$OUTPOST" --data "$W" import-users -t test-taker -f "$WORK/kill.csv"
check "the same import then runs to the end" status_is 0
check "after it all users of the file are stored" [ "$(wusers)" = $((NW + 1)) ]
check "the database is intact after it" [ "$(db_intact "$W")" = ok ]

finish
