"""A local MLflow tracking store for a lesson, the MLflow servers over it (tracking UI, model
server), and the small settings that keep MLflow quiet and fast.

    store = tracking.local_store("10_mlflow", fresh=True)   # sqlite + artifacts under workdir()
    mlflow.spark.log_model(model, artifact_path="model", pip_requirements=tracking.pip_requirements())
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import sys
import warnings
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from sparkcourse.paths import workdir
from sparkcourse.services import HOST, Service, child_environment

#: What a logged Spark model needs to be served; listing it avoids MLflow's requirement
#: inference, which starts a second JVM and costs about 30 s per log_model.
SERVING_PACKAGES = ("mlflow", "pyspark", "pandas", "numpy", "scikit-learn")


@dataclass(frozen=True)
class TrackingStore:
    """Where runs and models of one lesson live: a SQLite database and an artifact folder."""

    folder: Path
    tracking_uri: str
    artifact_uri: str


def local_store(lesson: str, fresh: bool = False) -> TrackingStore:
    """Point MLflow at ``workdir(lesson, "mlflow")``: runs in SQLite, artifacts in files.

    ``fresh=True`` empties it first, so a notebook run from the top gets the same experiment
    ids and model versions every time. The database tables are created here (quietly).
    """
    import mlflow

    folder = workdir(lesson, "mlflow")
    if fresh:
        _forget_open_stores()
        shutil.rmtree(folder)
        folder.mkdir(parents=True)
    store = TrackingStore(folder, f"sqlite:///{folder / 'mlflow.db'}", (folder / "artifacts").as_uri())
    quiet()
    mlflow.set_tracking_uri(store.tracking_uri)
    mlflow.set_registry_uri(store.tracking_uri)
    with silenced():
        mlflow.MlflowClient().search_experiments()  # creates the tables now, not in a later cell
    return store


def _forget_open_stores() -> None:
    """MLflow keeps one store and one database engine per URI for the whole process: a store
    emptied on disk would still show its old runs through them (the deleted file stays open).
    Drop those caches and close the engines. Tested: tests/test_tracking.py."""
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as RegistrySqlStore
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore as TrackingSqlStore
    from mlflow.tracking._model_registry.registry import ModelRegistryStoreRegistry
    from mlflow.tracking._tracking_service.registry import TrackingStoreRegistry

    for registry in (TrackingStoreRegistry, ModelRegistryStoreRegistry):
        registry._get_store_with_resolved_uri.cache_clear()
    for store_class in (TrackingSqlStore, RegistrySqlStore):
        with store_class._engine_map_lock:
            for engine in store_class._engine_map.values():
                engine.dispose()
            store_class._engine_map.clear()


def use_experiment(name: str, store: TrackingStore) -> str:
    """Make ``name`` the active experiment (created with its artifacts in ``store``); return its id."""
    import mlflow

    found = mlflow.get_experiment_by_name(name)
    if found is None:
        experiment_id = mlflow.create_experiment(name, artifact_location=f"{store.artifact_uri}/{name}")
    else:
        experiment_id = found.experiment_id
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id


def pip_requirements() -> list[str]:
    """Exact versions of what serving a Spark model needs, from this environment."""
    pins = []
    for package in SERVING_PACKAGES:
        try:
            pins.append(f"{package}=={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            continue
    return pins


def quiet() -> None:
    """Keep MLflow's and its database layer's chatter (INFO logs, hints) off the notebook."""
    for name in ("mlflow", "alembic", "urllib3", "py4j"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*Integer columns in Python cannot represent missing values.*")
    warnings.filterwarnings("ignore", category=FutureWarning, module="mlflow")


@contextlib.contextmanager
def this_python():
    """Inside the block, ``python`` on PATH is the interpreter running this code.

    ``mlflow run --env-manager local`` (and ``mlflow.projects.run``) starts a project's command,
    such as ``python train.py``, through the shell: ``python`` is whatever comes first on PATH.
    A notebook kernel's PATH need not start with the course's virtualenv (Jupyter started from
    another shell, pytest, a grader), so a project could run under another Python without MLflow.
    """
    before = os.environ.get("PATH")
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), *filter(None, [before])])
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PATH", None)
        else:
            os.environ["PATH"] = before


@contextlib.contextmanager
def silenced():
    """Swallow what a library prints to stdout/stderr (e.g. ``mlflow.register_model``'s messages)."""
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        yield


# --- MLflow servers: supervised child processes (sparkcourse.services) ------------------------

def _mlflow_command() -> list[str]:
    return [str(Path(sys.executable).with_name("mlflow"))]


def tracking_ui(tracking_uri: str, artifact_uri: str, port: int | None = None, timeout: float = 120) -> Service:
    """The MLflow tracking server and UI over an existing store (started by ``start()`` or ``with``).

    Without MLflow's server-side jobs (GenAI scorers, prompt optimisation; the course uses none):
    with them, ``mlflow server`` starts a job runner and seven more Python processes besides the UI.
    """
    command = [*_mlflow_command(), "server", "--backend-store-uri", tracking_uri,
               "--default-artifact-root", artifact_uri, "--host", HOST, "--port", "{port}", "--workers", "1"]
    env = child_environment(MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false")
    return Service("MLflow tracking UI", command, port, ready_path="/health", env=env, timeout=timeout)


def model_server(model_uri: str, tracking_uri: str, port: int | None = None, timeout: float = 180) -> Service:
    """``mlflow models serve`` for ``model_uri`` in this environment (no new virtualenv).

    A Spark model is scored by a Spark session inside the server; it starts with the same JVM
    levers as :func:`sparkcourse.get_spark` (class-data archive, fast JIT), about twice as fast.
    """
    from sparkcourse.session import java_start_options

    command = [*_mlflow_command(), "models", "serve", "--model-uri", model_uri, "--env-manager", "local",
               "--host", HOST, "--port", "{port}", "--workers", "1"]
    env = child_environment(MLFLOW_TRACKING_URI=tracking_uri)
    options = java_start_options()
    if options:
        env["JDK_JAVA_OPTIONS"] = options
    return Service("MLflow model server", command, port, ready_path="/ping", env=env, timeout=timeout)
