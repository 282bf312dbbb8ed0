"""Seeded synthetic data of any size, written once to Parquet (lesson 12's side-by-side task).

A labelled table: eight numeric columns on very different scales, two categorical ones and a
0/1 label drawn from a known logistic model plus noise. :func:`make_frame` gives the rows as a
pandas DataFrame; :func:`write_split` writes them to a train and a test folder of Parquet files
(a :class:`ParquetSplit`) that scikit-learn and Spark both read. The same ``rows`` and ``seed``
give the same data on every machine (NumPy's PCG64 generator is platform independent).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sparkcourse import SEED

#: The columns: eight numeric ones, two categorical ones, a 0/1 label.
NUMERIC = [f"x{i}" for i in range(8)]
CATEGORICAL = ["region", "plan"]
LABEL = "label"
REGIONS = [f"r{i:02d}" for i in range(12)]
PLANS = ["basic", "family", "plus", "pro", "student"]
#: At most this many rows are generated (and written to one Parquet file) at once.
CHUNK_ROWS = 250_000
TEST_FRACTION = 0.2


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


def generate(rows: int, seed: int = SEED):
    """The synthetic rows as a sequence of pandas DataFrames (chunks of :func:`chunk_rows_for` rows).

    At most one chunk is in memory at a time.
    """
    if rows < 1:
        raise ValueError(f"rows must be positive, got {rows}")
    rng = np.random.default_rng(seed)
    chunk, done = chunk_rows_for(rows), 0
    while done < rows:
        size = min(chunk, rows - done)
        yield _chunk(rng, size)
        done += size


def make_frame(rows: int, seed: int = SEED):
    """All ``rows`` synthetic rows in one pandas DataFrame (what :func:`write_split` writes)."""
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
class ParquetSplit:
    """Where one size of the synthetic data lives: a train and a test folder of Parquet files."""

    rows: int
    train: Path
    test: Path
    train_rows: int
    test_rows: int


def write_split(rows: int, folder: Path, seed: int = SEED) -> ParquetSplit:
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
    split = ParquetSplit(rows, base / "train", base / "test", train_rows, test_rows)
    complete = base / "_COMPLETE"
    if complete.exists():
        return split
    for part in (split.train, split.test):
        part.mkdir(parents=True, exist_ok=True)
        for old in part.glob("*.parquet"):
            old.unlink()
    start, files = 0, {split.train: 0, split.test: 0}
    for chunk in generate(rows, seed):
        cut = min(max(train_rows - start, 0), len(chunk))
        for part, frame in ((split.train, chunk.iloc[:cut]), (split.test, chunk.iloc[cut:])):
            if len(frame):
                pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), part / f"part-{files[part]:05d}.parquet")
                files[part] += 1
        start += len(chunk)
    complete.write_text("ok\n")
    return split
