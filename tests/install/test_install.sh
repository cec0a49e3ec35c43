#!/usr/bin/env bash
# Install the current build tree into a temporary prefix and build a small
# program against it from outside the tree, four ways: pkg-config shared and
# static, find_package(Sluice) shared (Sluice::sluice) and static
# (Sluice::sluice_static). Every binary must run and print "ok".
#
# usage: test_install.sh BUILD_DIR SOURCE_DIR
# env:   CC (default cc), SL_SAN_FLAGS (sanitizer flags the library was built
#        with; the consumers need them too), KEEP=1 keeps the temporary dir.
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 BUILD_DIR SOURCE_DIR" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
cc=${CC:-cc}
san=${SL_SAN_FLAGS:-}
warn="-std=c11 -Wall -Wextra -Wpedantic -Werror"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-install.XXXXXX")
tmp=$(cd "$tmp" && pwd) # normalised, as CMake prints it
cleanup()
{
    if [ "${KEEP:-0}" = 1 ]; then
        echo "kept $tmp"
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
prefix=$tmp/prefix

fail()
{
    echo "FAIL: $*" >&2
    exit 1
}

# Run a step quietly; on failure show its output and stop.
step()
{
    local name=$1 log
    shift
    log=$tmp/$(echo "$name" | tr -c 'A-Za-z0-9_\n' '_').log
    echo "== $name"
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        fail "$name"
    fi
}

cache_value()
{
    sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt" | head -n 1
}

[ -f "$build/CMakeCache.txt" ] || fail "$build is not a CMake build tree"
libdir=$(cache_value CMAKE_INSTALL_LIBDIR)
libdir=${libdir:-lib}
case $libdir in
/*) fail "CMAKE_INSTALL_LIBDIR=$libdir is absolute; cannot relocate" ;;
esac
version=$(cache_value CMAKE_PROJECT_VERSION)

step "cmake --install" cmake --install "$build" --prefix "$prefix"

for f in include/sluice/sluice.h include/sluice/core.h \
    "$libdir/libsluice.so" "$libdir/libsluice.a" \
    "$libdir/pkgconfig/sluice.pc" \
    "$libdir/cmake/Sluice/SluiceConfig.cmake" \
    "$libdir/cmake/Sluice/SluiceConfigVersion.cmake" \
    "$libdir/cmake/Sluice/SluiceTargets.cmake"; do
    [ -e "$prefix/$f" ] || fail "not installed: $f"
done
for h in "$src"/include/sluice/*.h; do
    cmp -s "$h" "$prefix/include/sluice/$(basename "$h")" ||
        fail "header not installed or different: $(basename "$h")"
done
# Nothing internal may be installed next to the public headers.
extra=$(find "$prefix/include" -type f ! -path "*/include/sluice/*.h")
[ -z "$extra" ] || fail "unexpected files under include/: $extra"

main=$src/tests/install/consumer/main.c
out=$tmp/out
mkdir -p "$out"

run_ok()
{
    local bin=$1 got
    shift
    echo "== run $(basename "$bin")"
    if ! got=$(env "$@" "$bin" 2>"$tmp/run.err"); then
        cat "$tmp/run.err" >&2
        fail "$(basename "$bin") exited non-zero"
    fi
    [ "$got" = ok ] || {
        cat "$tmp/run.err" >&2
        fail "$(basename "$bin") printed '$got', expected 'ok'"
    }
}

needs_libsluice()
{
    readelf -d "$1" | grep -q 'NEEDED.*libsluice'
}

# ------------------------------------------------------------ pkg-config
export PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
pcver=$(pkg-config --modversion sluice) || fail "pkg-config cannot find sluice"
[ -z "$version" ] || [ "$pcver" = "$version" ] ||
    fail "sluice.pc says version $pcver, project is $version"
pcdir=$(pkg-config --variable=prefix sluice)
[ "$pcdir" = "$prefix" ] || fail "sluice.pc prefix is $pcdir, not $prefix"

# shellcheck disable=SC2046,SC2086
step "cc pkg-config shared" $cc $warn $san -o "$out/pc_shared" "$main" \
    $(pkg-config --cflags --libs sluice)
needs_libsluice "$out/pc_shared" || fail "pc_shared does not need libsluice.so"
run_ok "$out/pc_shared" LD_LIBRARY_PATH="$prefix/$libdir"

# Static: the .a first, then what Requires.private/Libs.private add.
static_libs=$(pkg-config --static --libs sluice)
static_libs=${static_libs/-lsluice/-Wl,-Bstatic -lsluice -Wl,-Bdynamic}
# shellcheck disable=SC2046,SC2086
step "cc pkg-config static" $cc $warn $san -o "$out/pc_static" "$main" \
    $(pkg-config --cflags sluice) $static_libs
needs_libsluice "$out/pc_static" && fail "pc_static still needs libsluice.so"
run_ok "$out/pc_static"

# The README's program and its non-standard-prefix recipe: built with the
# rpath it shows, it must run with no LD_LIBRARY_PATH and print 3.
readme_app=$tmp/readme_app.c
awk '/^## Using the installed library/ { sec = 1 }
     sec && /^```c$/ { inside = 1; next }
     inside && /^```$/ { exit }
     inside { print }' "$src/README.md" >"$readme_app"
grep -q 'int main' "$readme_app" || fail "no C program in README.md's usage"
# shellcheck disable=SC2046,SC2086
step "cc README recipe (rpath)" $cc $warn $san -o "$out/readme_app" \
    "$readme_app" $(pkg-config --cflags --libs sluice) \
    -Wl,-rpath,"$(pkg-config --variable=libdir sluice)"
needs_libsluice "$out/readme_app" || fail "readme_app does not need libsluice.so"
echo "== run readme_app (rpath, no LD_LIBRARY_PATH)"
got=$(env -u LD_LIBRARY_PATH "$out/readme_app" 2>"$tmp/run.err") || {
    cat "$tmp/run.err" >&2
    fail "README's program, built by its recipe, does not run"
}
[ "$got" = 3 ] || fail "README's program printed '$got', expected '3'"

# ---------------------------------------------------------- find_package
cbuild=$tmp/consumer-build
step "cmake configure consumer" cmake -S "$src/tests/install/consumer" \
    -B "$cbuild" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_C_FLAGS="$san" -DCMAKE_EXE_LINKER_FLAGS="$san" \
    -DCMAKE_BUILD_TYPE=Release
found=$(sed -n 's/^Sluice_DIR:[A-Z]*=//p' "$cbuild/CMakeCache.txt")
[ "$found" = "$prefix/$libdir/cmake/Sluice" ] ||
    fail "find_package(Sluice) found $found, not the test prefix"
step "cmake build consumer" cmake --build "$cbuild"
needs_libsluice "$cbuild/consumer_shared" ||
    fail "consumer_shared does not need libsluice.so"
needs_libsluice "$cbuild/consumer_static" &&
    fail "consumer_static still needs libsluice.so"
run_ok "$cbuild/consumer_shared" LD_LIBRARY_PATH="$prefix/$libdir"
run_ok "$cbuild/consumer_static"

echo "install test passed: pkg-config and find_package, shared and static;"
echo "README's rpath recipe"
