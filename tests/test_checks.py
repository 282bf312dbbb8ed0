"""Grade-cell checks fail with messages a learner can act on."""

from __future__ import annotations

import pytest
from pyspark.ml import Pipeline
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.feature import StringIndexer, VectorAssembler

from sparkcourse import checks


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
