"""A real Spark standalone cluster on this machine: one master and N workers on 127.0.0.1.

The pip package of pyspark has no ``start-master.sh``; it has ``bin/spark-class``, which is what
those scripts run. Each daemon runs in the foreground under :mod:`sparkcourse.services` (free
ports, logs under the work folder, a readiness check, always stopped, even if the notebook's
kernel dies)::

    with standalone_cluster(workers=2) as cluster:
        spark = get_spark("11_scaling_out", **{"spark.master": cluster.master_url})

:func:`spark_submit` runs a ``spark-submit`` command that you write (lesson 11 writes one) with
the installed Spark. :func:`connect_server` starts a Spark Connect server (a driver that clients
reach over gRPC, ``sc://127.0.0.1:PORT``), on local threads or on such a cluster.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Sequence

from sparkcourse.paths import workdir
from sparkcourse.services import HOST, Service, ServiceError, free_port, log_tail


def spark_home() -> Path:
    """The installed pyspark package: it holds Spark's jars, ``bin/`` and ``sbin/``."""
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def _environment() -> dict:
    from sparkcourse.java import ensure_java_home

    java = ensure_java_home()
    folder = workdir("cluster")
    env = dict(os.environ)
    env.update({
        "SPARK_HOME": str(spark_home()),
        "JAVA_HOME": str(java.home),
        "SPARK_LOCAL_IP": HOST,
        "SPARK_LOG_DIR": str(folder / "logs"),
        "SPARK_PID_DIR": str(folder / "pids"),
        "SPARK_WORKER_DIR": str(folder / "work"),
        # Executors run Python (UDFs, ML helpers) with the project's interpreter.
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_DAEMON_MEMORY": "512m",
    })
    env.pop("SPARK_MASTER", None)
    env.pop("SPARK_REMOTE", None)
    return env


class StandaloneCluster:
    """A master and its workers, started and stopped together."""

    def __init__(self, workers: int = 1, cores_per_worker: int = 1, memory_per_worker: str = "1g",
                 timeout: float = 120):
        if workers < 1:
            raise ValueError("a cluster needs at least one worker")
        self.rpc_port = free_port()
        env = _environment()
        spark_class = str(spark_home() / "bin" / "spark-class")
        self.master = Service(
            "Spark master",
            [spark_class, "org.apache.spark.deploy.master.Master", "--host", HOST,
             "--port", str(self.rpc_port), "--webui-port", "{port}"],
            ready_path="/json/", env=env, timeout=timeout)
        self.workers = [
            Service(f"Spark worker {i + 1}",
                    [spark_class, "org.apache.spark.deploy.worker.Worker", "--host", HOST,
                     "--cores", str(cores_per_worker), "--memory", memory_per_worker,
                     "--webui-port", "{port}", self.master_url],
                    ready_path="/json/", env=env, timeout=timeout)
            for i in range(workers)
        ]
        self.timeout = timeout

    @property
    def master_url(self) -> str:
        """What ``spark.master`` (or ``spark-submit --master``) is set to."""
        return f"spark://{HOST}:{self.rpc_port}"

    @property
    def ui_url(self) -> str:
        """The master's web UI: workers, running and finished applications."""
        return self.master.url

    def status(self) -> dict:
        """The master's own JSON status: workers, cores, memory, applications."""
        with urllib.request.urlopen(f"{self.master.url}/json/", timeout=5) as response:
            return json.load(response)

    def start(self, wait: bool = True) -> "StandaloneCluster":
        """Start the master and the workers (workers keep trying to register until the master is
        up). ``wait=False`` returns at once: do other work, then call :meth:`wait_ready`."""
        try:
            self.master.start(wait=False)
            for worker in self.workers:
                worker.start(wait=False)
        except BaseException:
            self.stop()
            raise
        return self.wait_ready() if wait else self

    def wait_ready(self) -> "StandaloneCluster":
        """Block until the master answers and every worker has registered with it."""
        try:
            self.master.wait_ready()
            for worker in self.workers:
                worker.wait_ready()
            self._wait_for_workers()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_for_workers(self) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            alive = [w for w in self.status().get("workers", []) if w.get("state") == "ALIVE"]
            if len(alive) >= len(self.workers):
                return
            if time.monotonic() > deadline:
                raise ServiceError(f"only {len(alive)} of {len(self.workers)} workers registered with the "
                                   f"master after {self.timeout:.0f} s; see the logs in {self.master.log_path.parent}")
            time.sleep(0.25)

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.master.stop()

    def __enter__(self) -> "StandaloneCluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<Spark standalone cluster {self.master_url}, {len(self.workers)} worker(s)>"


def standalone_cluster(workers: int = 1, cores_per_worker: int = 1, memory_per_worker: str = "1g",
                       timeout: float = 120) -> StandaloneCluster:
    """A cluster object; ``start()`` it or use it in a ``with`` block."""
    return StandaloneCluster(workers, cores_per_worker, memory_per_worker, timeout)


def _java_option_args(options: str) -> list[str]:
    """spark-submit arguments giving the driver and its executors the same JVM options."""
    if not options:
        return []
    return ["--driver-java-options", options, "--conf", f"spark.executor.extraJavaOptions={options}"]


def spark_submit(command: Sequence[str | os.PathLike], timeout: float = 600) -> str:
    """Run a ``spark-submit`` command, given as the list of words you would type, on this machine.

    ``command[0]`` is ``"spark-submit"``; it runs as the installed pyspark's ``bin/spark-submit``,
    with the environment of :func:`standalone_cluster` and the course's JVM start-up options for
    the driver and its executors. Returns what the script printed; Spark's own log goes to a file
    under the work folder, whose last lines are shown if the run fails.
    """
    from sparkcourse.session import java_start_options

    words = [str(word) for word in command]
    if not words or words[0] != "spark-submit":
        raise ValueError(f'a spark-submit command starts with "spark-submit", not {words[:1]}')
    program = next((Path(w).name for w in words[1:] if w.endswith((".py", ".jar"))), "application")
    log_path = workdir("services") / f"spark-submit-{Path(program).stem}.log"
    full = [str(spark_home() / "bin" / "spark-submit"), *_java_option_args(java_start_options()), *words[1:]]
    with open(log_path, "w") as log:
        done = subprocess.run(full, env=_environment(), stdout=subprocess.PIPE, stderr=log,
                              stdin=subprocess.DEVNULL, text=True, timeout=timeout)
    if done.returncode != 0:
        # A Python script's own errors reach spark-submit's stdout; Spark's go to the log.
        printed = "\n".join(done.stdout.strip().splitlines()[-15:]) or "(nothing)"
        raise ServiceError(f"spark-submit of {program} failed (exit code {done.returncode}). "
                           f"The script printed:\n{printed}\nLast lines of {log_path}:\n{log_tail(log_path)}")
    return done.stdout


CONNECT_SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"


def connect_server(master: str | None = None, port: int | None = None, timeout: float = 180) -> Service:
    """A Spark Connect server in the foreground (what ``sbin/start-connect-server.sh --wait`` runs).

    It is the driver: it owns the JVM and runs the work on ``master`` (default: ``local[n]`` with
    the course's cores, or a ``spark://`` URL), with the course's session and driver settings
    (its own UI off). Clients connect with ``SparkSession.builder.remote(server.connect_url)``
    or ``SPARK_REMOTE``. Ready when its gRPC port accepts connections.
    """
    from sparkcourse.session import driver_settings, java_start_options, local_master, session_settings

    env = _environment()
    settings = {"spark.connect.grpc.binding.address": HOST, "spark.connect.grpc.binding.port": "{port}",
                **session_settings(), **driver_settings(), "spark.ui.enabled": "false"}
    command = [
        str(spark_home() / "bin" / "spark-submit"), "--class", CONNECT_SERVER_CLASS,
        "--name", "Spark Connect server", "--master", master or local_master(),
        "--driver-memory", "1g", *_java_option_args(java_start_options() or "-Duser.timezone=UTC"),
        *[word for key, value in settings.items() for word in ("--conf", f"{key}={value}")],
    ]
    server = Service("Spark Connect server", command, port, ready_path=None, env=env, timeout=timeout)
    server.connect_url = f"sc://{HOST}:{server.port}"
    return server
