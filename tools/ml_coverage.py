"""Which lesson teaches each pyspark.ml Transformer and Estimator (`make coverage` writes COVERAGE.md).

The course promises to walk through every public Transformer and Estimator of the installed
pyspark. This module makes that promise checkable:

- :func:`ml_classes` introspects every module of ``pyspark.ml`` and lists the public classes
  deriving from ``Transformer`` or ``Estimator`` (so every ``Model`` too), leaving out private
  names, abstract classes and the Java wrapper bases;
- :func:`instantiated` parses the code cells of a notebook (never its prose) and returns the
  classes it constructs, resolving imports and aliases;
- a Model counts as covered where the Estimator that makes it is constructed
  (:func:`model_makers`): models are obtained by ``fit``, not by calling their class;
- :data:`EXCLUDED` lists deliberate exceptions, each with its reason.

``tests/test_ml_coverage.py`` fails, naming the classes, when one is neither covered nor excluded,
and when COVERAGE.md is stale.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import pkgutil
import sys
import typing
from functools import lru_cache
from pathlib import Path

import nbformat

from tools import ROOT
from tools.notebooks import lesson_notebooks

COVERAGE_FILE = ROOT / "COVERAGE.md"

#: Modules whose classes are bases for the Java-backed implementations, not algorithms.
WRAPPER_MODULES = ("pyspark.ml.wrapper",)

#: Deliberate exceptions: fully qualified class name -> why no lesson constructs it.
#: Keep it empty where possible; a stale entry (a class that no longer exists, or that a lesson
#: now covers) fails the test.
EXCLUDED: dict[str, str] = {}


def _public_modules() -> list:
    """Every top-level module of pyspark.ml (``pyspark.ml.feature``, ``pyspark.ml.tuning``, ...)."""
    import pyspark.ml

    names = sorted(info.name for info in pkgutil.iter_modules(pyspark.ml.__path__) if not info.name.startswith("_"))
    return [importlib.import_module(f"pyspark.ml.{name}") for name in names]


def qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__name__}"


@lru_cache(maxsize=1)
def ml_classes() -> dict[str, type]:
    """Public, concrete Transformer and Estimator classes of the installed pyspark.ml, by qualified name."""
    from pyspark.ml.base import Estimator, Transformer

    found = {}
    for module in _public_modules():
        if module.__name__ in WRAPPER_MODULES:
            continue
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) and obj.__module__ == module.__name__ and not name.startswith("_")
                    and issubclass(obj, (Transformer, Estimator)) and not inspect.isabstract(obj)):
                found[qualname(obj)] = obj
    return dict(sorted(found.items()))


def kind(cls: type) -> str:
    """'Model', 'Estimator' or 'Transformer' (a Model is a Transformer made by an Estimator)."""
    from pyspark.ml.base import Estimator, Model

    if issubclass(cls, Model):
        return "Model"
    return "Estimator" if issubclass(cls, Estimator) else "Transformer"


def _resolve(annotation, module_name: str):
    if isinstance(annotation, typing.ForwardRef):
        annotation = annotation.__forward_arg__
    if isinstance(annotation, str):
        annotation = vars(sys.modules[module_name]).get(annotation.strip("'\""))
    return annotation if inspect.isclass(annotation) else None


def made_by(estimator: type) -> type | None:
    """The class ``estimator.fit`` returns, from the code's own type information.

    JavaEstimators annotate ``_create_model``; Pipeline, OneVsRest and the tuning estimators are
    generic in their model (``Estimator["PipelineModel"]``).
    """
    from pyspark.ml.base import Transformer

    create = getattr(estimator, "_create_model", None)
    if create is not None:
        result = _resolve(create.__annotations__.get("return"), create.__module__)
        if result is not None and issubclass(result, Transformer):
            return result
    for base in inspect.getmro(estimator):
        for generic in vars(base).get("__orig_bases__", ()):
            for argument in typing.get_args(generic):
                result = _resolve(argument, base.__module__)
                if result is not None and issubclass(result, Transformer) and result is not estimator:
                    return result
    return None


@lru_cache(maxsize=1)
def model_makers() -> dict[str, list[str]]:
    """Model class -> the Estimators whose ``fit`` returns it (or a base class of it, as LDA's LDAModel)."""
    classes = ml_classes()
    makers: dict[str, list[str]] = {name: [] for name, cls in classes.items() if kind(cls) == "Model"}
    for name, cls in classes.items():
        if kind(cls) != "Estimator":
            continue
        model = made_by(cls)
        for model_name in makers:
            if model is not None and issubclass(classes[model_name], model):
                makers[model_name].append(name)
    return makers


# --- what a notebook constructs, from its code -------------------------------------------------

def _python_source(cell_source: str) -> str:
    """A code cell as plain Python (IPython magics and shell escapes turned into calls)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(cell_source)


def _dotted(node) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _lookup(path: str):
    """The object a dotted path names (``pyspark.ml.feature.Tokenizer``), or None."""
    parts = path.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for attr in parts[split:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def constructed(sources: list[str]) -> set[str]:
    """Qualified names of the pyspark.ml classes that these code cells call (construct).

    Names are resolved through the cells' imports (``from pyspark.ml.feature import PCA as P``,
    ``import pyspark.ml.feature as mf``, ``from pyspark.ml import feature``); strings, comments
    and attribute access without a call do not count.
    """
    trees = [ast.parse(_python_source(source)) for source in sources]
    aliases: dict[str, str] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        aliases[alias.asname] = alias.name
                    else:
                        aliases[alias.name.split(".")[0]] = alias.name.split(".")[0]
    classes = ml_classes()
    found = set()
    for tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            dotted = _dotted(node.func)
            if dotted is None:
                continue
            head, _, rest = dotted.partition(".")
            if head not in aliases:
                continue
            target = _lookup(aliases[head] + (f".{rest}" if rest else ""))
            if inspect.isclass(target) and qualname(target) in classes:
                found.add(qualname(target))
    return found


def notebook_code(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    return [cell.source for cell in nb.cells if cell.cell_type == "code"]


def coverage(folder: Path = ROOT / "solutions") -> dict[str, list[str]]:
    """Every class of :func:`ml_classes` -> the lessons (folder names) that cover it, in order."""
    by_lesson = {path.parent.name: constructed(notebook_code(path)) for path in lesson_notebooks(folder)}
    makers = model_makers()
    table = {}
    for name, cls in ml_classes().items():
        wanted = set(makers[name]) if kind(cls) == "Model" else {name}
        table[name] = [lesson for lesson, built in by_lesson.items() if wanted & built]
    return table


def missing(table: dict[str, list[str]]) -> list[str]:
    """Classes no lesson covers and no exclusion explains."""
    return [name for name, lessons in table.items() if not lessons and name not in EXCLUDED]


# --- COVERAGE.md ---------------------------------------------------------------------------------

def render(table: dict[str, list[str]]) -> str:
    import pyspark

    classes = ml_classes()
    makers = model_makers()
    covered = sum(1 for lessons in table.values() if lessons)
    lines = [
        "# Where each pyspark.ml Transformer and Estimator is taught",
        "",
        "Generated by `make coverage` (`tools/ml_coverage.py`) from the installed pyspark "
        f"{pyspark.__version__} and the code cells of `solutions/`; `tests/test_ml_coverage.py` fails when a "
        "public Transformer or Estimator is constructed in no lesson, or when this file is stale. A Model is "
        "covered where the Estimator that makes it is constructed. The lesson links open the learner's "
        "notebooks; appendix lessons 90 and 91 give every class a short entry, the others teach in depth.",
        "",
        f"{covered} of {len(table)} classes covered, {len(EXCLUDED)} excluded.",
    ]
    by_module: dict[str, list[str]] = {}
    for name in table:
        by_module.setdefault(classes[name].__module__, []).append(name)
    for module, names in by_module.items():
        lines += ["", f"## `{module}`", "", "| Class | Kind | Lessons |", "|---|---|---|"]
        for name in names:
            cls = classes[name]
            what = kind(cls)
            if what == "Model":
                what = "Model of " + ", ".join(f"`{m.rsplit('.', 1)[1]}`" for m in makers[name])
            links = ", ".join(f"[{lesson[:2]}](course/{lesson}/{lesson}.ipynb)" for lesson in table[name])
            if not links:
                links = f"excluded: {EXCLUDED[name]}" if name in EXCLUDED else "**none**"
            lines.append(f"| `{cls.__name__}` | {what} | {links} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only report; exit 1 if COVERAGE.md is stale")
    args = parser.parse_args()
    table = coverage()
    text = render(table)
    gaps = missing(table)
    if gaps:
        print("constructed in no lesson and not excluded: " + ", ".join(gaps))
    if args.check:
        stale = not COVERAGE_FILE.exists() or COVERAGE_FILE.read_text() != text
        print("COVERAGE.md is stale: run make coverage" if stale else "COVERAGE.md is up to date")
        return int(stale or bool(gaps))
    COVERAGE_FILE.write_text(text)
    print(f"wrote {COVERAGE_FILE.name}: {sum(1 for v in table.values() if v)} of {len(table)} classes covered")
    return int(bool(gaps))


if __name__ == "__main__":
    raise SystemExit(main())
