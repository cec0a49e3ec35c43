#!/usr/bin/env bash
# The long crash test: a checkpointed job killed with SIGKILL at random
# instants (300 by default) and restarted until its last batch; its output
# must equal one uninterrupted run's (tests/checkpoint/test_crash_recovery.py).
# usage: tools/crash-loop.sh [--kills N] [--seed S] [--streamctl PATH]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
streamctl="$root/build/tools/streamctl"
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --kills|--seed) args+=("$1" "$2"); shift 2 ;;
    --streamctl) streamctl=$2; shift 2 ;;
    *) echo "usage: $0 [--kills N] [--seed S] [--streamctl PATH]" >&2; exit 2 ;;
  esac
done
[ ${#args[@]} -gt 0 ] || args=(--kills 300)
exec python3 "$root/tests/checkpoint/test_crash_recovery.py" "$streamctl" "${args[@]}"
