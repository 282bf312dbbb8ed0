"""Feedback that never quotes hidden tests or solutions: an nbgrader preprocessor for `generate_feedback`.

nbgrader's ClearHiddenTests removes hidden tests from the source of grade cells, but not from
their outputs: a traceback quotes the failing hidden line (and its neighbours), and a submission
can print the source of the cell that calls it, the gradebook or the solution notebook. Before
ClearHiddenTests runs, this preprocessor

- replaces the traceback of every error in a grade cell by ``ExceptionType: message``;
- replaces every hidden-test line and every solution line (from the gradebook and the source
  notebook), wherever it appears in any output of any cell (streams, rich outputs, tracebacks,
  error messages), by a placeholder.

It matches text verbatim (also HTML-escaped and with terminal colours removed): output that a
submission encodes on purpose (base64, reversed) is not recognised.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_grade
from traitlets import Integer, Unicode

BEGIN, END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
SOLUTION_BEGIN, SOLUTION_END = "BEGIN SOLUTION", "END SOLUTION"
PLACEHOLDER = "[hidden test]"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def hidden_lines(sources: list[str], min_length: int = 8, begin: str = BEGIN, end: str = END) -> list[str]:
    """Stripped lines of ``begin``-``end`` regions (markers included) that appear nowhere outside
    them, longest first.

    Lines shorter than ``min_length`` (``)``, ``],``) say nothing and are not looked for.
    """
    hidden, visible = set(), set()
    for source in sources:
        inside = False
        for line in source.splitlines():
            if begin in line or end in line:
                inside = begin in line
                hidden.add(line.strip())
            else:
                (hidden if inside else visible).add(line.strip())
    return sorted((h for h in hidden - visible if len(h) >= min_length), key=lambda h: (-len(h), h))


def redact(text: str, hidden: list[str], placeholder: str = PLACEHOLDER) -> str:
    """``text`` with terminal colours removed wherever a hidden line occurs, and those lines replaced."""
    plain = _ANSI.sub("", text)
    unescaped = html.unescape(plain)
    if not any(h in plain or h in unescaped for h in hidden):
        return text
    for h in hidden:
        plain = plain.replace(h, placeholder).replace(html.escape(h), placeholder)
        plain = plain.replace(html.escape(h, quote=False), placeholder)
    return plain


def redact_output(output, hidden: list[str], grade_cell: bool, placeholder: str = PLACEHOLDER) -> None:
    """Redact one cell output in place."""
    kind = output.get("output_type")
    if kind == "stream":
        output["text"] = redact(output.get("text", ""), hidden, placeholder)
    elif kind in ("execute_result", "display_data"):
        data = output.get("data", {})
        for mime, value in data.items():
            if isinstance(value, str) and (mime.startswith("text/") or "json" in mime or "javascript" in mime):
                data[mime] = redact(value, hidden, placeholder)
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                data[mime] = redact("".join(value), hidden, placeholder)
            elif not isinstance(value, str) and not mime.startswith("image/"):
                # structured JSON: redact its text form
                data[mime] = redact(str(value), hidden, placeholder)
    elif kind == "error":
        output["ename"] = redact(str(output.get("ename", "")), hidden, placeholder)
        output["evalue"] = redact(str(output.get("evalue", "")), hidden, placeholder)
        if grade_cell:  # the traceback of a check quotes the check's code: name and message only
            message = f"{output['ename']}: {output['evalue']}" if output["evalue"] else output["ename"]
            output["traceback"] = [message]
        else:
            output["traceback"] = [redact(line, hidden, placeholder) for line in output.get("traceback", [])]


class RedactHiddenTests(NbGraderPreprocessor):
    """Keep hidden tests out of cell outputs (tracebacks, printed source) in feedback."""

    min_length = Integer(8, help="Hidden lines shorter than this are not looked for.").tag(config=True)
    placeholder = Unicode(PLACEHOLDER, help="What replaces a hidden line.").tag(config=True)
    source_directory = Unicode("solutions", help="Where the source notebooks (with solutions) are.").tag(config=True)

    def preprocess(self, nb, resources):
        sources = [c.source for c in nb.cells if c.cell_type == "code"] + self._recorded_sources(resources)
        solutions = [c.source for c in nb.cells if c.cell_type == "code"] + self._solution_sources(resources)
        hidden = sorted(set(hidden_lines(sources, self.min_length))
                        | set(hidden_lines(solutions, self.min_length, SOLUTION_BEGIN, SOLUTION_END)),
                        key=lambda h: (-len(h), h))
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            grade_cell = is_grade(cell)
            for output in cell.get("outputs", []):
                redact_output(output, hidden, grade_cell, self.placeholder)
        return nb, resources

    def _solution_sources(self, resources) -> list[str]:
        """The code cells of the source notebook (with solutions and hidden tests), if it is there."""
        info = resources.get("nbgrader", {})
        if not info.get("assignment") or not info.get("notebook"):
            return []
        path = Path(self.source_directory) / info["assignment"] / f"{info['notebook']}.ipynb"
        if not path.is_file():
            return []
        cells = json.loads(path.read_text()).get("cells", [])
        return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                for c in cells if c.get("cell_type") == "code"]

    @staticmethod
    def _recorded_sources(resources) -> list[str]:
        """The cells recorded in the gradebook, so that a grade cell a submission deleted counts too."""
        info = resources.get("nbgrader", {})
        if not info.get("db_url"):
            return []
        from nbgrader.api import Gradebook, MissingEntry

        with Gradebook(info["db_url"]) as gradebook:
            try:
                notebook = gradebook.find_notebook(info["notebook"], info["assignment"])
            except MissingEntry:
                return []
            return [cell.source or "" for cell in notebook.source_cells]
