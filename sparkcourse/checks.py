"""Checks used by the grade cells, with failure messages a learner can act on.

Every check raises :class:`CheckFailed` (an ``AssertionError``) whose message says what was
expected, what was found and, where possible, how to fix it.
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping, Sequence

#: Friendly names of Spark SQL types, for messages.
_TYPE_HINTS = {
    "string": "text",
    "int": "a whole number (32-bit)",
    "bigint": "a whole number (64-bit; what count() returns)",
    "double": "a decimal number",
    "float": "a decimal number (32-bit)",
    "boolean": "true/false",
    "vector": "an ML vector (e.g. from VectorAssembler)",
}


class CheckFailed(AssertionError):
    """A check did not pass; the message tells the learner what to fix."""


def _fail(message: str) -> None:
    raise CheckFailed(message)


def _is_dataframe(obj) -> bool:
    from pyspark.sql import DataFrame

    if isinstance(obj, DataFrame):
        return True
    try:  # Spark Connect DataFrames are a different class
        from pyspark.sql.connect.dataframe import DataFrame as ConnectDataFrame
    except Exception:  # connect extras missing
        return False
    return isinstance(obj, ConnectDataFrame)


def check_dataframe(obj, name: str = "your answer") -> None:
    """``obj`` must be a Spark DataFrame (not pandas, not a list of Rows)."""
    if not _is_dataframe(obj):
        hint = ""
        if type(obj).__module__.startswith("pandas"):
            hint = " Keep it in Spark: drop the .toPandas()."
        elif isinstance(obj, list):
            hint = " Keep it in Spark: drop the .collect()."
        elif obj is None:
            hint = " Did the cell end with a call such as .show() that returns None?"
        _fail(f"{name} should be a Spark DataFrame, but it is {type(obj).__name__}.{hint}")


def _type_name(data_type) -> str:
    return data_type.simpleString()  # 'string', 'bigint', 'double', 'vector', ...


def check_columns(df, expected: Mapping[str, str | Sequence[str]] | Sequence[str],
                  name: str = "the DataFrame", exact: bool = False) -> None:
    """``df`` has these columns (and, given a mapping, these types: 'bigint' or ('int', 'bigint')).

    With ``exact=True`` it must have no other columns, in this order.
    """
    check_dataframe(df, name)
    actual = {f.name: _type_name(f.dataType) for f in df.schema.fields}
    wanted = list(expected.keys() if isinstance(expected, Mapping) else expected)
    missing = [c for c in wanted if c not in actual]
    if missing:
        _fail(f"{name} is missing column(s) {', '.join(missing)}. It has: {', '.join(actual) or 'no columns'}.")
    if exact and list(actual) != wanted:
        _fail(f"{name} should have exactly the columns {wanted} in this order, but has {list(actual)}. "
              "Use .select(...) to keep only those.")
    if isinstance(expected, Mapping):
        for column, types in expected.items():
            allowed = (types,) if isinstance(types, str) else tuple(types)
            if actual[column] not in allowed:
                hint = _TYPE_HINTS.get(allowed[0], allowed[0])
                _fail(f"Column {column!r} of {name} should be {' or '.join(allowed)} ({hint}), "
                      f"but it is {actual[column]}. Cast it, e.g. F.col({column!r}).cast({allowed[0]!r}).")


def check_row_count(df, expected: int, name: str = "the DataFrame") -> None:
    check_dataframe(df, name)
    count = df.count()
    if count != expected:
        _fail(f"{name} should have {expected:,} rows, but it has {count:,}.")


def check_close(actual, expected: float, tol: float = 1e-6, what: str = "the value", relative: bool = False) -> None:
    """``actual`` is a number within ``tol`` of ``expected`` (``relative``: a fraction of it)."""
    try:
        value = float(actual)
    except (TypeError, ValueError):
        _fail(f"{what} should be a number, but it is {type(actual).__name__}: {actual!r}.")
    if math.isnan(value):
        _fail(f"{what} is NaN. Look for nulls or empty groups (ALS: coldStartStrategy='drop').")
    bound = tol * abs(expected) if relative else tol
    if abs(value - expected) > bound:
        _fail(f"{what} should be about {expected:.6g} (within {bound:.2g}), but it is {value:.6g}.")


def check_stage_types(pipeline, expected: Iterable[type | str], name: str = "the pipeline") -> None:
    """A Pipeline (or fitted PipelineModel) has stages of these types, in order.

    An expected Estimator also accepts its fitted Model (StringIndexer -> StringIndexerModel).
    """
    from sparkcourse.features import pipeline_stages

    stages = pipeline_stages(pipeline)
    if stages is None:
        _fail(f"{name} should be a Pipeline or PipelineModel, but it is {type(pipeline).__name__}.")
    wanted = [t if isinstance(t, str) else t.__name__ for t in expected]
    found = [type(s).__name__ for s in stages]
    ok = len(found) == len(wanted) and all(f in (w, w + "Model") for f, w in zip(found, wanted))
    if not ok:
        _fail(f"{name} should have the stages {wanted}, but it has {found}.")


def check_dataframe_equal(actual, expected, name: str = "your answer", check_row_order: bool = False,
                          rtol: float = 1e-5) -> None:
    """Same columns and rows as ``expected`` (via ``pyspark.testing.assertDataFrameEqual``)."""
    from pyspark.errors import PySparkAssertionError
    from pyspark.testing import assertDataFrameEqual

    check_dataframe(actual, name)
    check_columns(actual, [f.name for f in expected.schema.fields], name)
    columns = [f.name for f in expected.schema.fields]
    try:
        assertDataFrameEqual(actual.select(columns), expected, checkRowOrder=check_row_order, rtol=rtol)
    except PySparkAssertionError as exc:
        detail = str(exc)
        if len(detail) > 1500:
            detail = detail[:1500] + " ..."
        _fail(f"{name} does not hold the expected rows.\n{detail}")
