"""Cohort grading helpers without executing a notebook: JOBS' default, shards, copying a graded
submission between gradebooks, and the item analysis on a synthetic cohort built with nbgrader's
Gradebook API."""

from __future__ import annotations

import random
from datetime import datetime

import pytest

from tools.grading import (copy_submission, default_jobs, fast_new_gradebooks, parse_shard, progress_line, shard_of,
                           Outcome)
from tools.items import analyse, gradebook_cohort, markdown, most_failed, write_item_report

@pytest.fixture(autouse=True)
def _alembic_on_path(monkeypatch):
    """A new gradebook runs the environment's `alembic` command (make puts it on PATH)."""
    import os
    import sys
    from pathlib import Path

    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


CELLS = {"ex01_1_load_test": 2.0, "ex01_2_clean_test": 3.0, "ex01_3_join_test": 1.0}


def test_default_jobs_is_at_least_one_and_at_most_the_cores():
    import os

    assert 1 <= default_jobs() <= len(os.sched_getaffinity(0))


@pytest.mark.parametrize("text, expected", [("1/2", (1, 2)), (" 3 / 3 ", (3, 3)), ("1/1", (1, 1))])
def test_parse_shard(text, expected):
    assert parse_shard(text) == expected


@pytest.mark.parametrize("text", ["0/2", "3/2", "2", "a/b", "", "1/0"])
def test_parse_shard_refuses_what_is_no_share(text):
    with pytest.raises(ValueError, match="SHARD must be i/n"):
        parse_shard(text)


def test_shards_cover_everyone_once_balanced_and_in_any_order():
    students = [f"s{i:03d}" for i in range(23)]
    shards = [shard_of(students, i, 3) for i in (1, 2, 3)]
    assert sorted(s for shard in shards for s in shard) == students
    assert sorted(len(shard) for shard in shards) == [7, 8, 8]
    shuffled = students[:]
    random.Random(1).shuffle(shuffled)
    assert [shard_of(shuffled, i, 3) for i in (1, 2, 3)] == shards


def test_progress_line_counts_and_estimates():
    line = progress_line(3, 12, Outcome("alice", score=2.0, max_score=5.0, seconds=14.24), elapsed=45.0)
    assert line == "[ 3/12] alice                  2.0 / 5.0    14.2 s   0:45 elapsed, about 2:15 left"
    assert progress_line(12, 12, Outcome("bob", failure="Kernel died", seconds=3), 200).endswith("3:20 elapsed, done")
    assert "failed" in progress_line(1, 2, Outcome("bob", failure="Kernel died"), 1)


def _synthetic_gradebook(url: str, scores: dict[str, dict[str, float]]) -> None:
    """An assignment with one notebook and CELLS, and a graded submission per student: no notebook runs."""
    from nbgrader.api import Gradebook

    fast_new_gradebooks()

    with Gradebook(url) as gradebook:
        gradebook.add_assignment("01_data")
        gradebook.add_notebook("01_data", "01_data")
        for name, points in CELLS.items():
            gradebook.add_grade_cell(name, "01_data", "01_data", max_score=points, cell_type="code")
            gradebook.add_source_cell(name, "01_data", "01_data", cell_type="code", locked=True, source="pass")
        for student, marks in scores.items():
            gradebook.add_student(student)
            gradebook.add_submission("01_data", student)
            for name, score in marks.items():
                grade = gradebook.find_grade(name, "01_data", "01_data", student)
                grade.auto_score, grade.needs_manual_grade = score, False
            gradebook.db.commit()


def _cohort(n: int = 20) -> dict[str, dict[str, float]]:
    """20 students: everyone loads (2), half clean fully (3) and a quarter partly (1.5), 3 of 20 join (1)."""
    return {f"s{i:02d}": {"ex01_1_load_test": 2.0,
                          "ex01_2_clean_test": 3.0 if i % 2 == 0 else 1.5 if i % 4 == 1 else 0.0,
                          "ex01_3_join_test": 1.0 if i < 3 else 0.0} for i in range(n)}


def test_item_analysis_of_a_synthetic_cohort(tmp_path):
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    _synthetic_gradebook(url, _cohort())
    cohort, order = gradebook_cohort(url, "01_data")
    assert order == sorted(CELLS) and len(cohort) == 20
    items = {i.exercise: i for i in analyse(cohort, ["ex01_1_load_test", "ex01_2_clean_test", "ex01_3_join_test"])}
    load, clean, join = items["ex01_1_load_test"], items["ex01_2_clean_test"], items["ex01_3_join_test"]
    assert (load.mean, load.full, load.zero, load.histogram) == (2.0, 1.0, 0.0, {0.0: 0, 2.0: 20})
    assert clean.mean == pytest.approx((10 * 3 + 5 * 1.5) / 20) and (clean.full, clean.zero) == (0.5, 0.25)
    assert clean.histogram == {0.0: 5, 1.5: 5, 3.0: 10}
    assert (join.mean, join.full, join.zero, join.histogram) == (0.15, 0.15, 0.85, {0.0: 17, 1.0: 3})
    assert [i.exercise for i in most_failed(list(items.values()))] == ["ex01_3_join_test", "ex01_2_clean_test"]

    page, picture = write_item_report(tmp_path, "01_data", cohort, order)
    text = page.read_text()
    assert "| ex01_2_clean_test | 3 | 1.88 | 62% | 50% | 25% | 0: 5, 1.5: 5, 3: 10 |" in text
    assert "1. ex01_3_join_test: 0 points for 17 of 20 (85%), full marks for 15%" in text
    assert "2. ex01_2_clean_test: 0 points for 5 of 20 (25%)" in text
    assert "ex01_1_load_test: 0 points" not in text and "](item-analysis-01_data.png)" in text
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and picture.stat().st_size > 10_000


def test_item_analysis_with_nobody_failing():
    items = analyse({"a": {"x_test": (1.0, 1.0)}, "b": {"x_test": (1.0, 1.0)}})
    assert "No exercise was scored 0 by anyone." in markdown("a1", items)


def test_copy_submission_carries_scores_comments_and_timestamp(tmp_path):
    from nbgrader.api import Gradebook

    source, target = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    _synthetic_gradebook(source, {"ann": {"ex01_1_load_test": 2.0, "ex01_2_clean_test": 1.5, "ex01_3_join_test": 0.0}})
    _synthetic_gradebook(target, {"ann": {"ex01_1_load_test": 0.0, "ex01_2_clean_test": 0.0, "ex01_3_join_test": 1.0}})
    with Gradebook(source) as a:
        a.find_submission("01_data", "ann").timestamp = datetime(2026, 1, 2, 3, 4, 5)
        a.find_grade("ex01_2_clean_test", "01_data", "01_data", "ann").manual_score = 2.5
        a.find_student("ann").last_name = "Lovelace"
        a.db.commit()
        with Gradebook(target) as b:
            copy_submission(a, b, "01_data", "ann")
    with Gradebook(target) as b:
        graded = b.find_submission("01_data", "ann")
        assert graded.score == 4.5 and str(graded.timestamp) == "2026-01-02 03:04:05"
        assert {g.name: (g.auto_score, g.manual_score) for nb in graded.notebooks for g in nb.grades} == {
            "ex01_1_load_test": (2.0, None), "ex01_2_clean_test": (1.5, 2.5), "ex01_3_join_test": (0.0, None)}
        assert b.find_student("ann").last_name == "Lovelace" and len(b.assignment_submissions("01_data")) == 1
