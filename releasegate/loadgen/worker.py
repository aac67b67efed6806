"""A load worker on another machine joins a run through Locust's own ``--master-host``:

    pip install releasegate            # the same version as the gate's
    python -m releasegate.loadgen.worker --master-host GATE_HOST [--master-port PORT]

The gate's master listens where ``[load] master_bind`` and ``master_port`` say and waits for
``[load] remote_workers`` such workers besides its local ones; the plan (scenario, rate, login
headers) reaches them from the master. The process becomes the Locust worker itself (same PID).
"""

from __future__ import annotations

import argparse
import os
import sys

from releasegate.loadgen.orchestrate import LOCUSTFILE


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m releasegate.loadgen.worker")
    parser.add_argument("--master-host", required=True)
    parser.add_argument("--master-port", type=int, default=5557)
    args = parser.parse_args(argv)
    argv_locust = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--worker",
                   "--master-host", args.master_host, "--master-port", str(args.master_port),
                   "--loglevel", "WARNING"]
    os.execv(sys.executable, argv_locust)  # noqa: S606 (becomes the worker: same PID)


if __name__ == "__main__":
    main()
