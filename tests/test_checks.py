"""Grade-cell checks fail with messages a learner can act on."""

from __future__ import annotations

import numpy as np
import pytest
from pyspark.ml import Pipeline
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.feature import StringIndexer, VectorAssembler

from sparkcourse import checks
from tests.test_spoofed_answers import SPOOF


@pytest.fixture(scope="module")
def counts(spark):
    return spark.createDataFrame([("a", 2), ("b", 3)], "key string, n bigint")


def test_passing_checks_are_silent(counts):
    checks.check_columns(counts, {"key": "string", "n": ("bigint", "int")}, exact=True)
    checks.check_row_count(counts, 2)
    checks.check_close(0.8751, 0.875, tol=0.001)


def test_missing_column_names_what_exists(counts):
    with pytest.raises(checks.CheckFailed, match="missing column.s. total. It has: key, n"):
        checks.check_columns(counts, ["key", "total"])


def test_wrong_type_suggests_a_cast(spark):
    df = spark.createDataFrame([("a", "2")], "key string, n string")
    with pytest.raises(checks.CheckFailed, match=r"'n' .* should be bigint .*but it is string.*cast\('bigint'\)"):
        checks.check_columns(df, {"n": "bigint"})


def test_extra_columns_with_exact(counts):
    with pytest.raises(checks.CheckFailed, match="exactly the columns"):
        checks.check_columns(counts, ["key"], exact=True)


@pytest.mark.parametrize("value, hint", [(None, "returns None"), ([1], "collect"), (3, "int")])
def test_not_a_dataframe(value, hint):
    with pytest.raises(checks.CheckFailed, match=hint):
        checks.check_dataframe(value, "answer")


def test_pandas_is_not_a_dataframe(counts):
    with pytest.raises(checks.CheckFailed, match="toPandas"):
        checks.check_dataframe(counts.toPandas())


def test_row_count_and_close(counts):
    with pytest.raises(checks.CheckFailed, match="should have 3 rows, but it has 2"):
        checks.check_row_count(counts, 3)
    with pytest.raises(checks.CheckFailed, match="should be about 0.9"):
        checks.check_close(0.8, 0.9, tol=0.01, what="accuracy")
    with pytest.raises(checks.CheckFailed, match="NaN"):
        checks.check_close(float("nan"), 0.9)
    with pytest.raises(checks.CheckFailed, match="should be a number"):
        checks.check_close("high", 0.9)


@pytest.mark.slow
def test_stage_types_accept_fitted_models(spark):
    pipeline = Pipeline(stages=[StringIndexer(inputCol="key", outputCol="k"),
                                VectorAssembler(inputCols=["k"], outputCol="features"),
                                LogisticRegression(labelCol="y")])
    checks.check_stage_types(pipeline, [StringIndexer, VectorAssembler, LogisticRegression])
    df = spark.createDataFrame([("a", 0.0), ("b", 1.0), ("a", 0.0), ("b", 1.0)], "key string, y double")
    checks.check_stage_types(pipeline.fit(df), [StringIndexer, VectorAssembler, LogisticRegression])
    with pytest.raises(checks.CheckFailed, match="should have the stages"):
        checks.check_stage_types(pipeline, [VectorAssembler, LogisticRegression])
    with pytest.raises(checks.CheckFailed, match="Pipeline or PipelineModel"):
        checks.check_stage_types(LogisticRegression(), [LogisticRegression])


def test_dataframe_equal(spark, counts):
    same = spark.createDataFrame([("b", 3), ("a", 2)], "key string, n bigint")
    checks.check_dataframe_equal(same, counts)
    other = spark.createDataFrame([("a", 2), ("b", 4)], "key string, n bigint")
    with pytest.raises(checks.CheckFailed, match="does not hold the expected rows"):
        checks.check_dataframe_equal(other, counts)


_SPOOF_NAMESPACE: dict = {}
exec(SPOOF, _SPOOF_NAMESPACE)  # the same spoof the grade cells of every lesson are tried with


def Spoof(claims=dict):  # noqa: N802 (reads like the class it stands for)
    """What a hostile answer can return: it equals, exceeds and contains everything, claims ``claims``."""
    return _SPOOF_NAMESPACE["_Spoof"](f"{claims.__module__}:{claims.__qualname__}")


@pytest.mark.parametrize("claims", [dict, list, tuple, str, int, float, bool, set])
def test_a_spoof_passes_no_value_check(claims):
    spoof = Spoof(claims)
    assert isinstance(spoof, claims) and spoof == {"a": 1} and spoof >= 0.85  # what plain asserts would accept
    attempts = [
        lambda: checks.check_equal(spoof, {"maxIter": 7, "regParam": 0.0}),
        lambda: checks.check_equal(spoof, [("a", 1)]),
        lambda: checks.check_equal(spoof, ("a", 1)),
        lambda: checks.check_equal(spoof, "model"),
        lambda: checks.check_equal(spoof, 3),
        lambda: checks.check_equal(spoof, 0.5),
        lambda: checks.check_equal(spoof, True),
        lambda: checks.check_equal(spoof, None),
        lambda: checks.check_equal(spoof, {1, 2}),
        lambda: checks.check_equal({"maxIter": spoof}, {"maxIter": 7}),
        lambda: checks.check_equal({spoof: 7}, {"maxIter": 7}),
        lambda: checks.check_equal([spoof], [0.5]),
        lambda: checks.check_equal({spoof}, {1}),
        lambda: checks.check_close(spoof, 0.5, tol=1),
        lambda: checks.check_number(spoof),
        lambda: checks.check_at_least(spoof, 0.0),
        lambda: checks.check_at_most(spoof, 1.0),
        lambda: checks.check_between(spoof, 0.0, 1.0),
        lambda: checks.check_type(spoof, claims),
        lambda: checks.check_type([spoof], list, items=claims),
        lambda: checks.check_contains(spoof, "x"),
        lambda: checks.check_contains([spoof], "x"),
        lambda: checks.check_dataframe(spoof),
        lambda: checks.check_columns(spoof, ["a"]),
        lambda: checks.check_row_count(spoof, 1),
        lambda: checks.check_stage_types(spoof, ["LogisticRegression"]),
    ]
    for attempt in attempts:
        with pytest.raises(checks.CheckFailed, match="Spoof"):
            attempt()


def test_spoof_messages_name_the_real_type():
    with pytest.raises(checks.CheckFailed, match=r"^param_values\(\.\.\.\): expected a dict, got _Spoof\.$"):
        checks.check_type(Spoof(), dict, "param_values(...)")


def test_check_equal_accepts_plain_values():
    checks.check_equal({"maxIter": 7, "regParam": 0.0, "initMode": "k-means||"},
                       {"maxIter": 7, "regParam": 0.0, "initMode": "k-means||"})
    checks.check_equal([(None, 11), ("female", 165)], [(None, 11), ("female", 165)])
    checks.check_equal({"regParam": 0}, {"regParam": 0.0})  # a whole number where a float is expected
    checks.check_equal(np.float64(0.25), 0.25)
    checks.check_equal(np.int64(3), 3)
    checks.check_equal(frozenset({"a"}), frozenset({"a"}))
    checks.check_equal({"hosts": []}, {"hosts": []})
    checks.check_equal(0.1 + 0.2, 0.3, tol=1e-12)
    checks.check_equal(float("nan"), float("nan"))
    checks.check_equal(None, None)


@pytest.mark.parametrize("actual, expected, message", [
    (7.0, 7, r"the whole number 7, but it is float 7\.0\. Return a whole number"),
    (True, 1, "the whole number 1, but it is bool True"),
    (1, True, r"should be True \(a bool\), but it is int 1"),
    (0.30000000000000004, 0.3, r"should be 0\.3, but it is 0\.30000000000000004"),
    ((1, 2), [1, 2], "should be a list, but it is tuple"),
    ([1, 2, 3], [1, 2], "should have 2 elements, but it has 3"),
    ({"a": 1}, {"a": 1, "b": 2}, r"missing key\(s\) \['b'\]"),
    ({"a": 1, "c": 3}, {"a": 1}, r"unexpected key\(s\) \['c'\]"),
    ({"a": [1, 2]}, {"a": [1, 3]}, r"answer\['a'\]\[1\] should be 3, but it is 2"),
    ("Model", "model", "should be 'model', but it is 'Model'"),
    (b"model", "model", "should be the text 'model', but it is bytes"),
    ({1, 2}, {1, 3}, r"missing \[3\], extra \[2\]"),
    (0, None, "should be None, but it is int 0"),
    (float("nan"), 0.5, "is NaN"),
])
def test_check_equal_says_what_differs(actual, expected, message):
    with pytest.raises(checks.CheckFailed, match=message):
        checks.check_equal(actual, expected, "your answer")


def test_subclasses_are_not_the_type():
    class MyDict(dict):
        pass

    class MyFloat(float):
        pass

    with pytest.raises(checks.CheckFailed, match="expected a dict, got MyDict"):
        checks.check_type(MyDict(), dict)
    with pytest.raises(checks.CheckFailed, match="should be a dict, but it is MyDict"):
        checks.check_equal(MyDict(a=1), {"a": 1})
    with pytest.raises(checks.CheckFailed, match="should be a number, but it is MyFloat"):
        checks.check_close(MyFloat(0.5), 0.5)
    with pytest.raises(checks.CheckFailed, match="should be a number, but it is bool"):
        checks.check_close(True, 1.0)


def test_type_and_items():
    checks.check_type(3, (int, float))
    checks.check_type(["a", "b"], list, items=str)
    checks.check_type({"a": 1}, dict, items=int)
    with pytest.raises(checks.CheckFailed, match="expected an int or a float, got str '3'"):
        checks.check_type("3", (int, float))
    with pytest.raises(checks.CheckFailed, match="element 1 is int 2"):
        checks.check_type(["a", 2], list, items=str)
    with pytest.raises(checks.CheckFailed, match="got None. Did the function end without a return"):
        checks.check_type(None, dict)


def test_thresholds():
    checks.check_at_least(0.9, 0.85)
    checks.check_at_least(np.float64(0.85), 0.85)
    checks.check_at_most(3, 3.0)
    checks.check_between(0.5, 0.3, 0.7)
    with pytest.raises(checks.CheckFailed, match="accuracy should be at least 0.85, but it is 0.8"):
        checks.check_at_least(0.8, 0.85, "accuracy")
    with pytest.raises(checks.CheckFailed, match="RMSE should be at most 10, but it is 12"):
        checks.check_at_most(12, 10, "RMSE")
    with pytest.raises(checks.CheckFailed, match="between 0.3 and 0.7, but it is 0.9"):
        checks.check_between(0.9, 0.3, 0.7)
    with pytest.raises(checks.CheckFailed, match="NaN"):
        checks.check_at_least(float("nan"), 0.0)
    with pytest.raises(checks.CheckFailed, match="should be a number, but it is str"):
        checks.check_at_most("1", 2)


def test_contains():
    checks.check_contains("no stage of type GBTRegressor", "GBTRegressor")
    checks.check_contains(["a", "b"], "b")
    checks.check_contains({"tp": 1}, "tp")
    with pytest.raises(checks.CheckFailed, match="should contain '400'"):
        checks.check_contains("server error", "400", "the error")


def test_exact_dataframe_and_pipeline_types(counts):
    class MyFrame(type(counts)):
        pass

    fake = object.__new__(MyFrame)
    with pytest.raises(checks.CheckFailed, match="should be a Spark DataFrame, but it is MyFrame"):
        checks.check_dataframe(fake)

    class MyPipeline(Pipeline):
        pass

    with pytest.raises(checks.CheckFailed, match="Pipeline or PipelineModel, but it is MyPipeline"):
        checks.check_stage_types(MyPipeline(stages=[]), [])


def test_check_equal_shows_the_whole_value_and_a_hint():
    with pytest.raises(checks.CheckFailed, match=r"^rows\[1\]\[1\] should be 3, but it is 4\. "
                                                 r"The whole value: \[\('a', 1\), \('b', 4\)\] Sort by key\.$"):
        checks.check_equal([("a", 1), ("b", 4)], [("a", 1), ("b", 3)], "rows", hint="Sort by key.")


def test_number_groups_read_as_one_type():
    checks.check_type(np.float64(0.5), checks.FLOAT_TYPES)
    checks.check_type(np.int32(5), checks.NUMBER_TYPES)
    with pytest.raises(checks.CheckFailed, match=r"k: expected an int, got float 3\.0\.$"):
        checks.check_type(3.0, checks.INT_TYPES, "k")
    with pytest.raises(checks.CheckFailed, match=r"expected an int or a float, got str"):
        checks.check_type("3", checks.NUMBER_TYPES)
    with pytest.raises(checks.CheckFailed, match=r"element 0 is _Spoof"):
        checks.check_type({"a": Spoof()}, dict, items=checks.NUMBER_TYPES)



def test_stage_types_are_exact_classes():
    lookalike = type("StringIndexer", (StringIndexer,), {})  # a subclass named like the Spark stage
    pipeline = Pipeline(stages=[lookalike(inputCol="key", outputCol="k")])
    checks.check_stage_types(pipeline, ["StringIndexer"])  # by name only when given a name
    with pytest.raises(checks.CheckFailed, match="should have the stages"):
        checks.check_stage_types(pipeline, [StringIndexer])


def test_spark_ml_objects_must_be_pyspark_classes():
    from pyspark.ml import Model

    checks.check_spark_ml(LogisticRegression(), what="estimator")
    with pytest.raises(checks.CheckFailed, match="should be a Model of pyspark.ml, but it is a LogisticRegression"):
        checks.check_spark_ml(LogisticRegression(), Model, "model")
    lookalike = type("LogisticRegressionModel", (LogisticRegression,), {})
    for value in (lookalike(), Spoof(Model), 0.5):
        with pytest.raises(checks.CheckFailed, match="should be an object of pyspark.ml"):
            checks.check_spark_ml(value, Model)
