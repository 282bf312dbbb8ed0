"""sparkcourse.emr and examples/emr_launch.py: EMR requests checked against botocore's API model, offline.

botocore's Stubber answers instead of AWS; it validates every call's parameters first, so a
request that AWS would refuse fails here too. Nothing contacts AWS.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from sparkcourse import emr

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "emr_launch.py"


def _client(service: str):
    return boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                 region_name="eu-west-1").client(service)


def _example():
    spec = importlib.util.spec_from_file_location("emr_launch", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_penguin_step_runs_spark_submit_on_s3_paths():
    step = _example().penguin_step("my-bucket", reg_param=0.1)
    args = step["HadoopJarStep"]["Args"]
    assert step["HadoopJarStep"]["Jar"] == "command-runner.jar" and step["Name"] == "train-penguins"
    assert args[:3] == ["spark-submit", "--deploy-mode", "cluster"]
    assert args[args.index("--py-files") + 1] == "s3://my-bucket/sparkcourse/code/sparkcourse.zip"
    script = args.index("s3://my-bucket/sparkcourse/code/train_penguins.py")
    assert args.index("--py-files") < script, "spark-submit options come before the script"
    assert args[script + 1:] == ["--data", "s3://my-bucket/sparkcourse/data/penguins.csv", "--model-out",
                                 "s3://my-bucket/sparkcourse/models/penguins", "--reg-param", "0.1"]
    emr.validate("AddJobFlowSteps", emr.add_steps_request("j-ABC123", [step]))


def test_requests_pass_the_emr_api_model():
    request = emr.cluster_request("demo", "s3://my-bucket/logs/", [_example().penguin_step("my-bucket")])
    emr.validate("RunJobFlow", request)
    assert request["ReleaseLabel"].startswith("emr-7.") and request["Applications"] == [{"Name": "Spark"}]
    assert request["Instances"]["KeepJobFlowAliveWhenNoSteps"] is False


@pytest.mark.parametrize("breakage, message", [
    (lambda r: r["Instances"]["InstanceGroups"][1].update(InstanceCount="2"), "InstanceCount"),
    (lambda r: r.pop("Name"), "Name"),
    (lambda r: r.update(Aplications=[{"Name": "Spark"}]), "Aplications"),
    (lambda r: r["Steps"][0]["HadoopJarStep"].update(Args="spark-submit x.py"), "Args"),
])
def test_a_broken_request_is_refused_with_the_field_named(breakage, message):
    request = emr.cluster_request("demo", "s3://my-bucket/logs/", [_example().penguin_step("my-bucket")])
    breakage(request)
    with pytest.raises(ValueError, match=message):
        emr.validate("RunJobFlow", request)
    with pytest.raises(ValueError, match="no operation"):
        emr.validate("RunJobFlows", request)


def test_launch_sends_the_request_once():
    client = _client("emr")
    request = emr.cluster_request("demo", "s3://my-bucket/logs/", [_example().penguin_step("my-bucket")])
    with Stubber(client) as stub:
        stub.add_response("run_job_flow", {"JobFlowId": "j-2AXXXXXXGAPLF"}, expected_params=request)
        assert emr.launch(client, request) == "j-2AXXXXXXGAPLF"
        stub.assert_no_pending_responses()


def test_the_example_uploads_then_launches(capsys):
    example = _example()
    s3, emr_client = _client("s3"), _client("emr")
    args = ["--bucket", "my-bucket", "--reg-param", "0.1"]
    files = example.files_to_upload()
    assert set(files) == {"sparkcourse/code/train_penguins.py", "sparkcourse/code/sparkcourse.zip",
                          "sparkcourse/data/penguins.csv"}

    class Session:  # what boto3.session.Session gives: clients by service name
        def client(self, service):
            return {"s3": s3, "emr": emr_client}[service]

    with Stubber(s3) as s3_stub, Stubber(emr_client) as emr_stub:
        for key in sorted(files):
            s3_stub.add_response("put_object", {}, {"Bucket": "my-bucket", "Key": key, "Body": files[key]})
        emr_stub.add_response("run_job_flow", {"JobFlowId": "j-1"}, example.plan(example.parse_args(args)))
        assert example.main(args, session=Session()) == "j-1"
        s3_stub.assert_no_pending_responses()
        emr_stub.assert_no_pending_responses()
    assert "started j-1" in capsys.readouterr().out


def test_the_example_dry_run_prints_and_checks_its_arguments(capsys):
    example = _example()
    assert example.main(["--bucket", "my-bucket", "--dry-run"]) is None
    printed = json.loads(capsys.readouterr().out)
    assert printed["run_job_flow"]["Steps"][0]["Name"] == "train-penguins"
    assert "s3://my-bucket/sparkcourse/data/penguins.csv" in printed["upload"]
    for wrong in (["--bucket", "s3://my-bucket"], ["--bucket", "b", "--core-nodes", "0"], []):
        with pytest.raises(SystemExit):
            example.parse_args(wrong)


def test_the_zipped_package_imports_on_its_own(tmp_path):
    """What --py-files ships: sparkcourse.penguin_sex imports from the zip alone."""
    archive = tmp_path / "sparkcourse.zip"
    archive.write_bytes(_example().package_zip())
    probe = subprocess.run(
        [sys.executable, "-I", "-c",
         f"import sys; sys.path.insert(0, {str(archive)!r}); import sparkcourse.penguin_sex as j; print(j.__file__)"],
        capture_output=True, text=True, cwd=tmp_path)
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip().startswith(str(archive))
