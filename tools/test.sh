#!/usr/bin/env bash
# The whole suite, as CI runs it (.ci/run): set up, build and test in build/
# (RelWithDebInfo), check formatting, then build and test again under
# AddressSanitizer + UndefinedBehaviorSanitizer in build-asan/ (tests
# labelled bench or slow left out there), the threaded engine tests
# under ThreadSanitizer in build-tsan/ (bench and slow left out too: slow
# tests run once, in the plain build), and the quick libFuzzer targets
# built with clang and run for seconds each. Every step runs even after an
# earlier one failed; the last line totals every ctest run as
# "N passed, N failed", and the exit status is 1 if any step failed.
#
# env: SL_JOBS (build parallelism, default nproc), SL_CTEST_JOBS (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=${SL_JOBS:-$(nproc)}
ctest_jobs=${SL_CTEST_JOBS:-2}
logdir=$(mktemp -d "${TMPDIR:-/tmp}/sluice-test.XXXXXX")
trap 'rm -rf "$logdir"' EXIT

passed=0
failed=0
failed_steps=()

banner()
{
    printf '\n==== %s\n' "$*"
}

# step NAME CMD...: run a step, remember it if it fails, never stop.
step()
{
    local name=$1 rc=0
    shift
    banner "$name"
    "$@" || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "==== $name: FAILED (exit $rc)"
        failed_steps+=("$name")
    fi
    return "$rc"
}

# run_ctest NAME BUILD_DIR [CTEST ARGS...]: run ctest, add its counts.
run_ctest()
{
    local name=$1 dir=$2 log rc=0 line total nfail
    shift 2
    log=$logdir/$name.log
    banner "$name"
    ctest --test-dir "$dir" --output-on-failure -j"$ctest_jobs" "$@" 2>&1 |
        tee "$log" || rc=$?
    # "100% tests passed, 0 tests failed out of 25"
    line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" |
        tail -n 1 || true)
    if [ -n "$line" ]; then
        nfail=$(sed -E 's/.* ([0-9]+) tests? failed out of.*/\1/' <<<"$line")
        total=$(sed -E 's/.*failed out of ([0-9]+).*/\1/' <<<"$line")
        passed=$((passed + total - nfail))
        failed=$((failed + nfail))
    elif grep -q 'No tests were found' "$log"; then
        echo "==== $name: ctest found no tests"
        rc=1
    else
        echo "==== $name: no ctest summary line"
        [ "$rc" -ne 0 ] || rc=1
    fi
    if [ "$rc" -ne 0 ]; then
        echo "==== $name: FAILED (exit $rc)"
        failed_steps+=("$name")
    fi
}

# build NAME DIR CMAKE ARGS...: configure and build; 0 when usable.
build()
{
    local name=$1 dir=$2
    shift 2
    step "$name: configure" cmake -S . -B "$dir" "$@" &&
        step "$name: build" cmake --build "$dir" -j"$jobs"
}

if ! step "setup" bash tools/setup.sh; then
    echo "setup failed; cannot build"
    echo "0 passed, 0 failed"
    exit 1
fi

if build "build" build -DCMAKE_BUILD_TYPE=RelWithDebInfo; then
    run_ctest "ctest build" build
else
    echo "==== build/ did not build: its tests were not run"
fi

step "format" bash tools/check-format.sh || true

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if build "build-asan" build-asan -DCMAKE_BUILD_TYPE=Debug -DSL_ASAN=ON \
    -DSL_UBSAN=ON; then
    run_ctest "ctest build-asan" build-asan -LE 'bench|slow'
else
    echo "==== build-asan/ did not build: its tests were not run"
fi

# The tests that exercise the worker pool, the job thread and the I/O
# thread together.
threaded='^(test_rdd|test_stream_.*|test_state_store|test_job|test_oracle_basic|test_wordcount_.*)$'
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
if build "build-tsan" build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSL_TSAN=ON; then
    run_ctest "ctest build-tsan" build-tsan -R "$threaded" -LE 'bench|slow'
else
    echo "==== build-tsan/ did not build: its tests were not run"
fi

# The libFuzzer targets that compile only their parsers' files: built with
# clang (so a missing file in their lists breaks CI, not a later fuzzing
# session) and run for a few seconds each from their seed corpus.
fuzz_quick()
{
    local t dir=build-fuzz
    CC=clang cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug >/dev/null &&
        cmake --build "$dir" -j"$jobs" --target fuzz_csv fuzz_jsonl \
            fuzz_codec fuzz_sql || return 1
    for t in csv jsonl codec sql; do
        mkdir -p "$dir/corpus-$t"
        "$dir/tests/fuzz/fuzz_$t" -max_total_time=8 -print_final_stats=0 \
            "$dir/corpus-$t" "tests/fuzz/corpus/$t" 2>"$dir/fuzz-$t.log" || {
            tail -n 40 "$dir/fuzz-$t.log"
            return 1
        }
        echo "fuzz_$t: 8 s from the seed corpus, no crash"
    done
}
if command -v clang >/dev/null; then
    step "fuzz (clang, 8 s per target)" fuzz_quick || true
fi

banner "summary"
if [ ${#failed_steps[@]} -eq 0 ]; then
    echo "all steps passed"
    status=0
else
    printf 'failed step: %s\n' "${failed_steps[@]}"
    status=1
fi
echo "$passed passed, $failed failed"
exit "$status"
