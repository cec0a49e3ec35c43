"""What the streamctl tests share: running streamctl as a child process
with a time limit, and the exception a failed check raises."""

import signal
import subprocess
import sys
import tempfile


class Failure(Exception):
    pass


def run_streamctl(streamctl, args, cwd, timeout):
    """(status, stdout, stderr) of streamctl with args; fails on a timeout
    (after killing it) and on death by a signal."""
    proc = subprocess.Popen([streamctl] + args, cwd=cwd,
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise Failure("%s: no exit within %d s (killed); stdout %r stderr %r"
                      % (args, timeout, out[-500:], err[-500:]))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode < 0:
        raise Failure("%s: killed by signal %s; stderr %r"
                      % (args, signal.Signals(-proc.returncode).name,
                         err[-2000:]))
    return (proc.returncode, out.decode("utf-8", "replace"),
            err.decode("utf-8", "replace"))


def run_cases(cases, errors=(Failure,)):
    """Run each (name, case) with a fresh temporary directory, print
    "ok: NAME" or "FAIL: NAME: ...", and return the exit status (1 when any
    case raised one of errors)."""
    failed = 0
    for name, case in cases:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                case(tmp)
                print("ok: %s" % name)
            except errors as e:
                failed += 1
                print("FAIL: %s: %s: %s" % (name, type(e).__name__, e))
    return 1 if failed else 0


def run_module_cases(module_globals):
    """A test script's main: STREAMCTL (the module's global) from argv[1],
    then every case_NAME function of the module by run_cases."""
    module_globals["STREAMCTL"] = sys.argv[1]
    cases = [(n[5:], f) for n, f in list(module_globals.items())
             if n.startswith("case_")]
    return run_cases(cases)
