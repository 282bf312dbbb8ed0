"""Grading that cannot be fooled: adversarial submissions graded by real nbgrader with real Spark.

Each test builds a temporary course (tmp_path), collects its students from a zip with
`nbgrader zip_collect` where it says so, and grades them all in one run (tools.grading.grade).
The fixture assignment (tests/fixtures/grading_fixture) is tiny: one pure Python exercise, one
Spark exercise, hidden tests in both; its per-cell timeout is short, set only in the temporary
course. docs/grading-integrity.md has the table of cases, expectations and observations.
"""

from __future__ import annotations

import csv
import html
import json
import re
import shutil
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager

from tools.grading import (KERNEL_DIED_STARTING, KERNEL_RESTARTED, NO_DATABASE, api_output, collect, db_url, grade,
                           nbgrader_api, run_record_path)
from tools.bootstrap import KERNEL_NAME
from tools.notebooks import nbgrader_meta
from tools import ROOT

FIXTURE = "grading_fixture"
TIMEOUT = 20  # per cell, fixture only: a Spark start on a loaded 2-core machine fits (8 s at load 4.4)
# Two students at once, as `make grade` does on two cores: the adversaries are graded beside each
# other, and one's waits (a kernel or JVM starting, the loop until its timeout) overlap another's work.
JOBS = 2
pytestmark = pytest.mark.notebooks

SOLUTION = {
    "ex_1_double": "def double(x):\n    return 2 * x",
    "ex_2_total_by": ("from pyspark.sql import functions as F\n\n\ndef total_by(df, key, value):\n"
                      '    return df.groupBy(key).agg(F.sum(value).alias("total")).orderBy(key)'),
}
WRONG = {
    "ex_1_double": "def double(x):\n    return x",
    "ex_2_total_by": "def total_by(df, key, value):\n    return df",
}
# Pass the visible checks, not the hidden ones.
HARD_CODED = {
    "ex_1_double": "def double(x):\n    return 4",
    "ex_2_total_by": ("def total_by(df, key, value):\n"
                      '    return spark.createDataFrame([("a", 4), ("b", 2)], f"{key} string, total bigint")'),
}
FULL = {"ex_1_double_test": 1.0, "ex_2_total_by_test": 2.0}
ZERO = {"ex_1_double_test": 0.0, "ex_2_total_by_test": 0.0}


def make_course(tmp_path: Path, assignment: str, source: Path, timeout: int | None = None) -> Path:
    """A course folder with the repository's nbgrader config, one assignment and its release."""
    course = tmp_path / "course"
    (course / "solutions").mkdir(parents=True)
    config = (ROOT / "nbgrader_config.py").read_text()
    if timeout:
        config += f"\nc.Execute.timeout = {timeout}  # the tests' fixture only\n"
    (course / "nbgrader_config.py").write_text(config)
    shutil.copytree(source, course / "solutions" / assignment)
    done = nbgrader_api(course, **NO_DATABASE).generate_assignment(assignment, force=True)  # in this process
    assert done["success"], api_output(done)
    return course


def released(course: Path, assignment: str):
    return nbformat.read(course / "course" / assignment / f"{assignment}.ipynb", as_version=4)


def cell(nb, grade_id: str):
    return next(c for c in nb.cells if nbgrader_meta(c).get("grade_id") == grade_id)


def submission(course: Path, assignment: str, answers: dict[str, str] | None = None,
               edits: dict[str, str] | None = None, delete: tuple[str, ...] = (), strip: tuple[str, ...] = (),
               append: str | None = None):
    """The release with answers in solution cells, edited or deleted cells, stripped metadata."""
    nb = released(course, assignment)
    for grade_id, source in {**(answers or {}), **(edits or {})}.items():
        cell(nb, grade_id).source = source
    for grade_id in strip:
        del cell(nb, grade_id).metadata["nbgrader"]
    nb.cells = [c for c in nb.cells if nbgrader_meta(c).get("grade_id") not in delete]
    if append:
        nb.cells.append(nbformat.v4.new_code_cell(append))
    return nb


def write_zip(path: Path, assignment: str, students: dict) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for student, nb in students.items():
            archive.writestr(f"downloads/{student}/{assignment}.ipynb", nbformat.writes(nb))
    return path


def scores(result) -> dict[str, float]:
    return {name: score for name, (score, _) in result.cells.items()}


def feedback_text(course: Path, student: str, assignment: str) -> str:
    """The feedback as a reader sees it: tags removed, entities decoded."""
    page = (course / "feedback" / student / assignment / f"{assignment}.html").read_text()
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def autograded_errors(course: Path, student: str, assignment: str, grade_id: str) -> list[str]:
    nb = nbformat.read(course / "autograded" / student / assignment / f"{assignment}.ipynb", as_version=4)
    return [o.ename for o in cell(nb, grade_id).outputs if o.output_type == "error"]


def gradebook_state(course: Path, assignment: str) -> list[tuple]:
    from nbgrader.api import Gradebook

    with Gradebook(db_url(course)) as gradebook:
        return sorted((s.student_id, g.name, g.score, g.max_score)
                      for s in gradebook.assignment_submissions(assignment)
                      for nb in s.notebooks for g in nb.grades)


def _grade_twice_is_idempotent(course: Path, assignment: str, graded: dict, **options) -> None:
    """Grading again changes nothing: same grades.csv, same gradebook, same report."""
    first_csv, first_db = (course / "grades.csv").read_text(), gradebook_state(course, assignment)
    again = {r.student: r for r in grade(course, assignment, **options)}
    assert (course / "grades.csv").read_text() == first_csv
    assert gradebook_state(course, assignment) == first_db
    assert {s: (r.score, r.cells, r.problems) for s, r in again.items()} == {
        s: (r.score, r.cells, r.problems) for s, r in graded.items()}
    rows = {row["student_id"]: float(row["score"]) for row in csv.DictReader(first_csv.splitlines())}
    assert rows == {s: r.score for s, r in graded.items()}


def _assert_no_hidden_tests(course: Path, assignment: str, students, hidden: list[str]) -> None:
    for student in students:
        text = feedback_text(course, student, assignment)
        shown = [line for line in ["BEGIN HIDDEN TESTS", *hidden] if line in text]
        assert shown == [], f"{student}'s feedback shows {shown}"


FIXTURE_HIDDEN = ["for v in (-3, 0, 10)", 'other = spark.createDataFrame([("x", 5)',
                  'assert [tuple(r) for r in total_by(other, "team", "points").collect()]']
# Not in the feedback of students who did not write it themselves.
FIXTURE_SOLUTION = ['return df.groupBy(key).agg(F.sum(value).alias("total")).orderBy(key)']


def test_fixture_cases_one_run(tmp_path):
    """Every asserted case on the fixture: students collected from one zip, graded in one run.
    The blank release, the solution and a killed kernel are the cohort's (test_grading_cohort.py)."""
    course = make_course(tmp_path, FIXTURE, ROOT / "tests" / "fixtures" / FIXTURE, timeout=TIMEOUT)
    sub = lambda **kw: submission(course, FIXTURE, **kw)  # noqa: E731
    students = {
        # one grade cell deleted, the other stripped of its metadata
        "tampered": sub(answers=SOLUTION, delete=("ex_1_double_test",), strip=("ex_2_total_by_test",)),
        "weakened": sub(answers=WRONG, edits={"ex_1_double_test": "pass", "ex_2_total_by_test": "pass"}),
        "hardcoded": sub(answers=HARD_CODED),
        # it waits rather than spins: the timeout interrupts either, and a spinning loop would take a
        # core from the other test worker for the whole timeout
        "looping": sub(answers={**SOLUTION, "ex_2_total_by": "import time\n\nwhile True:\n    time.sleep(0.1)"}),
        "stopper": sub(answers={**SOLUTION, "ex_2_total_by": SOLUTION["ex_2_total_by"] + "\n\n\nspark.stop()"}),
        # visible checks made no-ops, AssertionError replaced; the hidden tests are plain asserts
        "patcher": sub(answers={**HARD_CODED, "ex_1_double": (
            "import builtins\nimport sparkcourse.checks\n\n"
            "sparkcourse.checks.check_close = lambda *a, **k: None\n"
            "sparkcourse.checks.check_columns = lambda *a, **k: None\n"
            "builtins.AssertionError = type('Quiet', (Exception,), {})\n\n\n"
            "def double(x):\n    return 4")}),
    }
    zipped = write_zip(tmp_path / "downloads.zip", FIXTURE, students)
    assert collect(course, FIXTURE, zipped) == sorted(students)

    graded = {r.student: r for r in grade(course, FIXTURE, jobs=JOBS)}
    assert sorted(graded) == sorted(students)

    # deleted or stripped grade cells: 0 for each, and the report names the student and the cells
    assert scores(graded["tampered"]) == ZERO
    assert graded["tampered"].problems == ["grade cells deleted or stripped: ex_1_double_test, ex_2_total_by_test"]

    # weakened tests: the originals are restored and applied, and the edit is reported
    assert scores(graded["weakened"]) == ZERO
    assert graded["weakened"].problems == [
        "locked cells edited (originals restored for grading): ex_1_double_test, ex_2_total_by_test"]
    assert autograded_errors(course, "weakened", FIXTURE, "ex_1_double_test") == ["CheckFailed"]

    # hard-coded answers pass the visible checks and fail the hidden ones
    assert scores(graded["hardcoded"]) == ZERO and graded["hardcoded"].problems == []
    for grade_id in FULL:
        assert autograded_errors(course, "hardcoded", FIXTURE, grade_id) == ["AssertionError"]

    # an endless loop is interrupted at the timeout; the cells after it still run
    assert scores(graded["looping"]) == {"ex_1_double_test": 1.0, "ex_2_total_by_test": 0.0}
    assert "CellTimeoutError" in autograded_errors(course, "looping", FIXTURE, "ex_2_total_by")
    assert autograded_errors(course, "looping", FIXTURE, "ex_2_total_by_test") == ["NameError"]

    rows = {row["student_id"]: float(row["score"]) for row in csv.DictReader((course / "grades.csv").open())}
    assert rows == {s: r.score for s, r in graded.items()}

    # spark.stop() in an answer: the Spark check after it fails, the earlier exercise keeps its point
    assert scores(graded["stopper"]) == {"ex_1_double_test": 1.0, "ex_2_total_by_test": 0.0}

    # no-op helpers and a replaced AssertionError do not stop the hidden asserts; the code is named
    assert scores(graded["patcher"]) == ZERO
    assert autograded_errors(course, "patcher", FIXTURE, "ex_1_double_test") == ["AssertionError"]
    assert "replaces checking helpers or builtins" in graded["patcher"].problems[-1]

    # the loop was stopped at the configured timeout (the kernel's own timestamps). The client's
    # clock starts when it sends the cell, the kernel's when it receives it: a loaded machine
    # measured 19.9998 s for a 20 s timeout, so a second is allowed below.
    stamps = cell(nbformat.read(course / "autograded" / "looping" / FIXTURE / f"{FIXTURE}.ipynb", as_version=4),
                  "ex_2_total_by").metadata["execution"]
    looped = (datetime.fromisoformat(stamps["shell.execute_reply"].rstrip("Z"))
              - datetime.fromisoformat(stamps["iopub.execute_input"].rstrip("Z"))).total_seconds()
    assert TIMEOUT - 1 <= looped < 2 * TIMEOUT, looped

    # feedback: no hidden test and no solution anywhere, not even in tracebacks of failed hidden asserts
    _assert_no_hidden_tests(course, FIXTURE, sorted(students), FIXTURE_HIDDEN)
    _assert_no_hidden_tests(course, FIXTURE, ["weakened", "hardcoded", "patcher"], FIXTURE_SOLUTION)
    assert "AssertionError" in feedback_text(course, "hardcoded", FIXTURE)
    assert "CheckFailed: double(2)" in feedback_text(course, "weakened", FIXTURE)


# Reads the source notebook from the course folder (an ancestor of the kernel's folder) and runs
# its solution cells: a copy of the solutions made at grading time.
READER = """import json, pathlib

_root = next(p for p in pathlib.Path.cwd().parents if (p / "solutions").is_dir())
for _cell in json.loads((_root / "solutions/grading_fixture/grading_fixture.ipynb").read_text())["cells"]:
    if _cell["metadata"].get("nbgrader", {}).get("solution"):
        exec("".join(_cell["source"]))"""

# An input transformer that empties every later check cell (they start with '''Check) before it runs.
TRANSFORMER = """def _skip_checks(lines):
    return [] if lines and lines[0].startswith("'''Check") else lines


get_ipython().input_transformers_cleanup.append(_skip_checks)


def double(x):
    return x"""

# Prints the hidden tests from the gradebook, and the source of the check that calls it.
LEAKER = """import inspect, pathlib, sqlite3

_db = next(p for p in pathlib.Path.cwd().parents if (p / "gradebook.db").is_file()) / "gradebook.db"
for (_source,) in sqlite3.connect(_db).execute("select source from source_cell"):
    print(_source)


def double(x):
    print(inspect.getsource(inspect.currentframe().f_back))
    return x"""


def test_fixture_limits_observed(tmp_path):
    """What nbgrader cannot stop (student code runs unsandboxed in the grading kernel): observed
    scores, the report naming the code for review, and feedback that still shows no hidden test."""
    course = make_course(tmp_path, FIXTURE, ROOT / "tests" / "fixtures" / FIXTURE, timeout=TIMEOUT)
    sub = lambda **kw: submission(course, FIXTURE, **kw)  # noqa: E731
    students = {
        # errors swallowed by a custom handler: the kernel still replies "error" and nbgrader sees it
        "handler": sub(answers={**WRONG, "ex_1_double": (
            "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)\n\n\n"
            "def double(x):\n    return x")}),
        "transformer": sub(answers={**WRONG, "ex_1_double": TRANSFORMER}),
        "reader": sub(answers={"ex_1_double": READER, "ex_2_total_by": READER}),
        "leaker": sub(answers={**WRONG, "ex_1_double": LEAKER}),
        # hidden-test markers outside a check cell: nbgrader cannot write this student's feedback
        "saboteur": sub(answers=SOLUTION, append="### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS"),
    }
    for student, nb in students.items():
        target = course / "submitted" / student / FIXTURE
        target.mkdir(parents=True)
        nbformat.write(nb, target / f"{FIXTURE}.ipynb")

    graded = {r.student: r for r in grade(course, FIXTURE, jobs=JOBS)}

    assert scores(graded["handler"]) == ZERO  # caught
    assert scores(graded["transformer"]) == FULL  # NOT caught: full marks for wrong answers
    assert scores(graded["reader"]) == FULL  # NOT caught: the solutions are readable
    assert scores(graded["leaker"]) == ZERO
    leaked = nbformat.read(course / "autograded" / "leaker" / FIXTURE / f"{FIXTURE}.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in leaked.cells for o in c.get("outputs", []))
    assert "for v in (-3, 0, 10)" in printed  # the gradebook is readable from the grading kernel
    reasons = {"handler": "changes how the kernel runs cells", "transformer": "changes how the kernel runs cells",
               "reader": "reads the grading files", "leaker": "reads the grading files"}
    for student, reason in reasons.items():
        assert reason in graded[student].problems[-1], (student, graded[student].problems)
    # the saboteur is graded, only their feedback is missing, and the report says so
    assert scores(graded["saboteur"]) == FULL
    assert graded["saboteur"].problems == [
        "no feedback written: RuntimeError: Hidden test region detected in a non-grade cell; please make sure "
        "all solution regions are within 'Autograder tests' cells."]
    assert not (course / "feedback" / "saboteur").exists()
    _assert_no_hidden_tests(course, FIXTURE, set(students) - {"saboteur"}, FIXTURE_HIDDEN)  # printed, then redacted
    _assert_no_hidden_tests(course, FIXTURE, ["handler", "transformer", "reader", "leaker"], FIXTURE_SOLUTION)
    assert "[hidden test]" in feedback_text(course, "leaker", FIXTURE)


SETUP_HIDDEN = ['got = [(r["island"], r["n"]) for r in count_by(penguins, "island").collect()]',
                'check_equal(got, [("Biscoe", 168), ("Dream", 124), ("Torgersen", 52)]',
                '("Adelie", "female", 73, 3368.8), ("Adelie", "male", 73, 4043.5),',
                'rows = [(r["species"], r["sex"], r["n"], r["mean_mass_g"]) for r in mass_by_species_and_sex(other)',
                'check_equal(rows, [("Y", "y", 1, 8.0), ("Z", "x", 3, 1.7)],']
HARD_CODED_COUNT_BY = '''def count_by(df, column):
    return spark.createDataFrame([("Adelie", 152), ("Chinstrap", 68), ("Gentoo", 124)], f"{column} string, n bigint")'''
# sorted by species, then the larger group first: right on the worked example and the first row of the
# penguins (the visible checks), wrong for the Gentoo rows (a hidden check)
HALF_DONE_MASS = '''def mass_by_species_and_sex(df):
    return (df.dropna(subset=["sex", "body_mass_g"]).groupBy("species", "sex")
            .agg(F.count("*").alias("n"), F.round(F.avg("body_mass_g"), 1).alias("mean_mass_g"))
            .orderBy("species", F.desc("n"), "sex"))'''


def test_setup_lesson_cases(tmp_path):
    """00_setup, the real lesson: the solution and tampered copies of it are graded on their stored
    outputs, the adversarial submission is executed; grading again changes nothing."""
    lesson = "00_setup"
    course = make_course(tmp_path, lesson, ROOT / "solutions" / lesson)
    solution = nbformat.read(ROOT / "solutions" / lesson / f"{lesson}.ipynb", as_version=4)

    def tampered(delete=(), strip=()):
        nb = nbformat.from_dict(solution)
        for grade_id in strip:  # as from the release: no hidden tests in it
            stripped = cell(nb, grade_id)
            del stripped.metadata["nbgrader"]
            stripped.source = stripped.source.split("### BEGIN HIDDEN TESTS")[0]
        nb.cells = [c for c in nb.cells if nbgrader_meta(c).get("grade_id") not in delete]
        return nb

    students = {
        "solution": solution,
        "deleted": tampered(delete=("ex00_1_count_by_test",)),
        "stripped": tampered(strip=("ex00_2_mass_by_sex_test",)),
        # count_by right for species only, with its check replaced by `pass`; a half-done ex00_2
        # that passes the visible checks and fails a hidden assertion
        "adversary": submission(course, lesson, answers={"ex00_1_count_by": HARD_CODED_COUNT_BY,
                                                         "ex00_2_mass_by_sex": HALF_DONE_MASS},
                                edits={"ex00_1_count_by_test": "pass"}),
    }
    zipped = write_zip(tmp_path / "downloads.zip", lesson, students)
    assert collect(course, lesson, zipped) == sorted(students)
    stored = ("solution", "deleted", "stripped")
    graded = {r.student: r for r in grade(course, lesson, from_stored_outputs=stored)}

    full = {"ex00_1_count_by_test": 2.0, "ex00_2_mass_by_sex_test": 3.0}
    assert scores(graded["solution"]) == full and graded["solution"].problems == []
    assert scores(graded["deleted"]) == {**full, "ex00_1_count_by_test": 0.0}
    assert graded["deleted"].problems == ["grade cells deleted or stripped: ex00_1_count_by_test"]
    assert scores(graded["stripped"]) == {**full, "ex00_2_mass_by_sex_test": 0.0}
    assert graded["stripped"].problems == ["grade cells deleted or stripped: ex00_2_mass_by_sex_test"]
    adversary = graded["adversary"]
    assert scores(adversary) == {"ex00_1_count_by_test": 0.0, "ex00_2_mass_by_sex_test": 0.0}
    assert adversary.problems == ["locked cells edited (originals restored for grading): ex00_1_count_by_test"]
    assert autograded_errors(course, "adversary", lesson, "ex00_2_mass_by_sex_test") == ["CheckFailed"]

    # nbgrader's traceback of the failed hidden assertion quotes its line; the feedback does not
    executed = nbformat.read(course / "autograded" / "adversary" / lesson / f"{lesson}.ipynb", as_version=4)
    traceback = "".join(line for o in cell(executed, "ex00_2_mass_by_sex_test").outputs
                        if o.output_type == "error" for line in o.traceback)
    failing_line = '("Gentoo", "female", 58, 4679.7), ("Gentoo", "male", 61, 5484.8),'
    assert failing_line in re.sub(r"\x1b\[[0-9;]*m", "", traceback)
    text = feedback_text(course, "adversary", lesson)
    assert "CheckFailed: the rows of mass_by_species_and_sex(penguins)[4][1] should be 'female', but it is 'male'." in text
    assert failing_line not in text
    _assert_no_hidden_tests(course, lesson, students, SETUP_HIDDEN)
    _assert_no_hidden_tests(course, lesson, ["adversary"],
                            ['return df.groupBy(column).agg(F.count("*").alias("n")).orderBy(column)', "BEGIN SOLUTION"])

    _grade_twice_is_idempotent(course, lesson, graded, from_stored_outputs=stored)


# A kernel that exits at its first start, before it answers (as one does whose port another process
# took), then starts as the course kernel does: the marker file says it has died once.
DIES_ONCE = """import os, sys
marker, argv = {marker!r}, {argv!r}
if not os.path.exists(marker):
    open(marker, "w").close()
    sys.exit(1)
os.execv(argv[0], [arg.replace("{{connection_file}}", sys.argv[1]) for arg in argv])"""


def test_a_kernel_that_dies_while_starting_costs_the_student_nothing(tmp_path, monkeypatch):
    """The machine's fault, not the student's: they are graded again in a new kernel, and the
    report says so (once: a kernel that dies again scores 0, as any failed grading)."""
    source = tmp_path / "source"  # the fixture's pure Python exercise only: no JVM to wait for
    fixture = nbformat.read(ROOT / "tests" / "fixtures" / FIXTURE / f"{FIXTURE}.ipynb", as_version=4)
    fixture.cells = [c for c in fixture.cells if nbgrader_meta(c).get("grade_id", "").startswith("ex_1_double")]
    source.mkdir()
    nbformat.write(fixture, source / f"{FIXTURE}.ipynb")
    course = make_course(tmp_path, FIXTURE, source, timeout=TIMEOUT)
    marker = tmp_path / "died-once"
    kernel = tmp_path / "jupyter" / "kernels" / "dies-once"
    kernel.mkdir(parents=True)
    course_kernel = KernelSpecManager().get_kernel_spec(KERNEL_NAME).argv
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-c", DIES_ONCE.format(marker=str(marker), argv=course_kernel), "{connection_file}"],
        "display_name": "dies once", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    with (course / "nbgrader_config.py").open("a") as config:
        config.write('\nc.Execute.kernel_name = "dies-once"  # this test only\n')
    target = course / "submitted" / "ada" / FIXTURE
    target.mkdir(parents=True)
    nbformat.write(submission(course, FIXTURE, answers={"ex_1_double": SOLUTION["ex_1_double"]}),
                   target / f"{FIXTURE}.ipynb")

    [graded] = grade(course, FIXTURE)

    assert marker.exists()  # the first kernel did die
    assert scores(graded) == {"ex_1_double_test": 1.0} and graded.problems == [KERNEL_RESTARTED]
    record = json.loads(run_record_path(course, FIXTURE).read_text())["students"]["ada"]
    assert KERNEL_DIED_STARTING in record["restarted"] and record["failure"] is None
