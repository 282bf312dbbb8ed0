"""Shared test set-up: the same notebook environment as `make outputs`, one Spark session."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from tools.notebooks import test_environment  # noqa: E402

# The grading tests' fixture assignment is graded by those tests, not checked by nbval.
collect_ignore_glob = ["tests/fixtures/*"]

# Set before any kernel or JVM starts: nbval's kernels inherit this environment.
os.environ.update(test_environment())
# Notebooks and tests write into a private work folder, never the learner's workdir/. Each
# pytest-xdist worker gets its own (workers inherit the controller's environment): two workers
# running the same lesson at once must not save models into the same folder.
if "PYTEST_XDIST_WORKER" in os.environ or "SPARKCOURSE_WORKDIR" not in os.environ:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    os.environ["SPARKCOURSE_WORKDIR"] = tempfile.mkdtemp(prefix=f"sparkcourse-workdir-{worker}-")


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for all helper tests of a test process."""
    from sparkcourse import get_spark

    session = get_spark("sparkcourse-tests")
    yield session
    session.stop()


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


def pytest_collection_modifyitems(config, items):
    from tests.schedule import longest_files_first

    if config.getoption("nbval", default=False):
        from tests.grade_variants import add_variant_items

        items[:] = add_variant_items(items)  # each grade cell also tried with wrong answers
    longest_files_first(items)
