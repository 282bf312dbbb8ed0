"""The order in which `make test` hands files to its workers.

`pytest -n N --dist loadfile --no-loadscope-reorder`: each file (a test module, or one lesson's
notebook for nbval) runs on one worker, and files are handed out longest first, so that no worker
is left alone with a long file at the end. (Without --no-loadscope-reorder, pytest-xdist hands out
the files with the most tests first, whatever the collection order says.)

One exception (:class:`SparkFilesTogether`): the test files that use the `spark` fixture form one
unit, run by one worker with one Spark session, instead of every worker starting a JVM for them.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

from xdist.scheduler import LoadFileScheduling

from tools import ROOT

#: A file's seconds in a 2-worker `make test` (`make bench` prints them from its own run, beside
#: these, to keep this table true); files not listed take less than 10 s and go last.
FILE_SECONDS = {
    "solutions/08_recommend_explicit/08_recommend_explicit.ipynb": 129,
    "tests/test_grading_integrity.py": 121, "solutions/07_pipelines/07_pipelines.ipynb": 93,
    "solutions/91_model_catalogue/91_model_catalogue.ipynb": 91, "tests/test_learner_edition.py": 75,
    "solutions/10_mlflow/10_mlflow.ipynb": 74, "solutions/11_scaling_out/11_scaling_out.ipynb": 68,
    "tests/test_grading_cohort.py": 63, "tests/test_cluster.py": 56,
    "solutions/09_recommend_implicit/09_recommend_implicit.ipynb": 50,
    "solutions/05_clustering/05_clustering.ipynb": 45,
    "solutions/03_classification/03_classification.ipynb": 42, "tests/test_browser.py": 37,
    "solutions/06_params/06_params.ipynb": 30, "tests/test_services.py": 29,
    "solutions/04_regression/04_regression.ipynb": 26, "solutions/01_dataframes/01_dataframes.ipynb": 25,
    "tests/test_mlflow_projects.py": 23, "solutions/90_feature_catalogue/90_feature_catalogue.ipynb": 22,
    "solutions/12_spark_vs_sklearn/12_spark_vs_sklearn.ipynb": 21, "tests/test_timeouts.py": 18,
    "solutions/02_transformers/02_transformers.ipynb": 17, "tests/test_compare.py": 16,
    "tests/test_checks.py": 12, "tests/test_grading.py": 12,
}


#: The unit of work that holds every test file using the `spark` fixture (conftest.py).
SPARK_UNIT = "tests that use the spark fixture"
#: The worker that runs that unit; in `make test-fast` it starts its Spark session while it collects.
SPARK_WORKER = "gw0"


@lru_cache(maxsize=1)
def spark_test_files() -> frozenset[str]:
    """The test files with a test or fixture that takes the `spark` fixture (a parameter so named)."""
    found = set()
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        functions = [node for node in ast.walk(ast.parse(path.read_text()))
                     if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
        if any(arg.arg == "spark" for f in functions for arg in f.args.args + f.args.kwonlyargs):
            found.add(path.relative_to(ROOT).as_posix())
    return frozenset(found)


def file_of(item) -> str:
    """The item's file relative to the repository, as FILE_SECONDS names it."""
    return Path(str(item.fspath)).resolve().relative_to(ROOT).as_posix()


def seconds_of(file: str) -> float:
    """How long the file's unit of work takes: the Spark files' together count as one unit."""
    if file in spark_test_files():
        return sum(FILE_SECONDS.get(f, 0) for f in spark_test_files())
    return FILE_SECONDS.get(file, 0)


def longest_files_first(items: list) -> None:
    """Sort in place: longest unit first (FILE_SECONDS); stable, so a file's items keep their order."""
    items.sort(key=lambda item: -seconds_of(file_of(item)))


class SparkFilesTogether(LoadFileScheduling):
    """`--dist loadfile`, except that the files using the `spark` fixture are one unit of work, run
    by SPARK_WORKER while it is up (another worker takes it only when nothing else is left)."""

    def _split_scope(self, nodeid: str) -> str:
        file = nodeid.split("::", 1)[0]
        return SPARK_UNIT if file in spark_test_files() else super()._split_scope(nodeid)

    def _assign_work_unit(self, node) -> None:
        takes_spark = node.gateway.id == SPARK_WORKER or all(n.gateway.id != SPARK_WORKER for n in self.nodes)
        unit = next((u for u in self.workqueue if takes_spark or u != SPARK_UNIT), next(iter(self.workqueue)))
        self.workqueue.move_to_end(unit, last=False)  # the base class hands out the first unit
        super()._assign_work_unit(node)
