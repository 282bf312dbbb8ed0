"""Shared test set-up: the same notebook environment as `make outputs`, one Spark session."""

from __future__ import annotations

import os
import sys
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from tools.notebooks import test_environment  # noqa: E402

# nbval_report: a cell failing on unexpected output shows it; shared_jvm: lessons reuse one warm JVM
pytest_plugins = ["tests.nbval_report", "tests.shared_jvm"]

# The grading tests' fixture assignment is graded by those tests, not checked by nbval.
collect_ignore_glob = ["tests/fixtures/*"]
SPARK_APP = "sparkcourse-tests"

# Set before any kernel or JVM starts: nbval's kernels inherit this environment.
os.environ.update(test_environment())
# Notebooks and tests write into a private work folder, never the learner's workdir/. Each
# pytest-xdist worker gets its own (workers inherit the controller's environment): two workers
# running the same lesson at once must not save models into the same folder.
if "PYTEST_XDIST_WORKER" in os.environ or "SPARKCOURSE_WORKDIR" not in os.environ:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    os.environ["SPARKCOURSE_WORKDIR"] = tempfile.mkdtemp(prefix=f"sparkcourse-workdir-{worker}-")


#: The tests' Spark session in a run that executes no notebook (make test-fast): its JVM boots in
#: the background while pytest collects, and the first test waits for it (a test may change the
#: environment the session is built from).
_early_spark: Future | None = None


def pytest_configure(config):
    from tests.schedule import SPARK_WORKER

    global _early_spark
    runs_tests_here = hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None)
    # With workers, the one that runs the tests using Spark (tests/schedule.py) starts the session.
    runs_spark_tests = os.environ.get("PYTEST_XDIST_WORKER", SPARK_WORKER) == SPARK_WORKER
    if runs_tests_here and runs_spark_tests and "not notebooks" in (config.option.markexpr or ""):
        from sparkcourse import get_spark

        _early_spark = ThreadPoolExecutor(1).submit(get_spark, SPARK_APP)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if _early_spark:
        wait([_early_spark])  # its error, if any, is raised by the spark fixture


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for all helper tests of a test process."""
    from sparkcourse import get_spark

    session = _early_spark.result() if _early_spark else get_spark(SPARK_APP)
    yield session
    session.stop()


def pytest_sessionfinish(session):
    if _early_spark and _early_spark.done() and not _early_spark.exception():
        _early_spark.result().stop()  # no test of this worker used it (stopping twice is harmless)


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


_START = os.getcwd()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """A test that leaves the working directory elsewhere fails by name, instead of breaking every
    later test of its worker that opens a relative path (nbval's sanitize file, for one)."""
    yield
    if os.getcwd() != _START:
        moved_to = os.getcwd()
        os.chdir(_START)
        raise RuntimeError(f"{item.nodeid} left the working directory at {moved_to} (was {_START})")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """`--dist loadfile` with the tests that use Spark kept together (tests/schedule.py)."""
    if config.getvalue("dist") == "loadfile":
        from tests.schedule import SparkFilesTogether

        return SparkFilesTogether(config, log)
    return None


def pytest_collection_modifyitems(config, items):
    from tests.schedule import longest_files_first

    if config.getoption("nbval", default=False):
        from tests.grade_variants import add_variant_items

        items[:] = add_variant_items(items)  # each grade cell also tried with wrong answers
    longest_files_first(items)
