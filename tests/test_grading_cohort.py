"""Grading a cohort with real nbgrader and real Spark: in parallel, split into shards and merged.

One small cohort of the fixture assignment (tests/fixtures/grading_fixture) is graded twice:
- the reference: plain nbgrader, one `nbgrader autograde` over every student, then
  `generate_feedback` and `export` (what grading did before it graded students one by one);
- two shards (`shard=(1, 2)` and `(2, 2)`) graded in two copies of the course at the same time,
  as two machines would, the first with `jobs=2` (its two students at once, each in its own
  kernel and gradebook copy), then merged into a third copy that graded nothing.
Each shard must give its students' part of the reference, and the merge all of it: the same
grades.csv, the same scores in the gradebook and the same feedback. One student kills their
kernel while another is graded beside them: they score 0 and nobody else changes.
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
from tools.grading import grade, grade_cell_order, merge, nbgrader, shard_of
from tools.items import write_item_report

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
    folders = {name: _copy_course(course, tmp / name) for name in ("reference", "shard2", "merged")}
    folders["shard1"] = course

    _reference(folders["reference"])
    lines: dict[int, list[tuple[float, str]]] = {1: [], 2: []}

    def shard(i: int, jobs: int):
        return grade(folders[f"shard{i}"], FIXTURE, shard=(i, 2), jobs=jobs,
                     progress=lambda line: lines[i].append((time.monotonic(), line)))

    # the two shards at the same time, as two machines would; the first grades its two at once
    with ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(shard, 1, 2), pool.submit(shard, 2, 1)]
        shards = {i: run.result() for i, run in zip((1, 2), runs)}
    merged = merge(folders["merged"], FIXTURE, [folders["shard1"], folders["shard2"]])
    return {"folders": folders, "shards": shards, "merged": merged, "lines": lines}


def _graded(cohort) -> dict:
    """Every student's result, from the shard that graded them."""
    return {r.student: r for results in cohort["shards"].values() for r in results}


def _rows_of(text: str, students: list[str]) -> str:
    """grades.csv's header and the rows of these students."""
    header, *rows = text.splitlines(keepends=True)
    column = header.rstrip("\r\n").split(",").index("student_id")
    return header + "".join(row for row in rows if row.split(",")[column] in students)


def test_each_shard_equals_its_part_of_one_nbgrader_run(cohort):
    folders, reference = cohort["folders"], cohort["folders"]["reference"]
    assert shard_of(["ada", "blank", "killer", "zoe"], 1, 2) == ["ada", "killer"]
    for i, students in ((1, ["ada", "killer"]), (2, ["blank", "zoe"])):
        graded = folders[f"shard{i}"]
        # a shard's gradebook holds its own students only
        assert sorted(row["student_id"] for row in csv.DictReader((graded / "grades.csv").open())) == students
        assert (graded / "grades.csv").read_text() == _rows_of((reference / "grades.csv").read_text(), students)
        assert gradebook_state(graded, FIXTURE) == [row for row in gradebook_state(reference, FIXTURE)
                                                    if row[0] in students]
        assert _feedback(graded) == {path: page for path, page in _feedback(reference).items()
                                     if path.split("/")[0] in students}
    graded = _graded(cohort)
    assert {s: r.score for s, r in graded.items()} == {"ada": 3, "blank": 0, "killer": 0, "zoe": 2}
    # the solution: full marks on every cell; the unmodified release: 0 on every cell, nothing reported
    assert {name: score for name, (score, _) in graded["ada"].cells.items()} == {
        "ex_1_double_test": 1.0, "ex_2_total_by_test": 2.0} and graded["ada"].max_score == 3
    assert {score for score, _ in graded["blank"].cells.values()} == {0.0} and graded["blank"].problems == []


def test_two_shards_merged_equal_one_nbgrader_run(cohort, tmp_path):
    folders = cohort["folders"]
    merged, reference = folders["merged"], folders["reference"]
    assert (merged / "grades.csv").read_text() == (reference / "grades.csv").read_text()
    assert gradebook_state(merged, FIXTURE) == gradebook_state(reference, FIXTURE)
    assert _feedback(merged) == _feedback(reference) and len(_feedback(merged)) == 3  # not the killer's
    graded = _graded(cohort)
    assert [(r.student, r.score, r.cells, r.problems) for r in cohort["merged"]] == \
        [(s, graded[s].score, graded[s].cells, graded[s].problems) for s in sorted(graded)]
    # the item analysis of everyone, as one run over the cohort writes it
    release = [nbformat.read(merged / "course" / FIXTURE / f"{FIXTURE}.ipynb", as_version=4)]
    expected, _ = write_item_report(tmp_path, FIXTURE, {s: r.cells for s, r in graded.items()}, grade_cell_order(release))
    assert (merged / f"item-analysis-{FIXTURE}.md").read_text() == expected.read_text()
    # feedback: no hidden test, and no solution where the student did not write it
    _assert_no_hidden_tests(merged, FIXTURE, ["ada", "blank", "zoe"], FIXTURE_HIDDEN)
    _assert_no_hidden_tests(merged, FIXTURE, ["blank"], FIXTURE_SOLUTION)


def test_a_killed_kernel_changes_nobody_else(cohort):
    """A kernel that kills itself while another student is graded beside it (shard 1, two at once):
    that notebook fails, scores 0 and is reported; nobody else is hurt."""
    graded = _graded(cohort)
    killer = graded["killer"]
    assert killer.problems[0] == "autograding failed, scored 0: nbclient.exceptions.DeadKernelError: Kernel died"
    assert "ends the grading kernel: os.kill(os.getpid(), 9)" in killer.problems[-1]
    assert set(score for score, _ in killer.cells.values()) == {0.0}
    assert not (cohort["folders"]["shard1"] / "autograded" / "killer" / FIXTURE).exists()
    assert (cohort["folders"]["shard1"] / "autograded" / "ada" / FIXTURE).is_dir()
    assert [s for s, r in sorted(graded.items()) if r.problems] == ["killer"]
    rows = {row["student_id"]: float(row["score"])
            for row in csv.DictReader((cohort["folders"]["merged"] / "grades.csv").open())}
    assert rows == {"ada": 3, "blank": 0, "killer": 0, "zoe": 2}


def test_progress_has_a_line_per_student_with_a_running_count(cohort):
    stamped = cohort["lines"][2]  # shard 2: one student at a time
    lines = [line for _, line in stamped]
    # each line as its student is done, not all at the end: the second came a whole student later
    assert stamped[1][0] - stamped[0][0] > 2
    assert [line.split("]")[0] for line in lines] == ["[1/2", "[2/2"]
    assert [line.split()[1] for line in lines] == ["blank", "zoe"]
    assert all(" s " in line and "elapsed" in line for line in lines)
    assert "about" in lines[0] and "left" in lines[0] and lines[-1].endswith("done")
    both = [line for _, line in cohort["lines"][1]]  # shard 1: two at once, in the order they finish
    assert sorted(line.split()[1] for line in both) == ["ada", "killer"]
    assert any("failed" in line for line in both if " killer " in line)


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
