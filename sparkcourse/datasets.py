"""The data lessons load, as DataFrames with explicit schemas, and the column lists written once.

Files come from :func:`sparkcourse.registry.fetch` (shipped and checked, or downloaded and
verified); ``path`` arguments read the same layout from anywhere Spark reads (e.g. ``s3://``).
"""

from __future__ import annotations

import os
from pathlib import Path

from sparkcourse.registry import DatasetError, fetch

__all__ = ["PENGUIN_CATEGORIES", "PENGUIN_MEASUREMENTS", "PENGUINS_SCHEMA", "WINE_SCHEMA", "RATINGS_SCHEMA",
           "MOVIES_SCHEMA", "fetch", "load_penguins", "load_wine", "load_ratings", "load_movies",
           "spark_sample", "load_spark_ml_docs"]

PENGUINS_SCHEMA = (
    "species STRING, island STRING, bill_length_mm DOUBLE, bill_depth_mm DOUBLE, "
    "flipper_length_mm INT, body_mass_g INT, sex STRING, year INT"
)
WINE_SCHEMA = (
    "cultivar INT, alcohol DOUBLE, malic_acid DOUBLE, ash DOUBLE, alcalinity_of_ash DOUBLE, "
    "magnesium DOUBLE, total_phenols DOUBLE, flavanoids DOUBLE, nonflavanoid_phenols DOUBLE, "
    "proanthocyanins DOUBLE, color_intensity DOUBLE, hue DOUBLE, od280_od315 DOUBLE, proline DOUBLE"
)
#: The penguins' four numeric measurements and two categorical columns, written once for every lesson.
PENGUIN_MEASUREMENTS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
PENGUIN_CATEGORIES = ["species", "island"]
RATINGS_SCHEMA = "userId INT, movieId INT, rating FLOAT, timestamp LONG"
MOVIES_SCHEMA = "movieId INT, title STRING, genres STRING"


def _read_csv(spark, path: Path | str, schema: str, **options):
    return spark.read.csv(str(path), header=True, schema=schema, mode="FAILFAST", **options)


def load_penguins(spark, path: str | os.PathLike | None = None):
    """The 344 Palmer penguins; missing values (``NA``) become nulls. ``path``: the same CSV
    elsewhere (any URI Spark reads, e.g. ``s3://``); default: the course's copy."""
    return _read_csv(spark, path or fetch("penguins") / "penguins.csv", PENGUINS_SCHEMA, nullValue="NA")


def load_wine(spark):
    """The 178 UCI wines: ``cultivar`` (1-3) and 13 chemical measurements."""
    return _read_csv(spark, fetch("wine") / "wine.csv", WINE_SCHEMA)


def load_ratings(spark, path: str | os.PathLike | None = None):
    """MovieLens ratings (userId, movieId, rating, timestamp); or your own CSV with those columns."""
    return _read_csv(spark, path or fetch("ml-latest-small") / "ratings.csv", RATINGS_SCHEMA)


def load_movies(spark, path: str | os.PathLike | None = None):
    """MovieLens movies (movieId, title, genres); or your own CSV with those columns."""
    return _read_csv(spark, path or fetch("ml-latest-small") / "movies.csv", MOVIES_SCHEMA, escape='"')


# --- data that ships with the installed pyspark, and a corpus made from its documentation ---

def spark_sample(relative: str) -> Path:
    """A file of Spark's own sample data shipped inside pyspark, e.g. ``mllib/sample_libsvm_data.txt``."""
    import pyspark

    path = Path(pyspark.__file__).parent / "data" / relative
    if not path.exists():
        raise DatasetError(
            f"{path} is missing: this pyspark was installed without Spark's sample data. "
            "Reinstall the pinned version with make lab (pip install pyspark==4.3.0)."
        )
    return path


def load_spark_ml_docs(spark):
    """A small real text corpus: one row per public pyspark.ml class (Apache-2.0, from pyspark itself).

    Columns: ``module`` (feature, classification, ...), ``name`` and ``text`` (the first paragraph
    of the class's documentation). Rows are ordered by module, then name.
    """
    from sparkcourse.corpus import ml_docs_rows

    return spark.createDataFrame(ml_docs_rows(), "module STRING, name STRING, text STRING")
