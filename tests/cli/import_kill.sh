# kill -9 inside the write transaction of import-testcenters and import-eligibilities: the
# database then holds none of the file (or, had the kill come after COMMIT, all of it), is
# intact, and the same import run again imports the file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fixtures/centers.sh"
C="$WORK/c"
new_instance "$C" central
add_user "$C" boss test-center-admin
add_user "$C" proc proctor
# Large enough that the write transaction lasts about a second in a debug build with
# sanitizers. Staff and test takers are spread thin, as in real files: a user in every row
# would make each row's feed update scan all the rows before it. On PostgreSQL the kill needs
# no large transaction (lib.sh watches for the transaction's first write), and each row costs
# its round trips to the server: a fifth of the rows.
N=5000
if on_pgsql; then N=1000; fi
# (The SQL is the same on SQLite and PostgreSQL: no printf(), no generate_series.)
# 1000 test takers, t0 to t999, written in bulk: one `users add` each would take longer than
# the imports. Nobody logs in with them, so the password hash is a placeholder.
sql "$C" "WITH RECURSIVE k (n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n < 999)
          INSERT INTO users (id, login, role, label, password_hash, version, created_at, updated_at)
          SELECT '00000000-0000-4000-9000-' || substr('000000000000' || n, length(CAST(n AS TEXT)) + 1), 't' || n, 'test-taker', 't' || n,
                 'placeholder', 1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z' FROM k"
# 100 deliveries, "Delivery 0" to "Delivery 99" (the fixture row of add_delivery, in bulk).
sql "$C" "WITH RECURSIVE k (n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n < 99)
          INSERT INTO deliveries (id, label, proctored_default, version, created_at, updated_at)
          SELECT '00000000-0000-4000-8000-' || substr('000000000000' || n, length(CAST(n AS TEXT)) + 1), 'Delivery ' || n, 1, 1,
                 '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z' FROM k"
# Centers in 50 organisations, trees of ten (every tenth center is the parent of the next nine).
awk -v n=$N 'BEGIN {
    print "Label,Organisation Id,Parent,Administrators,Proctors"
    for (i = 0; i < n; i++)
        printf "Center %d,ORG-%d,%s,%s,%s\n", i, i % 50, i % 10 ? "Center " (i - i % 10) : "",
               i % 100 ? "" : "boss", i % 100 == 50 ? "proc" : ""
}' > "$WORK/centers.csv"
awk -v n=$N 'BEGIN {
    print "Test Center,Delivery,Test Takers,Proctored"
    for (i = 0; i < n; i++)
        printf "Center %d,Delivery %d,t%d;t%d,%s\n", i, i % 100, i % 1000, (i + 7) % 1000,
               i % 2 ? "yes" : "no"
}' > "$WORK/elig.csv"
# Row counts of the tables an import writes, and of the change feed.
counts() {
    sql "$C" "SELECT (SELECT count(*) FROM test_centers) || ' ' || (SELECT count(*) FROM test_center_staff)
              || ' ' || (SELECT count(*) FROM eligibilities) || ' ' || (SELECT count(*) FROM eligibility_test_takers)
              || ' ' || (SELECT count(*) FROM sync_feed)"
}
none_or_all() { [ "$AFTER" = "$BEFORE" ] || [ "$AFTER" = "$ALL" ]; }
# Says which, for the log (the kill comes before COMMIT, so normally none).
which_one() {
    if [ "$AFTER" = "$BEFORE" ]; then echo "     (none of it)"
    elif [ "$AFTER" = "$ALL" ]; then echo "     (all of it)"
    else echo "     (part of it: $BEFORE before, $AFTER after the kill, $ALL after the re-run)"; fi
}

# ---- import-testcenters ----
BEFORE=$(counts)
kill_in_write_transaction "$C" "$OUTPOST" --data "$C" import-testcenters -f "$WORK/centers.csv"
check "import-testcenters was killed inside its write transaction" [ "$KILLED" = 1 ]
AFTER=$(counts)
check "the database is intact after the kill" [ "$(db_intact "$C")" = ok ]
run "$OUTPOST" --data "$C" import-testcenters -f "$WORK/centers.csv"
check "the same import then runs to the end" status_is 0
check "and creates every center of the file" contains "$OUT" "test centers: $N created, 0 updated"
ALL=$(counts)
check "after the kill the database held none of the file, or all of it" none_or_all
which_one
check "all centers and staff are stored" [ "${ALL% * * *}" = "$N $((N / 50))" ]
check "the database is intact after the re-run" [ "$(db_intact "$C")" = ok ]

# ---- import-eligibilities ----
BEFORE=$(counts)
kill_in_write_transaction "$C" "$OUTPOST" --data "$C" import-eligibilities -f "$WORK/elig.csv"
check "import-eligibilities was killed inside its write transaction" [ "$KILLED" = 1 ]
AFTER=$(counts)
check "the database is intact after the kill" [ "$(db_intact "$C")" = ok ]
run "$OUTPOST" --data "$C" import-eligibilities -f "$WORK/elig.csv"
check "the same import then runs to the end" status_is 0
check "and creates every eligibility of the file" contains "$OUT" "eligibilities: $N created, 0 updated"
ALL=$(counts)
check "after the kill the database held none of the file, or all of it" none_or_all
which_one
check "all eligibilities and their test takers are stored" \
    [ "$(echo "$ALL" | cut -d' ' -f3,4)" = "$N $((2 * N))" ]
check "the database is intact after the re-run" [ "$(db_intact "$C")" = ok ]

finish
