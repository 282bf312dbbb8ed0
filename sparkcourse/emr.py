"""Run the lesson 11 pipeline on AWS EMR: the requests, checked offline against AWS's own API model.

EMR gives on-demand Spark on EC2: a primary node (the YARN resource manager; the driver runs
there in client mode, or in a YARN container in cluster mode), core nodes as workers, S3 as the
file system. A job is a *step*: ``command-runner.jar`` runs ``spark-submit`` on the primary node.
Steps are the caller's (lesson 11 writes one, ``examples/emr_launch.py`` builds the same);
:func:`cluster_request` wraps them in a cluster.

Nothing here contacts AWS except :func:`launch` and :func:`upload`, which take a boto3 client.
:func:`validate` checks a request with botocore's parameter validator and the EMR service
model shipped inside botocore: wrong names, types and missing fields fail here, not after a
cluster was paid for.
"""

from __future__ import annotations

from pathlib import PurePosixPath

# The newest EMR 7 release at the time of writing: Spark 3.5.6-amzn-2, Python 3.9 and 3.11.
# The pipeline of sparkcourse.penguin_sex uses only APIs that Spark 3.5 has too.
RELEASE_LABEL = "emr-7.13.0"


def cluster_request(name: str, log_uri: str, steps: list[dict], release_label: str = RELEASE_LABEL,
                    instance_type: str = "m5.xlarge", core_nodes: int = 2, terminate_when_done: bool = True,
                    subnet_id: str | None = None) -> dict:
    """The ``RunJobFlow`` request: a Spark cluster that runs ``steps`` (then stops, by default)."""
    instances = {
        "InstanceGroups": [
            {"Name": "Primary", "InstanceRole": "MASTER", "Market": "ON_DEMAND",
             "InstanceType": instance_type, "InstanceCount": 1},
            {"Name": "Core", "InstanceRole": "CORE", "Market": "ON_DEMAND",
             "InstanceType": instance_type, "InstanceCount": core_nodes},
        ],
        "KeepJobFlowAliveWhenNoSteps": not terminate_when_done,
        "TerminationProtected": False,
    }
    if subnet_id:
        instances["Ec2SubnetId"] = subnet_id
    return {
        "Name": name,
        "LogUri": log_uri,
        "ReleaseLabel": release_label,
        "Applications": [{"Name": "Spark"}],
        "Instances": instances,
        "Steps": steps,
        # Executors and the driver run Python 3.11 (EMR 7 has 3.9 and 3.11).
        "Configurations": [{
            "Classification": "spark-env",
            "Configurations": [{"Classification": "export", "Properties": {"PYSPARK_PYTHON": "python3.11"}}],
        }],
        "JobFlowRole": "EMR_EC2_DefaultRole",
        "ServiceRole": "EMR_DefaultRole",
        "VisibleToAllUsers": True,
        "Tags": [{"Key": "project", "Value": "sparkcourse"}],
    }


def add_steps_request(cluster_id: str, steps: list[dict]) -> dict:
    """The ``AddJobFlowSteps`` request: more steps for a cluster that is already running."""
    return {"JobFlowId": cluster_id, "Steps": steps}


def _service_model():
    import botocore.session

    return botocore.session.get_session().get_service_model("emr")


def validate(operation: str, request: dict) -> None:
    """Check ``request`` for EMR's ``operation`` (e.g. ``"RunJobFlow"``) without contacting AWS.

    Raises ValueError listing every problem botocore finds (unknown or missing fields, wrong types).
    """
    from botocore.exceptions import ParamValidationError
    from botocore.validate import ParamValidator

    model = _service_model()
    if operation not in model.operation_names:
        raise ValueError(f"EMR has no operation {operation!r}; e.g. RunJobFlow, AddJobFlowSteps")
    report = ParamValidator().validate(request, model.operation_model(operation).input_shape)
    if report.has_errors():
        raise ValueError(str(ParamValidationError(report=report.generate_report())))


def launch(client, request: dict) -> str:
    """Start the cluster with a boto3 EMR client; returns its id (``j-...``). Costs money."""
    validate("RunJobFlow", request)
    return client.run_job_flow(**request)["JobFlowId"]


def upload(client, bucket: str, files: dict[str, bytes]) -> list[str]:
    """Put small files (the script, the data, the zipped package) into S3 with a boto3 S3 client."""
    uris = []
    for key, body in sorted(files.items()):
        key = str(PurePosixPath(key))
        client.put_object(Bucket=bucket, Key=key, Body=body)
        uris.append(f"s3://{bucket}/{key}")
    return uris
