"""A gate run in a child process is stopped with SIGTERM and time to tear its stack down, never
killed outright (which leaves its containers and load workers behind)."""

from __future__ import annotations

import sys
import time

from releasegate.selfcheck.child import run_child

TRAPS_SIGTERM = ("import signal, sys, time\n"
                 "def stop(*_):\n"
                 "    print('tore the stack down', flush=True)\n"
                 "    sys.exit(3)\n"
                 "signal.signal(signal.SIGTERM, stop)\n"
                 "print('ready', flush=True)\n"
                 "time.sleep(60)\n")


def test_a_child_out_of_time_gets_to_clean_up() -> None:
    started = time.monotonic()
    code, output = run_child([sys.executable, "-c", TRAPS_SIGTERM], timeout_s=1.0)
    assert code == 1
    assert "tore the stack down" in output and "stopped after 1 s" in output
    assert time.monotonic() - started < 30


def test_a_finished_child_gives_its_code_and_output() -> None:
    code, output = run_child([sys.executable, "-c", "import sys; print('out');"
                              "print('err', file=sys.stderr); sys.exit(2)"])
    assert code == 2 and output == "out\nerr\n"
