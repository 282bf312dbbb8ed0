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

# Set before any kernel or JVM starts: nbval's kernels inherit this environment.
os.environ.update(test_environment())
# Notebooks and tests write into a private work folder, never the learner's workdir/.
os.environ.setdefault("SPARKCOURSE_WORKDIR", tempfile.mkdtemp(prefix="sparkcourse-workdir-"))


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


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under `pytest -n --dist loadgroup`, a notebook's nbval cells stay together, in order, on one
    worker (they share its kernel); every other test is spread over the workers one by one."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.xdist_group(item.path.stem))
