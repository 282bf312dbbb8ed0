"""The penguins project's entry point: fit, validate and log one model in an MLflow run.

    mlflow run examples/penguins_project -P reg_param=0.1 --env-manager local

``mlflow run`` opens the run (with the entry point's parameters) and passes its id and the
tracking URI in the environment; ``mlflow.start_run()`` below continues that run. The job fits
lesson 11's pipeline (``sparkcourse.penguin_sex``) on the training rows of a seeded 60/20/20 split and
logs its validation AUC and accuracy and the fitted model (signature, input example, pinned
requirements). It never looks at the test rows: the test metric is reported once, for the model
that is finally chosen, by whoever chooses it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

try:
    import sparkcourse  # noqa: F401  (installed in the course's environment)
except ImportError:  # a fresh virtualenv made from python_env.yaml: use the clone's copy
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def parse_args(argv=None):
    from sparkcourse.penguin_sex import parse_training_args

    # MLproject's defaults are literals; a test keeps them equal to these (SEED is 42).
    return parse_training_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]), argv, split="60/20/20")


def main(argv=None) -> None:
    args = parse_args(argv)
    import mlflow
    import mlflow.spark
    from mlflow.models import infer_signature

    from sparkcourse import get_spark, tracking
    from sparkcourse.penguin_sex import FEATURES, penguin_sex_pipeline, penguin_sex_splits, validation_metrics

    tracking.quiet()
    spark = get_spark("penguins-project", **{"spark.sql.shuffle.partitions": "1"})
    try:
        with mlflow.start_run():  # the run `mlflow run` opened (MLFLOW_RUN_ID), or a new one
            train, validation, _test = penguin_sex_splits(spark, seed=args.seed)
            model = penguin_sex_pipeline(args.reg_param).fit(train)
            mlflow.log_param("regParam", args.reg_param)
            mlflow.log_metrics(validation_metrics(model, validation))
            mlflow.set_tag("data", f"penguins, 60/20/20 split, seed {args.seed}")
            example = validation.select(FEATURES).orderBy(*FEATURES).limit(3).toPandas()
            output = model.transform(spark.createDataFrame(example)).select("prediction").toPandas()
            mlflow.spark.log_model(model, artifact_path="model", signature=infer_signature(example, output),
                                   input_example=example, pip_requirements=tracking.pip_requirements())
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
