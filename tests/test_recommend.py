"""The per-user split of the recommendation lessons, and ALS on MovieLens under the course's settings."""

from __future__ import annotations

import ast
import inspect
import textwrap

import nbformat
import pytest
from pyspark.sql import functions as F

from sparkcourse import SEED, recommend
from tools import ROOT



@pytest.fixture(scope="module")
def small(spark):
    rows = [(u, m, float(1 + (u * m) % 5)) for u in range(1, 6) for m in range(1, 5 * u + 2)]
    return spark.createDataFrame(rows, "userId int, movieId int, rating float")


@pytest.mark.slow
def test_holdout_keeps_every_user_and_holds_out_floor_of_the_fraction(small):
    kept, held = recommend.holdout_per_user(small, 0.2, SEED)
    per_user = {r.userId: r["count"] for r in small.groupBy("userId").count().collect()}
    held_per_user = {r.userId: r["count"] for r in held.groupBy("userId").count().collect()}
    assert {u: held_per_user.get(u, 0) for u in per_user} == {u: int(n * 0.2) for u, n in per_user.items()}
    assert {r.userId for r in kept.select("userId").distinct().collect()} == set(per_user)
    both = kept.union(held)
    assert both.count() == small.count() and both.distinct().count() == small.count()
    assert kept.join(held, ["userId", "movieId"]).count() == 0


@pytest.mark.slow
def test_holdout_is_repeatable_whatever_the_partitioning_and_changes_with_the_seed(small):
    _, held = recommend.holdout_per_user(small, 0.3, SEED)
    _, again = recommend.holdout_per_user(small.repartition(3), 0.3, SEED)
    _, other = recommend.holdout_per_user(small, 0.3, SEED + 1)
    pairs = lambda df: sorted((r.userId, r.movieId) for r in df.collect())  # noqa: E731
    assert pairs(held) == pairs(again)
    assert pairs(held) != pairs(other)


def test_lesson_08_teaches_the_same_split_the_package_keeps():
    nb = nbformat.read(ROOT / "solutions" / "08_recommend_explicit" / "08_recommend_explicit.ipynb", as_version=4)
    taught = [node for cell in nb.cells if cell.cell_type == "code"
              for node in ast.parse(cell.source).body
              if isinstance(node, ast.FunctionDef) and node.name == "holdout_per_user"]
    kept = ast.parse(textwrap.dedent(inspect.getsource(recommend.holdout_per_user))).body[0]
    assert len(taught) == 1 and ast.dump(taught[0]) == ast.dump(kept)


@pytest.mark.slow
def test_als_fits_movielens_with_the_course_settings(spark):
    """The course's JVM options (C1-only JIT) once made this die with StackOverflowError in task threads."""
    from pyspark.ml.evaluation import RegressionEvaluator
    from pyspark.ml.recommendation import ALS

    from sparkcourse.datasets import load_ratings

    ratings = load_ratings(spark).select("userId", "movieId", "rating")
    train, test = recommend.holdout_per_user(ratings, 0.2, SEED)
    model = ALS(userCol="userId", itemCol="movieId", ratingCol="rating", rank=10, regParam=0.15, maxIter=10,
                numUserBlocks=2, numItemBlocks=2, coldStartStrategy="drop", seed=SEED).fit(train)
    rmse = RegressionEvaluator(labelCol="rating").evaluate(model.transform(test))
    assert 0.80 < rmse < 0.90
    assert model.userFactors.count() == 610
    assert model.transform(test).where(F.isnan("prediction")).count() == 0
