"""Model records: a fingerprint that sees any change of the data, and a record that round-trips."""

from __future__ import annotations

import json

import pytest
from pyspark.ml import Pipeline
from pyspark.ml.feature import VectorAssembler
from pyspark.ml.regression import LinearRegression

from sparkcourse import records


@pytest.fixture(scope="module")
def data(spark):
    rows = [(float(x), float(2 * x + 1), "a" if x % 2 else "b") for x in range(20)]
    return spark.createDataFrame(rows, "x double, y double, tag string")


def test_fingerprint_ignores_order_and_partitioning(data):
    assert records.fingerprint(data) == records.fingerprint(data.orderBy("y", ascending=False).repartition(3))


def test_fingerprint_sees_one_changed_value_and_one_missing_row(data):
    from pyspark.sql import functions as F

    base = records.fingerprint(data)
    changed = data.withColumn("y", F.when(F.col("x") == 3, 8.0).otherwise(F.col("y")))
    assert records.fingerprint(changed)["digest"] != base["digest"]
    fewer = records.fingerprint(data.where("x <> 3"))
    assert fewer["rows"] == 19 and fewer["digest"] != base["digest"]


def test_fingerprint_accepts_vectors(data):
    assembled = VectorAssembler(inputCols=["x"], outputCol="features").transform(data)
    assert records.fingerprint(assembled)["schema"]["features"] == "vector"


@pytest.mark.slow
def test_record_round_trip(data, tmp_path):
    pipeline = Pipeline(stages=[VectorAssembler(inputCols=["x"], outputCol="features"),
                                LinearRegression(labelCol="y", regParam=0.1)])
    model = pipeline.fit(data)
    model.write().overwrite().save(str(tmp_path / "model"))
    written = records.write_model_record(tmp_path / "model", model, data, ["x"], "y", {"rmse": 0.25})
    read = records.read_model_record(tmp_path / "model")
    assert read == written == json.loads((tmp_path / "model" / records.RECORD_FILE).read_text())
    assert [s["stage"] for s in read["stages"]] == ["VectorAssembler", "LinearRegressionModel"]
    assert read["stages"][1]["params"]["regParam"] == 0.1
    assert read["metrics"] == {"rmse": 0.25} and read["features"] == ["x"]
    assert read["versions"]["java"].split(".")[0].isdigit()
    assert records.trained_on(read, data)
    assert not records.trained_on(read, data.limit(10))


def test_record_errors_say_what_to_do(data, tmp_path):
    model = LinearRegression(labelCol="y")
    with pytest.raises(FileNotFoundError, match="save the model first"):
        records.write_model_record(tmp_path / "nowhere", model, data, ["x"], "y", {})
    (tmp_path / "saved").mkdir()
    with pytest.raises(ValueError, match=r"\['z'\] are not in the training DataFrame"):
        records.write_model_record(tmp_path / "saved", model, data, ["z"], "y", {})
    with pytest.raises(FileNotFoundError, match="saved without a record"):
        records.read_model_record(tmp_path / "saved")
