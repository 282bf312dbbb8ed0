"""Feature preparation that lessons after 02 reuse (lesson 02 teaches each step by hand)."""

from __future__ import annotations

from typing import Sequence


def encoded_names(categorical: Sequence[str]) -> list[str]:
    """The one-hot vector column :func:`encode_categories` makes for each categorical column."""
    return [f"{c}_vec" for c in categorical]


def encode_categories(categorical: Sequence[str], handle_invalid: str = "error", drop_last: bool = True) -> list:
    """The course's one categorical encoding, as two unfitted stages for a Pipeline.

    A StringIndexer orders categories alphabetically (``<col>_idx``; the same order as
    scikit-learn's sorted categories, and stable whatever the data's frequencies) and a
    OneHotEncoder makes ``<col>_vec``. With ``drop_last`` k categories take k - 1 slots and the last
    one is all zeros (what linear models need). ``handle_invalid="keep"`` gives nulls and unseen
    values an extra last index instead of failing; ``drop_last`` then drops exactly that slot, so
    an unseen category encodes as all zeros.
    """
    from pyspark.ml.feature import OneHotEncoder, StringIndexer

    indexed = [f"{c}_idx" for c in categorical]
    return [StringIndexer(inputCols=list(categorical), outputCols=indexed, stringOrderType="alphabetAsc",
                          handleInvalid=handle_invalid),
            OneHotEncoder(inputCols=indexed, outputCols=encoded_names(categorical), dropLast=drop_last)]


def assemble_features(df, numeric: Sequence[str] = (), categorical: Sequence[str] = (),
                      output: str = "features", handle_invalid: str = "error"):
    """``df`` with ``output``: the numeric columns, then a one-hot vector per categorical column
    (encoded by :func:`encode_categories`). ``handle_invalid="keep"`` gives nulls and unseen values
    an extra index instead of failing (then all k seen categories get a slot). Numeric nulls are
    not filled: drop or impute them first.
    """
    from pyspark.ml import Pipeline
    from pyspark.ml.feature import VectorAssembler

    stages = encode_categories(categorical, handle_invalid) if categorical else []
    stages.append(VectorAssembler(inputCols=list(numeric) + encoded_names(categorical), outputCol=output))
    return Pipeline(stages=stages).fit(df).transform(df)


def slot_names(df, column: str = "features") -> list[str]:
    """The name of every slot of a vector column, from its ML attribute metadata."""
    attrs = df.schema[column].metadata.get("ml_attr", {}).get("attrs", {})
    slots = sorted((a["idx"], a["name"]) for group in attrs.values() for a in group)
    if not slots:
        raise ValueError(f"column {column!r} carries no ML attribute metadata (was it built by VectorAssembler?)")
    return [name for _, name in slots]


def pipeline_stages(pipeline) -> list | None:
    """The stages of a Pipeline (``getStages()``) or a PipelineModel (``.stages``); None for anything else."""
    if hasattr(pipeline, "getStages"):
        return list(pipeline.getStages())
    stages = getattr(pipeline, "stages", None)
    return None if stages is None else list(stages)
