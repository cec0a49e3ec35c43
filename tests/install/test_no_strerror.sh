#!/usr/bin/env bash
# libsluice reports errors from its job, I/O and worker threads, where
# strerror() is not thread-safe (POSIX lets it share one buffer): the
# library must use sl__strerror (over strerror_r) and never import strerror.
#
# usage: test_no_strerror.sh PATH/TO/libsluice.so
set -euo pipefail

if [ $# -ne 1 ] || [ ! -f "$1" ]; then
    echo "usage: $0 LIBRARY" >&2
    exit 2
fi
if ! undef=$(nm -D --undefined-only "$1"); then
    echo "FAIL: nm -D failed on $1" >&2
    exit 1
fi
# "U strerror" or "U strerror@GLIBC_2.2.5"; strerror_r and gai_strerror
# are other names.
if grep -Eq '[[:space:]]strerror(@|$)' <<<"$undef"; then
    echo "FAIL: $1 imports strerror; use sl__strerror / SL__STRERROR" >&2
    exit 1
fi
echo "ok: $1 does not import strerror"
