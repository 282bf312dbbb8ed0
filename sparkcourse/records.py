"""Model records: which data, features, params and versions made a saved model.

A record is a small JSON file written next to a saved model: the hand-made precursor of what
MLflow tracking does for you (lesson 10). Read it back to answer "how was this model made?",
and check whether a DataFrame is the one it was trained on.
"""

from __future__ import annotations

import json
import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping, Sequence

RECORD_FILE = "model_record.json"


def _hashable_columns(df):
    """The columns of ``df`` as expressions ``xxhash64`` accepts (ML vectors become arrays)."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.ml.linalg import VectorUDT
    from pyspark.sql import functions as F

    return [vector_to_array(F.col(f.name)) if isinstance(f.dataType, VectorUDT) else F.col(f.name)
            for f in df.schema.fields]


def fingerprint(df) -> dict:
    """Rows, schema and an order-independent content digest of ``df`` (one Spark pass).

    The digest is the sum of a 64-bit hash of every row: the same rows in any order or
    partitioning give the same digest; one changed value changes it.
    """
    from pyspark.sql import functions as F

    row_hash = F.xxhash64(*_hashable_columns(df)).cast("decimal(38,0)")
    rows, digest = df.agg(F.count(F.lit(1)), F.sum(row_hash)).first()
    return {"rows": int(rows),
            "schema": {f.name: f.dataType.simpleString() for f in df.schema.fields},
            "digest": format(int(digest or 0) % 2**64, "016x")}


def _jsonable(value):
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


def stage_params(model) -> list[dict]:
    """Class, uid and every param value (set or default) of each stage of a pipeline or model."""
    from sparkcourse.features import pipeline_stages

    stages = pipeline_stages(model)
    if stages is None:  # a single stage
        stages = [model]
    return [{"stage": type(s).__name__, "uid": s.uid,
             "params": {p.name: _jsonable(v) for p, v in sorted(s.extractParamMap().items(),
                                                                  key=lambda item: item[0].name)}}
            for s in stages]


def _versions(spark) -> dict:
    import pyspark

    import sparkcourse

    versions = {"python": platform.python_version(), "pyspark": pyspark.__version__,
                "sparkcourse": sparkcourse.__version__}
    try:  # not available over Spark Connect
        versions["java"] = spark.sparkContext._jvm.java.lang.System.getProperty("java.version")
    except Exception:
        pass
    return versions


def write_model_record(model_dir, model, train_df, features: Sequence[str], label: str,
                       metrics: Mapping[str, float], notes: str = "") -> dict:
    """Write ``model_record.json`` into ``model_dir`` (where ``model`` was saved) and return it."""
    folder = Path(model_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a saved model folder: save the model first "
                                "(model.write().overwrite().save(path)), then record it.")
    missing = [c for c in [*features, label] if c not in train_df.columns]
    if missing:
        raise ValueError(f"columns {missing} are not in the training DataFrame "
                         f"(it has {train_df.columns}); record the columns the model was trained on.")
    record = {
        "model_class": type(model).__name__,
        "created_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "training_data": fingerprint(train_df),
        "features": list(features),
        "label": label,
        "stages": stage_params(model),
        "metrics": {name: float(value) for name, value in metrics.items()},
        "versions": _versions(train_df.sparkSession),
        "notes": notes,
    }
    (folder / RECORD_FILE).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    return record


def read_model_record(model_dir) -> dict:
    """The record written by :func:`write_model_record` for the model saved in ``model_dir``."""
    path = Path(model_dir) / RECORD_FILE
    if not path.exists():
        raise FileNotFoundError(f"no {RECORD_FILE} in {model_dir}: this model was saved without a record "
                                "(write one with sparkcourse.records.write_model_record).")
    return json.loads(path.read_text())


def trained_on(record: Mapping, df) -> bool:
    """Whether ``df`` has the same rows and schema as the data the recorded model was trained on."""
    return fingerprint(df) == record["training_data"]
