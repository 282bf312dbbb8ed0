"""The penguin-sex task: predict a penguin's sex from its species, island and measurements.

Lessons 10 and 11 run it everywhere: in a notebook, locally, on a cluster, via spark-submit, as
an MLflow Project. It is kept here, not in a notebook, so that the notebooks and the scripts of
``examples/`` run the very same code: on a real cluster a script is submitted with this package
shipped alongside (``spark-submit --py-files sparkcourse.zip``), and only the master URL and the
paths change.
"""

from __future__ import annotations

from sparkcourse import SEED
from sparkcourse.datasets import PENGUIN_CATEGORIES as CATEGORICAL
from sparkcourse.datasets import PENGUIN_MEASUREMENTS as NUMERIC
from sparkcourse.features import assemble_features, encode_categories, encoded_names

FEATURES = CATEGORICAL + NUMERIC


def parse_training_args(parser, argv=None, split: str = "80/20"):
    """The task's two settings on a script's command line: add ``--reg-param`` and ``--seed`` to
    ``parser``, parse ``argv`` and refuse a negative regParam."""
    parser.add_argument("--reg-param", type=float, default=0.01, help="LogisticRegression regParam (default 0.01)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"seed of the {split} split (default {SEED})")
    args = parser.parse_args(argv)
    if args.reg_param < 0:
        parser.error("--reg-param must be >= 0")
    return args


def _male():
    """The label: 1.0 for a male penguin, 0.0 for a female one."""
    from pyspark.sql import functions as F

    return (F.col("sex") == "male").cast("double")


def penguin_sex_data(spark, path: str | None = None):
    """Penguins with a known sex and measurements; ``label`` is 1.0 for male. ``path``: any URI
    Spark reads (a local file, ``hdfs://``, ``s3://``); default: the course's copy."""
    from pyspark.sql import functions as F

    from sparkcourse.datasets import load_penguins

    return (load_penguins(spark, path).dropna(subset=["sex", *NUMERIC])
            .select(*CATEGORICAL, *[F.col(c).cast("double").alias(c) for c in NUMERIC],
                    _male().alias("label")))


def penguin_sex_features(spark):
    """Lesson 03's data for predicting sex, for the lessons after it: the penguins with every
    measurement and a known sex, ``features`` = the four measurements then species and island
    one-hot (:func:`sparkcourse.features.assemble_features`), ``label`` = 1.0 for male. The
    original columns are kept."""
    from sparkcourse.datasets import load_penguins

    penguins = load_penguins(spark).dropna(subset=NUMERIC + ["sex"])
    return assemble_features(penguins, numeric=NUMERIC, categorical=CATEGORICAL).withColumn("label", _male())


def penguin_sex_pipeline(reg_param: float = 0.01):
    """Index and one-hot encode species and island (the course's encoder, alphabetical; an unseen
    value encodes as all zeros), assemble them with the measurements, logistic regression."""
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.feature import VectorAssembler

    return Pipeline(stages=[
        *encode_categories(CATEGORICAL, handle_invalid="keep"),
        VectorAssembler(inputCols=NUMERIC + encoded_names(CATEGORICAL), outputCol="features"),
        LogisticRegression(regParam=reg_param, maxIter=50),
    ])


def train_and_evaluate(spark, path: str | None = None, reg_param: float = 0.01, seed: int = SEED):
    """Split 80/20 with ``seed``, fit the pipeline on the training rows; return (model, metrics)."""
    from pyspark.ml.evaluation import BinaryClassificationEvaluator, MulticlassClassificationEvaluator

    train, test = penguin_sex_data(spark, path).randomSplit([0.8, 0.2], seed=seed)
    model = penguin_sex_pipeline(reg_param).fit(train)
    predictions = model.transform(test)
    metrics = {
        "auc": BinaryClassificationEvaluator(metricName="areaUnderROC").evaluate(predictions),
        "accuracy": MulticlassClassificationEvaluator(metricName="accuracy").evaluate(predictions),
        "train_rows": train.count(),
        "test_rows": test.count(),
    }
    return model, metrics


def penguin_sex_splits(spark, path: str | None = None, seed: int = SEED):
    """(train, validation, test): 60/20/20 of :func:`penguin_sex_data`, seeded.

    Models are fitted on train and compared on validation; test is for the one chosen model,
    once. The test rows are those of :func:`train_and_evaluate`'s 80/20 split with the same seed
    (``randomSplit`` draws one number per row and cuts at 0.6 and 0.8 instead of at 0.8).
    """
    return penguin_sex_data(spark, path).randomSplit([0.6, 0.2, 0.2], seed=seed)


def validation_metrics(model, validation) -> dict[str, float]:
    """The fitted model's ROC AUC and accuracy on the validation rows, as ``val_auc``/``val_accuracy``."""
    from pyspark.ml.evaluation import BinaryClassificationEvaluator, MulticlassClassificationEvaluator

    predictions = model.transform(validation)
    return {
        "val_auc": BinaryClassificationEvaluator(metricName="areaUnderROC").evaluate(predictions),
        "val_accuracy": MulticlassClassificationEvaluator(metricName="accuracy").evaluate(predictions),
    }
