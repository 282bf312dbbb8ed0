"""A small real text corpus made from pyspark's own documentation (Apache-2.0): one row per public
pyspark.ml class. :func:`sparkcourse.datasets.load_spark_ml_docs` loads it as a DataFrame."""

from __future__ import annotations

import re

ML_DOC_MODULES = ("feature", "classification", "regression", "clustering", "recommendation", "fpm",
                  "evaluation", "tuning", "stat")


def _first_paragraph(doc: str) -> str:
    """The docstring's first paragraph as plain text (reStructuredText roles removed)."""
    paragraph = doc.strip().split("\n\n")[0]
    paragraph = re.sub(r":py:[a-z]+:`~?([^`]+)`", r"\1", paragraph)
    paragraph = re.sub(r"\s*<https?://[^>]+>_*", "", paragraph).replace(":math:", "")
    paragraph = re.sub(r"`+([^`]+)`+_*", r"\1", paragraph)
    paragraph = re.sub(r"\[\[([^\]]+)\]\]", r"\1", paragraph)
    return " ".join(paragraph.split())


def ml_docs_rows() -> list[tuple[str, str, str]]:
    """(module, class name, first paragraph of its docstring) for every public pyspark.ml class."""
    import importlib
    import inspect

    rows = []
    for module_name in ML_DOC_MODULES:
        module = importlib.import_module(f"pyspark.ml.{module_name}")
        for name in sorted(getattr(module, "__all__", [])):
            obj = getattr(module, name, None)
            if inspect.isclass(obj) and obj.__module__ == module.__name__ and (obj.__doc__ or "").strip():
                text = _first_paragraph(obj.__doc__)
                if len(text.split()) >= 3:
                    rows.append((module_name, name, text))
    return rows
