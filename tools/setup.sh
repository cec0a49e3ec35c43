#!/usr/bin/env bash
# Install what building and testing sluice needs on Debian 12 (bookworm).
# Idempotent: when every package is already installed it changes nothing and
# does not touch the network. Needs root only when something is missing.
set -euo pipefail

packages=(
    build-essential cmake pkg-config    # toolchain
    libevent-dev                        # I/O loop, web UI (libevent_extra)
    librdkafka-dev libcjson-dev         # Kafka connector, JSON
    liblz4-dev libsasl2-dev             # librdkafka's own, for static links
    libzstd-dev zlib1g-dev              # checkpoints, compressed input
    libpcre2-dev                        # SQL regular expressions (docs/sql.md)
    libcunit1-dev                       # unit tests
    ncat kcat mawk python3              # integration tests (python3 drives them)
    python3-kafka                       # an independent Kafka client in tests
    prometheus                          # promtool checks /metrics in tests
    chromium chromium-driver python3-selenium # the web UI's browser test
    util-linux                          # setpriv: the other-user socket test
    clang clang-format libclang-rt-14-dev # fuzzing, sanitizers, formatting
)

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    if [ "$status" != "install ok installed" ]; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "setup: all ${#packages[@]} packages are installed"
    exit 0
fi

echo "setup: missing packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "setup: not root; install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null; then
    echo "setup: apt-get not found; sluice's setup expects Debian 12" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt_opts=(-q -y -o Dpkg::Use-Pty=0)
# One retry: a mirror hiccup should not fail a CI run.
apt-get "${apt_opts[@]}" update || { sleep 5; apt-get "${apt_opts[@]}" update; }
apt-get "${apt_opts[@]}" install --no-install-recommends "${missing[@]}" || {
    sleep 5
    apt-get "${apt_opts[@]}" install --no-install-recommends "${missing[@]}"
}
echo "setup: installed ${missing[*]}"
