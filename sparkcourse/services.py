"""Servers a lesson starts as child processes (MLflow's in sparkcourse.tracking, Spark's in sparkcourse.cluster).

Each :class:`Service` listens on 127.0.0.1 only, on a free port unless told otherwise, writes its
log under the work folder, is ready-checked (HTTP, or TCP for a gRPC server) with a timeout, and is always stopped:
``stop()``, the end of a ``with`` block, the end of the Python process, or (on Linux) even the
sudden death of the notebook kernel. The server runs under a small supervisor that stops the
server's whole process group, JVM included, when told to stop or when its parent dies::

    with tracking.model_server("models:/penguin-sex@champion", tracking_uri) as server:
        requests.post(server.url + "/invocations", json=payload)
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Sequence

from sparkcourse.paths import workdir

HOST = "127.0.0.1"
_RUNNING: set["Service"] = set()


class ServiceError(RuntimeError):
    """A server could not start, or did not become ready; the message says why and what to do."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((HOST, port)) == 0


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(text[-lines:]) or "(empty log)"


class Service:
    """One server process: started, ready-checked, logged and stopped for sure."""

    def __init__(self, name: str, command: Sequence[str], port: int | None = None,
                 ready_path: str | None = "/", env: dict | None = None, timeout: float = 120,
                 cwd: str | os.PathLike | None = None):
        if port is None:
            port = free_port()
        elif port_in_use(port):
            raise ServiceError(
                f"Port {port} on {HOST} is already in use, so the {name} cannot listen there. "
                "Stop the program using it, or pass port=None to pick a free port.")
        self.name, self.port, self.ready_path, self.timeout = name, port, ready_path, timeout
        self.command = [str(part).replace("{port}", str(port)) for part in command]
        self.env, self.cwd = env, cwd
        self.log_path = workdir("services") / f"{name.replace(' ', '-')}-{port}.log"
        self.process: subprocess.Popen | None = None
        self.ready_seconds: float | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, wait: bool = True) -> "Service":
        """Start the server and wait until it answers ``ready_path`` with HTTP 200 (or, when
        ``ready_path`` is None, until its port accepts TCP connections: a gRPC server).

        ``wait=False`` returns at once (do other work while it starts); call :meth:`wait_ready` later.
        """
        if self.running:
            return self
        started = time.monotonic()
        env = dict(os.environ if self.env is None else self.env, SPARKCOURSE_SUPERVISOR_PARENT=str(os.getpid()))
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "sparkcourse.supervise", *self.command],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=env, cwd=self.cwd, start_new_session=True, preexec_fn=_die_with_parent,
            )
        _RUNNING.add(self)
        self._started = started
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self) -> "Service":
        """Block until the server answers (or fail with its log's last lines, and stop it)."""
        if self.ready_seconds is not None and self.running:
            return self
        if self.process is None:
            raise ServiceError(f"The {self.name} was never started: call start() first.")
        try:
            self._poll_ready()
        except BaseException:
            self.stop()
            raise
        self.ready_seconds = time.monotonic() - self._started
        return self

    def _poll_ready(self) -> None:
        deadline = self._started + self.timeout
        while True:
            code = self.process.poll()
            if code is not None:
                raise ServiceError(f"The {self.name} stopped (exit code {code}) before it was ready. "
                                   f"Last lines of its log {self.log_path.name}:\n{log_tail(self.log_path)}")
            if self._answers():
                return
            if time.monotonic() > deadline:
                where = f"{self.url}{self.ready_path}" if self.ready_path is not None else f"{HOST}:{self.port}"
                raise ServiceError(f"The {self.name} was not ready after {self.timeout:.0f} s (no answer on "
                                   f"{where}). Last lines of its log "
                                   f"{self.log_path.name}:\n{log_tail(self.log_path)}")
            time.sleep(0.25)

    def _answers(self) -> bool:
        if self.ready_path is None:
            return port_in_use(self.port)
        try:
            with urllib.request.urlopen(self.url + self.ready_path, timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return False

    def stop(self, grace: float = 10) -> None:
        """Stop the server and everything it started (the supervisor stops its process group)."""
        _RUNNING.discard(self)
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=grace + 5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> "Service":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<{self.name} at {self.url} ({state})>"


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, get SIGTERM when the parent (the kernel) dies."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except OSError:
            pass


@atexit.register
def stop_all() -> None:
    """Stop every server this process started and has not stopped yet."""
    for service in list(_RUNNING):
        service.stop()


def child_environment(**extra: str) -> dict:
    """This environment, with the project's programs first on PATH (mlflow runs uvicorn from it)."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.update(extra)
    return env
