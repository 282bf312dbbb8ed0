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


# Scheduling for `pytest -n N --dist loadfile`: each file (a test module, or one lesson's notebook
# for nbval) runs on one worker; the files that execute notebooks go first, longest lesson first
# (LESSON_SECONDS: single-run wall times from `make bench`), so that no worker is left alone with
# a long lesson at the end.
LESSON_SECONDS = {"10_mlflow": 120, "08_recommend_explicit": 110, "11_scaling_out": 100, "09_recommend_implicit": 90,
                  "12_spark_vs_sklearn": 60, "91_model_catalogue": 50, "90_feature_catalogue": 45, "07_pipelines": 40,
                  "03_classification": 35, "05_clustering": 35, "04_regression": 30, "02_transformers": 30,
                  "06_params": 25, "01_dataframes": 25, "00_setup": 15}


def _lesson_of(item) -> str | None:
    callspec = getattr(item, "callspec", None)
    if callspec is not None and isinstance(callspec.params.get("lesson"), str):
        return callspec.params["lesson"]
    path = Path(str(item.fspath))
    return path.parent.name if path.suffix == ".ipynb" else None


def pytest_collection_modifyitems(config, items):
    def weight(item):
        lesson = _lesson_of(item)
        executes = item.get_closest_marker("notebooks") is not None or str(item.fspath).endswith(".ipynb")
        return (0, -LESSON_SECONDS.get(lesson, 0)) if executes and lesson else (1 if executes else 2, 0)

    if config.getoption("nbval", default=False):
        from tests.grade_variants import add_variant_items

        items[:] = add_variant_items(items)  # each grade cell also tried with wrong answers
    items.sort(key=weight)  # stable: collection order within a weight
