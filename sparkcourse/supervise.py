"""Run one server command and stop its whole process group when told to, or when orphaned.

``python -m sparkcourse.supervise COMMAND ...`` is how :mod:`sparkcourse.services` starts a
server: the command runs in its own process group (a model server's JVM included); SIGTERM,
SIGINT or SIGHUP to this supervisor (also sent by Linux when the notebook kernel dies) stops
that group, first politely, then by force. The supervisor exits with the command's exit code.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time


def _stop_group(child: subprocess.Popen, grace: float = 10) -> None:
    try:
        import psutil

        family = psutil.Process(child.pid).children(recursive=True)
    except Exception:  # already gone, or psutil missing
        family = []
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5)):
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.1)
        if child.poll() is not None:
            break
    for process in family:  # anything that left the group
        try:
            process.kill()
        except Exception:
            pass
    try:
        os.killpg(child.pid, signal.SIGKILL)  # stragglers still in the group
    except (ProcessLookupError, PermissionError):
        pass


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m sparkcourse.supervise COMMAND [ARG ...]", file=sys.stderr)
        return 2
    parent = int(os.environ.pop("SPARKCOURSE_SUPERVISOR_PARENT", os.getppid()))
    child = subprocess.Popen(argv, start_new_session=True)
    requested: list[int] = []

    # The handler only notes the signal: reaping the child inside it would race with wait().
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda signum, _frame: requested.append(signum))
    if os.getppid() != parent:  # the parent died before the death signal was armed
        requested.append(signal.SIGTERM)
    while child.poll() is None and not requested:
        time.sleep(0.1)
    _stop_group(child)  # asked to stop, or the command ended: leave none of its helpers behind
    return 128 + requested[0] if requested else child.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
