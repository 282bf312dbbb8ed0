"""The learner edition (`make learner-edition`): every lesson, no answers in it, and it works on its own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tools.learner_edition import OPENERS, build, export, leaks, secret_regions, tracked_lessons
from tools.notebooks import nbgrader_meta
from tools import ROOT

LESSONS = tracked_lessons()


@pytest.fixture(scope="module")
def edition(tmp_path_factory) -> Path:
    """The edition of every lesson, as `make learner-edition` writes it (no LESSONS=)."""
    return build(tmp_path_factory.mktemp("edition") / "learners")


@pytest.fixture(scope="module")
def head(tmp_path_factory) -> Path:
    """solutions/ and course/ as committed: what the edition (of HEAD) is made from."""
    folder = tmp_path_factory.mktemp("head")
    export(ROOT, ["solutions", "course"], folder)
    return folder


def _hidden_test_lines(head: Path, lesson: str) -> list[str]:
    """Hidden-test lines that the release shows nowhere (some, like `import numpy as np`, it does);
    a line that only opens a bracket (`other = spark.createDataFrame(`) names a call, no value."""
    nb = nbformat.read(head / "solutions" / lesson / f"{lesson}.ipynb", as_version=4)
    released = "\n".join(c.source for p in sorted((head / "course").glob("*/*.ipynb")) for c in nbformat.read(p, 4).cells)
    return [line.strip() for c in nb.cells if "### BEGIN HIDDEN TESTS" in c.source
            for line in c.source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0].splitlines()
            if len(line.strip()) >= 12 and not line.strip().endswith(OPENERS) and line.strip() not in released]


def _every_text(folder: Path) -> dict[str, str]:
    out = {}
    for path in folder.rglob("*"):
        if path.is_file() and ".git" not in path.relative_to(folder).parts:
            try:
                out[str(path.relative_to(folder))] = path.read_text()
            except UnicodeDecodeError:
                pass
    return out


def test_edition_holds_what_a_learner_needs_and_no_grading(edition):
    files = set(_every_text(edition))
    assert {"README.md", "Makefile", "pyproject.toml", "nbgrader_config.py", "tools/check_lesson.py",
            "tools/bootstrap.py", "sparkcourse/__init__.py", "datasets/registry.json",
            "tests/test_lessons_run.py", "tests/test_checks.py"} <= files
    assert sorted(p.name for p in (edition / "course").iterdir()) == LESSONS
    assert not [f for f in files if f.startswith(("solutions/", "tests/fixtures/")) or f.endswith(".db")
                or f in ("tools/grading.py", "tools/grade.py", "tools/release.py") or f.startswith("tests/test_grading")]
    assert "solutions" not in (edition / "nbgrader_config.py").read_text()
    status = subprocess.run(["git", "status", "--porcelain"], cwd=edition, capture_output=True, text=True, check=True)
    assert status.stdout == ""  # everything committed


def test_no_solution_or_hidden_test_line_anywhere_in_the_edition(edition, head):
    assert leaks(edition, head / "solutions", head / "course", LESSONS) == []
    texts = _every_text(edition)
    # every hidden-test line of every published lesson, looked for on its own in every file
    hidden = [line for lesson in LESSONS for line in _hidden_test_lines(head, lesson)]
    assert len(hidden) > 50
    shown = [(name, line) for line in hidden for name, text in texts.items() if line in text]
    assert shown == []
    # solution regions: the tool's rule (two lines of one answer, or its only line)
    regions = secret_regions(head / "solutions", head / "course", LESSONS)
    assert len(regions) > 40 and all(lines for _, lines in regions)
    for nb in (edition / "course").rglob("*.ipynb"):
        cells = nbformat.read(nb, as_version=4).cells
        assert not any(c.get("outputs") for c in cells), nb
        assert all("raise NotImplementedError()" in c.source for c in cells
                   if nbgrader_meta(c).get("solution") and c.cell_type == "code"), nb


def test_an_answer_or_hidden_test_copied_anywhere_is_found(edition, head, tmp_path):
    leaky = tmp_path / "leaky"
    shutil.copytree(edition, leaky, ignore=shutil.ignore_patterns(".git"))
    assert leaks(leaky, head / "solutions", head / "course", LESSONS) == []
    (region, lines), = [r for r in secret_regions(head / "solutions", head / "course", ["00_setup"])
                        if "ex00_2" in r[0] and "solution" in r[0]]
    with (leaky / "sparkcourse" / "checks.py").open("a") as f:
        f.write("\n# " + "\n# ".join(lines[:2]) + "\n")
    (leaky / "README.md").write_text((leaky / "README.md").read_text() + _hidden_test_lines(head, "00_setup")[0])
    (leaky / "gradebook.db").write_text("")
    found = leaks(leaky, head / "solutions", head / "course", LESSONS)
    assert any(f.startswith(f"sparkcourse/checks.py: 2 line(s) of {region}") for f in found), found
    assert any(f.startswith("README.md: 1 line(s) of 00_setup ex00_") and "(hidden)" in f for f in found), found
    assert "gradebook.db: must not be in a learner edition" in found


def test_the_package_holds_no_answer_of_the_lessons_it_serves(edition, head, tmp_path):
    """Lessons 11 and 12 run code of the package (a cluster, spark-submit, EMR requests, the
    benchmark): an answer of theirs pasted back into it is found (the edition would be refused)."""
    assert {"11_scaling_out", "12_spark_vs_sklearn"} <= set(LESSONS)
    leaky = tmp_path / "leaky"
    shutil.copytree(edition, leaky, ignore=shutil.ignore_patterns(".git"))
    regions = secret_regions(head / "solutions", head / "course", ["11_scaling_out", "12_spark_vs_sklearn"])
    planted = {"sparkcourse/cluster.py": "ex11_2_submit_command (solution)",
               "sparkcourse/emr.py": "ex11_3_emr_step (solution)",
               "sparkcourse/benchmark.py": "ex12_1_translate (solution)"}
    for name, where in planted.items():
        (lines,) = [lines for region, lines in regions if region.endswith(where)]
        with (leaky / name).open("a") as f:
            f.write("\n\ndef helper():\n    " + "\n    ".join(lines[:2]) + "\n")
    found = leaks(leaky, head / "solutions", head / "course", LESSONS)
    for name, where in planted.items():
        assert any(f.startswith(f"{name}: ") and f" {where}, e.g. " in f for f in found), (name, found)


@pytest.mark.notebooks
def test_a_fresh_clone_checks_tests_and_runs_lesson_00(edition, head, tmp_path):
    """`make check`, the fast tests and lesson 00 as released, in a clone of the edition. The clone
    uses this environment (VENV=, and PYTHONPATH for its own package): a fresh one would take
    minutes to install the same pins."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(edition), str(clone)], check=True)
    venv = Path(sys.executable).parent.parent
    env = {**os.environ, "PYTHONPATH": str(clone), "SPARKCOURSE_WORKSPACE": str(clone / "workspace")}
    env.pop("SPARKCOURSE_WORKDIR", None)
    if "SPARKCOURSE_DATA_MIRROR" not in env and (ROOT.parent / "shared" / "datasets").is_dir():
        env["SPARKCOURSE_DATA_MIRROR"] = str(ROOT.parent / "shared" / "datasets")  # as .ci/run does
    # -o bootstrap: the clone's set-up would install the clone's package (editable) into this
    # shared environment, pointing every other test's `import sparkcourse` at a folder that is about
    # to be deleted. Its set-up is the same tools/bootstrap.py that `make lab` and CI run here.
    make = ["make", "-o", "bootstrap", f"VENV={venv}"]

    def run(*command, ok=True):
        result = subprocess.run(command, cwd=clone, env=env, capture_output=True, text=True)
        if ok:
            assert result.returncode == 0, f"{command}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        return result

    run(str(venv / "bin" / "python"), "-m", "sparkcourse", "workspace")  # what `make lab` does before JupyterLab
    blank = run(*make, "check", "N=00", ok=False)
    assert "NotImplementedError" in blank.stdout + blank.stderr
    # the learner answers both exercises in their workspace copy: `make check` passes
    mine = clone / "workspace" / "00_setup" / "00_setup.ipynb"
    nb = nbformat.read(mine, as_version=4)
    solution = {nbgrader_meta(c).get("grade_id"): c.source for c in
                nbformat.read(head / "solutions" / "00_setup" / "00_setup.ipynb", as_version=4).cells}
    for c in nb.cells:
        if nbgrader_meta(c).get("solution"):
            c.source = "\n".join(line for line in solution[nbgrader_meta(c)["grade_id"]].splitlines()
                                  if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)
    nbformat.write(nb, mine)
    answered = run(*make, "check", "N=00")
    assert "Success! Your notebook passes all the tests." in answered.stdout, answered.stdout[-2000:]

    fast = run(*make, "test-fast")
    assert " passed" in fast.stdout and " failed" not in fast.stdout, fast.stdout[-2000:]
    # the learner's `make test`, on lesson 00 only: it passes and says what this edition cannot test
    lesson = run(*make, "test", "TESTS=tests/test_lessons_run.py", "LESSONS=00")
    assert "1 passed" in lesson.stdout and "Not run in this edition" in lesson.stdout, lesson.stdout[-2000:]
    assert "Lessons run: 00 only" in lesson.stdout, lesson.stdout[-2000:]
