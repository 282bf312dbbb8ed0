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
CONNECT_CLIENT = """
import json, sys
from sparkcourse import get_spark
from sparkcourse.penguin_sex import train_and_evaluate

spark = get_spark("connect-test", remote=sys.argv[1])
_, metrics = train_and_evaluate(spark, reg_param=0.1)
spark.stop()
print(json.dumps([type(spark).__module__, metrics]))
"""


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
def test_the_pipeline_runs_on_a_cluster_via_spark_submit_and_spark_connect_like_local_mode(tmp_path, spark):
    """The lesson 11 pipeline on a real cluster, submitted by spark-submit and then driven over
    Spark Connect by a server whose master is the cluster: the same metrics as local mode."""
    from pyspark.ml import PipelineModel

    from sparkcourse.penguin_sex import train_and_evaluate

    model_out = tmp_path / "model"
    with cluster.standalone_cluster(workers=1, cores_per_worker=2) as running:
        status = running.status()
        assert status["status"] == "ALIVE" and status["aliveworkers"] == 1 and status["cores"] == 2
        daemons = [pid for daemon in [running.master, *running.workers] for pid in family(daemon)]
        printed = cluster.spark_submit(["spark-submit", "--master", running.master_url,
                                        "--conf", "spark.executor.memory=512m",
                                        EXAMPLE, "--model-out", model_out, "--reg-param", 0.1])
        on_cluster = json.loads(printed.strip().splitlines()[-1])
        assert on_cluster["master"] == running.master_url
        assert "train-penguins" in [app["name"] for app in running.status()["completedapps"]]

        with cluster.connect_server(master=running.master_url) as server:
            assert server.connect_url == f"sc://127.0.0.1:{server.port}"
            daemons += family(server)
            # The client runs in its own process: pyspark refuses a remote session beside a local one.
            client = tmp_path / "connect_client.py"
            client.write_text(CONNECT_CLIENT)
            done = subprocess.run([sys.executable, str(client), server.connect_url],
                                  capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stderr[-2000:]
            session_type, over_connect = json.loads(done.stdout.strip().splitlines()[-1])
            assert session_type == "pyspark.sql.connect.session"
            assert "Spark Connect server" in [app["name"] for app in running.status()["activeapps"]]
        assert not services.port_in_use(server.port)
    assert not services.port_in_use(running.rpc_port) and not services.port_in_use(running.master.port)
    assert alive(daemons) == [], "a master, worker, executor or Connect server process survived stop()"

    _, local = train_and_evaluate(spark, reg_param=0.1)
    for remote_metrics in (on_cluster, over_connect):
        assert (remote_metrics["train_rows"], remote_metrics["test_rows"]) == (local["train_rows"], local["test_rows"])
        assert abs(remote_metrics["auc"] - local["auc"]) < 1e-6
        assert abs(remote_metrics["accuracy"] - local["accuracy"]) < 1e-6
    assert on_cluster["auc"] > 0.9, "the pipeline should have learned something"
    saved = PipelineModel.load(str(model_out))
    assert [type(s).__name__ for s in saved.stages][-1] == "LogisticRegressionModel"
    assert saved.stages[-1].getRegParam() == 0.1
    written = spark.read.text(str(model_out / "metrics.json")).first()[0]
    assert json.loads(written)["auc"] == on_cluster["auc"]


@pytest.mark.slow
def test_a_failed_spark_submit_shows_its_log(tmp_path):
    script = tmp_path / "broken.py"
    script.write_text("raise SystemExit('this script is broken on purpose')\n")
    with pytest.raises(services.ServiceError, match="spark-submit of broken.py failed .exit code 1") as failure:
        cluster.spark_submit(["spark-submit", "--master", "local[1]", script], timeout=120)
    assert "broken on purpose" in str(failure.value)


def test_spark_submit_runs_only_spark_submit():
    """The command is what a learner would type; the package neither builds nor checks its options."""
    for wrong in ([], ["python", "job.py"], ["/usr/bin/spark-submit", "job.py"]):
        with pytest.raises(ValueError, match='starts with "spark-submit"'):
            cluster.spark_submit(wrong)


@pytest.mark.slow
def test_a_connect_server_that_never_answers_is_stopped():
    """A TCP readiness check: nothing listens on the port, so the wait times out and stops it."""
    stuck = services.Service("stuck server", [sys.executable, "-c", "import time; time.sleep(60)"],
                             ready_path=None, timeout=2)
    with pytest.raises(services.ServiceError, match=r"not ready after 2 s \(no answer on 127.0.0.1:"):
        stuck.start()
    assert not stuck.running


def test_the_connect_server_has_the_course_settings_and_cores(monkeypatch):
    """Its settings come from session.py, where get_spark's come from; local[n] follows the cores."""
    from sparkcourse.session import driver_settings, session_settings

    monkeypatch.setenv("SPARKCOURSE_CORES", "3")
    command = cluster.connect_server().command
    assert command[command.index("--master") + 1] == "local[3]"
    confs = dict(command[i + 1].split("=", 1) for i, word in enumerate(command) if word == "--conf")
    assert {**session_settings(), **driver_settings(), "spark.ui.enabled": "false"}.items() <= confs.items()
