#!/usr/bin/env bash
# Every symbol the shared libsluice exports must be public API, named
# ^sl_[a-z] (style.md: -fvisibility=hidden plus SL_EXPORT). Internal sl__
# names, helpers that forgot `static` and bundled code must not leak.
#
# usage: test_exports.sh PATH/TO/libsluice.so
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 LIBRARY" >&2
    exit 2
fi
lib=$1
[ -f "$lib" ] || {
    echo "FAIL: no such library: $lib" >&2
    exit 1
}

# Symbols the linker or the toolchain defines in every shared object, and
# the sanitizer runtimes' hooks in -fsanitize builds: not sluice's own.
ignore='^(_init|_fini|_edata|_end|_etext|__bss_start|__end__|__data_start|_DYNAMIC|_GLOBAL_OFFSET_TABLE_|__dso_handle|__TMC_END__|__(asan|ubsan|tsan|lsan|sanitizer|odr_asan)[_.].*)$'

# nm prints "VALUE TYPE NAME" (VALUE may be blank); keep defined, global
# code and data: T text, D/G data, B/S bss, R read-only, W/V weak, i ifunc,
# u unique global.
if ! syms=$(nm -D --defined-only "$lib"); then
    echo "FAIL: nm -D failed on $lib" >&2
    exit 1
fi
exported=$(printf '%s\n' "$syms" |
    awk 'NF >= 2 && $(NF-1) ~ /^[TDGBSRWViu]$/ { print $NF }' |
    sed 's/@.*//' | sort -u)
bad=$(printf '%s\n' "$exported" | grep -Ev "$ignore" |
    grep -Ev '^sl_[a-z]' | grep -v '^$' || true)
good=$(printf '%s\n' "$exported" | grep -c '^sl_[a-z]' || true)

if [ "$good" -eq 0 ]; then
    echo "FAIL: $lib exports no sl_ symbol at all" >&2
    exit 1
fi
if [ -n "$bad" ]; then
    echo "FAIL: $lib exports symbols that are not ^sl_[a-z]:" >&2
    printf '%s\n' "$bad" | sed 's/^/  /' >&2
    echo "(make them static, or name them sl__ and leave out SL_EXPORT)" >&2
    exit 1
fi
echo "exports ok: $good public sl_ symbols, nothing else"
