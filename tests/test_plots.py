"""Plots return labelled figures computed from real predictions."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure
from pyspark.ml.linalg import Vectors

from sparkcourse import plots


@pytest.fixture(scope="module")
def predictions(spark):
    rows = [(1.0, 1.0, Vectors.dense([0.1, 0.9])), (1.0, 1.0, Vectors.dense([0.2, 0.8])),
            (1.0, 0.0, Vectors.dense([0.6, 0.4])), (0.0, 0.0, Vectors.dense([0.7, 0.3])),
            (0.0, 1.0, Vectors.dense([0.45, 0.55])), (0.0, 0.0, Vectors.dense([0.9, 0.1]))]
    return spark.createDataFrame(rows, ["label", "prediction", "probability"])


def test_confusion_counts(predictions):
    labels, counts = plots.confusion_counts(predictions)
    assert labels == [0.0, 1.0]
    assert counts.tolist() == [[2, 1], [1, 2]]


def test_confusion_matrix_figure(predictions):
    fig = plots.confusion_matrix(predictions, names=["no", "yes"])
    assert isinstance(fig, Figure)
    counts_ax = fig.axes[0]
    assert counts_ax.get_xlabel() == "predicted" and counts_ax.get_ylabel() == "true"
    assert sorted(t.get_text() for t in counts_ax.texts) == ["1", "1", "2", "2"]


def test_roc_curve_auc(predictions):
    fig = plots.roc_curve(predictions)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    # positives score 0.9, 0.8, 0.4 and negatives 0.55, 0.3, 0.1: 8 of the 9 pairs are ordered
    assert legend[0] == f"model (AUC = {8 / 9:.3f})"


def test_pr_curve_ends_at_full_recall(predictions):
    fig = plots.pr_curve(predictions)
    recall, precision = fig.axes[0].lines[0].get_data()
    assert recall[-1] == 1.0 and precision[-1] == pytest.approx(0.5)


def test_feature_importances_sorted_and_checked():
    fig = plots.feature_importances(np.array([0.1, 0.7, 0.2]), ["a", "b", "c"])
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["a", "c", "b"]
    with pytest.raises(ValueError, match="3 importances but 2 names"):
        plots.feature_importances([0.1, 0.7, 0.2], ["a", "b"])


def test_metric_curve_labels():
    fig = plots.metric_curve([1, 2, 3], {"train": [0.5, 0.4, 0.3], "test": [0.6, 0.5, 0.55]},
                             xlabel="rank", ylabel="RMSE", log_x=True)
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_xscale()) == ("rank", "RMSE", "log")
    assert len(ax.lines) == 2


def test_residuals_and_scatter(spark):
    import pandas as pd

    df = spark.createDataFrame([(1.0, 1.5), (2.0, 1.0), (3.0, 3.0)], ["label", "prediction"])
    fig = plots.residuals(df)
    x, y = fig.axes[0].collections[0].get_offsets().T
    assert sorted(zip(x.tolist(), y.tolist())) == [(1.0, 1.0), (1.5, -0.5), (3.0, 0.0)]
    points = pd.DataFrame({"pc1": [0, 1, 2], "pc2": [1, 0, 1], "cluster": [0, 1, 1]})
    fig = plots.scatter_2d(points, "pc1", "pc2", "cluster")
    assert len(fig.axes[0].collections) == 2 and fig.axes[0].get_xlabel() == "pc1"


def test_pipeline_diagram_colours_estimators_and_transformers():
    from pyspark.ml import Pipeline
    from pyspark.ml.feature import StringIndexer, VectorAssembler
    from pyspark.ml.regression import LinearRegression

    stages = [StringIndexer(inputCol="a", outputCol="b"), VectorAssembler(inputCols=["b"], outputCol="f"),
              LinearRegression()]
    fig = plots.pipeline_diagram(Pipeline(stages=stages))
    ax = fig.axes[0]
    names = [t.get_text() for t in ax.texts if t.get_text()]  # arrows are empty annotations
    assert names == ["StringIndexer", "VectorAssembler", "LinearRegression"]
    colours = [p.get_facecolor() for p in ax.patches]
    assert colours[0] == colours[2] != colours[1]  # two Estimators, one Transformer
    assert ax.get_title() == "Pipeline: 3 stages"


def test_deploy_modes_shows_where_the_driver_runs():
    fig = plots.deploy_modes()
    assert len(fig.axes) == 4
    for ax in fig.axes:
        labels = [t.get_text() for t in ax.texts]
        assert sum("driver" in t for t in labels) == 1, (ax.get_title(), labels)
        assert any("executor" in t for t in labels)


def test_ratings_matrix_shows_the_sampled_block_and_the_factors(spark):
    rows = [(u, m, float(1 + (u + m) % 5)) for u in range(6) for m in range(8) if (u * m) % 3 == 0]
    ratings = spark.createDataFrame(rows, "userId int, movieId int, rating float")
    fig = plots.ratings_matrix(ratings, users=4, items=5, rank=3)
    image = fig.axes[0].images[0].get_array()
    assert image.shape == (4, 5)
    filled = int(np.isfinite(image.filled(np.nan)).sum())
    assert fig.axes[0].get_title() == f"4 users x 5 movies: {filled} of 20 cells rated"
    assert 0 < filled < 20
    texts = " ".join(t.get_text() for t in fig.axes[1].texts)
    assert "users\nx 3" in texts and "3 x movies" in texts


@pytest.mark.slow
def test_roc_auc_with_tied_scores_equals_scikit_learn(spark):
    """The curve counted per distinct score in Spark treats ties as one threshold, as sklearn does."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(7)
    labels = rng.integers(0, 2, 60).astype(float)
    scores = np.round(np.clip(0.3 * labels + rng.random(60) * 0.7, 0, 1), 1)  # many ties
    df = spark.createDataFrame([(float(y), Vectors.dense([1 - p, p])) for y, p in zip(labels, scores)],
                               ["label", "probability"])
    legend = plots.roc_curve(df).axes[0].get_legend().get_texts()[0].get_text()
    assert legend == f"model (AUC = {roc_auc_score(labels, scores):.3f})"
