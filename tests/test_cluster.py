"""sparkcourse.cluster: a real standalone Spark cluster on loopback, used by spark-submit, then gone."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from processes import alive, family

from sparkcourse import cluster, services

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "train_penguins.py"


def test_a_cluster_needs_a_worker():
    with pytest.raises(ValueError, match="at least one worker"):
        cluster.standalone_cluster(workers=0)


def test_daemons_run_from_the_installed_pyspark_on_loopback():
    demo = cluster.standalone_cluster(workers=2, cores_per_worker=1)
    assert demo.master_url == f"spark://127.0.0.1:{demo.rpc_port}"
    assert (cluster.spark_home() / "bin" / "spark-class").exists()
    for daemon in [demo.master, *demo.workers]:
        assert daemon.env["SPARK_LOCAL_IP"] == "127.0.0.1" and daemon.env["PYSPARK_PYTHON"] == sys.executable
        assert "--host" in daemon.command and daemon.command[daemon.command.index("--host") + 1] == "127.0.0.1"
    assert all(demo.master_url in w.command for w in demo.workers)


def _train_penguins():
    spec = importlib.util.spec_from_file_location("train_penguins", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_checks_its_arguments(capsys):
    example = _train_penguins()
    assert example.parse_args(["--model-out", "m"]).reg_param == 0.01
    for wrong in ([], ["--model-out", "m", "--reg-param", "-1"], ["--model-out", "m", "--seed", "x"]):
        with pytest.raises(SystemExit):
            example.parse_args(wrong)
    assert "--reg-param must be >= 0" in capsys.readouterr().err


@pytest.mark.servers
def test_spark_submit_trains_on_the_cluster_like_local_mode(tmp_path, spark):
    """The lesson 11 pipeline via spark-submit on a real cluster: same metrics as in local mode."""
    from pyspark.ml import PipelineModel

    from sparkcourse.jobs import train_and_evaluate

    model_out = tmp_path / "model"
    with cluster.standalone_cluster(workers=1, cores_per_worker=2) as running:
        status = running.status()
        assert status["status"] == "ALIVE" and status["aliveworkers"] == 1 and status["cores"] == 2
        daemons = [pid for daemon in [running.master, *running.workers] for pid in family(daemon)]
        submitted = subprocess.run(
            [str(cluster.spark_home() / "bin" / "spark-submit"), "--master", running.master_url,
             "--conf", "spark.executor.memory=512m", str(EXAMPLE), "--model-out", str(model_out), "--reg-param", "0.1"],
            env=dict(running.master.env), capture_output=True, text=True, timeout=300)
        assert submitted.returncode == 0, submitted.stderr[-2000:]
        on_cluster = json.loads(submitted.stdout.strip().splitlines()[-1])
        assert on_cluster["master"] == running.master_url
        assert "train-penguins" in [app["name"] for app in running.status()["completedapps"]]
    assert not services.port_in_use(running.rpc_port) and not services.port_in_use(running.master.port)
    assert alive(daemons) == [], "a master, worker or executor process survived stop()"

    _, local = train_and_evaluate(spark, reg_param=0.1)
    assert (on_cluster["train_rows"], on_cluster["test_rows"]) == (local["train_rows"], local["test_rows"])
    assert abs(on_cluster["auc"] - local["auc"]) < 1e-6 and abs(on_cluster["accuracy"] - local["accuracy"]) < 1e-6
    assert on_cluster["auc"] > 0.9, "the pipeline should have learned something"
    saved = PipelineModel.load(str(model_out))
    assert [type(s).__name__ for s in saved.stages][-1] == "LogisticRegressionModel"
    assert saved.stages[-1].getRegParam() == 0.1
    written = spark.read.text(str(model_out / "metrics.json")).first()[0]
    assert json.loads(written)["auc"] == on_cluster["auc"]
