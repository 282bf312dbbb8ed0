"""The grading helpers without executing a notebook: zip layout checks, the collection with real
`nbgrader zip_collect`, feedback redaction, the report's tamper and review checks."""

from __future__ import annotations

import re

import shutil
import zipfile
from pathlib import Path

import nbformat
import pytest

from sparkcourse.feedback import PLACEHOLDER, RedactHiddenTests, hidden_lines, redact, redact_output
from tools.grading import (WORKER_PRELOAD, CollectError, _worker, collect, edited_locked_cells, failed_students,
                           plan_collection, released_locked_cells, suspicious_lines)
from tools import ROOT

GRADE_CELL = '''"""Check f."""
check_close(f(1), 2)
### BEGIN HIDDEN TESTS
assert f(10) == 20, "f(10) should be 20"
assert [f(v) for v in (-1, 0)] == [-2, 0]
x = 1
### END HIDDEN TESTS
'''


def _zip(path: Path, names: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in names.items():
            archive.writestr(name, text)
    return path


# --- zip layout ---------------------------------------------------------------------------------

def test_plan_accepts_student_folders_at_any_depth(tmp_path):
    zipped = _zip(tmp_path / "d.zip", {"dl/alice/00_setup.ipynb": "{}", "bob.k-2/00_setup.ipynb": "{}",
                                       "dl/alice/notes.txt": "", "dl/alice/.ipynb_checkpoints/00_setup-checkpoint.ipynb": "",
                                       "__MACOSX/dl/alice/._00_setup.ipynb": ""})
    assert plan_collection(zipped, ["00_setup.ipynb"]) == {"alice": ["00_setup.ipynb"], "bob.k-2": ["00_setup.ipynb"]}


@pytest.mark.parametrize("names, message", [
    ({"00_setup.ipynb": "{}"}, "put it in a folder named after the student"),
    ({"Jane Doe/00_setup.ipynb": "{}"}, "put it in a folder named after the student"),
    ({"alice/00_setup (1).ipynb": "{}"}, "not a notebook of this assignment (expected 00_setup.ipynb)"),
    ({"a/alice/00_setup.ipynb": "{}", "b/alice/00_setup.ipynb": "{}"}, "a second 00_setup.ipynb for student alice"),
    ({"alice/00_setup.ipynb": "{}", "../evil/00_setup.ipynb": "{}"}, "unsafe path"),
    ({"alice/inner.zip": "x"}, "an archive inside the archive"),
    ({"alice/notes.txt": ""}, "holds no submission"),
])
def test_plan_refuses_bad_layouts_with_every_bad_entry(tmp_path, names, message):
    with pytest.raises(CollectError, match=message.replace("(", r"\(").replace(")", r"\)")):
        plan_collection(_zip(tmp_path / "d.zip", names), ["00_setup.ipynb"])


def test_plan_refuses_what_is_not_a_zip(tmp_path):
    with pytest.raises(CollectError, match="no such file"):
        plan_collection(tmp_path / "missing.zip", ["00_setup.ipynb"])
    (tmp_path / "notes.zip").write_text("not a zip")
    with pytest.raises(CollectError, match="is not a zip file"):
        plan_collection(tmp_path / "notes.zip", ["00_setup.ipynb"])
    with pytest.raises(CollectError, match="make release"):
        plan_collection(_zip(tmp_path / "d.zip", {"alice/00_setup.ipynb": "{}"}), [])


def _course(tmp_path: Path) -> Path:
    course = tmp_path / "course"
    (course / "course").mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / "00_setup", course / "solutions" / "00_setup")
    shutil.copytree(ROOT / "course" / "00_setup", course / "course" / "00_setup")
    return course


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.slow
def test_collect_with_nbgrader_zip_collect(tmp_path):
    """Real `nbgrader zip_collect`: files land in submitted/, a bad zip writes nothing, no gradebook."""
    course = _course(tmp_path)
    release = (ROOT / "course" / "00_setup" / "00_setup.ipynb").read_text()
    before = _tree(course)
    bad = _zip(tmp_path / "bad.zip", {"alice/00_setup.ipynb": release, "bob/00_setup (1).ipynb": release})
    with pytest.raises(CollectError, match=r"bob/00_setup \(1\)\.ipynb"):
        collect(course, "00_setup", bad)
    assert _tree(course) == before

    good = _zip(tmp_path / "downloads.zip", {"LMS export/alice/00_setup.ipynb": release,
                                             "LMS export/bob/00_setup.ipynb": release.replace("YOUR CODE", "MY CODE")})
    assert collect(course, "00_setup", good) == ["alice", "bob"]
    assert (course / "submitted" / "alice" / "00_setup" / "00_setup.ipynb").read_text() == release
    assert "MY CODE" in (course / "submitted" / "bob" / "00_setup" / "00_setup.ipynb").read_text()
    assert not (course / "gradebook.db").exists()
    new = {p.split("/")[0] for p in set(_tree(course)) - set(before)}
    assert new <= {"submitted", "downloaded", ".nbgrader.log"}, new

    with pytest.raises(CollectError, match="already collected for 00_setup: alice, bob; add REPLACE=1"):
        collect(course, "00_setup", good)
    again = _zip(tmp_path / "again.zip", {"bob/00_setup.ipynb": release})
    assert collect(course, "00_setup", again, replace=True) == ["bob"]
    assert (course / "submitted" / "bob" / "00_setup" / "00_setup.ipynb").read_text() == release


def test_grade_command_says_what_to_do(tmp_path, capsys):
    from tools.grade import main

    course = _course(tmp_path)
    assert main(["nope"], course=course) == 2
    assert "make grade A=<lesson folder>" in capsys.readouterr().err
    assert main(["00_setup", "--collect", str(tmp_path / "none.zip")], course=course) == 2
    assert "nothing collected" in capsys.readouterr().err and not (course / "submitted").exists()


# --- feedback redaction ---------------------------------------------------------------------------

def test_hidden_lines_leave_out_short_and_visible_lines():
    lines = hidden_lines([GRADE_CELL, "check_close(f(1), 2)"])
    assert lines == ["assert [f(v) for v in (-1, 0)] == [-2, 0]", 'assert f(10) == 20, "f(10) should be 20"',
                     "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"]
    assert hidden_lines(["x = 1\n### BEGIN HIDDEN TESTS\nx = 1\nassert secret_check(x)\n### END HIDDEN TESTS"]) == [
        "### BEGIN HIDDEN TESTS", "assert secret_check(x)", "### END HIDDEN TESTS"]
    solution = "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"
    assert hidden_lines([solution, "def f(x):\n    return x"], 8, "BEGIN SOLUTION", "END SOLUTION") == [
        "### BEGIN SOLUTION", "### END SOLUTION", "return 2 * x"]
    assert "return 2 * x" not in hidden_lines([solution, "def f(x):\n    return 2 * x"], 8, "BEGIN SOLUTION", "END SOLUTION")


def test_redact_finds_lines_in_colours_html_and_repr():
    hidden = hidden_lines([GRADE_CELL])
    coloured = "\x1b[0;32m----> 4\x1b[0m \x1b[38;5;28massert\x1b[39m f(\x1b[38;5;241m10\x1b[39m) == 20, \"f(10) should be 20\""
    assert redact(coloured, hidden) == f"----> 4 {PLACEHOLDER}"
    assert redact("<pre>assert [f(v) for v in (-1, 0)] == [-2, 0]</pre>", hidden) == f"<pre>{PLACEHOLDER}</pre>"
    assert redact('assert f(10) == 20, &quot;f(10) should be 20&quot;', hidden) == PLACEHOLDER
    assert PLACEHOLDER in redact(repr(GRADE_CELL), hidden)
    assert redact("nothing to see", hidden) == "nothing to see"


def test_grade_cell_errors_keep_only_name_and_message():
    hidden = hidden_lines([GRADE_CELL])
    error = nbformat.from_dict({"output_type": "error", "ename": "AssertionError", "evalue": "f(10) should be 20",
                                "traceback": ["Traceback", 'assert f(10) == 20, "f(10) should be 20"', "AssertionError"]})
    redact_output(error, hidden, grade_cell=True)
    assert error.traceback == ["AssertionError: f(10) should be 20"]
    student = nbformat.from_dict({"output_type": "error", "ename": "ZeroDivisionError", "evalue": "division by zero",
                                  "traceback": ["in f(x)", "    return 1 / 0", "assert [f(v) for v in (-1, 0)] == [-2, 0]"]})
    redact_output(student, hidden, grade_cell=False)
    assert student.traceback == ["in f(x)", "    return 1 / 0", PLACEHOLDER]


def test_preprocessor_redacts_every_output_of_a_notebook():
    nb = nbformat.v4.new_notebook()
    grade = nbformat.v4.new_code_cell(GRADE_CELL)
    grade.metadata["nbgrader"] = {"grade": True, "grade_id": "t", "points": 1, "solution": False, "locked": True}
    grade.outputs = [nbformat.v4.new_output("stream", name="stdout", text=GRADE_CELL),
                     nbformat.v4.new_output("display_data", data={"text/plain": GRADE_CELL, "image/png": "iVBOR"}),
                     nbformat.v4.new_output("error", ename="AssertionError", evalue="", traceback=[GRADE_CELL])]
    later = nbformat.v4.new_code_cell("print(In)")
    later.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": repr([GRADE_CELL])}, execution_count=3)]
    nb.cells = [grade, later]
    nb, _ = RedactHiddenTests().preprocess(nb, {})
    outputs = str([c.outputs for c in nb.cells])
    assert "f(10) == 20" not in outputs and "(-1, 0)" not in outputs and PLACEHOLDER in outputs
    assert grade.outputs[2].traceback == ["AssertionError"] and grade.outputs[1].data["image/png"] == "iVBOR"
    assert grade.source == GRADE_CELL  # the source is ClearHiddenTests' business


# --- report checks --------------------------------------------------------------------------------

def test_edited_locked_cells_compares_with_the_release(tmp_path):
    course = _course(tmp_path)
    checksums = released_locked_cells(course, "00_setup")
    assert set(checksums) == {"ex00_1_count_by_test", "ex00_2_mass_by_sex_test"}
    assert all(len(versions) == 1 for versions in checksums.values())
    target = course / "submitted" / "s" / "00_setup"
    target.mkdir(parents=True)
    nb = nbformat.read(course / "course" / "00_setup" / "00_setup.ipynb", as_version=4)
    nbformat.write(nb, target / "00_setup.ipynb")
    assert edited_locked_cells(course, "00_setup", "s", checksums) == []
    next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ex00_2_mass_by_sex_test").source = "pass"
    nbformat.write(nb, target / "00_setup.ipynb")
    assert edited_locked_cells(course, "00_setup", "s", checksums) == ["ex00_2_mass_by_sex_test"]


@pytest.mark.parametrize("code, reason", [
    ("get_ipython().set_custom_exc((Exception,), lambda *a: None)", "changes how the kernel runs cells"),
    ("import sparkcourse.checks as c; c.check_close = print", "replaces checking helpers or builtins"),
    ("checks.check_columns = lambda *a, **k: None", "replaces checking helpers or builtins"),
    ("builtins.AssertionError = Exception", "replaces checking helpers or builtins"),
    ("exec(base64.b64decode(blob))", "runs generated code"),
    ("open('../../../gradebook.db', 'rb')", "reads the grading files"),
    ("print(inspect.getsource(inspect.currentframe().f_back))", "reads the grading files or the code that calls it"),
    ("os.kill(os.getpid(), 9)", "ends the grading kernel"),
])
def test_suspicious_lines_name_what_they_do(code, reason):
    found = suspicious_lines(["def f(x):\n    return 2 * x", code], [])
    assert found and all(code[:60] in f for f in found) and any(f.startswith(reason) for f in found)


def test_suspicious_lines_ignore_released_code_comments_and_plain_answers():
    released = ["import os\nos.kill(pid, 9)  # the lesson's own demo"]
    answers = ["def count_by(df, column):\n    # no exec( here\n    return df.groupBy(column).count()",
               "import os\nos.kill(pid, 9)  # the lesson's own demo", "if check_close == 1:\n    pass"]
    assert suspicious_lines(answers, released) == []


def test_failed_students_reads_nbgrader_log():
    log = """[AutogradeApp | ERROR] There was an error processing assignment: /c/submitted/killer/a
[AutogradeApp | ERROR] Traceback (most recent call last):
  File "x.py", line 1, in f
    raise DeadKernelError("Kernel died") from None
nbclient.exceptions.DeadKernelError: Kernel died
[AutogradeApp | WARNING] Removing failed assignment: /c/autograded/killer/a
[AutogradeApp | ERROR] While processing assignment /c/submitted/stuck/a, the kernel became unresponsive and we could not interrupt it.
[AutogradeApp | ERROR] There was an error processing assignment 'a' for student 'killer'
[AutogradeApp | ERROR] There was an error processing assignment 'a' for student 'stuck'
"""
    assert failed_students(log) == {"killer": "nbclient.exceptions.DeadKernelError: Kernel died",
                                    "stuck": "the kernel became unresponsive and could not be interrupted"}
    assert failed_students("[AutogradeApp | ERROR] No assignment with ID 'a' exists in the database") == {}
    # the same log as nbgrader's API writes it (tools.grading's student worker)
    assert failed_students(re.sub(r"^\[AutogradeApp \| ", "[", log, flags=re.M)) == failed_students(log)
    two = """[ERROR] There was an error processing assignment: /c/submitted/killer/a
[ERROR] Traceback (most recent call last):
nbclient.exceptions.DeadKernelError: Kernel died
[ERROR] There was an error processing assignment: /c/submitted/saboteur/a
[ERROR] Traceback (most recent call last):
RuntimeError: Hidden test region detected
[ERROR] There was an error processing assignment 'a' for student 'killer'
[ERROR] There was an error processing assignment 'a' for student 'saboteur'
"""
    assert failed_students(two) == {"killer": "nbclient.exceptions.DeadKernelError: Kernel died",
                                    "saboteur": "RuntimeError: Hidden test region detected"}


def test_preprocessor_redacts_the_solutions_too(tmp_path):
    source = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "def f(x):\n    ### BEGIN SOLUTION\n    return sorted(x, key=secret_order)\n    ### END SOLUTION")])
    (tmp_path / "solutions" / "a").mkdir(parents=True)
    nbformat.write(source, tmp_path / "solutions" / "a" / "nb.ipynb")
    mine = nbformat.v4.new_code_cell("def f(x):\n    return list(x)\nprint(open(path).read())")
    mine.outputs = [nbformat.v4.new_output("stream", name="stdout", text=source.cells[0].source)]
    nb = nbformat.v4.new_notebook(cells=[mine])
    resources = {"nbgrader": {"assignment": "a", "notebook": "nb"}}
    RedactHiddenTests(source_directory=str(tmp_path / "solutions")).preprocess(nb, resources)
    assert "secret_order" not in mine.outputs[0].text and "BEGIN SOLUTION" not in mine.outputs[0].text
    assert mine.outputs[0].text.startswith("def f(x):")  # a line the submission has itself stays


@pytest.mark.slow
def test_fixture_is_no_lesson_and_no_nbval_notebook():
    from tools.notebooks import lesson_notebooks
    import subprocess
    import sys

    assert (ROOT / "tests" / "fixtures" / "grading_fixture" / "grading_fixture.ipynb").is_file()
    assert not any("fixture" in str(p) for p in lesson_notebooks(ROOT / "solutions"))
    collected = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "--nbval", "tests/fixtures"],
                               cwd=ROOT, capture_output=True, text=True)
    assert collected.returncode == 5, collected.stdout  # 5: no tests collected


@pytest.mark.slow
def test_new_gradebooks_get_nbgrader_s_own_schema_version_without_a_subprocess(tmp_path):
    """gradebook_schema is what nbgrader's `alembic heads` subprocess answers, and a gradebook
    created after fast_new_gradebooks records it (so `nbgrader db upgrade` still works)."""
    import sqlite3
    import subprocess
    import sys

    from nbgrader.api import Gradebook
    from nbgrader.dbutil import _temp_alembic_ini

    from tools.grading import fast_new_gradebooks, gradebook_schema

    with _temp_alembic_ini(f"sqlite:///{tmp_path / 'any.db'}") as ini:
        heads = subprocess.run([str(Path(sys.executable).parent / "alembic"), "-c", ini, "heads"],
                               capture_output=True, text=True, check=True).stdout
    assert gradebook_schema() == heads.split()[0]
    fast_new_gradebooks()
    Gradebook(f"sqlite:///{tmp_path / 'new.db'}").close()
    with sqlite3.connect(tmp_path / "new.db") as db:
        assert db.execute("select version_num from alembic_version").fetchall() == [(heads.split()[0],)]


def test_registering_in_threads_leaves_the_working_directory_alone(tmp_path):
    """nbgrader's converters chdir into the course while they work, and the working directory is
    the whole process's: two shards registered at once in one process must leave it where it was."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    from tools.grading import register

    courses = [_course(tmp_path / name) for name in ("one", "two")]
    before = os.getcwd()
    try:
        with ThreadPoolExecutor(2) as pool:
            for done in [pool.submit(register, course, "00_setup") for course in courses * 2]:
                assert len(done.result()) == 1
        assert os.getcwd() == before
    finally:
        os.chdir(before)


PROBE = """import os, sys
print("preloaded:", [name for name in WORKER_PRELOAD if name in sys.modules])
print("probe:", os.environ.get("SPARKCOURSE_PROBE"), "| cwd:", os.getcwd(), "| pid:", os.getpid())
print("to stderr", file=sys.stderr)"""


def test_a_worker_is_a_new_process_with_nbgrader_loaded_and_the_environment_it_is_given(tmp_path, monkeypatch):
    """Each student's worker is forked from a server that imported nbgrader once: it starts with
    WORKER_PRELOAD loaded, yet has the environment it is given (not the server's, from when it
    started), the repository as working directory, a pid of its own; its output and exit code come back."""
    import os

    monkeypatch.chdir(tmp_path)
    runs = [_worker(exec, PROBE, {"WORKER_PRELOAD": WORKER_PRELOAD}, SPARKCOURSE_PROBE=value) for value in ("one", "two")]
    pids = set()
    for (code, output), value in zip(runs, ("one", "two")):
        assert code == 0, output
        lines = output.splitlines()
        assert lines[0] == f"preloaded: {WORKER_PRELOAD}"
        assert lines[1].startswith(f"probe: {value} | cwd: {ROOT} | pid: ")
        assert lines[2] == "to stderr"
        pids.add(int(lines[1].split("pid: ")[1]))
    assert len(pids) == 2 and os.getpid() not in pids
    assert _worker(exec, "print('graded'); raise SystemExit(3)") == (3, "graded\n")
    code, output = _worker(exec, "raise ValueError('no gradebook')")
    assert code == 1 and "ValueError: no gradebook" in output

