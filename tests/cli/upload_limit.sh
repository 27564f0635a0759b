# configuration.limits.upload-max-bytes: the largest file a test taker may upload or draw on a
# device (docs/qti.md, "Files"): taken from 1 KiB to 2 MiB and kept in outpost.json, refused
# outside that range naming the setting, and left out of outpost.json when not given (the
# default, 1 MiB, then applies).
. "$(dirname "$0")/lib.sh"
for v in 4096 2097152; do
    write_setup "$WORK/ok-$v.json" device
    sed -i "s/\"security\"/\"limits\": {\"upload-max-bytes\": $v},\n    \"security\"/" "$WORK/ok-$v.json"
    run "$OUTPOST" --data "$WORK/d-$v" setup "$WORK/ok-$v.json"
    check "upload-max-bytes $v is taken" status_is 0
    check "outpost.json keeps it" contains "$(cat "$WORK/d-$v/outpost.json")" "\"upload-max-bytes\": $v"
done
n=0
for v in 512 3145728 '"1 MB"'; do
    n=$((n + 1))
    write_setup "$WORK/bad.json" device
    sed -i "s/\"security\"/\"limits\": {\"upload-max-bytes\": $v},\n    \"security\"/" "$WORK/bad.json"
    run "$OUTPOST" --data "$WORK/bad-$n" setup "$WORK/bad.json"
    check "upload-max-bytes $v is refused" status_not 0
    check "the refusal names the setting and its range" contains "$ERR" \
        "configuration.limits.upload-max-bytes: must be a whole number from 1024 to 2097152"
done
new_instance "$WORK/plain" device
check "not given, it is not written (the default applies)" \
    sh -c "! grep -q upload-max-bytes '$WORK/plain/outpost.json'"
finish
