# Walks through docs/operations.md and docs/coming-from-tao.md by running their commands: every
# code block a document marks with `<!-- walk -->` (an HTML comment, invisible when the
# document is read) is run, in the document's order, as one shell script with `set -e`, so a
# command a document shows that no longer works fails this test. The markers, each on a line
# of its own before the block (an indented block or a fenced one):
#   <!-- walk -->             run the next block; it must succeed
#   <!-- walk fails -->       run the next block; it must fail (a refusal the document shows)
#   <!-- walk as NAME -->     the following blocks run on machine NAME (central, device, ...):
#                             the absolute paths below are moved under a folder of its own
#   <!-- walk set WORD=VALUE -->  WORD (a placeholder such as DIR, or a file name) reads VALUE
#                             from here on
#   <!-- walk serve PATH -->  serves the instance in PATH on loopback (outpost serve) until
#                             the end; https://central.example.org in later blocks is its URL
#   <!-- walk run COMMAND --> runs COMMAND there (a file the document takes as given)
# Paths moved: /var/lib/outpost, /etc/outpost, /backup, /srv, /home/admin; `runuser -u
# outpost --` and `sudo -u outpost` are dropped (the test runs as one user). Each block runs
# in a working folder of the machine whose scripts/, demo/, config/ and tests/ are the
# checkout's. Other comments between a marker and its block (the markers other tests use) are
# passed over.
. "$(dirname "$0")/lib.sh"
mkdir -p "$WORK/bin"
ln -s "$OUTPOST" "$WORK/bin/outpost"

# usage: walk_script DOC MACHINES - the script of DOC's marked blocks, on standard output
walk_script() {
    awk -v machines="$2" -v doc="$1" '
    function move(s,    n, i, p) {
        n = split("/var/lib/outpost /etc/outpost /backup /srv /home/admin", p, " ")
        for (i = 1; i <= n; i++)
            s = replace_all(s, p[i], machines "/" machine p[i])
        gsub(/runuser -u outpost -- /, "", s)
        gsub(/sudo -u outpost /, "", s)
        if (served) {
            s = replace_all(s, "https://central.example.org:8443", "$WALK_URL")
            s = replace_all(s, "https://central.example.org", "$WALK_URL")
        }
        return s
    }
    # every occurrence of the string `from` (no pattern) by `to`
    function replace_all(s, from, to,    out, i) {
        out = ""
        while ((i = index(s, from)) > 0) {
            out = out substr(s, 1, i - 1) to
            s = substr(s, i + length(from))
        }
        return out s
    }
    function apply_sets(s,    w) {
        for (w in sets)
            s = word_replace(s, w, sets[w])
        return s
    }
    # WORD as a whole word (not inside a longer name) by `to`; a WORD that is not a name
    # (a path) wherever it is
    function word_replace(s, word, to,    out, i, before, after) {
        if (word !~ /^[A-Za-z0-9_]+$/)
            return replace_all(s, word, to)
        out = ""
        while ((i = index(s, word)) > 0) {
            before = i > 1 ? substr(s, i - 1, 1) : ""
            after = substr(s, i + length(word), 1)
            if (before ~ /[A-Za-z0-9_]/ || after ~ /[A-Za-z0-9_]/) {
                out = out substr(s, 1, i + length(word) - 1)
            } else
                out = out substr(s, 1, i - 1) to
            s = substr(s, i + length(word))
        }
        return out s
    }
    function machine_start() {
        print "mkdir -p \"" machines "/" machine "/home/admin\""
        print "walk_home \"" machines "/" machine "/home/admin\""
    }
    BEGIN { machine = "main"; machine_start(); blocks = 0 }
    /^<!-- walk as [A-Za-z0-9_-]+ -->$/ { machine = $4; machine_start(); next }
    /^<!-- walk set [^=]+=.* -->$/ {
        v = substr($0, 15); v = substr(v, 1, length(v) - 4)
        k = substr(v, 1, index(v, "=") - 1); sets[k] = substr(v, index(v, "=") + 1); next
    }
    /^<!-- walk serve .* -->$/ {
        v = substr($0, 17); v = substr(v, 1, length(v) - 4)
        print "walk_serve \"" move(v) "\""; served = 1; next
    }
    /^<!-- walk run .* -->$/ {
        v = substr($0, 15); v = substr(v, 1, length(v) - 4)
        print "echo \"== " doc " line " NR ": " v "\""
        print move(v); next
    }
    /^<!-- walk( fails)? -->$/ { want = ($3 == "fails") ? "fails" : "works"; start = NR; next }
    want != "" && mode == "" && /^```/ { mode = "fenced"; open_block(); next }
    want != "" && mode == "" && /^    / { mode = "indented"; open_block() }
    want != "" && mode == "" && (/^$/ || /^<!-- .* -->$/) { next }
    want != "" && mode == "" { print "echo \"FAIL: " doc " line " start ": no code block after the marker\"; exit 1"; want = ""; next }
    mode == "fenced" && /^```/ { close_block(); next }
    mode == "indented" && !/^    / && !/^$/ { close_block() }
    mode == "fenced" { print move(apply_sets($0)); next }
    mode == "indented" && /^    / { print move(apply_sets(substr($0, 5))); next }
    mode == "indented" && /^$/ { print ""; next }
    function open_block() {
        blocks++
        print "echo \"== " doc " line " start " (" want ")\""
        if (want == "fails")
            print "if ( set -e"
    }
    function close_block() {
        if (want == "fails")
            print ") then echo \"FAIL: " doc " line " start ": the block should have failed\"; exit 1; fi"
        mode = ""; want = ""
    }
    END { print "walk_blocks=" blocks }
    ' "$OUTPOST_SOURCE/$1"
}

# The functions the scripts call, and what every script starts with.
cat > "$WORK/prelude.sh" <<PRELUDE
set -e
export PATH="$WORK/bin:\$PATH"
unset OUTPOST_HOME
WALK_PID=
walk_home() {
    mkdir -p "\$1"
    for d in scripts demo config tests; do [ -e "\$1/\$d" ] || ln -s "$OUTPOST_SOURCE/\$d" "\$1/\$d"; done
    cd "\$1"
}
walk_serve() {
    : > "\$1.serve.log"
    outpost --data "\$1" serve --listen 127.0.0.1:0 > /dev/null 2>> "\$1.serve.log" &
    WALK_PID=\$!
    i=0
    while [ \$i -lt 100 ]; do
        WALK_URL=\$(sed -n 's/.* listening on \(https*:\/\/[^ ]*\) .*/\1/p' "\$1.serve.log" | head -n 1)
        [ -n "\$WALK_URL" ] && return 0
        sleep 0.1
        i=\$((i + 1))
    done
    echo "FAIL: serve did not start"; cat "\$1.serve.log"; exit 1
}
trap '[ -z "\$WALK_PID" ] || { kill \$WALK_PID; wait \$WALK_PID; } 2> /dev/null' EXIT
PRELUDE

# usage: walk DOC MIN_BLOCKS - runs DOC's blocks; at least MIN_BLOCKS must be marked
walk() {
    name=$(basename "$1" .md)
    mkdir -p "$WORK/$name"
    { cat "$WORK/prelude.sh"; walk_script "$1" "$WORK/$name"; } > "$WORK/$name.sh"
    n=$(sed -n 's/^walk_blocks=//p' "$WORK/$name.sh")
    check "$1 marks at least $2 blocks to walk ($n)" [ "${n:-0}" -ge "$2" ]
    run sh "$WORK/$name.sh"
    printf "%s\n" "$OUT" > "$WORK/$name.out"
    check "every command of $1 works as written" status_is 0
    if [ "$RC" != 0 ]; then
        echo "     the block that failed, and its output:"
        printf '%s\n%s\n' "$OUT" "$ERR" | tail -n 40 | sed 's/^/     | /'
    fi
}

walk docs/coming-from-tao.md 9
walk docs/operations.md 3
finish
