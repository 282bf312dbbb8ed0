"""Train the lesson 11 pipeline and save it: the same code on a laptop and on a cluster.

    spark-submit --master spark://127.0.0.1:7077 examples/train_penguins.py --model-out /tmp/model
    spark-submit --master yarn --deploy-mode cluster --py-files sparkcourse.zip \
        train_penguins.py --data s3://my-bucket/penguins.csv --model-out s3://my-bucket/models/penguins

The master is never set in the code: spark-submit (or the cluster) decides it. Prints the
metrics as one JSON line, and writes that line next to the model (a text dataset metrics.json/,
so that it works on S3 or HDFS as well as on a local disk).
"""

from __future__ import annotations

import argparse
import json

from sparkcourse.penguin_sex import parse_training_args


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="penguins CSV (any URI Spark reads); default: the course's copy")
    parser.add_argument("--model-out", required=True, help="folder (URI) to save the fitted PipelineModel in")
    return parse_training_args(parser, argv, split="80/20")


def main(argv=None) -> None:
    args = parse_args(argv)
    from pyspark.sql import SparkSession

    from sparkcourse.penguin_sex import train_and_evaluate

    spark = SparkSession.builder.appName("train-penguins").getOrCreate()
    try:
        model, metrics = train_and_evaluate(spark, args.data, args.reg_param, args.seed)
        model.write().overwrite().save(args.model_out)
        metrics.update(master=spark.sparkContext.master, reg_param=args.reg_param, seed=args.seed)
        spark.createDataFrame([(json.dumps(metrics),)], "value string").coalesce(1) \
            .write.mode("overwrite").text(args.model_out.rstrip("/") + "/metrics.json")
        print(json.dumps(metrics))
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
