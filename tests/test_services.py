"""sparkcourse.services: servers on loopback that start, report, serve and always stop.

The first tests use a plain Python HTTP server (fast). The last starts the real MLflow tracking
UI and model server for a real Spark pipeline, and compares REST with in-process predictions.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap

import pytest

from processes import commands, family, gone_within
from sparkcourse import services, tracking

HTTP_SERVER = [sys.executable, "-m", "http.server", "{port}", "--bind", "127.0.0.1"]


def test_free_port_is_free_and_on_loopback():
    port = services.free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_a_port_in_use_is_refused_with_advice():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(services.ServiceError, match=f"Port {port} .* already in use.*port=None"):
            services.Service("demo server", HTTP_SERVER, port=port)


def test_a_server_that_dies_at_start_shows_its_log():
    crash = [sys.executable, "-c", "print('cannot open the model store'); raise SystemExit(3)"]
    service = services.Service("demo server", crash, timeout=30)
    with pytest.raises(services.ServiceError, match=r"(?s)exit code 3.*cannot open the model store"):
        service.start()
    assert not service.running


@pytest.mark.slow
def test_a_server_never_ready_times_out_and_is_stopped():
    service = services.Service("demo server", HTTP_SERVER, ready_path="/no-such-page", timeout=3)
    with pytest.raises(services.ServiceError, match="not ready after 3 s"):
        service.start()
    assert not service.running and not services.port_in_use(service.port)


def test_stop_ends_the_server_and_everything_it_started():
    # The server starts a helper process of its own before serving, as mlflow does (uvicorn, a JVM).
    script = textwrap.dedent("""
        import subprocess, sys, http.server, functools
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
        http.server.test(HandlerClass=http.server.SimpleHTTPRequestHandler, port=int(sys.argv[1]), bind="127.0.0.1")
    """)
    with services.Service("demo server", [sys.executable, "-c", script, "{port}"], timeout=30) as service:
        pids = family(service)
        assert len(pids) >= 3, f"supervisor, server and its helper expected, found {pids}"
        assert services.port_in_use(service.port)
    assert gone_within(pids, 10) == [], "processes survived stop()"
    assert not services.port_in_use(service.port)


def test_servers_die_with_the_process_that_started_them(tmp_path):
    """A kernel killed with SIGKILL runs no cleanup: the supervisor must notice and stop the server."""
    script = textwrap.dedent(f"""
        import sys, psutil
        from sparkcourse import services
        service = services.Service("demo server", {HTTP_SERVER!r}, timeout=30).start()
        family = [service.process.pid] + [p.pid for p in psutil.Process(service.process.pid).children(recursive=True)]
        print(service.port, *family, flush=True)
        import time; time.sleep(300)
    """)
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        port, *pids = (int(x) for x in owner.stdout.readline().split())
        assert services.port_in_use(port) and len(pids) >= 2
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait()
    assert gone_within(pids, 15) == [], "the server outlived the process that started it"


def test_model_server_starts_its_jvm_with_the_course_levers(monkeypatch):
    monkeypatch.setenv("SPARKCOURSE_FAST_JVM", "1")
    server = tracking.model_server("models:/demo@champion", "sqlite:///demo.db")
    assert "TieredStopAtLevel=1" in server.env["JDK_JAVA_OPTIONS"]
    assert server.env["MLFLOW_TRACKING_URI"] == "sqlite:///demo.db"
    assert server.env["PATH"].split(os.pathsep)[0] == os.path.dirname(sys.executable), "uvicorn must be found"
    monkeypatch.setenv("SPARKCOURSE_FAST_JVM", "0")
    assert "JDK_JAVA_OPTIONS" not in tracking.model_server("models:/demo@champion", "sqlite:///demo.db").env


@pytest.mark.servers
def test_real_mlflow_servers_serve_the_spark_pipeline(spark):
    import mlflow
    import mlflow.spark
    import requests
    from mlflow.models import infer_signature
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.feature import StringIndexer, VectorAssembler
    from pyspark.sql import functions as F

    from sparkcourse import SEED, tracking
    from sparkcourse.datasets import load_penguins

    store = tracking.local_store("test_services", fresh=True)
    numeric = ["bill_length_mm", "flipper_length_mm", "body_mass_g"]
    features = ["island", *numeric]
    data = (load_penguins(spark).dropna(subset=["sex", *numeric])
            .select("island", *[F.col(c).cast("double").alias(c) for c in numeric],
                    (F.col("sex") == "male").cast("double").alias("label")))
    train, test = data.randomSplit([0.8, 0.2], seed=SEED)
    model = Pipeline(stages=[StringIndexer(inputCol="island", outputCol="island_index", handleInvalid="keep"),
                             VectorAssembler(inputCols=[*numeric, "island_index"], outputCol="features"),
                             LogisticRegression()]).fit(train)
    rows = test.select(features).orderBy(*features).limit(10).toPandas()
    tracking.use_experiment("services-test", store)
    with mlflow.start_run() as run:
        signature = infer_signature(rows, model.transform(spark.createDataFrame(rows)).select("prediction").toPandas())
        mlflow.spark.log_model(model, artifact_path="model", signature=signature, input_example=rows.head(2),
                               pip_requirements=tracking.pip_requirements())
    client = mlflow.MlflowClient()
    client.create_registered_model("services-test")
    version = client.create_model_version("services-test", f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
    client.set_registered_model_alias("services-test", "champion", version.version)

    ui = tracking.tracking_ui(store.tracking_uri, store.artifact_uri).start(wait=False)
    server = tracking.model_server("models:/services-test@champion", store.tracking_uri).start(wait=False)
    try:
        ui.wait_ready()
        server.wait_ready()
        ui_processes = family(ui)
        families = ui_processes + family(server)
        # the UI alone: no job runner and its queue consumers (eight more Python processes)
        assert not [" ".join(c) for c in commands(ui_processes) if any("jobs" in part or "huey" in part for part in c)]
        found = requests.post(f"{ui.url}/api/2.0/mlflow/runs/search", timeout=30,
                              json={"experiment_ids": [run.info.experiment_id]}).json()["runs"]
        assert [r["info"]["run_id"] for r in found] == [run.info.run_id]

        split = rows.to_dict(orient="split")
        payload = {"dataframe_split": {"columns": split["columns"], "data": split["data"]}}
        answer = requests.post(f"{server.url}/invocations", json=payload, timeout=60)
        assert answer.status_code == 200, answer.text
        in_process = [r.prediction for r in model.transform(spark.createDataFrame(rows)).collect()]
        assert answer.json()["predictions"] == in_process
        assert len(set(in_process)) == 2, "the rows should get both classes, or the comparison proves little"

        broken = {"dataframe_split": {"columns": ["island", "body_mass_g"], "data": [["Dream", "heavy"]]}}
        refused = requests.post(f"{server.url}/invocations", json=broken, timeout=60)
        assert refused.status_code == 400 and refused.json()["error_code"]
        assert requests.get(f"{server.url}/ping", timeout=10).status_code == 200
        again = requests.post(f"{server.url}/invocations", json=payload, timeout=60)
        assert again.json()["predictions"] == in_process, "the server must keep serving after a bad request"
    finally:
        server.stop()
        ui.stop()
    assert gone_within(families, 15) == [], "a server process or its JVM survived stop()"
    assert not services.port_in_use(server.port) and not services.port_in_use(ui.port)
