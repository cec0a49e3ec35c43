#!/usr/bin/env bash
# Check that every C source and header (tracked, or untracked and not
# ignored) under include/ src/ connectors/ examples/ tools/ tests/ is
# formatted as .clang-format says. Lists the offenders and exits 1 if any.
#
# usage: tools/check-format.sh [--diff | --fix]
#   --diff  also print what clang-format would change
#   --fix   reformat the offending files in place (clang-format -i)
# env:   CLANG_FORMAT (default clang-format; CI uses Debian 12's, 14.x)
set -euo pipefail
cd "$(dirname "$0")/.."

mode=check
case ${1:-} in
"") ;;
--diff) mode="diff" ;;
--fix) mode=fix ;;
*)
    echo "usage: $0 [--diff | --fix]" >&2
    exit 2
    ;;
esac

cf=${CLANG_FORMAT:-clang-format}
if ! command -v "$cf" >/dev/null; then
    echo "check-format: $cf not found (bash tools/setup.sh installs it)" >&2
    exit 1
fi

dirs=(include src connectors examples tools tests)
files=()
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    while IFS= read -r -d '' f; do
        case $f in
        *.c | *.h) [ -f "$f" ] && files+=("$f") ;;
        esac
    done < <(git ls-files -z --cached --others --exclude-standard -- \
        "${dirs[@]}" | sort -zu)
else
    while IFS= read -r -d '' f; do
        files+=("$f")
    done < <(find "${dirs[@]}" -type f \( -name '*.c' -o -name '*.h' \) \
        -print0 2>/dev/null | sort -z)
fi

bad=()
for f in "${files[@]}"; do
    if ! "$cf" --dry-run -Werror "$f" >/dev/null 2>&1; then
        bad+=("$f")
    fi
done

if [ ${#bad[@]} -eq 0 ]; then
    echo "check-format: ${#files[@]} files formatted ($("$cf" --version))"
    exit 0
fi

if [ "$mode" = fix ]; then
    "$cf" -i "${bad[@]}"
    printf 'check-format: reformatted %s\n' "${bad[@]}"
    exit 0
fi
echo "check-format: ${#bad[@]} of ${#files[@]} files need clang-format:"
for f in "${bad[@]}"; do
    echo "  $f"
    if [ "$mode" = diff ]; then
        "$cf" "$f" | diff -u --label "$f" --label "$f (formatted)" "$f" - |
            sed 's/^/    /' || true
    fi
done
echo "check-format: run 'bash tools/check-format.sh --fix' to reformat them"
exit 1
