"""The order in which `make test` hands files to its workers.

`pytest -n N --dist loadfile --no-loadscope-reorder`: each file (a test module, or one lesson's
notebook for nbval) runs on one worker, and files are handed out longest first, so that no worker
is left alone with a long file at the end. (Without --no-loadscope-reorder, pytest-xdist hands out
the files with the most tests first, whatever the collection order says.)
"""

from __future__ import annotations

from pathlib import Path

from tools import ROOT

#: A file's seconds in a 2-worker `make test` (`make bench` prints them from its own run, beside
#: these, to keep this table true); files not listed take less than 10 s and go last.
FILE_SECONDS = {
    "tests/test_grading_integrity.py": 299, "solutions/08_recommend_explicit/08_recommend_explicit.ipynb": 235,
    "solutions/07_pipelines/07_pipelines.ipynb": 229, "solutions/10_mlflow/10_mlflow.ipynb": 196,
    "solutions/91_model_catalogue/91_model_catalogue.ipynb": 149, "tests/test_learner_edition.py": 122,
    "tests/test_cluster.py": 121, "tests/test_grading_cohort.py": 117,
    "solutions/11_scaling_out/11_scaling_out.ipynb": 115,
    "solutions/03_classification/03_classification.ipynb": 115,
    "solutions/09_recommend_implicit/09_recommend_implicit.ipynb": 114,
    "solutions/05_clustering/05_clustering.ipynb": 111, "solutions/06_params/06_params.ipynb": 88,
    "solutions/04_regression/04_regression.ipynb": 75,
    "solutions/12_spark_vs_sklearn/12_spark_vs_sklearn.ipynb": 74,
    "solutions/01_dataframes/01_dataframes.ipynb": 71,
    "solutions/90_feature_catalogue/90_feature_catalogue.ipynb": 70, "tests/test_services.py": 69,
    "tests/test_browser.py": 69, "solutions/02_transformers/02_transformers.ipynb": 63,
    "tests/test_mlflow_projects.py": 44, "solutions/00_setup/00_setup.ipynb": 31, "tests/test_timeouts.py": 29,
    "tests/test_compare.py": 29, "tests/test_grading.py": 25, "tests/test_recommend.py": 22,
    "tests/test_checks.py": 12, "tests/test_links.py": 11, "tests/test_grading_tools.py": 11,
}


def file_of(item) -> str:
    """The item's file relative to the repository, as FILE_SECONDS names it."""
    return Path(str(item.fspath)).resolve().relative_to(ROOT).as_posix()


def longest_files_first(items: list) -> None:
    """Sort in place: by FILE_SECONDS, longest first; stable, so a file's items keep their order."""
    items.sort(key=lambda item: -FILE_SECONDS.get(file_of(item), 0))
