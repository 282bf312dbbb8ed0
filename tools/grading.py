"""The instructor's grading run with real nbgrader, used by `make grade` and the tests.

A course folder here is any folder with nbgrader_config.py, solutions/ and submitted/ (the
repository itself, or a temporary copy in the tests).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from tools.notebooks import nbgrader_meta


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    """Run an nbgrader command in ``course``; raise with its output when it fails."""
    # nbgrader calls the environment's `alembic` command: its bin/ must come first on PATH.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course,
                            capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def db_url(course: Path) -> str:
    return f"sqlite:///{course / 'gradebook.db'}"


def register(course: Path, assignment: str) -> None:
    """Record the assignment's grade cells and checksums in the gradebook (course/ untouched)."""
    with tempfile.TemporaryDirectory() as release:
        nbgrader(course, "generate_assignment", assignment, "--force",
                 f"--CourseDirectory.release_directory={release}", f"--db={db_url(course)}",
                 "--log-level=WARN")


@dataclass
class StudentResult:
    student: str
    score: float = 0.0
    max_score: float = 0.0
    cells: dict = field(default_factory=dict)  # grade_id -> (score, max_score)
    problems: list = field(default_factory=list)


def missing_grade_cells(course: Path, assignment: str, student: str, expected: set[str]) -> list[str]:
    """Grade cells the gradebook knows but the submission no longer has (deleted or stripped).

    nbgrader scores such a notebook 0 without a word; grading reports it instead.
    """
    found = set()
    for path in (course / "submitted" / student / assignment).glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        found |= {nbgrader_meta(c).get("grade_id") for c in nb.cells if nbgrader_meta(c).get("grade")}
    return sorted(expected - found)


def submitting_students(course: Path, assignment: str) -> list[str]:
    """Students with a submitted/<student>/<assignment>/ folder, sorted."""
    submitted = course / "submitted"
    return sorted(p.parent.name for p in submitted.glob(f"*/{assignment}") if p.is_dir()) if submitted.is_dir() else []


def results(course: Path, assignment: str) -> list[StudentResult]:
    """Per student: total, per-cell scores and anything suspicious, from the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    out = []
    with Gradebook(db_url(course)) as gradebook:
        graded_cells = {c.name for nb in gradebook.find_assignment(assignment).notebooks for c in nb.grade_cells}
        for student in submitting_students(course, assignment):
            result = StudentResult(student)
            try:
                submission = gradebook.find_submission(assignment, student)
            except MissingEntry:
                result.problems.append("not graded (no autograded submission)")
                out.append(result)
                continue
            result.score, result.max_score = submission.score, submission.max_score
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    result.cells[grade.name] = (grade.score, grade.max_score)
            missing = missing_grade_cells(course, assignment, student, graded_cells)
            if missing:
                result.problems.append("grade cells deleted or stripped: " + ", ".join(missing))
            out.append(result)
    return out


def grade(course: Path, assignment: str, from_stored_outputs: tuple[str, ...] = ()) -> list[StudentResult]:
    """Register, autograde every submission, write feedback (without hidden tests) and grades.csv.

    Students in ``from_stored_outputs`` are graded on the outputs saved in their notebook, without
    running it again (the tests use this for the solutions, whose stored outputs nbval proves are
    what a fresh run produces); everyone else is executed from scratch, as always in `make grade`.
    """
    students = submitting_students(course, assignment)
    if not students:
        raise SystemExit(f"No submissions: put them in {course}/submitted/<student>/{assignment}/ first.")
    register(course, assignment)
    for student in students:
        stored = ["--Execute.enabled=False", "--ClearOutput.enabled=False"] if student in from_stored_outputs else []
        nbgrader(course, "autograde", assignment, f"--student={student}", "--force", "--log-level=WARN", *stored)
    nbgrader(course, "generate_feedback", assignment, "--force", "--log-level=WARN")
    nbgrader(course, "export", "--to", str(course / "grades.csv"), "--log-level=WARN")
    return results(course, assignment)


def summary(assignment: str, graded: list[StudentResult]) -> str:
    lines = [f"{assignment}: {len(graded)} submission(s)", f"{'student':<24} {'score':>12}  problems"]
    for r in graded:
        lines.append(f"{r.student:<24} {r.score:>5.1f} / {r.max_score:<5.1f}  {'; '.join(r.problems) or '-'}")
    return "\n".join(lines)
