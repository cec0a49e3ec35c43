"""What the streamctl tests share: running streamctl as a child process
with a time limit, and the exception a failed check raises."""

import signal
import subprocess


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
