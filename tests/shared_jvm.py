"""One Spark JVM per test worker for the notebooks nbval runs, reused from lesson to lesson.

A lesson's kernel starts its session in this JVM (``SPARKCOURSE_SHARED_JVM``, see
sparkcourse.session.join_shared_jvm) instead of starting a JVM of its own. The JVM is started as
get_spark starts one, with the same settings, so the lesson runs the same code on the same Spark;
what it saves is the start-up and, above all, the warm-up: classes already loaded and code already
compiled. Each lesson still gets a new SparkContext, and nbval compares every output with the
stored ones, which `make outputs` made with a JVM per lesson, as a learner's kernel has.

After each lesson: it must have stopped its session (its last cell, ``spark.stop()``), and the
JVM's working folder, an empty folder of its own, must still be empty (a relative path written
by Spark lands there, where a learner's would land beside the notebook). A JVM that died is
replaced for the next lesson.

``SPARKCOURSE_TEST_FRESH_JVM=1`` turns this off: each lesson's kernel starts its own JVM.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from sparkcourse.session import SHARED_JVM, _flag

FRESH = "SPARKCOURSE_TEST_FRESH_JVM"


class SharedJvm:
    """A Spark JVM started with get_spark's settings, for notebook kernels to join one at a time."""

    def __init__(self):
        self.gateway = None
        self.folder: Path | None = None

    def address(self) -> str:
        """``port:secret`` of a live JVM, started first if there is none (or it died)."""
        if self.gateway is not None and not self.alive():
            self.close()
        if self.gateway is None:
            self.start()
        # pyspark connects with a ClientServer (java_parameters) or, unpinned, a JavaGateway
        params = getattr(self.gateway, "java_parameters", None) or self.gateway.gateway_parameters
        return f"{params.port}:{params.auth_token}"

    def start(self) -> None:
        from pyspark import SparkConf
        from pyspark.java_gateway import launch_gateway

        from sparkcourse.java import ensure_java_home
        from sparkcourse.session import build_conf

        conf = SparkConf(loadDefaults=False)
        for key, value in build_conf("sparkcourse-notebooks", java=ensure_java_home()).items():
            conf.set(key, value)
        self.folder = Path(tempfile.mkdtemp(prefix="sparkcourse-jvm-cwd-"))
        # Its log goes where a lesson kernel's does under nbval: nowhere.
        self.gateway = launch_gateway(conf, popen_kwargs={"cwd": self.folder, "stdout": subprocess.DEVNULL,
                                                          "stderr": subprocess.DEVNULL})

    def alive(self) -> bool:
        return self.gateway.proc.poll() is None

    def stop_session(self) -> str | None:
        """Stop the Spark session running in the JVM, if any, and return its app name."""
        # pyspark makes each session the JVM's default one, and clears it when the session stops.
        session = self.gateway.jvm.org.apache.spark.sql.classic.SparkSession.getDefaultSession()
        if not session.isDefined():
            return None
        app = session.get().sparkContext().appName()
        session.get().stop()
        return app

    def written(self) -> list[str]:
        """What Spark wrote into the JVM's working folder (relative paths), emptied again."""
        found = sorted(self.folder.iterdir())
        for path in found:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        return [path.name for path in found]

    def close(self) -> None:
        if self.gateway is None:
            return
        proc, self.gateway = self.gateway.proc, None
        try:
            proc.stdin.close()  # the JVM ends when its stdin does (pyspark's design)
            proc.wait(timeout=30)
        except Exception:
            proc.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


_jvm = SharedJvm()


def enabled() -> bool:
    return not _flag(os.environ, FRESH, default=False)


def _starts_lesson_kernel(item) -> bool:
    """True for the first cell of a notebook nbval runs: its setup starts the kernel."""
    from nbval.plugin import IPyNbFile

    return isinstance(item.parent, IPyNbFile) and getattr(item.parent, "kernel", None) is None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    if not (enabled() and _starts_lesson_kernel(item)):
        return (yield)
    os.environ[SHARED_JVM] = _jvm.address()  # the kernel inherits it; nothing else started here does
    try:
        return (yield)
    finally:
        os.environ.pop(SHARED_JVM, None)


def lesson_problems(jvm: SharedJvm) -> list[str]:
    """What a lesson left in ``jvm`` after its last cell, cleared for the next lesson."""
    problems = []
    app = jvm.stop_session()
    if app is not None:
        problems.append(f"its Spark session ({app}) is still running after the last cell: end with spark.stop()")
    written = jvm.written()
    if written:
        problems.append(f"Spark wrote to relative paths (the JVM's working folder): {written}")
    return problems


def after_lesson() -> list[str]:
    """:func:`lesson_problems` of this worker's shared JVM (none when the lesson did not use one)."""
    if not enabled() or _jvm.gateway is None or not _jvm.alive():
        return []
    return lesson_problems(_jvm)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """When a lesson's kernel is gone (its file torn down), its session must not outlive it: e.g. a
    lesson that failed before its spark.stop(). Its failure is already reported."""
    from nbval.plugin import IPyNbFile

    result = yield
    if isinstance(item.parent, IPyNbFile) and (nextitem is None or nextitem.parent is not item.parent):
        after_lesson()
    return result


def pytest_sessionfinish(session):
    _jvm.close()
