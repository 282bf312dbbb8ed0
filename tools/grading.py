"""The instructor's grading run with real nbgrader, used by `make grade` and the tests.

A course folder here is any folder with nbgrader_config.py, solutions/ and submitted/ (the
repository itself, or a temporary copy in the tests).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

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


#: A student id as a folder name in a zip of submissions (nbgrader_config.py uses the same rule).
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class CollectError(ValueError):
    """A zip of submissions that cannot be collected as it is; the message says what to fix."""


def released_notebooks(course: Path, assignment: str) -> list[str]:
    folder = course / "course" / assignment
    return sorted(p.name for p in folder.glob("*.ipynb")) if folder.is_dir() else []


def plan_collection(zip_path: Path, notebooks: list[str]) -> dict[str, list[str]]:
    """Student -> notebook names found in the zip, after checking its layout.

    Every notebook must be ``[any/folders/]<student_id>/<notebook>.ipynb`` with a released
    notebook's name, once per student. Anything else is an error that lists every bad entry,
    raised before a single file is written.
    """
    if not zip_path.is_file():
        raise CollectError(f"{zip_path}: no such file (give ZIP=path/to/downloads.zip)")
    if not zipfile.is_zipfile(zip_path):
        raise CollectError(f"{zip_path} is not a zip file")
    if not notebooks:
        raise CollectError("the assignment has no released notebook in course/: run make release first")
    found: dict[str, list[str]] = {}
    bad = []
    with zipfile.ZipFile(zip_path) as archive:
        for name in archive.namelist():
            path = PurePosixPath(name)
            if name.endswith("/") or "__MACOSX" in path.parts or ".ipynb_checkpoints" in path.parts:
                continue
            if name.startswith("/") or ".." in path.parts or "\\" in name:
                bad.append(f"{name}: unsafe path")
            elif path.suffix in (".zip", ".gz", ".tar", ".tgz"):
                bad.append(f"{name}: an archive inside the archive (unpack it into the zip)")
            elif path.suffix != ".ipynb":
                continue  # other files are not submissions
            elif len(path.parts) < 2 or not STUDENT_ID.match(path.parent.name):
                bad.append(f"{name}: put it in a folder named after the student "
                           "(letters, digits, _ . -), e.g. alice/" + path.name)
            elif path.name not in notebooks:
                bad.append(f"{name}: not a notebook of this assignment (expected {', '.join(notebooks)})")
            elif path.name in found.get(path.parent.name, []):
                bad.append(f"{name}: a second {path.name} for student {path.parent.name}")
            else:
                found.setdefault(path.parent.name, []).append(path.name)
    if bad:
        raise CollectError(f"{zip_path} cannot be collected as it is:\n  " + "\n  ".join(bad))
    if not found:
        raise CollectError(f"{zip_path} holds no submission: expected <student_id>/{notebooks[0]}")
    return found


def collect(course: Path, assignment: str, zip_path: Path, replace: bool = False) -> list[str]:
    """Unpack a zip of downloaded submissions into submitted/<student>/<assignment>/ with nbgrader zip_collect.

    Refuses (before writing anything) a zip with a bad layout, and students already collected
    unless ``replace``. Returns the students collected.
    """
    zip_path = Path(zip_path).resolve()
    plan = plan_collection(zip_path, released_notebooks(course, assignment))
    already = sorted(s for s in plan if (course / "submitted" / s / assignment).exists())
    if already and not replace:
        raise CollectError(f"already collected for {assignment}: {', '.join(already)}; "
                           "add REPLACE=1 (--replace) to overwrite their submissions")
    staging = course / "downloaded" / assignment
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "archive").mkdir(parents=True)
    shutil.copy(zip_path, staging / "archive" / zip_path.name)
    nbgrader(course, "zip_collect", assignment, "--force", "--strict", "--log-level=WARN")
    missing = [f"{s}/{n}" for s, names in plan.items() for n in names
               if not (course / "submitted" / s / assignment / n).is_file()]
    if missing:
        raise RuntimeError(f"nbgrader zip_collect did not collect: {', '.join(missing)}")
    return sorted(plan)


def db_url(course: Path) -> str:
    return f"sqlite:///{course / 'gradebook.db'}"


def register(course: Path, assignment: str) -> list:
    """Record the assignment's grade cells and checksums in the gradebook (course/ untouched).

    Returns the notebooks of this fresh release: what a learner started from.
    """
    with tempfile.TemporaryDirectory() as release:
        nbgrader(course, "generate_assignment", assignment, "--force",
                 f"--CourseDirectory.release_directory={release}", f"--db={db_url(course)}",
                 "--log-level=WARN")
        return [nbformat.read(path, as_version=4) for path in sorted((Path(release) / assignment).glob("*.ipynb"))]


@dataclass
class StudentResult:
    student: str
    score: float = 0.0
    max_score: float = 0.0
    cells: dict = field(default_factory=dict)  # grade_id -> (score, max_score)
    problems: list = field(default_factory=list)


def _submitted_cells(course: Path, assignment: str, student: str) -> list:
    cells = []
    for path in sorted((course / "submitted" / student / assignment).glob("*.ipynb")):
        cells += nbformat.read(path, as_version=4).cells
    return cells


def missing_grade_cells(course: Path, assignment: str, student: str, expected: set[str]) -> list[str]:
    """Grade cells the gradebook knows but the submission no longer has (deleted or stripped).

    nbgrader scores such a notebook 0 without a word; grading reports it instead.
    """
    found = {nbgrader_meta(c).get("grade_id") for c in _submitted_cells(course, assignment, student)
             if nbgrader_meta(c).get("grade")}
    return sorted(expected - found)


def _release(course: Path, assignment: str) -> list:
    return [nbformat.read(path, as_version=4) for path in sorted((course / "course" / assignment).glob("*.ipynb"))]


def released_locked_cells(course: Path, assignment: str, release: list | None = None) -> dict[str, set[str]]:
    """grade_id -> checksums of every locked cell as released (``release``, or course/<assignment>/)."""
    from nbgrader.utils import compute_checksum

    release = _release(course, assignment) if release is None else release
    return {nbgrader_meta(c)["grade_id"]: {compute_checksum(c)}
            for nb in release for c in nb.cells if nbgrader_meta(c).get("locked")}


def edited_locked_cells(course: Path, assignment: str, student: str, checksums: dict[str, set[str]]) -> list[str]:
    """Locked cells whose submitted source or metadata differ from every accepted version
    (``checksums``: the release's, and the source's with hidden tests); nbgrader restores them."""
    from nbgrader.utils import compute_checksum

    edited = []
    for cell in _submitted_cells(course, assignment, student):
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id in checksums and compute_checksum(cell) not in checksums[grade_id]:
            edited.append(grade_id)
    return sorted(edited)


#: Code a submission has no business running: it can hide failures from nbgrader or read the
#: hidden tests. Grading cannot stop it (the code runs unsandboxed in the grading kernel); the
#: report names it for a human to review. A hint, not a protection: obfuscated code evades it.
SUSPICIOUS = [
    (re.compile(r"\bget_ipython\b|\bIPython\b|set_custom_exc|input_transformers|ast_transformers|"
                r"events\.register|showtraceback|excepthook"), "changes how the kernel runs cells or reports errors"),
    (re.compile(r"\bchecks\.\w+\s*=(?!=)|\bcheck_\w+\s*=(?!=)|\bsetattr\s*\(|\bbuiltins\b|__builtins__|AssertionError\s*="),
     "replaces checking helpers or builtins"),
    (re.compile(r"\bexec\s*\(|\beval\s*\(|__import__|\bcompile\s*\(|base64|marshal|\bpickle\b"), "runs generated code"),
    (re.compile(r"gradebook|\bsolutions\b|nbgrader|sqlite3|\.ipynb\b|sys\._getframe|\binspect\b|f_back|"
                r"\b_ih\b|\bIn\s*\["), "reads the grading files or the code that calls it"),
    (re.compile(r"os\.kill|os\._exit|\bsignal\.|sys\.exit|os\.abort"), "ends the grading kernel"),
]


def suspicious_lines(submitted_sources: list[str], released_sources: list[str]) -> list[str]:
    """Lines of the submission, not in the release, that match a pattern of ``SUSPICIOUS``."""
    released = {line.strip() for source in released_sources for line in source.splitlines()}
    found = []
    for source in submitted_sources:
        for line in source.splitlines():
            code = line.split("#", 1)[0].strip() if not line.lstrip().startswith(("'", '"')) else line.strip()
            if code and line.strip() not in released:
                found += [f"{reason}: {line.strip()[:80]}" for pattern, reason in SUSPICIOUS if pattern.search(code)]
    return found


def suspicious_code(course: Path, assignment: str, student: str, release: list | None = None) -> list[str]:
    release = _release(course, assignment) if release is None else release
    released = [c.source for nb in release for c in nb.cells if c.cell_type == "code"]
    submitted = [c.source for c in _submitted_cells(course, assignment, student) if c.cell_type == "code"]
    return suspicious_lines(submitted, released)


def submitting_students(course: Path, assignment: str) -> list[str]:
    """Students with a submitted/<student>/<assignment>/ folder, sorted."""
    submitted = course / "submitted"
    return sorted(p.parent.name for p in submitted.glob(f"*/{assignment}") if p.is_dir()) if submitted.is_dir() else []


def results(course: Path, assignment: str, failures: dict[str, str] | None = None,
            release: list | None = None) -> list[StudentResult]:
    """Per student: total, per-cell scores and anything suspicious, from the gradebook.

    ``release``: the released notebooks to compare submissions with (default: course/<assignment>/).

    ``failures``: students whose autograding failed (kernel died, could not be interrupted),
    with nbgrader's reason.
    """
    from nbgrader.api import Gradebook, MissingEntry

    failures = failures or {}
    out = []
    with Gradebook(db_url(course)) as gradebook:
        notebooks = gradebook.find_assignment(assignment).notebooks
        graded_cells = {c.name for nb in notebooks for c in nb.grade_cells}
        checksums = released_locked_cells(course, assignment, release)
        for nb in notebooks:  # the source's version, hidden tests included, is no edit either
            for c in nb.source_cells:
                if c.locked and c.checksum:
                    checksums.setdefault(c.name, set()).add(c.checksum)
        for student in submitting_students(course, assignment):
            result = StudentResult(student)
            if student in failures:
                result.problems.append(f"autograding failed, scored 0: {failures[student]}")
                result.max_score = sum(c.max_score for nb in notebooks for c in nb.grade_cells)
                result.cells = {c.name: (0.0, c.max_score) for nb in notebooks for c in nb.grade_cells}
            else:
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
            edited = edited_locked_cells(course, assignment, student, checksums)
            if edited:
                result.problems.append("locked cells edited (originals restored for grading): " + ", ".join(edited))
            suspicious = suspicious_code(course, assignment, student, release)
            if suspicious:
                more = f" (+{len(suspicious) - 3} more)" if len(suspicious) > 3 else ""
                result.problems.append("review by hand, code that can defeat grading: "
                                       + " | ".join(suspicious[:3]) + more)
            out.append(result)
    return out


def failed_students(log: str) -> dict[str, str]:
    """Students whose notebook nbgrader could not grade, with the reason, from its log."""
    lines = log.splitlines()
    failed = {}
    for line in lines:
        match = re.search(r"There was an error processing assignment '[^']*' for student '([^']*)'", line)
        if match:
            failed[match.group(1)] = "see nbgrader's log"
    for student in failed:
        for i, line in enumerate(lines):
            if f"/{student}/" not in line:
                continue
            if "kernel became unresponsive" in line:
                failed[student] = "the kernel became unresponsive and could not be interrupted"
            elif "There was an error processing assignment:" in line:
                trace = []
                for following in lines[i + 1:]:
                    if following.startswith("[") and "|" in following[:40] and trace:
                        break
                    trace.append(following.strip())
                reason = [t for t in trace if t and not t.startswith("[")]
                failed[student] = (reason[-1] if reason else failed[student])[:200]
    return failed


def grade(course: Path, assignment: str, from_stored_outputs: tuple[str, ...] = ()) -> list[StudentResult]:
    """Register, autograde every submission, write feedback (without hidden tests) and grades.csv.

    One `nbgrader autograde` runs every submission, each in a fresh kernel of its own: a notebook
    that kills its kernel or cannot be interrupted is reported and scored 0, and grading goes on.

    Students in ``from_stored_outputs`` are graded on the outputs saved in their notebook, without
    running it again (the tests use this for the solutions, whose stored outputs nbval proves are
    what a fresh run produces); everyone else is executed from scratch, as always in `make grade`.
    """
    students = submitting_students(course, assignment)
    if not students:
        raise SystemExit(f"No submissions: put them in {course}/submitted/<student>/{assignment}/ first.")
    release = register(course, assignment)
    stored = [s for s in students if s in from_stored_outputs]
    runs = []
    if len(stored) < len(students):
        runs.append([f"--CourseDirectory.student_id_exclude={','.join(stored)}"] if stored else [])
    runs += [[f"--student={s}", "--Execute.enabled=False", "--ClearOutput.enabled=False"] for s in stored]
    failures = {}
    for options in runs:
        try:
            nbgrader(course, "autograde", assignment, "--force", "--log-level=WARN", *options)
        except RuntimeError as error:
            failed = failed_students(str(error))
            if not failed:
                raise  # not a notebook's fault (gradebook, configuration): stop
            failures.update(failed)
    if failures:  # no graded notebook: no submission in the gradebook (nor an older one's scores)
        from nbgrader.api import Gradebook, MissingEntry

        with Gradebook(db_url(course)) as gradebook:
            for student in failures:
                try:
                    gradebook.remove_submission(assignment, student)
                except MissingEntry:
                    pass
    no_feedback = {}
    try:
        nbgrader(course, "generate_feedback", assignment, "--force", "--log-level=WARN")
    except RuntimeError as error:  # one notebook's feedback failed; the others' are written
        no_feedback = failed_students(str(error))
        if not no_feedback:
            raise
    nbgrader(course, "export", "--to", str(course / "grades.csv"), "--log-level=WARN")
    graded = results(course, assignment, failures, release)
    for result in graded:
        if result.student in no_feedback:
            result.problems.append(f"no feedback written: {no_feedback[result.student]}")
    return graded


def summary(assignment: str, graded: list[StudentResult]) -> str:
    lines = [f"{assignment}: {len(graded)} submission(s)", f"{'student':<24} {'score':>12}  problems"]
    for r in graded:
        lines.append(f"{r.student:<24} {r.score:>5.1f} / {r.max_score:<5.1f}  {'; '.join(r.problems) or '-'}")
    return "\n".join(lines)
