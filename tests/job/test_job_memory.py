#!/usr/bin/env python3
"""Peak memory of `streamctl validate` on a job file of millions of small
numbers: within the 16 MiB size limit but over the limit of 1 000 000 JSON
values, it must be refused before cJSON builds a node per number (about
80 bytes each: over 600 MB for these 8 million numbers). The peak RSS of
the process (VmHWM) stays near the size of the text. Label slow (RSS)."""

import os
import resource
import sys
import tempfile

from joblib import Failure, run_streamctl

LIMIT_KB = 160 * 1024  # the text, its copy and the binary, with room


def main():
    streamctl = sys.argv[1]
    numbers = "1," * (8 << 20)  # 16 MiB
    head = ('{"name": "nums", "batch_interval": "1s", "sources": {"q": '
            '{"type": "queue", "batches": [[')
    tail = ']]}}, "sinks": [{"type": "console", "from": "q"}]}'
    text = head + numbers[:(16 << 20) - len(head) - len(tail) - 1] + tail
    with tempfile.TemporaryDirectory(prefix="sl_mem_") as tmp:
        path = os.path.join(tmp, "nums.json")
        with open(path, "w") as f:
            f.write(text)
        del text, numbers  # a forked child starts with the parent's pages
        try:
            rc, out, err = run_streamctl(streamctl, ["validate", path], tmp,
                                         120)
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            if rc != 3:
                raise Failure("status %d, want 3; stderr %r"
                              % (rc, err[-500:]))
            want = "%s: $: more than 1000000 JSON values (the limit of a " \
                   "job file), at line 1, column " % path
            if not err.startswith(want):
                raise Failure("stderr %r, want %r..." % (err[-500:], want))
            if peak > LIMIT_KB:
                raise Failure("peak RSS %d KiB, over %d KiB"
                              % (peak, LIMIT_KB))
        except Failure as e:
            print("FAIL %s" % e)
            return 1
    print("ok   numbers_over_count_limit (peak RSS %d KiB)" % peak)
    return 0


if __name__ == "__main__":
    sys.exit(main())
