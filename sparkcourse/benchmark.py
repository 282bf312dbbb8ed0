"""Wall time and peak memory of one task in scikit-learn and in Spark ML, on growing data (lesson 12).

The task: read a :class:`~sparkcourse.synthetic.ParquetSplit`, fit a model on the training rows,
score the test rows and compute the test AUC. The models are the caller's (lesson 12 writes both
pipelines): a function that makes a scikit-learn estimator for a number of training rows, and
an unfitted Spark ML estimator. :func:`time_sklearn` and :func:`time_spark` run the task once
and return a :class:`Measurement`; :func:`measure` runs both over a list of sizes.

How memory is measured, and why the two numbers mean different things:

- scikit-learn works inside this Python process. Its number is the peak of the memory the task
  allocated through Python and NumPy (``tracemalloc``): the data frame, the encoded matrix, the
  solver's arrays. Buffers Arrow holds while reading Parquet are not traced.
- Spark works inside its JVM (in local mode one JVM is driver and executors at once). Its
  number is the peak resident memory (RSS) of that JVM, sampled every few milliseconds by
  :class:`PeakMemory` while the task runs: the whole process, including what the JVM holds
  whatever the data size. On a cluster the executors run on other machines and are not measured here.

:class:`PeakMemory` is also what ``make bench`` measures a notebook's kernel and JVM with.
"""

from __future__ import annotations

import threading
import time
import tracemalloc
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import psutil

from sparkcourse import SEED
from sparkcourse.synthetic import CATEGORICAL, LABEL, NUMERIC, ParquetSplit, write_split


class PeakMemory:
    """The peak summed resident memory (RSS) of some processes, sampled in a background thread.

    ``processes``: psutil processes, or a function that returns them, called at every sample
    (for processes that start while it runs, e.g. :func:`descendants`). ``peak`` is in bytes.
    A process that ends while sampled counts as nothing.
    """

    def __init__(self, processes: Iterable[psutil.Process] | Callable[[], Iterable[psutil.Process]],
                 interval: float = 0.005):
        if callable(processes):
            self._processes = processes
        else:
            fixed = list(processes)
            self._processes = lambda: fixed
        self.interval, self.peak = interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> int:
        """Sample once: the summed RSS now (and the peak updated)."""
        total = 0
        for process in self._processes():
            try:
                total += process.memory_info().rss
            except psutil.Error:  # ended, or not ours to read
                pass
        self.peak = max(self.peak, total)
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> "PeakMemory":
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def descendants() -> list[psutil.Process]:
    """Every process this one started, and theirs (a notebook's kernel and its JVM)."""
    return psutil.Process().children(recursive=True)


def jvm_processes(spark) -> list[psutil.Process]:
    """The JVM behind a local session (the py4j gateway process and its children); [] when there
    is none to see (Spark Connect, or a JVM this process did not start)."""
    gateway = getattr(spark.sparkContext, "_gateway", None) if hasattr(spark, "sparkContext") else None
    proc = getattr(gateway, "proc", None)
    if proc is None:
        return []
    try:
        root = psutil.Process(proc.pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


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


def time_sklearn(split: ParquetSplit, make_model: Callable, features: Sequence[str] = NUMERIC + CATEGORICAL,
                 label: str = LABEL, trace_memory: bool = True) -> Measurement:
    """Read, fit ``make_model(training rows)``, score and evaluate with scikit-learn; wall time and
    traced peak memory. ``iterations``: the last step's ``n_iter_`` (0 if it has none)."""
    import pandas as pd
    from sklearn.metrics import roc_auc_score

    features = list(features)
    if trace_memory:
        tracemalloc.start()
    try:
        started = time.perf_counter()
        train = pd.read_parquet(split.train)
        test = pd.read_parquet(split.test)
        model = make_model(len(train))
        model.fit(train[features], train[label])
        auc = roc_auc_score(test[label], model.predict_proba(test[features])[:, 1])
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if trace_memory else float("nan")
    finally:
        if trace_memory:
            tracemalloc.stop()
    last = model[-1] if hasattr(model, "steps") else model
    iterations = int(max(getattr(last, "n_iter_", [0])))
    return Measurement("scikit-learn", split.rows, seconds, peak / 2**20, float(auc), iterations)


def time_spark(spark, split: ParquetSplit, estimator, label: str = LABEL) -> Measurement:
    """Read, fit ``estimator``, score and evaluate with Spark ML; wall time and the JVM's peak
    resident memory (NaN when the JVM is not this process's). ``iterations``: the last stage's
    training summary's ``totalIterations`` (0 if it has none)."""
    from pyspark.ml.evaluation import BinaryClassificationEvaluator

    processes = jvm_processes(spark)
    with PeakMemory(processes) as memory:
        started = time.perf_counter()
        train = spark.read.parquet(str(split.train))
        test = spark.read.parquet(str(split.test))
        model = estimator.fit(train)
        auc = BinaryClassificationEvaluator(labelCol=label, metricName="areaUnderROC", numBins=0).evaluate(
            model.transform(test))
        seconds = time.perf_counter() - started
    peak_mb = memory.peak / 2**20 if processes else float("nan")
    last = model.stages[-1] if hasattr(model, "stages") else model
    summary = last.summary if getattr(last, "hasSummary", False) else None
    return Measurement("Spark ML", split.rows, seconds, peak_mb, float(auc),
                       int(summary.totalIterations) if summary is not None else 0)


def measure(spark, sizes: Sequence[int], folder: Path, sklearn_model: Callable, spark_estimator,
            seed: int = SEED, warm_up: bool = True) -> list[Measurement]:
    """Both libraries on every size (smallest first); the data is written once per size.

    ``sklearn_model``: a function of the number of training rows returning an unfitted
    scikit-learn estimator; ``spark_estimator``: an unfitted Spark ML estimator (a Pipeline).
    ``warm_up`` first runs both on the smallest size without recording it: the first Spark fit of
    a session also pays for loading and compiling the JVM's classes, a cost paid once per
    session, not per task (lesson 00 measured the session start itself).
    """
    sizes = sorted(int(n) for n in sizes)
    if not sizes:
        raise ValueError("give at least one size")
    results = []
    if warm_up:
        first = write_split(sizes[0], folder, seed)
        time_sklearn(first, sklearn_model, trace_memory=False)
        time_spark(spark, first, spark_estimator)
    for rows in sizes:
        split = write_split(rows, folder, seed)
        results.append(time_sklearn(split, sklearn_model))
        results.append(time_spark(spark, split, spark_estimator))
    return results


def as_table(results: Sequence[Measurement]):
    """Measurements as a pandas DataFrame, one row per (rows, library), sorted."""
    import pandas as pd

    frame = pd.DataFrame([m.as_dict() for m in results])
    return frame.sort_values(["rows", "library"], ignore_index=True)
