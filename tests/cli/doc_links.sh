# Every relative link of the documents (README.md, docs/*.md, bench/README.md) names a file or
# folder that exists in the repository (a link into ../shared or to a web address is not
# checked: it is outside the tree). An operator following a document never meets a dead link.
. "$(dirname "$0")/lib.sh"
cd "$OUTPOST_SOURCE" || exit 1
dead=""
for doc in README.md docs/*.md bench/README.md; do
    [ -f "$doc" ] || continue
    dir=$(dirname "$doc")
    # [text](target) and [text](target#anchor), one link a line
    links=$(grep -o '\]([^)]*)' "$doc" | sed 's/^](\(.*\))$/\1/' | sed 's/#.*//' | sed 's/ .*//')
    for l in $links; do
        case "$l" in
            "" | http://* | https://* | mailto:* | file:* | ../shared/* | ../../shared/*) continue ;;
        esac
        case "$l" in
            /*) target=".$l" ;;
            *) target="$dir/$l" ;;
        esac
        [ -e "$target" ] || dead="$dead
$doc -> $l"
    done
done
check "every relative link of the documents names a file of the repository" [ -z "$dead" ]
[ -z "$dead" ] || printf 'dead links:%s\n' "$dead"

# the paths the documents name in code spans (`src/app/backup.h`): files of the repository,
# or a program built from one (tests/tools/envelope_tool from envelope_tool.c); a path with a
# placeholder in capitals (web/admin/NAME.html) or one a step tells the reader to create
# ("Copy ... to `web/i18n/fr.json`") is not a reference
missing=""
for doc in README.md docs/*.md bench/README.md; do
    [ -f "$doc" ] || continue
    for p in $(grep -o '`\(src\|docs\|tests\|scripts\|bench\|web\|dist\)/[A-Za-z0-9_./-]*`' "$doc" | tr -d '`' | sort -u); do
        p=${p%.}
        case "$p" in *[A-Z][A-Z]*) continue ;; esac
        [ -e "$p" ] || [ -e "$p.c" ] || [ -e "$p.sh" ] && continue
        grep -q "to \`$p\`" "$doc" && continue
        missing="$missing
$doc: $p"
    done
done
check "every path the documents name in code exists in the repository" [ -z "$missing" ]
[ -z "$missing" ] || printf 'missing:%s\n' "$missing"
finish
