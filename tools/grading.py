"""The instructor's grading run with real nbgrader, used by `make grade` and the tests.

A course folder here is any folder with nbgrader_config.py, solutions/ and submitted/ (the
repository itself, or a temporary copy in the tests).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import nbformat

from sparkcourse.services import child_environment
from tools import ROOT
from tools.notebooks import nbgrader_meta


def nbgrader(course: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run an nbgrader command in ``course``; raise with its output when it fails.

    ``env``: variables to set on top of this process's environment.
    """
    # nbgrader calls the environment's `alembic` command: its bin/ must come first on PATH.
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course,
                            capture_output=True, text=True, env=child_environment(**(env or {})))
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


@functools.cache
def gradebook_schema() -> str:
    """The gradebook schema version (alembic head) of the installed nbgrader, read in this process.

    nbgrader's ``Gradebook`` asks an ``alembic`` subprocess for it each time it creates a new
    gradebook, which takes seconds; ``fast_new_gradebooks`` makes it ask this instead.
    """
    import nbgrader
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(Path(nbgrader.__file__).parent / "alembic"))
    return ScriptDirectory.from_config(config).get_current_head()


def fast_new_gradebooks() -> None:
    """New gradebooks created in this process get their schema version without a subprocess."""
    import nbgrader.api

    nbgrader.api.get_alembic_version = gradebook_schema


#: nbgrader's converters chdir into the course while they work, and the working directory is the
#: whole process's: in-process conversions (two shards graded from threads) take turns.
_CONVERTING = threading.Lock()


def register(course: Path, assignment: str) -> list:
    """Record the assignment's grade cells and checksums in the gradebook (course/ untouched).

    Returns the notebooks of this fresh release: what a learner started from.
    """
    with _CONVERTING, tempfile.TemporaryDirectory() as release:
        api = nbgrader_api(course, CourseDirectory={"release_directory": release, "db_url": db_url(course)})
        done = api.generate_assignment(assignment, force=True)
        if not done["success"]:
            raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{api_output(done)}")
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


def grade_cell_order(release: list) -> list[str]:
    """The grade cells' ids, in the order the released notebooks show them (the item analysis's order)."""
    return [nbgrader_meta(c)["grade_id"] for nb in release for c in nb.cells if nbgrader_meta(c).get("grade")]


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
            release: list | None = None, students: list[str] | None = None) -> list[StudentResult]:
    """Per student: total, per-cell scores and anything suspicious, from the gradebook.

    ``release``: the released notebooks to compare submissions with (default: course/<assignment>/).

    ``failures``: students whose autograding failed (kernel died, could not be interrupted),
    with nbgrader's reason.
    """
    from nbgrader.api import Gradebook, MissingEntry

    failures = failures or {}
    students = submitting_students(course, assignment) if students is None else sorted(students)
    out = []
    with Gradebook(db_url(course)) as gradebook:
        notebooks = gradebook.find_assignment(assignment).notebooks
        graded_cells = {c.name for nb in notebooks for c in nb.grade_cells}
        checksums = released_locked_cells(course, assignment, release)
        for nb in notebooks:  # the source's version, hidden tests included, is no edit either
            for c in nb.source_cells:
                if c.locked and c.checksum:
                    checksums.setdefault(c.name, set()).add(c.checksum)
        for student in students:
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


#: The start of a line of nbgrader's log: ``[AutogradeApp | ERROR]`` (command line) or ``[ERROR]`` (API).
LOG_LINE = re.compile(r"\[(\w+ \| )?(DEBUG|INFO|WARNING|ERROR|CRITICAL)\]")


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
                    if LOG_LINE.match(following) and trace:
                        break
                    trace.append(following.strip())
                reason = [t for t in trace if t and not t.startswith("[")]
                failed[student] = (reason[-1] if reason else failed[student])[:200]
    return failed


#: Memory one grading kernel needs at its peak (IPython kernel + Spark driver JVM), for JOBS' default.
GIB_PER_KERNEL = 1.5


def default_jobs() -> int:
    """Students graded at once when JOBS is not given: one per core, as many as memory holds."""
    import psutil

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    kernels = int(psutil.virtual_memory().available / 2**30 / GIB_PER_KERNEL)
    return max(1, min(cores, kernels))


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/3"`` -> (2, 3): the second of three shares of the students."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise ValueError(f"SHARD must be i/n with 1 <= i <= n, e.g. SHARD=1/2 (not {text!r})")
    return int(match.group(1)), int(match.group(2))


def shard_of(students: list[str], index: int, count: int) -> list[str]:
    """The students of share ``index`` (1-based) of ``count``: every count-th of the sorted list.

    Deterministic for the same submitted/ folder on every machine, and balanced (sizes differ by one).
    """
    return sorted(students)[index - 1::count]


def run_record_path(course: Path, assignment: str) -> Path:
    """Beside grades.csv: which students one grading run (or shard) graded, and what went wrong."""
    return course / f"grades-{assignment}.json"


def copy_submission(source, target, assignment: str, student: str) -> None:
    """Copy one student's graded submission between gradebooks (nbgrader's ``Gradebook`` API).

    Whatever ``target`` held for that student and assignment is replaced: scores, comments,
    flags, timestamp and extension, and the student's names if ``target`` has none.
    """
    from nbgrader.api import MissingEntry

    graded = source.find_submission(assignment, student)
    who = source.find_student(student)
    known = target.update_or_create_student(student)
    for name in ("first_name", "last_name", "email", "lms_user_id"):
        if getattr(known, name) is None and getattr(who, name) is not None:
            setattr(known, name, getattr(who, name))
    try:
        target.remove_submission(assignment, student)
    except MissingEntry:
        pass
    stamps = {name: getattr(graded, name) for name in ("timestamp", "extension") if getattr(graded, name) is not None}
    with warnings.catch_warnings():  # nbgrader's add_submission makes SQLAlchemy warn about its own objects
        warnings.simplefilter("ignore")
        target.add_submission(assignment, student, **stamps)
    for notebook in graded.notebooks:
        into = target.find_submission_notebook(notebook.name, assignment, student)
        into.flagged, into.late_submission_penalty = notebook.flagged, notebook.late_submission_penalty
        for grade in notebook.grades:
            mine = target.find_grade(grade.name, notebook.name, assignment, student)
            for name in ("auto_score", "manual_score", "extra_credit", "needs_manual_grade"):
                setattr(mine, name, getattr(grade, name))
        for comment in notebook.comments:
            mine = target.find_comment(comment.name, notebook.name, assignment, student)
            mine.auto_comment, mine.manual_comment = comment.auto_comment, comment.manual_comment
    target.db.commit()


@dataclass
class Outcome:
    """How one student's grading went: nbgrader's reason if autograding or feedback failed."""
    student: str
    failure: str | None = None
    no_feedback: str | None = None
    seconds: float = 0.0
    score: float = 0.0
    max_score: float = 0.0
    restarted: str | None = None  # why the first kernel died while starting, if it did


#: nbgrader's reason when a kernel exits before answering its first request, before any cell ran
#: (for one, a port that another process took between jupyter_client picking it and the kernel
#: binding it): the student is graded once more, in a new kernel. (nbgrader 0.9.6 declares
#: Execute.execute_retries but never reads it; its help text would rerun a notebook on any failure.)
KERNEL_DIED_STARTING = "Kernel died before replying to kernel_info"
KERNEL_RESTARTED = "the grading kernel died while starting, before any cell ran: graded again in a new kernel"


def _grade_student(course: Path, assignment: str, student: str, base_db: Path, scratch: Path,
                   stored: bool) -> Outcome:
    """Autograde one student and write their feedback, in an nbgrader process of their own.

    Their own copy of the gradebook (nothing else writes to it), their own work folder
    (SPARKCOURSE_WORKDIR) and a fresh kernel: nothing they do reaches another student. A kernel
    that dies while starting (KERNEL_DIED_STARTING) is the machine's fault, not the student's:
    they are graded once more from scratch, and the outcome says so.
    """
    start = time.monotonic()
    outcome = _grade_student_once(course, assignment, student, base_db, scratch, stored)
    if outcome.failure and KERNEL_DIED_STARTING in outcome.failure:
        reason = outcome.failure
        outcome = _grade_student_once(course, assignment, student, base_db, scratch, stored)
        outcome.restarted = reason
    outcome.seconds = time.monotonic() - start
    return outcome


def _grade_student_once(course: Path, assignment: str, student: str, base_db: Path, scratch: Path,
                        stored: bool) -> Outcome:
    from nbgrader.api import Gradebook

    outcome = Outcome(student)
    db = scratch / f"{student}.db"
    shutil.copy(base_db, db)
    workdir = scratch / f"{student}-workdir"
    workdir.mkdir()
    feedback = course / "feedback" / student / assignment
    shutil.rmtree(feedback, ignore_errors=True)  # never an older run's feedback for this run's grades
    code, log = _worker(_grade_student_in_this_process, course, assignment, student, f"sqlite:///{db}", stored,
                        SPARKCOURSE_WORKDIR=str(workdir))
    failed = failed_students(log) if code in (AUTOGRADE_FAILED, FEEDBACK_FAILED) else {}
    if code != 0 and student not in failed:  # not the notebook's fault (gradebook, configuration)
        raise RuntimeError(f"nbgrader could not grade {student}'s {assignment}:\n{log}")
    if code == AUTOGRADE_FAILED:
        outcome.failure = failed[student]
    elif code == FEEDBACK_FAILED:
        outcome.no_feedback = failed[student]
    if outcome.failure is None:
        with Gradebook(f"sqlite:///{db}") as gradebook:
            submission = gradebook.find_submission(assignment, student)
            outcome.score, outcome.max_score = submission.score, submission.max_score
    shutil.rmtree(workdir, ignore_errors=True)
    if feedback.parent.is_dir() and not any(feedback.parent.iterdir()):
        feedback.parent.rmdir()
    return outcome


#: The student worker's exit codes when nbgrader fails at a step (its log says for whom and why).
AUTOGRADE_FAILED, FEEDBACK_FAILED = 3, 4


def _grade_student_in_this_process(course: Path, assignment: str, student: str, db: str, stored: bool) -> None:
    """Autograde, then feedback, with nbgrader's API, in the student's worker (``_worker``)."""
    api = nbgrader_api(course, CourseDirectory={"db_url": db}, **(STORED_OUTPUTS if stored else {}))
    for step, code in ((api.autograde, AUTOGRADE_FAILED), (api.generate_feedback, FEEDBACK_FAILED)):
        result = step(assignment, student, force=True)
        if not result["success"]:
            print(api_output(result))
            raise SystemExit(code)


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


def progress_line(done: int, total: int, outcome: Outcome, elapsed: float) -> str:
    """``[ 3/24] alice  2.0 / 5.0  14.2 s   0:41 elapsed, about 2:10 left``."""
    width = len(str(total))
    score = "failed" if outcome.failure else f"{outcome.score:.1f} / {outcome.max_score:.1f}"
    left = elapsed / done * (total - done)
    eta = f"about {_clock(left)} left" if done < total else "done"
    return (f"[{done:>{width}}/{total}] {outcome.student:<20} {score:>11}  {outcome.seconds:6.1f} s   "
            f"{_clock(elapsed)} elapsed, {eta}")


def grade_students(course: Path, assignment: str, students: list[str], jobs: int = 1,
                   stored: tuple[str, ...] = (), progress=None) -> dict[str, Outcome]:
    """Autograde ``students`` (``jobs`` at once) and merge each into the course's gradebook.

    nbgrader's SQLite gradebook takes one writer: each student is graded against a private copy
    of it, and this process alone copies their scores into gradebook.db, one student at a time.
    ``progress``: called with a line of text as each student is done.
    """
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    from nbgrader.api import Gradebook, MissingEntry

    outcomes: dict[str, Outcome] = {}
    with tempfile.TemporaryDirectory(prefix="sparkcourse-grading-") as scratch:
        scratch = Path(scratch)
        base = scratch / "base.db"
        shutil.copy(course / "gradebook.db", base)
        with Gradebook(f"sqlite:///{base}") as gradebook:  # every student starts from no submission
            for student in [s.student.id for s in gradebook.assignment_submissions(assignment)]:
                gradebook.remove_submission(assignment, student)
        start = time.monotonic()
        with Gradebook(db_url(course)) as main, ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for student in students:  # in sorted order, whatever order they finish in
                main.update_or_create_student(student)
            pending = {pool.submit(_grade_student, course, assignment, student, base, scratch, student in stored)
                       for student in students}
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    if future.exception() is not None:
                        for other in pending:
                            other.cancel()
                        raise future.exception()
                    outcome = future.result()
                    if outcome.failure:  # no graded notebook: no submission (nor an older run's scores)
                        try:
                            main.remove_submission(assignment, outcome.student)
                        except MissingEntry:
                            pass
                    else:
                        with Gradebook(f"sqlite:///{scratch / f'{outcome.student}.db'}") as own:
                            copy_submission(own, main, assignment, outcome.student)
                    outcomes[outcome.student] = outcome
                    if progress:
                        progress(progress_line(len(outcomes), len(students), outcome, time.monotonic() - start))
    return outcomes


def write_run_record(course: Path, assignment: str, roster: list[str], outcomes: dict[str, Outcome],
                     shard: tuple[int, int] | None) -> None:
    record = {"assignment": assignment, "shard": f"{shard[0]}/{shard[1]}" if shard else None,
              "roster": sorted(roster),
              "students": {s: {"failure": o.failure, "no_feedback": o.no_feedback, "seconds": round(o.seconds, 1),
                               "restarted": o.restarted} for s, o in sorted(outcomes.items())}}
    run_record_path(course, assignment).write_text(json.dumps(record, indent=1) + "\n")


def _finish(course: Path, assignment: str, release: list, outcomes: dict[str, Outcome],
            students: list[str], report: bool) -> list[StudentResult]:
    """grades.csv from the gradebook, the per-student report, and the item analysis."""
    export_grades(course)
    failures = {s: o.failure for s, o in outcomes.items() if o.failure}
    graded = results(course, assignment, failures, release, students)
    for result in graded:
        outcome = outcomes[result.student]
        if outcome.no_feedback:
            result.problems.append(f"no feedback written: {outcome.no_feedback}")
        if outcome.restarted:
            result.problems.append(KERNEL_RESTARTED)
    if report:
        from tools.items import write_item_report

        write_item_report(course, assignment, {r.student: r.cells for r in graded}, grade_cell_order(release))
    return graded


def grade(course: Path, assignment: str, from_stored_outputs: tuple[str, ...] = (), jobs: int = 1,
          shard: tuple[int, int] | None = None, progress=None, report: bool = True) -> list[StudentResult]:
    """Register, autograde every submission, write feedback (without hidden tests) and grades.csv.

    Each student is graded by nbgrader on their own, in a fresh kernel, ``jobs`` students at a
    time (see ``grade_students``): a notebook that kills its kernel or cannot be interrupted is
    reported and scored 0, and nobody else is affected. ``shard=(i, n)``: only the i-th of n
    shares of the students (``shard_of``); ``merge`` combines the shards' results.

    Students in ``from_stored_outputs`` are graded on the outputs saved in their notebook, without
    running it again (the tests use this for the solutions, whose stored outputs nbval proves are
    what a fresh run produces); everyone else is executed from scratch, as always in `make grade`.

    Besides grades.csv: ``grades-<assignment>.json`` (the run's students and failures) and, with
    ``report``, the item analysis ``item-analysis-<assignment>.md`` and ``.png``.
    """
    roster = submitting_students(course, assignment)
    if not roster:
        raise SystemExit(f"No submissions: put them in {course}/submitted/<student>/{assignment}/ first.")
    students = shard_of(roster, *shard) if shard else roster
    release = register(course, assignment)
    outcomes = grade_students(course, assignment, students, jobs, tuple(from_stored_outputs), progress)
    write_run_record(course, assignment, roster, outcomes, shard)
    return _finish(course, assignment, release, outcomes, students, report)


def grade_stored_outputs(course: Path, assignments: list[str], student: str) -> dict[str, list[StudentResult]]:
    """Grade one student's submissions of several assignments on their stored outputs, in one
    nbgrader process (its start-up costs more than grading a stored notebook).

    For checking the course itself: the tests grade the solutions this way (nbval proves their
    stored outputs are what a fresh run gives). Every step is nbgrader's own (generate_assignment,
    autograde without executing, generate_feedback), then nbgrader's export of grades.csv (``export_grades``).
    """
    code, log = _worker(_grade_stored_in_this_process, course, student, assignments)
    if code != 0:
        raise RuntimeError(f"nbgrader could not grade {student}'s {', '.join(assignments)}:\n{log}")
    export_grades(course)
    return {assignment: results(course, assignment, students=[student]) for assignment in assignments}


#: nbgrader's `--no-db` for generate_assignment: a release that writes to no gradebook.
NO_DATABASE = {"GenerateAssignment": {"no_database": True}, "SaveCells": {"enabled": False}}
#: nbgrader settings that grade a notebook on the outputs it holds, without running it.
STORED_OUTPUTS = {"Execute": {"enabled": False}, "ClearOutput": {"enabled": False}}


def api_output(result: dict) -> str:
    """The log and traceback of an nbgrader API call (either may be missing)."""
    return f"{result.get('log', '')}{result.get('error', '')}"


#: What every worker imports: loaded once, by the process the workers are forked from.
WORKER_PRELOAD = ["tools.grading", "nbgrader.apps", "nbgrader.converters.autograde",
                  "nbgrader.converters.generate_feedback", "nbclient"]


@functools.cache
def _worker_context():
    """Workers are forked from one server process that has imported WORKER_PRELOAD (about 2.7
    CPU-s that a fresh Python process per student would pay again); each fork is a new process,
    so nothing one student's grading does reaches another's."""
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(WORKER_PRELOAD)
    return context


def _worker(function, *args, **env: str) -> tuple[int, str]:
    """``function(*args)`` (a module-level function) in a process of its own, with ``env`` on top of
    the environment nbgrader's subprocesses get: its exit code and its output (stdout and stderr)."""
    with tempfile.TemporaryDirectory(prefix="sparkcourse-worker-") as folder:
        log = Path(folder) / "output.log"
        process = _worker_context().Process(target=_worker_main,
                                            args=(function, args, child_environment(**env), str(log)))
        process.start()
        process.join()
        return process.exitcode, log.read_text(errors="replace") if log.exists() else ""


def _worker_main(function, args: tuple, env: dict[str, str], log: str) -> None:
    """In the worker: ``env`` as the whole environment (not the fork server's, from when it
    started), the repository as working directory, stdout and stderr into ``log``."""
    os.environ.clear()
    os.environ.update(env)
    os.chdir(ROOT)
    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    for stream, fd in ((sys.stdout, 1), (sys.stderr, 2)):
        stream.flush()
        os.dup2(out, fd)
    os.close(out)
    function(*args)


def nbgrader_api(course: Path, **settings: dict):
    """nbgrader's API in this process, over ``course`` with its nbgrader_config.py and ``settings``
    on top (per section, e.g. ``Execute={"enabled": False}``): one process for many steps, whose
    start-up costs more than each step."""
    fast_new_gradebooks()
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    config.CourseDirectory.root = str(course)
    for section, values in settings.items():
        for name, value in values.items():
            setattr(config[section], name, value)
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def export_grades(course: Path) -> Path:
    """``course``/grades.csv, as ``nbgrader export`` writes it: its CSV plugin over the course's
    gradebook, in this process (a process of its own costs more than the export)."""
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin

    api = nbgrader_api(course)
    target = course / "grades.csv"
    quiet = logging.getLogger("tools.grading.export")  # as `nbgrader export --log-level=WARN`
    quiet.setLevel(logging.WARNING)
    plugin = CsvExportPlugin(config=api.config, to=str(target), log=quiet)
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gradebook:
        plugin.export(gradebook)
    return target


def _grade_stored_in_this_process(course: Path, student: str, assignments: list[str]) -> None:
    api = nbgrader_api(course, **STORED_OUTPUTS)
    for assignment in assignments:
        for step, outcome in (("generate_assignment", lambda: api.generate_assignment(assignment, force=True)),
                              ("autograde", lambda: api.autograde(assignment, student, force=True)),
                              ("generate_feedback", lambda: api.generate_feedback(assignment, student, force=True))):
            result = outcome()
            if not result["success"]:
                raise SystemExit(f"nbgrader {step} {assignment} failed:\n{api_output(result)}")


class MergeError(ValueError):
    """Shards that cannot be merged as they are; the message says why."""


def merge(course: Path, assignment: str, sources: list[Path], report: bool = True) -> list[StudentResult]:
    """Combine the grading of shards (course folders graded with ``shard=(i, n)``) into ``course``.

    Every shard 1..n must be there once, all graded from the same roster as ``course``'s
    submitted/ and with the same grade cells. Their gradebook entries, autograded notebooks and
    feedback are copied in; grades.csv, the report and the item analysis are then made here, as
    if one run had graded everyone. ``course`` may be one of the shards.
    """
    from nbgrader.api import Gradebook, MissingEntry

    course = Path(course).resolve()
    sources = [Path(s).resolve() for s in sources]
    roster = submitting_students(course, assignment)
    records = {}
    for source in sources:
        path = run_record_path(source, assignment)
        if not path.is_file():
            raise MergeError(f"{source}: no {path.name}; grade it first with make grade A={assignment} SHARD=i/n")
        records[source] = json.loads(path.read_text())
    shards = sorted((r["shard"] or "1/1", str(s)) for s, r in records.items())
    counts = {parse_shard(name)[1] for name, _ in shards}
    indexes = sorted(parse_shard(name)[0] for name, _ in shards)
    if len(counts) != 1 or indexes != list(range(1, counts.copy().pop() + 1)):
        raise MergeError("need every shard exactly once, got: " + ", ".join(f"{n} ({s})" for n, s in shards))
    for source, record in records.items():
        if record["roster"] != roster:
            raise MergeError(f"{source} was graded from other submissions than {course}/submitted/ "
                             f"(students differ: {sorted(set(record['roster']) ^ set(roster))})")
        expected = shard_of(roster, *parse_shard(record["shard"] or "1/1"))
        if sorted(record["students"]) != expected:
            raise MergeError(f"{source} graded {sorted(record['students'])}, not its shard {expected}")
    release = register(course, assignment)
    with Gradebook(db_url(course)) as main:
        cells = sorted((c.name, c.max_score) for nb in main.find_assignment(assignment).notebooks for c in nb.grade_cells)
        for student in roster:
            main.update_or_create_student(student)
        outcomes = {}
        for source, record in records.items():
            with Gradebook(db_url(source)) as shard:
                theirs = sorted((c.name, c.max_score) for nb in shard.find_assignment(assignment).notebooks
                                for c in nb.grade_cells)
                if theirs != cells:
                    raise MergeError(f"{source} was graded with other grade cells: {theirs} (here: {cells})")
                for student, what in record["students"].items():
                    outcomes[student] = Outcome(student, what["failure"], what["no_feedback"], what["seconds"],
                                                restarted=what.get("restarted"))
                    if source == course:
                        continue
                    if what["failure"]:
                        try:
                            main.remove_submission(assignment, student)
                        except MissingEntry:
                            pass
                    else:
                        copy_submission(shard, main, assignment, student)
                    for folder in ("autograded", "feedback"):
                        target = course / folder / student / assignment
                        shutil.rmtree(target, ignore_errors=True)
                        if (source / folder / student / assignment).is_dir():
                            shutil.copytree(source / folder / student / assignment, target)
    write_run_record(course, assignment, roster, outcomes, None)
    return _finish(course, assignment, release, outcomes, roster, report)


def summary(assignment: str, graded: list[StudentResult]) -> str:
    lines = [f"{assignment}: {len(graded)} submission(s)", f"{'student':<24} {'score':>12}  problems"]
    for r in graded:
        lines.append(f"{r.student:<24} {r.score:>5.1f} / {r.max_score:<5.1f}  {'; '.join(r.problems) or '-'}")
    return "\n".join(lines)
