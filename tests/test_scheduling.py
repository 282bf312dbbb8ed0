"""`make test` hands the longest files to its workers first (tests/schedule.py), and pytest-xdist
keeps that order."""

from __future__ import annotations

import re
from types import SimpleNamespace

import conftest
from tests import schedule
from tools import ROOT


def test_every_pytest_n_command_keeps_the_files_order():
    """pytest-xdist's loadfile reorders files by their number of tests unless told not to."""
    commands = [line for makefile in ("Makefile", "tools/learner/Makefile")
                for line in (ROOT / makefile).read_text().splitlines() if "-m pytest -n" in line]
    assert len(commands) == 3
    for command in commands:
        assert re.search(r"--dist loadfile --no-loadscope-reorder\b", command), command


def test_every_timed_file_exists():
    missing = [name for name in schedule.FILE_SECONDS if not (ROOT / name).is_file()]
    assert missing == []


def test_items_go_longest_file_first_and_keep_their_order_within_a_file():
    def item(path: str, name: str):
        return SimpleNamespace(fspath=ROOT / path, name=name)

    items = [item("tests/test_checks.py", "a"), item("tests/test_conventions.py", "b"),
             item("solutions/10_mlflow/10_mlflow.ipynb", "Cell 0"), item("tests/test_checks.py", "c"),
             item("tests/test_grading_integrity.py", "d"), item("solutions/10_mlflow/10_mlflow.ipynb", "Cell 1")]
    config = SimpleNamespace(getoption=lambda name, default=None: False)
    conftest.pytest_collection_modifyitems(config, items)
    assert [i.name for i in items] == ["d", "Cell 0", "Cell 1", "a", "c", "b"]
    seconds = [schedule.FILE_SECONDS.get(schedule.file_of(i), 0) for i in items]
    assert seconds == sorted(seconds, reverse=True)
