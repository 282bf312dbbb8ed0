"""Checks used by the grade cells, with failure messages a learner can act on.

Every check raises :class:`CheckFailed` (an ``AssertionError``) whose message says what was
expected, what was found and, where possible, how to fix it.

A check never lets the learner's value decide its own outcome. ``assert got == expected`` is
decided by ``got.__eq__`` (Python tries the right operand's ``__eq__`` too, so ``expected == got``
does not help), ``assert got >= 0.85`` by ``got.__ge__``, ``float(got)`` by ``got.__float__`` and
``isinstance(got, dict)`` by ``got.__class__``, all of which a submission can define. So every
check here first tests the *exact* type (``type(x) is dict``, recursively inside containers) and
compares only values that passed: real ``int``/``float``/``bool``/``str``/``None``, NumPy scalars
of those kinds, and ``dict``/``list``/``tuple``/``set``/``frozenset`` built of them.
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping, Sequence

import numpy as np

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

#: Whole numbers accepted by exact type (never bool, never a subclass).
INT_TYPES = (int, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64)
#: Decimal numbers accepted by exact type.
FLOAT_TYPES = (float, np.float16, np.float32, np.float64)
#: Any real number (a whole number is fine where a decimal one is expected).
NUMBER_TYPES = INT_TYPES + FLOAT_TYPES
BOOL_TYPES = (bool, np.bool_)
_CONTAINER_TYPES = (dict, list, tuple, set, frozenset)
_PLAIN_TYPES = NUMBER_TYPES + BOOL_TYPES + (str, type(None)) + _CONTAINER_TYPES


class CheckFailed(AssertionError):
    """A check did not pass; the message tells the learner what to fix."""


def _fail(message: str) -> None:
    raise CheckFailed(message)


def _name(kind: type) -> str:
    """'a dict', 'an int', 'None' for messages."""
    if kind is type(None):
        return "None"
    name = kind.__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def _describe(value) -> str:
    """The exact type's name, and the value's repr only for types whose repr cannot be faked."""
    kind = type(value)
    if value is None:
        return "None"
    if kind in _PLAIN_TYPES and kind not in _CONTAINER_TYPES:
        text = repr(value)
        return f"{kind.__name__} {text[:200]}"
    return kind.__name__


def _as_tuple(types) -> tuple:
    return tuple(types) if isinstance(types, (tuple, list, set, frozenset)) else (types,)


def _names(types: tuple) -> str:
    """'an int or a float' for messages (INT_TYPES reads as 'an int', FLOAT_TYPES as 'a float')."""
    names = []
    for kind in types:
        if kind in FLOAT_TYPES[1:] and set(FLOAT_TYPES) <= set(types):
            continue
        if kind in INT_TYPES[1:] and set(INT_TYPES) <= set(types):
            continue
        names.append(_name(kind))
    return " or ".join(dict.fromkeys(names))


def check_type(value, types, what: str = "your answer", items=None) -> None:
    """``type(value)`` is exactly one of ``types`` (a type or a tuple of types); subclasses do not count.

    ``items``: a type or tuple of types that every element (a dict's values) must have, exactly.
    Use ``FLOAT_TYPES``, ``INT_TYPES`` or ``NUMBER_TYPES`` to accept NumPy numbers as well.
    """
    allowed = _as_tuple(types)
    if type(value) not in allowed:
        names = _names(allowed)
        hint = " Did the function end without a return (or with .show(), which returns None)?" if value is None else ""
        _fail(f"{what}: expected {names}, got {_describe(value)}.{hint}")
    if items is not None:
        elements = value.values() if type(value) is dict else value
        wanted = _as_tuple(items)
        for position, element in enumerate(elements):
            if type(element) not in wanted:
                names = _names(wanted)
                _fail(f"{what}: every element should be {names}, but element {position} is {_describe(element)}.")


def _plain(value, path: str, what: str) -> None:
    """``value`` consists only of plain values (see the module docstring), checked by exact type."""
    kind = type(value)
    if kind not in _PLAIN_TYPES:
        _fail(f"{what}{path}: expected plain Python values (numbers, text, lists, dicts, ...), got {kind.__name__}.")
    if kind is dict:
        for key, item in value.items():
            _plain(key, f"{path} (a key)", what)
            _plain(item, f"{path}[{key!r}]", what)
    elif kind in (list, tuple):
        for index, item in enumerate(value):
            _plain(item, f"{path}[{index}]", what)
    elif kind in (set, frozenset):
        for item in value:
            _plain(item, f"{path} (an element)", what)


def _equal(actual, expected, path: str, what: str, tol: float) -> None:
    where = f"{what}{path}"
    if expected is None:
        if actual is not None:
            _fail(f"{where} should be None, but it is {_describe(actual)}.")
        return
    kind = type(expected)
    if kind in BOOL_TYPES:
        if type(actual) not in BOOL_TYPES:
            _fail(f"{where} should be {expected} (a bool), but it is {_describe(actual)}.")
        if bool(actual) is not bool(expected):
            _fail(f"{where} should be {bool(expected)}, but it is {bool(actual)}.")
        return
    if kind in INT_TYPES:
        if type(actual) not in INT_TYPES:
            hint = " Return a whole number (int(...))." if type(actual) in FLOAT_TYPES else ""
            _fail(f"{where} should be the whole number {expected}, but it is {_describe(actual)}.{hint}")
        if int(actual) != int(expected):
            _fail(f"{where} should be {expected}, but it is {int(actual)}.")
        return
    if kind in FLOAT_TYPES:
        if type(actual) not in NUMBER_TYPES:
            _fail(f"{where} should be the number {expected!r}, but it is {_describe(actual)}.")
        value, wanted = float(actual), float(expected)
        if math.isnan(wanted) and math.isnan(value):
            return
        if math.isnan(value):
            _fail(f"{where} is NaN, expected {wanted!r}. Look for nulls or empty groups.")
        if not abs(value - wanted) <= tol:
            within = f" (within {tol:.2g})" if tol else ""
            _fail(f"{where} should be {wanted!r}{within}, but it is {value!r}.")
        return
    if kind is str:
        if type(actual) is not str:
            _fail(f"{where} should be the text {expected!r}, but it is {_describe(actual)}.")
        if actual != expected:
            _fail(f"{where} should be {expected!r}, but it is {actual!r}.")
        return
    if kind in (list, tuple):
        if type(actual) is not kind:
            _fail(f"{where} should be {_name(kind)}, but it is {_describe(actual)}.")
        if len(actual) != len(expected):
            _plain(actual, path, what)
            _fail(f"{where} should have {len(expected)} elements, but it has {len(actual)}: {actual!r}")
        for index, (got, wanted) in enumerate(zip(actual, expected)):
            _equal(got, wanted, f"{path}[{index}]", what, tol)
        return
    if kind is dict:
        if type(actual) is not dict:
            _fail(f"{where} should be a dict, but it is {_describe(actual)}.")
        for key in actual:
            _plain(key, f"{path} (a key)", what)
        missing = [k for k in expected if k not in actual]
        extra = [k for k in actual if k not in expected]
        if missing or extra:
            parts = ([f"missing key(s) {missing}"] if missing else []) + ([f"unexpected key(s) {extra}"] if extra else [])
            _fail(f"{where} should have the keys {list(expected)}: {'; '.join(parts)}.")
        for key, wanted in expected.items():
            _equal(actual[key], wanted, f"{path}[{key!r}]", what, tol)
        return
    if kind in (set, frozenset):
        if type(actual) is not kind:
            _fail(f"{where} should be {_name(kind)}, but it is {_describe(actual)}.")
        _plain(actual, path, what)
        if actual != expected:
            _fail(f"{where} should be {expected!r}, but it is {actual!r}; "
                  f"missing {sorted(expected - actual, key=repr)}, extra {sorted(actual - expected, key=repr)}.")
        return
    raise TypeError(f"check_equal cannot compare with an expected value of type {kind.__name__}")


def check_equal(actual, expected, what: str = "your answer", tol: float = 0.0, hint: str = "") -> None:
    """``actual`` equals ``expected``, decided without trusting ``actual``'s own methods.

    Types must match exactly, recursively: a dict is a dict (not a subclass), a list a list, a
    tuple a tuple (a Spark ``Row`` is not one: build tuples), text is ``str``. Where ``expected``
    holds a float a whole number is accepted (and compared within ``tol``); where it holds an int
    a float is not; ``True`` is not ``1``. ``expected`` is built by the grade cell from plain values.
    A failure inside a container also shows the whole value; ``hint`` is added to every failure.
    """
    try:
        _equal(actual, expected, "", what, tol)
    except CheckFailed as failure:
        message = str(failure)
        if type(actual) in _CONTAINER_TYPES:
            try:
                _plain(actual, "", what)
                whole = repr(actual)
                message += f" The whole value: {whole if len(whole) <= 500 else whole[:500] + ' ...'}"
            except CheckFailed:
                pass
        raise CheckFailed(f"{message} {hint}".strip()) from None


def check_number(value, what: str = "the value") -> float:
    """``value`` is a real number (int, float or a NumPy number, by exact type; not bool, not NaN); returns it as float."""
    if type(value) not in NUMBER_TYPES:
        _fail(f"{what} should be a number, but it is {_describe(value)}.")
    number = float(value)
    if math.isnan(number):
        _fail(f"{what} is NaN. Look for nulls or empty groups (ALS: coldStartStrategy='drop').")
    return number


def check_close(actual, expected: float, tol: float = 1e-6, what: str = "the value", relative: bool = False) -> None:
    """``actual`` is a number within ``tol`` of ``expected`` (``relative``: a fraction of it)."""
    value = check_number(actual, what)
    bound = tol * abs(expected) if relative else tol
    if not abs(value - expected) <= bound:
        _fail(f"{what} should be about {expected:.6g} (within {bound:.2g}), but it is {value:.6g}.")


def check_at_least(actual, bound: float, what: str = "the value") -> None:
    """``actual`` is a number and ``actual >= bound``."""
    value = check_number(actual, what)
    if not value >= bound:
        _fail(f"{what} should be at least {bound:.6g}, but it is {value:.6g}.")


def check_at_most(actual, bound: float, what: str = "the value") -> None:
    """``actual`` is a number and ``actual <= bound``."""
    value = check_number(actual, what)
    if not value <= bound:
        _fail(f"{what} should be at most {bound:.6g}, but it is {value:.6g}.")


def check_between(actual, low: float, high: float, what: str = "the value") -> None:
    """``actual`` is a number and ``low <= actual <= high``."""
    value = check_number(actual, what)
    if not low <= value <= high:
        _fail(f"{what} should be between {low:.6g} and {high:.6g}, but it is {value:.6g}.")


def check_contains(container, item, what: str = "your answer") -> None:
    """``item in container``, where ``container`` is plain (str, list, tuple, set, frozenset or dict keys)."""
    check_type(container, (str, list, tuple, set, frozenset, dict), what)
    _plain(container, "", what)
    if item not in container:
        shown = container if len(repr(container)) <= 300 else repr(container)[:300] + " ..."
        _fail(f"{what} should contain {item!r}, but it is {shown!r}.")


def check_spark_ml(value, kind: type | None = None, what: str = "your answer") -> None:
    """``value`` is an instance of a class pyspark.ml itself defines (exactly that class), a subclass of ``kind``.

    For answers that may be any of several Spark models (``kind=pyspark.ml.Model``) without naming
    the one expected: a class of the learner's (a subclass, or a look-alike) does not pass.
    """
    import sys

    cls = type(value)
    module = sys.modules.get(cls.__module__)
    genuine = (cls.__module__.startswith("pyspark.ml.") or cls.__module__ == "pyspark.ml") and \
        module is not None and getattr(module, cls.__qualname__, None) is cls
    if not genuine:
        _fail(f"{what} should be an object of pyspark.ml (such as a fitted model), but it is {cls.__name__}.")
    if kind is not None and not issubclass(cls, kind):
        _fail(f"{what} should be {_name(kind)} of pyspark.ml, but it is {_name(cls)}.")


def _dataframe_types() -> tuple[type, ...]:
    from pyspark.sql.classic.dataframe import DataFrame

    types: tuple[type, ...] = (DataFrame,)
    try:  # Spark Connect DataFrames are a different class
        from pyspark.sql.connect.dataframe import DataFrame as ConnectDataFrame
    except Exception:  # connect extras missing
        return types
    return types + (ConnectDataFrame,)


def _is_dataframe(obj) -> bool:
    return type(obj) in _dataframe_types()


def check_dataframe(obj, name: str = "your answer") -> None:
    """``obj`` must be a Spark DataFrame (not pandas, not a list of Rows), by exact type."""
    if not _is_dataframe(obj):
        hint = ""
        if type(obj).__module__.startswith("pandas"):
            hint = " Keep it in Spark: drop the .toPandas()."
        elif type(obj) is list:
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


def _is_stage(stage, expected: type | str) -> bool:
    """``stage`` is exactly ``expected`` or its fitted Model class (a name: compared by name only)."""
    import sys

    if isinstance(expected, str):
        return type(stage).__name__ in (expected, expected + "Model")
    fitted = getattr(sys.modules.get(expected.__module__), expected.__name__ + "Model", None)
    return type(stage) is expected or (fitted is not None and type(stage) is fitted)


def check_stage_types(pipeline, expected: Iterable[type | str], name: str = "the pipeline") -> None:
    """A Pipeline (or fitted PipelineModel) has stages of these types, in order.

    An expected Estimator also accepts its fitted Model (StringIndexer -> StringIndexerModel).
    """
    from pyspark.ml import Pipeline, PipelineModel

    from sparkcourse.features import pipeline_stages

    if type(pipeline) not in (Pipeline, PipelineModel):
        _fail(f"{name} should be a Pipeline or PipelineModel, but it is {type(pipeline).__name__}.")
    stages = pipeline_stages(pipeline)
    expected = list(expected)
    wanted = [t if isinstance(t, str) else t.__name__ for t in expected]
    found = [type(s).__name__ for s in stages]
    ok = len(found) == len(wanted) and all(_is_stage(s, t) for s, t in zip(stages, expected))
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
