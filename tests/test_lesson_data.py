"""Loaders added for the lessons: wine, Spark's sample data, the pyspark.ml documentation corpus."""

from __future__ import annotations

import pytest

from sparkcourse import corpus, datasets


def test_wine_loads_with_its_schema(spark):
    wine = datasets.load_wine(spark)
    assert wine.count() == 178
    assert dict(wine.dtypes)["cultivar"] == "int" and len(wine.columns) == 14
    assert [r.cultivar for r in wine.groupBy("cultivar").count().orderBy("cultivar").collect()] == [1, 2, 3]


def test_spark_sample_data_is_found_or_explained():
    assert datasets.spark_sample("mllib/sample_libsvm_data.txt").stat().st_size > 0
    with pytest.raises(datasets.DatasetError, match="without Spark's sample data"):
        datasets.spark_sample("mllib/no_such_file.txt")


def test_ml_docs_corpus_is_clean_text(spark):
    rows = corpus.ml_docs_rows()
    assert len(rows) > 100
    assert {module for module, _, _ in rows} >= {"feature", "classification", "regression", "clustering"}
    texts = dict(((m, n), t) for m, n, t in rows)
    assert texts[("feature", "StandardScaler")].startswith("Standardizes features")
    assert not any(marker in t for t in texts.values() for marker in (":py:", "`", "<http", ":math:"))
    docs = datasets.load_spark_ml_docs(spark)
    assert docs.columns == ["module", "name", "text"] and docs.count() == len(rows)


@pytest.mark.parametrize("raw, clean", [
    (":py:class:`~pyspark.ml.Model` fitted by X.\n\nMore.", "pyspark.ml.Model fitted by X."),
    ("`Decision tree <http://en.wikipedia.org/wiki/Decision_tree>`_ learning", "Decision tree learning"),
    ("uses :math:`h(x)`\n   across lines", "uses h(x) across lines"),
])
def test_first_paragraph_strips_markup(raw, clean):
    assert corpus._first_paragraph(raw) == clean
