"""Every lesson follows the course skeleton and the exercise conventions (see CONTRIBUTING.md)."""

from __future__ import annotations

import ast
import re

import nbformat
import pytest

from tools.notebooks import GRADE_ID_PATTERN, KERNEL_NAME, LESSON_PATTERN, lesson_notebooks, nbgrader_meta
from tools import ROOT


SOLUTIONS = lesson_notebooks(ROOT / "solutions")
REQUIRED_HEADINGS = [r"^## Summary\b", r"^## Next\b"]


def _text(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def test_there_are_lessons():
    assert [p.parent.name for p in SOLUTIONS][:1] == ["00_setup"]


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.parent.name)
class TestSolutionNotebook:
    def test_name_and_kernel(self, path):
        assert LESSON_PATTERN.match(path.parent.name) and path.stem == path.parent.name
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert nb.metadata["kernelspec"]["name"] == KERNEL_NAME
        assert nb.metadata.get("language_info") == {"name": "python"}, "run make outputs to normalise metadata"

    def test_skeleton(self, path):
        nb = nbformat.read(path, as_version=4)
        number = path.parent.name[:2]
        first = nb.cells[0]
        assert first.cell_type == "markdown" and first.source.startswith(f"# {number} · "), "title: '# NN · Name'"
        assert "**Learning objectives.**" in first.source
        text = _text(nb)
        for heading in REQUIRED_HEADINGS:
            assert re.search(heading, text, flags=re.M), f"missing section {heading}"
        numbered = re.findall(r"^## (\d+)\. ", text, flags=re.M)
        assert numbered == [str(i) for i in range(1, len(numbered) + 1)] and len(numbered) >= 3
        code = [c.source for c in nb.cells if c.cell_type == "code"]
        assert any("get_spark(" in src for src in code), "start Spark with sparkcourse.get_spark"
        # The last code cell stops Spark; a lesson that started a cluster or servers stops them after it.
        last = [line.strip() for line in code[-1].strip().splitlines()]
        assert "spark.stop()" in last, "the last code cell stops Spark"
        after = last[last.index("spark.stop()") + 1:]
        assert all(line.endswith(".stop()") or line.startswith(("print(", "#")) for line in after), \
            f"after spark.stop() only other stop() calls: {after}"

    def test_exercises(self, path):
        nb = nbformat.read(path, as_version=4)
        number = path.parent.name[:2]
        ids, solutions, tests = [], [], []
        for cell in nb.cells:
            meta = nbgrader_meta(cell)
            if not meta:
                continue
            ids.append(meta["grade_id"])
            if meta.get("solution"):
                solutions.append(cell)
            if meta.get("grade"):
                tests.append(cell)
        assert len(ids) == len(set(ids)), "grade_ids must be unique"
        for grade_id in ids:
            match = GRADE_ID_PATTERN.match(grade_id)
            assert match and match.group(1) == number, f"{grade_id}: use ex{number}_<n>_<what>"
        minimum = 2 if number == "00" else 3  # the setup lesson has two, every lesson after it three or more
        assert len(solutions) >= minimum and len(tests) >= len(solutions)
        for cell in solutions:
            assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source
        for cell in tests:
            meta = nbgrader_meta(cell)
            assert meta["grade_id"].endswith("_test") and meta.get("locked") and meta.get("points", 0) > 0
            body = ast.parse(cell.source).body
            assert isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and \
                isinstance(body[0].value.value, str), f"{meta['grade_id']}: start with a docstring"
            assert "### BEGIN HIDDEN TESTS" in cell.source, f"{meta['grade_id']}: add hidden tests"
            prefix = meta["grade_id"][: -len("_test")]
            assert any(nbgrader_meta(s)["grade_id"] == prefix for s in solutions), f"no solution cell {prefix}"
        headings = re.findall(r"^### Exercise (\d+) · .+ \((\d+) points?\)$", _text(nb), flags=re.M)
        assert [int(n) for n, _ in headings] == list(range(1, len(solutions) + 1))
        points = {int(nbgrader_meta(t)["grade_id"].split("_")[1]): nbgrader_meta(t)["points"] for t in tests}
        assert {int(n): int(p) for n, p in headings} == points, "points in headings match the grade cells"

    def test_outputs_are_stored_and_portable(self, path):
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(c.execution_count is not None for c in code), "run make outputs"
        for cell in code:
            assert not set(cell.metadata) & {"execution", "ExecuteTime", "collapsed", "scrolled"}
            for output in cell.outputs:
                assert output.output_type != "error", f"stored error in: {cell.source[:60]}"
                assert output.get("name") != "stderr", f"stored stderr in: {cell.source[:60]}"
                text = output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
                assert not re.search(r"/(root|home|Users|work|tmp)/", text), f"machine path in output: {text[:80]}"


def exercise_placement_problems(nb) -> list[str]:
    """Concept, code, check: each `### Exercise` sits in the numbered section whose idea it checks.

    That is, inside a numbered section (`## N. ...`) that is not an "Exercises" section, after
    at least one cell of that section's own code (the demonstration), not batched at the end.
    """
    problems, section, demonstrated = [], None, False
    for cell in nb.cells:
        if cell.cell_type == "code":
            demonstrated = demonstrated or not nbgrader_meta(cell)
            continue
        if cell.cell_type != "markdown":
            continue
        for heading in re.findall(r"^(#{2,3} .+)$", cell.source, flags=re.M):
            if heading.startswith("## "):
                numbered = re.match(r"^## \d+\. (.+)$", heading)
                section, demonstrated = (numbered.group(1) if numbered else None), False
            elif heading.startswith("### Exercise"):
                if section is None:
                    problems.append(f"{heading}: not inside a numbered section")
                elif re.match(r"^Exercises?\b", section):
                    problems.append(f"{heading}: in a section of exercises; move it beside the section it checks")
                elif not demonstrated:
                    problems.append(f"{heading}: section {section!r} shows no code of its own before it")
    return problems


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.parent.name)
def test_exercises_sit_beside_their_concept(path):
    problems = exercise_placement_problems(nbformat.read(path, as_version=4))
    assert problems == [], "concept, code, check (CONTRIBUTING.md):\n" + "\n".join(problems)


def test_placement_rule_on_examples():
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    nb = nbformat.v4.new_notebook()
    nb.cells = [md("## 1. Idea"), code("x = 1"), md("### Exercise 1 · Do (1 point)"),
                md("## 2. Other"), md("### Exercise 2 · Do (1 point)")]
    assert exercise_placement_problems(nb) == ["### Exercise 2 · Do (1 point): section 'Other' shows no code of its own before it"]
    nb.cells = [md("## 1. Idea"), code("x = 1"), md("## 2. Exercises\n\n### Exercise 1 · Do (1 point)")]
    assert exercise_placement_problems(nb) == [
        "### Exercise 1 · Do (1 point): in a section of exercises; move it beside the section it checks"]


TRUSTED_COMPARISONS = (ast.Is, ast.IsNot)  # identity cannot be faked by the compared object


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.parent.name)
def test_grade_cells_compare_only_through_checks(path):
    """A learner's value decides `got == x`, `got >= x`, `x in got` and `isinstance(got, T)` itself.

    So no assert in a grade cell compares (only `is`/`is not`), and no grade cell calls isinstance:
    sparkcourse.checks (check_equal, check_type, check_at_least, ...) test the exact type first.
    """
    nb = nbformat.read(path, as_version=4)
    refused = []
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if not meta.get("grade") or meta.get("solution"):
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Assert):
                for inner in ast.walk(node.test):
                    if isinstance(inner, ast.Compare) and not all(isinstance(op, TRUSTED_COMPARISONS) for op in inner.ops):
                        refused.append(f"{meta['grade_id']} line {node.lineno}: assert {ast.unparse(node.test)[:80]}")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance":
                refused.append(f"{meta['grade_id']} line {node.lineno}: {ast.unparse(node)[:80]}")
    assert refused == [], "compare with sparkcourse.checks (check_equal, check_type, check_at_least, ...):\n" + \
        "\n".join(refused)


def test_course_mirrors_solutions():
    released = {p.parent.name for p in lesson_notebooks(ROOT / "course")}
    assert released == {p.parent.name for p in SOLUTIONS}, "run make release"


@pytest.mark.parametrize("path", lesson_notebooks(ROOT / "course"), ids=lambda p: p.parent.name)
def test_course_has_no_solutions_hidden_tests_or_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        assert "BEGIN SOLUTION" not in cell.source and "HIDDEN TESTS" not in cell.source
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
        if nbgrader_meta(cell).get("solution"):
            assert "raise NotImplementedError()" in cell.source
