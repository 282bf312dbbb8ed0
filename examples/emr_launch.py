"""Train the lesson 11 pipeline on AWS EMR: upload the code and data to S3, start a Spark cluster
that runs one spark-submit step, and stops when it is done.

    python examples/emr_launch.py --bucket my-bucket --dry-run     # print the requests, touch nothing
    python examples/emr_launch.py --bucket my-bucket --region eu-west-1

Needs AWS credentials (``aws configure``), the default EMR roles (``aws emr create-default-roles``)
and a bucket you own. The model lands in s3://BUCKET/sparkcourse/models/penguins, the logs in
s3://BUCKET/sparkcourse/logs. A cluster costs money while it runs: check the EMR console.
"""

from __future__ import annotations

import argparse
import io
import json
import zipfile
from pathlib import Path

from sparkcourse import emr
from sparkcourse.datasets import fetch

ROOT = Path(__file__).resolve().parent.parent


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bucket", required=True, help="an S3 bucket you own (name only, no s3://)")
    parser.add_argument("--region", default="eu-west-1", help="AWS region (default eu-west-1)")
    parser.add_argument("--reg-param", type=float, default=0.01, help="LogisticRegression regParam")
    parser.add_argument("--core-nodes", type=int, default=2, help="worker (core) nodes (default 2)")
    parser.add_argument("--instance-type", default="m5.xlarge", help="EC2 type of every node")
    parser.add_argument("--dry-run", action="store_true", help="print the checked requests; contact nothing")
    args = parser.parse_args(argv)
    if args.bucket.startswith("s3://") or "/" in args.bucket:
        parser.error("--bucket takes the bucket's name only, e.g. my-bucket")
    if args.core_nodes < 1:
        parser.error("--core-nodes must be at least 1")
    return args


def penguin_step(bucket: str, reg_param: float = 0.01, prefix: str = "sparkcourse") -> dict:
    """The EMR step that trains the lesson 11 pipeline from S3 and saves the model to S3:
    ``command-runner.jar`` runs ``spark-submit`` in cluster mode (the driver in a YARN container),
    with the zipped package for the driver and the executors."""
    base = f"s3://{bucket}/{prefix}"
    return {
        "Name": "train-penguins",
        "ActionOnFailure": "CONTINUE",
        "HadoopJarStep": {
            "Jar": "command-runner.jar",
            "Args": ["spark-submit", "--deploy-mode", "cluster", "--py-files", f"{base}/code/sparkcourse.zip",
                     f"{base}/code/train_penguins.py", "--data", f"{base}/data/penguins.csv",
                     "--model-out", f"{base}/models/penguins", "--reg-param", str(reg_param)],
        },
    }


def package_zip() -> bytes:
    """sparkcourse as a zip for ``--py-files``: the executors import sparkcourse.penguin_sex from it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted((ROOT / "sparkcourse").rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(ROOT).as_posix())
    return buffer.getvalue()


def files_to_upload(prefix: str = "sparkcourse") -> dict[str, bytes]:
    return {
        f"{prefix}/code/train_penguins.py": (ROOT / "examples" / "train_penguins.py").read_bytes(),
        f"{prefix}/code/sparkcourse.zip": package_zip(),
        f"{prefix}/data/penguins.csv": (fetch("penguins", progress=False) / "penguins.csv").read_bytes(),
    }


def plan(args) -> dict:
    """The RunJobFlow request, validated against the EMR API model (offline)."""
    request = emr.cluster_request(
        "sparkcourse-penguins", f"s3://{args.bucket}/sparkcourse/logs/",
        [penguin_step(args.bucket, args.reg_param)],
        instance_type=args.instance_type, core_nodes=args.core_nodes)
    emr.validate("RunJobFlow", request)
    return request


def main(argv=None, session=None) -> str | None:
    args = parse_args(argv)
    request = plan(args)
    files = files_to_upload()
    if args.dry_run:
        print(json.dumps({"upload": [f"s3://{args.bucket}/{key}" for key in sorted(files)],
                          "run_job_flow": request}, indent=2))
        return None
    import boto3

    session = session or boto3.session.Session(region_name=args.region)
    emr.upload(session.client("s3"), args.bucket, files)
    cluster_id = emr.launch(session.client("emr"), request)
    print(f"started {cluster_id}: https://console.aws.amazon.com/emr/home?region={args.region}#/clusterDetails/{cluster_id}")
    return cluster_id


if __name__ == "__main__":
    main()
