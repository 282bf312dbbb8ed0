"""Lesson 12's side-by-side comparison: the synthetic data (sparkcourse.synthetic), the time and
memory measurements (sparkcourse.benchmark) and their plot (plots.scaling_curves).

The two pipelines are lesson 12's own; the reference pair below is built the same way (the
course's encoder for the categories), so the measurements are tested on a real task.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from sparkcourse import SEED, benchmark, plots, synthetic

#: sha256 of make_frame(1000, seed=42). It changes only if the generator changes (then every
#: stored output of lesson 12 changes too: re-run `make outputs N=12` and update this value).
DIGEST_1000_SEED_42 = "9000a5a5240848c879661c02be55300b5c6e92145120dd3d1f51bf170c7e2a08"
REG_PARAM = 1e-3


def sklearn_model(train_rows: int, tol: float = 1e-4):
    """StandardScaler + OneHotEncoder(ignore unseen) + L2 LogisticRegression with Spark's regParam."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    prepare = ColumnTransformer([("scaled", StandardScaler(), synthetic.NUMERIC),
                                 ("onehot", OneHotEncoder(handle_unknown="ignore"), synthetic.CATEGORICAL)])
    # Spark: mean log-loss + regParam/2 |w|^2; scikit-learn: C * summed log-loss + 1/2 |w|^2.
    return Pipeline([("prepare", prepare),
                     ("model", LogisticRegression(C=1 / (REG_PARAM * train_rows), max_iter=100, tol=tol))])


def spark_estimator(tol: float = 1e-4):
    """The Spark ML translation of sklearn_model, slot for slot."""
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.feature import StandardScaler, VectorAssembler

    from sparkcourse.features import encode_categories, encoded_names

    return Pipeline(stages=[
        *encode_categories(synthetic.CATEGORICAL, handle_invalid="keep"),
        VectorAssembler(inputCols=synthetic.NUMERIC, outputCol="numeric"),
        StandardScaler(inputCol="numeric", outputCol="scaled", withMean=True, withStd=True),
        VectorAssembler(inputCols=["scaled", *encoded_names(synthetic.CATEGORICAL)], outputCol="features"),
        LogisticRegression(regParam=REG_PARAM, standardization=False, maxIter=100, tol=tol),
    ])


def test_generator_is_deterministic_and_seeded():
    first, again = synthetic.make_frame(1000), synthetic.make_frame(1000, seed=SEED)
    assert synthetic.frame_digest(first) == synthetic.frame_digest(again)
    assert synthetic.frame_digest(synthetic.make_frame(1000, seed=43)) != synthetic.frame_digest(first)
    assert SEED == 42 and synthetic.frame_digest(first) == DIGEST_1000_SEED_42


def test_generated_table_has_the_promised_columns_and_values():
    frame = synthetic.make_frame(5000, seed=1)
    assert list(frame.columns) == synthetic.NUMERIC + synthetic.CATEGORICAL + [synthetic.LABEL]
    assert set(frame["region"]) == set(synthetic.REGIONS) and set(frame["plan"]) == set(synthetic.PLANS)
    assert set(frame[synthetic.LABEL]) == {0.0, 1.0}
    assert 0.2 < frame[synthetic.LABEL].mean() < 0.8
    stds = frame[synthetic.NUMERIC].std()
    assert stds.max() / stds.min() > 1000, "numeric columns on very different scales (scaling matters)"


def test_digest_sees_one_changed_value():
    frame = synthetic.make_frame(200)
    changed = frame.copy()
    changed.loc[17, "plan"] = "pro" if changed.loc[17, "plan"] != "pro" else "basic"
    assert synthetic.frame_digest(changed) != synthetic.frame_digest(frame)


def test_split_files_hold_exactly_the_generated_rows(tmp_path):
    split = synthetic.write_split(1003, tmp_path)
    assert isinstance(split, synthetic.ParquetSplit)
    assert (split.train_rows, split.test_rows) == (802, 201)
    assert len(list(split.train.glob("*.parquet"))) >= 2 and len(list(split.test.glob("*.parquet"))) >= 2
    train, test = pd.read_parquet(split.train), pd.read_parquet(split.test)
    assert (len(train), len(test)) == (802, 201)
    both = pd.concat([train, test], ignore_index=True)
    assert synthetic.frame_digest(both) == synthetic.frame_digest(synthetic.make_frame(1003))
    stamp = {p: p.stat().st_mtime_ns for p in split.train.glob("*.parquet")}
    assert synthetic.write_split(1003, tmp_path, seed=SEED) == split
    assert {p: p.stat().st_mtime_ns for p in split.train.glob("*.parquet")} == stamp, "written once, reused"


def test_a_split_needs_a_train_and_a_test_row(tmp_path):
    with pytest.raises(ValueError, match="too few"):
        synthetic.write_split(2, tmp_path)
    with pytest.raises(ValueError, match="positive"):
        synthetic.make_frame(0)


def test_peak_memory_of_this_process_is_positive():
    import psutil

    with benchmark.PeakMemory([psutil.Process()], interval=0.001) as memory:
        block = np.ones(4_000_000)  # 32 MB
        block.sum()
    assert memory.peak > block.nbytes


@pytest.mark.slow
def test_peak_memory_follows_processes_that_start_later():
    """make bench's use: this process's descendants, looked up at every sample."""
    import subprocess
    import sys

    before = benchmark.PeakMemory(benchmark.descendants).sample()  # a JVM of an earlier test, maybe
    with benchmark.PeakMemory(benchmark.descendants, interval=0.01) as memory:
        child = subprocess.Popen([sys.executable, "-c", "import time; b = bytearray(60_000_000); time.sleep(1.5)"])
        try:
            child.wait(timeout=60)
        finally:
            child.kill()
    assert memory.peak > before + 60_000_000


@pytest.mark.slow
def test_both_pipelines_learn_the_same_model(spark, tmp_path):
    """Same regularisation: the coefficients agree, slot for slot (numeric first, then one-hot)."""
    split = synthetic.write_split(3000, tmp_path, seed=7)
    train = pd.read_parquet(split.train)
    features = synthetic.NUMERIC + synthetic.CATEGORICAL
    sk = sklearn_model(len(train), tol=1e-8).fit(train[features], train[synthetic.LABEL])
    sk_coef = sk[-1].coef_[0]
    model = spark_estimator(tol=1e-8).fit(spark.read.parquet(str(split.train)))
    spark_coef = model.stages[-1].coefficients.toArray()
    slots = len(synthetic.NUMERIC) + len(synthetic.REGIONS) + len(synthetic.PLANS)
    assert spark_coef.shape == sk_coef.shape == (slots,)
    # Spark's StandardScaler divides by the sample standard deviation, scikit-learn's by the
    # population one: a factor sqrt(n / (n - 1)) on the numeric slots, nothing more.
    assert np.allclose(spark_coef, sk_coef, atol=2e-3), np.c_[spark_coef, sk_coef]
    assert model.stages[-1].intercept == pytest.approx(sk[-1].intercept_[0], abs=2e-3)


@pytest.mark.slow
def test_time_both_and_measure(spark, tmp_path):
    split = synthetic.write_split(2000, tmp_path)
    sk = benchmark.time_sklearn(split, sklearn_model)
    sp = benchmark.time_spark(spark, split, spark_estimator())
    assert (sk.library, sp.library) == ("scikit-learn", "Spark ML")
    assert sk.rows == sp.rows == 2000
    assert sk.seconds > 0 and sp.seconds > 0
    assert sk.peak_mb > 0.1, "traced: at least the data frames"
    assert sp.peak_mb > 100, "a JVM holds far more than 100 MB"
    assert sk.iterations > 0 and sp.iterations > 0
    assert 0.7 < sk.auc < 1.0 and abs(sk.auc - sp.auc) < 0.002, (sk.auc, sp.auc)


@pytest.mark.slow
def test_jvm_processes_find_the_local_jvm(spark):
    processes = benchmark.jvm_processes(spark)
    assert processes and any("java" in p.name().lower() for p in processes)
    assert all(p.pid != os.getpid() for p in processes)


@pytest.mark.slow
def test_measure_table_and_plot(spark, tmp_path):
    results = benchmark.measure(spark, [1500, 500], tmp_path, sklearn_model, spark_estimator(), warm_up=False)
    table = benchmark.as_table(results)
    assert list(table["rows"]) == [500, 500, 1500, 1500]
    assert list(table["library"]) == ["Spark ML", "scikit-learn"] * 2
    fig = plots.scaling_curves(table)
    assert len(fig.axes) == 2 and all(ax.get_xscale() == "log" and ax.get_yscale() == "log" for ax in fig.axes)
    assert [len(ax.get_lines()) for ax in fig.axes] == [2, 2]
    with pytest.raises(ValueError):
        benchmark.measure(spark, [], tmp_path, sklearn_model, spark_estimator())
