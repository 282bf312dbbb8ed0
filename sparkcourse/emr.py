"""Run the lesson 11 pipeline on AWS EMR: the requests, checked offline against AWS's own API model.

EMR gives on-demand Spark on EC2: a primary node (the YARN resource manager; the driver runs
there in client mode, or in a YARN container in cluster mode), core nodes as workers, S3 as the
file system. A job is a *step*: ``command-runner.jar`` runs ``spark-submit`` on the primary node.

Nothing here contacts AWS except :func:`launch` and :func:`upload`, which take a boto3 client.
:func:`validate` checks a request with botocore's parameter validator and the EMR service
model shipped inside botocore: wrong names, types and missing fields fail here, not after a
cluster was paid for.
"""

from __future__ import annotations

from pathlib import PurePosixPath

# The newest EMR 7 release at the time of writing: Spark 3.5.6-amzn-2, Python 3.9 and 3.11.
# The pipeline of sparkcourse.jobs uses only APIs that Spark 3.5 has too.
RELEASE_LABEL = "emr-7.13.0"


def spark_step(name: str, script_uri: str, args: list[str] | tuple[str, ...] = (),
               py_files: str | None = None, deploy_mode: str = "cluster",
               action_on_failure: str = "CONTINUE") -> dict:
    """An EMR step that runs ``spark-submit script_uri args`` on the cluster.

    ``deploy_mode="cluster"`` runs the driver in a YARN container on a core node (the step
    survives a lost SSH session); ``"client"`` runs it on the primary node.
    """
    if deploy_mode not in ("client", "cluster"):
        raise ValueError(f"deploy_mode must be 'client' or 'cluster', not {deploy_mode!r}")
    submit = ["spark-submit", "--deploy-mode", deploy_mode]
    if py_files:
        submit += ["--py-files", py_files]
    return {
        "Name": name,
        "ActionOnFailure": action_on_failure,
        "HadoopJarStep": {"Jar": "command-runner.jar", "Args": [*submit, script_uri, *map(str, args)]},
    }


def penguin_step(bucket: str, reg_param: float = 0.01, prefix: str = "sparkcourse") -> dict:
    """The step that trains the lesson 11 pipeline from S3 and saves the model to S3."""
    base = f"s3://{bucket}/{prefix}"
    return spark_step(
        "train-penguins", f"{base}/code/train_penguins.py",
        ["--data", f"{base}/data/penguins.csv", "--model-out", f"{base}/models/penguins",
         "--reg-param", str(reg_param)],
        py_files=f"{base}/code/sparkcourse.zip")


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
