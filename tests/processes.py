"""Process checks shared by the tests of servers and clusters: what a service started, what still runs."""

from __future__ import annotations

import time

import psutil


def family(service) -> list[int]:
    """The pids of a started service's supervisor and everything under it."""
    supervisor = psutil.Process(service.process.pid)
    return [supervisor.pid] + [p.pid for p in supervisor.children(recursive=True)]


def commands(pids) -> list[list[str]]:
    """The command lines of the pids still running."""
    found = []
    for pid in pids:
        try:
            found.append(psutil.Process(pid).cmdline())
        except psutil.Error:
            pass
    return found


def alive(pids) -> list[int]:
    """The pids still running (zombies waiting to be reaped by init count as gone)."""
    left = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                left.append(pid)
        except psutil.NoSuchProcess:
            pass
    return left


def gone_within(pids, seconds: float) -> list[int]:
    """Wait up to ``seconds`` for ``pids`` to end; return those still running."""
    deadline = time.monotonic() + seconds
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return alive(pids)
