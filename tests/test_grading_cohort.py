"""Grading a cohort with real nbgrader and real Spark: in parallel, split into shards and merged.

One small cohort of the fixture assignment (tests/fixtures/grading_fixture) is graded three ways:
- the reference: plain nbgrader, one `nbgrader autograde` over every student, then
  `generate_feedback` and `export` (what grading did before it graded students one by one);
- `grade(jobs=2)`: two students at a time, each in its own kernel and gradebook copy;
- two shards (`shard=(1, 2)` and `(2, 2)`) graded in two copies of the course at the same time,
  then merged into a third copy that graded nothing.
All three must give the same grades.csv, the same scores in the gradebook and the same feedback.
One student kills their kernel: they score 0 and nobody else changes.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from test_grading_integrity import (FIXTURE, FIXTURE_HIDDEN, FIXTURE_SOLUTION, ROOT, SOLUTION, WRONG,
                                    _assert_no_hidden_tests, gradebook_state, make_course, submission)
from tools.grading import grade, merge, nbgrader, shard_of

pytestmark = pytest.mark.notebooks
TIMEOUT = 120  # per cell: two Spark kernels at once on a loaded 2-core machine
KILLER = "import os\n\nos.kill(os.getpid(), 9)"


def _copy_course(course: Path, to: Path) -> Path:
    """The course folder with its submissions, and nothing graded."""
    shutil.copytree(course, to, ignore=shutil.ignore_patterns("gradebook.db", "autograded", "feedback"))
    return to


def _feedback(course: Path) -> dict[str, str]:
    return {str(p.relative_to(course / "feedback")): p.read_text() for p in sorted((course / "feedback").rglob("*.html"))}


def _reference(course: Path) -> None:
    """Plain nbgrader in one run; a notebook that killed its kernel leaves no submission."""
    from nbgrader.api import Gradebook

    with tempfile.TemporaryDirectory() as release:
        nbgrader(course, "generate_assignment", FIXTURE, "--force", "--log-level=WARN",
                 f"--CourseDirectory.release_directory={release}")
    try:
        nbgrader(course, "autograde", FIXTURE, "--force", "--log-level=WARN")
    except RuntimeError as error:  # the killer; anything else fails the test
        assert "for student 'killer'" in str(error) and str(error).count("There was an error processing assignment '") == 1
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        gradebook.remove_submission(FIXTURE, "killer")
    nbgrader(course, "generate_feedback", FIXTURE, "--force", "--log-level=WARN")
    nbgrader(course, "export", "--to", str(course / "grades.csv"), "--log-level=WARN")


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cohort")
    course = make_course(tmp, FIXTURE, ROOT / "tests" / "fixtures" / FIXTURE, timeout=TIMEOUT)
    students = {
        "ada": submission(course, FIXTURE, answers=SOLUTION),
        "blank": submission(course, FIXTURE),
        "killer": submission(course, FIXTURE, answers={**SOLUTION, "ex_2_total_by": KILLER}),
        "zoe": submission(course, FIXTURE, answers={**SOLUTION, "ex_1_double": WRONG["ex_1_double"]}),
    }
    for student, nb in students.items():
        (course / "submitted" / student / FIXTURE).mkdir(parents=True)
        nbformat.write(nb, course / "submitted" / student / FIXTURE / f"{FIXTURE}.ipynb")
    folders = {name: _copy_course(course, tmp / name) for name in ("reference", "shard1", "shard2", "merged")}
    folders["parallel"] = course

    _reference(folders["reference"])
    lines: list[tuple[float, str]] = []
    parallel = grade(course, FIXTURE, jobs=2, progress=lambda line: lines.append((time.monotonic(), line)))
    finished = time.monotonic()
    # the two shards at the same time, as two machines would
    with ThreadPoolExecutor(2) as pool:
        for run in [pool.submit(grade, folders[f"shard{i}"], FIXTURE, shard=(i, 2)) for i in (1, 2)]:
            run.result()
    merged = merge(folders["merged"], FIXTURE, [folders["shard1"], folders["shard2"]])
    return {"folders": folders, "parallel": parallel, "merged": merged, "lines": lines, "finished": finished}


def test_parallel_grading_equals_one_nbgrader_run(cohort):
    parallel, reference = cohort["folders"]["parallel"], cohort["folders"]["reference"]
    assert (parallel / "grades.csv").read_text() == (reference / "grades.csv").read_text()
    assert gradebook_state(parallel, FIXTURE) == gradebook_state(reference, FIXTURE)
    assert _feedback(parallel) == _feedback(reference) and len(_feedback(parallel)) == 3  # not the killer's
    graded = {r.student: r for r in cohort["parallel"]}
    assert {s: r.score for s, r in graded.items()} == {"ada": 3, "blank": 0, "killer": 0, "zoe": 2}
    # the solution: full marks on every cell; the unmodified release: 0 on every cell, nothing reported
    assert {name: score for name, (score, _) in graded["ada"].cells.items()} == {
        "ex_1_double_test": 1.0, "ex_2_total_by_test": 2.0} and graded["ada"].max_score == 3
    assert {score for score, _ in graded["blank"].cells.values()} == {0.0} and graded["blank"].problems == []
    # feedback: no hidden test, and no solution where the student did not write it
    _assert_no_hidden_tests(parallel, FIXTURE, ["ada", "blank", "zoe"], FIXTURE_HIDDEN)
    _assert_no_hidden_tests(parallel, FIXTURE, ["blank"], FIXTURE_SOLUTION)


def test_a_killed_kernel_changes_nobody_else(cohort):
    """A kernel that kills itself: that notebook fails, scores 0 and is reported; nobody else is hurt."""
    graded = {r.student: r for r in cohort["parallel"]}
    killer = graded["killer"]
    assert killer.problems[0] == "autograding failed, scored 0: nbclient.exceptions.DeadKernelError: Kernel died"
    assert "ends the grading kernel: os.kill(os.getpid(), 9)" in killer.problems[-1]
    assert set(score for score, _ in killer.cells.values()) == {0.0}
    assert not (cohort["folders"]["parallel"] / "autograded" / "killer" / FIXTURE).exists()
    assert [s for s, r in graded.items() if r.problems] == ["killer"]
    rows = {row["student_id"]: float(row["score"])
            for row in csv.DictReader((cohort["folders"]["parallel"] / "grades.csv").open())}
    assert rows == {"ada": 3, "blank": 0, "killer": 0, "zoe": 2}


def test_progress_has_a_line_per_student_with_a_running_count(cohort):
    lines = [line for _, line in cohort["lines"]]
    # each line as its student is done, not all at the end: the first came a whole student earlier
    assert cohort["finished"] - cohort["lines"][0][0] > 5
    assert [line.split("]")[0] for line in lines] == [f"[{n}/4" for n in range(1, 5)]
    assert sorted(line.split()[1] for line in lines) == ["ada", "blank", "killer", "zoe"]
    assert all(" s " in line and "elapsed" in line for line in lines)
    assert "about" in lines[0] and "left" in lines[0] and lines[-1].endswith("done")
    assert any("failed" in line for line in lines if " killer " in line)


def test_two_shards_merged_equal_one_run(cohort):
    folders = cohort["folders"]
    merged, parallel = folders["merged"], folders["parallel"]
    assert shard_of(["ada", "blank", "killer", "zoe"], 1, 2) == ["ada", "killer"]
    for i, students in ((1, ["ada", "killer"]), (2, ["blank", "zoe"])):
        graded = sorted(row["student_id"] for row in csv.DictReader((folders[f"shard{i}"] / "grades.csv").open()))
        assert graded == students  # a shard's gradebook holds its own students only
    assert (merged / "grades.csv").read_text() == (parallel / "grades.csv").read_text()
    assert gradebook_state(merged, FIXTURE) == gradebook_state(parallel, FIXTURE)
    assert _feedback(merged) == _feedback(parallel)
    assert [(r.student, r.score, r.cells, r.problems) for r in cohort["merged"]] == \
        [(r.student, r.score, r.cells, r.problems) for r in cohort["parallel"]]
    assert (merged / f"item-analysis-{FIXTURE}.md").read_text() == (parallel / f"item-analysis-{FIXTURE}.md").read_text()


def test_merge_refuses_a_missing_or_repeated_shard(cohort, tmp_path):
    from tools.grading import MergeError

    folders = cohort["folders"]
    target = _copy_course(folders["merged"], tmp_path / "again")
    with pytest.raises(MergeError, match="need every shard exactly once"):
        merge(target, FIXTURE, [folders["shard1"]])
    with pytest.raises(MergeError, match="need every shard exactly once"):
        merge(target, FIXTURE, [folders["shard1"], folders["shard1"]])
    shutil.rmtree(target / "submitted" / "zoe")
    with pytest.raises(MergeError, match=r"students differ: \['zoe'\]"):
        merge(target, FIXTURE, [folders["shard1"], folders["shard2"]])
