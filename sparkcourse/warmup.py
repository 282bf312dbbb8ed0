"""Build the JVM class-data-sharing (AppCDS) archive that makes every later Spark start faster.

``python -m sparkcourse warmup`` runs this once per JVM + Spark version (the bootstrap does it).
A child process starts Spark with ``-XX:ArchiveClassesAtExit``, runs a small workload that loads
the classes the lessons use (SQL, CSV/Parquet, features, trees, linear models, ALS, k-means),
then shuts its JVM down so the archive is written; the archive is renamed into place only when
complete. Without it everything still works, only slower.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from sparkcourse.java import ensure_java_home
from sparkcourse.session import build_conf, cds_archive_path


def build_cds_archive(force: bool = False, timeout: float = 600) -> Path | None:
    """Create the archive if missing; return its path, or None when the JVM could not make one."""
    java = ensure_java_home()
    target = cds_archive_path(java)
    if target.exists() and not force:
        return target
    partial = target.with_name(f"{target.name}.{os.getpid()}.part")
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "sparkcourse.warmup", str(partial)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode == 0 and partial.exists() and partial.stat().st_size > 1_000_000:
        os.replace(partial, target)
        print(f"JVM class-data archive written in {time.monotonic() - started:.0f} s: {target}")
        prune_archives(target.parent)
        return target
    partial.unlink(missing_ok=True)
    tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-5:])
    print(f"No JVM class-data archive (Spark still works, it only starts slower):\n{tail}")
    return None


def prune_archives(folder: Path, keep: int = 3) -> list[Path]:
    """Delete all but the ``keep`` newest archives (about 230 MB each; one per install of Spark)."""
    archives = sorted(folder.glob("spark-*.jsa"), key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in archives[keep:]:
        stale.unlink(missing_ok=True)
    return archives[keep:]


def _workload_and_dump(partial: Path) -> None:
    """In the child: run a representative workload, then stop the JVM so it writes the archive."""
    from pyspark import SparkContext
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression, RandomForestClassifier
    from pyspark.ml.clustering import KMeans
    from pyspark.ml.evaluation import BinaryClassificationEvaluator
    from pyspark.ml.feature import StringIndexer, VectorAssembler
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import SparkSession, functions as F

    java = ensure_java_home()
    builder = SparkSession.builder
    conf = build_conf("sparkcourse-warmup", java=java, dump_cds_to=partial, **{"spark.ui.enabled": "false"})
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()

    df = spark.range(400).select(
        (F.col("id") % 3).cast("string").alias("group"),
        (F.col("id") / 7.0).alias("x"),
        F.sin("id").alias("y"),
        (F.col("id") % 2).cast("double").alias("label"),
    )
    features = [StringIndexer(inputCol="group", outputCol="group_idx"),
                VectorAssembler(inputCols=["group_idx", "x", "y"], outputCol="features")]
    for learner in (LogisticRegression(maxIter=5), RandomForestClassifier(numTrees=3, seed=1)):
        model = Pipeline(stages=features + [learner]).fit(df)
        BinaryClassificationEvaluator().evaluate(model.transform(df))
    assembled = Pipeline(stages=features).fit(df).transform(df)
    KMeans(k=2, seed=1).fit(assembled).transform(assembled).count()
    ratings = df.select((F.col("x") % 5).cast("int").alias("user"),
                        (F.col("y") * 10 % 7).cast("int").alias("item"), F.col("label").alias("rating"))
    ALS(maxIter=2, rank=2, seed=1, coldStartStrategy="drop").fit(ratings).transform(ratings).count()
    parquet = str(Path(partial).with_suffix(".parquet"))
    df.write.mode("overwrite").parquet(parquet)
    spark.read.parquet(parquet).groupBy("group").count().toPandas()

    gateway = SparkContext._gateway
    spark.stop()
    gateway.shutdown()
    gateway.proc.stdin.close()  # the JVM exits on EOF and writes the archive on its way out
    gateway.proc.wait(timeout=300)
    shutil.rmtree(parquet, ignore_errors=True)


if __name__ == "__main__":
    _workload_and_dump(Path(sys.argv[1]))
