"""Grade cells reject every answer that is not right, checked inside nbval's one run of a lesson.

nbval executes each solutions notebook once and compares every cell with its stored outputs. Right
after each grade cell (which passes with the solution), this plugin adds one test item that runs,
in the same kernel, the exercise and its grade cell (hidden tests included, as nbgrader grades)
again per variant: a spoofed answer (tests/test_spoofed_answers.py), the listed wrong answer
(tests/test_hidden_tests.py) and, last, the blank answer the release ships
(``raise NotImplementedError()``). Every variant must fail, the first two with a message.

Because the blank answer comes last, every later cell of the lesson runs as in an unanswered
release and nbval still requires its stored outputs: a demonstration that used the learner's
answer fails there. A last item per lesson checks that the lesson wrote nothing beside itself, left
no server running and stopped its Spark session.
"""

from __future__ import annotations

import ast
import os
import time
from pathlib import Path
from queue import Empty

import nbformat
import pytest

from tools.notebooks import nbgrader_meta
from tools import ROOT

SOLUTIONS = ROOT / "solutions"
COURSE = ROOT / "course"
VARIANTS = ("spoofed", "wrong", "blank")  # blank last: later cells run as in an unanswered release


def defined_names(source: str) -> list[str]:
    """Top-level names a solution cell defines (functions and assigned variables)."""
    names = []
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                names += [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]
    return names


def variant_answers(lesson: str, exercise: str, solution: str, release_cells: list) -> dict[str, str]:
    """The answer cell's source per variant, for one exercise of one lesson."""
    from tests.test_hidden_tests import WRONG_ANSWERS
    from tests.test_spoofed_answers import spoofed_cell

    blank = next(c.source for c in release_cells if nbgrader_meta(c).get("grade_id") == exercise)
    # Names the other variants defined are removed first: a blank exercise that raises before
    # assigning must not leave the wrong answer's value in place.
    forget = "".join(f"globals().pop({name!r}, None)\n" for name in defined_names(solution))
    return {"spoofed": spoofed_cell(solution, exercise),
            "wrong": WRONG_ANSWERS[lesson][exercise].strip(),
            "blank": forget + blank}


def run_in_kernel(kernel, source: str, timeout: float) -> tuple[str, str]:
    """Execute ``source`` in nbval's kernel; (status, "ExceptionName: message") once it is idle."""
    msg_id = kernel.execute_cell_input(source, allow_stdin=False)
    while True:
        try:
            reply = kernel.get_message(stream="shell", timeout=timeout)
        except Empty:
            kernel.interrupt()
            raise TimeoutError(f"no reply within {timeout:g} s to:\n{source[:200]}") from None
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    kernel.await_idle(msg_id, timeout)  # its outputs are read and dropped: nbval filters by msg_id
    content = reply["content"]
    return content["status"], f"{content.get('ename', '')}: {content.get('evalue', '')}".strip()


class GradeCellRejectsVariants(pytest.Item):
    """After a grade cell: the same grade cell fails with a spoofed, a wrong and a blank answer."""

    def __init__(self, *, lesson: str, grade_id: str, check: str, answers: dict[str, str], **kwargs):
        super().__init__(**kwargs)
        self.lesson, self.grade_id, self.check, self.answers = lesson, grade_id, check, answers

    def runtest(self):
        kernel = self.parent.kernel
        if kernel is None or not kernel.is_alive():
            raise RuntimeError("the lesson's kernel died before its grade cell could be tried")
        timeout = self.config.option.nbval_cell_timeout
        accepted, silent = [], []
        for variant in VARIANTS:
            run_in_kernel(kernel, self.answers[variant], timeout)  # a blank answer raises: expected
            status, message = run_in_kernel(kernel, self.check, timeout)
            if status == "ok":
                accepted.append(variant)
            elif variant != "blank" and not message.split(":", 1)[1].strip():
                silent.append(variant)  # a blank fails with NotImplementedError, which says it all
        assert accepted == [], f"{self.grade_id} accepted answers that are not right: {accepted}"
        assert silent == [], f"{self.grade_id} fails without telling the learner why: {silent}"

    def reportinfo(self):
        return self.path, None, f"{self.lesson}::{self.grade_id} rejects {', '.join(VARIANTS)} answers"


def _leftover_servers() -> list[str]:
    import psutil

    deadline, left = time.monotonic() + 15, []
    while time.monotonic() < deadline:
        left = []
        for process in psutil.process_iter(["cmdline", "status"]):
            try:
                command = " ".join(process.info["cmdline"] or [])
                if process.info["status"] == psutil.STATUS_ZOMBIE or not (
                        "sparkcourse.supervise" in command or "mlflow" in command):
                    continue
                if command.rstrip().endswith("pyspark-shell"):
                    continue  # the kernel's own Spark JVM (its app name may say mlflow): it ends with the kernel
                if process.environ().get("SPARKCOURSE_WORKDIR") == os.environ["SPARKCOURSE_WORKDIR"]:
                    left.append(command[:120])
            except psutil.Error:
                continue
        if not left:
            break
        time.sleep(0.5)
    return left


class LessonLeftNothing(pytest.Item):
    """After a lesson's last cell: nothing new beside the notebook, no server left running, its Spark
    session stopped."""

    def __init__(self, *, before: list[str], **kwargs):
        super().__init__(**kwargs)
        self.before = before

    def runtest(self):
        from tests.shared_jvm import after_lesson

        assert _leftover_servers() == [], "a server the notebook started is still running after its last cell"
        assert after_lesson() == [], "the lesson left its mark on the shared Spark JVM"
        # Lessons read through sparkcourse (absolute paths) and write only under workdir(), so
        # they run the same from the learner's folder, course/NN_name.
        after = sorted(p.name for p in self.path.parent.iterdir())
        assert after == self.before, f"the lesson wrote beside itself: {sorted(set(after) - set(self.before))}"

    def reportinfo(self):
        return self.path, None, f"{self.path.parent.name} left nothing behind"


def add_variant_items(items: list) -> list:
    """``items`` with, for every solutions notebook nbval runs, the items above inserted."""
    out, by_lesson = [], {}
    for item in items:
        out.append(item)
        path = Path(str(item.fspath))
        if path.suffix != ".ipynb" or path.parent.parent != SOLUTIONS or not hasattr(item, "cell"):
            continue
        lesson = path.parent.name
        if lesson not in by_lesson:
            solutions = nbformat.read(path, as_version=4)
            by_lesson[lesson] = {
                "answers": {nbgrader_meta(c)["grade_id"]: c.source for c in solutions.cells
                            if nbgrader_meta(c).get("solution")},
                "release": nbformat.read(COURSE / lesson / f"{lesson}.ipynb", as_version=4).cells,
                "before": sorted(p.name for p in path.parent.iterdir()),
                "code_cells": sum(c.cell_type == "code" for c in solutions.cells),
            }
        known = by_lesson[lesson]
        meta = nbgrader_meta(item.cell)
        if meta.get("grade") and meta.get("grade_id", "").endswith("_test"):
            grade_id = meta["grade_id"]
            exercise = grade_id[: -len("_test")]
            answers = variant_answers(lesson, exercise, known["answers"][exercise], known["release"])
            out.append(GradeCellRejectsVariants.from_parent(
                item.parent, name=f"{grade_id} rejects {'/'.join(VARIANTS)}", lesson=lesson,
                grade_id=grade_id, check=item.cell.source, answers=answers))
        if item.cell_num == known["code_cells"] - 1:
            out.append(LessonLeftNothing.from_parent(item.parent, name="left nothing behind",
                                                     before=known["before"]))
    return out
