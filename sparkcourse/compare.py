"""The same task in scikit-learn and in Spark ML, measured side by side (lesson 12).

The task: read a labelled table from Parquet, scale the numeric columns, one-hot encode the
categorical ones, fit an L2-regularised logistic regression on the training rows, score the test
rows and compute the test AUC. :func:`make_dataset` writes seeded synthetic data of any size;
:func:`sklearn_pipeline` and :func:`spark_pipeline` build the two equivalent pipelines;
:func:`run_sklearn` and :func:`run_spark` run the task once and return a :class:`Measurement`
(wall seconds, peak memory, AUC); :func:`benchmark` does both over a list of sizes.

How memory is measured, and why the two numbers mean different things:

- scikit-learn works inside this Python process. Its number is the peak of the memory the task
  allocated through Python and NumPy (``tracemalloc``): the data frame, the encoded matrix, the
  solver's arrays. Buffers Arrow holds while reading Parquet are not traced.
- Spark works inside its JVM (in local mode one JVM is driver and executors at once). Its
  number is the peak resident memory (RSS) of that JVM, sampled every few milliseconds with
  psutil while the task runs: the whole process, including what the JVM holds whatever the data
  size. On a cluster the executors run on other machines and are not measured here.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
import tracemalloc
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

#: The synthetic table: eight numeric columns on different scales, two categorical ones, a 0/1 label.
NUMERIC = [f"x{i}" for i in range(8)]
CATEGORICAL = ["region", "plan"]
LABEL = "label"
REGIONS = [f"r{i:02d}" for i in range(12)]
PLANS = ["basic", "family", "plus", "pro", "student"]
#: At most this many rows are generated (and written to one Parquet file) at once.
CHUNK_ROWS = 250_000
TEST_FRACTION = 0.2
#: The same regularisation and solver budget on both sides (see :func:`sklearn_c`). The two
#: solvers read ``tol`` differently (Spark: relative change of the loss; scikit-learn: size of
#: the gradient), so they stop after different numbers of iterations at about the same optimum.
REG_PARAM = 1e-3
MAX_ITER = 100
TOL = 1e-4


# ---------------------------------------------------------------------------------------------
# Data


def _chunk(rng: np.random.Generator, rows: int):
    """One chunk of synthetic rows as a pandas DataFrame (draws in a fixed order: reproducible)."""
    import pandas as pd

    scales = np.array([1.0, 10.0, 0.1, 100.0, 1.0, 5.0, 0.5, 1000.0])
    offsets = np.array([0.0, 50.0, -1.0, 300.0, 2.0, 0.0, 10.0, 5000.0])
    z = rng.standard_normal((rows, len(NUMERIC)))
    region = rng.integers(0, len(REGIONS), rows)
    plan = rng.integers(0, len(PLANS), rows)
    noise = rng.logistic(size=rows)
    weights = np.array([1.2, -0.8, 0.5, 0.0, 0.9, -0.4, 0.3, 0.0])
    region_effect = np.linspace(-1.0, 1.0, len(REGIONS))
    plan_effect = np.array([-0.6, 0.2, 0.4, 0.8, -0.3])
    logit = z @ weights + region_effect[region] + plan_effect[plan] - 0.2
    frame = pd.DataFrame(z * scales + offsets, columns=NUMERIC)
    frame["region"] = np.array(REGIONS, dtype=object)[region]
    frame["plan"] = np.array(PLANS, dtype=object)[plan]
    frame[LABEL] = (logit + noise > 0).astype(np.float64)
    return frame


def chunk_rows_for(rows: int) -> int:
    """Rows per generated chunk (and Parquet file): about an eighth of the data, at most CHUNK_ROWS."""
    return max(1, min(CHUNK_ROWS, math.ceil(rows / 8)))


def generate(rows: int, seed: int = 42):
    """The synthetic rows as a sequence of pandas DataFrames (chunks of :func:`chunk_rows_for` rows).

    The same ``rows`` and ``seed`` always give the same data, on every machine (NumPy's PCG64
    generator is platform independent); at most one chunk is in memory at a time.
    """
    if rows < 1:
        raise ValueError(f"rows must be positive, got {rows}")
    rng = np.random.default_rng(seed)
    chunk, done = chunk_rows_for(rows), 0
    while done < rows:
        size = min(chunk, rows - done)
        yield _chunk(rng, size)
        done += size


def make_frame(rows: int, seed: int = 42):
    """All ``rows`` synthetic rows in one pandas DataFrame (what :func:`make_dataset` writes)."""
    import pandas as pd

    return pd.concat(list(generate(rows, seed)), ignore_index=True)


def frame_digest(frame) -> str:
    """A sha256 of a pandas DataFrame's column names, types and values (row order matters)."""
    digest = hashlib.sha256()
    for name in frame.columns:
        values = frame[name].to_numpy()
        digest.update(f"{name}:{frame[name].dtype}".encode())
        if values.dtype == object:
            digest.update("\x1f".join(map(str, values)).encode())
        else:
            digest.update(np.ascontiguousarray(values).tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class Dataset:
    """Where one size of the synthetic data lives: a train and a test folder of Parquet files."""

    rows: int
    train: Path
    test: Path
    train_rows: int
    test_rows: int


def make_dataset(rows: int, folder: Path, seed: int = 42) -> Dataset:
    """Write ``rows`` synthetic rows under ``folder/rows=<rows>-seed=<seed>/`` (once; reused after).

    The first rows are the training set (``train/``), the last ``TEST_FRACTION`` the test set
    (``test/``); the rows are independent draws, so this is a random split. Each generated chunk
    becomes its own Parquet file, so Spark reads a split with several tasks in parallel.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    test_rows = int(round(rows * TEST_FRACTION))
    train_rows = rows - test_rows
    if train_rows < 1 or test_rows < 1:
        raise ValueError(f"{rows} rows are too few for a training and a test set")
    base = Path(folder) / f"rows={rows}-seed={seed}"
    dataset = Dataset(rows, base / "train", base / "test", train_rows, test_rows)
    complete = base / "_COMPLETE"
    if complete.exists():
        return dataset
    for split in (dataset.train, dataset.test):
        split.mkdir(parents=True, exist_ok=True)
        for old in split.glob("*.parquet"):
            old.unlink()
    start, files = 0, {dataset.train: 0, dataset.test: 0}
    for chunk in generate(rows, seed):
        cut = min(max(train_rows - start, 0), len(chunk))
        for split, part in ((dataset.train, chunk.iloc[:cut]), (dataset.test, chunk.iloc[cut:])):
            if len(part):
                table = pa.Table.from_pandas(part, preserve_index=False)
                pq.write_table(table, split / f"part-{files[split]:05d}.parquet")
                files[split] += 1
        start += len(chunk)
    complete.write_text("ok\n")
    return dataset


# ---------------------------------------------------------------------------------------------
# The two pipelines


def sklearn_c(reg_param: float, train_rows: int) -> float:
    """scikit-learn's ``C`` that matches Spark's ``regParam`` on ``train_rows`` rows.

    Spark minimises mean log-loss + regParam/2 * ||w||^2; scikit-learn minimises
    C * summed log-loss + 1/2 * ||w||^2. Dividing the latter by C * n gives the former with
    regParam = 1 / (C * n), so C = 1 / (regParam * n).
    """
    return 1.0 / (reg_param * train_rows)


def sklearn_preprocessor(numeric: Sequence[str] = NUMERIC, categorical: Sequence[str] = CATEGORICAL):
    """Scale the numeric columns, then one-hot encode the categorical ones (unseen -> all zeros)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    return ColumnTransformer([
        ("scaled", StandardScaler(), list(numeric)),
        ("onehot", OneHotEncoder(handle_unknown="ignore"), list(categorical)),
    ])


def sklearn_pipeline(train_rows: int, numeric: Sequence[str] = NUMERIC, categorical: Sequence[str] = CATEGORICAL,
                     reg_param: float = REG_PARAM, max_iter: int = MAX_ITER, tol: float = TOL):
    """ColumnTransformer(StandardScaler, OneHotEncoder) + LogisticRegression (L2, lbfgs)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    return Pipeline([
        ("prepare", sklearn_preprocessor(numeric, categorical)),
        ("model", LogisticRegression(C=sklearn_c(reg_param, train_rows), max_iter=max_iter, tol=tol)),
    ])


def spark_pipeline(numeric: Sequence[str] = NUMERIC, categorical: Sequence[str] = CATEGORICAL,
                   reg_param: float = REG_PARAM, max_iter: int = MAX_ITER, tol: float = TOL):
    """The Spark ML translation of :func:`sklearn_pipeline`, slot for slot.

    StringIndexer (alphabetical, like scikit-learn's sorted categories; ``keep`` gives unseen
    values an extra last index) and OneHotEncoder (``dropLast`` drops exactly that extra slot,
    so an unseen value is all zeros, like ``handle_unknown="ignore"``); the numeric columns are
    assembled and standardised on their own; LogisticRegression with ``standardization=False``
    (the features are scaled already, and scikit-learn penalises the coefficients as they are).
    """
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.feature import OneHotEncoder, StandardScaler, StringIndexer, VectorAssembler

    indexed = [f"{c}_index" for c in categorical]
    encoded = [f"{c}_onehot" for c in categorical]
    return Pipeline(stages=[
        StringIndexer(inputCols=list(categorical), outputCols=indexed, handleInvalid="keep",
                      stringOrderType="alphabetAsc"),
        OneHotEncoder(inputCols=indexed, outputCols=encoded, dropLast=True),
        VectorAssembler(inputCols=list(numeric), outputCol="numeric"),
        StandardScaler(inputCol="numeric", outputCol="scaled", withMean=True, withStd=True),
        VectorAssembler(inputCols=["scaled", *encoded], outputCol="features"),
        LogisticRegression(featuresCol="features", labelCol=LABEL, regParam=reg_param, elasticNetParam=0.0,
                           standardization=False, maxIter=max_iter, tol=tol),
    ])


# ---------------------------------------------------------------------------------------------
# Measuring


@dataclass(frozen=True)
class Measurement:
    """One run of the task: library, rows, wall seconds, peak memory, test AUC, solver iterations."""

    library: str
    rows: int
    seconds: float
    peak_mb: float
    auc: float
    iterations: int

    def as_dict(self) -> dict:
        return asdict(self)


class PeakRSS:
    """Samples the summed resident memory of some processes in a thread; ``peak`` in bytes."""

    def __init__(self, processes: Sequence, interval: float = 0.005):
        self.processes, self.interval = list(processes), interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> int:
        total = 0
        for process in self.processes:
            try:
                total += process.memory_info().rss
            except Exception:  # a process that ended
                pass
        self.peak = max(self.peak, total)
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self):
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def jvm_processes(spark) -> list:
    """The JVM behind a local session (the py4j gateway process and its children), as psutil
    processes; [] when there is none to see (Spark Connect, or a JVM this process did not start)."""
    import psutil

    gateway = getattr(spark.sparkContext, "_gateway", None) if hasattr(spark, "sparkContext") else None
    proc = getattr(gateway, "proc", None)
    if proc is None:
        return []
    try:
        root = psutil.Process(proc.pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def run_sklearn(dataset: Dataset, reg_param: float = REG_PARAM, max_iter: int = MAX_ITER, tol: float = TOL,
                trace_memory: bool = True) -> Measurement:
    """Read, fit, score and evaluate with scikit-learn; wall time and traced peak memory."""
    import pandas as pd
    from sklearn.metrics import roc_auc_score

    features = NUMERIC + CATEGORICAL
    if trace_memory:
        tracemalloc.start()
    try:
        started = time.perf_counter()
        train = pd.read_parquet(dataset.train)
        test = pd.read_parquet(dataset.test)
        model = sklearn_pipeline(len(train), reg_param=reg_param, max_iter=max_iter, tol=tol)
        model.fit(train[features], train[LABEL])
        auc = roc_auc_score(test[LABEL], model.predict_proba(test[features])[:, 1])
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if trace_memory else float("nan")
    finally:
        if trace_memory:
            tracemalloc.stop()
    return Measurement("scikit-learn", dataset.rows, seconds, peak / 2**20, float(auc),
                       int(model[-1].n_iter_[0]))


def run_spark(spark, dataset: Dataset, reg_param: float = REG_PARAM, max_iter: int = MAX_ITER,
              tol: float = TOL) -> Measurement:
    """Read, fit, score and evaluate with Spark ML; wall time and the JVM's peak resident memory."""
    from pyspark.ml.evaluation import BinaryClassificationEvaluator

    processes = jvm_processes(spark)
    with PeakRSS(processes) as memory:
        started = time.perf_counter()
        train = spark.read.parquet(str(dataset.train))
        test = spark.read.parquet(str(dataset.test))
        model = spark_pipeline(reg_param=reg_param, max_iter=max_iter, tol=tol).fit(train)
        auc = BinaryClassificationEvaluator(labelCol=LABEL, metricName="areaUnderROC", numBins=0).evaluate(
            model.transform(test))
        seconds = time.perf_counter() - started
    peak_mb = memory.peak / 2**20 if processes else float("nan")
    return Measurement("Spark ML", dataset.rows, seconds, peak_mb, float(auc),
                       int(model.stages[-1].summary.totalIterations))


def benchmark(spark, sizes: Sequence[int], folder: Path, seed: int = 42, warm_up: bool = True,
              **options) -> list[Measurement]:
    """Both libraries on every size (smallest first); data written once per size.

    ``warm_up`` first runs both on the smallest size without recording it: the first Spark fit of
    a session also pays for loading and compiling the JVM's classes, a cost paid once per session,
    not per task (lesson 00 measured the session start itself).
    """
    sizes = sorted(int(n) for n in sizes)
    if not sizes:
        raise ValueError("give at least one size")
    results = []
    if warm_up:
        first = make_dataset(sizes[0], folder, seed)
        run_sklearn(first, trace_memory=False, **options)
        run_spark(spark, first, **options)
    for rows in sizes:
        dataset = make_dataset(rows, folder, seed)
        results.append(run_sklearn(dataset, **options))
        results.append(run_spark(spark, dataset, **options))
    return results


def as_table(results: Sequence[Measurement]):
    """Measurements as a pandas DataFrame, one row per (rows, library), sorted."""
    import pandas as pd

    frame = pd.DataFrame([m.as_dict() for m in results])
    return frame.sort_values(["rows", "library"], ignore_index=True)


def plot(results: Sequence[Measurement], title: str = "The same task in scikit-learn and Spark ML"):
    """Wall time and peak memory against rows, one line per library, log axes (a closed Figure)."""
    import matplotlib.pyplot as plt

    table = as_table(results)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, column, label in ((axes[0], "seconds", "wall time (s)"), (axes[1], "peak_mb", "peak memory (MB)")):
        for library, group in table.groupby("library", sort=True):
            ax.plot(group["rows"], group[column], marker="o", label=library)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set(xlabel="rows (train + test)", ylabel=label)
        ax.grid(alpha=0.3, which="both")
        ax.legend()
    axes[0].set_title("Wall time: read, fit, score, AUC")
    axes[1].set_title("Peak memory (scikit-learn: traced; Spark: JVM RSS)")
    fig.suptitle(title)
    fig.tight_layout()
    plt.close(fig)
    return fig
