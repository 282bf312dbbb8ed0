"""The nbgrader round trip on every lesson, in a temporary course copy, with real Spark.

Per lesson, one grading run with two students:
- the untouched release, executed by nbgrader: 0 on every graded cell, and every cell that is not
  an exercise or its check runs without error, so learners never meet a broken notebook;
- the solution: full marks, graded by nbgrader on its stored outputs. Executing it again here would
  repeat the nbval run over solutions/, which proves those outputs are exactly what a fresh run gives.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from tools.grading import grade
from tools.notebooks import lesson_notebooks, nbgrader_meta

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.notebooks


def _exercise_cell(cell) -> bool:
    meta = nbgrader_meta(cell)
    return bool(meta.get("solution") or meta.get("grade"))


@pytest.mark.parametrize("lesson", [p.parent.name for p in lesson_notebooks(ROOT / "solutions")])
def test_solution_scores_full_marks_release_scores_zero(lesson, tmp_path):
    course = tmp_path / "course"
    (course / "solutions").mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / lesson, course / "solutions" / lesson)
    for student, source in (("solution", ROOT / "solutions"), ("blank", ROOT / "course")):
        # The whole lesson folder, as `make lab` copies it into the learner's workspace.
        shutil.copytree(source / lesson, course / "submitted" / student / lesson,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints"))

    graded = {r.student: r for r in grade(course, lesson, from_stored_outputs=("solution",))}

    solution, blank = graded["solution"], graded["blank"]
    assert solution.problems == [] and blank.problems == []
    assert solution.cells and all(score == top for score, top in solution.cells.values()), solution.cells
    assert solution.score == solution.max_score > 0
    assert set(blank.cells) == set(solution.cells)
    assert all(score == 0 for score, _ in blank.cells.values()), blank.cells

    executed_dir = course / "autograded" / "blank" / lesson
    executed = nbformat.read(executed_dir / f"{lesson}.ipynb", as_version=4)
    release = nbformat.read(ROOT / "course" / lesson / f"{lesson}.ipynb", as_version=4)
    # What ran is the learner's release: nbgrader restores only its own cells (exercises and
    # checks, with hidden tests); every other cell is the released one, in the same order.
    assert [c.source for c in executed.cells if not nbgrader_meta(c)] == \
        [c.source for c in release.cells if not nbgrader_meta(c)]
    # It ran in autograded/blank/<lesson>/, not workspace/<lesson>/: the same as long as a lesson
    # reads through sparkcourse (absolute paths) and writes only under workdir(), never beside itself.
    assert sorted(p.name for p in executed_dir.iterdir()) == [f"{lesson}.ipynb"], "a lesson wrote beside itself"
    broken = [c.source[:80] for c in executed.cells if c.cell_type == "code" and not _exercise_cell(c)
              and any(o.output_type == "error" for o in c.outputs)]
    assert broken == [], f"cells that fail in the learner's release: {broken}"

    feedback_html = (course / "feedback" / "solution" / lesson / f"{lesson}.html").read_text()
    feedback = html.unescape(re.sub(r"<[^>]+>", "", feedback_html))  # the code as a reader sees it
    assert "BEGIN HIDDEN TESTS" not in feedback
    released = "\n".join(c.source for c in release.cells)
    hidden = [line.strip() for c in nbformat.read(ROOT / "solutions" / lesson / f"{lesson}.ipynb", 4).cells
              if "### BEGIN HIDDEN TESTS" in c.source
              for line in c.source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0].splitlines()
              if len(line.strip()) >= 20 and line.strip() not in released]
    assert hidden, "no distinctive hidden-test lines found to look for"
    shown = [line for line in hidden if line in feedback]
    assert shown == [], f"feedback shows hidden tests: {shown[:3]}"
    assert "grades.csv" in {p.name for p in course.iterdir()}
