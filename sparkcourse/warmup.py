"""Build the JVM class-data-sharing (AppCDS) archive that makes every later Spark start faster.

``python -m sparkcourse warmup`` runs this once per JVM + Spark version (the bootstrap does it).
A child process starts Spark with ``-XX:ArchiveClassesAtExit``, runs a small workload that loads
the classes the lessons use (SQL, CSV/Parquet, features, trees, linear models, ALS, k-means),
then shuts its JVM down so the archive is written; the archive is renamed into place only when
complete. Without it everything still works, only slower.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from sparkcourse.java import JavaInstall, ensure_java_home
from sparkcourse.session import archive_key, build_conf, cds_archive_path, spark_jars


def build_cds_archive(force: bool = False, timeout: float = 600) -> Path | None:
    """Create the archive if missing; return its path, or None when the JVM could not make one."""
    java = ensure_java_home()
    target = cds_archive_path(java)
    if target.exists() and not force:
        if not owner(target).exists():  # made before owner files: say whose it is now
            record_owner(target, java)
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
        record_owner(target, java)
        print(f"JVM class-data archive written in {time.monotonic() - started:.0f} s: {target}")
        prune_archives(target.parent)
        return target
    partial.unlink(missing_ok=True)
    tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-5:])
    print(f"No JVM class-data archive (Spark still works, it only starts slower):\n{tail}")
    return None


def owner(archive: Path) -> Path:
    """The file beside an archive that names the Java and the Spark jars it was made for."""
    return archive.with_suffix(".owner.json")


def record_owner(archive: Path, java: JavaInstall) -> None:
    """Write the owner file: this Java and the installed pyspark's jars. Where it cannot be
    written, the archive is only pruned by count, as archives without one are."""
    try:
        owner(archive).write_text(json.dumps({"java": str(java.java), "raw": java.raw, "jars": str(spark_jars())}))
    except OSError:
        pass


def is_stale(archive: Path) -> bool | None:
    """True when the install an archive was made for is gone or changed (its Java or jars removed,
    pyspark reinstalled): no JVM will use it again. None when no owner file says (an older archive)."""
    try:
        made_for = json.loads(owner(archive).read_text())
        java, jars = made_for["java"], Path(made_for["jars"])
        gone = not (os.path.exists(java) and jars.is_dir())
        return gone or archive.name != f"spark-{archive_key(java, made_for['raw'], jars)}.jsa"
    except (OSError, ValueError, KeyError, TypeError):
        return None


def prune_archives(folder: Path, keep: int = 3) -> list[Path]:
    """Delete the archives (about 230 MB each) whose install is gone or changed. An archive of an
    install that still exists is kept, however many clones or environments there are, so that one
    clone's set-up never deletes another's. Archives without an owner file: the ``keep`` newest stay."""
    archives = sorted(folder.glob("spark-*.jsa"), key=lambda p: p.stat().st_mtime, reverse=True)
    verdicts = {archive: is_stale(archive) for archive in archives}
    unowned = [archive for archive, verdict in verdicts.items() if verdict is None]
    stale = [archive for archive, verdict in verdicts.items() if verdict] + unowned[keep:]
    for archive in stale:
        archive.unlink(missing_ok=True)
        owner(archive).unlink(missing_ok=True)
    return stale


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
