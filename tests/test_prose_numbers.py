"""Every number a lesson's prose states is one its stored outputs show.

A markdown cell that says "accuracy 0.83" or "83%" or "289 rows" must sit in a notebook whose
stored text outputs (stdout and ``text/plain``) show a number that rounds to it at the precision
written: 0.831 matches "0.83", "83%" and "83.1%"; 289 matches "289" but not "about 270"
(after "about", "around", "roughly"..., a whole number ending in zeros is read at the
precision of its last non-zero digit: "about 270" matches 265 to 274). When a lesson is executed again and a figure moves, this test names the
sentence to update.

What counts as a number: decimals (``0.83``), percentages (``83%``), counts with thousands
separators (``1,501``) and whole numbers of three digits or more (``289``). Not read: headings,
list numbering, code spans and fenced code, LaTeX (``$...$``), link targets and URLs, HTML
comments, version numbers (``3.5.1``, "Spark 4.0", "Python 3.11"), years (1900-2099), numbers
glued to letters or identifiers (``local[2]``, ``ml-32m``, ``e90081``) and hyphenated ranges of
lesson numbers (``08-09``).

Exercise statements (a cell that starts with ``### Exercise``) and "More to try" state tasks
and bars, not results: their numbers are not read. A number that the notebook's code sets as a
literal (``n_rows = 200``, ``trainRatio=0.75``) may be repeated exactly.

A figure that is neither computed nor set by the notebook (a published number, a default of Spark, a size the
lesson chose) is allowed in a sentence that carries the marker ``<!-- constant -->``; keep it rare.

Timings (seconds, milliseconds, minutes, "3x faster") change on every run and every machine:
prose never states them, marker or not. The notebook prints them, in a cell whose output nbval
ignores, and the prose says what to look for.
"""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import nbformat
import pytest

from tools.notebooks import lesson_notebooks
from tools import ROOT

SOLUTIONS = lesson_notebooks(ROOT / "solutions")

CONSTANT_MARKER = "<!-- constant -->"

#: Parts of markdown that hold no claim about the outputs, removed before numbers are read.
_STRIPPED = [
    re.compile(r"```.*?```", re.S),  # fenced code
    re.compile(r"^(?: {4}|\t).*$", re.M),  # indented code
    re.compile(r"<!--.*?-->", re.S),  # HTML comments (the constant marker is read before this)
    re.compile(r"\$\$.*?\$\$", re.S),  # display LaTeX
    re.compile(r"(?<!\\)\$[^$\n]+\$"),  # inline LaTeX
    re.compile(r"`[^`\n]*`"),  # code spans
    re.compile(r"\]\([^)\s]*\)"),  # link targets
    re.compile(r"<[^>\n]+>"),  # HTML tags and autolinks
    re.compile(r"https?://\S+"),  # bare URLs
    re.compile(r"\bdoi:\S+", re.I),
    re.compile(r"^\s*#.*$", re.M),  # headings
    re.compile(r"^\s*(\d+[.)]|[-*+])\s", re.M),  # list numbering
]

#: A number in prose: digits with optional thousands separators and decimals, a percent sign.
_NUMBER = re.compile(r"(?<![\w.\-/\[])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(\s?%)?(?![\w\-]|\.\d|\])")
#: Version numbers and product versions: "3.5.1", "Spark 4.0", "Python 3.11", "Java 17".
_VERSION = re.compile(
    r"\b\d+\.\d+\.\d+\b|\b(?:Spark|pyspark|PySpark|Python|Java|JDK|OpenJDK|MLflow|nbgrader|Hadoop|"
    r"Scala|EMR|emr-|scikit-learn|pandas|NumPy|Ubuntu|Debian|version|v)\s?\d+(?:\.\d+)*",
    re.I,
)
#: Timings: a number followed by a unit of time or a speed-up.
_TIMING = re.compile(
    r"(?<![\w.])\d+(?:\.\d+)?\s?(?:s|ms|sec|secs|seconds?|minutes?|min|hours?|[x×] (?:faster|slower)|"
    r"times (?:faster|slower)|[x×](?!\s*\d))(?![\w])",
)
#: Words after a whole number that make it a measurement, not a count ("about 890 g").
UNITS = {"g", "kg", "mm", "cm", "m", "km", "mib", "gib", "mb", "gb", "kb", "bytes", "percent", "points",
         "degrees", "ms", "s"}
FILLERS = {"here", "and", "or", "of", "in", "on", "to", "the", "for", "with", "at", "by", "is", "are", "as"}
_OUTPUT_NUMBER = re.compile(r"(?<![\w.])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def _sentences(text: str) -> list[str]:
    """Split markdown into sentences (and list items), keeping the constant marker with its sentence."""
    text = re.sub(r"([.!?;:])[ \t]*" + re.escape(CONSTANT_MARKER), " " + CONSTANT_MARKER + r"\1", text)
    parts = re.split(r"(?<=[.!?:;])\s+(?=[A-Z*(`\[])|\n\s*\n|\n(?=\s*(?:[-*+]|\d+\.)\s)|\n(?=\|)", text)
    return [p for p in parts if p.strip()]


def prose_numbers(markdown: str) -> list[tuple[str, str]]:
    """(number as written, sentence) for every number a markdown cell states (constants left out)."""
    found = []
    for sentence in _sentences(markdown):
        if CONSTANT_MARKER in sentence:
            continue
        text = sentence
        for pattern in _STRIPPED:
            text = pattern.sub(" ", text)
        text = _VERSION.sub(" ", text)
        for match in _NUMBER.finditer(text):
            whole, decimals, percent = match.group(1), match.group(2) or "", match.group(3) or ""
            if not decimals and not percent and "," not in whole:
                value = int(whole)
                if value < 100 or 1900 <= value <= 2099:
                    continue
            approximate = re.search(r"\b(?:about|around|roughly|nearly|almost|some|over|under|~)\s*$",
                                    text[: match.start()], flags=re.I)
            written = match.group(0).strip()
            noun = re.match(r"\s+([A-Za-z][a-z]+)\b", text[match.end():])
            if noun and not percent and not decimals and noun.group(1).lower() not in UNITS | FILLERS:
                written += " " + noun.group(1)  # a count: "344 rows"
            found.append(("~" + written if approximate else written, " ".join(sentence.split())))
    return found


def prose_timings(markdown: str) -> list[tuple[str, str]]:
    """(timing as written, sentence) for every timing a markdown cell states, marker or not."""
    found = []
    for sentence in _sentences(markdown):
        text = sentence
        for pattern in _STRIPPED:
            text = pattern.sub(" ", text)
        found += [(m.group(0), " ".join(sentence.split())) for m in _TIMING.finditer(text)]
    return found


def code_constants(nb) -> set[float]:
    """Numbers the code sets itself (a size, a seed, a ratio): prose may repeat them exactly."""
    values = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        values |= {float(node.value) for node in ast.walk(tree)
                   if isinstance(node, ast.Constant) and type(node.value) in (int, float)}
    return values


def output_numbers(nb) -> list[tuple[float, bool]]:
    """(value, written whole) for every number in the notebook's stored text outputs.

    Cells whose output nbval ignores (timings, ports) are left out: prose cannot rely on them.
    """
    values = []
    for cell in nb.cells:
        if cell.cell_type != "code" or cell.source.lstrip().startswith("# NBVAL_IGNORE_OUTPUT"):
            continue
        for output in cell.get("outputs", []):
            text = output.get("text", "") if output.get("output_type") == "stream" else ""
            text += str(output.get("data", {}).get("text/plain", ""))
            for token in _OUTPUT_NUMBER.findall(text):
                values.append((float(token.replace(",", "")), not re.search(r"[.eE]", token)))
    return values


def matches(written: str, values) -> bool:
    """True when some output value rounds to the number as written (percentages both ways).

    A whole number followed by a noun ("289 rows", "about 270 penguins") is a count: only whole
    numbers in the outputs match it, so an RMSE of 267.3 does not stand for "about 270 penguins"
    (while "about 890 g" may be an RMSE of 892.6).
    """
    count = " " in written.strip()
    written = written.split()[0]
    approximate = written.startswith("~")
    percent = written.endswith("%")
    digits = written.lstrip("~").rstrip("%").strip().replace(",", "")
    target = float(digits)
    if "." in digits:
        step = 10.0 ** -len(digits.split(".")[1])
    elif approximate:  # "about 270": read at the precision of its last non-zero digit
        zeros = len(digits) - len(digits.rstrip("0")) if target else 0
        step = 10.0 ** min(zeros, len(digits) - 1)
    else:
        step = 1.0
    candidates = set()
    for value, whole in values:
        if count and not whole:
            continue
        candidates.add(abs(value))
        if percent:
            candidates.add(abs(value) * 100)
    return any(math.isclose(round(c / step) * step, target, rel_tol=0, abs_tol=step / 1000) for c in candidates)


def mismatches(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    values = output_numbers(nb)
    constants = code_constants(nb)
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        told = "".join(part for part in re.split(r"^(?=##+ )", cell.source, flags=re.M)
                       if not part.startswith(("### Exercise", "## More to try")))
        for written, sentence in prose_numbers(told):
            if float(written.split()[0].strip("~%").replace(",", "")) in constants:
                continue
            if not matches(written, values):
                problems.append(f"{path.parent.name} cell {index}: {written.lstrip('~')!r} is in no output: {sentence[:160]}")
        for written, sentence in prose_timings(cell.source):
            problems.append(f"{path.parent.name} cell {index}: timing {written!r} in prose: {sentence[:160]}")
    return problems


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.parent.name)
def test_prose_numbers_are_in_the_outputs(path):
    problems = mismatches(path)
    assert problems == [], "numbers in the prose that the stored outputs do not show " \
        f"(fix the sentence, or mark a true constant with {CONSTANT_MARKER}):\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("Its accuracy is 80%.", ["80%"]),
        ("The share is 0.17 and `0.5` is code; $1/\\log_2(i+1)$ is LaTeX.", ["0.17"]),
        ("## 3. Section 12\n\n1. first item of 100 rows", ["100 rows"]),
        ("Spark 4.0 and Python 3.11, version 3.5.1, in 2014 (Gorman et al.).", []),
        ("The default is 0.5. <!-- constant --> But 0.7 is measured.", ["0.7"]),
        ("We have 1,501 ratings on 344 rows, 38 classes and local[2].", ["1,501 ratings", "344 rows"]),
        ("It runs on about 270 penguins, about 890 g off.", ["~270 penguins", "~890"]),
        ("See [08](../08_x/08_x.ipynb) and lessons 08-09.", []),
    ],
)
def test_rules_on_examples(markdown, expected):
    assert [w for w, _ in prose_numbers(markdown)] == expected


@pytest.mark.parametrize(
    ("written", "values", "ok"),
    [
        ("83%", [0.831], True),
        ("0.83", [0.831], True),
        ("80%", [0.831], False),
        ("83.1%", [0.831], True),
        ("0.17", [0.169], True),
        ("289", [289.0], True),
        ("~270 penguins", [289.0], False),
        ("~290 penguins", [289.0], True),
        ("290 penguins", [289.0], False),
        ("~890", [892.6], True),
        ("1,501", [1501.0], True),
        ("344", [333.0], False),
        ("~270 penguins", [267.3], False),
    ],
)
def test_rounding_rules(written, values, ok):
    assert matches(written, [(v, float(v).is_integer()) for v in values]) is ok


def test_timings_are_refused():
    assert [w for w, _ in prose_timings("The cluster took 10.4 s, local 11 seconds: 3x faster.")] == \
        ["10.4 s", "11 seconds", "3x faster"]
    assert prose_timings("It has 3 sizes and 0.5 of the rows, a 610 × 9,724 matrix.") == []


def test_a_wrong_sentence_is_named(tmp_path):
    """A deliberately wrong sentence fails, with notebook, cell and number."""
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("print(0.831)", execution_count=1)
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="accuracy 0.831\n")]
    nb.cells = [code, nbformat.v4.new_markdown_cell("Its accuracy is 83%, not 80%.")]
    path = tmp_path / "99_wrong" / "99_wrong.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    assert mismatches(path) == ["99_wrong cell 1: '80%' is in no output: Its accuracy is 83%, not 80%."]
