"""Run the stackctl CLI through the fault seam: ``crash_launcher.py KILL_AT STEPS ARGS…``.

Each write step's name is appended to the file STEPS (if given); at the
KILL_AT-th step (0: never) the process SIGKILLs itself, as a power cut would
stop it. Production code has no such switch: ``stores.files.fault_hook`` is
set here, in the test's own launcher, and is None otherwise.
"""

from __future__ import annotations

import os
import signal
import sys

from stackctl.cli.main import run
from stackctl.stores import files


def _install(kill_at: int, steps_log: str) -> None:
    seen = [0]

    def hook(step: str) -> None:
        seen[0] += 1
        if steps_log:
            with open(steps_log, "a") as handle:
                handle.write(step + "\n")
        if seen[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    files.fault_hook = hook


if __name__ == "__main__":
    _install(int(sys.argv[1]), sys.argv[2])
    sys.argv[1:3] = []
    run()
