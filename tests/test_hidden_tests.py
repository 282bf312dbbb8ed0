"""Hidden tests catch answers that only look right: hard-coded values or half solutions.

Each lesson lists, per exercise, a plausible wrong answer that passes (or nearly passes) the
visible checks. The solution notebook runs once with all of them swapped in; every grade cell
must then fail, and fail with a message (not a bare AssertionError).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tools.notebooks import KERNEL_NAME, lesson_notebooks

ROOT = Path(__file__).resolve().parent.parent
LESSONS = [p.parent.name for p in lesson_notebooks(ROOT / "solutions")]

WRONG_ANSWERS = {
    "00_setup": {
        # hard-coded: right for species, the visible check, wrong for any other column
        "ex00_1_count_by": '''
def count_by(df, column):
    return spark.createDataFrame([("Adelie", 152), ("Chinstrap", 68), ("Gentoo", 124)], f"{column} string, n bigint")
''',
        # half done: drops unknown sex but keeps rows with an unknown body mass in n
        "ex00_2_mass_by_sex": '''
def mass_by_species_and_sex(df):
    return (df.dropna(subset=["sex"]).groupBy("species", "sex")
            .agg(F.count("*").alias("n"), F.round(F.avg("body_mass_g"), 1).alias("mean_mass_g"))
            .orderBy("species", "sex"))
''',
    },
}


def _solution_ids(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    return [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_exercise_has_a_wrong_answer_listed(lesson):
    path = ROOT / "solutions" / lesson / f"{lesson}.ipynb"
    assert sorted(WRONG_ANSWERS.get(lesson, {})) == sorted(_solution_ids(path))


@pytest.mark.notebooks
@pytest.mark.parametrize("lesson", LESSONS)
def test_grade_cells_reject_wrong_answers(lesson):
    nb = nbformat.read(ROOT / "solutions" / lesson / f"{lesson}.ipynb", as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in WRONG_ANSWERS[lesson]:
            cell.source = WRONG_ANSWERS[lesson][grade_id].strip()
    NotebookClient(nb, kernel_name=KERNEL_NAME, allow_errors=True, timeout=300,
                   resources={"metadata": {"path": str(ROOT / "solutions" / lesson)}}).execute()
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            errors = [o for o in cell.outputs if o.output_type == "error"]
            assert errors, f"{meta['grade_id']} accepted a wrong answer"
            assert errors[0].evalue.strip(), f"{meta['grade_id']} fails without telling the learner why"
