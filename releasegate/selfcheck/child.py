"""A gate run in a child process that is stopped the way a user stops one.

``subprocess.run`` answers an interrupt or a timeout with SIGKILL, which leaves the child's
containers and load workers behind. Here the child gets SIGTERM first (the run tears its stack
down on it) and time to finish; SIGKILL only after that.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Sequence

GRACE_S = 120.0


def run_child(command: Sequence[str], timeout_s: float | None = None) -> tuple[int, str]:
    """The child's exit code and its output (stdout, then stderr); 1 when it ran out of time."""
    # A session of its own: a Ctrl-C at the terminal reaches only this process, which passes on
    # exactly one SIGTERM — a second signal during the child's teardown would cut it short.
    with subprocess.Popen(list(command), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, start_new_session=True) as child:
        try:
            out, err = child.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            out, err = _stop(child)
            return 1, out + err + f"\n[releasegate] stopped after {timeout_s:.0f} s\n"
        except BaseException:
            _stop(child)
            raise
        return child.returncode, out + err


def _stop(child: subprocess.Popen[str]) -> tuple[str, str]:
    child.send_signal(signal.SIGTERM)
    try:
        return child.communicate(timeout=GRACE_S)
    except subprocess.TimeoutExpired:
        child.kill()
        return child.communicate()
