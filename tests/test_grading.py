"""The nbgrader round trip on every lesson, in a temporary course copy.

Per lesson: the solution, submitted as a student, scores full marks, graded by nbgrader on its
stored outputs (executing it again here would repeat the nbval run over solutions/, which proves
those outputs are exactly what a fresh run gives), and its feedback shows no hidden test. All
lessons are graded in one nbgrader process (tools.grading.grade_stored_outputs).

That the unanswered release scores 0 on every graded cell while all its other cells run is proven
by nbval's one execution of each lesson, which after each grade cell also tries a spoofed, a
wrong and the blank answer and then runs the rest as unanswered (tests/grade_variants.py);
nbgrader grading a blank release for real is in tests/test_grading_integrity.py.
"""

from __future__ import annotations

import html
import re
import shutil

import nbformat
import pytest

from tools.grading import grade_stored_outputs
from tools.notebooks import lesson_notebooks, nbgrader_meta
from tools import ROOT

pytestmark = pytest.mark.notebooks
LESSONS = [p.parent.name for p in lesson_notebooks(ROOT / "solutions")]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Every lesson's solution submitted by one student and graded by nbgrader, in one course."""
    course = tmp_path_factory.mktemp("grading") / "course"
    (course / "solutions").mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for lesson in LESSONS:
        shutil.copytree(ROOT / "solutions" / lesson, course / "solutions" / lesson)
        # The whole lesson folder, as `make lab` copies it into the learner's workspace.
        shutil.copytree(ROOT / "solutions" / lesson, course / "submitted" / "solution" / lesson,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return course, grade_stored_outputs(course, LESSONS, "solution")


@pytest.mark.parametrize("lesson", LESSONS)
def test_solution_scores_full_marks(lesson, graded):
    course, by_lesson = graded
    (solution,) = by_lesson[lesson]

    assert solution.problems == []
    assert solution.cells and all(score == top for score, top in solution.cells.values()), solution.cells
    assert solution.score == solution.max_score > 0
    source = nbformat.read(ROOT / "solutions" / lesson / f"{lesson}.ipynb", as_version=4)
    assert set(solution.cells) == {nbgrader_meta(c)["grade_id"] for c in source.cells if nbgrader_meta(c).get("grade")}
    release = nbformat.read(ROOT / "course" / lesson / f"{lesson}.ipynb", as_version=4)

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
