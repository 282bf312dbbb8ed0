"""Shared feature preparation: slot order, one-hot sizes, slot names."""

from __future__ import annotations

import pytest

from sparkcourse.features import assemble_features, slot_names


@pytest.mark.slow
def test_numeric_then_one_hot_slots_last_category_dropped(spark):
    df = spark.createDataFrame([(1.0, "b", "x"), (2.0, "a", "y"), (3.0, "c", "x")], "n DOUBLE, k STRING, m STRING")
    out = assemble_features(df, numeric=["n"], categorical=["k", "m"])
    assert slot_names(out) == ["n", "k_vec_a", "k_vec_b", "m_vec_x"]
    rows = {r.n: r.features.toArray().tolist() for r in out.collect()}
    assert rows[1.0] == [1.0, 0.0, 1.0, 1.0] and rows[3.0] == [3.0, 0.0, 0.0, 1.0]


@pytest.mark.slow
def test_keep_gives_nulls_their_own_index(spark):
    df = spark.createDataFrame([(1.0, "x"), (2.0, "y"), (3.0, None)], "n DOUBLE, m STRING")
    with pytest.raises(Exception):
        assemble_features(df, numeric=["n"], categorical=["m"]).collect()
    out = assemble_features(df, numeric=["n"], categorical=["m"], handle_invalid="keep")
    assert slot_names(out) == ["n", "m_vec_x", "m_vec_y"]
    assert {r.n: r.features.toArray().tolist() for r in out.collect()}[3.0] == [3.0, 0.0, 0.0]


def test_slot_names_need_metadata(spark):
    df = spark.createDataFrame([(1,)], "n INT")
    with pytest.raises(ValueError, match="no ML attribute metadata"):
        slot_names(df, "n")
