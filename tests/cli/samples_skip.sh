# A test that needs the shared samples reports itself skipped when they are absent: it exits
# 77, which CTest (SKIP_RETURN_CODE) shows as skipped, never as passed.
. "$(dirname "$0")/lib.sh"
: "${BUILD_DIR:?BUILD_DIR must point at the build folder}"
NONE="$WORK/no-samples"

for t in test_qti_ims_items test_qti_tao_samples; do
    OUTPOST_SAMPLES="$NONE" run "$BUILD_DIR/$t"
    check "$t without samples exits 77 (skipped)" status_is 77
    check "$t says why" contains "$OUT" "SKIP:"
done
for t in import_users_tao qti_conformance; do
    OUTPOST_SAMPLES="$NONE" run sh "$OUTPOST_SOURCE/tests/cli/$t.sh"
    check "cli/$t without samples exits 77 (skipped)" status_is 77
done

finish
