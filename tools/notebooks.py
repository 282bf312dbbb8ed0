"""What the course's tools and tests agree on about notebooks and how they run."""

from __future__ import annotations

import re
from pathlib import Path

from tools.bootstrap import KERNEL_NAME  # bootstrap installs the kernel under this name

KERNELSPEC = {"display_name": "Spark ML course (Python 3)", "language": "python", "name": KERNEL_NAME}
LESSON_PATTERN = re.compile(r"^\d{2}_[a-z0-9_]+$")
#: Solution and grade cells: ex<lesson>_<n>_<what>, grade cells end in _test.
GRADE_ID_PATTERN = re.compile(r"^ex(\d{2})_(\d+)_[a-z0-9_]+$")
CELL_METADATA_DROPPED = ("collapsed", "scrolled", "execution", "ExecuteTime")


def test_environment() -> dict[str, str]:
    """Settings for every execution of a notebook by the course's tools and tests."""
    return {
        "SPARKCOURSE_UI": "0",  # no Spark UI: faster, and no port to collide on
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",  # keeps a debugger warning off stderr
    }


def lesson_notebooks(folder: Path, prefix: str | None = None) -> list[Path]:
    """``folder/NN_name/NN_name.ipynb`` for every lesson (optionally only those starting with prefix)."""
    found = []
    for lesson in sorted(p for p in Path(folder).iterdir() if p.is_dir() and LESSON_PATTERN.match(p.name)):
        if prefix and not lesson.name.startswith(prefix):
            continue
        notebook = lesson / f"{lesson.name}.ipynb"
        if notebook.exists():
            found.append(notebook)
    return found


def nbgrader_meta(cell) -> dict:
    """A cell's nbgrader metadata ({} for a cell nbgrader does not manage)."""
    return cell.metadata.get("nbgrader", {})


def notebook_client(nb, folder: Path, **options):
    """An nbclient runner for ``nb`` with the course kernel, working in ``folder``."""
    from nbclient import NotebookClient

    return NotebookClient(nb, kernel_name=KERNEL_NAME, resources={"metadata": {"path": str(folder)}}, **options)


def normalize_metadata(nb) -> None:
    """Keep only what does not vary between machines and runs."""
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    for cell in nb.cells:
        for key in CELL_METADATA_DROPPED:
            cell.metadata.pop(key, None)
