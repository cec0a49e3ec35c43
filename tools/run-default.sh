#!/usr/bin/env bash
# Set up (tools/setup.sh), build, and run the default example: a word count
# over the built-in text generator that prints the counts of every batch
# until Ctrl-C. Extra arguments go to the example.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)" --target wordcount_generator
bin=build/examples/streaming/wordcount_generator
if [ ! -x "$bin" ]; then
    echo "run-default: $bin was not built" >&2
    exit 1
fi
exec "$bin" "$@"
