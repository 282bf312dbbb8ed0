"""sparkcourse.cluster: a real standalone Spark cluster on loopback, used by spark-submit, then gone."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import psutil
import pytest

from sparkcourse import cluster, services


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


@pytest.mark.servers
def test_spark_submit_runs_on_the_cluster_and_nothing_survives(tmp_path):
    job = tmp_path / "job.py"
    job.write_text(textwrap.dedent("""
        import sys
        from pyspark.sql import SparkSession, functions as F
        spark = SparkSession.builder.appName("cluster-test-job").getOrCreate()
        doubled = F.udf(lambda x: x * 2, "long")           # Python runs on the executors
        total = spark.range(0, 1000, 1, 4).select(doubled("id").alias("x")).agg(F.sum("x")).first()[0]
        with open(sys.argv[1], "w") as out:
            out.write(f"{spark.sparkContext.master} {total}")
        spark.stop()
    """))
    result_file = tmp_path / "result.txt"
    with cluster.standalone_cluster(workers=1, cores_per_worker=2) as running:
        status = running.status()
        assert status["status"] == "ALIVE" and status["aliveworkers"] == 1 and status["cores"] == 2
        family = [p for d in [running.master, *running.workers]
                  for p in [d.process.pid, *(c.pid for c in psutil.Process(d.process.pid).children(recursive=True))]]
        env = dict(running.master.env)
        submitted = subprocess.run(
            [str(cluster.spark_home() / "bin" / "spark-submit"), "--master", running.master_url,
             "--conf", "spark.executor.memory=512m", str(job), str(result_file)],
            env=env, capture_output=True, text=True, timeout=300)
        assert submitted.returncode == 0, submitted.stderr[-2000:]
        assert result_file.read_text() == f"{running.master_url} 999000"
        finished = [app["name"] for app in running.status()["completedapps"]]
        assert "cluster-test-job" in finished
    assert not services.port_in_use(running.rpc_port) and not services.port_in_use(running.master.port)
    alive = []
    for pid in family:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            pass
    assert alive == [], "a master, worker or executor process survived stop()"
