"""A hung cell or test fails within the configured time, naming the notebook and the cell.

nbval's own default is 2000 s per cell and pytest has none per test: one hung cell used to eat
CI's whole budget. pyproject.toml sets both; here a notebook whose second cell sleeps for ten
minutes is run by pytest as `make test` runs notebooks, with the limits shortened.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import tomllib

import nbformat
import pytest

pytestmark = pytest.mark.notebooks  # starts a kernel
LONGEST_CELL = 120  # seconds: the longest cells of the course on 2 cores


def _ini(root):
    return tomllib.loads((root / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]


def test_timeouts_are_set_and_sized_for_the_course(root):
    ini = _ini(root)
    cell = int(re.search(r"--nbval-cell-timeout=(\d+)", ini["addopts"]).group(1))
    assert 2 * LONGEST_CELL <= cell < 2000, "per cell: room for a slow machine, far below nbval's 2000 s"
    assert cell < int(ini["timeout"]), "nbval's per-cell message (it names the cell) must come first"


def _hanging_notebook(path, cell_after: bool):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1"),
                nbformat.v4.new_code_cell("import time\ntime.sleep(600)  # hangs")]
    nb.cells += [nbformat.v4.new_code_cell("x")] if cell_after else []
    nbformat.write(nb, path)


def _pytest(root, tmp_path, *options, cell_after=True):
    notebook = tmp_path / "hang.ipynb"
    _hanging_notebook(notebook, cell_after)
    started = time.monotonic()
    # The course's pytest settings (-c pyproject.toml), then the shortened limit.
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(root / "pyproject.toml"), "--rootdir", str(tmp_path),
         "--nbval-lax", "--nbval-current-env", *options, str(notebook)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    return result, time.monotonic() - started


def test_a_hung_cell_fails_at_the_cell_timeout_naming_it(root, tmp_path):
    result, took = _pytest(root, tmp_path, "--nbval-cell-timeout=5")
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "hang.ipynb::Cell 1" in out and "Timeout of 5 seconds exceeded executing cell" in out, out
    assert took < 120, f"took {took:.0f} s"


def test_a_test_that_hangs_otherwise_fails_at_the_test_timeout_naming_it(root, tmp_path):
    """The per-test limit (pytest-timeout) catches what nbval's per-cell one does not. The hung cell
    is the last: the kernel is still busy with it, so a cell after it would wait out the limit too."""
    result, took = _pytest(root, tmp_path, "--nbval-cell-timeout=900", "-o", "timeout=8", cell_after=False)
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert "hang.ipynb::Cell 1" in out and "Timeout (>8.0s) from pytest-timeout" in out, out
    assert took < 120, f"took {took:.0f} s"


def test_a_cell_that_prints_to_stderr_unexpectedly_shows_what_it_printed(root, tmp_path):
    """nbval says only "Unexpected output fields ... {'stderr'}"; tests/nbval_report.py adds the text."""
    notebook = tmp_path / "warns.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import sys\nprint('started')\nprint('the server is slow to answer', file=sys.stderr)",
                                          execution_count=1,
                                          outputs=[nbformat.v4.new_output("stream", name="stdout", text="started\n")])]
    nbformat.write(nb, notebook)  # stored with its stdout only: the stderr line is unexpected
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(root / "pyproject.toml"), "--rootdir", str(tmp_path),
         "-p", "tests.nbval_report", "--nbval", "--nbval-current-env", str(notebook)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(root)})
    out = result.stdout + result.stderr
    assert result.returncode == 1 and "Unexpected output fields from running code: {'stderr'}" in out, out
    assert "streams the stored cell does not have" in out and "[stderr] the server is slow to answer" in out, out
