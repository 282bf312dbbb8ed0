"""Feature preparation that lessons after 02 reuse (lesson 02 teaches each step by hand)."""

from __future__ import annotations

from typing import Sequence


def assemble_features(df, numeric: Sequence[str] = (), categorical: Sequence[str] = (),
                      output: str = "features", handle_invalid: str = "error"):
    """``df`` with ``output``: the numeric columns, then a one-hot vector per categorical column.

    Categories are indexed alphabetically (``<col>_idx``) and one-hot encoded with ``dropLast``
    (``<col>_vec``), so k categories take k - 1 slots and the last one is all zeros (what linear
    models need). ``handle_invalid="keep"`` gives nulls and unseen values an extra index instead of
    failing (then all k categories get a slot). Numeric nulls are not filled: drop or impute them first.
    """
    from pyspark.ml import Pipeline
    from pyspark.ml.feature import OneHotEncoder, StringIndexer, VectorAssembler

    stages = []
    for column in categorical:
        stages.append(StringIndexer(inputCol=column, outputCol=f"{column}_idx",
                                    stringOrderType="alphabetAsc", handleInvalid=handle_invalid))
    if categorical:
        stages.append(OneHotEncoder(inputCols=[f"{c}_idx" for c in categorical],
                                    outputCols=[f"{c}_vec" for c in categorical]))
    stages.append(VectorAssembler(inputCols=list(numeric) + [f"{c}_vec" for c in categorical], outputCol=output))
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
