"""The scikit-learn / Spark ML comparison of lesson 12: data, equivalent pipelines, measurements."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from sparkcourse import compare

#: sha256 of make_frame(1000, seed=42). It changes only if the generator changes (then every
#: stored output of lesson 12 changes too: re-run `make outputs N=12` and update this value).
DIGEST_1000_SEED_42 = "9000a5a5240848c879661c02be55300b5c6e92145120dd3d1f51bf170c7e2a08"


def test_generator_is_deterministic_and_seeded():
    first, again = compare.make_frame(1000, seed=42), compare.make_frame(1000, seed=42)
    assert compare.frame_digest(first) == compare.frame_digest(again)
    assert compare.frame_digest(compare.make_frame(1000, seed=43)) != compare.frame_digest(first)
    assert compare.frame_digest(first) == DIGEST_1000_SEED_42


def test_generated_table_has_the_promised_columns_and_values():
    frame = compare.make_frame(5000, seed=1)
    assert list(frame.columns) == compare.NUMERIC + compare.CATEGORICAL + [compare.LABEL]
    assert set(frame["region"]) == set(compare.REGIONS) and set(frame["plan"]) == set(compare.PLANS)
    assert set(frame[compare.LABEL]) == {0.0, 1.0}
    assert 0.2 < frame[compare.LABEL].mean() < 0.8
    stds = frame[compare.NUMERIC].std()
    assert stds.max() / stds.min() > 1000, "numeric columns on very different scales (scaling matters)"


def test_digest_sees_one_changed_value():
    frame = compare.make_frame(200, seed=42)
    changed = frame.copy()
    changed.loc[17, "plan"] = "pro" if changed.loc[17, "plan"] != "pro" else "basic"
    assert compare.frame_digest(changed) != compare.frame_digest(frame)


def test_dataset_files_hold_exactly_the_generated_rows(tmp_path):
    dataset = compare.make_dataset(1003, tmp_path, seed=42)
    assert (dataset.train_rows, dataset.test_rows) == (802, 201)
    assert len(list(dataset.train.glob("*.parquet"))) >= 2 and len(list(dataset.test.glob("*.parquet"))) >= 2
    train, test = pd.read_parquet(dataset.train), pd.read_parquet(dataset.test)
    assert (len(train), len(test)) == (802, 201)
    both = pd.concat([train, test], ignore_index=True)
    assert compare.frame_digest(both) == compare.frame_digest(compare.make_frame(1003, seed=42))
    stamp = {p: p.stat().st_mtime_ns for p in dataset.train.glob("*.parquet")}
    assert compare.make_dataset(1003, tmp_path, seed=42) == dataset
    assert {p: p.stat().st_mtime_ns for p in dataset.train.glob("*.parquet")} == stamp, "written once, reused"


def test_dataset_needs_a_train_and_a_test_row(tmp_path):
    with pytest.raises(ValueError, match="too few"):
        compare.make_dataset(2, tmp_path)
    with pytest.raises(ValueError, match="positive"):
        compare.make_frame(0)


def test_c_matches_reg_param():
    assert compare.sklearn_c(1e-3, 2000) == pytest.approx(0.5)
    assert compare.sklearn_c(0.01, 100) == pytest.approx(1.0)


def test_peak_rss_of_this_process_is_positive():
    import psutil

    with compare.PeakRSS([psutil.Process()], interval=0.001) as memory:
        block = np.ones(4_000_000)  # 32 MB
        block.sum()
    assert memory.peak > block.nbytes


def test_both_pipelines_learn_the_same_model(spark, tmp_path):
    """Same regularisation: the coefficients agree, slot for slot (numeric first, then one-hot)."""
    dataset = compare.make_dataset(3000, tmp_path, seed=7)
    train = pd.read_parquet(dataset.train)
    features = compare.NUMERIC + compare.CATEGORICAL
    sk = compare.sklearn_pipeline(len(train), tol=1e-8).fit(train[features], train[compare.LABEL])
    sk_coef = sk[-1].coef_[0]
    model = compare.spark_pipeline(tol=1e-8).fit(spark.read.parquet(str(dataset.train)))
    spark_coef = model.stages[-1].coefficients.toArray()
    assert spark_coef.shape == sk_coef.shape == (len(compare.NUMERIC) + len(compare.REGIONS) + len(compare.PLANS),)
    # Spark's StandardScaler divides by the sample standard deviation, scikit-learn's by the
    # population one: a factor sqrt(n / (n - 1)) on the numeric slots, nothing more.
    assert np.allclose(spark_coef, sk_coef, atol=2e-3), np.c_[spark_coef, sk_coef]
    assert model.stages[-1].intercept == pytest.approx(sk[-1].intercept_[0], abs=2e-3)


def test_run_both_and_measure(spark, tmp_path):
    dataset = compare.make_dataset(2000, tmp_path, seed=42)
    sk = compare.run_sklearn(dataset)
    sp = compare.run_spark(spark, dataset)
    assert (sk.library, sp.library) == ("scikit-learn", "Spark ML")
    assert sk.rows == sp.rows == 2000
    assert sk.seconds > 0 and sp.seconds > 0
    assert sk.peak_mb > 0.1, "traced: at least the data frames"
    assert sp.peak_mb > 100, "a JVM holds far more than 100 MB"
    assert sk.iterations > 0 and sp.iterations > 0
    assert 0.7 < sk.auc < 1.0 and abs(sk.auc - sp.auc) < 0.002, (sk.auc, sp.auc)


def test_jvm_processes_find_the_local_jvm(spark):
    processes = compare.jvm_processes(spark)
    assert processes and any("java" in p.name().lower() for p in processes)
    assert all(p.pid != os.getpid() for p in processes)


def test_benchmark_table_and_plot(spark, tmp_path):
    results = compare.benchmark(spark, [1500, 500], tmp_path, warm_up=False)
    table = compare.as_table(results)
    assert list(table["rows"]) == [500, 500, 1500, 1500]
    assert list(table["library"]) == ["Spark ML", "scikit-learn"] * 2
    fig = compare.plot(results)
    assert len(fig.axes) == 2 and all(ax.get_xscale() == "log" and ax.get_yscale() == "log" for ax in fig.axes)
    assert [len(ax.get_lines()) for ax in fig.axes] == [2, 2]
    with pytest.raises(ValueError):
        compare.benchmark(spark, [], tmp_path)
