"""What the recommendation lessons reuse once lesson 08 has taught it: the per-user split.

Lesson 08 writes :func:`holdout_per_user` in the notebook (it is that lesson's subject); lesson 09
imports this copy, and a test keeps the two the same.
"""

from __future__ import annotations

from pyspark.sql import Window
from pyspark.sql import functions as F


def holdout_per_user(df, fraction, seed):
    """(kept, held_out): for each user, ``floor(n * fraction)`` of their n ratings, chosen by a seeded hash."""
    by_user = Window.partitionBy("userId")
    keyed = (df.withColumn("key", F.xxhash64("userId", "movieId", F.lit(seed)))
             .withColumn("position", F.row_number().over(by_user.orderBy("key", "movieId")))
             .withColumn("n", F.count("*").over(by_user)))
    held = F.col("position") > F.col("n") - F.floor(F.col("n") * fraction)
    return keyed.where(~held).drop("key", "position", "n"), keyed.where(held).drop("key", "position", "n")
